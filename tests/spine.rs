//! Issue 2 (the spine): the real binary on fixtures covering every package layout, odd files,
//! interrupted indexing, index discovery and bad input; and `def` / `packages` / `stats` on
//! the Go standard library against ground truth computed from the files themselves.

mod common;

use common::*;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).to_string()
}

/// 1-based line of the first line of `file` containing `needle`.
fn line_of(file: &Path, needle: &str) -> usize {
    let text = fs::read(file).unwrap();
    let text = String::from_utf8_lossy(&text);
    text.lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle:?} not in {}", file.display()))
        + 1
}

/// `file:line` that `def NAME` prints (first word of the first line).
fn def_loc(index: &Path, name: &str) -> String {
    let v = query_json(index, &["def", name]);
    format!("{}:{}", v["file"].as_str().unwrap(), v["line"])
}

/// The one-line error (first line of stderr) of a run expected to fail with `code`.
fn fails(o: &Output, code: i32) -> String {
    assert_eq!(
        o.status.code(),
        Some(code),
        "expected exit {code}; stdout {} stderr {}",
        out(o),
        err(o)
    );
    let e = err(o);
    assert!(e.starts_with("codewalk: "), "error not prefixed: {e}");
    assert!(!e.contains("panicked"), "panic: {e}");
    e
}

fn index_at(root: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["index", ".", "--no-std", "--quiet"];
    args.extend_from_slice(extra);
    run_in(root, &args)
}

fn put(root: &Path, rel: &str, bytes: &[u8]) {
    let p = root.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, bytes).unwrap();
}

/// (path, dir) -> (files, test_files, vendor) from `packages --json`.
type PkgTable = BTreeMap<String, (String, u64, u64, bool)>;

fn packages(index: &Path) -> PkgTable {
    let v = query_json(index, &["packages"]);
    v["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["path"].as_str().unwrap().to_string(),
                (
                    p["dir"].as_str().unwrap().to_string(),
                    p["files"].as_u64().unwrap(),
                    p["test_files"].as_u64().unwrap(),
                    p["vendor"].as_bool().unwrap(),
                ),
            )
        })
        .collect()
}

fn table(rows: &[(&str, &str, u64, u64, bool)]) -> PkgTable {
    rows.iter()
        .map(|&(p, d, f, t, v)| (p.to_string(), (d.to_string(), f, t, v)))
        .collect()
}

// ---------------------------------------------------------------- layouts (fixtures/layouts/README.md)

#[test]
fn layout_gomod_nested() {
    let (_t, _root, ix) = index_fixture("layouts/gomod-nested");
    assert_eq!(
        packages(&ix),
        table(&[
            ("example.com/inner/v2", "inner", 1, 0, false),
            ("example.com/inner/v2/b", "inner/b", 1, 0, false),
            ("example.com/lib", "lib", 1, 0, false),
            ("example.com/outer", "", 1, 0, false),
            ("example.com/outer/a", "a", 2, 1, false),
            ("example.com/tools/gen", "tools/gen", 1, 0, false),
        ])
    );
}

#[test]
fn layout_std_like() {
    let (_t, _root, ix) = index_fixture("layouts/std-like");
    let x86 = "cmd/vendor/golang.org/x/arch/x86/x86asm";
    let proxy = "vendor/golang.org/x/net/http/httpproxy";
    assert_eq!(
        packages(&ix),
        table(&[
            ("cmd/go/internal/load", "cmd/go/internal/load", 1, 0, false),
            (x86, x86, 1, 0, true),
            ("net/http", "net/http", 1, 0, false),
            ("runtime", "runtime", 1, 0, false),
            (proxy, proxy, 1, 0, true),
        ])
    );
}

#[test]
fn layout_vendor() {
    let (_t, _root, ix) = index_fixture("layouts/vendor");
    assert_eq!(
        packages(&ix),
        table(&[
            ("example.com/app/cmd/app", "cmd/app", 1, 0, false),
            (
                "example.com/app/internal/store",
                "internal/store",
                1,
                0,
                false
            ),
            (
                "github.com/pkg/errors",
                "vendor/github.com/pkg/errors",
                1,
                0,
                true
            ),
            (
                "golang.org/x/sync/errgroup",
                "vendor/golang.org/x/sync/errgroup",
                1,
                0,
                true
            ),
        ])
    );
    // --no-vendor hides the vendored packages.
    let v = query_json(&ix, &["packages", "--no-vendor"]);
    assert_eq!(v["packages"].as_array().unwrap().len(), 2);
}

#[test]
fn layout_kube_staging_symlink() {
    let (_t, _root, ix) = index_fixture("layouts/kube-staging-symlink");
    assert_eq!(
        packages(&ix),
        table(&[
            (
                "github.com/google/uuid",
                "vendor/github.com/google/uuid",
                1,
                0,
                true
            ),
            (
                "k8s.io/api/core/v1",
                "staging/src/k8s.io/api/core/v1",
                1,
                0,
                false
            ),
            (
                "k8s.io/client-go/kubernetes",
                "staging/src/k8s.io/client-go/kubernetes",
                1,
                0,
                false
            ),
            (
                "k8s.io/client-go/tools/cache",
                "staging/src/k8s.io/client-go/tools/cache",
                1,
                0,
                false
            ),
            (
                "k8s.io/kubernetes/pkg/controller",
                "pkg/controller",
                1,
                0,
                false
            ),
        ])
    );
    // Indexed once: 5 files, not 5 + the symlinked copies.
    let s = query_json(&ix, &["stats"]);
    assert_eq!(s["files"], 5);
    let v = query_json(&ix, &["packages", "k8s.io/client-go/..."]);
    assert_eq!(v["packages"].as_array().unwrap().len(), 2);
}

#[test]
fn layout_gitignore() {
    let (_t, root, ix) = index_fixture("layouts/gitignore");
    assert!(
        root.join(".gitignore").is_file(),
        "fixture copy lost .gitignore"
    );
    let name = root.file_name().unwrap().to_str().unwrap().to_string();
    assert_eq!(
        packages(&ix),
        table(&[
            // Files the go tool ignores (testdata/, _dir/) count as test files, so
            // `--no-tests` leaves them out (pipeline.rs).
            ("_examples", "_examples", 1, 1, false),
            ("api", "api", 1, 0, false),
            (&name, "", 1, 0, false),
            ("testdata", "testdata", 1, 1, false),
        ])
    );
    assert_eq!(query_json(&ix, &["stats"])["files"], 4);
}

