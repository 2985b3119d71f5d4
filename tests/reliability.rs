//! Issue 9 (reliability): faults and concurrency around `codewalk index`, each through the
//! real binary. See docs/reliability.md for the table of faults and the tests proving them.

mod common;

use common::*;
use std::fs;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

fn put(root: &Path, rel: &str, bytes: &[u8]) {
    let p = root.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, bytes).unwrap();
}

fn no_panic(o: &Output) {
    let e = err(o);
    assert!(
        !e.contains("panicked") && !e.contains("overflow") && o.status.code().is_some(),
        "crash (status {:?}): {e}",
        o.status
    );
}

/// `pkgs` x `files` files of 5 funcs, 5 types, 5 methods each.
fn generate_tree(root: &Path, pkgs: usize, files: usize) {
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

fn spawn_index(root: &Path, extra: &[&str]) -> Child {
    Command::new(bin())
        .args(["index", ".", "--no-std", "--quiet"])
        .args(extra)
        .current_dir(root)
        .env_remove("CODEWALK_INDEX_DIR")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn index_ok(root: &Path, extra: &[&str]) {
    let mut args = vec!["index", ".", "--no-std", "--quiet"];
    args.extend_from_slice(extra);
    let o = run_in(root, &args);
    assert!(o.status.success(), "index failed: {}", err(&o));
}

fn gens(ix: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(ix)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with("gen-") || n.starts_with("CURRENT.tmp"))
        .collect();
    v.sort();
    v
}

fn stats_files(ix: &Path) -> u64 {
    query_json(ix, &["stats"])["files"].as_u64().unwrap()
}

// ---------------------------------------------------------------- concurrency

#[test]
fn two_index_runs_at_once_one_refuses() {
    let t = tempfile::tempdir().unwrap();
    let r = t.path().join("big");
    generate_tree(&r, 10, 100);
    let ix = r.join(".codewalk");
    let mut first = spawn_index(&r, &[]);
    // Wait until the first run holds the lock (the lock file exists).
    let t0 = Instant::now();
    while !ix.join("lock").exists() && t0.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(Duration::from_millis(50));
    let second = run_in(&r, &["index", ".", "--no-std", "--quiet"]);
    let overlapped = first.try_wait().unwrap().is_none();
    let first = first.wait_with_output().unwrap();
    no_panic(&first);
    no_panic(&second);
    assert!(
        overlapped,
        "the first run finished before the second started"
    );
    assert!(first.status.success(), "{}", err(&first));
    assert_eq!(second.status.code(), Some(1));
    let e = err(&second);
    assert!(
        e.contains("another `codewalk index` is running") && e.trim_end().lines().count() == 1,
        "{e}"
    );
    // The index is the first run's, complete and consistent.
    assert_eq!(stats_files(&ix), 1000);
    assert!(query(&ix, &["def", "F9_99_4"]).starts_with("pkg9/f99.go:"));
    assert_eq!(gens(&ix).len(), 1, "{:?}", gens(&ix));
}

#[test]
fn queries_during_index_answer_from_old_or_new_index() {
    let t = tempfile::tempdir().unwrap();
    let r = t.path().join("big");
    generate_tree(&r, 10, 100);
    index_ok(&r, &[]);
    let ix = r.join(".codewalk");
    let def_before = query(&ix, &["def", "F3_4_2"]);
    let callers_before = query(&ix, &["callers", "F3_4_2"]);
    put(
        &r,
        "pkg0/zz_new.go",
        b"package pkg0\n\nfunc BrandNew() {}\n",
    );
    // Several rounds, so queries land before, during and right around the commit.
    let mut n = 0;
    for _round in 0..2 {
        let mut child = spawn_index(&r, &[]);
        loop {
            let done = child.try_wait().unwrap().is_some();
            let o = run_in(&r, &["def", "F3_4_2"]);
            no_panic(&o);
            assert!(o.status.success(), "query during index failed: {}", err(&o));
            assert_eq!(String::from_utf8_lossy(&o.stdout), def_before);
            let o = run_in(&r, &["callers", "F3_4_2"]);
            assert!(o.status.success(), "query during index failed: {}", err(&o));
            assert_eq!(String::from_utf8_lossy(&o.stdout), callers_before);
            let files = stats_files(&ix);
            assert!(files == 1000 || files == 1001, "{files}");
            n += 1;
            if done {
                break;
            }
        }
        let o = child.wait_with_output().unwrap();
        assert!(o.status.success(), "{}", err(&o));
    }
    eprintln!("{n} query rounds ran during indexing");
    assert!(n >= 4, "indexing too fast to overlap queries ({n})");
    assert_eq!(stats_files(&ix), 1001);
}

// ---------------------------------------------------------------- disk full

#[test]
fn disk_full_keeps_old_index() {
    let t = tempfile::tempdir().unwrap();
    let mnt = t.path().join("small");
    fs::create_dir(&mnt).unwrap();
    let mounted = Command::new("mount")
        .args([
            "-t",
            "tmpfs",
            "-o",
            "size=2m",
            "tmpfs",
            mnt.to_str().unwrap(),
        ])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        eprintln!("note: cannot mount a tmpfs (not root?): disk-full test skipped");
        return;
    }
    struct Umount<'a>(&'a Path);
    impl Drop for Umount<'_> {
        fn drop(&mut self) {
            let _ = Command::new("umount").arg(self.0).status();
        }
    }
    let _guard = Umount(&mnt);
    let r = t.path().join("src");
    copy_dir(&fixtures().join("spine/basic"), &r);
    let ix = mnt.join("idx");
    let ixs = ix.to_str().unwrap();
    index_ok(&r, &["--index-dir", ixs]);
    let before = (
        query(&ix, &["def", "util.Helper"]),
        query(&ix, &["packages", "--json"]),
        query(&ix, &["callers", "Helper"]),
    );
    let gens_before = gens(&ix);
    // Fill the disk, then grow the tree so the next index needs more room than is left.
    let free = {
        let mut f = fs::File::create(mnt.join("filler")).unwrap();
        let chunk = vec![0u8; 64 << 10];
        use std::io::Write;
        while f.write_all(&chunk).is_ok() {}
        let _ = f.sync_all();
        drop(f);
        // Leave ~64 KiB: enough for the lock, not for an index of 300 more files.
        let len = fs::metadata(mnt.join("filler")).unwrap().len();
        fs::OpenOptions::new()
            .write(true)
            .open(mnt.join("filler"))
            .unwrap()
            .set_len(len.saturating_sub(64 << 10))
            .unwrap();
        len
    };
    assert!(free > 0);
    generate_tree(&r.join("gen"), 3, 100);
    let o = run_in(
        &r,
        &["index", ".", "--no-std", "--quiet", "--index-dir", ixs],
    );
    no_panic(&o);
    assert_eq!(
        o.status.code(),
        Some(1),
        "index on a full disk: {}",
        err(&o)
    );
    let e = err(&o);
    assert!(e.contains("No space left"), "{e}");
    assert!(
        e.contains("unchanged"),
        "does not say the old index is kept: {e}"
    );
    // The old index answers as before; the failed generation was removed.
    let after = (
        query(&ix, &["def", "util.Helper"]),
        query(&ix, &["packages", "--json"]),
        query(&ix, &["callers", "Helper"]),
    );
    assert_eq!(after, before);
    assert_eq!(gens(&ix), gens_before);
    // With room again, indexing works.
    fs::remove_file(mnt.join("filler")).unwrap();
    index_ok(&r, &["--index-dir", ixs]);
    assert_eq!(stats_files(&ix), 305);
}

