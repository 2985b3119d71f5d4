//! `search` and `grep`: ranking order, filters and bad input on fixtures/search; `grep`
//! against ripgrep on fixtures, GOSTD and (when indexed) GOPATH_TREE.

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Symbol names (module prefix removed) and match tiers of a search.
fn ranked(index: &Path, args: &[&str]) -> Vec<(String, String)> {
    let mut a = vec!["search"];
    a.extend_from_slice(args);
    a.push("--symbols");
    let v = query_json(index, &a);
    v["symbols"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap().replace("example.com/shop/", ""),
                s["match"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn names(index: &Path, args: &[&str]) -> Vec<String> {
    ranked(index, args).into_iter().map(|x| x.0).collect()
}

fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[test]
fn ranking_order() {
    let (_t, _root, ix) = index_fixture("search");
    // exact (exported, then unexported, then vendored) > prefix > name words > doc.
    assert_eq!(
        ranked(&ix, &["resync"]),
        pairs(&[
            ("cache.Resync", "exact"),
            ("cache.resync", "exact"),
            ("github.com/other/lib.Resync", "exact"),
            ("cache.ResyncPeriod", "prefix"),
            ("informer.DefaultResync", "name"),
            ("cache.TestResync", "name"),
            ("cache.Controller", "doc"),
            ("informer.SharedIndexInformer", "doc"),
        ])
    );
    // Case-exact first when the query has capitals; then prefix-free word matches.
    assert_eq!(
        ranked(&ix, &["SharedIndexInformer"])[..3],
        pairs(&[
            ("informer.SharedIndexInformer", "exact_case"),
            ("informer.sharedIndexInformer", "exact"),
            ("informer.NewSharedIndexInformer", "name"),
        ])[..]
    );
    // One word of a camel-case name finds it.
    assert_eq!(
        names(&ix, &["informer"])[..5],
        [
            "informer.Informer",
            "informer.informerName",
            "informer.NewSharedIndexInformer",
            "informer.SharedIndexInformer",
            "informer.sharedIndexInformer",
        ]
    );
    assert_eq!(
        names(&ix, &["shared", "informer"])[..3],
        [
            "informer.NewSharedIndexInformer",
            "informer.SharedIndexInformer",
            "informer.sharedIndexInformer",
        ]
    );
    // Acronyms and snake_case.
    assert_eq!(
        ranked(&ix, &["http", "server"])[0],
        ("server.HTTPServer".to_string(), "exact".to_string())
    );
    assert_eq!(
        ranked(&ix, &["retry", "count"]),
        pairs(&[("server.max_retry_count", "name")])
    );
    assert_eq!(
        ranked(&ix, &["max_retry"]),
        pairs(&[("server.max_retry_count", "prefix")])
    );
    // A qualified query: the package must match.
    assert_eq!(
        ranked(&ix, &["cache.Resync"])[..2],
        pairs(&[("cache.Resync", "exact_case"), ("cache.resync", "exact")])[..]
    );
    assert_eq!(
        ranked(&ix, &["(*sharedIndexInformer).Run"])[0],
        (
            "(*informer.sharedIndexInformer).Run".to_string(),
            "exact_case".to_string()
        )
    );
    // Doc comments are stemmed: "resyncs" in a doc matches "resync".
    assert!(names(&ix, &["listeners"]).contains(&"informer.SharedIndexInformer".to_string()));
}

#[test]
fn filters() {
    let (_t, _root, ix) = index_fixture("search");
    assert_eq!(
        names(&ix, &["kind:interface"]),
        ["informer.Informer", "informer.SharedIndexInformer"]
    );
    assert_eq!(
        names(&ix, &["informer", "kind:method"]),
        [
            "(*informer.sharedIndexInformer).AddIndexers",
            "(*informer.sharedIndexInformer).Run"
        ]
    );
    assert_eq!(names(&ix, &["server", "kind:type"]), ["server.HTTPServer"]);
    let cache = [
        "cache.Resync",
        "cache.resync",
        "cache.ResyncPeriod",
        "cache.TestResync",
        "cache.Controller",
    ];
    assert_eq!(names(&ix, &["resync", "pkg:example.com/shop/cache"]), cache);
    assert_eq!(names(&ix, &["resync", "pkg:example.com/.../cache"]), cache);
    assert_eq!(
        names(&ix, &["resync", "pkg:example.com/shop/..."])[..2],
        cache[..2]
    );
    assert!(names(&ix, &["resync", "pkg:example.com/sho"]).is_empty());
    assert_eq!(
        names(&ix, &["resync", "file:*_test.go"]),
        ["cache.TestResync"]
    );
    assert_eq!(
        names(&ix, &["resync", "file:informer"]),
        ["informer.DefaultResync", "informer.SharedIndexInformer"]
    );
    assert_eq!(
        names(&ix, &["resync", "file:cache/resync.go", "kind:func"]),
        ["cache.Resync", "cache.resync", "cache.ResyncPeriod"]
    );
    assert_eq!(
        names(&ix, &["--no-tests", "--no-vendor", "resync"]),
        [
            "cache.Resync",
            "cache.resync",
            "cache.ResyncPeriod",
            "informer.DefaultResync",
            "cache.Controller",
            "informer.SharedIndexInformer",
        ]
    );
    assert_eq!(
        names(&ix, &["resync", "--limit", "2"]),
        ["cache.Resync", "cache.resync"]
    );
}

#[test]
fn code_lines() {
    let (_t, _root, ix) = index_fixture("search");
    let v = query_json(&ix, &["search", "resyncCh", "--code"]);
    assert!(v["symbols"].as_array().unwrap().is_empty());
    let code: Vec<String> = v["code"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            format!(
                "{}:{}:{} [{}]",
                c["file"].as_str().unwrap(),
                c["line"],
                c["text"].as_str().unwrap(),
                c["symbol"].as_str().unwrap_or("")
            )
        })
        .collect();
    // `resyncCh` is the words resync + ch: lines with both.
    assert_eq!(
        code,
        [
            "informer/informer.go:29:\tresyncCh := make(chan int) [(*example.com/shop/informer.sharedIndexInformer).Run]",
            "informer/informer.go:32:\tclose(resyncCh) [(*example.com/shop/informer.sharedIndexInformer).Run]",
        ]
    );
    // A string in a generated table is found by its words; tests and vendor go last.
    let out = query(&ix, &["search", "content", "type", "--code"]);
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [
            "internal/gen/table.go:6:\t\"Content-Type\",",
            "server/http.go:12:\tw.Header().Set(\"Content-Type\", \"text/plain\")",
        ]
    );
    let out = query(
        &ix,
        &["--no-vendor", "--no-tests", "search", "resync", "--code"],
    );
    assert!(
        !out.contains("vendor/") && !out.contains("_test.go"),
        "{out}"
    );
    let out = query(&ix, &["search", "resync", "--code", "--limit", "3"]);
    assert_eq!(out.lines().count(), 3);
}

#[test]
fn text_output() {
    let (_t, _root, ix) = index_fixture("search");
    let out = query(&ix, &["search", "ProcessNextItem"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[..3],
        [
            "cache/resync.go:22  method  (*example.com/shop/cache.Controller).ProcessNextItem",
            "    func (c *Controller) ProcessNextItem() bool",
            "    // ProcessNextItem pops one key from the queue.",
        ]
    );
    assert!(lines.contains(&"code:"), "{out}");
}

fn run_ix(ix: &Path, args: &[&str]) -> std::process::Output {
    let mut full = vec!["--index-dir", ix.to_str().unwrap()];
    full.extend_from_slice(args);
    run_in(Path::new("/"), &full)
}

#[test]
fn bad_input() {
    let (_t, _root, ix) = index_fixture("search");
    let out = run_ix(&ix, &["search"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("empty query") && err.contains("Usage: codewalk search"),
        "{err}"
    );

    let out = run_ix(&ix, &["search", "resync", "kind:funk"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unknown kind 'funk'"), "{err}");
    assert!(err.contains("  resync kind:funk\n              ^"), "{err}");

    let out = run_ix(&ix, &["search", "\"shared", "informer"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unterminated quote"));

    let out = run_ix(&ix, &["grep", "func (x"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    // The caret points into the pattern as the user wrote it.
    assert!(
        err.contains("    func (x\n         ^\nerror: unclosed group"),
        "{err}"
    );

    // An index without a search index (older codewalk): say how to fix it.
    let cur = std::fs::read_to_string(ix.join("CURRENT")).unwrap();
    std::fs::remove_dir_all(ix.join(cur.trim()).join("search")).unwrap();
    for args in [&["search", "resync"][..], &["grep", "resync"][..]] {
        let out = run_ix(&ix, args);
        assert_eq!(out.status.code(), Some(1));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("re-run `codewalk index"), "{err}");
    }
}

#[test]
fn stale_file_is_reported() {
    let (_t, root, ix) = index_fixture("search");
    std::fs::write(
        root.join("cache/resync.go"),
        "package cache\n\nfunc Resync() {} // changed\n",
    )
    .unwrap();
    // Found although its trigrams were indexed before the change (size and mtime differ).
    let out = run_ix(&ix, &["grep", "-F", "changed"]);
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!(
            "{}/cache/resync.go:3:func Resync() {{}} // changed\n",
            root.display()
        )
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("changed since it was indexed"));
}

// ---- grep against ripgrep ----

fn have_rg() -> bool {
    Command::new("rg").arg("--version").output().is_ok()
}

/// ripgrep on the same files: `rg -n -t go`, with codewalk's ignore rules (.gitignore honoured
/// outside git repositories, no .ignore files, no global excludes), run in `root`.
fn rg_lines(root: &Path, extra: &[&str], pattern: &str) -> Vec<String> {
    let out = Command::new("rg")
        .args([
            "-n",
            "-t",
            "go",
            "--no-require-git",
            "--no-ignore-dot",
            "--no-ignore-global",
        ])
        .args(extra)
        .arg("-e")
        .arg(pattern)
        .current_dir(root)
        .output()
        .expect("run rg");
    assert!(
        out.status.code() != Some(2),
        "rg failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut v: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    v.sort();
    v
}

fn cw_lines(root: &Path, ix: &Path, extra: &[&str], pattern: &str) -> Vec<String> {
    let mut args = vec!["--index-dir", ix.to_str().unwrap(), "grep"];
    args.extend_from_slice(extra);
    args.push(pattern);
    let out = run_in(root, &args);
    assert!(
        out.status.code() != Some(2),
        "codewalk grep failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut v: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    v.sort();
    v
}

fn compare(root: &Path, ix: &Path, literals: &[&str], regexes: &[&str]) {
    let mut failures = Vec::new();
    let mut total = 0;
    for (pat, fixed) in literals
        .iter()
        .map(|p| (*p, true))
        .chain(regexes.iter().map(|p| (*p, false)))
    {
        let extra: &[&str] = if fixed { &["-F"] } else { &[] };
        let want = rg_lines(root, extra, pat);
        let got = cw_lines(root, ix, extra, pat);
        total += want.len();
        if want != got {
            let missing: Vec<_> = want.iter().filter(|l| !got.contains(l)).take(3).collect();
            let extra: Vec<_> = got.iter().filter(|l| !want.contains(l)).take(3).collect();
            failures.push(format!(
                "{pat:?}: rg {} lines, codewalk {}; missing {missing:?}; extra {extra:?}",
                want.len(),
                got.len()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "grep differs from rg:\n{}",
        failures.join("\n")
    );
    assert!(total > 0);
}

#[test]
fn grep_equals_rg_on_fixture() {
    if !have_rg() {
        eprintln!("note: rg not installed; skipped");
        return;
    }
    let (_t, root, ix) = index_fixture("search");
    compare(
        &root,
        &ix,
        &[
            "resync",
            "Resync",
            "Content-Type",
            "\"",
            "(",
            "return",
            "TODO(shop)",
            "zzzz",
        ],
        &[
            r"func \(.*\) Run\(",
            r"^func \w+\(",
            r"(?i)RESYNC",
            "(Resync|Informer)\\(",
            "a",
            "",
        ],
    );
}

const STD_LITERALS: &[&str] = &[
    "func (srv *Server) Serve",
    "ErrUnexpectedEOF",
    "TODO(",
    "net/http: ",
    "http2ErrCodeProtocol",
    "Content-Type",
    "panic(\"unreachable\")",
    "sync.Once",
    "os.Getenv(",
    "0xdeadbeef",
    ":= range",
    "if err != nil {",
    "t.Fatalf(",
    "utf8.RuneError",
    "unsafe.Pointer(",
    "go:linkname",
    "runtime.GC()",
    "bytes.Buffer",
    "strings.Builder",
    "reflect.ValueOf(",
    "atomic.LoadUint32",
    "syscall.EINVAL",
    "errors.New(\"",
    "//go:build",
    "ab",
    "é",
    "\t\t\treturn nil",
    "interface{}",
    "func init() {",
    "x509.",
];

#[test]
fn grep_equals_rg_on_gostd() {
    if !have_rg() {
        eprintln!("note: rg not installed; skipped");
        return;
    }
    let Some(ix) = std_index() else { return };
    compare(
        Path::new(GOSTD),
        &ix,
        STD_LITERALS,
        &[
            r"func \(.*\) Run\(ctx",
            r"^package \w+_test$",
            r"(?i)deadbeef",
            r"[Ee]rr[A-Z]\w+ = errors\.New",
        ],
    );
}

const GOPATH_TREE: &str = "/usr/share/gocode/src";

const GOPATH_LITERALS: &[&str] = &[
    "ContainerStart",
    "errdefs.InvalidParameter",
    "TODO(",
    "context.Background()",
    "grpc.Dial(",
    "github.com/containerd/containerd/snapshots",
    "raftpb.MsgApp",
    "Content-Type",
    "os.Getenv(",
    "0xdeadbeef",
    "func (s *Server)",
    ":= range",
    "if err != nil {",
    "proto.Marshal",
    "sync.RWMutex",
    "t.Fatalf(",
    "\"fmt\"",
    "fmt.Errorf(\"%w",
    "defer cancel()",
    "json:\"name,omitempty\"",
    "interface{}",
    "NewClient",
    "x509.Certificate",
    "time.Sleep(",
    "ctx.Done()",
    "http.StatusOK",
    "atomic.AddInt64",
    "Deprecated:",
    "//go:build",
    "errors.Is(",
];

/// GOPATH_TREE: an index is too slow to build inside a test run; this runs when
/// CODEWALK_GOPATH_INDEX names one (`codewalk index /usr/share/gocode/src --index-dir DIR`).
#[test]
fn grep_equals_rg_on_gopath_tree() {
    let Some(ix) = std::env::var_os("CODEWALK_GOPATH_INDEX") else {
        eprintln!("note: CODEWALK_GOPATH_INDEX not set; skipped");
        return;
    };
    if !have_rg() || !Path::new(GOPATH_TREE).is_dir() {
        eprintln!("note: rg or {GOPATH_TREE} missing; skipped");
        return;
    }
    compare(Path::new(GOPATH_TREE), Path::new(&ix), GOPATH_LITERALS, &[]);
}

// ---- shards ----

/// Indexes `root` into `ix` with `env`; returns stderr.
fn index_into(root: &Path, ix: &Path, env: &[(&str, &str)]) -> String {
    let out = Command::new(bin())
        .args([
            "index",
            ".",
            "--no-std",
            "--index-dir",
            ix.to_str().unwrap(),
        ])
        .current_dir(root)
        .envs(env.iter().copied())
        .env_remove("CODEWALK_INDEX_DIR")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "index failed: {err}");
    err
}

/// Every answer of a set of symbol and code searches and greps, as text.
fn answers(ix: &Path) -> Vec<String> {
    let mut v = Vec::new();
    for q in [
        "Resync",
        "resync",
        "Informer",
        "kind:func",
        "cache",
        "handler",
        "run",
        "table",
        "new",
        "kind:type",
        "serve http",
        "pkg:example.com/shop/cache",
    ] {
        v.push(query(ix, &["search", "--json", "--limit", "100", q]));
    }
    for q in ["func", "Resync", "return", "(?i)informer", "package"] {
        v.push(query(ix, &["grep", q]));
    }
    v
}

fn append(f: &Path, more: &str) {
    let mut text = std::fs::read_to_string(f).unwrap();
    text.push_str(more);
    std::fs::write(f, text).unwrap();
}

/// The index summary says `k of n` search shards were taken over.
fn assert_unchanged(stderr: &str, k: u64, n: u64) {
    assert!(
        stderr.contains(&format!("{k} of {n} search index shards unchanged")),
        "{stderr}"
    );
}

fn shards(ix: &Path) -> u64 {
    let gen = std::fs::read_to_string(ix.join("CURRENT")).unwrap();
    let meta = std::fs::read(ix.join(gen.trim()).join("search/codewalk.json")).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&meta).unwrap();
    v["shards"].as_u64().unwrap()
}

#[test]
fn answers_do_not_depend_on_shards_and_reindex_rebuilds_only_changed_ones() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("search");
    copy_dir(&fixtures().join("search"), &root);
    let (many, one, fresh) = (
        tmp.path().join("many"),
        tmp.path().join("one"),
        tmp.path().join("fresh"),
    );
    // One shard per package, and one for everything.
    let cut = [("CODEWALK_SEARCH_SHARD_WEIGHT", "1")];
    index_into(&root, &many, &cut);
    index_into(&root, &one, &[]);
    let n = shards(&many);
    assert!(n >= 5, "{n} shards");
    assert_eq!(shards(&one), 1);
    let a = answers(&many);
    assert!(a.iter().all(|x| !x.trim().is_empty()));
    assert_eq!(a, answers(&one));

    // An edit rebuilds the edited package's shard only, and answers as a fresh index does.
    append(
        &root.join("cache/resync.go"),
        "\n// ResyncEdited is new.\nfunc ResyncEdited() {}\n",
    );
    let err = index_into(&root, &many, &cut);
    assert_unchanged(&err, n - 1, n);
    index_into(&root, &fresh, &[]);
    let b = answers(&many);
    assert_ne!(a, b);
    assert_eq!(b, answers(&fresh));
    assert!(query(&many, &["search", "ResyncEdited"]).contains("ResyncEdited"));
    assert!(query(&many, &["grep", "ResyncEdited"]).contains("cache/resync.go:"));
}

/// fixtures/search copied into a temporary directory and indexed into `ix` with one shard
/// per package; (directory, root, ix, a path for a fresh index).
fn sharded_search_fixture() -> (tempfile::TempDir, PathBuf, PathBuf, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("search");
    copy_dir(&fixtures().join("search"), &root);
    let (ix, fresh) = (tmp.path().join("ix"), tmp.path().join("fresh"));
    index_into(&root, &ix, &[("CODEWALK_SEARCH_SHARD_WEIGHT", "1")]);
    (tmp, root, ix, fresh)
}

#[test]
fn a_damaged_shard_of_the_previous_index_is_built_again() {
    let (_tmp, root, ix, fresh) = sharded_search_fixture();
    let cut = [("CODEWALK_SEARCH_SHARD_WEIGHT", "1")];
    let n = shards(&ix);
    // Remove one segment file of the first shard that has segments.
    let gen = ix.join(std::fs::read_to_string(ix.join("CURRENT")).unwrap().trim());
    let plan: serde_json::Value =
        serde_json::from_slice(&std::fs::read(gen.join("search/shards.json")).unwrap()).unwrap();
    let seg = plan["shards"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|s| s["segments"].as_array().unwrap().first().cloned())
        .unwrap();
    std::fs::remove_file(gen.join(format!("search/{}.term", seg.as_str().unwrap()))).unwrap();
    // An edit elsewhere: the damaged shard cannot be linked, so it is built again.
    append(&root.join("server/http.go"), "\nfunc ServeEdited() {}\n");
    let err = index_into(&root, &ix, &cut);
    assert_unchanged(&err, n - 2, n);
    index_into(&root, &fresh, &[]);
    assert_eq!(answers(&ix), answers(&fresh));
}

/// `answers`, with the code hits of each search sorted by place: a patched shard's
/// deleted documents still count in tantivy's term statistics, so code chunk scores (and
/// the order of hits that differ only in score) may drift from a fresh index's.
fn answers_by_place(ix: &Path) -> Vec<String> {
    answers(ix)
        .into_iter()
        .map(|a| match serde_json::from_str::<serde_json::Value>(&a) {
            Ok(mut v) => {
                if let Some(code) = v.get_mut("code").and_then(|c| c.as_array_mut()) {
                    code.sort_by_key(|h| (h["file"].to_string(), h["line"].as_u64()));
                }
                v.to_string()
            }
            Err(_) => a,
        })
        .collect()
}

#[test]
fn an_edit_that_keeps_the_symbols_patches_its_shard() {
    let (_tmp, root, ix, fresh) = sharded_search_fixture();
    let cut = [("CODEWALK_SEARCH_SHARD_WEIGHT", "1")];
    let n = shards(&ix);
    let before = answers_by_place(&ix);

    // A body edit: one more line (every later symbol moves down), words gone and new.
    let f = root.join("cache/resync.go");
    let text = std::fs::read_to_string(&f).unwrap();
    let edited = text.replace(
        "\t// TODO(shop): count every resync\n",
        "\ttallied := 0\n\t_ = tallied // every resync is tallied\n",
    );
    assert_ne!(text, edited);
    std::fs::write(&f, edited).unwrap();
    let err = index_into(&root, &ix, &cut);
    assert!(
        err.contains(&format!(
            "{} of {n} search index shards unchanged, 1 patched",
            n - 1
        )),
        "{err}"
    );
    index_into(&root, &fresh, &[]);
    let after = answers_by_place(&ix);
    assert_ne!(before, after);
    assert_eq!(after, answers_by_place(&fresh));
    // The old text's words are gone, the new ones found, and moved symbols are at their
    // new lines.
    assert!(!query(&ix, &["search", "--code", "shop count"]).contains("resync.go"));
    assert!(query(&ix, &["search", "--code", "tallied"]).contains("cache/resync.go:10"));
    assert!(query(&ix, &["grep", "tallied"]).contains("cache/resync.go:10:"));
    assert!(query(&ix, &["search", "ResyncPeriod"]).contains("cache/resync.go:15"));

    // The shard's deleted documents are now over a tenth of it: the next edit builds it
    // whole, and the answers are exactly a fresh index's again. A new symbol changes the
    // shard's layout: built whole too.
    for more in ["\n// Appended words: quokka.\n", "\nfunc Quokka() {}\n"] {
        append(&f, more);
        let err = index_into(&root, &ix, &cut);
        assert_unchanged(&err, n - 1, n);
        assert!(!err.contains("patched"), "{err}");
        index_into(&root, &fresh, &[]);
        assert_eq!(answers(&ix), answers(&fresh));
        assert!(query(&ix, &["grep", "quokka"]).contains("cache/resync.go:"));
    }
}
