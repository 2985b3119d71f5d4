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

use anyhow::{bail, Context, Result};
use bytemuck::Pod;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

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

/// Writes a container section by section, each as soon as it is given (so the whole file
/// is never in memory); the header goes in last. A section can also be streamed in pieces
/// ([`Writer::begin`], [`Writer::append`], [`Writer::end`]).
pub struct Writer {
    out: BufWriter<File>,
    path: PathBuf,
    version: u32,
    /// The number of sections the table was laid out for.
    sections: usize,
    table: Vec<(Name, u64, u64)>,
    /// Where the next byte goes.
    pos: u64,
    /// The section being written: name and start.
    open: Option<(Name, u64)>,
}

impl Writer {
    /// Creates the file with room for a table of `sections` entries.
    pub fn create(path: &Path, version: u32, sections: usize) -> Result<Writer> {
        let f = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
        let mut w = Writer {
            out: BufWriter::with_capacity(1 << 20, f),
            path: path.to_path_buf(),
            version,
            sections,
            table: Vec::with_capacity(sections),
            pos: 0,
            open: None,
        };
        w.write(&vec![0u8; align8(HEADER + sections * ENTRY)])?;
        Ok(w)
    }

    fn write(&mut self, b: &[u8]) -> Result<()> {
        self.out
            .write_all(b)
            .with_context(|| format!("cannot write {}", self.path.display()))?;
        self.pos += b.len() as u64;
        Ok(())
    }

    pub fn pod<T: Pod>(&mut self, n: Name, items: &[T]) -> Result<()> {
        self.bytes(n, bytemuck::cast_slice(items))
    }

    pub fn bytes(&mut self, n: Name, bytes: &[u8]) -> Result<()> {
        self.begin(n);
        self.append(bytes)?;
        self.end()
    }

    /// Starts a section whose bytes come by [`Writer::append`].
    pub fn begin(&mut self, n: Name) {
        self.open = Some((n, self.pos));
    }

    pub fn append(&mut self, bytes: &[u8]) -> Result<()> {
        self.write(bytes)
    }

    /// Ends the section begun last.
    pub fn end(&mut self) -> Result<()> {
        let Some((n, start)) = self.open.take() else {
            bail!("no section to end in {}", self.path.display());
        };
        self.table.push((n, start, self.pos - start));
        let pad = align8(self.pos as usize) - self.pos as usize;
        self.write(&[0u8; 8][..pad])
    }

    /// Writes the header and fsyncs the file.
    pub fn finish(self) -> Result<()> {
        let io = |e: std::io::Error| anyhow::anyhow!("cannot write {}: {e}", self.path.display());
        if self.table.len() != self.sections || self.open.is_some() {
            bail!(
                "{}: {} sections written, {} laid out",
                self.path.display(),
                self.table.len(),
                self.sections
            );
        }
        let mut head = Vec::with_capacity(HEADER + self.table.len() * ENTRY);
        head.extend_from_slice(MAGIC);
        head.extend_from_slice(&self.version.to_le_bytes());
        head.extend_from_slice(&(self.table.len() as u32).to_le_bytes());
        for (name, off, len) in &self.table {
            head.extend_from_slice(name);
            head.extend_from_slice(&off.to_le_bytes());
            head.extend_from_slice(&len.to_le_bytes());
        }
        let f = self
            .out
            .into_inner()
            .map_err(|e| anyhow::anyhow!("cannot write {}: {}", self.path.display(), e.error()))?;
        f.write_all_at(&head, 0).map_err(io)?;
        f.sync_all().map_err(io)
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

    /// Where a section starts in the file.
    pub fn offset(&self, s: Span) -> u64 {
        s.off as u64
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
    fn a_writer_checks_its_section_count() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.bin");
        let mut w = Writer::create(&p, 9, 2).unwrap();
        w.pod(name("nums"), &[1u32]).unwrap();
        assert!(w.finish().is_err());
    }

    #[test]
    fn round_trip_and_damage() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.bin");
        let mut w = Writer::create(&p, 9, 3).unwrap();
        w.pod(name("nums"), &[1u32, 2, 3]).unwrap();
        // Streamed in pieces.
        w.begin(name("text"));
        w.append(b"hel").unwrap();
        w.append(b"lo").unwrap();
        w.end().unwrap();
        w.pod(name("wide"), &[7u64]).unwrap();
        w.finish().unwrap();

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
