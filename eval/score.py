#!/usr/bin/env python3
"""Score codewalk's exports against go/types ground truth (eval/gotruth).

Usage:
  python3 eval/score.py --truth OUT.json --codewalk-impls IMPLS.json \
      --codewalk-calls CALLS.json --root ROOT [--prefix P1,P2] [--label NAME] \
      [--markdown] [--verbose] [--top N] [--json RESULT.json] \
      [--update-doc docs/accuracy.md]
  python3 eval/score.py --selftest [--truth OUT.json]

Standard library only (Python 3.11). See eval/README.md for definitions.
"""
from __future__ import annotations

import argparse
import collections
import datetime as _dt
import json
import os
import random
import sys
import tempfile
from typing import Iterable

SCORED_KINDS = ("static", "interface")


# ---------------------------------------------------------------------------
# helpers

def pkg_of(name: str) -> str:
    """Import path of a go/types-style name.

    "io.Reader" -> "io"; "gopkg.in/yaml.v2.Node" -> "gopkg.in/yaml.v2";
    "(*net/http.Server).Serve" -> "net/http"; "net/http.Get" -> "net/http".
    """
    s = name.strip()
    if s.startswith("("):
        end = s.find(")")
        s = s[1:end] if end > 0 else s[1:]
        s = s.lstrip("*")
    i = s.rfind(".")
    return s[:i] if i > 0 else s


def has_prefix(path: str, prefixes: list[str]) -> bool:
    if not prefixes:
        return True
    return any(path == p or path.startswith(p + "/") for p in prefixes)


class PathNorm:
    """Normalise file paths to '/'-separated paths relative to a root."""

    def __init__(self, *roots: str):
        rs = []
        for r in roots:
            if not r:
                continue
            for v in (os.path.abspath(r), os.path.realpath(r)):
                v = v.rstrip("/") + "/"
                if v not in rs:
                    rs.append(v)
        self.roots = rs
        self.cache: dict[str, str] = {}

    def __call__(self, p: str) -> str:
        c = self.cache.get(p)
        if c is not None:
            return c
        q = p.replace("\\", "/")
        if q.startswith("/"):
            for r in self.roots:
                if q.startswith(r):
                    q = q[len(r):]
                    break
        q = os.path.normpath(q).replace("\\", "/")
        if q.startswith("./"):
            q = q[2:]
        self.cache[p] = q
        return q


def prf(tp: int, n_pred: int, n_truth: int) -> dict:
    p = tp / n_pred if n_pred else 0.0
    r = tp / n_truth if n_truth else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"truth": n_truth, "codewalk": n_pred, "tp": tp,
            "fp": n_pred - tp, "fn": n_truth - tp,
            "precision": p, "recall": r, "f1": f}


def multiset_score(truth: collections.Counter, pred: collections.Counter):
    tp = sum(min(c, pred[k]) for k, c in truth.items() if k in pred)
    res = prf(tp, sum(pred.values()), sum(truth.values()))
    fp = pred - truth
    fn = truth - pred
    return res, fp, fn


def load_json(path: str) -> dict:
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def records(doc, key: str) -> list:
    if isinstance(doc, list):
        return doc
    v = doc.get(key)
    return v if isinstance(v, list) else []


# ---------------------------------------------------------------------------
# scoring

