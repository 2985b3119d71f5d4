//! Search: a tantivy index built inside each index generation, ranked symbol and code search,
//! and the index-accelerated `grep`.
//!
//! Input: the stored [`Symbols`] of a generation and the source files they were built from.
//! Output: `gen-<n>/search/` and answers as plain structs ([`SymbolHit`], [`CodeHit`],
//! [`grep::Match`]). Must not know: output formats, command-line flags.
//!
//! # On-disk format (`gen-<n>/search/`, version [`SEARCH_FORMAT`])
//! ```text
//! codewalk.json  {"format": N, ...counts and build seconds} — written last
//! files.bin      bincode GrepFiles: root + one entry per stored file (rel path, xxh3 hash,
//!                size, mtime, flags: test, vendor, external, scan-always, reached-through-a-symlink)
//! <tantivy>      one index, two kinds of documents (field `tags` holds sym/code):
//!   sym   one per declared symbol: name (code_name words), name_lc (exact and prefix),
//!         name_raw (exact, letter case kept; only names with a capital letter, the only
//!         ones a case-sensitive query can equal), qname (words), doc (stemmed words),
//!         kind, pkg, file, tags; fast `order`
//!         = rank (external, test, vendor, unexported) then package path then qname;
//!         stored: what a result line shows
//!   code  one per chunk of a file: consecutive top-level declarations and the lines between
//!         them, up to 60 lines (a longer declaration is cut in pieces of 100 lines); code
//!         words (freqs, no positions), file, pkg, kinds of the declarations; fast `rank`,
//!         `order`; stored: file, line span, hash, and `insym`: "first last kind qname" per
//!         declaration piece, to name the declaration around a matching line
//! trigrams.bin   for each distinct trigram (three bytes, ASCII letters folded to lower case,
//!                no newline) of the indexed local files, the files holding it; see
//!                [`grep::write_trigrams`] for the layout
//! ```
//! The generation is replaced as a whole, so the search index always matches index.bin. Code text is indexed only from files whose bytes still hash to what was parsed;
//! other local files are marked scan-always, so `grep` reads them instead of trusting trigrams.
//! The tantivy segments are written by worker threads that each own a segment writer and make
//! the documents they index (`SegmentSink`), not through tantivy's `IndexWriter`, whose
//! queue hands every small batch to another thread; meta.json lists the segments at the end.
//! Trigram postings live in their own file rather than in tantivy: one posting per (trigram,
//! file) pair is the bulk of the data, and a flat sorted table is several times cheaper to
//! build than tantivy's term hash map, and as cheap to read.
//!
//! Format changes: bump [`SEARCH_FORMAT`] and add a line here.
//! - 1: first format.

pub mod grep;
mod query;
pub mod tokenizer;

pub use query::{parse_query, KindFilter, ParsedQuery, QuerySyntaxError};

use crate::store::{self, Kind, Symbols, NONE};
use anyhow::{Context, Result};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use tantivy::collector::TopDocs;
use tantivy::directory::Directory;
use tantivy::indexer::SingleSegmentIndexWriter;
use tantivy::query::{AllQuery, BooleanQuery, Occur, Query, RegexQuery, TermQuery};
use tantivy::schema::{
    Field, IndexRecordOption, NumericOptions, Schema, TextFieldIndexing, TextOptions, Value,
    STORED, STRING,
};
use tantivy::{DocAddress, Index, IndexReader, TantivyDocument, Term};

/// Boolean query clauses.
type Clauses = Vec<(Occur, Box<dyn Query>)>;

pub const SEARCH_FORMAT: u32 = 1;
/// The search index directory inside a generation.
pub const DIR: &str = "search";

/// File flags in files.bin beyond the store's F_TEST / F_VENDOR / F_EXTERNAL.
pub const G_SCAN: u8 = 16;
pub const G_SYMLINK: u8 = 32;

/// Lines of a piece of the text between declarations, and of a piece of a long declaration.
const GAP_CHUNK: u32 = 50;
const DECL_CHUNK: u32 = 100;
/// Symbol documents a worker takes at once.
const SYM_UNIT: usize = 256;
/// Indexing memory of each worker before it writes a segment. More segments cost
/// nothing in answers (ranking uses index-wide statistics and a total `order`), and this
/// memory comes on top of the symbol records while the index is built.
const WRITER_MEMORY_PER_THREAD: usize = 64 << 20;
/// A segment is written once its memory is within this of the budget (tantivy's margin).
const SEGMENT_MARGIN: usize = 1_000_000;
/// Consecutive pieces are grouped into one code document up to this many lines.
const CHUNK: u32 = 60;

