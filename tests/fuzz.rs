//! A bounded, deterministic generator fuzzer over the per-file extractor and the resolver
//! (issue 9): arbitrary bytes and mutated real Go files (fixtures, and the Go standard
//! library when installed) go through the same chain as `pipeline::build`:
//! `syntax::parse` → `facts::extract` (declarations, then bodies) → `resolve::Model::build`
//! → `methods::all_members` / `implementations` → `check::check_file`.
//!
//! No panic is allowed, and every file must finish within a per-file time bound. The budget
//! is `CODEWALK_FUZZ_SECS` seconds (default 20); `CODEWALK_FUZZ_SEED` picks another seed.
//! An input that panics is written to `target/tmp/fuzz-crash-*.go` for reproduction.

use codewalk::facts::{self, ExtractOptions, FileFacts};
use codewalk::resolve::check::{check_file, Overlay, VarCache};
use codewalk::resolve::methods;
use codewalk::resolve::{FileInput, Model, SymKind};
use codewalk::syntax::{self, QuerySet};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Per-file bound on parse + extract + check (debug build, 2 cores, files ≤ 64 KiB).
const PER_FILE_LIMIT: Duration = Duration::from_secs(5);

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545F4914F6CDD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
    fn chance(&mut self, pct: u64) -> bool {
        self.next() % 100 < pct
    }
}

const TOKENS: &[&str] = &[
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    "func ",
    "type ",
    "interface{",
    "struct{",
    "package ",
    "import ",
    "\"",
    "`",
    "/*",
    "*/",
    "//",
    "\n",
    "\r\n",
    "\u{feff}",
    "\0",
    "\u{ff}",
    "...",
    "<-",
    "chan ",
    "map[",
    "go ",
    "defer ",
    "T[",
    "any",
    "~int|",
    ".(",
    ".(type)",
    ":=",
    "=",
    ",",
    ";",
    "*",
    "&",
    "func (r *T) M() {}",
    "var _ = ",
    "const (",
    "iota",
    "0x",
    "'\\'",
    "//go:build !x\n",
    "case ",
    "switch ",
    "select {",
    "for range ",
    "return ",
    "goto L\nL:",
];

fn mutate(rng: &mut Rng, src: &[u8], corpus: &[Vec<u8>]) -> Vec<u8> {
    let mut v = src.to_vec();
    let rounds = 1 + rng.below(8);
    for _ in 0..rounds {
        let len = v.len();
        match rng.below(9) {
            0 if len > 0 => {
                let i = rng.below(len);
                v[i] ^= 1 << rng.below(8);
            }
            1 => {
                let i = rng.below(len + 1);
                let n = 1 + rng.below(16);
                let bytes: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
                v.splice(i..i, bytes);
            }
            2 if len > 0 => {
                let i = rng.below(len);
                let n = rng.below((len - i).min(256) + 1);
                v.drain(i..i + n);
            }
            3 if len > 0 => {
                let i = rng.below(len);
                let n = rng.below((len - i).min(512) + 1);
                let chunk = v[i..i + n].to_vec();
                let j = rng.below(len + 1);
                v.splice(j..j, chunk);
            }
            4 | 5 => {
                let tok = TOKENS[rng.below(TOKENS.len())].as_bytes();
                let i = rng.below(len + 1);
                v.splice(i..i, tok.iter().copied());
            }
            6 if !corpus.is_empty() => {
                // Splice a piece of another file.
                let other = &corpus[rng.below(corpus.len())];
                if !other.is_empty() {
                    let a = rng.below(other.len());
                    let b = a + rng.below((other.len() - a).min(2048) + 1);
                    let i = rng.below(len + 1);
                    v.splice(i..i, other[a..b].iter().copied());
                }
            }
            7 => v.truncate(rng.below(len + 1)),
            _ => {
                // Deep nesting.
                let depth = 1 + rng.below(300);
                let i = rng.below(len + 1);
                let open = ["(", "[", "{", "f(", "*", "[]"][rng.below(6)];
                let mut s = open.repeat(depth);
                if rng.chance(50) {
                    s.push_str(&")".repeat(depth));
                }
                v.splice(i..i, s.into_bytes());
            }
        }
    }
    v
}