#[test]
fn layout_gopath() {
    // The GOPATH layout needs its `src/` component: copy the whole GOPATH.
    let t = tempfile::tempdir().unwrap();
    let gp = t.path().join("gopath");
    copy_dir(&fixtures().join("layouts/gopath"), &gp);
    let src = gp.join("src");
    let o = index_at(&src, &[]);
    assert!(o.status.success(), "{}", err(&o));
    let errs = "github.com/acme/tool/vendor/github.com/pkg/errors";
    assert_eq!(
        packages(&src.join(".codewalk")),
        table(&[
            ("github.com/acme/tool", "github.com/acme/tool", 1, 0, false),
            (
                "github.com/acme/tool/client",
                "github.com/acme/tool/client",
                1,
                0,
                false
            ),
            (errs, errs, 1, 0, true),
            (
                "golang.org/x/text/unicode/norm",
                "golang.org/x/text/unicode/norm",
                1,
                0,
                false
            ),
        ])
    );
    // A root inside a GOPATH gets its import paths from the enclosing src/.
    let tool = src.join("github.com/acme/tool");
    let o = index_at(&tool, &[]);
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(
        packages(&tool.join(".codewalk")),
        table(&[
            ("github.com/acme/tool", "", 1, 0, false),
            ("github.com/acme/tool/client", "client", 1, 0, false),
            (errs, "vendor/github.com/pkg/errors", 1, 0, true),
        ])
    );
}

// ---------------------------------------------------------------- def on the spine fixture

#[test]
fn def_finds_symbols_at_file_line() {
    let (_t, root, ix) = index_fixture("spine/basic");
    let cases = [
        ("shapes.Shape", "shapes/shapes.go", "type Shape interface"),
        (
            "example.com/spine/shapes.Circle",
            "shapes/shapes.go",
            "type Circle struct",
        ),
        (
            "(*example.com/spine/shapes.Circle).Area",
            "shapes/shapes.go",
            "func (c *Circle) Area",
        ),
        ("Circle.Area", "shapes/shapes.go", "func (c *Circle) Area"),
        ("NewCircle", "shapes/shapes.go", "func NewCircle"),
        ("shapes.Pi", "shapes/shapes.go", "const Pi"),
        ("shapes.Default", "shapes/shapes.go", "var Default"),
        ("util.Helper", "util/util.go", "func Helper"),
        ("util.Generic", "util/util.go", "type Generic[T any]"),
        ("util.Alias", "util/util.go", "type Alias ="),
        ("util.Open", "util/util.go", "func Open"),
        ("TestArea", "shapes/shapes_test.go", "func TestArea"),
        // case-insensitive fallback
        ("newcircle", "shapes/shapes.go", "func NewCircle"),
    ];
    for (name, file, needle) in cases {
        let want = format!("{file}:{}", line_of(&root.join(file), needle));
        assert_eq!(def_loc(&ix, name), want, "def {name}");
    }
    // Text output: file:line first.
    let text = query(&ix, &["def", "NewCircle"]);
    assert!(text.starts_with("shapes/shapes.go:"), "{text}");
    // show prints the declaration's source.
    let src = query(&ix, &["show", "NewCircle"]);
    assert!(src.contains("return &Circle{R: r}"), "{src}");
    // --no-tests hides test symbols.
    let o = run_in(&root, &["def", "TestArea", "--no-tests"]);
    fails(&o, 1);
}

#[test]
fn syntax_errors_are_indexed_and_counted() {
    let (_t, root, ix) = index_fixture("spine/basic");
    let f = root.join("broken/broken.go");
    for (name, needle) in [
        ("BeforeError", "func BeforeError"),
        ("AfterError", "type AfterError"),
        ("AlsoAfter", "func AlsoAfter"),
    ] {
        assert_eq!(
            def_loc(&ix, name),
            format!("broken/broken.go:{}", line_of(&f, needle)),
            "def {name}"
        );
    }
    let s = query_json(&ix, &["stats"]);
    assert_eq!(s["syntax_error_files"], 1, "{s}");
    assert_eq!(s["files"], 5, "{s}");
    assert_eq!(packages(&ix)["example.com/spine/broken"].1, 1);
}

#[test]
fn odd_encodings_crlf_bom_non_utf8() {
    let t = tempfile::tempdir().unwrap();
    let r = t.path();
    put(r, "go.mod", b"module example.com/odd\n");
    put(
        r,
        "p/crlf.go",
        b"package p\r\n\r\n// Crlf doc.\r\nfunc Crlf() int {\r\n\treturn 2\r\n}\r\n\r\ntype CrT struct{ A int }\r\n",
    );
    put(
        r,
        "p/bom.go",
        b"\xef\xbb\xbfpackage p\n\n// Bom is after a BOM.\nfunc Bom() int { return 1 }\n",
    );
    put(
        r,
        "p/latin1.go",
        b"package p\n\n// caf\xe9 in Latin-1 \xff\xfe\nvar S = \"\xe9\xe8\"\n\n// Latin doc \xe9.\nfunc Latin() {}\n",
    );
    let o = index_at(r, &[]);
    assert!(o.status.success(), "{}", err(&o));
    let ix = r.join(".codewalk");
    assert_eq!(def_loc(&ix, "Crlf"), "p/crlf.go:4");
    assert_eq!(def_loc(&ix, "CrT"), "p/crlf.go:8");
    assert_eq!(def_loc(&ix, "Bom"), "p/bom.go:4");
    assert_eq!(def_loc(&ix, "Latin"), "p/latin1.go:7");
    assert_eq!(def_loc(&ix, "S"), "p/latin1.go:4");
    // The BOM does not cost the package clause.
    let p = packages(&ix);
    assert_eq!(p["example.com/odd/p"].1, 3, "{p:?}");
    let d = query_json(&ix, &["def", "Crlf"]);
    assert!(d["doc"].as_str().unwrap().starts_with("Crlf doc."), "{d}");
    assert!(!d["signature"].as_str().unwrap().contains('\r'), "{d}");
    let s = query_json(&ix, &["stats"]);
    assert_eq!(s["syntax_error_files"], 0, "{s}");
    let src = query(&ix, &["show", "Crlf"]);
    assert!(src.contains("return 2"), "{src}");
}

/// Known bug in `facts` (doc comments of CRLF files keep the `\r`): un-ignore when fixed.
#[test]
fn crlf_doc_comment_has_no_cr() {
    let t = tempfile::tempdir().unwrap();
    let r = t.path();
    put(
        r,
        "p/crlf.go",
        b"package p\r\n\r\n// Crlf doc.\r\n// Second line.\r\nfunc Crlf() {}\r\n",
    );
    assert!(index_at(r, &[]).status.success());
    let d = query_json(&r.join(".codewalk"), &["def", "Crlf"]);
    assert_eq!(d["doc"], "Crlf doc.\nSecond line.", "{d}");
}