/// Field handles, built in one place.
#[derive(Clone, Copy)]
pub struct Fields {
    pub name: Field,
    pub name_lc: Field,
    pub name_raw: Field,
    pub qname: Field,
    pub doc: Field,
    pub sig: Field,
    pub kind: Field,
    pub pkg: Field,
    pub file: Field,
    pub line: Field,
    pub col: Field,
    pub endline: Field,
    pub hash: Field,
    pub insym: Field,
    pub code: Field,
    pub tags: Field,
    pub rank: Field,
    pub order: Field,
}

fn text(tokenizer: &str, rec: IndexRecordOption) -> TextOptions {
    TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(tokenizer)
            .set_index_option(rec)
            .set_fieldnorms(false),
    )
}

pub fn schema() -> (Schema, Fields) {
    use tokenizer::*;
    let mut b = Schema::builder();
    let freqs = IndexRecordOption::WithFreqs;
    let basic = IndexRecordOption::Basic;
    let fields = Fields {
        name: b.add_text_field("name", text(CODE_NAME, basic)),
        name_lc: b.add_text_field("name_lc", text(RAW_LC, basic)),
        name_raw: b.add_text_field("name_raw", STRING),
        qname: b.add_text_field("qname", text(CODE, basic) | STORED),
        doc: b.add_text_field("doc", text(CODE_STEM, basic) | STORED),
        sig: b.add_text_field("sig", STORED),
        kind: b.add_text_field("kind", STRING | STORED),
        pkg: b.add_text_field("pkg", STRING | STORED),
        file: b.add_text_field("file", STRING | STORED),
        line: b.add_u64_field("line", STORED),
        col: b.add_u64_field("col", STORED),
        endline: b.add_u64_field("endline", STORED),
        hash: b.add_u64_field("hash", STORED),
        insym: b.add_text_field("insym", STORED),
        code: b.add_text_field(
            "code",
            TextOptions::default().set_indexing_options(
                TextFieldIndexing::default()
                    .set_tokenizer(CODE)
                    .set_index_option(freqs)
                    .set_fieldnorms(true),
            ),
        ),
        tags: b.add_text_field("tags", STRING),
        rank: b.add_u64_field("rank", NumericOptions::default().set_fast()),
        order: b.add_u64_field("order", NumericOptions::default().set_fast()),
    };
    (b.build(), fields)
}

/// One file as `grep` sees it.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct GrepFile {
    pub rel: String,
    pub hash: u64,
    pub size: u64,
    pub mtime_ns: i128,
    pub flags: u8,
}

#[derive(Serialize, Deserialize, Debug, Default)]
pub struct GrepFiles {
    pub root: String,
    pub files: Vec<GrepFile>,
}

