//! A file of named, 8-byte-aligned sections, written once and read through a memory map.
//!
//! ```text
//! offset 0   magic "CWINDEX\0", format version (u32), section count (u32)
//! then       one entry per section: name ([u8; 8], NUL-padded), offset (u64), length (u64)
//! then       the sections' bytes, each starting at a multiple of 8
//! ```
//! Sections hold arrays of plain little-endian records (`bytemuck::Pod`) or raw bytes; the
//! reader checks every section against the file's length and the record size once, at open,
//! so the accessors never fail afterwards. What the records mean is [`super::layout`]'s business.

use anyhow::{Context, Result};
use bytemuck::Pod;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

const MAGIC: &[u8; 8] = b"CWINDEX\0";
const HEADER: usize = 16;
const ENTRY: usize = 24;

pub type Name = [u8; 8];

pub const fn name(s: &str) -> Name {
    let b = s.as_bytes();
    let mut out = [0u8; 8];
    let mut i = 0;
    while i < b.len() && i < 8 {
        out[i] = b[i];
        i += 1;
    }
    out
}

/// A section's contents, kept in its typed form until written (no copy).
trait Bytes {
    fn bytes(&self) -> &[u8];
}

impl<T: Pod> Bytes for Vec<T> {
    fn bytes(&self) -> &[u8] {
        bytemuck::cast_slice(self)
    }
}

/// Sections collected in memory, then written in one pass.
#[derive(Default)]
pub struct Writer {
    sections: Vec<(Name, Box<dyn Bytes>)>,
}

impl Writer {
    pub fn bytes(&mut self, n: Name, bytes: Vec<u8>) {
        self.sections.push((n, Box::new(bytes)));
    }

    pub fn pod<T: Pod>(&mut self, n: Name, items: Vec<T>) {
        self.sections.push((n, Box::new(items)));
    }

    /// Writes the file and fsyncs it.
    pub fn write(self, path: &Path, version: u32) -> Result<()> {
        let f = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
        let mut w = BufWriter::with_capacity(1 << 20, f);
        let n = self.sections.len();
        let mut head = Vec::with_capacity(HEADER + n * ENTRY);
        head.extend_from_slice(MAGIC);
        head.extend_from_slice(&version.to_le_bytes());
        head.extend_from_slice(&(n as u32).to_le_bytes());
        let mut off = align8(HEADER + n * ENTRY) as u64;
        for (name, bytes) in &self.sections {
            let bytes = bytes.bytes();
            head.extend_from_slice(name);
            head.extend_from_slice(&off.to_le_bytes());
            head.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
            off = align8((off as usize) + bytes.len()) as u64;
        }
        head.resize(align8(head.len()), 0);
        let io = |e: std::io::Error| anyhow::anyhow!("cannot write {}: {e}", path.display());
        w.write_all(&head).map_err(io)?;
        for (_, bytes) in &self.sections {
            let bytes = bytes.bytes();
            w.write_all(bytes).map_err(io)?;
            let pad = align8(bytes.len()) - bytes.len();
            w.write_all(&[0u8; 8][..pad]).map_err(io)?;
        }
        let f = w
            .into_inner()
            .map_err(|e| anyhow::anyhow!("cannot write {}: {}", path.display(), e.error()))?;
        f.sync_all().map_err(io)?;
        Ok(())
    }
}

fn align8(n: usize) -> usize {
    (n + 7) & !7
}

/// A mapped container with its section table checked.
pub struct Mapped {
    map: memmap2::Mmap,
    sections: Vec<(Name, usize, usize)>,
}

/// Where a section lies in the map; obtained from [`Mapped::section`], so it is in bounds
/// and sized for its record type.
#[derive(Clone, Copy, Debug, Default)]
pub struct Span {
    off: usize,
    len: usize,
}

