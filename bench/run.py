#!/usr/bin/env python3
"""codewalk benchmark harness (python3 stdlib only).

    python3 bench/run.py [--quick] [--corpus std|gopath|all] [--runs N]

Measures, per corpus: cold `codewalk index` against two floors (parse-floor: walk + read +
tree-sitter parse only; Universal Ctags), re-index after 0 / 1 / 100 edited files, query latency
(p50/p95 over the fixed query sets in bench/queries.json, process start included) with `rg` as the
reference for `grep`, query peak RSS, index size, and on GOSTD the cold gopls / callgraph
references. Writes bench/out/report-<date>.md (copied to docs/performance.md) and
bench/out/results.json. Progress goes to stderr. See bench/README.md.

A step that fails (binary missing, command not implemented, non-zero exit) is recorded as
"n/a (exit code X: first line of stderr)"; the harness itself never stops on one failure.
"""

import argparse
import datetime as dt
import json
import os
import platform
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback

BENCH = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH)
OUT = os.path.join(BENCH, "out")
SCRATCH = "/tmp/codewalk-bench"
CORPORA_SH = "/work/shared/corpora.sh"
DEFAULT_ROOTS = {"std": "/usr/share/go-1.19/src", "gopath": "/usr/share/gocode/src"}
# The file edited for the "1 file changed" re-index, per corpus (relative to the root).
ONE_FILE = {"std": "net/http/server.go", "gopath": "github.com/docker/docker/daemon/daemon.go"}

T0 = time.time()


def log(msg):
    el = time.time() - T0
    print(f"[bench {int(el) // 60:02d}:{int(el) % 60:02d}] {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------
# process measurement


def measure(argv, cwd=None, env=None, timeout=None, keep_stdout=False):
    """Run argv once; return wall seconds, peak RSS (KiB, from wait4's ru_maxrss: the child and
    the descendants it waited for), exit code, first stderr line, stdout size/lines."""
    res = {"argv": argv, "rc": None, "wall": None, "maxrss_kb": None, "timed_out": False,
           "stderr_first": "", "stdout_bytes": 0, "stdout_lines": 0}
    with tempfile.TemporaryFile() as so, tempfile.TemporaryFile() as se:
        t = time.perf_counter()
        try:
            p = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=so,
                                 stderr=se, start_new_session=True)
        except OSError as e:
            res["rc"] = 127
            res["stderr_first"] = f"cannot start: {e}"
            return res
        timer = None
        if timeout:
            def kill():
                res["timed_out"] = True
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            timer = threading.Timer(timeout, kill)
            timer.start()
        while True:
            try:
                _, status, ru = os.wait4(p.pid, 0)
                break
            except InterruptedError:
                continue
        wall = time.perf_counter() - t
        if timer:
            timer.cancel()
        rc = os.waitstatus_to_exitcode(status)
        p.returncode = rc
        res.update(rc=rc, wall=wall, maxrss_kb=ru.ru_maxrss)
        se.seek(0)
        err = se.read().decode("utf-8", "replace")
        lines = [l.strip() for l in err.splitlines() if l.strip()]
        res["stderr_first"] = lines[0][:200] if lines else ""
        res["stderr_tail"] = lines[-3:] if lines else []
        so.seek(0)
        out = so.read()
        res["stdout_bytes"] = len(out)
        res["stdout_lines"] = out.count(b"\n")
        if keep_stdout:
            res["stdout"] = out.decode("utf-8", "replace")
    return res


def failure(r):
    if r.get("timed_out"):
        return "timeout"
    if r["rc"] == -1:  # exited 0, but a post-condition failed
        return f"n/a (exit code 0, but {r['stderr_first']})"
    return f"n/a (exit code {r['rc']}: {r['stderr_first']})"


def ok(r):
    return r["rc"] == 0 and not r["timed_out"]


def median(xs):
    return statistics.median(xs) if xs else None


