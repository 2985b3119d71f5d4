//! Building the search index of a generation (`gen-<n>/search/`), shard by shard.
//!
//! The index is cut into shards: contiguous ranges of package paths, chosen when there is no
//! previous search index to follow (about [`TARGET_SHARDS`] of them, by symbol documents and
//! source bytes) and kept from one generation to the next. A shard's documents are written to its own
//! segments and its trigram postings to its own file, and the shard has a digest of everything
//! its documents are made of: a layout digest (the range, its symbols' and files' keys in
//! shard order) and each file's content hash. When `codewalk index` runs again, a shard whose
//! digest is unchanged is not built: its segment files and trigram file are hard-linked from
//! the previous generation. A shard with the same layout and a few changed files is patched:
//! its segments are linked with those files' documents deleted (a new tantivy delete file per
//! segment that held any), the files' new documents go into a new segment, and grep reads
//! those files instead of trusting the linked trigrams. Any other edit rebuilds the shard.
//!
//! `order` (the total order of results) is made so that it does not depend on where the shard
//! boundaries are: a symbol's is (rank, shard, position in the shard by package path and
//! qualified name), which, shards being ranges of package paths, is the order by (rank,
//! package path, qualified name) over the whole index; a code chunk's is (shard, position
//! of its file in the shard by package path and path, chunk in the file). Tantivy's scores
//! use index-wide statistics, so answers are the same whatever the boundaries, and a
//! re-indexed tree answers as a fresh one, with one exception: the documents a patch
//! deletes still count in the term statistics until their shard is built whole again, so
//! code chunk scores can drift a little (a shard is built whole once a tenth of its
//! documents are deleted, or after [`MAX_PATCHES`] patches).

use super::{grep, schema, tokenizer, Fields, GrepFile, GrepFiles, GrepShard, Meta, DIR};
use super::{G_SCAN, G_SYMLINK, SEARCH_FORMAT};
use crate::store::{self, Kind, Symbols, NONE};
use anyhow::{Context, Result};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use tantivy::directory::Directory;
use tantivy::index::{SegmentComponent, SegmentMeta};
use tantivy::indexer::SingleSegmentIndexWriter;
use tantivy::schema::Schema;
use tantivy::{Index, TantivyDocument};
use xxhash_rust::xxh3::Xxh3;

/// Lines of a piece of the text between declarations, and of a piece of a long declaration.
const GAP_CHUNK: u32 = 50;
const DECL_CHUNK: u32 = 100;
/// Indexing memory of each worker before it writes a segment (a shard's segment is also
/// written when the shard is done). More segments cost nothing in answers (ranking uses
/// index-wide statistics and a total `order`), and this memory comes on top of the symbol
/// records while the index is built.
const WRITER_MEMORY_PER_THREAD: usize = 64 << 20;
/// A segment is written once its memory is within this of the budget (tantivy's margin).
const SEGMENT_MARGIN: usize = 1_000_000;
/// Consecutive pieces are grouped into one code document up to this many lines.
const CHUNK: u32 = 60;
/// A code chunk's `order` is (shard, file's position in the shard, chunk in the file), the
/// chunk in 14 bits (later chunks of a file of over 900,000 lines share the last value), so
/// a file's chunks can be replaced without renumbering the other files'.
const CHUNK_BITS: u32 = 14;
const CHUNK_ORDERS: u64 = 1 << CHUNK_BITS;
/// Symbol documents added between two checks of the segment writer's memory.
const SYM_UNIT: usize = 256;
/// A fresh plan cuts the tree into about this many shards of equal weight (one per symbol
/// document plus one per [`BYTES_PER_WEIGHT`] bytes of local source), none lighter than
/// [`MIN_SHARD_WEIGHT`]. Each shard is at least one segment, and a query opens every segment:
/// on the GOPATH tree a symbol search took 7 ms with 5 segments, 12 ms with 12 and 20 ms with
/// 42. With 12, an edit rebuilds a twelfth of the search index.
const TARGET_SHARDS: u64 = 12;
const MIN_SHARD_WEIGHT: u64 = 20_000;
const BYTES_PER_WEIGHT: u64 = 200;
/// The shard plan in the search directory.
pub const SHARDS: &str = "shards.json";

/// `shards.json`: the shards of a search index, what they were built from and where their
/// data is.
#[derive(Serialize, Deserialize, Default, Debug)]
struct ShardPlan {
    format: u32,
    /// `pipeline::build_stamp` of the codewalk that wrote it (a different tokenizer or
    /// document layout must not be reused).
    build: u64,
    shards: Vec<ShardState>,
}

#[derive(Serialize, Deserialize, Default, Debug, Clone)]
struct ShardState {
    /// Smallest package path of the range (the first shard's is ""); the range ends where
    /// the next shard's begins.
    from: String,
    /// xxh3 of everything the shard's documents and trigrams are made of.
    digest: u64,
    /// See [`Shard::layout`]: a shard with the same layout can be patched.
    layout: u64,
    /// See [`Shard::file_digests`].
    file_digests: Vec<u64>,
    /// Tantivy segment ids.
    segments: Vec<String>,
    /// Trigram file ("" when the shard has no files).
    tri: String,
    files: u32,
    /// Files (positions in the shard) that grep reads whatever the trigrams say: files that
    /// changed between parsing and this build, and files replaced by a patch (their trigrams
    /// in `tri` are the old text's).
    scan: Vec<u32>,
    sym_docs: u64,
    code_docs: u64,
    /// Documents deleted from the shard's segments by patches, and how many patches were
    /// made since the shard was last built whole.
    deleted: u64,
    patches: u32,
}

/// What a build did, for the index summary.
#[derive(Debug, Default, Clone, Copy)]
pub struct BuildReport {
    pub shards: usize,
    pub reused_shards: usize,
    pub patched_shards: usize,
}

/// Rank bits: lower is shown first.
fn sym_rank(flags: u8, exported: bool) -> u64 {
    (flags & store::F_EXTERNAL != 0) as u64 * 8
        + (flags & store::F_TEST != 0) as u64 * 4
        + (flags & store::F_VENDOR != 0) as u64 * 2
        + (!exported) as u64
}

fn is_exported(name: &str) -> bool {
    name.chars().next().is_some_and(|c| c.is_uppercase())
}

fn tags_of(doc: &mut TantivyDocument, f: &Fields, what: &str, flags: u8) {
    doc.add_text(f.tags, what);
    if flags & store::F_TEST != 0 {
        doc.add_text(f.tags, "test");
    }
    if flags & store::F_VENDOR != 0 {
        doc.add_text(f.tags, "vendor");
    }
    if flags & store::F_EXTERNAL != 0 {
        doc.add_text(f.tags, "external");
    }
}

/// Whether a root-relative path goes through a symbolic link (ripgrep, which does not follow
/// links, does not see such files). Memoized per directory prefix.
fn via_symlink(root: &Path, rel: &str, memo: &mut HashMap<String, bool>) -> bool {
    let mut prefix = String::new();
    for (i, comp) in rel.split('/').enumerate() {
        if i > 0 {
            prefix.push('/');
        }
        prefix.push_str(comp);
        let link = *memo.entry(prefix.clone()).or_insert_with(|| {
            std::fs::symlink_metadata(root.join(&prefix))
                .map(|m| m.file_type().is_symlink())
                .unwrap_or(false)
        });
        if link {
            return true;
        }
    }
    false
}