// ---------------------------------------------------------------- odd files

#[test]
fn files_deleted_during_the_walk() {
    let t = tempfile::tempdir().unwrap();
    let r = t.path().join("big");
    generate_tree(&r, 10, 100);
    for delay in [0u64, 20, 100] {
        let child = spawn_index(&r, &[]);
        std::thread::sleep(Duration::from_millis(delay));
        // Delete a package while the walk/parse runs; recreate it for the next round.
        let victim = r.join(format!("pkg{}", 2 + delay % 7));
        let _ = fs::remove_dir_all(&victim);
        let o = child.wait_with_output().unwrap();
        no_panic(&o);
        assert!(
            o.status.success(),
            "index with vanishing files: {}",
            err(&o)
        );
        let ix = r.join(".codewalk");
        let files = stats_files(&ix);
        assert!((900..=1000).contains(&files), "{files}");
        assert!(query(&ix, &["def", "F0_0_0"]).starts_with("pkg0/f0.go:"));
        generate_tree(&r, 10, 100);
    }
}

#[test]
fn file_of_50mb_is_skipped_as_too_large() {
    let t = tempfile::tempdir().unwrap();
    let r = t.path();
    put(r, "p/small.go", b"package p\n\nfunc Small() {}\n");
    let mut big = String::from("package p\n\n");
    let mut i = 0;
    while big.len() < 50 << 20 {
        big.push_str(&format!(
            "func Gen{i}(a, b int) int {{ return a*b + {i} }}\n"
        ));
        i += 1;
    }
    put(r, "p/huge.go", big.as_bytes());
    let t0 = Instant::now();
    let o = run_in(r, &["index", ".", "--no-std"]);
    let took = t0.elapsed();
    no_panic(&o);
    assert!(o.status.success(), "{}", err(&o));
    assert!(took < Duration::from_secs(20), "50 MB file took {took:?}");
    assert!(
        err(&o).contains("huge.go"),
        "no warning for the huge file: {}",
        err(&o)
    );
    let ix = r.join(".codewalk");
    let s = query_json(&ix, &["stats"]);
    assert_eq!(s["too_large_files"], 1, "{s}");
    assert_eq!(s["files"], 2, "{s}");
    assert!(query(&ix, &["def", "Small"]).starts_with("p/small.go:3"));
    assert_eq!(run_in(r, &["def", "Gen7"]).status.code(), Some(1));
}

