//! `calls.bin`: every file's resolved call sites of a generation, and the implementation
//! pairs, so that the next `codewalk index` resolves again only the calls of the files that
//! changed, when no declaration of any file did (and then takes the pairs over too: they
//! depend on declarations only).
//!
//! Input: the model and the call sites `resolve::check` found. Output: a file in the
//! generation, and for the next run the call sites of each file still valid.
//! Must not know: how calls are resolved, the index format.
//!
//! A file's call sites depend on the file itself and on the declarations of every file
//! (names, signatures, types, initialisers, method sets, the symbol numbering they
//! induce), never on another file's function bodies. So they are taken over when the
//! file's content hash is unchanged and the [`key`] (the list of files with each one's
//! import path and position-free declaration digest) is the one they were resolved under.
//! A body edit keeps the key; a changed declaration, an added or removed file, a moved
//! package or another codewalk build does not, and then every file is resolved again.
//!
//! Layout: magic, format, the build that wrote it, the key, an xxh3 checksum of the
//! payload, then the payload: the number of entries (u64) and the entries, each bincode of
//! (path, content hash, the file's call sites and func-value flows, bincode again so that
//! only the entries used are decoded), then bincode of the implementation pairs.

use crate::pipeline::FileMeta;
use crate::resolve::check::{CallSite, FileCalls, Slot, Source};
use crate::resolve::methods::Impl;
use crate::resolve::model::FileId;
use crate::resolve::Model;
use bincode::Options;
use rayon::prelude::*;
use rustc_hash::FxHashMap as HashMap;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::Path;

pub const FILE_NAME: &str = "calls.bin";
const MAGIC: &[u8; 8] = b"CWCALLS\0";
const FORMAT: u32 = 2;
const HEADER: usize = 40;

fn codec() -> impl Options {
    bincode::DefaultOptions::new()
}

#[derive(Serialize, Deserialize)]
struct Entry {
    rel: String,
    hash: u64,
    /// bincode of the file's `(calls, flows)`.
    calls: Vec<u8>,
}

/// What every file's call sites depend on besides the file itself.
pub fn key(m: &Model) -> u64 {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    for f in &m.files {
        let i = &f.input;
        h.update(i.rel.as_bytes());
        h.update(&[0]);
        h.update(i.import_path.as_bytes());
        h.update(&[0, i.is_test as u8, i.vendor as u8, i.external as u8]);
        h.update(&i.facts.decl_digest.to_le_bytes());
    }
    h.digest()
}

/// Writes the call sites of this generation (files whose calls were not resolved are left
/// out, so the next run tries them again). Entries are encoded a few hundred at a time and
/// streamed to the file: this runs at the indexing peak.
pub fn write(
    path: &Path,
    build: u64,
    key: u64,
    m: &Model,
    meta: &[FileMeta],
    calls: &[FileCalls],
    impls: &[Impl],
) -> std::io::Result<()> {
    let file = std::fs::File::create(path)?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, &file);
    out.write_all(&[0u8; HEADER])?;
    let mut sum = xxhash_rust::xxh3::Xxh3::new();
    let live: Vec<&FileCalls> = calls.iter().filter(|fc| !fc.skipped).collect();
    let count = (live.len() as u64).to_le_bytes();
    sum.update(&count);
    out.write_all(&count)?;
    for chunk in live.chunks(256) {
        let encoded: Vec<Vec<u8>> = chunk
            .par_iter()
            .map(|fc| {
                let entry = Entry {
                    rel: m.files[fc.file as usize].input.rel.clone(),
                    hash: meta[fc.file as usize].hash,
                    calls: codec()
                        .serialize(&(&fc.calls, &fc.flows))
                        .unwrap_or_default(),
                };
                codec().serialize(&entry).unwrap_or_default()
            })
            .collect();
        for e in encoded {
            sum.update(&e);
            out.write_all(&e)?;
        }
    }
    let impls = codec().serialize(impls).map_err(std::io::Error::other)?;
    sum.update(&impls);
    out.write_all(&impls)?;
    out.flush()?;
    drop(out);
    let mut head = Vec::with_capacity(HEADER);
    head.extend_from_slice(MAGIC);
    head.extend_from_slice(&FORMAT.to_le_bytes());
    head.extend_from_slice(&0u32.to_le_bytes());
    head.extend_from_slice(&build.to_le_bytes());
    head.extend_from_slice(&key.to_le_bytes());
    head.extend_from_slice(&sum.digest().to_le_bytes());
    file.write_all_at(&head, 0)
}

/// The previous generation's call sites, when they were resolved under the same key.
pub struct OldCalls {
    by_rel: HashMap<String, Entry>,
    impls: Option<Vec<Impl>>,
}

impl OldCalls {
    /// `None` when there is no usable file: missing, damaged, from another build or format,
    /// or resolved under another key.
    pub fn open(path: &Path, build: u64, key: u64) -> Option<OldCalls> {
        let bytes = std::fs::read(path).ok()?;
        if bytes.len() < HEADER || &bytes[..8] != MAGIC {
            return None;
        }
        let word = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap_or([0; 8]));
        if bytes[8..12] != FORMAT.to_le_bytes() || word(16) != build || word(24) != key {
            return None;
        }
        let payload = &bytes[HEADER..];
        if xxhash_rust::xxh3::xxh3_64(payload) != word(32) || payload.len() < 8 {
            return None;
        }
        let count = u64::from_le_bytes(payload[..8].try_into().ok()?);
        let mut rest = &payload[8..];
        let mut by_rel = HashMap::default();
        for _ in 0..count {
            let e: Entry = codec().deserialize_from(&mut rest).ok()?;
            by_rel.insert(e.rel.clone(), e);
        }
        let impls = codec().deserialize_from(&mut rest).ok()?;
        Some(OldCalls {
            by_rel,
            impls: Some(impls),
        })
    }

    /// The implementation pairs (once).
    pub fn take_impls(&mut self) -> Option<Vec<Impl>> {
        self.impls.take()
    }

    /// The call sites of `rel` as file `file`, if its content (`hash`) is what they were
    /// resolved from.
    pub fn get(&self, rel: &str, hash: u64, file: FileId) -> Option<FileCalls> {
        let e = self.by_rel.get(rel).filter(|e| e.hash == hash)?;
        let (calls, flows): (Vec<CallSite>, Vec<(Slot, Source)>) =
            codec().deserialize(&e.calls).ok()?;
        Some(FileCalls {
            file,
            calls,
            flows,
            skipped: false,
        })
    }
}