/// Words of the scratch set [`trigrams`] takes: a bit per trigram (2^24 bits, 2 MiB), then a
/// bit per trigram of three ASCII bytes (2^21 bits, 256 KiB). Go source is nearly all ASCII,
/// and the small table stays in a core's L2 cache where the large one missed it at every
/// byte.
pub const TRIGRAM_SCRATCH: usize = (1 << 18) + (1 << 15);

/// Distinct trigrams of `bytes` (ASCII letters folded to lower case), skipping those that span
/// a line break. `seen` is a [`TRIGRAM_SCRATCH`]-word scratch set, left cleared.
pub fn trigrams(bytes: &[u8], seen: &mut [u64], out: &mut Vec<u32>) {
    out.clear();
    if bytes.len() < 3 {
        return;
    }
    let (full, ascii) = seen.split_at_mut(1 << 18);
    // The word and bit of trigram `t` in its table.
    let slot = |t: u32| -> (bool, usize, u64) {
        if t & 0x80_8080 == 0 {
            let i = ((t >> 2) & 0x1F_C000) | ((t >> 1) & 0x3F80) | (t & 0x7F);
            (true, (i >> 6) as usize, 1u64 << (i & 63))
        } else {
            (false, (t >> 6) as usize, 1u64 << (t & 63))
        }
    };
    let fold = |b: u8| b.to_ascii_lowercase() as u32;
    let mut t = (fold(bytes[0]) << 8) | fold(bytes[1]);
    for &b in &bytes[2..] {
        t = ((t << 8) | fold(b)) & 0xFF_FFFF;
        // Trigrams with a newline never match a line-oriented pattern.
        if t & 0xFF == 10 || (t >> 8) & 0xFF == 10 || t >> 16 == 10 {
            continue;
        }
        let (small, w, bit) = slot(t);
        let word = if small { &mut ascii[w] } else { &mut full[w] };
        if *word & bit == 0 {
            *word |= bit;
            out.push(t);
        }
    }
    for &t in out.iter() {
        let (small, w, _) = slot(t);
        if small {
            ascii[w] = 0;
        } else {
            full[w] = 0;
        }
    }
}

/// CPU seconds this process has used (user + system), for the timing line; 0 where
/// `/proc` is missing.
fn cpu_seconds() -> f64 {
    let Ok(s) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    let Some(rest) = s.rsplit_once(')').map(|x| x.1) else {
        return 0.0;
    };
    // After the command name: state is field 3; utime and stime are fields 14 and 15.
    let v: Vec<&str> = rest.split_whitespace().collect();
    let tick = |i: usize| v.get(i).and_then(|x| x.parse::<f64>().ok()).unwrap_or(0.0);
    (tick(11) + tick(12)) / 100.0
}

/// A worker's segments: documents go straight into a tantivy segment writer owned by the
/// thread that makes them (no queue between the thread that builds a document and the one
/// that indexes it, no thread hand-off per document), and a segment is written out when it
/// reaches `budget`. Each worker writes in its own directory (tantivy's single-segment writer
/// records its segment in that directory's meta.json, which is how the segment is found
/// without a race); finished segment files are moved into the search directory, and
/// [`build_index`] lists them all in its meta.json.
struct SegmentSink {
    index: Index,
    /// The worker's own directory.
    dir: PathBuf,
    /// The search index directory the segments are moved to.
    dest: PathBuf,
    budget: usize,
    cur: Option<SingleSegmentIndexWriter<TantivyDocument>>,
    done: Vec<tantivy::index::SegmentMeta>,
}

impl SegmentSink {
    fn new(dest: &Path, worker: usize, schema: Schema, budget: usize) -> Result<SegmentSink> {
        let dir = dest.join(format!("worker-{worker}"));
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        let index = Index::create_in_dir(&dir, schema).context("cannot create the search index")?;
        tokenizer::register(&index);
        Ok(SegmentSink {
            index,
            dir,
            dest: dest.to_path_buf(),
            budget,
            cur: None,
            done: Vec::new(),
        })
    }

    fn add(&mut self, d: TantivyDocument) -> Result<()> {
        let w = match &mut self.cur {
            Some(w) => w,
            None => self.cur.insert(
                SingleSegmentIndexWriter::new(self.index.clone(), self.budget)
                    .context("cannot start a search index segment")?,
            ),
        };
        w.add_document(d)?;
        Ok(())
    }

    /// Writes the segment out when it is full (checked between work units, as tantivy's own
    /// writer checks between batches).
    fn maybe_flush(&mut self) -> Result<()> {
        let full = self
            .cur
            .as_ref()
            .is_some_and(|w| w.mem_usage() >= self.budget - SEGMENT_MARGIN);
        if full {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        let Some(w) = self.cur.take() else {
            return Ok(());
        };
        let cannot = || {
            format!(
                "cannot write a search index segment in {}",
                self.dir.display()
            )
        };
        let index = w.finalize().with_context(cannot)?;
        let metas = index.load_metas().with_context(cannot)?;
        for seg in metas.segments {
            seg.untrack_temp_docstore();
            for file in seg.list_files() {
                match std::fs::rename(self.dir.join(&file), self.dest.join(&file)) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(e).with_context(cannot),
                }
            }
            self.done.push(seg);
        }
        Ok(())
    }
}

/// The previous generation's search index, when this build may take shards from it.
struct Prev {
    dir: PathBuf,
    index: Index,
    plan: ShardPlan,
    segments: HashMap<String, SegmentMeta>,
}

impl Prev {
    fn load(prev_gen: &Path, build: u64) -> Option<Prev> {
        let dir = prev_gen.join(DIR);
        // codewalk.json is written last: without it the index is not complete.
        std::fs::metadata(dir.join("codewalk.json")).ok()?;
        let plan: ShardPlan =
            serde_json::from_slice(&std::fs::read(dir.join(SHARDS)).ok()?).ok()?;
        if plan.format != SEARCH_FORMAT || plan.build != build || plan.shards.is_empty() {
            return None;
        }
        let index = Index::open_in_dir(&dir).ok()?;
        let metas = index.load_metas().ok()?;
        let segments = metas
            .segments
            .into_iter()
            .map(|m| (m.id().uuid_string(), m))
            .collect();
        Some(Prev {
            dir,
            index,
            plan,
            segments,
        })
    }

    /// Hard-links the segment and trigram files of `st` (one of its shards) into `dest`,
    /// with the documents of `delete` deleted: a segment holding any gets a new delete file
    /// instead of its old one, written through the search index being built (whose
    /// directory adds tantivy's footer). Returns the segment metas and the number of
    /// documents deleted now; on error, nothing is left behind in `dest`.
    fn link(
        &self,
        st: &ShardState,
        dest: &Path,
        delete: Option<&Deletion>,
    ) -> Result<(Vec<SegmentMeta>, u64)> {
        let mut made = Vec::new();
        let linked = self.link_into(st, dest, delete, &mut made);
        if linked.is_err() {
            for p in &made {
                let _ = std::fs::remove_file(dest.join(p));
            }
        }
        linked
    }

