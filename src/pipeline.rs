//! The indexing pipeline: files → facts (parallel) → model → call sites (parallel).
//!
//! Input: a root directory and [`IndexOptions`]. Output: a [`Built`] value holding the model,
//! the implementation pairs and every file's resolved call sites, ready for `store`.
//! Must not know: the on-disk index format, output formats.

use crate::callcache::{self, OldCalls};
use crate::facts::cache::{FactsFile, OldFacts};
use crate::facts::{self, ExtractOptions, FileFacts, Text};
use crate::gomod::{ModuleMap, Origin};
use crate::resolve::check::{self, FileCalls};
use crate::resolve::methods::{self, Impl, Members};
use crate::resolve::model::FileId;
use crate::resolve::{FileInput, Model};
use crate::syntax::{self, QuerySet};
use crate::walk::{self, Discovery, SourceFile, WalkOptions};
use anyhow::{Context, Result};
use rayon::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

#[derive(Clone, Debug, Default)]
pub struct IndexOptions {
    /// GOROOT whose `src` is indexed as external packages (standard library).
    pub goroot: Option<PathBuf>,
    /// Skip looking for a GOROOT.
    pub no_std: bool,
    pub walk: WalkOptions,
}

/// What one file contributes before resolution.
pub struct Parsed {
    pub source: SourceFile,
    pub import_path: String,
    pub dir: String,
    pub vendor: bool,
    pub external: bool,
    pub facts: FileFacts,
    pub hash: u64,
    /// Why the file could not be read, if it could not.
    pub error: Option<String>,
    /// The facts come from the previous generation's `facts.bin`.
    pub reused: bool,
}

#[derive(Default, Debug, Clone)]
pub struct Stats {
    pub files: u64,
    /// Files (external ones included) whose facts were taken over from the previous
    /// generation instead of parsed.
    pub reused_files: u64,
    /// Files whose call sites were taken over from the previous generation.
    pub reused_calls: u64,
    /// Why this generation has no `facts.bin` for the next run, if it has none.
    pub facts_cache_error: Option<String>,
    pub external_files: u64,
    pub bytes: u64,
    pub syntax_error_files: u64,
    pub unreadable_files: u64,
    pub too_large_files: u64,
    pub warnings: Vec<String>,
}

pub struct Built {
    pub root: PathBuf,
    /// The model, its files' items taken out (see `kept`).
    pub model: Model,
    /// Per model file, what the index records keep of each item.
    pub kept: Vec<Vec<Kept>>,
    /// This generation's `facts.bin`, where the doc comments and signatures of `kept` are.
    pub texts: Option<FactsFile>,
    pub members: Vec<Arc<Members>>,
    pub impls: Vec<Impl>,
    pub calls: Vec<FileCalls>,
    pub stats: Stats,
    /// Per model file: content hash, size, mtime, flags.
    pub file_meta: Vec<FileMeta>,
    pub aliases: Vec<(String, String)>,
}

/// What the index records keep of a declaration's item: its span, signature and doc. As
/// `Built` carries it, the texts are still in `facts.bin` when the facts were stored there
/// (see [`Built::texts`]); `to_store` reads them into `Kept<String>`.
pub struct Kept<T = Text> {
    pub start_line: u32,
    pub end_line: u32,
    pub start_byte: u32,
    pub end_byte: u32,
    pub signature: T,
    pub doc: T,
}

#[derive(Clone, Debug)]
pub struct FileMeta {
    pub hash: u64,
    pub size: u64,
    pub mtime_ns: i128,
    pub abs: PathBuf,
    pub syntax_errors: u32,
    pub first_error_line: Option<u32>,
    pub lines: u32,
}

/// The length of the text before the first NUL or invalid UTF-8 byte, cut at a line end.
fn text_prefix(src: &[u8]) -> Option<usize> {
    let bad = match std::str::from_utf8(src) {
        Ok(_) => src.iter().position(|&b| b == 0)?,
        Err(e) => e
            .valid_up_to()
            .min(src.iter().position(|&b| b == 0).unwrap_or(usize::MAX)),
    };
    let cut = src[..bad].iter().rposition(|&b| b == b'\n')? + 1;
    (cut > 0).then_some(cut)
}

fn dir_of(rel: &str) -> &str {
    rel.rfind('/').map(|i| &rel[..i]).unwrap_or("")
}

