//! `facts.bin`: the facts of every file of a generation, so that the next `codewalk index`
//! parses only the files that changed, and so that function bodies wait for call resolution
//! (and doc comments and signatures for the index records) on disk rather than in memory.
//!
//! Input: [`FileFacts`] as parsing produces them, and the previous generation's file.
//! Output: facts whose bodies, doc comments and signatures live in this generation's file
//! ([`FactsFile::blob`] and [`FactsFile::texts`] read them back), and a file the next run
//! reads with [`OldFacts::open`].
//! Must not know: packages, resolution, the index format.
//!
//! Layout: a header (magic, format, the build that wrote it), then per file an entry: its doc
//! comments and signatures, compressed (lz4), then its bodies followed by the encoded facts
//! (bincode) that point into both, compressed; then a table of entries (path, size, mtime,
//! content hash, range, checksum, line count, digest of the facts) and a trailer locating it.
//! The texts are compressed apart because the index records read them back for every file, and
//! the bodies are most of an entry. Facts depend on the file's bytes and codewalk's build only
//! ("facts never look at another file"), so an entry is reused when the file's path, size and
//! modification time match and the header names this build. A checksum per entry catches a torn
//! write: such an entry is parsed again, never trusted. The line count is kept beside the
//! encoded facts, not in them, so the digest says whether a changed file's facts changed
//! (`refresh` takes the index over when none did).

use super::{Bytes, FileFacts, Item, Spill};
use bincode::Options;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::Mutex;

const MAGIC: &[u8; 8] = b"CWFACTS\0";
const FORMAT: u32 = 6;
const HEADER: u64 = 24;
pub const FILE_NAME: &str = "facts.bin";

fn codec() -> impl Options {
    bincode::DefaultOptions::new()
}

/// Where one file's facts are, and what the file was when they were taken.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Entry {
    pub rel: String,
    pub size: u64,
    pub mtime_ns: i128,
    /// xxh3 of the file's bytes.
    pub hash: u64,
    /// Where the entry is: the texts, compressed (lz4, size prepended, `texts_len` bytes),
    /// then the bodies (`bodies_len` bytes before compression) and the encoded facts,
    /// compressed.
    at: u64,
    stored_len: u32,
    texts_len: u32,
    bodies_len: u32,
    /// xxh3 of the stored (compressed) bytes.
    check: u64,
    /// The file's line count (not in the encoded facts).
    pub lines: u32,
    /// xxh3 of the entry's texts, bodies and encoded facts before compression: equal digests,
    /// equal facts (line count aside).
    pub digest: u64,
}

/// The `facts.bin` being written for a new generation. Workers add files concurrently
/// (positional writes at reserved offsets). A write error (a full disk) leaves the facts in
/// memory and the file incomplete: [`FactsFile::finish`] then reports it and the next run
/// parses everything, but this run's index is unaffected.
pub struct FactsFile {
    file: File,
    end: Mutex<u64>,
    entries: Mutex<Vec<Entry>>,
    failed: std::sync::atomic::AtomicBool,
    build: u64,
}

