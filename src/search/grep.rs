//! `grep`: ripgrep's matcher and searcher over the indexed files, with a trigram prefilter.
//!
//! The pattern is compiled with `grep-regex` as ripgrep compiles it (line terminator `\n`,
//! multi-line anchors), and files are searched with `grep-searcher` (binary files: stop at
//! the first NUL byte), so the lines are those `rg -n -t go PATTERN ROOT` prints for the same
//! files. The prefilter: the regex's syntax tree gives a boolean formula of literal strings
//! every match must contain; each string of three bytes or more becomes the AND of its
//! (ASCII-case-folded) trigrams, looked up in `trigrams.bin`. Only the files that pass are
//! read. Patterns with no usable literal read every file.

use super::{GrepFile, GrepFiles, SearchError, SearchIndex, G_SCAN, G_SYMLINK};
use crate::store;
use grep_regex::{RegexMatcher, RegexMatcherBuilder};
use grep_searcher::{BinaryDetection, Searcher, SearcherBuilder, Sink, SinkMatch};
use rayon::prelude::*;
use regex_syntax::hir::{Class, Hir, HirKind};
use std::io::Write;
use std::path::Path;

#[derive(Clone, Copy, Debug, Default)]
pub struct GrepOptions {
    /// The pattern is a literal string (`-F`).
    pub fixed: bool,
    pub ignore_case: bool,
    pub no_tests: bool,
    pub no_vendor: bool,
    /// Also search files reached through symbolic links (ripgrep's `-L`).
    pub follow: bool,
}

/// The lines that matched in one file, in line order.
pub struct FileMatches {
    pub file: u32,
    pub lines: Vec<(u64, Vec<u8>)>,
}

pub struct GrepResult {
    pub files: GrepFiles,
    pub matches: Vec<FileMatches>,
    /// Files the prefilter let through (or all searchable files without one).
    pub candidates: usize,
    pub searchable: usize,
    /// Files whose bytes changed since indexing (found by size and mtime, and searched as they
    /// are now; files added since are not searched).
    pub stale: Vec<String>,
    pub unreadable: Vec<String>,
    /// Time spent: loading files.bin and the matcher; the trigram lookup; reading and
    /// searching the candidates (beside the check for changed files); searching changed files.
    pub phases: [std::time::Duration; 4],
}

/// A boolean formula over trigrams that every matching file satisfies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// No constraint: every file.
    All,
    /// All of these trigrams.
    Tris(Vec<u32>),
    And(Vec<Plan>),
    Or(Vec<Plan>),
}

fn tris(lit: &[u8]) -> Plan {
    if lit.len() < 3 {
        return Plan::All;
    }
    let mut v: Vec<u32> = lit
        .windows(3)
        .map(|w| (w[0] as u32) << 16 | (w[1] as u32) << 8 | w[2] as u32)
        .collect();
    v.sort_unstable();
    v.dedup();
    Plan::Tris(v)
}

fn and(v: Vec<Plan>) -> Plan {
    let mut out = Vec::new();
    for p in v {
        match p {
            Plan::All => {}
            Plan::And(xs) => out.extend(xs),
            p => out.push(p),
        }
    }
    match out.len() {
        0 => Plan::All,
        1 => out.pop().unwrap_or(Plan::All),
        _ => Plan::And(out),
    }
}

fn or(v: Vec<Plan>) -> Plan {
    if v.is_empty() || v.contains(&Plan::All) {
        return Plan::All;
    }
    if v.len() == 1 {
        return v.into_iter().next().unwrap_or(Plan::All);
    }
    Plan::Or(v)
}

fn fold(b: &[u8]) -> Vec<u8> {
    b.iter().map(|c| c.to_ascii_lowercase()).collect()
}