    /// [`Prev::link`], recording in `made` each file it creates.
    fn link_into(
        &self,
        st: &ShardState,
        dest: &Path,
        delete: Option<&Deletion>,
        made: &mut Vec<PathBuf>,
    ) -> Result<(Vec<SegmentMeta>, u64)> {
        let link = |name: PathBuf, made: &mut Vec<PathBuf>| -> Result<()> {
            std::fs::hard_link(self.dir.join(&name), dest.join(&name))
                .with_context(|| format!("cannot link {}", self.dir.join(&name).display()))?;
            made.push(name);
            Ok(())
        };
        let mut metas = Vec::new();
        let mut deleted = 0u64;
        for id in &st.segments {
            let m = self
                .segments
                .get(id)
                .with_context(|| format!("segment {id} is not in the previous search index"))?;
            // The segment's documents to delete, if it has any, with its reader.
            let found = match delete {
                Some(d) => {
                    let reader = tantivy::SegmentReader::open(&self.index.segment(m.clone()))?;
                    let dead = d.docs_in(&reader)?;
                    (!dead.is_empty()).then_some((d, reader, dead))
                }
                None => None,
            };
            // Every component file must be there (a segment without deletes has no `.del`);
            // a segment losing documents gets a new `.del` instead of its old one.
            let del = m.relative_path(SegmentComponent::Delete);
            for p in m.list_files() {
                if p != del || (m.has_deletes() && found.is_none()) {
                    link(p, made)?;
                }
            }
            match found {
                Some((d, reader, dead)) => {
                    deleted += dead.len() as u64;
                    metas.push(write_deletes(m, &reader, &dead, d.index, made)?);
                }
                None => metas.push(m.clone()),
            }
        }
        if !st.tri.is_empty() {
            link(PathBuf::from(&st.tri), made)?;
        }
        Ok((metas, deleted))
    }
}

/// `m` with the documents `dead` deleted too: a new delete file (named after a new delete
/// opstamp) written through `index`, the search index being built.
fn write_deletes(
    m: &SegmentMeta,
    reader: &tantivy::SegmentReader,
    dead: &[u32],
    index: &Index,
    made: &mut Vec<PathBuf>,
) -> Result<SegmentMeta> {
    let mut alive = tantivy_common::BitSet::with_max_value_and_full(m.max_doc());
    if let Some(a) = reader.alive_bitset() {
        for doc in 0..m.max_doc() {
            if a.is_deleted(doc) {
                alive.remove(doc);
            }
        }
    }
    for &doc in dead {
        alive.remove(doc);
    }
    let opstamp = m.delete_opstamp().map_or(1, |o| o + 1);
    let m2 = m
        .clone()
        .with_delete_meta(m.num_deleted_docs() + dead.len() as u32, opstamp);
    m2.untrack_temp_docstore();
    let path = m2.relative_path(SegmentComponent::Delete);
    let mut w = index.directory().open_write(&path)?;
    made.push(path);
    tantivy::fastfield::write_alive_bitset(&alive, &mut w)?;
    tantivy::directory::TerminatingWrite::terminate(w)?;
    Ok(m2)
}

/// Documents a patch deletes from the previous generation's segments: those whose `file`
/// is one of `rels` (their code chunks only, with `code_only`).
struct Deletion<'a> {
    /// The search index being built.
    index: &'a Index,
    f: &'a Fields,
    rels: &'a [&'a str],
    code_only: bool,
}

impl Deletion<'_> {
    /// The live documents of a segment to delete.
    fn docs_in(&self, reader: &tantivy::SegmentReader) -> Result<Vec<u32>> {
        use tantivy::schema::IndexRecordOption;
        use tantivy::{DocSet, Term, TERMINATED};
        let docs = |field: tantivy::schema::Field, text: &str| -> Result<Vec<u32>> {
            let mut out = Vec::new();
            let term = Term::from_field_text(field, text);
            let inv = reader.inverted_index(field)?;
            if let Some(mut post) = inv.read_postings(&term, IndexRecordOption::Basic)? {
                let mut d = post.doc();
                while d != TERMINATED {
                    if reader.alive_bitset().is_none_or(|a| a.is_alive(d)) {
                        out.push(d);
                    }
                    d = post.advance();
                }
            }
            Ok(out)
        };
        let mut dead = Vec::new();
        for rel in self.rels {
            dead.append(&mut docs(self.f.file, rel)?);
        }
        if self.code_only && !dead.is_empty() {
            let code = docs(self.f.tags, "code")?;
            dead.retain(|d| code.binary_search(d).is_ok());
        }
        Ok(dead)
    }
}