#[derive(Serialize, Deserialize, Debug, Default)]
pub struct Meta {
    pub format: u32,
    pub symbol_docs: u64,
    pub code_docs: u64,
    pub indexed_files: u64,
    pub scan_always_files: u64,
    pub build_seconds: f64,
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

/// Distinct trigrams of `bytes` (ASCII letters folded to lower case), skipping those that span
/// a line break. `seen` is a 2^24-bit scratch set, left cleared.
pub fn trigrams(bytes: &[u8], seen: &mut [u64], out: &mut Vec<u32>) {
    out.clear();
    if bytes.len() < 3 {
        return;
    }
    let fold = |b: u8| b.to_ascii_lowercase() as u32;
    let mut t = (fold(bytes[0]) << 8) | fold(bytes[1]);
    for &b in &bytes[2..] {
        t = ((t << 8) | fold(b)) & 0xFF_FFFF;
        let (w, bit) = ((t >> 6) as usize, 1u64 << (t & 63));
        if seen[w] & bit == 0 {
            seen[w] |= bit;
            out.push(t);
        }
    }
    for &t in out.iter() {
        seen[(t >> 6) as usize] = 0;
    }
    // Trigrams with a newline never match a line-oriented pattern.
    out.retain(|&t| t & 0xFF != 10 && (t >> 8) & 0xFF != 10 && t >> 16 != 10);
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

/// Builds the search index for a generation directory (`gen_dir/search/`).
pub fn build_index(gen_dir: &Path, symbols: &Symbols) -> Result<()> {
    let t0 = std::time::Instant::now();
    let cpu0 = cpu_seconds();
    let dir = gen_dir.join(DIR);
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let (schema, f) = schema();
    let index =
        Index::create_in_dir(&dir, schema.clone()).context("cannot create the search index")?;
    let threads = rayon::current_num_threads().clamp(1, 8);
    let root = PathBuf::from(&symbols.root);

    // Symbol documents, with `order` = position in (rank, package path, qname).
    let pkg_of = |s: &store::SymRec| symbols.pkgs.get(s.pkg as usize);
    let flags_of = |s: &store::SymRec| {
        let mut fl = pkg_of(s).map(|p| p.flags).unwrap_or(store::F_EXTERNAL);
        if let Some(file) = symbols.files.get(s.file as usize) {
            fl |= file.flags;
        }
        fl
    };
    let ids: Vec<u32> = (0..symbols.syms.len() as u32)
        .filter(|&i| symbols.syms[i as usize].file != NONE)
        .collect();
    let mut keyed: Vec<(u64, &str, &str, u32)> = ids
        .par_iter()
        .map(|&i| {
            let s = &symbols.syms[i as usize];
            (
                sym_rank(flags_of(s), is_exported(&s.name)),
                pkg_of(s).map(|p| p.path.as_str()).unwrap_or(""),
                s.qname.as_str(),
                i,
            )
        })
        .collect();
    keyed.par_sort_unstable();
    let ids: Vec<u32> = keyed.into_iter().map(|k| k.3).collect();
    let sym_docs = ids.len() as u64;

    // Files: grep entries, symlink check, file order for code chunks.
    let mut memo = HashMap::new();
    let mut gfiles = GrepFiles {
        root: symbols.root.clone(),
        files: Vec::with_capacity(symbols.files.len()),
    };
    for file in &symbols.files {
        let mut flags = file.flags & (store::F_TEST | store::F_VENDOR | store::F_EXTERNAL);
        let pflags = symbols
            .pkgs
            .get(file.pkg as usize)
            .map(|p| p.flags & store::F_VENDOR)
            .unwrap_or(0);
        flags |= pflags;
        if flags & store::F_EXTERNAL == 0 && via_symlink(&root, &file.rel, &mut memo) {
            flags |= G_SYMLINK;
        }
        gfiles.files.push(GrepFile {
            rel: file.rel.clone(),
            hash: file.hash,
            size: file.size,
            mtime_ns: file.mtime_ns,
            flags,
        });
    }
    let mut forder: Vec<u32> = (0..symbols.files.len() as u32).collect();
    forder.sort_by(|&a, &b| {
        let (fa, fb) = (&gfiles.files[a as usize], &gfiles.files[b as usize]);
        ((fa.flags & 6), fa.rel.as_str()).cmp(&((fb.flags & 6), fb.rel.as_str()))
    });
    let mut file_rank = vec![0u64; symbols.files.len()];
    for (o, &i) in forder.iter().enumerate() {
        file_rank[i as usize] = o as u64;
    }
    // Top-level declarations per file, for code chunks.
    let mut decls: Vec<Vec<u32>> = vec![Vec::new(); symbols.files.len()];
    for (i, s) in symbols.syms.iter().enumerate() {
        if s.file != NONE && s.kind != Kind::IfaceMethod && s.end_line >= s.start_line {
            decls[s.file as usize].push(i as u32);
        }
    }
    let t_prep = t0.elapsed();

    // Work units, taken in turn by the workers: runs of symbol documents, then files.
    let sym_units = ids.len().div_ceil(SYM_UNIT);
    let units = sym_units + symbols.files.len();
    let next = AtomicUsize::new(0);
    let code_docs = AtomicU64::new(0);
    let failed = AtomicBool::new(false);
    let sym_doc = |order: usize, i: u32| -> TantivyDocument {
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
        d.add_text(f.pkg, pkg_of(s).map(|p| p.path.as_str()).unwrap_or(""));
        d.add_text(f.file, &symbols.files[s.file as usize].rel);
        d.add_u64(f.line, s.line as u64);
        d.add_u64(f.col, s.col as u64);
        tags_of(&mut d, &f, "sym", fl);
        if !is_exported(&s.name) {
            d.add_text(f.tags, "unexported");
        }
        d.add_u64(f.rank, sym_rank(fl, is_exported(&s.name)));
        d.add_u64(f.order, order as u64);
        d
    };
    // Per file: Some(distinct trigrams) when indexed, None when grep must always read it.
    let file_unit =
        |sink: &mut SegmentSink, seen: &mut [u64], fi: usize| -> Result<Option<Vec<u32>>> {
            let file = &symbols.files[fi];
            let g = &gfiles.files[fi];
            if g.flags & store::F_EXTERNAL != 0 {
                return Ok(Some(Vec::new()));
            }
            let Ok(bytes) = std::fs::read(root.join(&file.rel)) else {
                return Ok(None);
            };
            if bytes.len() as u64 > crate::walk::DEFAULT_MAX_FILE_SIZE
                || xxhash_rust::xxh3::xxh3_64(&bytes) != file.hash
            {
                return Ok(None);
            }
            let mut tris = Vec::new();
            trigrams(&bytes, seen, &mut tris);
            let n = add_code_chunks(
                sink,
                &f,
                symbols,
                fi,
                &bytes,
                &decls[fi],
                file_rank[fi],
                g.flags,
            )?;
            code_docs.fetch_add(n, Ordering::Relaxed);
            Ok(Some(tris))
        };
    let (tx, rx) = std::sync::mpsc::channel::<Result<Vec<(usize, Option<Vec<u32>>)>>>();
    let (per_file, t_docs, t_tri, segments) = std::thread::scope(|scope| -> Result<_> {
        let workers: Vec<_> = (0..threads)
            .map(|w| {
                let tx = tx.clone();
                let (dir, schema, next, failed) = (&dir, &schema, &next, &failed);
                let (ids, sym_doc, file_unit) = (&ids, &sym_doc, &file_unit);
                scope.spawn(move || -> Result<Vec<tantivy::index::SegmentMeta>> {
                    let budget = WRITER_MEMORY_PER_THREAD;
                    let mut sink = match SegmentSink::new(dir, w, schema.clone(), budget) {
                        Ok(s) => s,
                        Err(e) => {
                            failed.store(true, Ordering::Relaxed);
                            let _ = tx.send(Err(e));
                            return Ok(Vec::new());
                        }
                    };
                    let mut seen = vec![0u64; 1 << 18];
                    let mut files = Vec::new();
                    let run = (|| -> Result<()> {
                        loop {
                            let u = next.fetch_add(1, Ordering::Relaxed);
                            if u >= units || failed.load(Ordering::Relaxed) {
                                return Ok(());
                            }
                            if u < sym_units {
                                let from = u * SYM_UNIT;
                                let to = (from + SYM_UNIT).min(ids.len());
                                for (order, &i) in (from..to).zip(&ids[from..to]) {
                                    sink.add(sym_doc(order, i))?;
                                }
                            } else {
                                let fi = u - sym_units;
                                files.push((fi, file_unit(&mut sink, &mut seen, fi)?));
                            }
                            sink.maybe_flush()?;
                        }
                    })();
                    if run.is_err() {
                        failed.store(true, Ordering::Relaxed);
                    }
                    // The main thread writes the trigram file while the last segments are
                    // written out.
                    let _ = tx.send(run.map(|()| files));
                    sink.flush()?;
                    std::fs::remove_dir_all(&sink.dir)
                        .with_context(|| format!("cannot remove {}", sink.dir.display()))?;
                    Ok(sink.done)
                })
            })
            .collect();
        drop(tx);
        let mut per_file: Vec<Option<Vec<u32>>> = vec![None; symbols.files.len()];
        let mut first_err = None;
        // One message per worker, sent when it has no more documents to add.
        for r in rx.iter().take(threads) {
            match r {
                Ok(v) => {
                    for (fi, t) in v {
                        per_file[fi] = t;
                    }
                }
                Err(e) => {
                    first_err.get_or_insert(e);
                }
            }
        }
        let t_docs = t0.elapsed();
        let mut t_tri = std::time::Duration::ZERO;
        let mut scan = Vec::new();
        if first_err.is_none() {
            scan = per_file.iter().map(|t| t.is_none()).collect();
            let t = std::time::Instant::now();
            let p = dir.join(grep::TRIGRAMS);
            if let Err(e) = grep::write_trigrams(&p, per_file)
                .with_context(|| format!("cannot write {}", p.display()))
            {
                first_err = Some(e);
            }
            t_tri = t.elapsed();
        }
        let mut segments = Vec::new();
        for w in workers {
            match w.join() {
                Ok(Ok(done)) => segments.extend(done),
                Ok(Err(e)) => {
                    first_err.get_or_insert(e);
                }
                Err(p) => std::panic::resume_unwind(p),
            }
        }
        if let Some(e) = first_err {
            return Err(e);
        }
        Ok((scan, t_docs, t_tri, segments))
    })?;
    let mut scan_always = 0;
    for (g, &scan) in gfiles.files.iter_mut().zip(&per_file) {
        if scan {
            g.flags |= G_SCAN;
            scan_always += 1;
        }
    }
    // Register the segments (what tantivy's `IndexWriter::commit` does).
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
    let t_commit = t0.elapsed();
    let p = dir.join("files.bin");
    std::fs::write(&p, bincode::serialize(&gfiles)?)
        .with_context(|| format!("cannot write {}", p.display()))?;
    let meta = Meta {
        format: SEARCH_FORMAT,
        symbol_docs: sym_docs,
        code_docs: code_docs.into_inner(),
        indexed_files: (symbols.files.len() - scan_always) as u64,
        scan_always_files: scan_always as u64,
        build_seconds: t0.elapsed().as_secs_f64(),
    };
    let p = dir.join("codewalk.json");
    std::fs::write(&p, serde_json::to_vec_pretty(&meta)?)
        .with_context(|| format!("cannot write {}", p.display()))?;
    if std::env::var_os("CODEWALK_TIMINGS").is_some() {
        eprintln!(
            "timing: search index: prepare {:.2?}, documents {:.2?}, trigram file {:.2?}, segments+commit {:.2?}, total {:.2?}, cpu {:.2}s ({} symbol, {} code docs, {} files; {} scan-always)",
            t_prep,
            t_docs - t_prep,
            t_tri,
            t_commit - t_docs,
            t0.elapsed(),
            cpu_seconds() - cpu0,
            meta.symbol_docs,
            meta.code_docs,
            meta.indexed_files,
            meta.scan_always_files
        );
    }
    Ok(())
}

/// Splits a file into code chunks (declarations and the lines between them) and indexes them.
fn add_code_chunks(
    sink: &mut SegmentSink,
    f: &Fields,
    symbols: &Symbols,
    fi: usize,
    bytes: &[u8],
    decls: &[u32],
    file_rank: u64,
    flags: u8,
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
    let mut ds: Vec<&store::SymRec> = decls.iter().map(|&i| &symbols.syms[i as usize]).collect();
    ds.sort_by_key(|s| (s.start_line, std::cmp::Reverse(s.end_line)));
    let file = &symbols.files[fi];
    let pkg = symbols
        .pkgs
        .get(file.pkg as usize)
        .map(|p| p.path.as_str())
        .unwrap_or("");
    let rank = (flags & store::F_TEST != 0) as u64 * 4 + (flags & store::F_VENDOR != 0) as u64 * 2;
    // Units: pieces of declarations (≤ DECL_CHUNK lines) and of the lines between them
    // (≤ GAP_CHUNK), in line order.
    let mut units: Vec<(u32, u32, Option<&store::SymRec>)> = Vec::new();
    let gap = |from: u32, to: u32, units: &mut Vec<(u32, u32, Option<&store::SymRec>)>| {
        let mut a = from;
        while a <= to {
            let b = (a + GAP_CHUNK - 1).min(to);
            units.push((a, b, None));
            a = b + 1;
        }
    };
    let mut next = 1u32; // first line not yet covered
    for s in ds {
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
            d.add_text(f.file, &file.rel);
            d.add_text(f.pkg, pkg);
            d.add_u64(f.line, a as u64);
            d.add_u64(f.endline, b as u64);
            d.add_u64(f.hash, file.hash);
            let mut kinds: Vec<&str> = Vec::new();
            for &(x, y, sym) in &units[i..j] {
                if let Some(s) = sym {
                    if !kinds.contains(&s.kind.as_str()) {
                        kinds.push(s.kind.as_str());
                        d.add_text(f.kind, s.kind.as_str());
                    }
                    d.add_text(
                        f.insym,
                        format!("{x} {y} {} {}", s.kind.as_str().replace(' ', "_"), s.qname),
                    );
                }
            }
            tags_of(&mut d, f, "code", flags);
            d.add_u64(f.rank, rank);
            d.add_u64(f.order, (file_rank << 24) | a as u64);
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

/// Why the search index cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("this index has no search index (it was built by an older codewalk); re-run `codewalk index {0}`")]
    Missing(String),
    #[error("the search index in {dir} has format {found}, this codewalk reads {want}; re-run `codewalk index {root}`")]
    Version {
        dir: String,
        found: u32,
        want: u32,
        root: String,
    },
    #[error("the search index in {dir} is unreadable ({what}); re-run `codewalk index {root}`")]
    Corrupt {
        dir: String,
        what: String,
        root: String,
    },
    #[error("{0}")]
    Query(#[from] QuerySyntaxError),
    #[error("{0}")]
    Pattern(String),
    #[error("search failed: {0}")]
    Other(String),
}

impl From<tantivy::TantivyError> for SearchError {
    fn from(e: tantivy::TantivyError) -> Self {
        SearchError::Other(e.to_string())
    }
}

/// An opened search index.
pub struct SearchIndex {
    pub dir: PathBuf,
    pub root: PathBuf,
    pub fields: Fields,
    pub meta: Meta,
    reader: IndexReader,
}

impl SearchIndex {
    /// Opens `gen_dir/search`; `root` is the indexed root (for messages and file reads).
    pub fn open(gen_dir: &Path, root: &Path) -> Result<SearchIndex, SearchError> {
        let dir = gen_dir.join(DIR);
        let r = root.display().to_string();
        let raw = match std::fs::read(dir.join("codewalk.json")) {
            Ok(b) => b,
            Err(_) => return Err(SearchError::Missing(r)),
        };
        let corrupt = |what: String| SearchError::Corrupt {
            dir: dir.display().to_string(),
            what,
            root: r.clone(),
        };
        let v: serde_json::Value =
            serde_json::from_slice(&raw).map_err(|e| corrupt(format!("codewalk.json: {e}")))?;
        let found = v.get("format").and_then(|x| x.as_u64()).unwrap_or(0) as u32;
        if found != SEARCH_FORMAT {
            return Err(SearchError::Version {
                dir: dir.display().to_string(),
                found,
                want: SEARCH_FORMAT,
                root: r,
            });
        }
        let meta: Meta =
            serde_json::from_value(v).map_err(|e| corrupt(format!("codewalk.json: {e}")))?;
        let index = Index::open_in_dir(&dir).map_err(|e| corrupt(e.to_string()))?;
        tokenizer::register(&index);
        let (_, fields) = schema();
        let reader = index
            .reader_builder()
            .reload_policy(tantivy::ReloadPolicy::Manual)
            .try_into()
            .map_err(|e: tantivy::TantivyError| corrupt(e.to_string()))?;
        Ok(SearchIndex {
            dir,
            root: root.to_path_buf(),
            fields,
            meta,
            reader,
        })
    }

    pub fn searcher(&self) -> tantivy::Searcher {
        self.reader.searcher()
    }
}

/// What a search may show.
#[derive(Clone, Copy, Debug, Default)]
pub struct SearchOptions {
    pub limit: usize,
    pub symbols: bool,
    pub code: bool,
    pub no_tests: bool,
    pub no_vendor: bool,
    /// Include symbols of packages outside the checkout (standard library).
    pub external: bool,
}

/// Why a symbol matched, best first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    /// The name equals the query, letter case included.
    ExactCase,
    /// The name equals the query, letter case ignored.
    Exact,
    /// The name starts with the query.
    Prefix,
    /// Every query word is a word of the name.
    Name,
    /// Every query word is a word of the qualified name (package path, receiver, name).
    Qualified,
    /// Every query word is in the name, qualified name or doc comment.
    Doc,
    /// No words: every symbol the filters allow.
    Filter,
}

impl Tier {
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::ExactCase | Tier::Exact => "exact",
            Tier::Prefix => "prefix",
            Tier::Name => "name",
            Tier::Qualified => "qualified name",
            Tier::Doc => "doc",
            Tier::Filter => "filter",
        }
    }
}

#[derive(Clone, Debug)]
pub struct SymbolHit {
    pub tier: Tier,
    pub qname: String,
    pub kind: String,
    pub package: String,
    pub file: String,
    pub line: u32,
    pub col: u32,
    pub signature: String,
    pub doc: String,
    pub test: bool,
    pub vendor: bool,
    pub external: bool,
}

#[derive(Clone, Debug)]
pub struct CodeHit {
    pub file: String,
    pub line: u32,
    pub text: String,
    /// The enclosing declaration, if any.
    pub symbol: Option<String>,
    /// How many distinct query words the line holds.
    pub words: usize,
}

#[derive(Default, Debug)]
pub struct SearchResult {
    pub symbols: Vec<SymbolHit>,
    pub code: Vec<CodeHit>,
    /// Files whose content changed since indexing (their code hits are left out).
    pub stale: Vec<String>,
}

fn term_q(field: Field, s: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(
        Term::from_field_text(field, s),
        IndexRecordOption::Basic,
    ))
}