def score(truth: dict, cw_impls: list, cw_calls: list, root: str,
          prefixes: list[str] | None = None, top: int = 20,
          keep_type_errors: bool = False) -> dict:
    stats = truth.get("stats", {})
    if prefixes is None:
        prefixes = stats.get("prefixes") or []
    truth_root = stats.get("root") or root
    norm_truth = PathNorm(truth_root, root)
    norm_cw = PathNorm(root, truth_root)

    pkgs = set(truth.get("packages") or [])
    if not pkgs:  # old truth files: derive from implementation names
        for r in truth.get("implementations", []):
            pkgs.add(pkg_of(r["interface"]))
            pkgs.add(pkg_of(r["type"]))
    pkgs = {p for p in pkgs if has_prefix(p, prefixes)}

    def in_scope_pair(i: str, t: str) -> bool:
        return pkg_of(i) in pkgs and pkg_of(t) in pkgs

    # --- implementations
    t_strict = {(r["interface"], r["type"], bool(r.get("pointer", False)))
                for r in truth.get("implementations", [])
                if in_scope_pair(r["interface"], r["type"])}
    c_strict = set()
    c_dropped = 0
    c_generic = 0
    for r in cw_impls:
        i, t = r.get("interface", ""), r.get("type", "")
        if not in_scope_pair(i, t):
            c_dropped += 1
            continue
        # gotruth leaves generic named types and interfaces out (go/types answers only for
        # instantiations); codewalk's pairs for them are counted, not scored.
        if r.get("generic"):
            c_generic += 1
            continue
        c_strict.add((i, t, bool(r.get("pointer", False))))
    t_loose = {(i, t) for i, t, _ in t_strict}
    c_loose = {(i, t) for i, t, _ in c_strict}
    impl_strict = prf(len(t_strict & c_strict), len(c_strict), len(t_strict))
    impl_loose = prf(len(t_loose & c_loose), len(c_loose), len(t_loose))
    impl_fp = c_loose - t_loose
    impl_fn = t_loose - c_loose
    ptr_mismatch = sorted((i, t) for (i, t, p) in c_strict
                          if (i, t) in t_loose and (i, t, p) not in t_strict)

    def group(pairs: Iterable[tuple]) -> list:
        g = collections.defaultdict(list)
        for i, t in pairs:
            g[i].append(t)
        out = sorted(g.items(), key=lambda kv: (-len(kv[1]), kv[0]))[:top]
        return [{"interface": i, "count": len(ts), "examples": sorted(ts)[:5]} for i, ts in out]

    # --- calls
    truth_files = {norm_truth(f) for f in truth.get("files") or []}
    if not truth_files:
        truth_files = {norm_truth(c["file"]) for c in truth.get("calls", [])}
    truth_files = {f for f in truth_files if has_prefix(f, prefixes)}
    # Files of packages that had type errors (mostly missing dependencies):
    # go/types cannot resolve calls on invalid operands there, so by default
    # they are left out of call scoring on both sides.
    error_files = {norm_truth(f) for f in truth.get("error_files") or []} & truth_files
    if not keep_type_errors:
        truth_files -= error_files

    t_calls = {k: collections.Counter() for k in SCORED_KINDS}
    t_calls_c = {k: collections.Counter() for k in SCORED_KINDS}
    for c in truth.get("calls", []):
        k = c.get("kind")
        if k not in t_calls:
            continue
        f = norm_truth(c["file"])
        if f not in truth_files:
            continue
        t_calls[k][(f, c["line"], c["callee"])] += 1
        t_calls_c[k][(c.get("caller", ""), c["callee"], f, c["line"])] += 1
    c_calls = {k: collections.Counter() for k in SCORED_KINDS}
    c_calls_c = {k: collections.Counter() for k in SCORED_KINDS}
    via_counts = collections.Counter()
    calls_out_of_scope = 0
    for c in cw_calls:
        v = c.get("via", c.get("kind", ""))
        via_counts[v] += 1
        if v not in c_calls:
            continue
        f = norm_cw(c.get("file", ""))
        if f not in truth_files:
            calls_out_of_scope += 1
            continue
        line = int(c.get("line", 0))
        c_calls[v][(f, line, c.get("callee", ""))] += 1
        c_calls_c[v][(c.get("caller", ""), c.get("callee", ""), f, line)] += 1

    calls_res = {}
    examples = {}
    for k in SCORED_KINDS:
        r, fp, fn = multiset_score(t_calls[k], c_calls[k])
        r2, _, _ = multiset_score(t_calls_c[k], c_calls_c[k])
        calls_res[k] = r
        calls_res[k + "+caller"] = r2
        examples[k] = {
            "fp_by_callee": top_callees(fp, top),
            "fn_by_callee": top_callees(fn, top),
            "fp_examples": [f"{f}:{l} {ce}" for (f, l, ce) in sorted(fp)[:top]],
            "fn_examples": [f"{f}:{l} {ce}" for (f, l, ce) in sorted(fn)[:top]],
        }
    # kind-agnostic: did codewalk find the call site + callee at all?
    t_all = t_calls["static"] + t_calls["interface"]
    c_all = c_calls["static"] + c_calls["interface"]
    calls_res["static+interface"], _, _ = multiset_score(t_all, c_all)

    return {
        "label": None,
        "date": _dt.date.today().isoformat(),
        "prefixes": prefixes,
        "packages": len(pkgs),
        "files": len(truth_files),
        "error_files": len(error_files),
        "error_files_excluded": not keep_type_errors,
        "truth_stats": dict({k: stats.get(k) for k in ("mode", "calls_config", "seconds", "calls_by_kind",
                                                       "go_version", "packages")},
                            goos=[c.get("goos") for c in stats.get("configs") or []]),
        "implementations": {"strict": impl_strict, "ignore_pointer": impl_loose,
                            "pointer_mismatch": len(ptr_mismatch),
                            "codewalk_out_of_scope": c_dropped,
                            "codewalk_generic_not_scored": c_generic},
        "calls": calls_res,
        "codewalk_via_counts": dict(sorted(via_counts.items())),
        "codewalk_calls_out_of_scope": calls_out_of_scope,
        "diagnostics": {
            "impl_fp_by_interface": group(impl_fp),
            "impl_fn_by_interface": group(impl_fn),
            "impl_pointer_mismatch_examples": [f"{i} <- {t}" for i, t in ptr_mismatch[:top]],
            "calls": examples,
        },
    }


