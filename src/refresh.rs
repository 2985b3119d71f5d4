//! Re-indexing without the pipeline, when the live generation still stands for the files:
//!
//! - **Up to date**: the same files with the same sizes and times, or (same paths and
//!   go.mod files) with the same contents: the files whose size or time moved are hashed
//!   (`git checkout` back and forth rewrites files without changing them), and the manifest
//!   records the new times.
//! - **Refreshed**: the files whose contents changed have the facts (declarations, bodies,
//!   positions, doc comments) the previous generation recorded, so everything derived from
//!   facts is the same too: symbols, method sets, implementations, call sites, the symbol
//!   documents of the search index. Lines appended after the last declaration, a comment
//!   word replaced by one as long and the like (an edit that moves a byte of a declaration
//!   changes its span, a fact). The new generation takes over the previous one's
//!   `index.bin` (a copy, with the changed files' content hash, size, time and line count
//!   rewritten), `calls.bin` and `facts.bin` (hard links: their entries for the changed
//!   files name the old contents, so the next full run resolves and parses those files
//!   again), and its search index with the changed files' code chunks replaced
//!   (`search::refresh_index`).
//!
//! Input: the walk's files and the live generation. Output: [`Reuse`]: the manifest of an
//! index that stands, or `Rebuild` when something else changed (a file's facts, the file
//! list, a file it cannot read) and the caller runs the whole pipeline.
//! Must not know: how facts are resolved.

use crate::analysis::Index;
use crate::facts::cache::OldFacts;
use crate::pipeline::{self, Digests};
use crate::search::{self, BuildReport, ChangedText, Decl};
use crate::store::{self, FileUpdate, FileView, Manifest};
use crate::syntax::QuerySet;
use crate::walk::{self, Discovery, SourceFile};
use anyhow::{Context, Result};
use rayon::prelude::*;
use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

/// More changed files than this: the whole pipeline (parsing them is most of its work).
const MAX_FILES: usize = 2000;

/// What [`reuse`] found.
pub enum Reuse {
    /// The live generation stands as it is (its manifest, with the new inputs digest).
    UpToDate(Manifest),
    /// A new generation was committed.
    Refreshed(Refreshed),
    /// The pipeline must run.
    Rebuild,
}

/// What a refresh did.
pub struct Refreshed {
    pub manifest: Manifest,
    /// Files whose text changed.
    pub changed: usize,
    pub search: BuildReport,
}

/// A listed file whose size or time differs from what the live index recorded.
struct Moved<'a> {
    source: &'a SourceFile,
    rel: String,
    /// Index in the live index's files, and its record there.
    file: u32,
    old: FileView<'a>,
    external: bool,
    /// xxh3 of its bytes now.
    hash: u64,
    /// Its bytes, when they changed (parsed and indexed again, not read again).
    bytes: Option<Vec<u8>>,
}

/// Whether the live generation of `index_dir` stands for the files listed now, or can be
/// taken over (`prev_gen` being the generation the caller read as live).
pub fn reuse(
    index_dir: &Path,
    prev_gen: Option<&Path>,
    digest: Digests,
    disc: &Discovery,
    external: &[Discovery],
    t0: std::time::Instant,
) -> Result<Reuse> {
    let Ok(ix) = Index::open(index_dir) else {
        return Ok(Reuse::Rebuild);
    };
    let mut m = ix.opened.manifest.clone();
    if m.codewalk_version != env!("CARGO_PKG_VERSION") {
        return Ok(Reuse::Rebuild);
    }
    if m.inputs_digest == digest.all {
        return Ok(Reuse::UpToDate(m));
    }
    if m.layout_digest != digest.layout {
        return Ok(Reuse::Rebuild);
    }
    let Some(moved) = moved_files(&ix, disc, external) else {
        return Ok(Reuse::Rebuild);
    };
    let changed: Vec<&Moved> = moved.iter().filter(|f| f.bytes.is_some()).collect();
    if changed.is_empty() {
        m.inputs_digest = digest.all;
        return Ok(match ix.opened.rewrite_manifest(&m) {
            Ok(()) => Reuse::UpToDate(m),
            Err(_) => Reuse::Rebuild,
        });
    }
    match prev_gen.filter(|p| *p == ix.opened.gen) {
        Some(prev) => refresh(&ix, index_dir, prev, digest, &changed, t0),
        None => Ok(Reuse::Rebuild),
    }
}

/// The listed files whose size or time moved, hashed, with the bytes of those whose
/// contents changed. `None` when a listed file is not in the index, or one that moved is
/// too large or cannot be read, or more than [`MAX_FILES`] changed contents.
fn moved_files<'a>(
    ix: &'a Index,
    disc: &'a Discovery,
    external: &'a [Discovery],
) -> Option<Vec<Moved<'a>>> {
    let stored: HashMap<&str, (u32, FileView)> =
        ix.files().map(|(i, f)| (f.rel(), (i, f))).collect();
    let listed = std::iter::once((disc, ""))
        .chain(external.iter().map(|e| (e, "$GOROOT/src/")))
        .flat_map(|(d, prefix)| d.files.iter().map(move |f| (f, prefix)));
    let mut moved = Vec::new();
    for (f, prefix) in listed {
        let rel = format!("{prefix}{}", f.rel);
        let &(file, old) = stored.get(rel.as_str())?;
        if old.size == f.size && old.mtime_ns == f.mtime_ns {
            continue;
        }
        if f.too_large {
            return None;
        }
        moved.push((f, rel, file, old, !prefix.is_empty()));
    }
    let changed = AtomicUsize::new(0);
    moved
        .into_par_iter()
        .map(|(source, rel, file, old, external)| {
            let bytes = walk::read_source(source).ok()?;
            let hash = xxhash_rust::xxh3::xxh3_64(&bytes);
            let bytes = (hash != old.hash).then_some(bytes);
            if bytes.is_some() && changed.fetch_add(1, Ordering::Relaxed) >= MAX_FILES {
                return None;
            }
            Some(Moved {
                source,
                rel,
                file,
                old,
                external,
                hash,
                bytes,
            })
        })
        .collect()
}