#[test]
fn binary_data_in_a_go_file() {
    let t = tempfile::tempdir().unwrap();
    let r = t.path();
    let mut x: u64 = 0x9E3779B97F4A7C15;
    let mut noise = Vec::new();
    for _ in 0..200_000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        noise.push((x >> 24) as u8);
    }
    let mut bin = b"package p\n\nfunc BeforeNoise() {}\n\n".to_vec();
    // 2 KB of noise: tree-sitter recovers around it. (With 200 KB it gives up on the whole
    // file, package clause included: a known limitation, see docs/reliability.md.)
    bin.extend_from_slice(&noise[..2000]);
    bin.extend_from_slice(b"\n\nfunc AfterNoise() {}\n");
    put(r, "p/bin.go", &bin);
    put(r, "p/allbin.go", &noise);
    put(r, "p/nul.go", b"package p\n\x00\x00\x00func Nul() {}\n\x00");
    put(r, "p/ok.go", b"package p\n\nfunc Ok() {}\n");
    let o = run_in(r, &["index", ".", "--no-std", "--quiet"]);
    no_panic(&o);
    assert!(o.status.success(), "{}", err(&o));
    let ix = r.join(".codewalk");
    assert!(query(&ix, &["def", "Ok"]).starts_with("p/ok.go:3"));
    // Known limitation (facts / tree-sitter recovery): 2 KB of this noise after a valid
    // declaration loses the whole file, package clause included; see
    // `declarations_before_binary_noise_survive` (ignored).
    let s = query_json(&ix, &["stats"]);
    assert_eq!(s["files"], 4, "{s}");
    assert!(s["syntax_error_files"].as_u64().unwrap() >= 2, "{s}");
    // Every query over the damaged files stays well-formed.
    for args in [&["packages"][..], &["search", "Noise"], &["grep", "Noise"]] {
        let o = run_in(r, args);
        no_panic(&o);
    }
}