fn collect_go(dir: &Path, out: &mut Vec<PathBuf>, limit: usize) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = rd.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        if out.len() >= limit {
            return;
        }
        let p = e.path();
        let Ok(ft) = e.file_type() else { continue };
        if ft.is_dir() {
            collect_go(&p, out, limit);
        } else if ft.is_file() && p.extension().is_some_and(|x| x == "go") {
            out.push(p);
        }
    }
}

fn corpus() -> Vec<Vec<u8>> {
    let mut paths = Vec::new();
    collect_go(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures"),
        &mut paths,
        200,
    );
    let gostd = Path::new("/usr/share/go-1.19/src");
    let mut std_paths = Vec::new();
    for sub in [
        "io",
        "strings",
        "sort",
        "net/http",
        "go/types",
        "encoding/json",
        "sync",
        "context",
        "fmt",
        "reflect",
        "runtime",
    ] {
        let limit = std_paths.len() + 40;
        collect_go(&gostd.join(sub), &mut std_paths, limit);
    }
    paths.extend(std_paths);
    let mut v: Vec<Vec<u8>> = paths
        .iter()
        .filter_map(|p| std::fs::read(p).ok())
        .filter(|b| b.len() <= 64 << 10)
        .collect();
    v.push(b"package p\n\ntype I interface{ M() }\ntype T struct{}\nfunc (T) M() {}\nfunc F(i I) { i.M(); F(T{}) }\n".to_vec());
    v
}

/// Parses and extracts one input the way the pipeline does.
fn facts_of(
    parser: &mut tree_sitter::Parser,
    qs: &QuerySet,
    src: &[u8],
    bodies: bool,
) -> FileFacts {
    match syntax::parse(parser, src) {
        Some(tree) => facts::extract(qs, &tree, src, ExtractOptions { bodies }),
        None => FileFacts::default(),
    }
}

/// One batch: a package of `srcs` (plus a second package importing it), resolved and
/// checked. Returns the slowest file's time.
fn run_batch(
    parser: &mut tree_sitter::Parser,
    qs: &QuerySet,
    srcs: &[Vec<u8>],
) -> (Duration, usize) {
    let mut worst = (Duration::ZERO, 0);
    let mut inputs = Vec::new();
    let mut times = Vec::new();
    for (i, src) in srcs.iter().enumerate() {
        let t0 = Instant::now();
        let f = facts_of(parser, qs, src, false);
        times.push(t0.elapsed());
        let (dir, path) = if i % 4 == 3 {
            ("q", "example.com/fuzz/q")
        } else {
            ("p", "example.com/fuzz/p")
        };
        inputs.push(FileInput {
            rel: format!("{dir}/f{i}.go"),
            import_path: path.to_string(),
            dir: dir.to_string(),
            is_test: i % 5 == 4,
            vendor: false,
            external: false,
            facts: f,
        });
    }
    let model = Model::build(inputs);
    let members = methods::all_members(&model);
    let _ = methods::implementations(&model, &members);
    let _ = methods::interface_extensions(&model);
    // item -> symbol per file, as check::resolve_all computes it.
    let mut item_syms: Vec<Vec<u32>> = model
        .files
        .iter()
        .map(|f| vec![u32::MAX; f.input.facts.items.len()])
        .collect();
    for (i, s) in model.syms.iter().enumerate() {
        if s.file != u32::MAX && s.item != u32::MAX && s.kind != SymKind::IfaceMethod {
            if let Some(slot) = item_syms
                .get_mut(s.file as usize)
                .and_then(|v| v.get_mut(s.item as usize))
            {
                *slot = i as u32;
            }
        }
    }
    let mut ov = Overlay::new(&model.types);
    let mut cache = VarCache::default();
    for (fid, f) in model.files.iter().enumerate() {
        let idx: usize = f.input.rel[3..f.input.rel.len() - 3].parse().unwrap();
        let src = &srcs[idx];
        let t0 = Instant::now();
        let facts = facts_of(parser, qs, src, true);
        let _ = check_file(
            &model,
            &members,
            fid as u32,
            &facts,
            &[],
            &item_syms[fid],
            &mut ov,
            &mut cache,
        );
        let t = t0.elapsed() + times[idx];
        if t > worst.0 {
            worst = (t, src.len());
        }
    }
    worst
}