def pct(xs, p):
    """Nearest-rank percentile."""
    if not xs:
        return None
    s = sorted(xs)
    k = max(0, min(len(s) - 1, int(-(-p * len(s) // 100)) - 1))
    return s[k]


def heavy(name, argv, runs, budget, before=None, check=None, **kw):
    """Run a heavy step up to `runs` times; stop adding runs once the step's total time would go
    past `budget` seconds (a single run is always done). Returns a summary dict."""
    log(f"{name}: {' '.join(shlex.quote(a) for a in argv)}")
    walls, rss, samples = [], [], []
    for i in range(runs):
        if before:
            before()
        r = measure(argv, **kw)
        if ok(r) and check:
            why = check(r)
            if why:
                r["rc"], r["stderr_first"] = -1, why
        samples.append({k: r[k] for k in ("rc", "wall", "maxrss_kb", "timed_out", "stderr_first")})
        if not ok(r):
            log(f"  {name}: {failure(r)}")
            return {"name": name, "ok": False, "error": failure(r), "argv": argv,
                    "samples": samples, "last": r}
        walls.append(r["wall"])
        rss.append(r["maxrss_kb"])
        log(f"  run {i + 1}/{runs}: {r['wall']:.2f}s, {r['maxrss_kb'] / 1024:.0f} MiB")
        spent = sum(walls)
        if i + 1 < runs and spent + median(walls) > budget:
            log(f"  {name}: stopping after {i + 1} run(s) (step budget {budget:.0f}s)")
            break
    return {"name": name, "ok": True, "argv": argv, "runs": len(walls), "median_s": median(walls),
            "min_s": min(walls), "max_s": max(walls), "walls": walls,
            "peak_rss_mb": max(rss) / 1024, "samples": samples, "last": r}


class Step:
    """One heavy step for interleaved(): argv (or a callable returning it), optional hooks."""

    def __init__(self, name, argv, before=None, check=None, retry=None, **kw):
        self.name, self.argv, self.before, self.check, self.retry, self.kw = name, argv, before, check, retry, kw
        self.walls, self.rss, self.samples, self.error, self.last = [], [], [], None, None

    def cmd(self):
        return self.argv() if callable(self.argv) else self.argv

    def run_once(self):
        if self.before:
            self.before()
        r = measure(self.cmd(), **self.kw)
        if ok(r) and self.check:
            why = self.check(r)
            if why:
                r["rc"], r["stderr_first"] = -1, why
        return r

    def summary(self):
        base = {"name": self.name, "argv": self.cmd(), "samples": self.samples}
        if self.error or not self.walls:
            return {**base, "ok": False, "error": self.error or "not run"}
        return {**base, "ok": True, "runs": len(self.walls), "median_s": median(self.walls),
                "min_s": min(self.walls), "max_s": max(self.walls), "walls": self.walls,
                "peak_rss_mb": max(self.rss) / 1024, "last": self.last}


def interleaved(steps, runs, budget):
    """Run the steps round-robin (A B C, A B C, ...) so that each sees the same background load on
    a noisy machine, up to `runs` rounds; no new round starts once the elapsed time plus the
    median round time would pass `budget` seconds (one round is always done). A failing step is
    dropped from later rounds; step.retry(r) may return True to run it again at once (e.g. after
    changing its arguments)."""
    t0 = time.time()
    round_times = []
    for rnd in range(runs):
        t_round = time.time()
        for st in steps:
            if st.error:
                continue
            if rnd == 0:
                log(f"{st.name}: {' '.join(shlex.quote(a) for a in st.cmd())}")
            r = st.run_once()
            if not ok(r) and st.retry and st.retry(r):
                log(f"  {st.name}: {failure(r)}; retrying as {' '.join(st.cmd())}")
                r = st.run_once()
            st.samples.append({k: r[k] for k in ("rc", "wall", "maxrss_kb", "timed_out", "stderr_first")})
            if not ok(r):
                st.error = failure(r)
                log(f"  {st.name}: {st.error}")
                continue
            st.walls.append(r["wall"])
            st.rss.append(r["maxrss_kb"])
            st.last = r
            log(f"  {st.name} run {rnd + 1}/{runs}: {r['wall']:.2f}s, {r['maxrss_kb'] / 1024:.0f} MiB")
        round_times.append(time.time() - t_round)
        if rnd + 1 < runs and (time.time() - t0) + median(round_times) > budget:
            log(f"  stopping after {rnd + 1} round(s) (budget {budget:.0f}s)")
            break
    return [st.summary() for st in steps]


# --------------------------------------------------------------------------------------------
# environment


def machine_info():
    info = {"nproc": os.cpu_count(), "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
            "kernel": platform.release(), "python": platform.python_version()}
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal"):
                info["mem_gib"] = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    info["loadavg_start"] = open("/proc/loadavg").read().split()[:3]
    for tool, argv in {"rustc": ["rustc", "--version"], "go": ["go", "version"],
                       "ctags": ["ctags", "--version"], "rg": ["rg", "--version"],
                       "gopls": ["gopls", "version"], "hyperfine": ["hyperfine", "--version"]}.items():
        try:
            out = subprocess.run(argv, capture_output=True, text=True, timeout=30).stdout
            info[tool] = " ".join(out.split("\n")[0].split())
        except Exception as e:  # noqa: BLE001
            info[tool] = f"missing ({e.__class__.__name__})"
    return info


def run_corpora_sh():
    log(f"bash {CORPORA_SH}")
    roots = dict(DEFAULT_ROOTS)
    try:
        p = subprocess.run(["bash", CORPORA_SH], capture_output=True, text=True, timeout=1800)
        for line in p.stdout.splitlines():
            if line.startswith("GOSTD="):
                roots["std"] = line.split("=", 1)[1].strip()
            elif line.startswith("GOPATH_TREE="):
                roots["gopath"] = line.split("=", 1)[1].strip()
        if p.returncode != 0:
            log(f"corpora.sh exited {p.returncode}: {p.stderr.strip()[-300:]}")
    except Exception as e:  # noqa: BLE001
        log(f"corpora.sh failed: {e}")
    return roots


def build(args, results):
    """Build parse-floor and codewalk. Returns (parse_floor_path|None, codewalk_path|None)."""
    os.makedirs(OUT, exist_ok=True)
    pf_manifest = os.path.join(BENCH, "parse-floor", "Cargo.toml")
    pf_bin = os.path.join(BENCH, "parse-floor", "target", "release", "parse-floor")
    log("building parse-floor (cargo build --release)")
    r = measure(["cargo", "build", "--release", "--manifest-path", pf_manifest], timeout=1800)
    results["build"] = {"parse_floor": {"ok": ok(r), "secs": r["wall"], "error": None if ok(r) else failure(r)}}
    if not ok(r):
        log(f"parse-floor build failed: {failure(r)} {r.get('stderr_tail')}")
        pf_bin = None

    if args.codewalk:
        cw = os.path.abspath(args.codewalk)
        results["build"]["codewalk"] = {"ok": os.access(cw, os.X_OK), "binary": cw, "note": "--codewalk given"}
        return pf_bin, (cw if os.access(cw, os.X_OK) else None)
    cw = os.path.join(REPO, "target", "release", "codewalk")
    if args.no_build:
        ok_bin = os.access(cw, os.X_OK)
        results["build"]["codewalk"] = {"ok": ok_bin, "binary": cw, "note": "--no-build"}
        return pf_bin, (cw if ok_bin else None)
    log("building codewalk (cargo build --release in the repo)")
    logf = os.path.join(OUT, "build-codewalk.log")
    t = time.perf_counter()
    with open(logf, "w") as lf:
        try:
            p = subprocess.run(["cargo", "build", "--release"], cwd=REPO, stdout=lf, stderr=lf, timeout=3600)
            rc = p.returncode
        except subprocess.TimeoutExpired:
            rc = "timeout"
    secs = time.perf_counter() - t
    if rc != 0:
        tail = open(logf).read().strip().splitlines()[-1:] or [""]
        err = next((l for l in open(logf) if l.startswith("error")), tail[0]).strip()
        results["build"]["codewalk"] = {"ok": False, "secs": secs,
                                        "error": f"n/a (cargo build exit code {rc}: {err[:200]})"}
        log(f"codewalk build failed ({rc}); codewalk steps are n/a. See {logf}")
        return pf_bin, None
    results["build"]["codewalk"] = {"ok": True, "secs": secs, "binary": cw}
    return pf_bin, cw


def du_bytes(path):
    """(apparent bytes, allocated bytes) of a tree, symlinks not followed."""
    app = alloc = 0
    for dp, dns, fns in os.walk(path):
        for n in fns + dns:
            try:
                st = os.lstat(os.path.join(dp, n))
            except OSError:
                continue
            if not os.path.isdir(os.path.join(dp, n)) or os.path.islink(os.path.join(dp, n)):
                app += st.st_size
            alloc += st.st_blocks * 512
    return app, alloc


def go_source_bytes(root):
    """Files and bytes of *.go under root, each real directory once (fallback when parse-floor is
    unavailable; parse-floor's own numbers are used otherwise)."""
    seen, files, total = set(), 0, 0
    for dp, dns, fns in os.walk(root, followlinks=True):
        real = os.path.realpath(dp)
        if real in seen:
            dns[:] = []
            continue
        seen.add(real)
        dns[:] = [d for d in dns if not d.startswith(".")]
        for f in fns:
            if f.endswith(".go") and not f.startswith("."):
                try:
                    total += os.path.getsize(os.path.join(dp, f))
                    files += 1
                except OSError:
                    pass
    return files, total


# --------------------------------------------------------------------------------------------
# codewalk steps


class Codewalk:
    def __init__(self, binary):
        self.bin = binary
        self.force = True  # drop --force if the CLI rejects it

    def index_argv(self, root, idx):
        a = [self.bin, "index", root, "--index-dir", idx]
        return a + ["--force"] if self.force else a

    def q(self, idx, *args):
        return [self.bin, "--index-dir", idx, *args]

    def probe_force(self, root, idx):
        """One tiny check: does a real `index --help` (one that lists --index-dir) lack --force?
        (A failing or empty help changes nothing; a rejected --force is also retried without.)"""
        r = measure([self.bin, "index", "--help"], keep_stdout=True, timeout=60)
        text = r.get("stdout", "")
        if ok(r) and "--index-dir" in text and "--force" not in text:
            self.force = False
            log("codewalk index --help does not list --force: omitting it")


def index_check(idx):
    def check(_r):
        if not os.path.isdir(idx):
            return "index dir not created"
        if not any(os.scandir(idx)):
            return "index dir empty"
        return None
    return check


def query_set(label, argvs, rounds, budget, timeout=120, ref_argvs=None):
    """Latency of a fixed query set. Each query: 1 untimed warm-up run (a failing warm-up marks the
    query n/a and skips it), then `rounds` timed rounds over the whole set. Per-query median, then
    p50/p95 over the queries. ref_argvs (same length) are timed interleaved as the reference."""
    log(f"queries {label}: {len(argvs)} queries x {rounds} rounds")
    t_start = time.time()
    per, ref_per, fails, empty, rss = {}, {}, [], 0, []
    live = []
    for i, a in enumerate(argvs):
        r = measure(a, timeout=timeout)
        if not ok(r):
            fails.append({"argv": a[3:] if len(a) > 3 else a, "error": failure(r)})
            continue
        if r["stdout_bytes"] == 0:
            empty += 1
        live.append(i)
        per[i] = []
        if ref_argvs:
            measure(ref_argvs[i], timeout=timeout)
            ref_per[i] = []
        if time.time() - t_start > budget:
            break
    done_rounds = 0
    for rnd in range(rounds):
        if time.time() - t_start > budget:
            break
        for i in live:
            r = measure(argvs[i], timeout=timeout)
            if ok(r):
                per[i].append(r["wall"])
                rss.append(r["maxrss_kb"])
            if ref_argvs:
                rr = measure(ref_argvs[i], timeout=timeout)
                if ok(rr) or rr["rc"] == 1:  # rg exits 1 for "no match"
                    ref_per[i].append(rr["wall"])
        done_rounds += 1
    meds = [median(v) for v in per.values() if v]
    allv = [x for v in per.values() for x in v]
    out = {"kind": label, "queries": len(argvs), "ok_queries": len(meds), "rounds": done_rounds,
           "failed": fails, "empty_output": empty,
           "p50_ms": pct(meds, 50) * 1000 if meds else None,
           "p95_ms": pct(meds, 95) * 1000 if meds else None,
           "max_ms": max(meds) * 1000 if meds else None,
           "samples_p50_ms": pct(allv, 50) * 1000 if allv else None,
           "samples_p95_ms": pct(allv, 95) * 1000 if allv else None,
           "peak_rss_mb": max(rss) / 1024 if rss else None,
           "secs": time.time() - t_start}
    if ref_argvs:
        rmeds = [median(v) for v in ref_per.values() if v]
        out["ref_p50_ms"] = pct(rmeds, 50) * 1000 if rmeds else None
        out["ref_p95_ms"] = pct(rmeds, 95) * 1000 if rmeds else None
    if not meds:
        out["error"] = fails[0]["error"] if fails else "no query completed"
    if meds:
        log(f"  {label}: p50 {out['p50_ms']:.1f} ms, p95 {out['p95_ms']:.1f} ms "
            f"({len(meds)}/{len(argvs)} ok, {empty} empty)")
    else:
        log(f"  {label}: {out['error']}")
    return out


def queries(cw, idx, corpus, qs, root, rounds, quick, qcfg, budget):
    def take(k):
        v = qs[k]
        return v[: qcfg.get(k, len(v))] if quick else v
    res = []
    res.append(query_set("def", [cw.q(idx, "def", n) for n in take("def")], rounds, budget))
    res.append(query_set("implementations", [cw.q(idx, "implementations", n) for n in take("implementations")], rounds, budget))
    res.append(query_set("callers", [cw.q(idx, "callers", n) for n in take("callers")], rounds, budget))
    res.append(query_set("callees", [cw.q(idx, "callees", n) for n in take("callees")], rounds, budget))
    res.append(query_set("trace", [cw.q(idx, "trace", a, b) for a, b in take("trace")], rounds, 2 * budget))
    res.append(query_set("search", [cw.q(idx, "search", w) for w in take("search")], rounds, budget))
    lits = take("grep")
    res.append(query_set("grep", [cw.q(idx, "grep", "-F", lit) for lit in lits], rounds, 2 * budget,
                         ref_argvs=[["rg", "-n", "-F", "-t", "go", lit, root] for lit in lits]))
    res.append(query_set("graph calls --depth 3",
                         [cw.q(idx, "graph", "calls", n, "--depth", "3") for n in take("graph_calls")], rounds, budget))
    return res


def rg_only(root, lits, rounds, budget):
    """rg reference timings when codewalk is unavailable (same protocol as query_set)."""
    return query_set("rg -n -F -t go (reference)", [["rg", "-n", "-F", "-t", "go", lit, root] for lit in lits],
                     rounds, budget)


def query_memory(cw, idx, qs):
    out = {}
    for kind in ("def", "implementations"):
        name = qs["memory"][kind]
        runs = [measure(cw.q(idx, kind, name), timeout=120) for _ in range(3)]
        good = [r for r in runs if ok(r)]
        out[kind] = ({"query": f"{kind} {name}", "peak_rss_mb": max(r["maxrss_kb"] for r in good) / 1024,
                      "median_ms": median([r["wall"] for r in good]) * 1000}
                     if good else {"query": f"{kind} {name}", "error": failure(runs[-1])})
    return out


def reindex(cw, corpus, root, runs, budget, timeout):
    """Re-index timings on a scratch copy: nothing changed, 1 file edited, 100 files edited.
    Edits append a comment line (a new one each run); originals are restored at the end."""
    copy = os.path.join(SCRATCH, f"{corpus}-copy")
    idx = os.path.join(SCRATCH, f"index-{corpus}-copy")
    out = {"copy": copy}
    if not os.path.isdir(os.path.join(copy, ".codewalk-bench-complete")):
        log(f"copying {root} -> {copy} (cp -a)")
        shutil.rmtree(copy, ignore_errors=True)
        os.makedirs(SCRATCH, exist_ok=True)
        subprocess.run(["cp", "-a", root, copy], check=True)
        os.makedirs(os.path.join(copy, ".codewalk-bench-complete"))  # hidden: not indexed
    # Deterministic 100 files spread over the tree (real files, no symlinked dirs).
    gos = []
    for dp, dns, fns in os.walk(copy):
        dns[:] = sorted(d for d in dns if not d.startswith("."))
        gos += [os.path.join(dp, f) for f in sorted(fns) if f.endswith(".go")]
    one = os.path.join(copy, ONE_FILE[corpus])
    if not os.path.isfile(one):
        one = gos[len(gos) // 2]
    step = max(1, len(gos) // 100)
    hundred = gos[::step][:100]
    touched = set([one] + hundred)

    def restore():
        for f in touched:
            src = os.path.join(root, os.path.relpath(f, copy))
            shutil.copy2(src, f)

    restore()  # in case an earlier bench was interrupted between edit and restore
    try:
        shutil.rmtree(idx, ignore_errors=True)
        base = heavy(f"{corpus}: codewalk index (scratch copy, initial)", cw.index_argv(copy, idx), 1, 0,
                     check=index_check(idx), timeout=timeout)
        out["initial"] = strip(base)
        if not base["ok"]:
            return out
        noforce = [a for a in cw.index_argv(copy, idx) if a != "--force"]
        out["nothing_changed"] = strip(heavy(f"{corpus}: re-index, nothing changed", noforce, runs, budget,
                                             timeout=timeout))
        counter = {"n": 0}

        def edit(files):
            def f():
                counter["n"] += 1
                for p in files:
                    with open(p, "a") as fh:
                        fh.write(f"\n// codewalk-bench edit {counter['n']}\n")
            return f
        out["one_file"] = strip(heavy(f"{corpus}: re-index, 1 file edited", noforce, runs, budget,
                                      before=edit([one]), timeout=timeout))
        out["one_file"]["file"] = os.path.relpath(one, copy)
        out["hundred_files"] = strip(heavy(f"{corpus}: re-index, 100 files edited", noforce, runs, budget,
                                           before=edit(hundred), timeout=timeout))
        out["hundred_files"]["files"] = len(hundred)

        def body_edit(files):
            # A statement line inserted at the top of the first function body: the file's
            # call sites and later declarations move down a line, no declaration changes.
            def f():
                for p in files:
                    with open(p) as fh:
                        text = fh.read()
                    i = text.find("\nfunc ")
                    j = text.find(") {\n", i) if i >= 0 else -1
                    if j >= 0:
                        text = text[:j + 4] + "\t_ = 0 // codewalk-bench edit\n" + text[j + 4:]
                        with open(p, "w") as fh:
                            fh.write(text)
            return f
        out["one_file_body"] = strip(heavy(f"{corpus}: re-index, 1 function body edited", noforce, runs, budget,
                                           before=body_edit([one]), timeout=timeout))
        out["hundred_files_body"] = strip(heavy(f"{corpus}: re-index, 100 function bodies edited", noforce,
                                                runs, budget, before=body_edit(hundred), timeout=timeout))
    finally:
        restore()
        log(f"restored {len(touched)} edited files in {copy}")
    return out


def strip(h):
    return {k: v for k, v in h.items() if k not in ("last",)}


# --------------------------------------------------------------------------------------------
# references on GOSTD


def go_env(tmp):
    env = dict(os.environ)
    env.update({"GOPROXY": "off", "GOFLAGS": "", "GO111MODULE": "",
                "XDG_CACHE_HOME": os.path.join(tmp, "xdg"), "GOCACHE": os.path.join(tmp, "gocache")})
    return env


def gopls_step(root):
    """A cold `gopls implementation` of io.Reader as a Step, run in the same rounds as codewalk's
    cold index: each run starts with fresh, empty caches (same paths, emptied first)."""
    io_go = os.path.join(root, "io", "io.go")
    line = col = None
    for i, l in enumerate(open(io_go), 1):
        if l.startswith("type Reader interface"):
            line, col = i, len("type ") + 1
            break
    tmp = os.path.join(SCRATCH, "gopls-cold")

    def fresh():
        shutil.rmtree(tmp, ignore_errors=True)
        os.makedirs(tmp)

    return Step("gopls implementation io.Reader (cold)", ["gopls", "implementation", f"{io_go}:{line}:{col}"],
                before=fresh, check=lambda r: None if r["stdout_lines"] else "no output",
                cwd=root, env=go_env(tmp), timeout=600, keep_stdout=True)


def gopls_ref(step, root):
    res = {"argv": step.get("argv"), "cwd": root}
    if not step.get("ok"):
        res.update(ok=False, error=step.get("error"))
    else:
        res.update(ok=True, wall=step["median_s"], walls=step["walls"], peak_rss_mb=step["peak_rss_mb"],
                   results=step["last"]["stdout_lines"])
    log(f"  gopls: {res.get('error') or '%.1fs median, %d locations' % (res['wall'], res['results'])}")
    return res


def callgraph_ref(root, timeout):
    tmp = tempfile.mkdtemp(prefix="callgraph-cold-", dir=SCRATCH)
    argv = ["callgraph", "-algo=static", "-format=digraph", "std"]
    log(f"reference: {' '.join(argv)} (cwd {root})")
    r = measure(argv, cwd=root, env=go_env(tmp), timeout=timeout)
    shutil.rmtree(tmp, ignore_errors=True)
    res = {"argv": argv, "cwd": root}
    if r["timed_out"]:
        res.update(ok=False, error="timeout", wall=r["wall"])
    elif not ok(r):
        res.update(ok=False, error=failure(r))
    else:
        res.update(ok=True, wall=r["wall"], peak_rss_mb=r["maxrss_kb"] / 1024, edges=r["stdout_lines"])
    log(f"  callgraph: {res.get('error') or '%.1fs' % res['wall']}")
    return res


# --------------------------------------------------------------------------------------------
# report


def f_s(x):
    return "—" if x is None else (f"{x:.2f}" if x < 100 else f"{x:.0f}")


def f_ms(x):
    return "—" if x is None else (f"{x:.1f}" if x < 100 else f"{x:.0f}")


def f_mb(x):
    return "—" if x is None else f"{x:.0f}"


def ratio(a, b):
    return "—" if not a or not b else f"{a / b:.3g}×"


def heavy_row(h, extra=""):
    if not h:
        return None
    if not h.get("ok"):
        return f"| {h['name']} | — | {h.get('error', 'n/a').replace('|', '/')} | — | — |{extra}"
    return (f"| {h['name']} | {h['runs']} | {f_s(h['median_s'])} | {f_s(h['min_s'])}–{f_s(h['max_s'])} "
            f"| {f_mb(h['peak_rss_mb'])} |{extra}")


def render(results):
    m = results["machine"]
    L = [f"# codewalk performance", "",
         f"Generated by `{results['command']}` on {m['date']}. Lower is better everywhere. "
         "Wall times are medians over the runs shown; peak RSS is the maximum over those runs "
         "(`wait4` ru_maxrss). The page cache is warm for every tool (the corpus is read once "
         "before timing). The machine is shared and noisy: compare ratios measured in the same run, "
         "not absolute numbers across runs.", "",
         "## Machine", "",
         "| | |", "|---|---|",
         f"| CPU | {m.get('cpu', '?')} × {m['nproc']} (nproc) |",
         f"| memory | {m.get('mem_gib', '?')} GiB |",
         f"| kernel | {m['kernel']} |",
         f"| load average at start / end | {' '.join(m['loadavg_start'])} / {' '.join(m.get('loadavg_end', []))} |",
         f"| tools | {m.get('rustc')}; {m.get('go')}; {m.get('ctags')}; {m.get('rg')}; gopls {m.get('gopls')} |",
         f"| bench runtime | {results.get('total_secs', 0) / 60:.1f} min |", ""]
    b = results.get("build", {})
    cwb = b.get("codewalk", {})
    if not cwb.get("ok"):
        L += [f"**codewalk: {cwb.get('error', 'binary missing')}** — every codewalk row below is n/a.", ""]
    for corpus, c in results["corpora"].items():
        L += [f"## Corpus `{corpus}`: {c['root']}", ""]
        src = c.get("source", {})
        L += [f"{src.get('files', '?')} .go files, {src.get('bytes', 0) / 1e6:.1f} MB of Go source "
              f"(each real directory once; {src.get('error_files', '?')} files with tree-sitter parse errors).", ""]
        L += ["### Cold index", "",
              "| step | runs | median s | range s | peak RSS MiB |", "|---|---|---|---|---|"]
        for k in ("parse_floor", "ctags", "codewalk_index"):
            row = heavy_row(c.get(k))
            if row:
                L.append(row)
        pf, ct, cw = (c.get(k) or {} for k in ("parse_floor", "ctags", "codewalk_index"))
        L.append("")
        if cw.get("ok"):
            L += [f"- codewalk / parse-floor: **{ratio(cw.get('median_s'), pf.get('median_s'))}** time, "
                  f"{ratio(cw.get('peak_rss_mb'), pf.get('peak_rss_mb'))} memory"
                  + (f"; per round (floor, ctags and codewalk run in turn): "
                     + ", ".join(f"{a / b:.2f}×" for a, b in zip(cw["walls"], pf["walls"]))
                     if cw.get("walls") and pf.get("walls") else ""),
                  f"- codewalk / ctags: **{ratio(cw.get('median_s'), ct.get('median_s'))}** time, "
                  f"{ratio(cw.get('peak_rss_mb'), ct.get('peak_rss_mb'))} memory"]
        else:
            L.append("- codewalk / parse-floor, codewalk / ctags: n/a (no codewalk index)")
        L += [f"- parse-floor throughput: {src.get('bytes', 0) / 1e6 / pf['median_s']:.1f} MB/s on {m['nproc']} threads"
              if pf.get("median_s") else "- parse-floor: n/a", ""]
        sz = c.get("index_size")
        if sz:
            L += ["### Index size", "",
                  "| | bytes | × source |", "|---|---|---|",
                  f"| Go source (.go bytes) | {src.get('bytes', 0):,} | 1.00× |",
                  f"| index dir (apparent) | {sz['apparent']:,} | {sz['apparent'] / src['bytes']:.2f}× |",
                  f"| index dir (allocated, du) | {sz['allocated']:,} | {sz['allocated'] / src['bytes']:.2f}× |"]
            L += [f"| of which `{n}` | {b:,} | {b / src['bytes']:.2f}× |" for n, b in sz.get("parts", {}).items()
                  if n != "manifest.json"]
            L += [""]
        else:
            L += ["### Index size", "", "n/a (no codewalk index)", ""]
        ri = c.get("reindex")
        L += ["### Re-index (scratch copy of the corpus)", ""]
        if ri and ri.get("initial"):
            L += ["| step | runs | median s | range s | peak RSS MiB |", "|---|---|---|---|---|"]
            for k in ("initial", "nothing_changed", "one_file", "hundred_files", "one_file_body",
                      "hundred_files_body"):
                if ri.get(k):
                    L.append(heavy_row(ri[k]))
            if ri.get("one_file", {}).get("file"):
                L += ["", f"1 file: `{ri['one_file']['file']}`; 100 files: every ~N-th .go file of the sorted tree. "
                      "\"Edited\": each run appends one more comment line to each file (the text changes, "
                      "no declaration, call or position does). \"Function body edited\": each run inserts one "
                      "more statement line at the top of the file's first function body (its calls and later "
                      "declarations move down a line; no declaration changes)."]
            L.append("")
        else:
            L += [f"n/a ({ri.get('skipped') if ri else 'not run'})", ""]
        L += ["### Query latency (process start included)", ""]
        cq = [q for q in c.get("queries", []) if q.get("queries")]
        if cq:
            L += ["Per query: 1 warm-up run, then the median of the timed rounds; p50/p95 are over the "
                  "queries of the set (nearest rank). Sets: `bench/queries.json`.", "",
                  "| query | ok / set | rounds | p50 ms | p95 ms | max ms | peak RSS MiB | reference p50 / p95 ms | notes |",
                  "|---|---|---|---|---|---|---|---|---|"]
        else:
            L += ["codewalk queries: not run (no codewalk index). Reference only:", "",
                  "| query | ok / set | rounds | p50 ms | p95 ms | max ms | peak RSS MiB | reference p50 / p95 ms | notes |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for q in cq:
            ref = (f"rg: {f_ms(q.get('ref_p50_ms'))} / {f_ms(q.get('ref_p95_ms'))}" if "ref_p50_ms" in q else "")
            notes = []
            if q.get("error"):
                notes.append(q["error"].replace("|", "\\|"))
            elif q.get("failed"):
                notes.append(f"{len(q['failed'])} failed, first: {q['failed'][0]['error']}".replace("|", "\\|"))
            if q.get("empty_output"):
                notes.append(f"{q['empty_output']} with empty output")
            if q.get("ok_queries") and q.get("rounds", 0) == 0:
                notes.append("query budget exhausted during warm-up")
            L.append(f"| `{q['kind']}` | {q['ok_queries']}/{q['queries']} | {q['rounds']} | {f_ms(q['p50_ms'])} | "
                     f"{f_ms(q['p95_ms'])} | {f_ms(q['max_ms'])} | {f_mb(q['peak_rss_mb'])} | {ref} | {'; '.join(notes)} |")
        if c.get("rg_reference"):
            q = c["rg_reference"]
            L.append(f"| `{q['kind']}` | {q['ok_queries']}/{q['queries']} | {q['rounds']} | {f_ms(q['p50_ms'])} | "
                     f"{f_ms(q['p95_ms'])} | {f_ms(q['max_ms'])} | {f_mb(q['peak_rss_mb'])} | | reference for `grep` |")
        L.append("")
        qm = c.get("query_memory")
        if qm and cq:
            L += ["### Query process memory", "", "| query | peak RSS MiB | median ms |", "|---|---|---|"]
            for v in qm.values():
                L.append(f"| `{v['query']}` | {f_mb(v.get('peak_rss_mb'))} | {f_ms(v.get('median_ms'))} |"
                         if "error" not in v else f"| `{v['query']}` | {v['error']} | |")
            L.append("")
        refs = c.get("references")
        if refs:
            g, cg, cmp_ = refs.get("gopls", {}), refs.get("callgraph", {}), refs.get("codewalk_vs_gopls", {})
            L += ["### References (cold, GOSTD only)", "",
                  "| tool | wall s | peak RSS MiB | output |", "|---|---|---|---|"]
            L.append(f"| `{' '.join(g.get('argv', []))}` (cwd {g.get('cwd')}) | "
                     + (f"{f_s(g['wall'])} | {f_mb(g['peak_rss_mb'])} | {g['results']} locations |" if g.get("ok")
                        else f"{g.get('error')} | | |"))
            L.append(f"| `{' '.join(cg.get('argv', []))}` (cwd {cg.get('cwd')}) | "
                     + (f"{f_s(cg['wall'])} | {f_mb(cg['peak_rss_mb'])} | {cg['edges']} edges |" if cg.get("ok")
                        else f"{cg.get('error')} | | |"))
            if cmp_.get("ok"):
                L.append(f"| codewalk cold index + `implementations io.Reader` | {f_s(cmp_['wall'])} | "
                         f"{f_mb(cmp_['peak_rss_mb'])} | |")
                L += ["", f"- codewalk / gopls (cold `implementation io.Reader`): **{ratio(cmp_['wall'], g.get('wall'))}** "
                      f"time (ratio of the medians), **{ratio(cmp_['peak_rss_mb'], g.get('peak_rss_mb'))}** memory"]
                if cmp_.get("round_ratios"):
                    per = ", ".join(f"{x:.3f}×" for x in cmp_["round_ratios"])
                    L += [f"- per round (codewalk and gopls run one after the other in each round): {per}; "
                          f"median **{cmp_['round_ratio_median']:.3f}×**"]
            else:
                L.append(f"| codewalk cold index + `implementations io.Reader` | {cmp_.get('error', 'n/a')} | | |")
            L += ["", "gopls and callgraph run with GOPROXY=off and fresh, empty XDG_CACHE_HOME and GOCACHE "
                  "(cold), in GOROOT/src (module `std`). callgraph's `std` pattern excludes `cmd/`; codewalk "
                  "indexes all of GOROOT/src.", ""]
    L += ["## How to reproduce", "", "```sh", results["command"], "```", "",
          "See `bench/README.md` for what each step measures. Raw numbers: `bench/out/results.json`.", ""]
    return "\n".join(L)


# --------------------------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="GOSTD only, 1 run each, small query sets")
    ap.add_argument("--corpus", choices=["std", "gopath", "all"], default="all")
    ap.add_argument("--runs", type=int, default=3, help="runs of each heavy step (cold index, floors, re-index)")
    ap.add_argument("--rounds", type=int, default=3, help="timed rounds over each query set")
    ap.add_argument("--heavy-budget", type=float, default=360,
                    help="seconds per corpus for the interleaved cold-index rounds (parse-floor, ctags, "
                         "codewalk) after which no new round starts; re-index steps get 150 each (default 360)")
    ap.add_argument("--query-budget", type=float, default=60,
                    help="seconds per query set after which no further round is started (trace and grep: 2x)")
    ap.add_argument("--codewalk", help="use this codewalk binary instead of building the repo")
    ap.add_argument("--no-build", action="store_true", help="use target/release/codewalk as is")
    ap.add_argument("--no-references", action="store_true", help="skip gopls/callgraph on GOSTD")
    ap.add_argument("--no-doc", action="store_true", help="do not copy the report to docs/performance.md")
    args = ap.parse_args()
    if args.quick:
        args.corpus, args.runs, args.rounds = "std", 1, 1
    command = "python3 bench/run.py " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    results = {"command": command.strip(), "args": vars(args)}
    os.makedirs(OUT, exist_ok=True)
    os.makedirs(SCRATCH, exist_ok=True)
    results["machine"] = machine_info()
    roots = run_corpora_sh()
    pf_bin, cw_bin = build(args, results)
    cw = Codewalk(cw_bin) if cw_bin else None
    qall = json.load(open(os.path.join(BENCH, "queries.json")))
    qcfg = qall.get("quick", {})
    corpora = ["std", "gopath"] if args.corpus == "all" else [args.corpus]
    results["corpora"] = {}
    nproc = os.cpu_count() or 1
    cw_missing = results["build"].get("codewalk", {}).get("error") or "n/a (codewalk binary missing)"

    for corpus in corpora:
        root = roots[corpus]
        c = results["corpora"][corpus] = {"root": root}
        qs = qall[corpus]
        idx = os.path.join(SCRATCH, f"index-{corpus}")
        try:
            log(f"== corpus {corpus}: {root}")
            log("warming the page cache (rg over every .go file)")
            measure(["rg", "-c", "-t", "go", "--no-messages", "zq#never-matches#qz", root], timeout=600)
            if corpus == "std" and not args.no_references:
                # gopls's own binary and the go command it runs (`go list`) into the page cache
                # too, as the corpus is for every tool: its caches stay empty for each timed run.
                log("warming the page cache for gopls (gopls version; go list std, throwaway caches)")
                measure(["gopls", "version"], timeout=120)
                warm = os.path.join(SCRATCH, "go-warm")
                measure(["go", "list", "std"], cwd=root, env=go_env(warm), timeout=600)
                shutil.rmtree(warm, ignore_errors=True)
            budget = args.heavy_budget
            tags = os.path.join(SCRATCH, f"{corpus}.tags")
            steps = []
            if pf_bin:
                steps.append(Step(f"parse-floor ({nproc} threads)", [pf_bin, root, "--threads", str(nproc)],
                                  timeout=1800, keep_stdout=True))
            steps.append(Step("ctags -R --languages=Go", ["ctags", "-R", "--languages=Go", "-f", tags, root],
                              timeout=1800))
            if cw:
                cw.probe_force(root, idx)

                def retry_without_force(r):
                    if cw.force and "force" in (r.get("stderr_first") or "").lower():
                        cw.force = False
                        return True
                    return False
                steps.append(Step("codewalk index (cold)", lambda: cw.index_argv(root, idx),
                                  before=lambda: shutil.rmtree(idx, ignore_errors=True),
                                  check=index_check(idx), retry=retry_without_force, timeout=3600))
            # gopls runs in the same rounds as codewalk, so both see the same machine: its speed
            # drifts by 15% within the hour, and the ratio is what the target is about.
            if corpus == "std" and not args.no_references:
                steps.append(gopls_step(root))
            done = {st["name"]: st for st in interleaved(steps, args.runs, budget)}
            pf = done.get(f"parse-floor ({nproc} threads)")
            if pf:
                c["parse_floor"] = strip(pf)
                if pf["ok"]:
                    kv = dict(x.split("=", 1) for x in pf["last"]["stdout"].split())
                    c["source"] = {"files": int(kv["files"]), "bytes": int(kv["bytes"]),
                                   "error_files": int(kv["error_files"]), "inner_secs": float(kv["secs"])}
            else:
                c["parse_floor"] = {"name": "parse-floor", "ok": False, "error": "n/a (parse-floor build failed)"}
            if "source" not in c:
                f, b = go_source_bytes(root)
                c["source"] = {"files": f, "bytes": b}
            c["ctags"] = strip(done["ctags -R --languages=Go"])
            if cw:
                c["codewalk_index"] = strip(done["codewalk index (cold)"])
            else:
                c["codewalk_index"] = {"name": "codewalk index (cold)", "ok": False, "error": cw_missing}
            have_index = c["codewalk_index"].get("ok")
            if have_index:
                app, alloc = du_bytes(idx)
                c["index_size"] = {"apparent": app, "allocated": alloc}
                # Per file of the generation: index.bin, facts.bin (the re-index cache), search/.
                try:
                    gen = os.path.join(idx, open(os.path.join(idx, "CURRENT")).read().strip())
                    c["index_size"]["parts"] = {n: du_bytes(os.path.join(gen, n))[0] if os.path.isdir(os.path.join(gen, n))
                                                else os.path.getsize(os.path.join(gen, n)) for n in sorted(os.listdir(gen))}
                except OSError:
                    pass
                c["queries"] = queries(cw, idx, corpus, qs, root, args.rounds, args.quick, qcfg, args.query_budget)
                c["query_memory"] = query_memory(cw, idx, qs)
            else:
                err = c["codewalk_index"].get("error")
                c["queries"] = [{"kind": k, "queries": 0, "ok_queries": 0, "rounds": 0, "failed": [],
                                 "empty_output": 0, "p50_ms": None, "p95_ms": None, "max_ms": None,
                                 "peak_rss_mb": None, "error": f"no index ({err})"}
                                for k in ("def", "implementations", "callers", "callees", "trace", "search",
                                          "grep", "graph calls --depth 3")]
                lits = qs["grep"][: qcfg.get("grep", 99)] if args.quick else qs["grep"]
                c["rg_reference"] = rg_only(root, lits, args.rounds, 2 * args.query_budget)
                c["query_memory"] = {k: {"query": f"{k} {qs['memory'][k]}", "error": f"no index ({err})"}
                                     for k in ("def", "implementations")}
            if have_index:
                try:
                    c["reindex"] = reindex(cw, corpus, root, args.runs, min(150, budget), 3600)
                except Exception as e:  # noqa: BLE001
                    c["reindex"] = {"skipped": f"error: {e}"}
                    log(traceback.format_exc())
            else:
                c["reindex"] = {"skipped": "no codewalk index"}
            if corpus == "std" and not args.no_references:
                refs = c["references"] = {}
                g = refs["gopls"] = gopls_ref(done["gopls implementation io.Reader (cold)"], root)
                refs["callgraph"] = callgraph_ref(root, 600)
                if have_index:
                    ci = c["codewalk_index"]
                    r = measure(cw.q(idx, "implementations", "io.Reader"), timeout=120)
                    if ok(r):
                        # Per round: that round's cold index plus the query, over that round's gopls.
                        pairs = [(w + r["wall"]) / gw for w, gw in zip(ci["walls"], g.get("walls", []))]
                        refs["codewalk_vs_gopls"] = {
                            "ok": True, "wall": ci["median_s"] + r["wall"],
                            "peak_rss_mb": max(ci["peak_rss_mb"], r["maxrss_kb"] / 1024),
                            "round_ratios": pairs, "round_ratio_median": median(pairs) if pairs else None,
                            "note": "median cold index + one implementations io.Reader query"}
                    else:
                        refs["codewalk_vs_gopls"] = {"ok": False, "error": failure(r)}
                else:
                    refs["codewalk_vs_gopls"] = {"ok": False, "error": c["codewalk_index"].get("error")}
        except Exception as e:  # noqa: BLE001
            c["error"] = f"{e.__class__.__name__}: {e}"
            log(f"corpus {corpus} aborted: {c['error']}\n{traceback.format_exc()}")
        finally:
            # Save partial results after each corpus.
            json.dump(results, open(os.path.join(OUT, "results.json"), "w"), indent=1, default=str)

    results["machine"]["loadavg_end"] = open("/proc/loadavg").read().split()[:3]
    results["total_secs"] = time.time() - T0
    json.dump(results, open(os.path.join(OUT, "results.json"), "w"), indent=1, default=str)
    md = render(results)
    rep = os.path.join(OUT, f"report-{dt.date.today().isoformat()}.md")
    with open(rep, "w") as f:
        f.write(md)
    if not args.no_doc:
        os.makedirs(os.path.join(REPO, "docs"), exist_ok=True)
        shutil.copyfile(rep, os.path.join(REPO, "docs", "performance.md"))
    log(f"done in {results['total_secs'] / 60:.1f} min: {rep}" + ("" if args.no_doc else " (+ docs/performance.md)"))


if __name__ == "__main__":
    main()