/// A class that matches exactly one byte after ASCII case folding.
fn class_byte(c: &Class) -> Option<u8> {
    let mut byte: Option<u8> = None;
    let mut take = |lo: u32, hi: u32| -> bool {
        if hi - lo > 1 || hi > 0x7f {
            return false;
        }
        for x in lo..=hi {
            let b = (x as u8).to_ascii_lowercase();
            if byte.is_some_and(|y| y != b) {
                return false;
            }
            byte = Some(b);
        }
        true
    };
    let ok = match c {
        Class::Unicode(u) => u
            .ranges()
            .iter()
            .all(|r| take(r.start() as u32, r.end() as u32)),
        Class::Bytes(bc) => bc
            .ranges()
            .iter()
            .all(|r| take(r.start() as u32, r.end() as u32)),
    };
    if ok {
        byte
    } else {
        None
    }
}

/// (the exact folded string the node matches, if it matches exactly one; its plan).
fn analyze(h: &Hir) -> (Option<Vec<u8>>, Plan) {
    match h.kind() {
        HirKind::Empty | HirKind::Look(_) => (Some(Vec::new()), Plan::All),
        HirKind::Literal(l) => (Some(fold(&l.0)), Plan::All),
        HirKind::Class(c) => match class_byte(c) {
            Some(b) => (Some(vec![b]), Plan::All),
            None => (None, Plan::All),
        },
        HirKind::Capture(c) => analyze(&c.sub),
        HirKind::Repetition(r) => {
            if r.min == 0 {
                return (None, Plan::All);
            }
            let (exact, plan) = analyze(&r.sub);
            if r.min == 1 && r.max == Some(1) {
                return (exact, plan);
            }
            match exact {
                Some(e) => (None, tris(&e)),
                None => (None, plan),
            }
        }
        HirKind::Concat(xs) => {
            let mut plans = Vec::new();
            let mut run: Vec<u8> = Vec::new();
            let mut whole: Option<Vec<u8>> = Some(Vec::new());
            for x in xs {
                let (exact, plan) = analyze(x);
                match exact {
                    Some(e) => {
                        run.extend_from_slice(&e);
                        if let Some(w) = whole.as_mut() {
                            w.extend_from_slice(&e);
                        }
                    }
                    None => {
                        plans.push(tris(&run));
                        run.clear();
                        plans.push(plan);
                        whole = None;
                    }
                }
            }
            plans.push(tris(&run));
            (whole, and(plans))
        }
        HirKind::Alternation(xs) => {
            let plans = xs
                .iter()
                .map(|x| match analyze(x) {
                    (Some(e), _) => tris(&e),
                    (None, p) => p,
                })
                .collect();
            (None, or(plans))
        }
    }
}

/// The prefilter plan of a pattern (as ripgrep would read it).
pub fn plan(pattern: &str, fixed: bool, ignore_case: bool) -> Plan {
    let pat = if fixed {
        regex_syntax::escape(pattern)
    } else {
        pattern.to_string()
    };
    let hir = regex_syntax::ParserBuilder::new()
        .case_insensitive(ignore_case)
        .multi_line(true)
        .utf8(false)
        .build()
        .parse(&pat);
    match hir {
        Ok(h) => match analyze(&h) {
            (Some(e), _) => tris(&e),
            (None, p) => p,
        },
        Err(_) => Plan::All,
    }
}

/// File name of the trigram postings inside the search directory.
const MAGIC: &[u8; 8] = b"CWTRI\x001\x00";