/// Deeply nested expressions (generated code, or hostile input) recurse in the extractor
/// and the checker: a one-file checkout used to overflow the 8 MiB main-thread stack at
/// ~20k levels. The command now runs on a thread with the same stack as the workers.
#[test]
fn deeply_nested_expression_in_a_single_file() {
    let t = tempfile::tempdir().unwrap();
    let r = t.path();
    let n = 30_000;
    let src = format!(
        "package p\n\nvar Deep = {}1{}\n\nfunc AfterDeep() {{ f({}) }}\n",
        "(".repeat(n),
        ")".repeat(n),
        "g(".repeat(2000) + &")".repeat(2000)
    );
    put(r, "p/deep.go", src.as_bytes());
    let t0 = Instant::now();
    let o = run_in(r, &["index", ".", "--no-std", "--quiet"]);
    no_panic(&o);
    assert!(o.status.success(), "{}", err(&o));
    eprintln!("{n}-deep expression indexed in {:?}", t0.elapsed());
    assert!(query(&r.join(".codewalk"), &["def", "AfterDeep"]).starts_with("p/deep.go:5"));
}

/// Known bug in facts::lower / resolve::check (recursion without a depth limit): a file
/// with a 200k-deep expression aborts the whole index with a stack overflow even on the
/// 256 MiB worker stacks. Un-ignore when the extractor caps its depth.
#[test]
fn very_deeply_nested_expression() {
    let t = tempfile::tempdir().unwrap();
    let r = t.path();
    let n = 200_000;
    let src = format!(
        "package p\n\nvar Deep = {}1{}\n\nfunc AfterDeep() {{}}\n",
        "(".repeat(n),
        ")".repeat(n)
    );
    put(r, "p/deep.go", src.as_bytes());
    for i in 0..4 {
        put(r, &format!("p/o{i}.go"), b"package p\n");
    }
    let o = run_in(r, &["index", ".", "--no-std", "--quiet"]);
    no_panic(&o);
    assert!(o.status.success(), "{}", err(&o));
}

#[test]
fn crlf_bom_loops_and_no_go_through_one_tree() {
    // The single-fault versions are in tests/spine.rs; this one mixes them in one tree.
    let t = tempfile::tempdir().unwrap();
    let r = t.path().join("root");
    put(&r, "a/crlf.go", b"package a\r\n\r\nfunc Crlf() {}\r\n");
    put(&r, "a/bom.go", b"\xef\xbb\xbfpackage a\n\nfunc Bom() {}\n");
    put(&r, "docs/readme.md", b"no go here\n");
    std::os::unix::fs::symlink("..", r.join("a/up")).unwrap();
    std::os::unix::fs::symlink("../a", r.join("docs/a")).unwrap();
    let o = run_in(&r, &["index", ".", "--no-std"]);
    no_panic(&o);
    assert!(o.status.success(), "{}", err(&o));
    let ix = r.join(".codewalk");
    assert_eq!(stats_files(&ix), 2);
    assert!(query(&ix, &["def", "Crlf"]).starts_with("a/crlf.go:3"));
    assert!(query(&ix, &["def", "Bom"]).starts_with("a/bom.go:3"));
    // A repo with no Go at all.
    let empty = t.path().join("empty");
    put(&empty, "x/y.txt", b"text\n");
    let o = run_in(&empty, &["index", "."]);
    no_panic(&o);
    assert_eq!(o.status.code(), Some(1));
    assert!(err(&o).contains("no Go files found"), "{}", err(&o));
}

#[test]
fn declarations_before_binary_noise_survive() {
    let t = tempfile::tempdir().unwrap();
    let r = t.path();
    let mut x: u64 = 0x9E3779B97F4A7C15;
    let mut bin = b"package p\n\nfunc BeforeNoise() {}\n\n".to_vec();
    for _ in 0..2000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        bin.push((x >> 24) as u8);
    }
    bin.extend_from_slice(b"\n\nfunc AfterNoise() {}\n");
    put(r, "p/bin.go", &bin);
    assert!(run_in(r, &["index", ".", "--no-std", "--quiet"])
        .status
        .success());
    assert!(query(&r.join(".codewalk"), &["def", "BeforeNoise"]).starts_with("p/bin.go:3"));
}