/// Lists and parses every file under `root` (and the standard library, when found).
pub fn discover_all(root: &Path, opts: &IndexOptions) -> Result<(Discovery, Vec<Discovery>)> {
    let disc = walk::discover(root, &opts.walk)?;
    let mut external = Vec::new();
    if !opts.no_std {
        let goroot = opts.goroot.clone().or_else(crate::gomod::std_goroot);
        if let Some(gr) = goroot {
            let src = gr.join("src");
            let canon = src.canonicalize().unwrap_or(src.clone());
            // The root itself is (inside) GOROOT/src: nothing external to add.
            if src.is_dir() && !disc.root.starts_with(&canon) && !canon.starts_with(&disc.root) {
                let mut d = walk::discover(&src, &opts.walk).with_context(|| {
                    format!("listing the standard library in {}", src.display())
                })?;
                d.files
                    .retain(|f| !f.rel.starts_with("cmd/") && !f.ignored_by_go && !f.is_test);
                external.push(d);
            }
        }
    }
    Ok((disc, external))
}

fn parse_discovery(
    disc: &Discovery,
    external: bool,
    qs: &QuerySet,
    cache: Option<(&FactsFile, Option<&OldFacts>)>,
    progress: &AtomicU64,
) -> Vec<Parsed> {
    let mods = ModuleMap::from_disk(&disc.root, &disc.gomods);
    let prefix = if external { "$GOROOT/src/" } else { "" };
    disc.files
        .par_iter()
        .map_init(
            || None,
            |parser, f| {
                let dir = dir_of(&f.rel).to_string();
                let pp = mods.import_path(&dir);
                let vendor = f.in_vendor || pp.origin == Origin::Vendor;
                let mut source = f.clone();
                source.rel = format!("{prefix}{}", f.rel);
                let reused = match cache {
                    Some((new, Some(old))) if !f.too_large => {
                        new.reuse(old, &source.rel, f.size, f.mtime_ns)
                    }
                    _ => None,
                };
                if let Some(r) = reused {
                    progress.fetch_add(1, Ordering::Relaxed);
                    return Parsed {
                        source,
                        import_path: pp.path,
                        dir: format!("{prefix}{dir}"),
                        vendor,
                        external,
                        facts: r.facts,
                        hash: r.hash,
                        error: None,
                        reused: true,
                    };
                }
                let mut error = None;
                let src = if f.too_large {
                    error = Some(format!("larger than {} bytes, not parsed", f.size));
                    Vec::new()
                } else {
                    match walk::read_source(f) {
                        Ok(b) => b,
                        Err(e) => {
                            error = Some(e.to_string());
                            Vec::new()
                        }
                    }
                };
                let hash = xxhash_rust::xxh3::xxh3_64(&src);
                let mut facts = facts_of(parser, qs, &src, external);
                // Unreadable and oversized files are not recorded: the next run tries again.
                if let (Some((new, _)), None) = (cache, &error) {
                    new.put(&source.rel, f.size, f.mtime_ns, hash, &mut facts);
                }
                progress.fetch_add(1, Ordering::Relaxed);
                Parsed {
                    source,
                    import_path: pp.path,
                    dir: format!("{prefix}{dir}"),
                    vendor,
                    external,
                    facts,
                    hash,
                    error,
                    reused: false,
                }
            },
        )
        .collect()
}

/// The facts of a file's bytes. Bodies are lowered now (external packages need declarations
/// only), so call resolution does not parse every file a second time. `parser` is the
/// thread's parser for sources the arena does not take ([`syntax::with_tree`]).
pub fn facts_of(
    parser: &mut Option<tree_sitter::Parser>,
    qs: &QuerySet,
    src: &[u8],
    external: bool,
) -> FileFacts {
    let opts = ExtractOptions { bodies: !external };
    let mut facts = syntax::with_tree(parser, src, |tree| match tree {
        Some(tree) => facts::extract(qs, tree, src, opts),
        None => FileFacts::default(),
    });
    // Binary noise can make tree-sitter's recovery swallow the whole file: keep what
    // precedes the first non-text byte.
    if facts.items.is_empty() && facts.syntax_errors > 0 {
        if let Some(cut) = text_prefix(src) {
            let prefix = syntax::with_tree(parser, &src[..cut], |tree| {
                tree.map(|tree| facts::extract(qs, tree, &src[..cut], opts))
            });
            if let Some(mut prefix) = prefix {
                prefix.syntax_errors = prefix.syntax_errors.max(facts.syntax_errors);
                prefix.first_error_line = Some(
                    prefix
                        .first_error_line
                        .unwrap_or(prefix.lines)
                        .min(facts.first_error_line.unwrap_or(u32::MAX)),
                );
                prefix.lines = facts.lines;
                facts = prefix;
            }
        }
    }
    facts
}