/// Writes a shard's trigram file (`tri-<shard>.bin`):
/// ```text
/// magic "CWTRI\01\0" | n_files u32 | n_tris u32 | tris [u32; n_tris] ascending
/// | ends [u64; n_tris] (end offset of each list in the postings area) | postings
/// ```
/// All integers little-endian; each list is the file ids holding the trigram, ascending,
/// as LEB128 varints of the gaps (the first one from 0). `per_file[i]` is file i's distinct
/// trigrams (None: not indexed).
pub fn write_trigrams(path: &Path, per_file: Vec<Option<Vec<u32>>>) -> std::io::Result<()> {
    // (trigram, file) pairs in order: each trigram's files come out ascending.
    let mut pairs: Vec<u64> = Vec::with_capacity(per_file.iter().flatten().map(|t| t.len()).sum());
    for (fid, ts) in per_file.iter().enumerate() {
        pairs.extend(
            ts.iter()
                .flatten()
                .map(|&t| ((t as u64) << 32) | fid as u64),
        );
    }
    let nfiles = per_file.len() as u32;
    drop(per_file);
    pairs.sort_unstable();
    let mut post: Vec<u8> = Vec::with_capacity(pairs.len() * 2);
    let mut tris: Vec<u32> = Vec::new();
    let mut ends: Vec<u64> = Vec::new();
    let mut prev = 0u32;
    for (k, &pair) in pairs.iter().enumerate() {
        let (t, fid) = ((pair >> 32) as u32, pair as u32);
        if k == 0 || tris.last() != Some(&t) {
            if k > 0 {
                ends.push(post.len() as u64);
            }
            tris.push(t);
            prev = 0;
        }
        let mut gap = fid - prev;
        prev = fid;
        loop {
            let byte = (gap & 0x7f) as u8;
            gap >>= 7;
            if gap == 0 {
                post.push(byte);
                break;
            }
            post.push(byte | 0x80);
        }
    }
    if !pairs.is_empty() {
        ends.push(post.len() as u64);
    }
    let f = std::fs::File::create(path)?;
    let mut w = std::io::BufWriter::with_capacity(1 << 20, f);
    w.write_all(MAGIC)?;
    w.write_all(&nfiles.to_le_bytes())?;
    w.write_all(&(tris.len() as u32).to_le_bytes())?;
    for t in &tris {
        w.write_all(&t.to_le_bytes())?;
    }
    for e in &ends {
        w.write_all(&e.to_le_bytes())?;
    }
    w.write_all(&post)?;
    let f = w.into_inner().map_err(|e| e.into_error())?;
    f.sync_all()
}

/// A read-only view of `trigrams.bin`.
pub struct Trigrams {
    map: memmap2::Mmap,
    n: usize,
}

impl Trigrams {
    pub fn open(path: &Path) -> std::io::Result<Trigrams> {
        let f = std::fs::File::open(path)?;
        // SAFETY: the generation directory is never modified after it is committed.
        let map = unsafe { memmap2::Mmap::map(&f)? };
        let bad = || std::io::Error::new(std::io::ErrorKind::InvalidData, "bad trigrams.bin");
        if map.len() < 16 || &map[..8] != MAGIC {
            return Err(bad());
        }
        let n = u32::from_le_bytes(map[12..16].try_into().map_err(|_| bad())?) as usize;
        if map.len() < 16 + n * 12 {
            return Err(bad());
        }
        Ok(Trigrams { map, n })
    }

    fn tri(&self, k: usize) -> u32 {
        let o = 16 + k * 4;
        u32::from_le_bytes([
            self.map[o],
            self.map[o + 1],
            self.map[o + 2],
            self.map[o + 3],
        ])
    }

    fn end(&self, k: usize) -> usize {
        let o = 16 + self.n * 4 + k * 8;
        let mut b = [0u8; 8];
        b.copy_from_slice(&self.map[o..o + 8]);
        u64::from_le_bytes(b) as usize
    }

