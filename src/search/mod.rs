//! Search: a tantivy index built inside each index generation, ranked symbol and code search,
//! and the index-accelerated `grep`.
//!
//! Input: the stored [`Symbols`](crate::store::Symbols) of a generation and the source files they were built from.
//! Output: `gen-<n>/search/` and answers as plain structs ([`SymbolHit`], [`CodeHit`],
//! [`grep::Match`]). Must not know: output formats, command-line flags.
//!
//! # On-disk format (`gen-<n>/search/`, version [`SEARCH_FORMAT`])
//! ```text
//! codewalk.json  {"format": N, ...counts, shards, reused shards, build seconds} — written last
//! shards.json    the shard plan (`build::ShardPlan`): per shard, the smallest package path of
//!                its range, the digest of its inputs, its segment ids and trigram file
//! files.bin      bincode GrepFiles: root, one entry per stored file (rel path, xxh3 hash,
//!                size, mtime, flags: test, vendor, external, scan-always,
//!                reached-through-a-symlink) shard by shard, and per shard its trigram file
//!                and the range of its files
//! <tantivy>      one index, two kinds of documents (field `tags` holds sym/code), each
//!                shard's in its own segments:
//!   sym   one per declared symbol: name (code_name words), name_lc (exact and prefix),
//!         name_raw (exact, letter case kept; only names with a capital letter, the only
//!         ones a case-sensitive query can equal), qname (words), doc (stemmed words),
//!         kind, pkg, file, tags; fast `order`
//!         = rank (external, test, vendor, unexported) then package path then qname;
//!         stored: what a result line shows
//!   code  one per chunk of a file: consecutive top-level declarations and the lines between
//!         them, up to 60 lines (a longer declaration is cut in pieces of 100 lines); code
//!         words (freqs, no positions), file, pkg, kinds of the declarations; fast `rank`,
//!         `order` (package path, file, line); stored: file, line span, hash, and `insym`:
//!         "first last kind qname" per declaration piece, to name the declaration around a
//!         matching line
//! tri-<k>.bin    shard k's trigram postings: for each distinct trigram (three bytes, ASCII
//!                letters folded to lower case, no newline) of its indexed local files, the
//!                files holding it; see [`grep::write_trigrams`] for the layout
//! ```
//! A generation's search index matches its index.bin. It is built shard by shard
//! (`build.rs`): a shard is a range of package paths, and a shard whose inputs are unchanged
//! since the previous generation is hard-linked from it instead of being built again. Code
//! text is indexed only from files whose bytes still hash to what was parsed;
//! other local files are marked scan-always, so `grep` reads them instead of trusting trigrams.
//! The tantivy segments are written by worker threads that each own a segment writer and make
//! the documents they index (`SegmentSink`), not through tantivy's `IndexWriter`, whose
//! queue hands every small batch to another thread; meta.json lists the segments at the end.
//! Trigram postings live in their own files rather than in tantivy: one posting per (trigram,
//! file) pair is the bulk of the data, and a flat sorted table is several times cheaper to
//! build than tantivy's term hash map, and as cheap to read.
//!
//! Format changes: bump [`SEARCH_FORMAT`] and add a line here.
//! - 1: first format.
//! - 2: shards (shards.json, one trigram file per shard, files.bin in shard order);
//!   code chunk `order` by package path, file, line.
//! - 3: shards can be patched (per-file digests, layout digest, scan-always positions,
//!   deleted documents in shards.json); code chunk `order` is (shard, file's position,
//!   chunk) so a file's chunks are replaced without renumbering.

mod build;
pub mod grep;
mod query;
pub mod tokenizer;

pub use build::{
    build_index, names_chunks, refresh_index, trigrams, BuildReport, ChangedText, Decl,
};
pub use query::{parse_query, KindFilter, ParsedQuery, QuerySyntaxError};

use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use tantivy::collector::TopDocs;
use tantivy::query::{AllQuery, BooleanQuery, Occur, Query, RegexQuery, TermQuery};
use tantivy::schema::{
    Field, IndexRecordOption, NumericOptions, Schema, TextFieldIndexing, TextOptions, Value,
    STORED, STRING,
};
use tantivy::{DocAddress, Index, IndexReader, TantivyDocument, Term};

/// Boolean query clauses.
type Clauses = Vec<(Occur, Box<dyn Query>)>;

pub const SEARCH_FORMAT: u32 = 3;
/// The search index directory inside a generation.
pub const DIR: &str = "search";

/// File flags in files.bin beyond the store's F_TEST / F_VENDOR / F_EXTERNAL.
pub const G_SCAN: u8 = 16;
pub const G_SYMLINK: u8 = 32;

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

/// files.bin: every stored file, shard by shard (a shard's files in the order of its
/// trigram file, so file `base + i` is the shard's file `i`).
#[derive(Serialize, Deserialize, Debug, Default)]
pub struct GrepFiles {
    pub root: String,
    pub files: Vec<GrepFile>,
    pub shards: Vec<GrepShard>,
}

/// A shard's trigram file and its files' place in [`GrepFiles::files`].
#[derive(Serialize, Deserialize, Debug, Default, Clone)]
pub struct GrepShard {
    /// File name in the search directory ("" when the shard has no files).
    pub tri: String,
    pub base: u32,
    pub files: u32,
}

#[derive(Serialize, Deserialize, Debug, Default)]
pub struct Meta {
    pub format: u32,
    pub symbol_docs: u64,
    pub code_docs: u64,
    pub indexed_files: u64,
    pub scan_always_files: u64,
    pub build_seconds: f64,
    #[serde(default)]
    pub shards: u64,
    #[serde(default)]
    pub reused_shards: u64,
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
        let mut seen = vec![0u64; build::TRIGRAM_SCRATCH];
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

    #[test]
    fn trigrams_equal_a_plain_set_on_mixed_bytes() {
        let mut seen = vec![0u64; build::TRIGRAM_SCRATCH];
        let mut out = Vec::new();
        let mut x: u32 = 12345;
        for round in 0..4 {
            // ASCII letters and punctuation, newlines, and bytes of UTF-8 sequences.
            let bytes: Vec<u8> = (0..5000)
                .map(|_| {
                    x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                    let r = (x >> 16) as u8;
                    match r % 8 {
                        0 => b'\n',
                        1 | 2 => 0x80 | (r >> 1),
                        _ => b"aBcDeF(){}.,_xyzXYZ 09"[r as usize % 22],
                    }
                })
                .collect();
            trigrams(&bytes, &mut seen, &mut out);
            let want: std::collections::BTreeSet<u32> = bytes
                .windows(3)
                .filter(|w| !w.contains(&b'\n'))
                .map(|w| {
                    let f = |b: u8| b.to_ascii_lowercase() as u32;
                    f(w[0]) << 16 | f(w[1]) << 8 | f(w[2])
                })
                .collect();
            let got: std::collections::BTreeSet<u32> = out.iter().copied().collect();
            assert_eq!(got.len(), out.len(), "round {round}: duplicates");
            assert_eq!(got, want, "round {round}");
            assert!(
                seen.iter().all(|&w| w == 0),
                "round {round}: scratch not cleared"
            );
        }
    }
}