def top_callees(counter: collections.Counter, top: int) -> list:
    g = collections.Counter()
    ex = {}
    for (f, l, ce), n in counter.items():
        g[ce] += n
        ex.setdefault(ce, []).append(f"{f}:{l}")
    out = []
    for ce, n in sorted(g.items(), key=lambda kv: (-kv[1], kv[0]))[:top]:
        out.append({"callee": ce, "count": n, "examples": sorted(ex[ce])[:3]})
    return out


# ---------------------------------------------------------------------------
# reporting

ROWS = [
    ("implementations (strict: iface, type, pointer)", ("implementations", "strict")),
    ("implementations (ignore pointer flag)", ("implementations", "ignore_pointer")),
    ("calls static (file, line, callee)", ("calls", "static")),
    ("calls interface (file, line, callee)", ("calls", "interface")),
    ("calls static+interface, kind ignored", ("calls", "static+interface")),
    ("calls static (+caller)", ("calls", "static+caller")),
    ("calls interface (+caller)", ("calls", "interface+caller")),
]


def pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def text_report(res: dict) -> str:
    lines = [f"== {res['label'] or 'codewalk vs go/types'} ({res['date']}; "
             f"{res['packages']} packages, {res['files']} files"
             + (f"; prefixes {','.join(res['prefixes'])}" if res['prefixes'] else "")
             + (f"; {res['error_files']} files of packages with type errors "
                + ("excluded from" if res["error_files_excluded"] else "kept in") + " call scoring"
                if res["error_files"] else "") + ")"]
    w = max(len(r[0]) for r in ROWS)
    lines.append(f"{'metric':<{w}}  {'truth':>8} {'codewalk':>8} {'TP':>8} {'prec':>7} {'recall':>7} {'F1':>7}")
    for name, (a, b) in ROWS:
        m = res[a][b]
        lines.append(f"{name:<{w}}  {m['truth']:>8} {m['codewalk']:>8} {m['tp']:>8} "
                     f"{pct(m['precision']):>7} {pct(m['recall']):>7} {pct(m['f1']):>7}")
    im = res["implementations"]
    lines.append(f"pointer-flag mismatches: {im['pointer_mismatch']}; codewalk impl pairs out of scope: "
                 f"{im['codewalk_out_of_scope']}; codewalk calls out of scope: {res['codewalk_calls_out_of_scope']}; "
                 f"codewalk via counts: {res['codewalk_via_counts']}")
    return "\n".join(lines)