/// The shard ranges: the previous plan's when it has one and none of its shards has grown
/// past four times its share of the weight, else a fresh cut: packages in path order, a new
/// shard once the current one holds its share.
fn plan_bounds(symbols: &Symbols, prev: Option<&ShardPlan>) -> Vec<String> {
    let mut weight: HashMap<&str, u64> = HashMap::new();
    for s in &symbols.syms {
        if s.file != NONE {
            *weight.entry(symbols.pkg_path(s.pkg)).or_default() += 1;
        }
    }
    for file in &symbols.files {
        *weight.entry(symbols.pkg_path(file.pkg)).or_default() += file_weight(file);
    }
    let mut paths: Vec<(&str, u64)> = weight.into_iter().collect();
    paths.sort_unstable();
    let total: u64 = paths.iter().map(|p| p.1).sum();
    // Tests cut small trees into many shards to show answers do not depend on the cuts.
    let limit = std::env::var("CODEWALK_SEARCH_SHARD_WEIGHT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or((total / TARGET_SHARDS).max(MIN_SHARD_WEIGHT));
    if let Some(prev) = prev {
        let bounds: Vec<String> = prev.shards.iter().map(|s| s.from.clone()).collect();
        let mut per = vec![0u64; bounds.len()];
        for (p, w) in &paths {
            per[bounds
                .partition_point(|b| b.as_str() <= *p)
                .saturating_sub(1)] += w;
        }
        if per.iter().all(|&w| w <= 4 * limit) {
            return bounds;
        }
    }
    let mut bounds = vec![String::new()];
    let mut acc = 0;
    for (p, w) in paths {
        if acc >= limit {
            bounds.push(p.to_string());
            acc = 0;
        }
        acc += w;
    }
    bounds
}

impl ShardState {
    /// This shard after a patch: its files' new digests, its segments now, the files (by
    /// position) whose trigrams are now stale, the documents the patch deleted (of which
    /// `deleted_code` code chunks) and the code chunks it added. The layout is unchanged.
    fn patched(
        &self,
        file_digests: Vec<u64>,
        segments: &[SegmentMeta],
        stale: &[u32],
        deleted: u64,
        deleted_code: u64,
        added_code: u64,
    ) -> ShardState {
        let mut scan = self.scan.clone();
        scan.extend_from_slice(stale);
        scan.sort_unstable();
        scan.dedup();
        ShardState {
            from: self.from.clone(),
            digest: shard_digest(self.layout, &file_digests),
            layout: self.layout,
            file_digests,
            segments: segments.iter().map(|m| m.id().uuid_string()).collect(),
            tri: self.tri.clone(),
            files: self.files,
            scan,
            sym_docs: self.sym_docs,
            code_docs: (self.code_docs + added_code).saturating_sub(deleted_code),
            deleted: self.deleted + deleted,
            patches: self.patches + 1,
        }
    }
}

/// A source file's bytes, when they are still those that hash to `hash` (what was parsed)
/// and not too large to index; else grep must read it.
fn read_unchanged(path: &Path, hash: u64) -> Option<Vec<u8>> {
    std::fs::read(path).ok().filter(|b| {
        b.len() as u64 <= crate::walk::DEFAULT_MAX_FILE_SIZE
            && xxhash_rust::xxh3::xxh3_64(b) == hash
    })
}

/// A shard's digest: its layout's and its files'.
fn shard_digest(layout: u64, file_digests: &[u64]) -> u64 {
    let mut all = Xxh3::new();
    all.update(&layout.to_le_bytes());
    for d in file_digests {
        all.update(&d.to_le_bytes());
    }
    all.digest()
}

/// Patches a shard takes before it is built whole again.
const MAX_PATCHES: u32 = 16;
/// Files of a shard that grep reads whatever the trigrams say, at most, for a patch.
const MAX_SCAN: usize = 64;

/// The files (positions) whose documents a patch of `old` replaces to give `sh`, when it can:
/// the same layout (so every other document keeps its `order`), few files changed, few
/// documents deleted so far. Tantivy's term statistics count deleted documents until the
/// shard is built again, so code chunk scores drift a little from a fresh index's; the
/// limits keep that small.
fn patchable(old: &ShardState, sh: &Shard) -> Option<Vec<u32>> {
    if old.layout != sh.layout || old.file_digests.len() != sh.file_digests.len() {
        return None;
    }
    let changed: Vec<u32> = (0..sh.file_digests.len() as u32)
        .filter(|&i| old.file_digests[i as usize] != sh.file_digests[i as usize])
        .collect();
    within_patch_limits(old, changed.len()).then_some(changed)
}

/// Whether a patch replacing `changed` files' documents may follow `old`: few files, few
/// documents deleted by earlier patches, few files grep must read whatever the trigrams say.
fn within_patch_limits(old: &ShardState, changed: usize) -> bool {
    let docs = old.sym_docs + old.code_docs;
    old.patches < MAX_PATCHES
        && old.deleted <= docs / 10
        && old.scan.len() + changed <= MAX_SCAN
        && changed <= (old.files as usize / 10).max(8)
}

/// A file's share of a shard's weight: its source bytes, when they are indexed as code.
fn file_weight(file: &store::FileRec) -> u64 {
    if file.flags & store::F_EXTERNAL == 0 {
        file.size / BYTES_PER_WEIGHT
    } else {
        0
    }
}

/// One shard's documents, in the order they get their `order`.
struct Shard {
    /// Symbols by (rank, package path, qualified name).
    syms: Vec<u32>,
    /// Files by (package path, path).
    files: Vec<u32>,
    /// xxh3 of `layout` and `file_digests`: everything the shard's documents are made of.
    digest: u64,
    /// xxh3 of what fixes every document's `order`: the range, the symbols' (rank, package,
    /// qualified name, file) and the files' (path, package, flags) in shard order.
    layout: u64,
    /// Per file (in `files` order), what its code chunks and the documents of the symbols it
    /// declares are made of beyond `layout`: its content hash.
    file_digests: Vec<u64>,
    weight: u64,
}

/// A shard built or patched now: its index, state and segments.
type Built = (usize, ShardState, Vec<SegmentMeta>);

/// What a worker does to a shard that is not taken over as it is.
#[derive(Clone)]
enum Job {
    Build(usize),
    /// Replace the documents of these files (positions in the shard) in the previous
    /// generation's segments of the shard.
    Patch(usize, Vec<u32>),
}

/// Builds the search index for a generation directory (`gen_dir/search/`), taking over the
/// unchanged shards of `prev_gen`'s.
pub fn build_index(
    gen_dir: &Path,
    symbols: &Symbols,
    prev_gen: Option<&Path>,
) -> Result<BuildReport> {
    let t0 = std::time::Instant::now();
    let cpu0 = cpu_seconds();
    let dir = gen_dir.join(DIR);
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let (schema, f) = schema();
    let index =
        Index::create_in_dir(&dir, schema.clone()).context("cannot create the search index")?;
    let threads = rayon::current_num_threads().clamp(1, 8);
    let root = PathBuf::from(&symbols.root);
    let build = crate::pipeline::build_stamp();

    let path_of = |p: u32| symbols.pkg_path(p);
    // (Documents are made for symbols with a file only.)
    let flags_of = |s: &store::SymRec| symbols.flags(s);
    let rank_of = |s: &store::SymRec| sym_rank(flags_of(s), is_exported(&s.name));

    // Files as grep sees them (flags, symlink check).
    let mut memo = HashMap::new();
    let mut gfiles: Vec<GrepFile> = Vec::with_capacity(symbols.files.len());
    for file in &symbols.files {
        let mut flags = file.flags & (store::F_TEST | store::F_VENDOR | store::F_EXTERNAL);
        flags |= symbols
            .pkgs
            .get(file.pkg as usize)
            .map_or(0, |p| p.flags & store::F_VENDOR);
        if flags & store::F_EXTERNAL == 0 && via_symlink(&root, &file.rel, &mut memo) {
            flags |= G_SYMLINK;
        }
        gfiles.push(GrepFile {
            rel: file.rel.clone(),
            hash: file.hash,
            size: file.size,
            mtime_ns: file.mtime_ns,
            flags,
        });
    }

    // The shard plan: the previous one's ranges when it can be followed.
    let prev = prev_gen.and_then(|g| Prev::load(g, build));
    let bounds = plan_bounds(symbols, prev.as_ref().map(|p| &p.plan));
    let shard_of = |pkg: u32| -> usize {
        let p = path_of(pkg);
        bounds
            .partition_point(|b| b.as_str() <= p)
            .saturating_sub(1)
    };
    let mut syms_of: Vec<Vec<u32>> = vec![Vec::new(); bounds.len()];
    for (i, s) in symbols.syms.iter().enumerate() {
        if s.file != NONE {
            syms_of[shard_of(s.pkg)].push(i as u32);
        }
    }
    let mut files_of: Vec<Vec<u32>> = vec![Vec::new(); bounds.len()];
    for (i, file) in symbols.files.iter().enumerate() {
        files_of[shard_of(file.pkg)].push(i as u32);
    }
    // Top-level declarations per file, for code chunks.
    let mut decls: Vec<Vec<u32>> = vec![Vec::new(); symbols.files.len()];
    for (i, s) in symbols.syms.iter().enumerate() {
        if names_chunks(s.file, s.kind, s.start_line, s.end_line) {
            decls[s.file as usize].push(i as u32);
        }
    }
    // Each package's place in path order (equal paths share it; 0 is "", for symbols
    // without a package): sorting by it is sorting by path, with integer compares.
    let mut by_path: Vec<u32> = (0..symbols.pkgs.len() as u32).collect();
    by_path.sort_unstable_by(|&a, &b| path_of(a).cmp(path_of(b)));
    let mut pkg_order = vec![0u32; symbols.pkgs.len()];
    let mut o = 0;
    for (k, &p) in by_path.iter().enumerate() {
        if k == 0 || path_of(p) != path_of(by_path[k - 1]) {
            o += 1;
        }
        pkg_order[p as usize] = o;
    }
    let order_of = |p: u32| pkg_order.get(p as usize).copied().unwrap_or(0);
    let shards: Vec<Shard> = syms_of
        .into_par_iter()
        .zip(files_of)
        .enumerate()
        .map(|(k, (mut syms, mut files))| {
            let mut keyed: Vec<(u64, u32, &str, u32)> = syms
                .iter()
                .map(|&i| {
                    let s = &symbols.syms[i as usize];
                    (rank_of(s), order_of(s.pkg), s.qname.as_str(), i)
                })
                .collect();
            keyed.sort_unstable();
            syms = keyed.into_iter().map(|x| x.3).collect();
            files.sort_by(|&a, &b| {
                let (fa, fb) = (&symbols.files[a as usize], &symbols.files[b as usize]);
                (order_of(fa.pkg), fa.rel.as_str()).cmp(&(order_of(fb.pkg), fb.rel.as_str()))
            });
            // What the shard's documents are made of. A symbol's document and a file's code
            // chunks are made of the file's text, its path, its package's path and its flags,
            // and this build of codewalk: `layout` has everything but the texts, in shard
            // order; a file's text is its content hash. A symbol declared in a file of
            // another shard has its document's fields in `layout`.
            let put = |buf: &mut Vec<u8>, b: &[u8]| {
                buf.extend_from_slice(&(b.len() as u32).to_le_bytes());
                buf.extend_from_slice(b);
            };
            let num = |buf: &mut Vec<u8>, n: u64| buf.extend_from_slice(&n.to_le_bytes());
            let mut lay: Vec<u8> = Vec::new();
            num(&mut lay, SEARCH_FORMAT as u64);
            num(&mut lay, build);
            num(&mut lay, k as u64);
            put(&mut lay, bounds[k].as_bytes());
            put(
                &mut lay,
                bounds
                    .get(k + 1)
                    .map_or(b"\xff".as_slice(), |b| b.as_bytes()),
            );
            let mut weight = syms.len() as u64;
            for &i in &syms {
                let s = &symbols.syms[i as usize];
                num(&mut lay, rank_of(s));
                put(&mut lay, path_of(s.pkg).as_bytes());
                put(&mut lay, s.qname.as_bytes());
                put(&mut lay, symbols.files[s.file as usize].rel.as_bytes());
                if shard_of(symbols.files[s.file as usize].pkg) != k {
                    for t in [&s.name, &s.doc, &s.signature] {
                        put(&mut lay, t.as_bytes());
                    }
                    put(&mut lay, s.kind.as_str().as_bytes());
                    num(&mut lay, ((s.line as u64) << 32) | s.col as u64);
                    lay.push(flags_of(s));
                }
            }
            let mut file_digests = Vec::with_capacity(files.len());
            for &fi in &files {
                let file = &symbols.files[fi as usize];
                put(&mut lay, file.rel.as_bytes());
                put(&mut lay, path_of(file.pkg).as_bytes());
                lay.push(gfiles[fi as usize].flags);
                weight += file_weight(file);
                file_digests.push(file.hash);
            }
            let layout = xxhash_rust::xxh3::xxh3_64(&lay);
            Shard {
                syms,
                files,
                digest: shard_digest(layout, &file_digests),
                layout,
                file_digests,
                weight,
            }
        })
        .collect();

    // Unchanged shards come from the previous generation.
    let mut states: Vec<Option<ShardState>> = vec![None; shards.len()];
    let mut segments: Vec<Vec<SegmentMeta>> = vec![Vec::new(); shards.len()];
    let mut reused = 0;
    if let Some(p) = &prev {
        for (k, sh) in shards.iter().enumerate() {
            let Some(old) = p.plan.shards.get(k) else {
                continue;
            };
            if old.digest != sh.digest {
                continue;
            }
            if let Ok((m, _)) = p.link(old, &dir, None) {
                segments[k] = m;
                states[k] = Some(old.clone());
                reused += 1;
            }
        }
    }
    // The other shards are patched when few of their files changed and nothing else did,
    // else built again; the heaviest work first.
    let mut todo: Vec<(u64, Job)> = (0..shards.len())
        .filter(|&k| states[k].is_none())
        .map(|k| {
            let sh = &shards[k];
            match prev
                .as_ref()
                .and_then(|p| patchable(p.plan.shards.get(k)?, sh))
            {
                Some(changed) => (changed.len() as u64, Job::Patch(k, changed)),
                None => (sh.weight, Job::Build(k)),
            }
        })
        .collect();
    todo.sort_by_key(|t| std::cmp::Reverse(t.0));
    let todo: Vec<Job> = todo.into_iter().map(|t| t.1).collect();
    let patched = todo.iter().filter(|j| matches!(j, Job::Patch(..))).count();
    let t_prep = t0.elapsed();

    let sym_doc = |order: u64, i: u32| -> TantivyDocument {
        let s = &symbols.syms[i as usize];
        let fl = flags_of(s);
        let mut d = TantivyDocument::new();
        d.add_text(f.name, &s.name);
        d.add_text(f.name_lc, &s.name);
        // Only a query with a capital letter looks at `name_raw` (the `ExactCase` tier), and
        // only a name with one can equal it.
        if s.name.chars().any(|c| c.is_uppercase()) {
            d.add_text(f.name_raw, &s.name);
        }
        d.add_text(f.qname, &s.qname);
        if !s.doc.is_empty() {
            d.add_text(f.doc, &s.doc);
        }
        if !s.signature.is_empty() {
            d.add_text(f.sig, &s.signature);
        }
        d.add_text(f.kind, s.kind.as_str());
        d.add_text(f.pkg, path_of(s.pkg));
        d.add_text(f.file, &symbols.files[s.file as usize].rel);
        d.add_u64(f.line, s.line as u64);
        d.add_u64(f.col, s.col as u64);
        tags_of(&mut d, &f, "sym", fl);
        if !is_exported(&s.name) {
            d.add_text(f.tags, "unexported");
        }
        d.add_u64(f.rank, sym_rank(fl, is_exported(&s.name)));
        d.add_u64(f.order, order);
        d
    };
    // The code chunks of file `fi`, at position `pos` of shard `k`.
    let chunks = |sink: &mut SegmentSink, k: usize, pos: usize, fi: usize, bytes: &[u8]| {
        let file = CodeFile {
            rel: &symbols.files[fi].rel,
            pkg: path_of(symbols.files[fi].pkg),
            hash: symbols.files[fi].hash,
            flags: gfiles[fi].flags,
        };
        let ds = decls[fi]
            .iter()
            .map(|&i| Decl::of(&symbols.syms[i as usize]))
            .collect();
        add_code_chunks(sink, &f, &file, bytes, ds, code_order(k, pos))
    };
    // One shard into the worker's sink: its segments, trigram file and state.
    let build_shard = |sink: &mut SegmentSink, seen: &mut [u64], k: usize| -> Result<Built> {
        let sh = &shards[k];
        let base = (k as u64) << 32;
        for (pos, &i) in sh.syms.iter().enumerate() {
            let rank = rank_of(&symbols.syms[i as usize]);
            sink.add(sym_doc((rank << 56) | base | pos as u64, i))?;
            if pos % SYM_UNIT == SYM_UNIT - 1 {
                sink.maybe_flush()?;
            }
        }
        // Per file: Some(distinct trigrams) when indexed, None when grep must always read it.
        let mut per_file: Vec<Option<Vec<u32>>> = Vec::with_capacity(sh.files.len());
        let mut code_docs = 0;
        for (pos, &fi) in sh.files.iter().enumerate() {
            let fi = fi as usize;
            if gfiles[fi].flags & store::F_EXTERNAL != 0 {
                per_file.push(Some(Vec::new()));
                continue;
            }
            let file = &symbols.files[fi];
            let Some(bytes) = read_unchanged(&root.join(&file.rel), file.hash) else {
                per_file.push(None);
                continue;
            };
            let mut tris = Vec::new();
            trigrams(&bytes, seen, &mut tris);
            per_file.push(Some(tris));
            code_docs += chunks(sink, k, pos, fi, &bytes)?;
            sink.maybe_flush()?;
        }
        sink.flush()?;
        let metas = std::mem::take(&mut sink.done);
        let scan: Vec<u32> = (0..per_file.len() as u32)
            .filter(|&i| per_file[i as usize].is_none())
            .collect();
        let tri = if sh.files.is_empty() {
            String::new()
        } else {
            let name = format!("tri-{k}.bin");
            let p = sink.dest.join(&name);
            grep::write_trigrams(&p, per_file)
                .with_context(|| format!("cannot write {}", p.display()))?;
            name
        };
        let st = ShardState {
            from: bounds[k].clone(),
            digest: sh.digest,
            layout: sh.layout,
            file_digests: sh.file_digests.clone(),
            segments: metas.iter().map(|m| m.id().uuid_string()).collect(),
            tri,
            files: sh.files.len() as u32,
            scan,
            sym_docs: sh.syms.len() as u64,
            code_docs,
            deleted: 0,
            patches: 0,
        };
        Ok((k, st, metas))
    };

    // A patch: the previous generation's segments of the shard with the changed files'
    // documents deleted, and theirs added in a new segment. The changed files' trigrams in
    // the linked trigram file are the old text's, so grep reads those files.
    let patch_shard =
        |sink: &mut SegmentSink, seen: &mut [u64], k: usize, changed: &[u32]| -> Result<Built> {
            let p = prev.as_ref().expect("a patch follows a previous index");
            let (old, sh) = (&p.plan.shards[k], &shards[k]);
            let rels: Vec<&str> = changed
                .iter()
                .map(|&l| symbols.files[sh.files[l as usize] as usize].rel.as_str())
                .collect();
            // A previous segment that cannot be read or linked: the shard is built whole.
            let deletion = Deletion {
                index: &index,
                f: &f,
                rels: &rels,
                code_only: false,
            };
            let Ok((mut metas, deleted)) = p.link(old, &dir, Some(&deletion)) else {
                return build_shard(sink, seen, k);
            };
            let mine: std::collections::HashSet<u32> =
                changed.iter().map(|&l| sh.files[l as usize]).collect();
            let base = (k as u64) << 32;
            let mut sym_docs = 0u64;
            for (pos, &i) in sh.syms.iter().enumerate() {
                let s = &symbols.syms[i as usize];
                if mine.contains(&s.file) {
                    sink.add(sym_doc((rank_of(s) << 56) | base | pos as u64, i))?;
                    sym_docs += 1;
                }
            }
            let mut scan = Vec::new();
            let mut code_docs = 0;
            for &l in changed {
                let fi = sh.files[l as usize] as usize;
                if gfiles[fi].flags & store::F_EXTERNAL != 0 {
                    continue;
                }
                scan.push(l);
                let file = &symbols.files[fi];
                if let Some(bytes) = read_unchanged(&root.join(&file.rel), file.hash) {
                    code_docs += chunks(sink, k, l as usize, fi, &bytes)?;
                }
            }
            sink.flush()?;
            metas.append(&mut sink.done);
            // The symbols of a changed file are the same ones (same layout): its deleted
            // documents were as many symbol documents as were added, and code chunks.
            let st = old.patched(
                sh.file_digests.clone(),
                &metas,
                &scan,
                deleted,
                deleted.saturating_sub(sym_docs),
                code_docs,
            );
            Ok((k, st, metas))
        };

    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let built = std::thread::scope(|scope| -> Result<Vec<Built>> {
        let workers: Vec<_> = (0..threads.min(todo.len().max(1)))
            .map(|w| {
                let (dir, schema, next, failed, todo) = (&dir, &schema, &next, &failed, &todo);
                let (build_shard, patch_shard) = (&build_shard, &patch_shard);
                scope.spawn(move || -> Result<Vec<Built>> {
                    let mut out = Vec::new();
                    let mut sink =
                        SegmentSink::new(dir, w, schema.clone(), WRITER_MEMORY_PER_THREAD)?;
                    let mut seen = vec![0u64; TRIGRAM_SCRATCH];
                    let run = (|| -> Result<()> {
                        loop {
                            let u = next.fetch_add(1, Ordering::Relaxed);
                            if u >= todo.len() || failed.load(Ordering::Relaxed) {
                                return Ok(());
                            }
                            out.push(match &todo[u] {
                                Job::Build(k) => build_shard(&mut sink, &mut seen, *k)?,
                                Job::Patch(k, changed) => {
                                    patch_shard(&mut sink, &mut seen, *k, changed)?
                                }
                            });
                        }
                    })();
                    if run.is_err() {
                        failed.store(true, Ordering::Relaxed);
                    }
                    std::fs::remove_dir_all(&sink.dir)
                        .with_context(|| format!("cannot remove {}", sink.dir.display()))?;
                    run.map(|()| out)
                })
            })
            .collect();
        let mut all = Vec::new();
        let mut first_err = None;
        for w in workers {
            match w.join() {
                Ok(Ok(v)) => all.extend(v),
                Ok(Err(e)) => {
                    first_err.get_or_insert(e);
                }
                Err(p) => std::panic::resume_unwind(p),
            }
        }
        match first_err {
            Some(e) => Err(e),
            None => Ok(all),
        }
    })?;
    let t_docs = t0.elapsed();
    for (k, st, metas) in built {
        states[k] = Some(st);
        segments[k] = metas;
    }
    let states: Vec<ShardState> = states
        .into_iter()
        .map(|s| s.expect("every shard is built or reused"))
        .collect();

    // files.bin: shard by shard, each shard's files in its trigram file's order.
    let mut grep_files = GrepFiles {
        root: symbols.root.clone(),
        files: Vec::with_capacity(gfiles.len()),
        shards: Vec::with_capacity(states.len()),
    };
    let mut slots: Vec<Option<GrepFile>> = gfiles.into_iter().map(Some).collect();
    for (sh, st) in shards.iter().zip(&states) {
        let base = grep_files.files.len() as u32;
        grep_files.shards.push(GrepShard {
            tri: st.tri.clone(),
            base,
            files: sh.files.len() as u32,
        });
        grep_files
            .files
            .extend(sh.files.iter().filter_map(|&fi| slots[fi as usize].take()));
    }
    // Files grep reads whatever the trigrams say.
    for (g, st) in grep_files.shards.iter().zip(&states) {
        for &local in &st.scan {
            grep_files.files[(g.base + local) as usize].flags |= G_SCAN;
        }
    }

    let plan = ShardPlan {
        format: SEARCH_FORMAT,
        build,
        shards: states,
    };
    let report = BuildReport {
        shards: plan.shards.len(),
        reused_shards: reused,
        patched_shards: patched,
    };
    let meta = write_lists(
        &index,
        &dir,
        segments.into_iter().flatten().collect(),
        &grep_files,
        &plan,
        &report,
        t0,
    )?;
    let t_commit = t0.elapsed();
    if std::env::var_os("CODEWALK_TIMINGS").is_some() {
        eprintln!(
            "timing: search index: prepare {:.2?}, shards {:.2?}, commit {:.2?}, total {:.2?}, cpu {:.2}s ({} symbol, {} code docs, {} files; {} scan-always; {} of {} shards reused, {} patched)",
            t_prep,
            t_docs - t_prep,
            t_commit - t_docs,
            t0.elapsed(),
            cpu_seconds() - cpu0,
            meta.symbol_docs,
            meta.code_docs,
            meta.indexed_files,
            meta.scan_always_files,
            reused,
            report.shards,
            patched,
        );
    }
    Ok(report)
}

/// A file as its code chunks show it.
struct CodeFile<'a> {
    rel: &'a str,
    /// Package path.
    pkg: &'a str,
    hash: u64,
    /// Test, vendor (of the file or its package), external.
    flags: u8,
}