    /// The files holding trigram `t`, ascending.
    pub fn postings(&self, t: u32) -> Vec<u32> {
        let (mut lo, mut hi) = (0, self.n);
        while lo < hi {
            let mid = (lo + hi) / 2;
            if self.tri(mid) < t {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        if lo == self.n || self.tri(lo) != t {
            return Vec::new();
        }
        let base = 16 + self.n * 12;
        let a = if lo == 0 { 0 } else { self.end(lo - 1) };
        let b = self.end(lo);
        let bytes = self.map.get(base + a..base + b).unwrap_or(&[]);
        let mut out = Vec::new();
        let (mut cur, mut shift, mut prev) = (0u32, 0u32, 0u32);
        for &byte in bytes {
            cur |= ((byte & 0x7f) as u32) << shift;
            if byte & 0x80 == 0 {
                prev += cur;
                out.push(prev);
                cur = 0;
                shift = 0;
            } else {
                shift += 7;
            }
        }
        out
    }

    /// The files a plan lets through (None: every file).
    pub fn eval(&self, p: &Plan) -> Option<Vec<u32>> {
        match p {
            Plan::All => None,
            Plan::Tris(ts) => {
                let mut lists: Vec<Vec<u32>> = ts.iter().map(|&t| self.postings(t)).collect();
                lists.sort_by_key(|l| l.len());
                Some(intersect_all(lists))
            }
            Plan::And(xs) => {
                let lists: Vec<Vec<u32>> = xs.iter().filter_map(|x| self.eval(x)).collect();
                if lists.is_empty() {
                    return None;
                }
                Some(intersect_all(lists))
            }
            Plan::Or(xs) => {
                let mut all = Vec::new();
                for x in xs {
                    all.extend(self.eval(x)?);
                }
                all.sort_unstable();
                all.dedup();
                Some(all)
            }
        }
    }
}

fn intersect_all(mut lists: Vec<Vec<u32>>) -> Vec<u32> {
    lists.sort_by_key(|l| l.len());
    let mut it = lists.into_iter();
    let Some(mut acc) = it.next() else {
        return Vec::new();
    };
    for l in it {
        if acc.is_empty() {
            break;
        }
        let mut j = 0;
        acc.retain(|&x| {
            while j < l.len() && l[j] < x {
                j += 1;
            }
            j < l.len() && l[j] == x
        });
    }
    acc
}

fn mtime_ns(m: &std::fs::Metadata) -> Option<i128> {
    let t = m.modified().ok()?;
    Some(match t.duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => d.as_nanos() as i128,
        Err(e) => -(e.duration().as_nanos() as i128),
    })
}

/// Builds the matcher as ripgrep does; its error names the position in the pattern.
pub fn matcher(pattern: &str, o: &GrepOptions) -> Result<RegexMatcher, SearchError> {
    if !o.fixed {
        // Parse the pattern alone first: the matcher wraps it, which shifts the caret.
        regex_syntax::ParserBuilder::new()
            .case_insensitive(o.ignore_case)
            .multi_line(true)
            .utf8(false)
            .build()
            .parse(pattern)
            .map_err(|e| SearchError::Pattern(e.to_string()))?;
    }
    RegexMatcherBuilder::new()
        .line_terminator(Some(b'\n'))
        .multi_line(true)
        .case_insensitive(o.ignore_case)
        .fixed_strings(o.fixed)
        .build(pattern)
        .map_err(|e| SearchError::Pattern(e.to_string()))
}

enum Out {
    Lines(FileMatches, bool),
    Unreadable,
}

struct Lines<'a>(&'a mut Vec<(u64, Vec<u8>)>);

impl Sink for Lines<'_> {
    type Error = std::io::Error;
    fn matched(&mut self, _: &Searcher, m: &SinkMatch<'_>) -> Result<bool, std::io::Error> {
        let first = m.line_number().unwrap_or(0);
        for (ln, l) in (first..).zip(m.lines()) {
            let l = l.strip_suffix(b"\n").unwrap_or(l);
            self.0.push((ln, l.to_vec()));
        }
        Ok(true)
    }
}

impl SearchIndex {
    pub fn grep_files(&self) -> Result<GrepFiles, SearchError> {
        let p = self.dir.join("files.bin");
        let raw = std::fs::read(&p).map_err(|e| SearchError::Corrupt {
            dir: self.dir.display().to_string(),
            what: format!("files.bin: {e}"),
            root: self.root.display().to_string(),
        })?;
        bincode::deserialize(&raw).map_err(|e| SearchError::Corrupt {
            dir: self.dir.display().to_string(),
            what: format!("files.bin: {e}"),
            root: self.root.display().to_string(),
        })
    }