/// Known bug in `facts`: a doc comment with a non-UTF-8 byte is dropped entirely (it should
/// be kept, lossily decoded). Un-ignore when fixed.
#[test]
fn non_utf8_doc_comment_is_kept() {
    let t = tempfile::tempdir().unwrap();
    let r = t.path();
    put(
        r,
        "p/a.go",
        b"package p\n\n// Latin doc \xe9.\nfunc Latin() {}\n",
    );
    assert!(index_at(r, &[]).status.success());
    let d = query_json(&r.join(".codewalk"), &["def", "Latin"]);
    assert!(
        d["doc"].as_str().unwrap_or("").starts_with("Latin doc"),
        "{d}"
    );
}

#[test]
fn symlink_loop_terminates() {
    let t = tempfile::tempdir().unwrap();
    let r = t.path().join("root");
    put(&r, "a/x.go", b"package a\n\nfunc X() {}\n");
    put(&r, "a/b/y.go", b"package b\n\nfunc Y() {}\n");
    std::os::unix::fs::symlink("..", r.join("a/b/up")).unwrap();
    std::os::unix::fs::symlink(".", r.join("a/self")).unwrap();
    std::os::unix::fs::symlink(&r, r.join("a/root")).unwrap();
    let o = run_in(&r, &["index", ".", "--no-std"]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(err(&o).contains("symlink loop"), "{}", err(&o));
    let s = query_json(&r.join(".codewalk"), &["stats"]);
    assert_eq!(s["files"], 2);
}

#[test]
fn unreadable_file_is_counted_not_fatal() {
    let t = tempfile::tempdir().unwrap();
    let r = t.path();
    put(r, "p/ok.go", b"package p\n\nfunc Ok() {}\n");
    put(r, "p/secret.go", b"package p\n\nfunc Secret() {}\n");
    fs::set_permissions(r.join("p/secret.go"), fs::Permissions::from_mode(0o000)).unwrap();
    let enforced = fs::read(r.join("p/secret.go")).is_err();
    let o = run_in(r, &["index", ".", "--no-std"]);
    fs::set_permissions(r.join("p/secret.go"), fs::Permissions::from_mode(0o644)).unwrap();
    assert!(o.status.success(), "{}", err(&o));
    let ix = r.join(".codewalk");
    assert_eq!(def_loc(&ix, "Ok"), "p/ok.go:3");
    if enforced {
        assert!(err(&o).contains("secret.go"), "no warning: {}", err(&o));
        let s = query_json(&ix, &["stats"]);
        assert!(s["files"] == 1 || s["unreadable_files"] == 1, "{s}");
        assert!(run_in(r, &["def", "Secret"]).status.code() == Some(1));
    } else {
        eprintln!("note: running as root, permission bits are not enforced; unreadable-file assertion skipped");
    }
}

// ---------------------------------------------------------------- interrupted index

/// A tree big enough that indexing takes a while: `pkgs` x `files` files of 5 funcs + types.
pub fn generate_tree(root: &Path, pkgs: usize, files: usize) {
    put(root, "go.mod", b"module example.com/big\n");
    for d in 0..pkgs {
        for f in 0..files {
            let mut s = format!("package pkg{d}\n\n");
            for k in 0..5 {
                s.push_str(&format!(
                    "// F{d}_{f}_{k} doc.\nfunc F{d}_{f}_{k}(x int) int {{ return x + {k} }}\n\n\
                     type T{d}_{f}_{k} struct{{ A int }}\n\n\
                     func (t *T{d}_{f}_{k}) M() int {{ return F{d}_{f}_{k}(t.A) }}\n\n"
                ));
            }
            put(root, &format!("pkg{d}/f{f}.go"), s.as_bytes());
        }
    }
}

/// The answers compared before and after an interruption.
fn snapshot(ix: &Path) -> Vec<String> {
    let mut v = vec![
        query(ix, &["def", "F3_4_2"]),
        query(ix, &["def", "--json", "(*example.com/big/pkg7.T7_1_1).M"]),
        query(ix, &["packages", "--json"]),
        query(ix, &["show", "F0_0_0"]),
    ];
    let mut s = query_json(ix, &["stats"]);
    s["age_seconds"] = Value::Null;
    v.push(s.to_string());
    v
}

#[test]
fn interrupted_index_keeps_previous_index() {
    let t = tempfile::tempdir().unwrap();
    let r = t.path().join("big");
    generate_tree(&r, 20, 100);
    let o = index_at(&r, &[]);
    assert!(o.status.success(), "{}", err(&o));
    let ix = r.join(".codewalk");
    let before = snapshot(&ix);
    // New content that a completed run would show: the snapshot must not change unless
    // the run completed.
    put(
        &r,
        "pkg0/zz_new.go",
        b"package pkg0\n\nfunc BrandNew() {}\n",
    );
    let mut mid_run = 0;
    for ms in [50u64, 200, 1000] {
        let mut child = Command::new(bin())
            .args(["index", ".", "--no-std", "--quiet"])
            .current_dir(&r)
            .env_remove("CODEWALK_INDEX_DIR")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(ms));
        let alive = child.try_wait().unwrap().is_none();
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        if alive {
            // Either the run had not committed (the old answers, all of them) or it had,
            // and was killed while removing the old generation (the new answers, complete).
            let published = run_in(&r, &["def", "BrandNew"]).status.success();
            if published {
                assert_ne!(snapshot(&ix), before, "a new index without the new answers");
            } else {
                mid_run += 1;
                assert_eq!(
                    snapshot(&ix),
                    before,
                    "answers changed after SIGKILL at {ms}ms"
                );
            }
        }
    }
    assert!(mid_run >= 2, "indexing finished too fast to be interrupted");
    // The lock died with the process: a new run works and sees the new file; leftovers of
    // the killed runs are cleaned up.
    let o = index_at(&r, &[]);
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(def_loc(&ix, "BrandNew"), "pkg0/zz_new.go:3");
    let gens: Vec<_> = fs::read_dir(&ix)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with("gen-"))
        .collect();
    assert_eq!(gens.len(), 1, "stale generations left: {gens:?}");
}

// ---------------------------------------------------------------- finding the index