/// Takes the live generation `prev_gen` over when the `changed` files (contents changed)
/// have the facts it recorded for them.
fn refresh(
    ix: &Index,
    index_dir: &Path,
    prev_gen: &Path,
    digest: Digests,
    changed: &[&Moved],
    t0: std::time::Instant,
) -> Result<Reuse> {
    let build = pipeline::build_stamp();
    let old_facts = OldFacts::open(&prev_gen.join(crate::facts::cache::FILE_NAME), build);
    let Some(old_facts) = old_facts.filter(|_| changed.iter().all(|c| !c.external)) else {
        return Ok(Reuse::Rebuild);
    };
    let qs = QuerySet::global().map_err(|e| anyhow::anyhow!("{e}"))?;
    // Each file's facts must be the recorded ones; its line count is what may differ.
    let lines: Option<Vec<u32>> = changed
        .par_iter()
        .map_init(
            || None,
            |parser, c| {
                let facts = pipeline::facts_of(parser, qs, c.bytes.as_deref()?, false);
                let lines = facts.lines;
                let recorded = old_facts.entry(&c.rel)?.digest;
                (crate::facts::cache::digest(facts)? == recorded).then_some(lines)
            },
        )
        .collect();
    let Some(lines) = lines else {
        return Ok(Reuse::Rebuild);
    };

    // The changed files' declarations, for their code chunks.
    let by_file: HashMap<u32, usize> = changed
        .iter()
        .enumerate()
        .map(|(k, c)| (c.file, k))
        .collect();
    let mut decls: Vec<Vec<Decl>> = (0..changed.len()).map(|_| Vec::new()).collect();
    let t = &ix.opened.tables;
    for id in 0..t.nsyms() as u32 {
        let s = t.sym(id);
        if !search::names_chunks(s.file, s.kind, s.start_line, s.end_line) {
            continue;
        }
        if let Some(&k) = by_file.get(&s.file) {
            decls[k].push(Decl {
                start_line: s.start_line,
                end_line: s.end_line,
                kind: s.kind.as_str(),
                qname: s.qname(),
            });
        }
    }
    let texts: Vec<ChangedText> = changed
        .iter()
        .zip(decls)
        .map(|(c, decls)| ChangedText {
            rel: &c.rel,
            pkg: t.pkg(c.old.pkg).map_or("", |p| p.path()),
            hash: c.hash,
            size: c.source.size,
            mtime_ns: c.source.mtime_ns,
            bytes: c.bytes.as_deref().unwrap_or_default(),
            decls,
        })
        .collect();

    let mut manifest = ix.opened.manifest.clone();
    manifest.inputs_digest = digest.all;
    manifest.created_unix = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    manifest.reused_files = manifest.files + manifest.external_files - changed.len() as u64;
    manifest.source_bytes = (manifest.source_bytes as i128
        + changed
            .iter()
            .map(|c| c.source.size as i128 - c.old.size as i128)
            .sum::<i128>())
    .max(0) as u64;
    let pending = store::begin(index_dir)?;
    let made = (|| -> Result<Option<BuildReport>> {
        let Some(report) = search::refresh_index(&pending.dir, prev_gen, &texts)? else {
            return Ok(None);
        };
        let index = pending.dir.join("index.bin");
        std::fs::copy(prev_gen.join("index.bin"), &index)
            .with_context(|| format!("cannot write {}", index.display()))?;
        let updates: Vec<FileUpdate> = changed
            .iter()
            .zip(&lines)
            .map(|(c, &lines)| FileUpdate {
                file: c.file,
                hash: c.hash,
                size: c.source.size,
                mtime_ns: c.source.mtime_ns,
                lines,
            })
            .collect();
        store::patch_files(&index, &updates)?;
        for name in [crate::facts::cache::FILE_NAME, crate::callcache::FILE_NAME] {
            let (from, to) = (prev_gen.join(name), pending.dir.join(name));
            if from.exists() && std::fs::hard_link(&from, &to).is_err() {
                std::fs::copy(&from, &to)
                    .with_context(|| format!("cannot write {}", to.display()))?;
            }
        }
        manifest.index_seconds = t0.elapsed().as_secs_f64();
        pending.write_manifest(&manifest)?;
        Ok(Some(report))
    })();
    match made {
        Ok(Some(search)) => {
            pending.commit()?;
            Ok(Reuse::Refreshed(Refreshed {
                manifest,
                changed: changed.len(),
                search,
            }))
        }
        Ok(None) => {
            pending.abandon();
            Ok(Reuse::Rebuild)
        }
        Err(e) => {
            pending.abandon();
            Err(e)
        }
    }
}