/// Takes the items out of the model, keeping what the index records need: everything else
/// of an item (encoded signatures and initialisers, receivers, type parameters) is freed
/// now. Doc comments and signatures stay where parsing moved them, in `facts.bin`, until
/// the records read them.
fn keep_items(model: &mut Model) -> Vec<Vec<Kept>> {
    model
        .files
        .par_iter_mut()
        .map(|f| {
            std::mem::take(&mut f.input.facts.items)
                .into_iter()
                .map(|it| Kept {
                    start_line: it.start_line,
                    end_line: it.end_line,
                    start_byte: it.start_byte,
                    end_byte: it.end_byte,
                    signature: it.signature,
                    doc: it.doc,
                })
                .collect()
        })
        .collect()
}

/// Digests of what an index is built from (see [`inputs_digest`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Digests {
    /// Everything: `layout` plus each file's size and modification time.
    pub all: u64,
    /// The roots, this codewalk build, the list of files (paths only), every `go.mod` /
    /// `go.work` / `vendor/modules.txt` (path, size, mtime) and the directory aliases.
    pub layout: u64,
}

/// Digests of the inputs of an index. Equal `all` digests mean re-indexing would rebuild
/// the same index, so `codewalk index` can stop after the walk; equal `layout` digests mean
/// only file contents can differ, which hashing the files whose size or mtime moved settles.
pub fn inputs_digest(disc: &Discovery, external: &[Discovery]) -> Digests {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    let mut stat = xxhash_rust::xxh3::Xxh3::new();
    // This build of codewalk: another build may resolve differently, so its index is not
    // this one's.
    h.update(&build_stamp().to_le_bytes());
    for d in std::iter::once(disc).chain(external) {
        h.update(d.root.as_os_str().as_encoded_bytes());
        h.update(&[0xff]);
        for f in &d.files {
            h.update(f.rel.as_bytes());
            h.update(&[0]);
            stat.update(&f.size.to_le_bytes());
            stat.update(&f.mtime_ns.to_le_bytes());
        }
        for g in &d.gomods {
            h.update(g.as_os_str().as_encoded_bytes());
            h.update(&[0]);
            digest_stat(&mut h, &d.root.join(g));
        }
        for (a, b) in &d.symlink_aliases {
            h.update(a.as_bytes());
            h.update(&[1]);
            h.update(b.as_bytes());
        }
    }
    let layout = h.digest();
    h.update(&stat.digest().to_le_bytes());
    Digests {
        all: h.digest(),
        layout,
    }
}

/// Adds a file's size and modification time (nothing if it cannot be read) to a digest.
fn digest_stat(h: &mut xxhash_rust::xxh3::Xxh3, path: &Path) {
    if let Ok(m) = std::fs::metadata(path) {
        h.update(&m.len().to_le_bytes());
        let mt = m
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        h.update(&mt.to_le_bytes());
    }
}

/// Runs the whole pipeline.
pub fn build(root: &Path, opts: &IndexOptions, progress: &AtomicU64) -> Result<Built> {
    let (disc, external) = discover_all(root, opts)?;
    build_discovered(disc, external, None, progress)
}

/// Where [`build_discovered`] writes this generation's facts, and the previous one's.
pub struct FactsPaths {
    pub new: PathBuf,
    pub old: Option<PathBuf>,
}

/// Identifies this build of codewalk (version, executable size and time): facts written by
/// another build are not reused, as its extraction may differ.
pub fn build_stamp() -> u64 {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    h.update(env!("CARGO_PKG_VERSION").as_bytes());
    if let Ok(exe) = std::env::current_exe() {
        digest_stat(&mut h, &exe);
    }
    h.digest()
}