    /// Searches every indexed local Go file for `pattern`.
    /// The files (ids in `files`) the trigram files of every shard let through for `plan`
    /// (None: every file).
    fn trigram_candidates(
        &self,
        files: &GrepFiles,
        plan: &Plan,
    ) -> Result<Option<Vec<u32>>, SearchError> {
        let mut out = Vec::new();
        for sh in files.shards.iter().filter(|s| !s.tri.is_empty()) {
            let tri =
                Trigrams::open(&self.dir.join(&sh.tri)).map_err(|e| SearchError::Corrupt {
                    dir: self.dir.display().to_string(),
                    what: format!("{}: {e}", sh.tri),
                    root: self.root.display().to_string(),
                })?;
            let Some(v) = tri.eval(plan) else {
                return Ok(None);
            };
            out.extend(v.into_iter().filter(|&i| i < sh.files).map(|i| sh.base + i));
        }
        Ok(Some(out))
    }

    pub fn grep(&self, pattern: &str, o: &GrepOptions) -> Result<GrepResult, SearchError> {
        let t0 = std::time::Instant::now();
        let m = matcher(pattern, o)?;
        let files = self.grep_files()?;
        let t_load = t0.elapsed();
        let wanted = |g: &GrepFile| {
            g.flags & store::F_EXTERNAL == 0
                && (o.follow || g.flags & G_SYMLINK == 0)
                && !(o.no_tests && g.flags & store::F_TEST != 0)
                && !(o.no_vendor && g.flags & store::F_VENDOR != 0)
        };
        let searchable = files.files.iter().filter(|g| wanted(g)).count();
        let plan = plan(pattern, o.fixed, o.ignore_case);
        let root = std::path::PathBuf::from(&files.root);
        let by_rel = |v: &mut Vec<u32>| {
            v.retain(|&i| files.files.get(i as usize).is_some_and(wanted));
            v.sort_by(|&a, &b| {
                files.files[a as usize]
                    .rel
                    .cmp(&files.files[b as usize].rel)
            });
            v.dedup();
        };
        let everything = |_: ()| (0..files.files.len() as u32).collect::<Vec<u32>>();
        let (mut cand, prefiltered) = match self.trigram_candidates(&files, &plan)? {
            None => (everything(()), false),
            Some(mut v) => {
                v.extend(
                    files
                        .files
                        .iter()
                        .enumerate()
                        .filter(|(_, g)| g.flags & G_SCAN != 0)
                        .map(|(i, _)| i as u32),
                );
                (v, true)
            }
        };
        by_rel(&mut cand);
        let t_tri = t0.elapsed();
        let search = |list: &[u32]| -> Vec<Out> {
            list.par_iter()
                .map_init(
                    || {
                        SearcherBuilder::new()
                            .binary_detection(BinaryDetection::quit(b'\x00'))
                            .line_number(true)
                            .build()
                    },
                    |searcher, &fi| {
                        let g = &files.files[fi as usize];
                        let Ok(bytes) = std::fs::read(root.join(&g.rel)) else {
                            return Out::Unreadable;
                        };
                        let stale =
                            g.flags & G_SCAN == 0 && xxhash_rust::xxh3::xxh3_64(&bytes) != g.hash;
                        let mut lines = Vec::new();
                        let _ = searcher.search_reader(&m, bytes.as_slice(), Lines(&mut lines));
                        Out::Lines(FileMatches { file: fi, lines }, stale)
                    },
                )
                .collect()
        };
        // Files changed since indexing (size or mtime differ) are read whatever the trigrams
        // say, so the answer matches ripgrep's on the files as they are now. The check runs
        // beside the search of the candidates.
        let changed = || -> Vec<u32> {
            if !prefiltered {
                return Vec::new();
            }
            (0..files.files.len() as u32)
                .into_par_iter()
                .filter(|&i| {
                    let g = &files.files[i as usize];
                    wanted(g)
                        && g.flags & G_SCAN == 0
                        && std::fs::metadata(root.join(&g.rel)).map_or(true, |m| {
                            m.len() != g.size || mtime_ns(&m) != Some(g.mtime_ns)
                        })
                })
                .collect()
        };
        let (mut results, mut changed) = rayon::join(|| search(&cand), changed);
        let t_search = t0.elapsed();
        changed.retain(|i| {
            cand.binary_search_by(|c| {
                files.files[*c as usize]
                    .rel
                    .cmp(&files.files[*i as usize].rel)
            })
            .is_err()
        });
        if !changed.is_empty() {
            by_rel(&mut changed);
            results.extend(search(&changed));
            cand.extend(&changed);
        }
        // Results in path order.
        let mut order: Vec<usize> = (0..cand.len()).collect();
        order.sort_by(|&a, &b| {
            files.files[cand[a] as usize]
                .rel
                .cmp(&files.files[cand[b] as usize].rel)
        });
        let mut results: Vec<Option<Out>> = results.into_iter().map(Some).collect();
        let mut res = GrepResult {
            candidates: cand.len(),
            searchable,
            matches: Vec::new(),
            stale: Vec::new(),
            unreadable: Vec::new(),
            files: GrepFiles::default(),
            phases: [
                t_load,
                t_tri - t_load,
                t_search - t_tri,
                t0.elapsed() - t_search,
            ],
        };
        for k in order {
            let fi = cand[k];
            match results[k].take() {
                Some(Out::Unreadable) | None => {
                    res.unreadable.push(files.files[fi as usize].rel.clone())
                }
                Some(Out::Lines(fm, stale)) => {
                    if stale {
                        res.stale.push(files.files[fi as usize].rel.clone());
                    }
                    if !fm.lines.is_empty() {
                        res.matches.push(fm);
                    }
                }
            }
        }
        res.files = files;
        Ok(res)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> u32 {
        let b = s.as_bytes();
        (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32
    }

    #[test]
    fn literal_plans() {
        assert_eq!(plan("ab", true, false), Plan::All);
        assert_eq!(
            plan("AbCd", true, false),
            Plan::Tris(vec![t("abc"), t("bcd")])
        );
        assert_eq!(plan("a.b(", true, false), tris(b"a.b("));
        assert_eq!(tris(b"a.b("), Plan::Tris(vec![t(".b("), t("a.b")]));
    }

    #[test]
    fn trigram_file_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("tri-0.bin");
        let per_file = vec![
            Some(vec![t("abc"), t("bcd")]),
            None,
            Some(vec![t("bcd")]),
            Some((0..300).collect()),
            Some(vec![t("abc"), 1 << 23]),
        ];
        write_trigrams(&p, per_file).unwrap();
        let tr = Trigrams::open(&p).unwrap();
        assert_eq!(tr.postings(t("abc")), [0, 4]);
        assert_eq!(tr.postings(t("bcd")), [0, 2]);
        assert_eq!(tr.postings(299), [3]);
        assert_eq!(tr.postings(1 << 23), [4]);
        assert!(tr.postings(t("zzz")).is_empty());
        assert_eq!(tr.eval(&tris(b"abcd")), Some(vec![0]));
        assert_eq!(
            tr.eval(&or(vec![tris(b"abc"), tris(b"bcd")])),
            Some(vec![0, 2, 4])
        );
        assert_eq!(tr.eval(&Plan::All), None);
    }

    #[test]
    fn regex_plans() {
        assert_eq!(
            plan(r"func \(.*\) Run\(ctx", false, false),
            and(vec![tris(b"func ("), tris(b") run(ctx")])
        );
        assert_eq!(
            plan("(foo|barx)baz", false, false),
            and(vec![or(vec![tris(b"foo"), tris(b"barx")]), tris(b"baz")])
        );
        assert_eq!(plan("a.*b", false, false), Plan::All);
        assert_eq!(plan("(foo)?bar", false, false), tris(b"bar"));
        assert_eq!(plan(r"\bfoo\b", false, false), tris(b"foo"));
        assert_eq!(plan("(?:abc)+", false, false), tris(b"abc"));
        // Case-insensitive: ASCII letters fold to one byte; k and s have non-ASCII folds.
        assert_eq!(plan("Abc", false, true), tris(b"abc"));
        assert_eq!(plan("xkyz", false, true), Plan::All);
        assert_eq!(plan("[", false, false), Plan::All);
    }
}