impl FactsFile {
    /// `build` identifies this codewalk build: a file written by another is not read.
    pub fn create(path: &Path, build: u64) -> std::io::Result<FactsFile> {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)?;
        let mut header = Vec::with_capacity(HEADER as usize);
        header.extend_from_slice(MAGIC);
        header.extend_from_slice(&FORMAT.to_le_bytes());
        header.extend_from_slice(&0u32.to_le_bytes());
        header.extend_from_slice(&build.to_le_bytes());
        file.write_all_at(&header, 0)?;
        Ok(FactsFile {
            file,
            end: Mutex::new(HEADER),
            entries: Mutex::new(Vec::new()),
            failed: Default::default(),
            build,
        })
    }

    fn reserve(&self, len: u64) -> u64 {
        let mut end = self.end.lock().unwrap_or_else(|e| e.into_inner());
        let at = *end;
        *end += len;
        at
    }

    fn record(&self, e: Entry) {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(e);
    }

    /// Moves the bodies, doc comments and signatures of `facts` to the file and records the
    /// facts for the next run.
    pub fn put(&self, rel: &str, size: u64, mtime_ns: i128, hash: u64, facts: &mut FileFacts) {
        let Some(EntryBytes {
            texts,
            rest,
            bodies_len,
            moved,
        }) = encode(facts)
        else {
            return; // absurd; keep the bodies in memory
        };
        let digest = digest_of(&texts, &rest);
        let mut stored = lz4_flex::compress_prepend_size(&texts);
        let texts_len = stored.len() as u32;
        stored.extend_from_slice(&lz4_flex::compress_prepend_size(&rest));
        let at = self.reserve(stored.len() as u64);
        if stored.len() > u32::MAX as usize || self.file.write_all_at(&stored, at).is_err() {
            self.failed
                .store(true, std::sync::atomic::Ordering::Relaxed);
            // Put the moved bytes back: they could not be stored.
            let mut moved = moved.into_iter();
            for (_, b) in facts.items.iter_mut().flat_map(spillable) {
                if matches!(b, Bytes::Spilled { .. }) {
                    if let Some(orig) = moved.next() {
                        *b = orig;
                    }
                }
            }
            return;
        }
        facts.spilled = Some(Spill {
            at,
            texts_len,
            len: stored.len() as u32,
        });
        self.record(Entry {
            rel: rel.to_string(),
            size,
            mtime_ns,
            hash,
            at,
            stored_len: stored.len() as u32,
            texts_len,
            bodies_len,
            check: xxhash_rust::xxh3::xxh3_64(&stored),
            lines: facts.lines,
            digest,
        });
    }

    /// Takes `rel`'s facts over from the previous generation when they are still valid for a
    /// file of this size and modification time: copies them into this file and decodes them.
    pub fn reuse(&self, old: &OldFacts, rel: &str, size: u64, mtime_ns: i128) -> Option<Reused> {
        let e = old.entries.get(rel)?;
        if e.size != size || e.mtime_ns != mtime_ns {
            return None;
        }
        let start = e.at as usize;
        let stored = old
            .map
            .get(start..start.checked_add(e.stored_len as usize)?)?;
        if xxhash_rust::xxh3::xxh3_64(stored) != e.check {
            return None;
        }
        let rest = lz4_flex::decompress_size_prepended(stored.get(e.texts_len as usize..)?).ok()?;
        let mut facts: FileFacts = codec()
            .deserialize(rest.get(e.bodies_len as usize..)?)
            .ok()?;
        let at = self.reserve(stored.len() as u64);
        if self.file.write_all_at(stored, at).is_err() {
            self.failed
                .store(true, std::sync::atomic::Ordering::Relaxed);
            return None;
        }
        facts.spilled = Some(Spill {
            at,
            texts_len: e.texts_len,
            len: e.stored_len,
        });
        facts.lines = e.lines;
        self.record(Entry { at, ..e.clone() });
        Some(Reused {
            facts,
            hash: e.hash,
        })
    }

    /// The bodies of `facts` (function bodies, initialisers), followed by the rest of its
    /// entry: what their `Encoded` values are decoded from (empty when the facts are not stored
    /// here).
    pub fn blob(&self, facts: &FileFacts) -> std::io::Result<Vec<u8>> {
        let Some(s) = facts.spilled else {
            return Ok(Vec::new());
        };
        self.read(s.at + s.texts_len as u64, s.len.saturating_sub(s.texts_len))
    }

    /// The doc comments and signatures of `facts`: what their `Text`s are read from (empty
    /// when the facts are not stored here).
    pub fn texts(&self, facts: &FileFacts) -> std::io::Result<Vec<u8>> {
        let Some(s) = facts.spilled else {
            return Ok(Vec::new());
        };
        self.read(s.at, s.texts_len)
    }

    fn read(&self, at: u64, len: u32) -> std::io::Result<Vec<u8>> {
        let mut buf = vec![0; len as usize];
        self.file.read_exact_at(&mut buf, at)?;
        lz4_flex::decompress_size_prepended(&buf).map_err(std::io::Error::other)
    }

    /// Writes the table of entries. Until then the file is not readable as a cache.
    pub fn finish(&self) -> std::io::Result<()> {
        if self.failed.load(std::sync::atomic::Ordering::Relaxed) {
            return Err(std::io::Error::other("a write failed earlier"));
        }
        let mut entries =
            std::mem::take(&mut *self.entries.lock().unwrap_or_else(|e| e.into_inner()));
        entries.sort_by(|a, b| a.rel.cmp(&b.rel));
        let table = codec()
            .serialize(&(self.build, entries))
            .map_err(std::io::Error::other)?;
        let len = table.len() as u64;
        let at = self.reserve(len + 24);
        let mut tail = table;
        tail.extend_from_slice(&at.to_le_bytes());
        tail.extend_from_slice(&len.to_le_bytes());
        tail.extend_from_slice(MAGIC);
        self.file.write_all_at(&tail, at)
    }
}