impl Mapped {
    /// Maps `file` and checks its header and section table (not the records' contents).
    pub fn open(file: &File, version: u32) -> Result<Mapped, String> {
        let len = file.metadata().map_err(|e| e.to_string())?.len() as usize;
        if len < HEADER {
            return Err("truncated header".into());
        }
        // SAFETY: the index files of a generation are written once and never modified in
        // place (a new generation is written beside them), so the mapping does not change
        // under us; every read below is bounds-checked against the mapped length.
        let map = unsafe { memmap2::Mmap::map(file) }.map_err(|e| e.to_string())?;
        if map.len() != len || &map[..8] != MAGIC {
            return Err("not a codewalk index file".into());
        }
        let u32_at = |o: usize| u32::from_le_bytes(map[o..o + 4].try_into().unwrap());
        let u64_at = |o: usize| u64::from_le_bytes(map[o..o + 8].try_into().unwrap());
        let found = u32_at(8);
        if found != version {
            return Err(format!("file format {found}, expected {version}"));
        }
        let n = u32_at(12) as usize;
        if n > 4096 || HEADER + n * ENTRY > len {
            return Err("truncated section table".into());
        }
        let mut sections = Vec::with_capacity(n);
        for i in 0..n {
            let e = HEADER + i * ENTRY;
            let name: Name = map[e..e + 8].try_into().unwrap();
            let (off, slen) = (u64_at(e + 8), u64_at(e + 16));
            let end = off.checked_add(slen).filter(|&end| end <= len as u64);
            if end.is_none() || off % 8 != 0 {
                return Err(format!("section {} out of bounds", show(&name)));
            }
            sections.push((name, off as usize, slen as usize));
        }
        Ok(Mapped { map, sections })
    }

    /// The span of a section of `T` records; a missing section is an error, so is a length
    /// that is not a whole number of records.
    pub fn section<T: Pod>(&self, n: Name) -> Result<Span, String> {
        let &(_, off, len) = self
            .sections
            .iter()
            .find(|s| s.0 == n)
            .ok_or_else(|| format!("missing section {}", show(&n)))?;
        let size = std::mem::size_of::<T>().max(1);
        if len % size != 0 {
            return Err(format!("section {} has a partial record", show(&n)));
        }
        Ok(Span { off, len })
    }

    /// The records of a span from [`Mapped::section`] for the same `T`.
    pub fn slice<T: Pod>(&self, s: Span) -> &[T] {
        // Sections start 8-aligned in a page-aligned map and were sized for T at open.
        bytemuck::cast_slice(&self.map[s.off..s.off + s.len])
    }

    pub fn bytes(&self, s: Span) -> &[u8] {
        &self.map[s.off..s.off + s.len]
    }
}

fn show(n: &Name) -> String {
    String::from_utf8_lossy(n)
        .trim_end_matches('\0')
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_damage() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.bin");
        let mut w = Writer::default();
        w.pod(name("nums"), vec![1u32, 2, 3]);
        w.bytes(name("text"), b"hello".to_vec());
        w.pod(name("wide"), vec![7u64]);
        w.write(&p, 9).unwrap();

        let m = Mapped::open(&File::open(&p).unwrap(), 9).unwrap();
        let nums = m.section::<u32>(name("nums")).unwrap();
        assert_eq!(m.slice::<u32>(nums), &[1, 2, 3]);
        assert_eq!(m.bytes(m.section::<u8>(name("text")).unwrap()), b"hello");
        assert_eq!(
            m.slice::<u64>(m.section::<u64>(name("wide")).unwrap()),
            &[7]
        );
        assert!(m.section::<u32>(name("nope")).is_err());
        assert!(
            m.section::<u64>(name("nums")).is_err(),
            "12 bytes are not u64s"
        );
        assert!(Mapped::open(&File::open(&p).unwrap(), 8).is_err());

        // Truncation: the last section no longer fits.
        let raw = std::fs::read(&p).unwrap();
        std::fs::write(&p, &raw[..raw.len() - 8]).unwrap();
        let e = Mapped::open(&File::open(&p).unwrap(), 9).err().unwrap();
        assert!(e.contains("out of bounds"), "{e}");
        std::fs::write(&p, b"garbage!garbage!garbage!").unwrap();
        assert!(Mapped::open(&File::open(&p).unwrap(), 9).is_err());
    }
}