fn all_of(qs: Vec<Box<dyn Query>>) -> Box<dyn Query> {
    Box::new(BooleanQuery::new(
        qs.into_iter().map(|q| (Occur::Must, q)).collect(),
    ))
}

fn any_of(qs: Vec<Box<dyn Query>>) -> Box<dyn Query> {
    Box::new(BooleanQuery::new(
        qs.into_iter().map(|q| (Occur::Should, q)).collect(),
    ))
}

fn regex_q(pattern: &str, field: Field) -> Result<Box<dyn Query>, SearchError> {
    Ok(Box::new(RegexQuery::from_pattern(pattern, field)?))
}

impl SearchIndex {
    /// Filter clauses shared by symbol and code queries.
    fn filters(
        &self,
        q: &ParsedQuery,
        o: &SearchOptions,
        what: &str,
    ) -> Result<Clauses, SearchError> {
        let f = &self.fields;
        let mut v: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, term_q(f.tags, what))];
        if !q.kinds.is_empty() {
            let ks: Vec<Box<dyn Query>> = q
                .kinds
                .iter()
                .flat_map(|k| k.kinds())
                .map(|k| term_q(f.kind, k))
                .collect();
            v.push((Occur::Must, any_of(ks)));
        }
        if !q.pkgs.is_empty() {
            let ps = q
                .pkgs
                .iter()
                .map(|p| regex_q(&query::pkg_regex(p), f.pkg))
                .collect::<Result<Vec<_>, _>>()?;
            v.push((Occur::Must, any_of(ps)));
        }
        if !q.files.is_empty() {
            let ps = q
                .files
                .iter()
                .map(|p| regex_q(&query::file_regex(p), f.file))
                .collect::<Result<Vec<_>, _>>()?;
            v.push((Occur::Must, any_of(ps)));
        }
        if o.no_tests {
            v.push((Occur::MustNot, term_q(f.tags, "test")));
        }
        if o.no_vendor {
            v.push((Occur::MustNot, term_q(f.tags, "vendor")));
        }
        if !o.external {
            v.push((Occur::MustNot, term_q(f.tags, "external")));
        }
        Ok(v)
    }

    /// Ranked search: symbols by tier (see [`Tier`]), then by rank (checkout before
    /// external, non-test, non-vendor, exported first), package path and qualified name;
    /// code lines by rank, then BM25, then file and line.
    pub fn search(&self, q: &ParsedQuery, o: &SearchOptions) -> Result<SearchResult, SearchError> {
        let mut res = SearchResult::default();
        if o.symbols {
            res.symbols = self.search_symbols(q, o)?;
        }
        if o.code && !q.words.is_empty() {
            self.search_code(q, o, &mut res)?;
        }
        Ok(res)
    }

    fn search_symbols(
        &self,
        q: &ParsedQuery,
        o: &SearchOptions,
    ) -> Result<Vec<SymbolHit>, SearchError> {
        let f = &self.fields;
        let searcher = self.searcher();
        let words = q.terms();
        let mut tiers: Vec<(Tier, Box<dyn Query>)> = Vec::new();
        if words.is_empty() {
            tiers.push((Tier::Filter, Box::new(AllQuery)));
        } else {
            // `cache.Resync`, `(*T).Run`, `net/http.Handler`: the name is the last element,
            // the rest must be words of the qualified name.
            let joined: String = q.words.concat();
            let (qual, name) = match joined.rfind(['.', '/']) {
                Some(i) if i + 1 < joined.len() => (&joined[..i], &joined[i + 1..]),
                _ => ("", joined.as_str()),
            };
            let qual_words = tokenizer::words(qual);
            let with_qual = |q: Box<dyn Query>| -> Box<dyn Query> {
                if qual_words.is_empty() {
                    return q;
                }
                let mut v = vec![q];
                v.extend(qual_words.iter().map(|w| term_q(f.qname, w)));
                all_of(v)
            };
            let lc = name.to_lowercase();
            if name.chars().any(|c| c.is_uppercase()) {
                tiers.push((Tier::ExactCase, with_qual(term_q(f.name_raw, name))));
            }
            tiers.push((Tier::Exact, with_qual(term_q(f.name_lc, &lc))));
            tiers.push((
                Tier::Prefix,
                with_qual(regex_q(
                    &format!("{}.+", regex_syntax::escape(&lc)),
                    f.name_lc,
                )?),
            ));
            let name_words = if qual_words.is_empty() {
                words.clone()
            } else {
                tokenizer::words(name)
            };
            if !name_words.is_empty() {
                tiers.push((
                    Tier::Name,
                    with_qual(all_of(
                        name_words.iter().map(|w| term_q(f.name, w)).collect(),
                    )),
                ));
            }
            tiers.push((
                Tier::Qualified,
                all_of(words.iter().map(|w| term_q(f.qname, w)).collect()),
            ));
            tiers.push((
                Tier::Doc,
                all_of(
                    words
                        .iter()
                        .map(|w| {
                            any_of(vec![
                                term_q(f.name, w),
                                term_q(f.qname, w),
                                term_q(f.doc, &tokenizer::stem(w)),
                            ])
                        })
                        .collect(),
                ),
            ));
        }
        let filters = self.filters(q, o, "sym")?;
        let mut seen: HashSet<DocAddress> = HashSet::new();
        let mut out: Vec<(Tier, DocAddress)> = Vec::new();
        for (tier, tq) in tiers {
            if out.len() >= o.limit {
                break;
            }
            let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, tq)];
            clauses.extend(filters.iter().map(|(oc, q)| (*oc, q.box_clone())));
            let query = BooleanQuery::new(clauses);
            let need = o.limit - out.len() + seen.len();
            let top = searcher.search(
                &query,
                &TopDocs::with_limit(need).order_by_u64_field("order", tantivy::Order::Asc),
            )?;
            for (_, addr) in top {
                if out.len() >= o.limit {
                    break;
                }
                if seen.insert(addr) {
                    out.push((tier, addr));
                }
            }
        }
        let mut hits = Vec::with_capacity(out.len());
        for (tier, addr) in out {
            let d: TantivyDocument = searcher.doc(addr)?;
            let s = |fl: Field| {
                d.get_first(fl)
                    .and_then(|v| v.as_str())
                    .unwrap_or("")
                    .to_string()
            };
            let n = |fl: Field| d.get_first(fl).and_then(|v| v.as_u64()).unwrap_or(0) as u32;
            // Flags are not stored; the rank fast field holds them.
            let rank = searcher
                .segment_reader(addr.segment_ord)
                .fast_fields()
                .u64("rank")?
                .first(addr.doc_id)
                .unwrap_or(0);
            hits.push(SymbolHit {
                tier,
                qname: s(f.qname),
                kind: s(f.kind),
                package: s(f.pkg),
                file: s(f.file),
                line: n(f.line),
                col: n(f.col),
                signature: s(f.sig),
                doc: s(f.doc),
                test: rank & 4 != 0,
                vendor: rank & 2 != 0,
                external: rank & 8 != 0,
            });
        }
        Ok(hits)
    }

    fn search_code(
        &self,
        q: &ParsedQuery,
        o: &SearchOptions,
        res: &mut SearchResult,
    ) -> Result<(), SearchError> {
        let f = &self.fields;
        let searcher = self.searcher();
        let mut words = q.terms();
        words.sort();
        words.dedup();
        let kinds: Vec<&str> = q.kinds.iter().flat_map(|k| k.kinds()).collect();
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(
            Occur::Must,
            all_of(words.iter().map(|w| code_term(f.code, w)).collect()),
        )];
        clauses.extend(self.filters(q, o, "code")?);
        let query = BooleanQuery::new(clauses);
        let collector =
            TopDocs::with_limit(o.limit.max(1)).tweak_score(move |seg: &tantivy::SegmentReader| {
                let ff = seg.fast_fields();
                let rank = ff.u64("rank").ok();
                let order = ff.u64("order").ok();
                move |doc: tantivy::DocId, score: tantivy::Score| {
                    let r = rank.as_ref().and_then(|c| c.first(doc)).unwrap_or(0);
                    let o = order.as_ref().and_then(|c| c.first(doc)).unwrap_or(0);
                    (std::cmp::Reverse(r), score, std::cmp::Reverse(o))
                }
            });
        let top = searcher.search(&query, &collector)?;
        let mut cache: HashMap<String, Option<String>> = HashMap::new();
        for (_, addr) in top {
            if res.code.len() >= o.limit {
                break;
            }
            let d: TantivyDocument = searcher.doc(addr)?;
            let file = d
                .get_first(f.file)
                .and_then(|v| v.as_str())
                .unwrap_or("")
                .to_string();
            let n = |fl: Field| d.get_first(fl).and_then(|v| v.as_u64()).unwrap_or(0);
            let (a, b, hash) = (n(f.line) as u32, n(f.endline) as u32, n(f.hash));
            // (first, last, kind, qname) of each declaration piece in the chunk.
            let decls: Vec<(u32, u32, String, String)> = d
                .get_all(f.insym)
                .filter_map(|v| v.as_str())
                .filter_map(|x| {
                    let mut it = x.splitn(4, ' ');
                    Some((
                        it.next()?.parse().ok()?,
                        it.next()?.parse().ok()?,
                        it.next()?.replace('_', " "),
                        it.next()?.to_string(),
                    ))
                })
                .collect();
            let content = cache.entry(file.clone()).or_insert_with(|| {
                let bytes = std::fs::read(self.root.join(&file)).ok()?;
                if xxhash_rust::xxh3::xxh3_64(&bytes) != hash {
                    return None;
                }
                Some(String::from_utf8_lossy(&bytes).into_owned())
            });
            let Some(content) = content else {
                if !res.stale.contains(&file) {
                    res.stale.push(file.clone());
                }
                continue;
            };
            let mut lines: Vec<(usize, u32, &str, Option<String>)> = Vec::new();
            for (i, l) in content
                .lines()
                .enumerate()
                .skip((a as usize).saturating_sub(1))
            {
                let ln = i as u32 + 1;
                if ln > b {
                    break;
                }
                let decl = decls.iter().find(|x| x.0 <= ln && ln <= x.1);
                if !kinds.is_empty() && !decl.is_some_and(|x| kinds.contains(&x.2.as_str())) {
                    continue;
                }
                let mut have: Vec<String> = Vec::new();
                tokenizer::split_words(l, false, |w, _, _| {
                    if words.iter().any(|x| x == w) && !have.iter().any(|h| h == w) {
                        have.push(w.to_string());
                    }
                });
                if !have.is_empty() {
                    lines.push((have.len(), ln, l, decl.map(|x| x.3.clone())));
                }
            }
            let best = lines.iter().map(|x| x.0).max().unwrap_or(0);
            for (cnt, ln, l, symbol) in lines.into_iter().filter(|x| x.0 == best).take(3) {
                if res.code.len() >= o.limit {
                    break;
                }
                res.code.push(CodeHit {
                    file: file.clone(),
                    line: ln,
                    text: l.trim_end_matches('\r').to_string(),
                    symbol,
                    words: cnt,
                });
            }
        }
        Ok(())
    }
}

fn code_term(field: Field, w: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(
        Term::from_field_text(field, w),
        IndexRecordOption::WithFreqs,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trigrams_are_distinct_folded_and_line_local() {
        let mut seen = vec![0u64; 1 << 18];
        let mut out = Vec::new();
        trigrams(b"AbcAbc\nab", &mut seen, &mut out);
        let t = |s: &[u8]| (s[0] as u32) << 16 | (s[1] as u32) << 8 | s[2] as u32;
        let mut got = out.clone();
        got.sort();
        let mut want = vec![t(b"abc"), t(b"bca"), t(b"cab")];
        want.sort();
        assert_eq!(got, want);
        assert!(seen.iter().all(|&w| w == 0));
    }
}