/// An entry's bytes before compression.
struct EntryBytes {
    /// The doc comments and signatures of `facts`.
    texts: Vec<u8>,
    /// The bodies, then the encoded facts (whose moved parts point into `texts` and here).
    rest: Vec<u8>,
    /// The length of the bodies in `rest`.
    bodies_len: u32,
    /// What was moved, in the order [`spillable`] visits it.
    moved: Vec<Bytes>,
}

/// Moves the bodies, doc comments and signatures out of `facts` (replaced by their place)
/// and encodes the rest. `None` when absurdly large.
fn encode(facts: &mut FileFacts) -> Option<EntryBytes> {
    let (mut texts_total, mut bodies_total) = (0, 0);
    for (part, b) in facts.items.iter_mut().flat_map(spillable) {
        if let Bytes::Inline(x) = b {
            match part {
                Part::Text => texts_total += x.len(),
                Part::Body => bodies_total += x.len(),
            }
        }
    }
    if texts_total > u32::MAX as usize / 4 || bodies_total > u32::MAX as usize / 4 {
        return None;
    }
    let mut texts = Vec::with_capacity(texts_total);
    let mut rest = Vec::with_capacity(bodies_total);
    let mut moved = Vec::new();
    for (part, b) in facts.items.iter_mut().flat_map(spillable) {
        let Bytes::Inline(x) = &*b else { continue };
        if x.is_empty() {
            continue;
        }
        let to = match part {
            Part::Text => &mut texts,
            Part::Body => &mut rest,
        };
        let spilled = Bytes::Spilled {
            off: to.len() as u32,
            len: x.len() as u32,
        };
        to.extend_from_slice(x);
        moved.push(std::mem::replace(b, spilled));
    }
    let bodies_len = rest.len() as u32;
    let encoded = codec().serialize(&*facts).unwrap_or_default();
    rest.extend_from_slice(&encoded);
    Some(EntryBytes {
        texts,
        rest,
        bodies_len,
        moved,
    })
}

fn digest_of(texts: &[u8], rest: &[u8]) -> u64 {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    h.update(&(texts.len() as u64).to_le_bytes());
    h.update(texts);
    h.update(rest);
    h.digest()
}

/// The digest [`FactsFile::put`] records for facts just extracted (nothing moved out yet).
pub fn digest(mut facts: FileFacts) -> Option<u64> {
    encode(&mut facts).map(|e| digest_of(&e.texts, &e.rest))
}

/// Which part of an entry a moved piece goes to.
#[derive(Clone, Copy)]
enum Part {
    Text,
    Body,
}

/// The parts of an item that move to `facts.bin`, in a fixed order.
fn spillable(item: &mut Item) -> impl Iterator<Item = (Part, &mut Bytes)> {
    [
        item.body.as_mut().map(|b| (Part::Body, &mut b.bytes)),
        Some((Part::Text, &mut item.doc.0)),
        Some((Part::Text, &mut item.signature.0)),
    ]
    .into_iter()
    .flatten()
}

