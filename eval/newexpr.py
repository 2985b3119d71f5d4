#!/usr/bin/env python3
"""How much Go 1.26 `new(expr)` costs codewalk. Upstream tree-sitter-go 0.25 does not parse
it; codewalk's copy of the grammar does (grammar/README.md). Run it with a build on either
grammar to compare (docs/accuracy.md has both).

Copies a Go tree twice and, in the second copy, inserts `new(expr)` statements at the top
of every top-level function body, in turn:

  plain      _ = new(int64(len("x")))
  field      _ = struct{ F *int32 }{F: new(int32(3))}     (the shape Kubernetes uses)
  call       _ = new(NAME())    only in `func NAME() T {`: a real call inside new(...)

Both copies are indexed (`--no-std`) and their exports compared: call edges as a multiset of
(caller, callee, via), since the inserted lines move positions; implementation pairs;
declarations and files with syntax errors from `stats`. Edges the inserted `call` lines add
(NAME -> NAME) are counted apart: they measure whether a call inside new(...) is seen.

Usage: python3 eval/newexpr.py [--src /usr/share/go-1.19/src] [--work /tmp/codewalk-newexpr]
       [--codewalk target/release/codewalk] [--forms plain,field,call] [--json OUT]
Prints a Markdown summary; the inserted statements are the only difference between the trees.
"""

import argparse
import collections
import json
import os
import re
import shutil
import subprocess
import sys

FUNC = re.compile(r"^func (\([^)]*\) )?([A-Za-z_][A-Za-z0-9_]*)(\[[^\]]*\])?\((.*)\)(.*)\{\s*$")


def insert(src: str, forms: set) -> tuple[str, collections.Counter]:
    """The source with a new(expr) statement after each one-line top-level func header."""
    out, n, k = [], collections.Counter(), 0
    for line in src.splitlines(keepends=True):
        out.append(line)
        m = FUNC.match(line)
        if not m:
            continue
        recv, name, tparams, params, results = m.groups()
        results = results.strip()
        calls_self = not recv and not tparams and params.strip() == ""
        if calls_self and results and "," not in results and "call" in forms:
            out.append(f"\t_ = new({name}())\n")
            n["call"] += 1
            continue
        form = ["plain", "field"][k % 2] if {"plain", "field"} <= forms else None
        form = form or next((f for f in ("plain", "field") if f in forms), None)
        k += 1
        if form == "plain":
            out.append('\t_ = new(int64(len("x")))\n')
        elif form == "field":
            out.append("\t_ = struct{ F *int32 }{F: new(int32(3))}\n")
        if form:
            n[form] += 1
    return "".join(out), n


def copy_tree(src: str, dst: str, forms: set | None) -> collections.Counter:
    total = collections.Counter()
    shutil.rmtree(dst, ignore_errors=True)
    for dp, dns, fns in os.walk(src):
        dns[:] = sorted(d for d in dns if not d.startswith("."))
        rel = os.path.relpath(dp, src)
        os.makedirs(os.path.join(dst, rel), exist_ok=True)
        for f in sorted(fns):
            a, b = os.path.join(dp, f), os.path.join(dst, rel, f)
            if os.path.islink(a) or not os.path.isfile(a):
                continue
            if forms and f.endswith(".go") and "testdata" not in rel.split(os.sep):
                try:
                    text = open(a, encoding="utf-8", newline="").read()
                except (UnicodeDecodeError, OSError):
                    shutil.copyfile(a, b)
                    continue
                text, n = insert(text, forms)
                total.update(n)
                if n:
                    total["files"] += 1
                open(b, "w", encoding="utf-8", newline="").write(text)
            else:
                shutil.copyfile(a, b)
    return total


def run(cw: str, *args: str) -> dict:
    p = subprocess.run([cw, *args, "--json"], capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"newexpr: {' '.join([cw, *args])} failed: {p.stderr.strip()}")
    return json.loads(p.stdout)