#[test]
fn chdir_and_walking_up_find_the_index() {
    let (_t, root, _ix) = index_fixture("spine/basic");
    let deep = root.join("shapes");
    let o = run_in(&deep, &["def", "util.Helper"]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(out(&o).starts_with("util/util.go:"), "{}", out(&o));
    let o = run_in(
        Path::new("/"),
        &["-C", deep.to_str().unwrap(), "def", "util.Helper"],
    );
    assert!(o.status.success(), "{}", err(&o));
    let o = run_in(Path::new("/"), &["-C", "/nonexistent/dir", "def", "X"]);
    let e = fails(&o, 1);
    assert!(e.contains("not a directory"), "{e}");
    // -C also applies to `index`.
    let t = tempfile::tempdir().unwrap();
    put(t.path(), "q/q.go", b"package q\n\nfunc Q() {}\n");
    let o = run_in(
        Path::new("/"),
        &["-C", t.path().to_str().unwrap(), "index", "--no-std", "-q"],
    );
    assert!(o.status.success(), "{}", err(&o));
    assert!(t.path().join(".codewalk/CURRENT").is_file());
}

#[test]
fn index_dir_flag_and_env() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("src");
    copy_dir(&fixtures().join("spine/basic"), &root);
    let elsewhere = t.path().join("idx");
    let o = run_in(
        &root,
        &[
            "index",
            ".",
            "--no-std",
            "-q",
            "--index-dir",
            elsewhere.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", err(&o));
    assert!(!root.join(".codewalk").exists(), "--index-dir ignored");
    assert!(elsewhere.join("CURRENT").is_file());
    // Without the flag/env, a query in the root finds nothing.
    let e = fails(&run_in(&root, &["def", "Helper"]), 1);
    assert!(e.contains("codewalk index"), "{e}");
    // With the env var it does (and `index` honours it too).
    let with_env = |args: &[&str]| {
        Command::new(bin())
            .args(args)
            .current_dir(&root)
            .env("CODEWALK_INDEX_DIR", &elsewhere)
            .output()
            .unwrap()
    };
    let o = with_env(&["def", "Helper"]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(out(&o).starts_with("util/util.go:"));
    fs::remove_dir_all(&elsewhere).unwrap();
    let o = with_env(&["index", ".", "--no-std", "-q"]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(elsewhere.join("CURRENT").is_file());
    assert!(!root.join(".codewalk").exists());
    // A relative --index-dir is relative to the working directory.
    let o = run_in(&root, &["--index-dir", "../idx", "def", "Helper"]);
    assert!(o.status.success(), "{}", err(&o));
}

// ---------------------------------------------------------------- bad input

#[test]
fn bad_paths() {
    let t = tempfile::tempdir().unwrap();
    let e = fails(&run_in(t.path(), &["index", "nope"]), 1);
    assert!(e.contains("no such directory"), "{e}");
    assert_eq!(e.trim_end().lines().count(), 1, "{e}");
    put(t.path(), "f.go", b"package f\n");
    let e = fails(&run_in(t.path(), &["index", "f.go"]), 1);
    assert!(e.contains("not a directory"), "{e}");
    assert_eq!(e.trim_end().lines().count(), 1, "{e}");
}

#[test]
fn no_go_files_is_an_error_and_leaves_nothing() {
    let t = tempfile::tempdir().unwrap();
    put(t.path(), "README.md", b"# no go here\n");
    put(t.path(), "src/main.rs", b"fn main() {}\n");
    let e = fails(&run_in(t.path(), &["index", ".", "--no-std"]), 1);
    assert!(e.contains("no Go files found"), "{e}");
    assert!(
        !t.path().join(".codewalk").exists(),
        "a failed run left an index dir behind"
    );
}

#[test]
fn no_index_says_how_to_create_one() {
    let t = tempfile::tempdir().unwrap();
    let e = fails(&run_in(t.path(), &["def", "X"]), 1);
    assert!(
        e.contains("no index found") && e.contains("codewalk index"),
        "{e}"
    );
    let e = fails(&run_in(t.path(), &["--index-dir", "nowhere", "stats"]), 1);
    assert!(e.contains("codewalk index"), "{e}");
}

#[test]
fn unknown_and_ambiguous_names() {
    let (_t, root, _ix) = index_fixture("spine/basic");
    let e = fails(&run_in(&root, &["def", "NewCirlce"]), 1);
    assert!(e.contains("did you mean") && e.contains("NewCircle"), "{e}");
    assert_eq!(e.trim_end().lines().count(), 1, "{e}");
    let o = run_in(&root, &["def", "Open"]);
    let e = fails(&o, 2);
    assert!(e.contains("ambiguous"), "{e}");
    assert!(e.contains("example.com/spine/shapes.Open"), "{e}");
    assert!(e.contains("example.com/spine/util.Open"), "{e}");
    let o = run_in(&root, &["def", "Open", "--first"]);
    assert!(o.status.success(), "{}", err(&o));
}

/// Runs `stats` and `def` against a damaged copy of the index: a one-line error naming the
/// fix, exit 1, no panic.
fn assert_damaged(root: &Path, what: &str, must_contain: &str) {
    for args in [&["stats"][..], &["def", "Helper"], &["callers", "Helper"]] {
        let o = run_in(root, args);
        let e = fails(&o, 1);
        assert!(e.contains(must_contain), "{what}: {args:?}: {e}");
        assert!(
            e.contains("codewalk index"),
            "{what}: {args:?}: no fix given: {e}"
        );
        assert_eq!(e.trim_end().lines().count(), 1, "{what}: {e}");
    }
}

fn gen_dir(ix: &Path) -> PathBuf {
    ix.join(fs::read_to_string(ix.join("CURRENT")).unwrap().trim())
}

#[test]
fn corrupt_truncated_and_future_indexes() {
    let (_t, root, ix) = index_fixture("spine/basic");
    let gen = gen_dir(&ix);
    let pristine: Vec<(PathBuf, Vec<u8>)> = ["index.bin", "manifest.json"]
        .iter()
        .map(|n| (gen.join(n), fs::read(gen.join(n)).unwrap()))
        .collect();
    let restore = || {
        for (p, b) in &pristine {
            fs::write(p, b).unwrap();
        }
    };
    let sym = gen.join("index.bin");
    let bytes = fs::read(&sym).unwrap();
    // Truncated in the middle.
    fs::write(&sym, &bytes[..bytes.len() / 2]).unwrap();
    assert_damaged(&root, "truncated index.bin", "corrupt");
    // Empty.
    fs::write(&sym, b"").unwrap();
    assert_damaged(&root, "empty index.bin", "corrupt");
    // A huge length prefix must not allocate gigabytes: every 8-byte word set to 2^32.
    let mut huge = bytes.clone();
    for w in huge.chunks_mut(8).take(4) {
        if w.len() == 8 {
            w.copy_from_slice(&(1u64 << 32).to_le_bytes());
        }
    }
    fs::write(&sym, &huge).unwrap();
    assert_damaged(&root, "huge length prefix", "corrupt");
    // Garbage.
    let garbage: Vec<u8> = (0..bytes.len()).map(|i| (i * 7919 % 251) as u8).collect();
    fs::write(&sym, &garbage).unwrap();
    assert_damaged(&root, "garbage index.bin", "corrupt");
    restore();
    // Records scrambled behind an intact header and section table (ids, string offsets and
    // lengths out of range): answers may be wrong, but no query panics or hangs.
    let head = 16 + 24 * u32::from_le_bytes(bytes[12..16].try_into().unwrap()) as usize;
    for seed in 1..4usize {
        let mut scrambled = bytes.clone();
        for (i, b) in scrambled.iter_mut().enumerate().skip(head) {
            if (i * 31 + seed * 17) % 5 == 0 {
                *b = (i * seed * 7919 % 256) as u8;
            }
        }
        fs::write(&sym, &scrambled).unwrap();
        for q in [
            &["def", "Helper"][..],
            &["callers", "Helper"],
            &["callees", "main", "--depth", "3"],
            &["implementations", "Shape"],
            &["methods", "Circle"],
            &["packages"],
            &["stats"],
            &["trace", "main", "--depth", "4"],
            &["graph", "calls", "main"],
            &["export", "calls"],
        ] {
            let out = run_in(&root, q);
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(
                !err.contains("panicked") && matches!(out.status.code(), Some(0..=2)),
                "scrambled index (seed {seed}), {q:?}: {err}"
            );
        }
    }
    restore();
    // Missing data file.
    fs::remove_file(&sym).unwrap();
    assert_damaged(&root, "missing index.bin", "corrupt");
    restore();
    // Manifest not JSON.
    let m = gen.join("manifest.json");
    fs::write(&m, b"{\"format_version\": 1, \"codewa").unwrap();
    assert_damaged(&root, "truncated manifest", "corrupt");
    restore();
    // CURRENT names nothing useful.
    fs::write(ix.join("CURRENT"), b"../../etc").unwrap();
    assert_damaged(&root, "bad CURRENT", "corrupt");
    fs::write(
        ix.join("CURRENT"),
        gen.file_name().unwrap().to_str().unwrap(),
    )
    .unwrap();
    // A future format version.
    let mut mv: Value = serde_json::from_slice(&pristine[1].1).unwrap();
    mv["format_version"] = Value::from(999);
    fs::write(&m, serde_json::to_vec(&mv).unwrap()).unwrap();
    assert_damaged(&root, "future version", "format 999");
    restore();
    assert!(run_in(&root, &["stats"]).status.success());
    // Re-indexing over a damaged index repairs it.
    fs::write(&sym, b"junk").unwrap();
    let o = index_at(&root, &[]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(run_in(&root, &["def", "Helper"]).status.success());
}

/// A read-only file system holding the index (root ignores permission bits, so use a tmpfs
/// remounted read-only when we may mount; else chmod, which only binds non-root users).
#[test]
fn read_only_index_dir() {
    let (_t, root, ix) = index_fixture("spine/basic");
    let t = tempfile::tempdir().unwrap();
    let mnt = t.path().join("ro");
    fs::create_dir(&mnt).unwrap();
    let mounted = Command::new("mount")
        .args([
            "-t",
            "tmpfs",
            "-o",
            "size=4m",
            "tmpfs",
            mnt.to_str().unwrap(),
        ])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    let ro_ix = mnt.join("idx");
    let o = run_in(
        &root,
        &[
            "index",
            ".",
            "--no-std",
            "-q",
            "--index-dir",
            ro_ix.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", err(&o));
    let made_ro = if mounted {
        Command::new("mount")
            .args(["-o", "remount,ro", mnt.to_str().unwrap()])
            .status()
            .is_ok_and(|s| s.success())
    } else {
        fs::set_permissions(&ro_ix, fs::Permissions::from_mode(0o555)).unwrap();
        fs::File::create(ro_ix.join("probe")).is_err()
    };
    if made_ro {
        // Queries work from a read-only index.
        assert_eq!(def_loc(&ro_ix, "util.Helper"), def_loc(&ix, "util.Helper"));
        // Indexing into it fails with one clear line and leaves it answering.
        let o = run_in(
            &root,
            &[
                "index",
                ".",
                "--no-std",
                "-q",
                "--index-dir",
                ro_ix.to_str().unwrap(),
            ],
        );
        let e = fails(&o, 1);
        assert!(
            e.contains("Read-only") || e.contains("Permission denied"),
            "{e}"
        );
        assert_eq!(e.trim_end().lines().count(), 1, "{e}");
        assert_eq!(def_loc(&ro_ix, "util.Helper"), def_loc(&ix, "util.Helper"));
    } else {
        eprintln!("note: cannot make a read-only dir (root without mount): assertion skipped");
    }
    if mounted {
        let _ = Command::new("umount").arg(&mnt).status();
    } else {
        let _ = fs::set_permissions(&ro_ix, fs::Permissions::from_mode(0o755));
    }
}

// ---------------------------------------------------------------- the Go standard library

#[test]
fn gostd_def_locations() {
    let Some(ix) = std_index() else { return };
    assert_eq!(def_loc(&ix, "io.Reader"), "io/io.go:83");
    let server = Path::new(GOSTD).join("net/http/server.go");
    let want = format!(
        "net/http/server.go:{}",
        line_of(&server, "func (srv *Server) Serve(")
    );
    assert_eq!(def_loc(&ix, "(*net/http.Server).Serve"), want);
    // Own sample.
    for (name, file, needle) in [
        (
            "strings.Builder",
            "strings/builder.go",
            "type Builder struct",
        ),
        (
            "(*bufio.Reader).ReadString",
            "bufio/bufio.go",
            "func (b *Reader) ReadString(",
        ),
        (
            "context.Context",
            "context/context.go",
            "type Context interface",
        ),
        ("sort.Slice", "sort/slice.go", "func Slice("),
        (
            "(*sync.Mutex).Lock",
            "sync/mutex.go",
            "func (m *Mutex) Lock()",
        ),
        (
            "encoding/json.Marshal",
            "encoding/json/encode.go",
            "func Marshal(",
        ),
    ] {
        let want = format!("{file}:{}", line_of(&Path::new(GOSTD).join(file), needle));
        assert_eq!(def_loc(&ix, name), want, "def {name}");
    }
}

/// Ground truth for one directory, as `go list` splits it: the package (GoFiles +
/// TestGoFiles, the latter also counted as test files) and its external test package
/// (XTestGoFiles, path `<dir>_test`). Files are grouped by their package clause; files of
/// `package main` with a `//go:build ignore` line (generators) form their own group.
fn truth(dir: &str) -> BTreeMap<String, (u64, u64)> {
    let mut m: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for e in fs::read_dir(Path::new(GOSTD).join(dir)).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        if !name.ends_with(".go") || name.starts_with('.') || !e.file_type().unwrap().is_file() {
            continue;
        }
        let text = fs::read_to_string(e.path()).unwrap();
        // The first `package` line outside block comments (doc.go files mention
        // "package ..." inside /* */).
        let mut in_block = false;
        let pkg = text
            .lines()
            .find_map(|l| {
                if in_block {
                    in_block = !l.contains("*/");
                    return None;
                }
                if l.starts_with("/*") && !l.contains("*/") {
                    in_block = true;
                    return None;
                }
                l.strip_prefix("package ")
            })
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap()
            .to_string();
        let test = name.ends_with("_test.go");
        let c = m.entry(pkg).or_default();
        c.0 += 1;
        c.1 += test as u64;
    }
    m
}

#[test]
fn gostd_files_per_package_match_ground_truth() {
    let Some(ix) = std_index() else { return };
    let v = query_json(&ix, &["packages"]);
    let mut got: BTreeMap<(String, String), (u64, u64)> = BTreeMap::new();
    for p in v["packages"].as_array().unwrap() {
        let key = (
            p["dir"].as_str().unwrap().to_string(),
            p["name"].as_str().unwrap().to_string(),
        );
        let c = got.entry(key).or_default();
        c.0 += p["files"].as_u64().unwrap();
        c.1 += p["test_files"].as_u64().unwrap();
    }
    let sample = [
        "io",
        "strings",
        "bufio",
        "bytes",
        "sort",
        "errors",
        "fmt",
        "os",
        "context",
        "sync",
        "net/http",
        "encoding/json",
        "go/types",
        "crypto/sha256",
        "net/url",
        "time",
        "runtime/debug",
        "text/template",
        "regexp/syntax",
        "unicode/utf8",
    ];
    let mut total = 0;
    for dir in sample {
        let want = truth(dir);
        let have: BTreeMap<String, (u64, u64)> = got
            .iter()
            .filter(|((d, _), _)| d == dir)
            .map(|((_, n), c)| (n.clone(), *c))
            .collect();
        assert_eq!(have, want, "files per package in {dir}");
        total += want.values().map(|c| c.0).sum::<u64>();
    }
    assert!(total > 300, "sample too small: {total}");
    // The import path of the package and of its external tests.
    let paths: BTreeSet<&str> = v["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["path"].as_str().unwrap())
        .collect();
    for p in [
        "io",
        "io_test",
        "net/http",
        "net/http_test",
        "encoding/json",
    ] {
        assert!(paths.contains(p), "missing package {p}");
    }
    // stats: every regular .go file below GOSTD (outside hidden dirs) is counted once.
    let mut n = 0u64;
    let mut stack = vec![PathBuf::from(GOSTD)];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap().flatten() {
            let name = e.file_name().to_string_lossy().to_string();
            if name.starts_with('.') {
                continue;
            }
            let ft = e.file_type().unwrap();
            if ft.is_dir() {
                stack.push(e.path());
            } else if ft.is_file() && name.ends_with(".go") {
                n += 1;
            }
        }
    }
    let s = query_json(&ix, &["stats"]);
    assert_eq!(s["files"].as_u64().unwrap(), n, "{s}");
    let sum: u64 = v["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["files"].as_u64().unwrap())
        .sum();
    assert_eq!(sum, n);
}

/// Re-indexing an unchanged tree stops after the walk and keeps the generation; any change
/// to a Go file (content, size or mtime), a new file or `--force` rebuilds.
#[test]
fn reindex_without_changes_is_a_no_op() {
    let (_t, root, ix) = index_fixture("spine/basic");
    let gen = gen_dir(&ix);
    let o = index_at(&root, &[]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(err(&o).contains("up to date"), "{}", err(&o));
    assert_eq!(gen_dir(&ix), gen, "an unchanged tree keeps its generation");

    // Rewritten with the same bytes (as `git checkout` back and forth does): only the times
    // moved, so the file is hashed and the index stays, twice in a row.
    let f = root.join("util/util.go");
    move_mtime(&f);
    for _ in 0..2 {
        let o = index_at(&root, &[]);
        assert!(err(&o).contains("up to date"), "{}", err(&o));
        assert_eq!(gen_dir(&ix), gen);
    }

    // An edit is picked up.
    let f = root.join("util/util.go");
    let mut src = fs::read_to_string(&f).unwrap();
    src.push_str("\nfunc AddedLater() {}\n");
    fs::write(&f, src).unwrap();
    let o = index_at(&root, &[]);
    assert!(
        o.status.success() && !err(&o).contains("up to date"),
        "{}",
        err(&o)
    );
    assert_ne!(gen_dir(&ix), gen);
    assert!(run_in(&root, &["def", "AddedLater"]).status.success());

    // A new file is picked up.
    let gen = gen_dir(&ix);
    put(
        &root,
        "util/more.go",
        b"package util\n\nfunc MoreLater() {}\n",
    );
    assert!(!err(&index_at(&root, &[])).contains("up to date"));
    assert!(run_in(&root, &["def", "MoreLater"]).status.success());
    assert_ne!(gen_dir(&ix), gen);

    // --force rebuilds an unchanged tree.
    let gen = gen_dir(&ix);
    assert!(err(&index_at(&root, &[])).contains("up to date"));
    let o = index_at(&root, &["--force"]);
    assert!(
        o.status.success() && !err(&o).contains("up to date"),
        "{}",
        err(&o)
    );
    assert_ne!(gen_dir(&ix), gen);
}

/// Go 1.26 `new(expr)`, a syntax error for tree-sitter-go 0.25, parses with codewalk's copy
/// of the grammar: no syntax error, the call inside `new(...)` is found, `new(T)` still
/// takes a type, and `new(expr)` points to the expression's type.
#[test]
fn go126_new_expr_parses() {
    let (_t, _root, ix) = index_fixture("spine/newexpr");
    let stats = query_json(&ix, &["stats"]);
    assert_eq!(stats["syntax_error_files"], 0, "{stats}");
    for name in [
        "example.com/n.Before",
        "example.com/n.Use",
        "example.com/n.After",
        "example.com/n.Opts",
    ] {
        assert!(query_json(&ix, &["def", name])["file"] == "n.go", "{name}");
    }
    let v = query_json(&ix, &["callees", "example.com/n.Use"]);
    let calls: Vec<(u64, &str)> = v["callees"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["line"].as_u64().unwrap(), e["callee"].as_str().unwrap()))
        .collect();
    assert_eq!(
        calls,
        [
            (12, "example.com/n.Before"),
            (17, "example.com/n.Before"),
            (20, "(*example.com/n.Opts).Get"),
            (21, "(*example.com/n.Opts).Get"),
            (23, "example.com/n.Before"),
        ],
        "the call in new(Before()), o.Get() on new(Opts), q.Get() on new(Opts{{...}}): {v}"
    );
    let v = query_json(&ix, &["callees", "example.com/n.After"]);
    assert_eq!(v["callees"][0]["callee"], "example.com/n.Before", "{v}");
}

/// Another build of codewalk (here: the same binary with a new modification time) may
/// resolve differently: its first `index` rebuilds even when no Go file changed.
#[test]
fn a_new_codewalk_build_reindexes() {
    let (t, root, ix) = index_fixture("spine/basic");
    let exe = t.path().join("codewalk-copy");
    fs::copy(bin(), &exe).unwrap();
    let run = |exe: &Path| {
        Command::new(exe)
            .current_dir(&root)
            .args(["index", ".", "--no-std", "--quiet"])
            .output()
            .unwrap()
    };
    let o = run(&exe);
    assert!(
        o.status.success() && !err(&o).contains("up to date"),
        "{}",
        err(&o)
    );
    let o = run(&exe);
    assert!(err(&o).contains("up to date"), "{}", err(&o));
    move_mtime(&exe);
    let o = run(&exe);
    assert!(!err(&o).contains("up to date"), "{}", err(&o));
    assert!(ix.join("CURRENT").exists());
}

/// Moves a file's modification time 5 s ahead without touching its bytes.
fn move_mtime(path: &Path) {
    let later = std::time::SystemTime::now() + Duration::from_secs(5);
    fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(later)
        .unwrap();
}

/// Re-indexing after an edit parses only the edited file: the facts of the others come from
/// the previous generation's `facts.bin`. The index it writes is, byte for byte, the one a
/// fresh index of the same tree writes. A damaged `facts.bin` is not trusted: the entries
/// whose checksum fails are parsed again, and the index is still the fresh one.
#[test]
fn reindex_parses_only_changed_files_and_equals_a_fresh_index() {
    let (t, root, ix) = index_fixture("example");
    let total = walk_go_files(&root);
    assert!(total >= 5, "{total}");
    let f = root.join("cache/store.go");
    let mut src = fs::read_to_string(&f).unwrap();
    src.push_str("\nfunc AddedByTest(s Store) { _ = s.List() }\n");
    fs::write(&f, src).unwrap();

    let o = index_at(&root, &[]);
    assert!(o.status.success(), "{}", err(&o));
    let note = format!("({} unchanged files not parsed again)", total - 1);
    assert!(err(&o).contains(&note), "want {note}: {}", err(&o));
    assert!(run_in(&root, &["def", "AddedByTest"]).status.success());
    // Doc comments and signatures wait in facts.bin, also in entries taken over unparsed.
    let d = run_in(&root, &["def", "--json", "NewDeltaFIFO"]);
    let d: serde_json::Value = serde_json::from_slice(&d.stdout).unwrap();
    assert_eq!(d["doc"], "NewDeltaFIFO returns an empty queue.", "{d}");
    assert!(
        d["signature"]
            .as_str()
            .unwrap()
            .starts_with("func NewDeltaFIFO("),
        "{d}"
    );

    let fresh = t.path().join("fresh-index");
    let index_fresh = |extra: &[&str]| {
        let mut args = vec![
            "--index-dir",
            fresh.to_str().unwrap(),
            "index",
            ".",
            "--no-std",
        ];
        args.extend_from_slice(extra);
        let o = run_in(&root, &args);
        assert!(o.status.success(), "{}", err(&o));
        o
    };
    let o = index_fresh(&[]);
    assert!(!err(&o).contains("not parsed again"), "{}", err(&o));
    let bin = |ix: &Path| fs::read(gen_dir(ix).join("index.bin")).unwrap();
    assert!(
        bin(&ix) == bin(&fresh),
        "incremental and fresh index.bin differ"
    );

    // Damage every entry's bytes (not the table): all of them fail their checksum.
    let facts = gen_dir(&ix).join("facts.bin");
    let mut bytes = fs::read(&facts).unwrap();
    assert!(bytes.len() > 200, "{}", bytes.len());
    // The trailer's first word is where the table starts (src/facts/cache.rs).
    let n = bytes.len();
    let table = u64::from_le_bytes(bytes[n - 24..n - 16].try_into().unwrap()) as usize;
    for b in &mut bytes[24..table] {
        *b = !*b;
    }
    fs::write(&facts, bytes).unwrap();
    let o = index_at(&root, &["--force"]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(!err(&o).contains("not parsed again"), "{}", err(&o));
    assert!(
        bin(&ix) == bin(&fresh),
        "index built past a damaged facts.bin differs"
    );

    // A truncated facts.bin (no table) is ignored as a whole.
    let facts = gen_dir(&ix).join("facts.bin");
    let len = fs::metadata(&facts).unwrap().len();
    fs::File::options()
        .write(true)
        .open(&facts)
        .unwrap()
        .set_len(len - 5)
        .unwrap();
    let o = index_at(&root, &["--force"]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(!err(&o).contains("not parsed again"), "{}", err(&o));
    assert!(bin(&ix) == bin(&fresh));
    // The generation it wrote has a complete facts.bin again.
    let o = index_at(&root, &["--force"]);
    assert!(
        err(&o).contains(&format!("({total} unchanged")),
        "{}",
        err(&o)
    );
}

#[test]
fn reindex_after_a_body_edit_resolves_only_that_files_calls() {
    let (t, root, ix) = index_fixture("example");
    let total = walk_go_files(&root);
    let bin = |ix: &Path| fs::read(gen_dir(ix).join("index.bin")).unwrap();
    let fresh = t.path().join("fresh-index");
    let fresh_index = || fresh_index_bin(&root, &fresh);
    let edit = |from: &str, to: &str| {
        let f = root.join("cache/store.go");
        let src = fs::read_to_string(&f).unwrap();
        assert!(src.contains(from), "{from}");
        fs::write(&f, src.replacen(from, to, 1)).unwrap();
        index_at(&root, &[])
    };

    // A body edit that moves the declarations below it two lines down: every other file's
    // calls are taken over, the edited file's are resolved again.
    let o = edit(
        "\treturn s.List(), nil\n",
        "\tout := s.List()\n\t_ = NewIndexer()\n\treturn out, nil\n",
    );
    assert!(o.status.success(), "{}", err(&o));
    let note = format!("calls of {} files not resolved again", total - 1);
    assert!(err(&o).contains(&note), "want {note}: {}", err(&o));
    let callers = run_in(&root, &["callers", "--json", "cache.NewIndexer"]);
    assert!(
        out(&callers).contains("(*example.com/informer/cache.threadSafeStore).ByIndex"),
        "{}",
        out(&callers)
    );
    assert!(
        bin(&ix) == fresh_index(),
        "incremental and fresh index.bin differ"
    );

    // A damaged calls.bin is not used: every file's calls are resolved again.
    let calls = gen_dir(&ix).join("calls.bin");
    let mut bytes = fs::read(&calls).unwrap();
    let n = bytes.len();
    bytes[n - 1] ^= 0xff;
    fs::write(&calls, bytes).unwrap();
    let o = edit("\treturn out, nil\n", "\t_ = out\n\treturn out, nil\n");
    assert!(o.status.success(), "{}", err(&o));
    assert!(!err(&o).contains("not resolved again"), "{}", err(&o));
    assert!(
        bin(&ix) == fresh_index(),
        "incremental and fresh index.bin differ"
    );

    // A changed declaration (informer.go's call to `NewIndexer` now names nothing): every
    // file's calls are resolved again.
    let o = edit(
        "func NewIndexer() Indexer {",
        "func NewIndexerV2() Indexer {",
    );
    assert!(o.status.success(), "{}", err(&o));
    assert!(!err(&o).contains("not resolved again"), "{}", err(&o));
    assert!(
        bin(&ix) == fresh_index(),
        "incremental and fresh index.bin differ"
    );
}

#[test]
fn reindex_after_a_text_only_edit_takes_the_index_over() {
    let (t, root, ix) = index_fixture("example");
    let bin = |ix: &Path| fs::read(gen_dir(ix).join("index.bin")).unwrap();
    let fresh = t.path().join("fresh-index");
    let fresh_index = || fresh_index_bin(&root, &fresh);
    let f = root.join("cache/store.go");
    let edit = |from: &str, to: &str| {
        let src = fs::read_to_string(&f).unwrap();
        assert!(src.contains(from), "{from}");
        fs::write(&f, src.replacen(from, to, 1)).unwrap();
        index_at(&root, &[])
    };
    let taken_over = "1 changed in their text only";

    // A word of the package comment replaced by one as long (no fact moves): the index is
    // taken over, and equals a fresh one (the file's hash, size and time rewritten).
    let o = edit("a miniature of", "a wombatish of");
    assert!(o.status.success(), "{}", err(&o));
    assert!(err(&o).contains(taken_over), "{}", err(&o));
    assert!(
        bin(&ix) == fresh_index(),
        "taken-over and fresh index.bin differ"
    );
    let grep = run_in(&root, &["grep", "wombatish"]);
    assert!(out(&grep).contains("cache/store.go:1:"), "{}", out(&grep));
    let search = run_in(&root, &["search", "--code", "wombatish"]);
    assert!(
        out(&search).contains("cache/store.go:1"),
        "{}",
        out(&search)
    );
    assert!(!out(&run_in(&root, &["grep", "miniature"])).contains("store.go"));
    let show = run_in(&root, &["show", "cache.NewIndexer"]);
    assert!(
        show.status.success() && !err(&show).contains("changed"),
        "{}",
        err(&show)
    );

    // Lines appended at the end: the line count changes, nothing else.
    let mut text = fs::read_to_string(&f).unwrap();
    text.push_str("\n// Trailing words: numbat.\n");
    fs::write(&f, text).unwrap();
    let o = index_at(&root, &[]);
    assert!(err(&o).contains(taken_over), "{}", err(&o));
    assert!(
        bin(&ix) == fresh_index(),
        "taken-over and fresh index.bin differ"
    );
    assert!(out(&run_in(&root, &["grep", "numbat"])).contains("cache/store.go:"));

    // A doc comment and a body edited: facts changed, the whole pipeline runs, and the
    // index still equals a fresh one.
    for (from, to) in [
        ("storage interface.", "storage contract."),
        (
            "\treturn s.List(), nil\n",
            "\tout := s.List()\n\treturn out, nil\n",
        ),
    ] {
        let o = edit(from, to);
        assert!(o.status.success(), "{}", err(&o));
        assert!(!err(&o).contains(taken_over), "{}", err(&o));
        assert!(err(&o).contains("not parsed again"), "{}", err(&o));
        assert!(
            bin(&ix) == fresh_index(),
            "incremental and fresh index.bin differ"
        );
    }
    let def = run_in(&root, &["def", "cache.Store"]);
    assert!(out(&def).contains("storage contract"), "{}", out(&def));
}

#[test]
fn text_only_edits_past_a_shards_patch_limits_run_the_pipeline() {
    let (t, root, ix) = index_fixture("example");
    let fresh = t.path().join("fresh-index");
    let f = root.join("cache/store.go");
    // Each run appends a comment: taken over until the shard holding the file has had too
    // many documents deleted (or too many patches); then the pipeline runs and rebuilds it.
    let (mut taken_over, mut rebuilt) = (0, 0);
    for i in 0..40 {
        let mut text = fs::read_to_string(&f).unwrap();
        text.push_str(&format!("\n// appended note{i} about the store\n"));
        fs::write(&f, text).unwrap();
        let o = index_at(&root, &[]);
        assert!(o.status.success(), "{}", err(&o));
        if err(&o).contains("1 changed in their text only") {
            taken_over += 1;
        } else {
            assert!(err(&o).contains("not parsed again"), "{}", err(&o));
            rebuilt += 1;
            let bin = fs::read(gen_dir(&ix).join("index.bin")).unwrap();
            assert!(
                bin == fresh_index_bin(&root, &fresh),
                "index.bin differs from a fresh one"
            );
            let hit = run_in(&root, &["search", "--code", &format!("note{i}")]);
            assert!(out(&hit).contains("cache/store.go:"), "{}", out(&hit));
            if rebuilt == 2 {
                break;
            }
        }
    }
    assert!(
        taken_over >= 1 && rebuilt == 2,
        "{taken_over} taken over, {rebuilt} rebuilt"
    );
}

/// The `index.bin` of a fresh index of `root` into `dir` (nothing taken over from an
/// earlier one).
fn fresh_index_bin(root: &Path, dir: &Path) -> Vec<u8> {
    let _ = fs::remove_dir_all(dir);
    let args = [
        "--index-dir",
        dir.to_str().unwrap(),
        "index",
        ".",
        "--no-std",
    ];
    let o = run_in(root, &args);
    assert!(o.status.success(), "{}", err(&o));
    assert!(!err(&o).contains("not resolved again"), "{}", err(&o));
    assert!(!err(&o).contains("not parsed again"), "{}", err(&o));
    fs::read(gen_dir(dir).join("index.bin")).unwrap()
}

fn walk_go_files(dir: &Path) -> usize {
    let mut n = 0;
    for e in fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.file_name().is_some_and(|n| n == ".codewalk") {
            continue;
        }
        if p.is_dir() {
            n += walk_go_files(&p);
        } else if p.extension().is_some_and(|x| x == "go") {
            n += 1;
        }
    }
    n
}