def markdown_block(res: dict) -> str:
    label = res.get("title") or res["label"] or "codewalk"
    ts = res.get("truth_stats") or {}
    out = [f"### {label} — {res['date']}", "",
           f"Scope: {res['packages']} packages, {res['files']} files"
           + (f" (prefixes: {', '.join('`%s`' % p for p in res['prefixes'])})" if res["prefixes"] else "")
           + (f"; calls truth config {ts.get('calls_config')}" if ts.get("calls_config") else "")
           + (f"; {res['error_files']} files in packages with type errors "
              + ("excluded from" if res["error_files_excluded"] else "kept in") + " call scoring"
              if res["error_files"] else "") + ".", "",
           "| metric | truth | codewalk | TP | precision | recall | F1 |",
           "|---|---:|---:|---:|---:|---:|---:|"]
    for name, (a, b) in ROWS:
        m = res[a][b]
        out.append(f"| {name} | {m['truth']} | {m['codewalk']} | {m['tp']} | "
                   f"{pct(m['precision'])} | {pct(m['recall'])} | {pct(m['f1'])} |")
    out.append("")
    notes = list(res.get("notes") or [])
    if ts.get("go_version"):
        notes.append(f"truth: go/types {ts['go_version']}, {ts.get('packages')} packages; implementations = union over "
                     f"{', '.join(ts.get('goos') or [])} (amd64); calls = {ts.get('calls_config')}; "
                     f"generated in {ts.get('seconds') or 0:.0f}s")
    for note in notes:
        out.append(f"- {note}")
    if notes:
        out.append("")
    return "\n".join(out)


def diagnostics_report(res: dict, top: int) -> str:
    d = res["diagnostics"]
    out = []

    def sect(title, items, fmt):
        out.append(f"-- {title}")
        if not items:
            out.append("   (none)")
        for it in items[:top]:
            out.append("   " + fmt(it))

    sect("implementations: false positives by interface (top %d)" % top, d["impl_fp_by_interface"],
         lambda g: f"{g['count']:6d}  {g['interface']}  e.g. {', '.join(g['examples'][:3])}")
    sect("implementations: false negatives by interface (top %d)" % top, d["impl_fn_by_interface"],
         lambda g: f"{g['count']:6d}  {g['interface']}  e.g. {', '.join(g['examples'][:3])}")
    sect("implementations: pointer flag mismatches", d["impl_pointer_mismatch_examples"], lambda s: s)
    for k in SCORED_KINDS:
        c = d["calls"][k]
        sect(f"calls {k}: false positives by callee", c["fp_by_callee"],
             lambda g: f"{g['count']:6d}  {g['callee']}  e.g. {', '.join(g['examples'])}")
        sect(f"calls {k}: false negatives by callee", c["fn_by_callee"],
             lambda g: f"{g['count']:6d}  {g['callee']}  e.g. {', '.join(g['examples'])}")
        sect(f"calls {k}: false positive examples", c["fp_examples"], lambda s: s)
        sect(f"calls {k}: false negative examples", c["fn_examples"], lambda s: s)
    return "\n".join(out)


DOC_INTRO = """# codewalk accuracy

codewalk answers "who implements interface I" and "what does function F call"
from tree-sitter syntax alone, without a compiler. This page compares its
answers with the Go type checker (`go/types`), which serves as ground truth.
The harness is in `eval/`; `eval/README.md` gives the definitions and caveats.

Regenerate with:

```
bash eval/run.sh all        # or: std | gopath ; add --fresh to rebuild truth
```

- **implementations**: the set of (interface, type, pointer) pairs for
  package-level named interfaces and types. The truth is the union over
  GOOS linux/darwin/windows, amd64. The "ignore pointer flag" row only
  checks (interface, type).
- **calls**: a multiset of (file, line of `(`, callee) for each kind. Truth
  kind `static` is compared with codewalk `via=static`, and truth kind
  `interface` with `via=interface`. The calls truth uses linux/amd64 only and
  excludes test files. The "+caller" rows also require the enclosing function
  to match.

"""