/// A top-level declaration, as code chunks name it.
#[derive(Clone, Copy)]
pub struct Decl<'a> {
    pub start_line: u32,
    pub end_line: u32,
    pub kind: &'a str,
    pub qname: &'a str,
}

impl<'a> Decl<'a> {
    fn of(s: &'a store::SymRec) -> Decl<'a> {
        Decl {
            start_line: s.start_line,
            end_line: s.end_line,
            kind: s.kind.as_str(),
            qname: &s.qname,
        }
    }
}

/// Whether a symbol is a top-level declaration that code chunks name: one in a file, with a
/// span, not an interface's method.
pub fn names_chunks(file: u32, kind: Kind, start_line: u32, end_line: u32) -> bool {
    file != NONE && kind != Kind::IfaceMethod && end_line >= start_line
}

/// The `order` of the first code chunk of the file at `pos` in shard `k`.
fn code_order(k: usize, pos: usize) -> u64 {
    ((k as u64) << 32) | ((pos as u64) << CHUNK_BITS)
}

/// A file whose text changed while its facts did not: what [`refresh_index`] needs of it.
pub struct ChangedText<'a> {
    pub rel: &'a str,
    /// Package path.
    pub pkg: &'a str,
    pub hash: u64,
    pub size: u64,
    pub mtime_ns: i128,
    /// Its bytes, which hash to `hash`.
    pub bytes: &'a [u8],
    /// Its top-level declarations (code chunks name them).
    pub decls: Vec<Decl<'a>>,
}

