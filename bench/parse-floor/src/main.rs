//! parse-floor: the floor that `codewalk index` time is compared against.
//!
//! Lists every `*.go` file under ROOT with the `ignore` crate using the same rules as codewalk
//! (.gitignore honoured even outside a git repo, hidden entries skipped, symlinks followed but
//! each real directory visited once), then reads and parses every file with tree-sitter-go on
//! N rayon threads (one reused Parser per thread), touching only `root_node().has_error()`.
//!
//! Usage: parse-floor ROOT [--threads N]
//! Output (one line on stdout): files=N bytes=B error_files=E secs=S

use std::cell::RefCell;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use rayon::prelude::*;

fn usage() -> ! {
    eprintln!("usage: parse-floor ROOT [--threads N]");
    std::process::exit(2);
}

fn list_go_files(root: &Path) -> Vec<PathBuf> {
    // Canonical paths of directories already entered: with follow_links(true) a symlinked
    // directory is only descended into the first time its real path is seen.
    // The root (depth 0) is never passed to filter_entry, so mark it seen up front: a symlink
    // back to it is then not re-walked.
    let mut initial = HashSet::new();
    if let Ok(real) = std::fs::canonicalize(root) {
        initial.insert(real);
    }
    let seen: Arc<Mutex<HashSet<PathBuf>>> = Arc::new(Mutex::new(initial));
    let seen_f = Arc::clone(&seen);
    let walker = ignore::WalkBuilder::new(root)
        .hidden(true)
        .git_ignore(true)
        .git_global(false)
        .git_exclude(true)
        .ignore(true)
        .parents(true)
        .require_git(false)
        .follow_links(true)
        .filter_entry(move |e| {
            let is_dir = e.file_type().map(|t| t.is_dir()).unwrap_or(false);
            if !is_dir {
                return true;
            }
            match std::fs::canonicalize(e.path()) {
                Ok(real) => seen_f.lock().unwrap().insert(real),
                Err(_) => false,
            }
        })
        .build();
    let mut files = Vec::new();
    for entry in walker {
        let entry = match entry {
            Ok(e) => e,
            Err(_) => continue, // unreadable entries and symlink loops are skipped
        };
        if entry.file_type().map(|t| t.is_file()).unwrap_or(false)
            && entry.path().extension().is_some_and(|x| x == "go")
        {
            files.push(entry.into_path());
        }
    }
    files
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mut root: Option<PathBuf> = None;
    let mut threads: usize = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--threads" | "-j" => {
                threads = args.next().and_then(|v| v.parse().ok()).unwrap_or_else(|| usage());
            }
            "-h" | "--help" => usage(),
            _ if root.is_none() => root = Some(PathBuf::from(a)),
            _ => usage(),
        }
    }
    let root = root.unwrap_or_else(|| usage());
    rayon::ThreadPoolBuilder::new().num_threads(threads.max(1)).build_global().unwrap();

    let start = Instant::now();
    let files = list_go_files(&root);

    let bytes = AtomicU64::new(0);
    let errors = AtomicU64::new(0);
    thread_local! {
        static PARSER: RefCell<Option<tree_sitter::Parser>> = const { RefCell::new(None) };
    }
    files.par_iter().for_each(|path| {
        let src = match std::fs::read(path) {
            Ok(s) => s,
            Err(_) => return,
        };
        bytes.fetch_add(src.len() as u64, Ordering::Relaxed);
        let has_error = PARSER.with(|cell| {
            let mut slot = cell.borrow_mut();
            let parser = slot.get_or_insert_with(|| {
                let mut p = tree_sitter::Parser::new();
                p.set_language(&tree_sitter_go::LANGUAGE.into()).expect("tree-sitter-go language");
                p
            });
            match parser.parse(&src, None) {
                Some(tree) => tree.root_node().has_error(),
                None => true,
            }
        });
        if has_error {
            errors.fetch_add(1, Ordering::Relaxed);
        }
    });
    let secs = start.elapsed().as_secs_f64();
    println!(
        "files={} bytes={} error_files={} secs={:.3}",
        files.len(),
        bytes.load(Ordering::Relaxed),
        errors.load(Ordering::Relaxed),
        secs
    );
}