def measure(cw: str, root: str) -> dict:
    ix = root + ".cw"
    shutil.rmtree(ix, ignore_errors=True)
    run(cw, "index", root, "--index-dir", ix, "--no-std", "-q")
    calls = run(cw, "--index-dir", ix, "export", "calls")["calls"]
    impls = run(cw, "--index-dir", ix, "export", "implementations")
    stats = run(cw, "--index-dir", ix, "stats")
    return {
        "edges": collections.Counter((c["caller"], c["callee"], c["via"]) for c in calls),
        "impls": impls,
        "stats": stats,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--src", default="/usr/share/go-1.19/src")
    ap.add_argument("--work", default="/tmp/codewalk-newexpr")
    ap.add_argument("--codewalk", default="target/release/codewalk")
    ap.add_argument("--forms", default="plain,field,call", help="which statements to insert")
    ap.add_argument("--json")
    a = ap.parse_args()
    cw = os.path.abspath(a.codewalk)
    orig, mod = os.path.join(a.work, "orig"), os.path.join(a.work, "mod")
    copy_tree(a.src, orig, None)
    inserted = copy_tree(a.src, mod, set(a.forms.split(",")))
    o, m = measure(cw, orig), measure(cw, mod)
    # The inserted `call` lines add NAME -> NAME; everything else should be equal.
    def selfs(edges: collections.Counter) -> collections.Counter:
        return collections.Counter(
            {e: n for e, n in edges.items() if e[0] == e[1] and e[2] == "static"}
        )

    self_calls = selfs(m["edges"]) - selfs(o["edges"])
    lost = o["edges"] - m["edges"]
    added = m["edges"] - o["edges"] - self_calls
    n_orig = sum(o["edges"].values())

    def pairs(x: dict) -> set:
        return {(r["interface"], r["type"], r["pointer"]) for r in x["implementations"]}

    ip_o, ip_m = pairs(o["impls"]), pairs(m["impls"])
    so, sm = o["stats"], m["stats"]
    res = {
        "inserted": dict(inserted),
        "edges_orig": n_orig,
        "edges_lost": sum(lost.values()),
        "edges_added": sum(added.values()),
        "calls_inside_new_found": sum(self_calls.values()),
        "calls_inside_new_inserted": inserted["call"],
        "impls_orig": len(ip_o),
        "impls_lost": len(ip_o - ip_m),
        "decls_orig": so.get("declarations"),
        "decls_mod": sm.get("declarations"),
        "syntax_error_files_orig": so.get("syntax_error_files"),
        "syntax_error_files_mod": sm.get("syntax_error_files"),
        "lost_sample": [list(e) for e, _ in lost.most_common(10)],
    }
    if a.json:
        json.dump(res, open(a.json, "w"), indent=1)
    pct = lambda x, y: f"{100 * x / y:.3f}%" if y else "n/a"
    print(f"## Go 1.26 `new(expr)` on {a.src}\n")
    print(f"- inserted: {inserted['plain']} plain, {inserted['field']} in a composite literal, "
          f"{inserted['call']} around a call, in {inserted['files']} files")
    print(f"- files with syntax errors: {res['syntax_error_files_orig']} -> {res['syntax_error_files_mod']}")
    print(f"- declarations: {res['decls_orig']} -> {res['decls_mod']}")
    print(f"- call edges lost: {res['edges_lost']} of {n_orig} ({pct(res['edges_lost'], n_orig)}); "
          f"added: {res['edges_added']}")
    print(f"- calls inside new(...) found: {res['calls_inside_new_found']} of {inserted['call']}")
    print(f"- implementation pairs lost: {res['impls_lost']} of {res['impls_orig']}")
    for e in res["lost_sample"]:
        print(f"  - lost: {e[0]} -> {e[1]} ({e[2]})")


if __name__ == "__main__":
    main()