def update_doc(path: str, label: str, block: str) -> None:
    start = f"<!-- eval:{label}:start -->"
    end = f"<!-- eval:{label}:end -->"
    text = ""
    if os.path.exists(path):
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    if not text.strip():
        text = DOC_INTRO
    section = f"{start}\n{block.rstrip()}\n{end}\n"
    # drop the placeholder written before any real run
    ps, pe = "<!-- eval:placeholder:start -->", "<!-- eval:placeholder:end -->"
    if label != "placeholder" and ps in text and pe in text:
        a, b = text.index(ps), text.index(pe) + len(pe)
        text = (text[:a].rstrip("\n") + "\n\n" + text[b:].lstrip("\n")).rstrip("\n") + "\n"
    if start in text and end in text:
        a = text.index(start)
        b = text.index(end) + len(end)
        if b < len(text) and text[b] == "\n":
            b += 1
        text = text[:a] + section + text[b:]
    else:
        text = text.rstrip("\n") + "\n\n" + section
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)


# ---------------------------------------------------------------------------
# self-test

def _synthetic_truth(root: str) -> dict:
    rnd = random.Random(7)
    pkgs = [f"example.com/p{i}" for i in range(20)] + ["example.com/p0/sub"]
    impls = set()
    while len(impls) < 1000:
        i = f"{rnd.choice(pkgs)}.I{rnd.randrange(60)}"
        t = f"{rnd.choice(pkgs)}.T{rnd.randrange(300)}"
        impls.add((i, t, rnd.random() < 0.5))
    # one pointer flag per (iface, type)
    seen, uniq = set(), []
    for i, t, p in sorted(impls):
        if (i, t) not in seen:
            seen.add((i, t))
            uniq.append({"interface": i, "type": t, "pointer": p})
    files = [f"{root}/{p}/f{j}.go" for p in pkgs for j in range(3)]
    calls = []
    for n in range(6000):
        f = rnd.choice(files)
        kind = "interface" if n % 5 == 0 else ("dynamic" if n % 17 == 0 else "static")
        callee = "" if kind == "dynamic" else f"{rnd.choice(pkgs)}.F{rnd.randrange(100)}"
        calls.append({"caller": f"{pkg_of(f[len(root) + 1:] + '.x')}.G{rnd.randrange(10)}",
                      "callee": callee, "file": f, "line": rnd.randrange(1, 400), "kind": kind})
    # some exact duplicates (e.g. f(f(x)) on one line) to exercise multisets
    calls += [dict(c) for c in calls[:50] if c["kind"] == "static"]
    return {"implementations": uniq, "calls": calls, "packages": pkgs, "files": files,
            "error_files": files[-2:],
            "stats": {"mode": "synthetic", "root": root, "prefixes": []}}