/// The search index of `gen_dir` when only the text of the `changed` files differs from
/// `prev_gen`'s: their facts, so every symbol document, are the same. The shards holding
/// them are patched (their code chunks replaced), the others linked. `None` when the
/// previous index cannot be followed that way (missing, from another build, without one of
/// the files, or a shard past its patch limits); the caller then builds everything.
pub fn refresh_index(
    gen_dir: &Path,
    prev_gen: &Path,
    changed: &[ChangedText],
) -> Result<Option<BuildReport>> {
    let t0 = std::time::Instant::now();
    let build = crate::pipeline::build_stamp();
    let Some(prev) = Prev::load(prev_gen, build) else {
        return Ok(None);
    };
    let Some(mut grep_files) = std::fs::read(prev.dir.join("files.bin"))
        .ok()
        .and_then(|b| bincode::deserialize::<GrepFiles>(&b).ok())
        .filter(|g| g.shards.len() == prev.plan.shards.len())
    else {
        return Ok(None);
    };
    // Where each changed file is: (shard, position in it).
    let want: HashMap<&str, usize> = changed
        .iter()
        .enumerate()
        .map(|(i, c)| (c.rel, i))
        .collect();
    let mut at: Vec<Option<(usize, u32)>> = vec![None; changed.len()];
    for (k, g) in grep_files.shards.iter().enumerate() {
        for l in 0..g.files {
            let Some(file) = grep_files.files.get((g.base + l) as usize) else {
                return Ok(None);
            };
            if let Some(&i) = want.get(file.rel.as_str()) {
                if file.flags & store::F_EXTERNAL != 0 {
                    return Ok(None);
                }
                at[i] = Some((k, l));
            }
        }
    }
    let Some(at) = at.into_iter().collect::<Option<Vec<(usize, u32)>>>() else {
        return Ok(None);
    };
    let mut by_shard: std::collections::BTreeMap<usize, Vec<usize>> = Default::default();
    for (i, &(k, _)) in at.iter().enumerate() {
        by_shard.entry(k).or_default().push(i);
    }
    for (&k, is) in &by_shard {
        let old = &prev.plan.shards[k];
        if !within_patch_limits(old, is.len())
            || is
                .iter()
                .any(|&i| at[i].1 as usize >= old.file_digests.len())
        {
            return Ok(None);
        }
    }
    let dir = gen_dir.join(DIR);
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let (schema, f) = schema();
    let index =
        Index::create_in_dir(&dir, schema.clone()).context("cannot create the search index")?;
    let mut states = prev.plan.shards.clone();
    let mut segments: Vec<SegmentMeta> = Vec::new();
    let mut sink = SegmentSink::new(&dir, 0, schema, WRITER_MEMORY_PER_THREAD)?;
    let mut patch = || -> Result<bool> {
        for (k, old) in prev.plan.shards.iter().enumerate() {
            let Some(is) = by_shard.get(&k) else {
                match prev.link(old, &dir, None) {
                    Ok((mut m, _)) => segments.append(&mut m),
                    Err(_) => return Ok(false),
                }
                continue;
            };
            let rels: Vec<&str> = is.iter().map(|&i| changed[i].rel).collect();
            let deletion = Deletion {
                index: &index,
                f: &f,
                rels: &rels,
                code_only: true,
            };
            let Ok((mut metas, deleted)) = prev.link(old, &dir, Some(&deletion)) else {
                return Ok(false);
            };
            let mut file_digests = old.file_digests.clone();
            let mut code_docs = 0;
            for &i in is {
                let (c, l) = (&changed[i], at[i].1);
                file_digests[l as usize] = c.hash;
                let g = &mut grep_files.files[(grep_files.shards[k].base + l) as usize];
                (g.hash, g.size, g.mtime_ns) = (c.hash, c.size, c.mtime_ns);
                let file = CodeFile {
                    rel: c.rel,
                    pkg: c.pkg,
                    hash: c.hash,
                    flags: g.flags,
                };
                g.flags |= G_SCAN;
                let order = code_order(k, l as usize);
                code_docs +=
                    add_code_chunks(&mut sink, &f, &file, c.bytes, c.decls.clone(), order)?;
            }
            sink.flush()?;
            metas.append(&mut sink.done);
            let scan: Vec<u32> = is.iter().map(|&i| at[i].1).collect();
            states[k] = old.patched(file_digests, &metas, &scan, deleted, deleted, code_docs);
            segments.append(&mut metas);
        }
        Ok(true)
    };
    let done = patch();
    std::fs::remove_dir_all(&sink.dir)
        .with_context(|| format!("cannot remove {}", sink.dir.display()))?;
    if !done? {
        return Ok(None);
    }
    let report = BuildReport {
        shards: states.len(),
        reused_shards: states.len() - by_shard.len(),
        patched_shards: by_shard.len(),
    };
    let plan = ShardPlan {
        format: SEARCH_FORMAT,
        build,
        shards: states,
    };
    write_lists(&index, &dir, segments, &grep_files, &plan, &report, t0)?;
    Ok(Some(report))
}

