//! Re-indexing when files changed in their text only: their facts (declarations, bodies,
//! positions, doc comments) are what the previous generation recorded, so everything
//! derived from facts is too: symbols, method sets, implementations, call sites, the
//! symbol documents of the search index. Edits to comments inside bodies, lines appended at
//! the end of a file, string literals of the same length and the like.
//!
//! The new generation takes over the previous one's `index.bin` (a copy, with the changed
//! files' content hash, size, time and line count rewritten), `calls.bin` and `facts.bin`
//! (hard links: their entries for the changed files name the old contents, so the next
//! full run resolves and parses those files again), and its search index with the changed
//! files' code chunks replaced (`search::refresh_index`).
//!
//! Input: the walk's files and the live generation. Output: a committed generation, or
//! `None` when something else changed (a file's facts, the file list, a file it cannot
//! read) and the caller runs the whole pipeline.
//! Must not know: how facts are resolved.

use crate::facts::cache::OldFacts;
use crate::pipeline::{self, Digests};
use crate::search::{self, BuildReport, ChangedText, Decl};
use crate::store::{self, FileUpdate, Kind, Manifest, NONE};
use crate::syntax::{self, QuerySet};
use crate::walk::{self, Discovery, SourceFile};
use anyhow::{Context, Result};
use rayon::prelude::*;
use std::collections::HashMap;
use std::path::Path;

/// More changed files than this: the whole pipeline (parsing them is most of its work).
const MAX_FILES: usize = 2000;

/// What a refresh did.
pub struct Refreshed {
    pub manifest: Manifest,
    /// Files whose text changed.
    pub changed: usize,
    pub search: BuildReport,
}

/// A changed file as the previous index knows it, and what it is now.
struct Changed<'a> {
    source: &'a SourceFile,
    rel: String,
    /// Index in the previous index's files.
    file: u32,
    hash: u64,
    lines: u32,
}

/// Re-indexes `index_dir` (whose live generation is `prev_gen`) when the files that changed
/// since it changed in their text only. `Ok(None)`: the pipeline must run.
pub fn refresh(
    index_dir: &Path,
    prev_gen: &Path,
    digest: Digests,
    disc: &Discovery,
    external: &[Discovery],
    t0: std::time::Instant,
) -> Result<Option<Refreshed>> {
    let Ok(ix) = crate::analysis::Index::open(index_dir) else {
        return Ok(None);
    };
    let old = &ix.opened.manifest;
    if ix.opened.gen != prev_gen
        || old.codewalk_version != env!("CARGO_PKG_VERSION")
        || old.layout_digest != digest.layout
    {
        return Ok(None);
    }
    let build = pipeline::build_stamp();
    let Some(old_facts) = OldFacts::open(&prev_gen.join(crate::facts::cache::FILE_NAME), build)
    else {
        return Ok(None);
    };
    let stored: HashMap<&str, (u32, store::FileView)> =
        ix.files().map(|(i, f)| (f.rel(), (i, f))).collect();
    // Files whose size or time moved; `None` when one is new, too large or unreadable.
    let listed = std::iter::once((disc, ""))
        .chain(external.iter().map(|e| (e, "$GOROOT/src/")))
        .flat_map(|(d, prefix)| d.files.iter().map(move |f| (f, prefix)));
    let mut moved: Vec<(&SourceFile, String, u32)> = Vec::new();
    for (f, prefix) in listed {
        let rel = format!("{prefix}{}", f.rel);
        let Some(&(i, s)) = stored.get(rel.as_str()) else {
            return Ok(None);
        };
        if s.size == f.size && s.mtime_ns == f.mtime_ns {
            continue;
        }
        if f.too_large || !prefix.is_empty() {
            return Ok(None);
        }
        moved.push((f, rel, i));
        if moved.len() > MAX_FILES {
            return Ok(None);
        }
    }
    let qs = QuerySet::global().map_err(|e| anyhow::anyhow!("{e}"))?;
    // Parse the files whose contents changed; their facts must be the recorded ones.
    let checked: Option<Vec<Option<Changed>>> = moved
        .par_iter()
        .map_init(syntax::new_parser, |parser, (f, rel, i)| {
            let src = walk::read_source(f).ok()?;
            let hash = xxhash_rust::xxh3::xxh3_64(&src);
            let (_, s) = stored[rel.as_str()];
            if hash == s.hash {
                return Some(None); // touched only, as `up_to_date` allows
            }
            let facts = pipeline::facts_of(parser, qs, &src, false);
            let recorded = old_facts.entry(rel)?.digest;
            (crate::facts::cache::digest(&facts)? == recorded).then_some(Some(Changed {
                source: f,
                rel: rel.clone(),
                file: *i,
                hash,
                lines: facts.lines,
            }))
        })
        .collect();
    let Some(changed) = checked else {
        return Ok(None);
    };
    let changed: Vec<Changed> = changed.into_iter().flatten().collect();
    if changed.is_empty() {
        return Ok(None);
    }

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
        if s.file == NONE || s.kind == Kind::IfaceMethod || s.end_line < s.start_line {
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
            pkg: t.pkg(stored[c.rel.as_str()].1.pkg).map_or("", |p| p.path()),
            hash: c.hash,
            size: c.source.size,
            mtime_ns: c.source.mtime_ns,
            decls,
        })
        .collect();

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
            .map(|c| FileUpdate {
                file: c.file,
                hash: c.hash,
                size: c.source.size,
                mtime_ns: c.source.mtime_ns,
                lines: c.lines,
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
        Ok(Some(report))
    })();
    let report = match made {
        Ok(Some(r)) => r,
        Ok(None) => {
            pending.abandon();
            return Ok(None);
        }
        Err(e) => {
            pending.abandon();
            return Err(e);
        }
    };
    let mut manifest = old.clone();
    manifest.inputs_digest = digest.all;
    manifest.created_unix = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    manifest.index_seconds = t0.elapsed().as_secs_f64();
    manifest.reused_files = manifest.files + manifest.external_files - changed.len() as u64;
    manifest.source_bytes = (manifest.source_bytes as i128
        + changed
            .iter()
            .map(|c| c.source.size as i128 - stored[c.rel.as_str()].1.size as i128)
            .sum::<i128>())
    .max(0) as u64;
    if let Err(e) = pending.write_manifest(&manifest) {
        pending.abandon();
        return Err(e);
    }
    pending.commit()?;
    Ok(Some(Refreshed {
        manifest,
        changed: changed.len(),
        search: report,
    }))
}