#[test]
fn fuzz_extractor_and_resolver() {
    // Same room as the pipeline's workers: deep nesting recurses.
    let h = std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(fuzz_body)
        .unwrap();
    h.join().unwrap();
}

fn fuzz_body() {
    let secs: u64 = std::env::var("CODEWALK_FUZZ_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    let seed: u64 = std::env::var("CODEWALK_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5EED_C0DE_2024);
    let qs = QuerySet::global().expect("queries compile");
    let mut parser = syntax::new_parser();
    let corpus = corpus();
    assert!(corpus.len() > 5, "corpus too small");
    let mut rng = Rng(seed | 1);
    let budget = Duration::from_secs(secs);
    let start = Instant::now();
    let (mut batches, mut files, mut bytes) = (0u64, 0u64, 0u64);
    let mut worst = (Duration::ZERO, 0usize);
    let mut crashes = Vec::new();
    let crash_dir = Path::new(env!("CARGO_TARGET_TMPDIR"));
    // Silence the default hook's backtraces for caught panics; report them ourselves.
    let prev = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    // The unmutated corpus first (real code must pass), then mutants and random bytes.
    let mut pristine = corpus
        .chunks(6)
        .map(|c| c.to_vec())
        .collect::<Vec<_>>()
        .into_iter();
    while start.elapsed() < budget {
        let batch: Vec<Vec<u8>> = match pristine.next() {
            Some(b) => b,
            None => (0..1 + rng.below(6))
                .map(|_| {
                    if rng.chance(15) {
                        let n = rng.below(4096);
                        (0..n).map(|_| rng.next() as u8).collect()
                    } else {
                        let base = &corpus[rng.below(corpus.len())];
                        mutate(&mut rng, base, &corpus)
                    }
                })
                .collect(),
        };
        let r = catch_unwind(AssertUnwindSafe(|| run_batch(&mut parser, qs, &batch)));
        batches += 1;
        files += batch.len() as u64;
        bytes += batch.iter().map(|b| b.len() as u64).sum::<u64>();
        match r {
            Ok(w) => {
                if w.0 > worst.0 {
                    worst = w;
                }
            }
            Err(e) => {
                let msg = e
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                let n = crashes.len();
                for (i, src) in batch.iter().enumerate() {
                    let _ = std::fs::write(crash_dir.join(format!("fuzz-crash-{n}-{i}.go")), src);
                }
                crashes.push(format!("batch {batches}: {msg}"));
                parser = syntax::new_parser();
                if crashes.len() >= 5 {
                    break;
                }
            }
        }
    }
    std::panic::set_hook(prev);
    eprintln!(
        "fuzz: {batches} batches, {files} files, {:.1} MB in {:.1?}; slowest file {:?} ({} bytes)",
        bytes as f64 / 1e6,
        start.elapsed(),
        worst.0,
        worst.1
    );
    assert!(
        crashes.is_empty(),
        "panics (inputs in {}/fuzz-crash-*.go):\n{}",
        crash_dir.display(),
        crashes.join("\n")
    );
    assert!(
        worst.0 < PER_FILE_LIMIT,
        "a file took {:?} (limit {PER_FILE_LIMIT:?})",
        worst.0
    );
    assert!(batches > 20, "too few batches ran: {batches}");
}