/// Writes what lists the parts of the search index in `dir`: tantivy's meta.json (what
/// `IndexWriter::commit` does), files.bin, shards.json and, last, codewalk.json.
fn write_lists(
    index: &Index,
    dir: &Path,
    segments: Vec<SegmentMeta>,
    grep_files: &GrepFiles,
    plan: &ShardPlan,
    report: &BuildReport,
    t0: std::time::Instant,
) -> Result<Meta> {
    let mut metas = index
        .load_metas()
        .context("cannot read the search index meta")?;
    metas.segments = segments;
    metas.opstamp = 0;
    let mut buf = serde_json::to_vec_pretty(&metas)?;
    buf.push(b'\n');
    index
        .directory()
        .atomic_write(Path::new("meta.json"), &buf)
        .context("cannot write the search index meta")?;
    index
        .directory()
        .sync_directory()
        .context("cannot write the search index")?;
    let p = dir.join("files.bin");
    std::fs::write(&p, bincode::serialize(grep_files)?)
        .with_context(|| format!("cannot write {}", p.display()))?;
    let p = dir.join(SHARDS);
    std::fs::write(&p, serde_json::to_vec(plan)?)
        .with_context(|| format!("cannot write {}", p.display()))?;
    let scan_always = grep_files
        .files
        .iter()
        .filter(|g| g.flags & G_SCAN != 0)
        .count();
    let meta = Meta {
        format: SEARCH_FORMAT,
        symbol_docs: plan.shards.iter().map(|s| s.sym_docs).sum(),
        code_docs: plan.shards.iter().map(|s| s.code_docs).sum(),
        indexed_files: (grep_files.files.len() - scan_always) as u64,
        scan_always_files: scan_always as u64,
        build_seconds: t0.elapsed().as_secs_f64(),
        shards: report.shards as u64,
        reused_shards: report.reused_shards as u64,
    };
    let p = dir.join("codewalk.json");
    std::fs::write(&p, serde_json::to_vec_pretty(&meta)?)
        .with_context(|| format!("cannot write {}", p.display()))?;
    Ok(meta)
}