def selftest(truth_path: str | None) -> int:
    root = "/nonexistent/selftest-root"
    if truth_path:
        truth = load_json(truth_path)
        root = truth.get("stats", {}).get("root") or root
    else:
        truth = _synthetic_truth(root)
    rnd = random.Random(12345)
    res0 = score(truth, [], [], root)  # establishes in-scope truth counts
    norm = PathNorm(root)
    pkgs = set(truth["packages"])
    files = {norm(f) for f in truth["files"]} - {norm(f) for f in truth.get("error_files") or []}

    # ---- implementations: keep 90%, flip pointer on 5% of kept, add bogus + out-of-scope
    t_impls = [r for r in truth["implementations"]
               if pkg_of(r["interface"]) in pkgs and pkg_of(r["type"]) in pkgs]
    n = len(t_impls)
    kept = rnd.sample(t_impls, round(0.9 * n))
    flip_n = len(kept) // 20
    cw_impls = []
    for idx, r in enumerate(kept):
        r = dict(r, file="x.go", line=1)
        if idx < flip_n:
            r["pointer"] = not r["pointer"]
        cw_impls.append(r)
    some_pkg = sorted(pkgs)[0]
    bogus = [{"interface": f"{some_pkg}.BogusIface{i}", "type": f"{some_pkg}.BogusType{i}", "pointer": False}
             for i in range(37)]
    outside = [{"interface": "not/in/scope.I", "type": f"{some_pkg}.T", "pointer": True},
               {"interface": f"{some_pkg}.I", "type": "not/in/scope.T", "pointer": False}]
    cw_impls += bogus + outside
    rnd.shuffle(cw_impls)

    # ---- calls: per kind keep 90% of occurrences, add bogus, add ignored vias
    cw_calls = []
    exp = {}
    for k in SCORED_KINDS:
        occ = [c for c in truth["calls"] if c["kind"] == k and norm(c["file"]) in files]
        keep = rnd.sample(occ, round(0.9 * len(occ)))
        bog = 23 if k == "static" else 11
        for c in keep:
            rel = norm(c["file"])
            cw_calls.append({"caller": c["caller"], "callee": c["callee"], "file": rel,
                             "line": c["line"], "via": k})
        f0 = sorted(files)[0]
        for i in range(bog):
            cw_calls.append({"caller": "x.y", "callee": f"bogus.Callee{i}", "file": f0,
                             "line": 100000 + i, "via": k})
        exp[k] = (len(occ), len(keep), bog)
    # ignored: other vias, out-of-scope files
    cw_calls.append({"caller": "a", "callee": "b", "file": "zzz/out_of_scope.go", "line": 1, "via": "static"})
    cw_calls.append({"caller": "a", "callee": "b", "file": norm(truth["files"][0]), "line": 1, "via": "dispatch"})
    cw_calls.append({"caller": "a", "callee": "", "file": norm(truth["files"][0]), "line": 1, "via": "funcvalue"})
    rnd.shuffle(cw_calls)

    # round-trip through JSON files to test loading as well
    with tempfile.TemporaryDirectory() as td:
        pi, pc = os.path.join(td, "impls.json"), os.path.join(td, "calls.json")
        with open(pi, "w") as fh:
            json.dump({"implementations": cw_impls}, fh)
        with open(pc, "w") as fh:
            json.dump({"calls": cw_calls}, fh)
        res = score(truth, records(load_json(pi), "implementations"),
                    records(load_json(pc), "calls"), root)

    failures = []

    def check(what, got, want):
        ok = abs(got - want) < 1e-9 if isinstance(want, float) else got == want
        print(f"  {'ok  ' if ok else 'FAIL'} {what}: got {got!r}, want {want!r}")
        if not ok:
            failures.append(what)

    k90 = len(kept)
    s = res["implementations"]["strict"]
    lo = res["implementations"]["ignore_pointer"]
    check("impl truth count", s["truth"], n)
    check("impl strict TP", s["tp"], k90 - flip_n)
    check("impl strict codewalk count", s["codewalk"], k90 + 37)
    check("impl strict precision", s["precision"], (k90 - flip_n) / (k90 + 37))
    check("impl strict recall", s["recall"], (k90 - flip_n) / n)
    check("impl loose TP", lo["tp"], k90)
    check("impl loose precision", lo["precision"], k90 / (k90 + 37))
    check("impl loose recall", lo["recall"], k90 / n)
    check("impl pointer mismatches", res["implementations"]["pointer_mismatch"], flip_n)
    check("impl out-of-scope dropped", res["implementations"]["codewalk_out_of_scope"], 2)
    for k in SCORED_KINDS:
        tot, kept_n, bog = exp[k]
        m = res["calls"][k]
        check(f"calls {k} truth", m["truth"], tot)
        check(f"calls {k} TP", m["tp"], kept_n)
        check(f"calls {k} precision", m["precision"], kept_n / (kept_n + bog) if kept_n + bog else 0.0)
        check(f"calls {k} recall", m["recall"], kept_n / tot if tot else 0.0)
        check(f"calls {k}+caller TP", res["calls"][k + "+caller"]["tp"], kept_n)
    check("calls out-of-scope dropped", res["codewalk_calls_out_of_scope"], 1)
    all_files = {norm(f) for f in truth["files"]}
    res_keep = score(truth, [], [], root, keep_type_errors=True)
    check("--keep-type-errors keeps calls in error files", res_keep["calls"]["static"]["truth"],
          sum(1 for c in truth["calls"] if c["kind"] == "static" and norm(c["file"]) in all_files))
    check("truth counts independent of codewalk input",
          res0["calls"]["static"]["truth"], res["calls"]["static"]["truth"])
    # markdown / doc rendering smoke test
    res["label"] = "selftest"
    md = markdown_block(res)
    check("markdown has 7 metric rows", md.count("\n| ") - 1, 7)
    with tempfile.TemporaryDirectory() as td:
        doc = os.path.join(td, "accuracy.md")
        update_doc(doc, "placeholder", "no figures yet")
        update_doc(doc, "selftest", md)
        update_doc(doc, "other", "x")
        update_doc(doc, "selftest", md)
        txt = open(doc).read()
        check("doc section replaced, not duplicated", txt.count("<!-- eval:selftest:start -->"), 1)
        check("doc placeholder removed", "no figures yet" in txt, False)
    print(text_report(res))
    if failures:
        print(f"SELFTEST FAILED: {len(failures)} check(s)")
        return 1
    print("SELFTEST PASSED")
    return 0