/// Facts taken over from the previous generation.
pub struct Reused {
    pub facts: FileFacts,
    /// The content hash recorded with them.
    pub hash: u64,
}

/// The previous generation's `facts.bin`, mapped.
pub struct OldFacts {
    map: memmap2::Mmap,
    entries: HashMap<String, Entry>,
}

impl OldFacts {
    /// What was recorded for the file at `rel`.
    pub fn entry(&self, rel: &str) -> Option<&Entry> {
        self.entries.get(rel)
    }

    /// `None` when there is no usable file: missing, from another build or format, or
    /// incomplete.
    pub fn open(path: &Path, build: u64) -> Option<OldFacts> {
        let file = File::open(path).ok()?;
        // SAFETY: generations are never modified after commit (a new one is written beside
        // them), and every range read from the map is bounds-checked and checksummed.
        let map = unsafe { memmap2::Mmap::map(&file) }.ok()?;
        let n = map.len();
        if n < HEADER as usize + 24
            || &map[..8] != MAGIC
            || map[8..12] != FORMAT.to_le_bytes()
            || map[16..24] != build.to_le_bytes()
            || &map[n - 8..] != MAGIC
        {
            return None;
        }
        let word = |at: usize| u64::from_le_bytes(map[at..at + 8].try_into().unwrap_or([0; 8]));
        let (at, len) = (word(n - 24) as usize, word(n - 16) as usize);
        let table = map.get(at..at.checked_add(len)?)?;
        let (stamp, entries): (u64, Vec<Entry>) = codec().deserialize(table).ok()?;
        if stamp != build {
            return None;
        }
        Some(OldFacts {
            entries: entries.into_iter().map(|e| (e.rel.clone(), e)).collect(),
            map,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: &[u8] =
        b"package p\n\n// Sum adds.\nfunc Sum(a, b int) int {\n\treturn helper(a) + b\n}\n\n\
        func helper(x int) int { return x }\n";

    fn facts() -> FileFacts {
        let qs = crate::syntax::QuerySet::global().unwrap();
        crate::pipeline::facts_of(&mut None, qs, SRC, false)
    }

    /// Texts and bodies are compressed apart: each is read back from its own part, in this
    /// generation's file and again after the next generation takes the entry over.
    #[test]
    fn texts_and_bodies_read_back_from_their_parts() {
        let dir = tempfile::tempdir().unwrap();
        let check = |file: &FactsFile, f: &FileFacts| {
            let texts = file.texts(f).unwrap();
            let blob = file.blob(f).unwrap();
            let docs: Vec<String> = f.items.iter().map(|i| i.doc.read(&texts)).collect();
            assert!(docs.contains(&"Sum adds.".to_string()), "{docs:?}");
            let sigs: Vec<String> = f.items.iter().map(|i| i.signature.read(&texts)).collect();
            assert!(
                sigs.iter().any(|s| s.starts_with("func Sum(a, b int) int")),
                "{sigs:?}"
            );
            // Every body decodes from the bodies part (a return statement each).
            for it in &f.items {
                let body = it.body.as_ref().unwrap().decode(&blob);
                assert_eq!(body.len(), 1, "{}", it.name);
            }
            // No text is left inline: they were moved.
            assert!(f.items.iter().all(|i| i.signature.inline().is_empty()));
        };
        let first = FactsFile::create(&dir.path().join("a.bin"), 7).unwrap();
        let mut f = facts();
        let digest = digest(facts()).unwrap();
        first.put("p.go", SRC.len() as u64, 1, 2, &mut f);
        assert!(f.spilled.is_some());
        check(&first, &f);
        first.finish().unwrap();

        let old = OldFacts::open(&dir.path().join("a.bin"), 7).unwrap();
        assert_eq!(old.entry("p.go").unwrap().digest, digest);
        let second = FactsFile::create(&dir.path().join("b.bin"), 7).unwrap();
        let reused = second.reuse(&old, "p.go", SRC.len() as u64, 1).unwrap();
        check(&second, &reused.facts);
    }
}
