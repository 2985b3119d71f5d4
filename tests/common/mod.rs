//! Shared helpers for the integration tests: run the real binary, build indexes of fixtures
//! and of the Go standard library once per test run.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_codewalk")
}

/// Runs codewalk with `args` in `cwd`; the index dir is not set from the environment.
pub fn run_in(cwd: &Path, args: &[&str]) -> Output {
    Command::new(bin())
        .args(args)
        .current_dir(cwd)
        .env_remove("CODEWALK_INDEX_DIR")
        .output()
        .expect("run codewalk")
}

/// Runs a query against an index dir and returns stdout, asserting success.
pub fn query(index: &Path, args: &[&str]) -> String {
    let mut full = vec!["--index-dir", index.to_str().unwrap()];
    full.extend_from_slice(args);
    let out = run_in(Path::new("/"), &full);
    assert!(
        out.status.success(),
        "codewalk {:?} failed: {}",
        full,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Runs a query expected to return JSON.
pub fn query_json(index: &Path, args: &[&str]) -> serde_json::Value {
    let mut a = args.to_vec();
    a.push("--json");
    let s = query(index, &a);
    serde_json::from_str(&s).unwrap_or_else(|e| panic!("bad JSON from {a:?}: {e}\n{s}"))
}

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// Copies a fixture directory into a fresh temp dir and indexes it (without the standard
/// library, so tests do not depend on a Go install). Returns (tempdir, root, index dir).
pub fn index_fixture(name: &str) -> (tempfile::TempDir, PathBuf, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join(name.replace('/', "_"));
    copy_dir(&fixtures().join(name), &root);
    let index = root.join(".codewalk");
    let out = run_in(&root, &["index", ".", "--no-std", "--quiet"]);
    assert!(
        out.status.success(),
        "index of fixture {name} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (tmp, root, index)
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let t = to.join(e.file_name());
        let ft = e.file_type().unwrap();
        if ft.is_dir() {
            copy_dir(&e.path(), &t);
        } else if ft.is_symlink() {
            let target = std::fs::read_link(e.path()).unwrap();
            std::os::unix::fs::symlink(target, &t).unwrap();
        } else {
            std::fs::copy(e.path(), &t).unwrap();
        }
    }
}

pub const GOSTD: &str = "/usr/share/go-1.19/src";

/// An index of the Go 1.19 standard library, built once and shared by every test (a file
/// lock serialises concurrent builders). None when the corpus is not installed
/// (`../shared/corpora.sh` installs it; CI runs that first).
pub fn std_index() -> Option<PathBuf> {
    if !Path::new(GOSTD).join("io/io.go").is_file() {
        eprintln!("note: {GOSTD} not installed; run ../shared/corpora.sh");
        return None;
    }
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("std-index");
    std::fs::create_dir_all(&dir).unwrap();
    let lock = std::fs::File::create(dir.with_extension("lock")).unwrap();
    lock.lock().unwrap();
    // Rebuild when the binary is newer than the index.
    let stamp = dir.join("built-by");
    let me = std::fs::metadata(bin()).and_then(|m| m.modified()).ok();
    let built = std::fs::metadata(&stamp).and_then(|m| m.modified()).ok();
    if built.is_none() || me > built {
        let out = run_in(
            Path::new("/"),
            &[
                "index",
                GOSTD,
                "--index-dir",
                dir.to_str().unwrap(),
                "--quiet",
            ],
        );
        assert!(
            out.status.success(),
            "index of GOSTD failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::write(&stamp, "ok").unwrap();
    }
    Some(dir)
}