# ---------------------------------------------------------------------------

def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--truth")
    ap.add_argument("--codewalk-impls")
    ap.add_argument("--codewalk-calls")
    ap.add_argument("--root", help="root directory codewalk indexed (its file paths are relative to it)")
    ap.add_argument("--prefix", help="comma-separated import path prefixes (default: from truth)")
    ap.add_argument("--label", help="short id (doc section key), e.g. std")
    ap.add_argument("--title", help="heading for the markdown block (default: label)")
    ap.add_argument("--note", action="append", default=[], help="extra bullet under the markdown table (repeatable)")
    ap.add_argument("--markdown", action="store_true", help="print a markdown block for docs/accuracy.md")
    ap.add_argument("--verbose", "-v", action="store_true", help="print FP/FN diagnostics to stdout")
    ap.add_argument("--top", type=int, default=20)
    ap.add_argument("--json", dest="json_out", help="write full results (incl. diagnostics) as JSON")
    ap.add_argument("--update-doc", help="replace this label's section in the given markdown file")
    ap.add_argument("--keep-type-errors", action="store_true",
                    help="also score calls in files of packages that had type errors in the truth run")
    ap.add_argument("--selftest", action="store_true")
    a = ap.parse_args(argv)

    if a.selftest:
        return selftest(a.truth)
    if not (a.truth and a.root and (a.codewalk_impls or a.codewalk_calls)):
        ap.error("--truth, --root and at least one of --codewalk-impls/--codewalk-calls are required")
    truth = load_json(a.truth)
    impls = records(load_json(a.codewalk_impls), "implementations") if a.codewalk_impls else []
    calls = records(load_json(a.codewalk_calls), "calls") if a.codewalk_calls else []
    prefixes = [p.strip().rstrip("/") for p in a.prefix.split(",") if p.strip()] if a.prefix else None
    res = score(truth, impls, calls, a.root, prefixes, a.top, a.keep_type_errors)
    res["label"] = a.label
    res["title"] = a.title
    res["notes"] = a.note
    res["inputs"] = {"truth": a.truth, "codewalk_impls": a.codewalk_impls, "codewalk_calls": a.codewalk_calls,
                     "root": a.root}
    diag = diagnostics_report(res, a.top)
    if a.verbose:
        print(diag)
    else:
        print(diag, file=sys.stderr)
    print(text_report(res))
    if a.markdown:
        print()
        print(markdown_block(res))
    if a.json_out:
        with open(a.json_out, "w", encoding="utf-8") as fh:
            json.dump(res, fh, indent=1, sort_keys=True)
    if a.update_doc:
        update_doc(a.update_doc, a.label or "codewalk", markdown_block(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