/// Runs the pipeline on files already listed by [`discover_all`].
///
/// With `facts`, the facts of every file go to `facts.new` (function bodies wait there for
/// call resolution instead of in memory), and files unchanged since `facts.old` was written
/// are not parsed again. Without it, or when `facts.new` cannot be created, everything is
/// parsed and kept in memory.
pub fn build_discovered(
    disc: Discovery,
    external: Vec<Discovery>,
    facts: Option<&FactsPaths>,
    progress: &AtomicU64,
) -> Result<Built> {
    // Deeply nested generated expressions recurse deeply: give workers room.
    let _ = rayon::ThreadPoolBuilder::new()
        .stack_size(256 << 20)
        .build_global();
    let qs = QuerySet::global().map_err(|e| anyhow::anyhow!("{e}"))?;
    let lap = crate::memory::Timings::start();
    let build = build_stamp();
    let new = facts.and_then(|p| FactsFile::create(&p.new, build).ok());
    let old = facts
        .and_then(|p| p.old.as_deref())
        .and_then(|o| OldFacts::open(o, build));
    let cache = new.as_ref().map(|n| (n, old.as_ref()));
    crate::memory::keep_freed_pages(crate::memory::KEEP_FREED_MS);
    let mut parsed = parse_discovery(&disc, false, qs, cache, progress);
    for d in &external {
        parsed.extend(parse_discovery(d, true, qs, cache, progress));
    }
    drop(old);
    // The model and call resolution hold the run's peak: from here freed pages go back.
    syntax::arena::trim();
    crate::memory::keep_freed_pages(0);
    lap.lap("parse");
    let mut stats = Stats {
        warnings: disc.warnings.clone(),
        ..Stats::default()
    };
    let mut inputs = Vec::with_capacity(parsed.len());
    let mut metas = Vec::with_capacity(parsed.len());
    for p in parsed {
        stats.reused_files += p.reused as u64;
        if p.external {
            stats.external_files += 1;
        } else {
            stats.files += 1;
            stats.bytes += p.source.size;
            if p.facts.syntax_errors > 0 {
                stats.syntax_error_files += 1;
            }
            if p.source.too_large {
                stats.too_large_files += 1;
            } else if p.error.is_some() {
                stats.unreadable_files += 1;
            }
        }
        if let Some(e) = &p.error {
            if !p.external {
                stats.warnings.push(format!("{}: {e}", p.source.rel));
            }
        }
        metas.push(FileMeta {
            hash: p.hash,
            size: p.source.size,
            mtime_ns: p.source.mtime_ns,
            abs: p.source.abs.clone(),
            syntax_errors: p.facts.syntax_errors,
            first_error_line: p.facts.first_error_line,
            lines: p.facts.lines,
        });
        inputs.push(FileInput {
            rel: p.source.rel,
            import_path: p.import_path,
            dir: p.dir,
            // testdata/ and _dir files are not part of any package the go tool builds:
            // treat them like test files so `--no-tests` leaves them out.
            is_test: p.source.is_test || p.source.ignored_by_go,
            vendor: p.vendor,
            external: p.external,
            facts: p.facts,
        });
    }
    let rels: Vec<String> = inputs.iter().map(|i| i.rel.clone()).collect();
    let mut model = Model::build(inputs);
    // Type expressions of declarations were resolved into the model's types: call
    // resolution reads parameter lists, receivers, type parameters and initialisers only.
    model.files.par_iter_mut().for_each(|f| {
        for it in &mut f.input.facts.items {
            it.ty = None;
        }
    });
    lap.lap("model");
    // The model reorders files; carry the metadata along by path.
    let by_rel: std::collections::HashMap<&str, usize> = rels
        .iter()
        .enumerate()
        .map(|(i, r)| (r.as_str(), i))
        .collect();
    let file_meta: Vec<FileMeta> = model
        .files
        .iter()
        .map(|f| metas[by_rel[f.input.rel.as_str()]].clone())
        .collect();
    let members = methods::all_members(&model);
    // Call sites of unchanged files, and the implementation pairs, are taken over when no
    // declaration changed.
    let calls_key = callcache::key(&model);
    let mut old_calls = facts
        .and_then(|p| p.old.as_deref())
        .and_then(|o| OldCalls::open(&o.with_file_name(callcache::FILE_NAME), build, calls_key));
    let impls = match old_calls.as_mut().and_then(OldCalls::take_impls) {
        Some(impls) => impls,
        None => methods::implementations(&model, &members),
    };
    lap.lap("implementations");
    let reused_calls = AtomicU64::new(0);
    let reuse = |f: FileId| {
        let old = old_calls.as_ref()?;
        let calls = old.get(
            &model.files[f as usize].input.rel,
            file_meta[f as usize].hash,
            f,
        )?;
        reused_calls.fetch_add(1, Ordering::Relaxed);
        Some(calls)
    };
    let calls = check::resolve_all(&model, &members, &file_meta, qs, new.as_ref(), &reuse);
    drop(old_calls);
    stats.reused_calls = reused_calls.into_inner();
    if let Some(p) = facts.filter(|_| new.is_some()) {
        let path = p.new.with_file_name(callcache::FILE_NAME);
        let written = callcache::write(&path, build, calls_key, &model, &file_meta, &calls, &impls);
        if let Err(e) = written {
            // Only the next run is affected: it resolves every file again.
            let _ = std::fs::remove_file(&path);
            stats
                .warnings
                .push(format!("{} not written: {e}", path.display()));
        }
    }
    stats.facts_cache_error = match &new {
        Some(n) => n.finish().err().map(|e| e.to_string()),
        None => facts.map(|p| format!("cannot create {}", p.new.display())),
    };
    lap.lap("calls");
    let kept = keep_items(&mut model);
    let shed = model.shed_resolution_state();
    // Freed on another thread while the records are made.
    std::thread::spawn(move || drop(shed));
    lap.lap("items kept, resolution state shed");
    Ok(Built {
        root: disc.root.clone(),
        model,
        kept,
        texts: new,
        members,
        impls,
        calls,
        stats,
        file_meta,
        aliases: disc.symlink_aliases.clone(),
    })
}
