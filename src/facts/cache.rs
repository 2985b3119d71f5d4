//! `facts.bin`: the facts of every file of a generation, so that the next `codewalk index`
//! parses only the files that changed, and so that function bodies wait for call resolution
//! (and doc comments and signatures for the index records) on disk rather than in memory.
//!
//! Input: [`FileFacts`] as parsing produces them, and the previous generation's file.
//! Output: facts whose bodies, doc comments and signatures live in this generation's file
//! ([`FactsFile::blob`] reads them back), and a file the next run reads with
//! [`OldFacts::open`].
//! Must not know: packages, resolution, the index format.
//!
//! Layout: a header (magic, format, the build that wrote it), then per file an entry: a
//! blob (bodies, doc comments, signatures) followed by the encoded facts (bincode) that
//! point into it, compressed together with lz4; then a table of entries (path, size, mtime,
//! content hash, range, checksum, line count, digest of the facts) and a trailer locating
//! it. Facts depend on the file's bytes and codewalk's build only ("facts never look at
//! another file"), so an entry is reused when the file's path, size and modification time
//! match and the header names this build. A checksum per entry catches a torn write: such
//! an entry is parsed again, never trusted. The line count is kept beside the encoded
//! facts, not in them, so the digest says whether a changed file's facts changed (`refresh`
//! takes the index over when none did).

use super::{Bytes, FileFacts, Item};
use bincode::Options;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::Mutex;

const MAGIC: &[u8; 8] = b"CWFACTS\0";
const FORMAT: u32 = 5;
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
    /// Where the entry is: the blob and the encoded facts, which follow each other,
    /// compressed together (lz4, size prepended).
    at: u64,
    stored_len: u32,
    bodies_len: u32,
    /// xxh3 of the stored (compressed) bytes.
    check: u64,
    /// The file's line count (not in the encoded facts).
    pub lines: u32,
    /// xxh3 of the entry before compression: equal digests, equal facts (line count aside).
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
        let Some((blob, bodies_len, moved)) = encode(facts) else {
            return; // absurd; keep the bodies in memory
        };
        let digest = xxhash_rust::xxh3::xxh3_64(&blob);
        let stored = lz4_flex::compress_prepend_size(&blob);
        let at = self.reserve(stored.len() as u64);
        if stored.len() > u32::MAX as usize || self.file.write_all_at(&stored, at).is_err() {
            self.failed
                .store(true, std::sync::atomic::Ordering::Relaxed);
            // Put the moved bytes back: they could not be stored.
            let mut moved = moved.into_iter();
            for b in facts.items.iter_mut().flat_map(spillable) {
                if matches!(b, Bytes::Spilled { .. }) {
                    if let Some(orig) = moved.next() {
                        *b = orig;
                    }
                }
            }
            return;
        }
        if bodies_len > 0 {
            facts.spilled = Some((at, stored.len() as u32));
        }
        self.record(Entry {
            rel: rel.to_string(),
            size,
            mtime_ns,
            hash,
            at,
            stored_len: stored.len() as u32,
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
        let blob = lz4_flex::decompress_size_prepended(stored).ok()?;
        let mut facts: FileFacts = codec()
            .deserialize(blob.get(e.bodies_len as usize..)?)
            .ok()?;
        let at = self.reserve(stored.len() as u64);
        if self.file.write_all_at(stored, at).is_err() {
            self.failed
                .store(true, std::sync::atomic::Ordering::Relaxed);
            return None;
        }
        if e.bodies_len > 0 {
            facts.spilled = Some((at, e.stored_len));
        }
        facts.lines = e.lines;
        self.record(Entry { at, ..e.clone() });
        Some(Reused {
            facts,
            hash: e.hash,
        })
    }

    /// The blob of `facts` (bodies, doc comments, signatures), followed by the rest of its
    /// entry (empty when nothing of it was moved here).
    pub fn blob(&self, facts: &FileFacts) -> std::io::Result<Vec<u8>> {
        let Some((at, len)) = facts.spilled else {
            return Ok(Vec::new());
        };
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

/// An entry's bytes before compression: the bodies, doc comments and signatures of `facts`
/// (moved out of it, replaced by their place), then the encoded facts; the length of the
/// first part; what was moved, in the order [`spillable`] visits it. `None` when absurdly
/// large.
fn encode(facts: &mut FileFacts) -> Option<(Vec<u8>, u32, Vec<Bytes>)> {
    let total: usize = facts
        .items
        .iter_mut()
        .flat_map(spillable)
        .map(|b| match b {
            Bytes::Inline(x) => x.len(),
            Bytes::Spilled { .. } => 0,
        })
        .sum();
    if total > u32::MAX as usize / 2 {
        return None;
    }
    let mut blob = Vec::with_capacity(total);
    let mut moved = Vec::new();
    for b in facts.items.iter_mut().flat_map(spillable) {
        let Bytes::Inline(x) = &*b else { continue };
        if x.is_empty() {
            continue;
        }
        let spilled = Bytes::Spilled {
            off: blob.len() as u32,
            len: x.len() as u32,
        };
        blob.extend_from_slice(x);
        moved.push(std::mem::replace(b, spilled));
    }
    let bodies_len = blob.len() as u32;
    let encoded = codec().serialize(&*facts).unwrap_or_default();
    blob.extend_from_slice(&encoded);
    Some((blob, bodies_len, moved))
}

/// The digest [`FactsFile::put`] records for facts just extracted (nothing moved out yet).
pub fn digest(mut facts: FileFacts) -> Option<u64> {
    encode(&mut facts).map(|(blob, _, _)| xxhash_rust::xxh3::xxh3_64(&blob))
}

/// The parts of an item that move to `facts.bin`.
fn spillable(item: &mut Item) -> impl Iterator<Item = &mut Bytes> {
    [
        item.body.as_mut().map(|b| &mut b.bytes),
        Some(&mut item.doc.0),
        Some(&mut item.signature.0),
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