/// Splits a file into code chunks (declarations and the lines between them) and indexes them.
fn add_code_chunks(
    sink: &mut SegmentSink,
    f: &Fields,
    file: &CodeFile,
    bytes: &[u8],
    mut ds: Vec<Decl>,
    first_order: u64,
) -> Result<u64> {
    let text = String::from_utf8_lossy(bytes);
    let text: &str = &text;
    // Byte offset of the start of each line (1-based lines: starts[l-1]).
    let mut starts = vec![0usize];
    starts.extend(memchr_iter(text.as_bytes()).map(|i| i + 1));
    if starts.last() == Some(&text.len()) && !text.is_empty() {
        starts.pop();
    }
    let nlines = starts.len() as u32;
    let span = |a: u32, b: u32| -> &str {
        let s = starts[(a - 1) as usize];
        let e = starts.get(b as usize).copied().unwrap_or(text.len());
        &text[s..e.max(s)]
    };
    ds.sort_by_key(|s| (s.start_line, std::cmp::Reverse(s.end_line)));
    let (pkg, flags) = (file.pkg, file.flags);
    let rank = (flags & store::F_TEST != 0) as u64 * 4 + (flags & store::F_VENDOR != 0) as u64 * 2;
    // Units: pieces of declarations (≤ DECL_CHUNK lines) and of the lines between them
    // (≤ GAP_CHUNK), in line order.
    let mut units: Vec<(u32, u32, Option<&Decl>)> = Vec::new();
    let gap = |from: u32, to: u32, units: &mut Vec<(u32, u32, Option<&Decl>)>| {
        let mut a = from;
        while a <= to {
            let b = (a + GAP_CHUNK - 1).min(to);
            units.push((a, b, None));
            a = b + 1;
        }
    };
    let mut next = 1u32; // first line not yet covered
    for s in &ds {
        let (a, b) = (s.start_line.max(1), s.end_line.min(nlines));
        if a < next || a > nlines {
            continue; // nested in (or overlapping) the previous declaration
        }
        if a > next {
            gap(next, a - 1, &mut units);
        }
        let mut x = a;
        while x <= b {
            let y = (x + DECL_CHUNK - 1).min(b);
            units.push((x, y, Some(s)));
            x = y + 1;
        }
        next = b + 1;
    }
    if next <= nlines {
        gap(next, nlines, &mut units);
    }
    // Chunks: consecutive units up to CHUNK lines (a longer unit is a chunk of its own).
    let mut n = 0;
    let mut i = 0;
    while i < units.len() {
        let a = units[i].0;
        let mut j = i + 1;
        while j < units.len() && units[j].1 - a < CHUNK {
            j += 1;
        }
        let b = units[j - 1].1;
        let body = span(a, b);
        if !body.trim().is_empty() {
            let mut d = TantivyDocument::new();
            d.add_text(f.code, body);
            d.add_text(f.file, file.rel);
            d.add_text(f.pkg, pkg);
            d.add_u64(f.line, a as u64);
            d.add_u64(f.endline, b as u64);
            d.add_u64(f.hash, file.hash);
            let mut kinds: Vec<&str> = Vec::new();
            for &(x, y, sym) in &units[i..j] {
                if let Some(s) = sym {
                    if !kinds.contains(&s.kind) {
                        kinds.push(s.kind);
                        d.add_text(f.kind, s.kind);
                    }
                    d.add_text(
                        f.insym,
                        format!("{x} {y} {} {}", s.kind.replace(' ', "_"), s.qname),
                    );
                }
            }
            tags_of(&mut d, f, "code", flags);
            d.add_u64(f.rank, rank);
            d.add_u64(f.order, first_order + n.min(CHUNK_ORDERS - 1));
            sink.add(d)?;
            n += 1;
        }
        i = j;
    }
    Ok(n)
}

fn memchr_iter(b: &[u8]) -> impl Iterator<Item = usize> + '_ {
    b.iter()
        .enumerate()
        .filter(|(_, &c)| c == b'\n')
        .map(|(i, _)| i)
}
