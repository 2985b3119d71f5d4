//! The records of `index.bin` and the views queries read them through.
//!
//! [`encode`] turns what the pipeline computed ([`Symbols`], [`Graph`]: owned, convenient to
//! build) into fixed-size records, a string heap and sorted id arrays; [`Tables`] maps the file
//! and hands out small views ([`Sym`], [`FileView`], [`PkgView`], …) that read one record at a
//! time, so a query touches only the pages it needs. Every id coming from the file is
//! bounds-checked: a damaged index gives wrong answers or empty strings, never a panic.
//!
//! | section    | record            | order / meaning                                         |
//! |------------|-------------------|---------------------------------------------------------|
//! | `strings`  | bytes             | heap of every string, referenced by [`Str`]; equal doc  |
//! |            |                   | comments and signatures stored once, names inside the   |
//! |            |                   | qualified names, method names at their symbols'          |
//! | `root`     | bytes             | the indexed root directory                              |
//! | `files`    | [`FileD`]         | by file id                                              |
//! | `pkgs`     | [`PkgD`]          | by package id; files and imports are ranges of the next two |
//! | `pkgfiles` | u32               | file ids                                                |
//! | `pkgimps`  | [`Str`]           | import paths                                            |
//! | `syms`     | [`SymD`]          | by symbol id                                            |
//! | `byqname`  | u32               | symbol ids sorted by qualified name                     |
//! | `byname`   | u32               | symbol ids sorted by (name, qualified name)             |
//! | `names`    | [`NameD`]         | distinct short names, sorted, each a range of `byname`  |
//! | `nametext` | bytes             | the distinct names, contiguous (lookups by name and the |
//! |            |                   | "did you mean" scan touch only this, not every symbol)  |
//! | `edges`    | [`EdgeD`]         | sorted by (caller, line, col)                           |
//! | `outstart` | u32               | per symbol + 1: first edge of each caller (CSR)         |
//! | `inedges`  | u32               | edge indexes sorted by (callee, edge index)             |
//! | `instart`  | u32               | per symbol + 1: first entry of each callee in `inedges` |
//! | `outcallee`| u32               | the callee of each edge (beside `edges`)                |
//! | `incaller` | u32               | the caller of each `inedges` entry (beside it)          |
//! | `symmeta`  | [`SymMetaD`]      | by symbol id: package, kind, flags (test, vendor,       |
//! |            |                   | external): what call-graph walks filter on, 8 bytes a   |
//! |            |                   | symbol, so a walk that reaches 100k functions reads the |
//! |            |                   | compact arrays, not 100k `syms` and `edges` records     |
//! | `impls`    | [`ImplD`]         | sorted by (interface, type)                             |
//! | `implty`   | u32               | impl indexes sorted by (type, interface)                |
//! | `ifext`    | [u32; 2]          | (interface, extending interface), sorted                |
//! | `msets`    | [`MsetD`]         | method sets: (type, range of `methods`), sorted by type |
//! | `methods`  | [`MethodD`]       | sorted by name within each set                          |
//! | `unres`    | [`UnresD`]        | unresolved calls sorted by (caller, line, col)          |

use super::container::{name, Mapped, Name, Span, Writer};
use super::{Edge, Graph, Kind, Symbols, Via, NONE};
use anyhow::{bail, Context, Result};
use bytemuck::{Pod, Zeroable};
use rayon::prelude::*;
use std::fs::File;
use std::path::Path;

/// A string in the heap; `len == NONE` is "absent" (an `Option` that is `None`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub struct Str {
    off: u32,
    len: u32,
}

const ABSENT: Str = Str { off: 0, len: NONE };

#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub struct NameD {
    text: Str,
    start: u32,
    len: u32,
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub struct FileD {
    hash: u64,
    size: u64,
    mtime_lo: u64,
    mtime_hi: u64,
    rel: Str,
    build: Str,
    pkg: u32,
    lines: u32,
    syntax_errors: u32,
    first_error_line: u32,
    flags: u8,
    _pad: [u8; 7],
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub struct PkgD {
    path: Str,
    name: Str,
    dir: Str,
    files_start: u32,
    files_len: u32,
    imps_start: u32,
    imps_len: u32,
    flags: u8,
    _pad: [u8; 3],
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub struct SymD {
    qname: Str,
    name: Str,
    signature: Str,
    doc: Str,
    pkg: u32,
    file: u32,
    line: u32,
    col: u32,
    start_line: u32,
    end_line: u32,
    start_byte: u32,
    end_byte: u32,
    recv: u32,
    variants: u32,
    kind: u8,
    ptr_recv: u8,
    generic: u8,
    _pad: u8,
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub struct EdgeD {
    caller: u32,
    callee: u32,
    file: u32,
    line: u32,
    col: u32,
    via: u8,
    flags: u8,
    _pad: [u8; 2],
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub struct ImplD {
    iface: u32,
    ty: u32,
    pointer: u32,
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub struct MsetD {
    ty: u32,
    start: u32,
    len: u32,
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub struct MethodD {
    name: Str,
    via: Str,
    sym: u32,
    depth: u16,
    ptr_only: u8,
    _pad: u8,
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub struct UnresD {
    reason: Str,
    name: Str,
    caller: u32,
    file: u32,
    line: u32,
    col: u32,
}

const S_STRINGS: Name = name("strings");
const S_ROOT: Name = name("root");
const S_FILES: Name = name("files");
const S_PKGS: Name = name("pkgs");
const S_PKGFILES: Name = name("pkgfiles");
const S_PKGIMPS: Name = name("pkgimps");
/// What graph walks read per symbol (see `symmeta`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub struct SymMetaD {
    pkg: u32,
    kind: u8,
    /// The package's flags, with the file's (test) and F_EXTERNAL for symbols with no file
    /// (other than `init`): [`Tables::flags`].
    flags: u8,
    _pad: [u8; 2],
}

const INVALID_META: SymMetaD = SymMetaD {
    pkg: NONE,
    kind: Kind::Var as u8,
    flags: super::F_EXTERNAL,
    _pad: [0; 2],
};

const S_SYMS: Name = name("syms");
const S_BYQNAME: Name = name("byqname");
const S_BYNAME: Name = name("byname");
const S_NAMES: Name = name("names");
const S_NAMETEXT: Name = name("nametext");
const S_EDGES: Name = name("edges");
const S_OUTSTART: Name = name("outstart");
const S_INEDGES: Name = name("inedges");
const S_INSTART: Name = name("instart");
const S_OUTCALLEE: Name = name("outcallee");
const S_INCALLER: Name = name("incaller");
const S_SYMMETA: Name = name("symmeta");
const S_IMPLS: Name = name("impls");
const S_IMPLTY: Name = name("implty");
const S_IFEXT: Name = name("ifext");
const S_MSETS: Name = name("msets");
const S_METHODS: Name = name("methods");
const S_UNRES: Name = name("unres");

fn kind_of(c: u8) -> Kind {
    const ALL: [Kind; 10] = [
        Kind::Func,
        Kind::Method,
        Kind::Struct,
        Kind::Interface,
        Kind::Type,
        Kind::Alias,
        Kind::Var,
        Kind::Const,
        Kind::IfaceMethod,
        Kind::Init,
    ];
    ALL.get(c as usize).copied().unwrap_or(Kind::Var)
}

fn via_of(c: u8) -> Via {
    match c {
        1 => Via::Interface,
        2 => Via::Dispatch,
        3 => Via::FuncValue,
        _ => Via::Static,
    }
}

/// The `strings` section, streamed to the file as strings are added.
struct Heap<'w> {
    w: &'w mut Writer,
    len: u64,
    /// The first write error; the section is abandoned with it.
    err: Option<anyhow::Error>,
}

impl Heap<'_> {
    fn add(&mut self, s: &str) -> Str {
        let off = self.len as u32;
        if self.err.is_none() {
            self.err = self.w.append(s.as_bytes()).err();
        }
        self.len += s.len() as u64;
        Str {
            off,
            len: s.len() as u32,
        }
    }
    fn opt(&mut self, s: Option<&str>) -> Str {
        s.map(|s| self.add(s)).unwrap_or(ABSENT)
    }
    fn end(self) -> Result<()> {
        if let Some(e) = self.err {
            return Err(e);
        }
        if self.len > u32::MAX as u64 {
            bail!(
                "the index's strings take {} bytes, over this format's 4 GiB limit",
                self.len
            );
        }
        self.w.end()
    }
}

/// For each symbol, the smallest id whose `text` equals its own (itself when none comes
/// before it; empty texts are their own). Found by hash in parallel, equality checked.
fn first_equal(
    syms: &[super::SymRec],
    text: impl Fn(&super::SymRec) -> &String + Sync,
) -> Vec<u32> {
    let mut keyed: Vec<(u64, u32)> = syms
        .par_iter()
        .enumerate()
        .filter(|(_, s)| !text(s).is_empty())
        .map(|(i, s)| (xxhash_rust::xxh3::xxh3_64(text(s).as_bytes()), i as u32))
        .collect();
    keyed.par_sort_unstable();
    let mut first: Vec<u32> = (0..syms.len() as u32).collect();
    for group in keyed.chunk_by(|a, b| a.0 == b.0) {
        // By id within the group; a hash collision between different texts keeps them apart.
        for (k, &(_, i)) in group.iter().enumerate() {
            let same = group[..k]
                .iter()
                .find(|&&(_, j)| text(&syms[j as usize]) == text(&syms[i as usize]));
            if let Some(&(_, j)) = same {
                first[i as usize] = first[j as usize];
            }
        }
    }
    first
}

/// CSR offsets: `start[k]..start[k+1]` are the positions whose key is `k`; `keys` sorted.
fn csr(n: usize, keys: impl Iterator<Item = u32>) -> Vec<u32> {
    let mut start = vec![0u32; n + 1];
    for k in keys {
        if (k as usize) < n {
            start[k as usize + 1] += 1;
        }
    }
    for i in 0..n {
        start[i + 1] += start[i];
    }
    start
}

/// The number of sections [`write`] writes.
const SECTIONS: usize = 24;

/// Writes a generation's symbols and graph as the sections of `index.bin` at `path`. The
/// symbol sections go to the file as soon as each is laid out, the strings first (while the
/// records that point into them are built); the call-graph arrays (sorts, adjacency) are
/// laid out on another thread meanwhile, and written after them.
pub fn write(path: &Path, version: u32, sy: &Symbols, g: &Graph) -> Result<()> {
    let (written, ga) = rayon::join(
        || -> Result<Writer> {
            let mut w = Writer::create(path, version, SECTIONS)?;
            symbol_sections(&mut w, sy, g)?;
            Ok(w)
        },
        || graph_arrays(sy, g),
    );
    let mut w = written?;
    ga.write(&mut w)?;
    w.bytes(S_ROOT, sy.root.as_bytes())?;
    w.finish()
}

/// The strings, then the file, package, symbol, method-set, unresolved-call and name
/// sections.
fn symbol_sections(w: &mut Writer, sy: &Symbols, g: &Graph) -> Result<()> {
    w.begin(S_STRINGS);
    let mut h = Heap {
        w,
        len: 0,
        err: None,
    };

    let files: Vec<FileD> = sy
        .files
        .iter()
        .map(|f| FileD {
            hash: f.hash,
            size: f.size,
            mtime_lo: f.mtime_ns as u64,
            mtime_hi: (f.mtime_ns >> 64) as u64,
            rel: h.add(&f.rel),
            build: h.opt(f.build.as_deref()),
            pkg: f.pkg,
            lines: f.lines,
            syntax_errors: f.syntax_errors,
            first_error_line: f.first_error_line.unwrap_or(NONE),
            flags: f.flags,
            _pad: [0; 7],
        })
        .collect();
    let mut pkgfiles: Vec<u32> = Vec::new();
    let mut pkgimps: Vec<Str> = Vec::new();
    let pkgs: Vec<PkgD> = sy
        .pkgs
        .iter()
        .map(|p| {
            let (fs, is) = (pkgfiles.len() as u32, pkgimps.len() as u32);
            pkgfiles.extend_from_slice(&p.files);
            for i in &p.imports {
                let s = h.add(i);
                pkgimps.push(s);
            }
            PkgD {
                path: h.add(&p.path),
                name: h.add(&p.name),
                dir: h.add(&p.dir),
                files_start: fs,
                files_len: p.files.len() as u32,
                imps_start: is,
                imps_len: p.imports.len() as u32,
                flags: p.flags,
                _pad: [0; 3],
            }
        })
        .collect();
    // Equal doc comments and signatures (generated code repeats them by the thousand) are
    // stored once: each symbol's text points at the first symbol's with the same one.
    let first_doc = first_equal(&sy.syms, |s| &s.doc);
    let first_sig = first_equal(&sy.syms, |s| &s.signature);
    let mut syms: Vec<SymD> = Vec::with_capacity(sy.syms.len());
    for (i, s) in sy.syms.iter().enumerate() {
        let qname = h.add(&s.qname);
        // The short name is almost always the end of the qualified one: share its bytes.
        let name = if s.qname.ends_with(s.name.as_str()) {
            Str {
                off: qname.off + (s.qname.len() - s.name.len()) as u32,
                len: s.name.len() as u32,
            }
        } else {
            h.add(&s.name)
        };
        let signature = match first_sig[i] as usize {
            j if j < i => syms[j].signature,
            _ => h.add(&s.signature),
        };
        let doc = match first_doc[i] as usize {
            j if j < i => syms[j].doc,
            _ => h.add(&s.doc),
        };
        syms.push(SymD {
            qname,
            name,
            signature,
            doc,
            pkg: s.pkg,
            file: s.file,
            line: s.line,
            col: s.col,
            start_line: s.start_line,
            end_line: s.end_line,
            start_byte: s.start_byte,
            end_byte: s.end_byte,
            recv: s.recv,
            variants: s.variants,
            kind: s.kind as u8,
            ptr_recv: s.ptr_recv as u8,
            generic: s.generic as u8,
            _pad: 0,
        });
    }
    drop((first_doc, first_sig));
    let mut msets: Vec<MsetD> = Vec::with_capacity(g.methods.len());
    let mut methods: Vec<MethodD> = Vec::new();
    let mut sets: Vec<&(u32, Vec<super::MethodRec>)> = g.methods.iter().collect();
    sets.sort_by_key(|(t, _)| *t);
    for (ty, ms) in sets {
        let start = methods.len() as u32;
        let name = |m: &super::MethodRec| sy.syms.get(m.sym as usize).map_or("", |s| &s.name);
        let mut ms: Vec<&super::MethodRec> = ms.iter().collect();
        ms.sort_by(|a, b| name(a).cmp(name(b)));
        for m in ms {
            methods.push(MethodD {
                // The method's own symbol holds its name.
                name: match syms.get(m.sym as usize) {
                    Some(d) => d.name,
                    None => h.add(name(m)),
                },
                via: h.opt(m.via.as_deref()),
                sym: m.sym,
                depth: m.depth,
                ptr_only: m.ptr_only as u8,
                _pad: 0,
            });
        }
        msets.push(MsetD {
            ty: *ty,
            start,
            len: methods.len() as u32 - start,
        });
    }
    let mut unres: Vec<UnresD> = g
        .unresolved
        .iter()
        .map(|u| UnresD {
            reason: h.add(&u.reason),
            name: h.add(&u.name),
            caller: u.caller,
            file: u.file,
            line: u.line,
            col: u.col,
        })
        .collect();
    unres.sort_by_key(|u| (u.caller, u.line, u.col));
    h.end()?;

    w.pod(S_FILES, &files)?;
    w.pod(S_PKGS, &pkgs)?;
    w.pod(S_PKGFILES, &pkgfiles)?;
    w.pod(S_PKGIMPS, &pkgimps)?;
    w.pod(S_SYMS, &syms)?;
    w.pod(S_MSETS, &msets)?;
    w.pod(S_METHODS, &methods)?;
    w.pod(S_UNRES, &unres)?;
    drop((files, pkgs, pkgfiles, pkgimps, syms, msets, methods, unres));
    let mut names: Vec<NameD> = Vec::new();
    let mut nametext: Vec<u8> = Vec::new();
    for (k, &id) in sy.by_name.iter().enumerate() {
        let n = sy.syms.get(id as usize).map_or("", |s| s.name.as_str());
        match names.last_mut() {
            Some(last) if text(&nametext, last.text) == n => last.len += 1,
            _ => {
                names.push(NameD {
                    text: Str {
                        off: nametext.len() as u32,
                        len: n.len() as u32,
                    },
                    start: k as u32,
                    len: 1,
                });
                nametext.extend_from_slice(n.as_bytes());
            }
        }
    }
    w.pod(S_BYQNAME, &sy.by_qname)?;
    w.pod(S_BYNAME, &sy.by_name)?;
    w.pod(S_NAMES, &names)?;
    w.bytes(S_NAMETEXT, &nametext)?;
    drop((names, nametext));
    Ok(())
}

/// The call-graph sections of [`write`], laid out.
struct GraphArrays {
    edges: Vec<EdgeD>,
    outstart: Vec<u32>,
    inedges: Vec<u32>,
    instart: Vec<u32>,
    outcallee: Vec<u32>,
    incaller: Vec<u32>,
    symmeta: Vec<SymMetaD>,
    impls: Vec<ImplD>,
    implty: Vec<u32>,
    ifext: Vec<[u32; 2]>,
}

impl GraphArrays {
    fn write(&self, w: &mut Writer) -> Result<()> {
        w.pod(S_EDGES, &self.edges)?;
        w.pod(S_OUTSTART, &self.outstart)?;
        w.pod(S_INEDGES, &self.inedges)?;
        w.pod(S_INSTART, &self.instart)?;
        w.pod(S_OUTCALLEE, &self.outcallee)?;
        w.pod(S_INCALLER, &self.incaller)?;
        w.pod(S_SYMMETA, &self.symmeta)?;
        w.pod(S_IMPLS, &self.impls)?;
        w.pod(S_IMPLTY, &self.implty)?;
        w.pod(S_IFEXT, &self.ifext)
    }
}

fn graph_arrays(sy: &Symbols, g: &Graph) -> GraphArrays {
    let n = sy.syms.len();

    // Edges by caller, then call site: `to_store` already sorts so, making this stable sort a
    // linear pass.
    let mut edges: Vec<EdgeD> = g
        .edges
        .iter()
        .map(|e| EdgeD {
            caller: e.caller,
            callee: e.callee,
            file: e.file,
            line: e.line,
            col: e.col,
            via: e.via as u8,
            flags: e.flags,
            _pad: [0; 2],
        })
        .collect();
    edges.par_sort_by_key(|e| (e.caller, e.line, e.col));
    let outstart = csr(n, edges.iter().map(|e| e.caller));
    let mut inedges: Vec<u32> = (0..edges.len() as u32).collect();
    inedges.par_sort_unstable_by_key(|&i| (edges[i as usize].callee, i));
    let instart = csr(n, edges.iter().map(|e| e.callee));
    let outcallee: Vec<u32> = edges.iter().map(|e| e.callee).collect();
    let incaller: Vec<u32> = inedges.iter().map(|&i| edges[i as usize].caller).collect();
    let symmeta: Vec<SymMetaD> = sy
        .syms
        .iter()
        .map(|s| {
            let flags = sy.flags(s);
            SymMetaD {
                pkg: s.pkg,
                kind: s.kind as u8,
                flags,
                _pad: [0; 2],
            }
        })
        .collect();

    let mut impls: Vec<ImplD> = g
        .impls
        .iter()
        .map(|i| ImplD {
            iface: i.iface,
            ty: i.ty,
            pointer: i.pointer as u32,
        })
        .collect();
    impls.par_sort_by_key(|i| (i.iface, i.ty, i.pointer));
    let mut implty: Vec<u32> = (0..impls.len() as u32).collect();
    implty.par_sort_by_key(|&i| (impls[i as usize].ty, impls[i as usize].iface));
    let mut ifext: Vec<[u32; 2]> = g.iface_extends.iter().map(|&(a, b)| [a, b]).collect();
    ifext.sort();
    ifext.dedup();

    GraphArrays {
        edges,
        outstart,
        inedges,
        instart,
        outcallee,
        incaller,
        symmeta,
        impls,
        implty,
        ifext,
    }
}

/// The mapped `index.bin` of a generation.
pub struct Tables {
    m: Mapped,
    strings: Span,
    root: Span,
    files: Span,
    pkgs: Span,
    pkgfiles: Span,
    pkgimps: Span,
    syms: Span,
    byqname: Span,
    byname: Span,
    names: Span,
    nametext: Span,
    edges: Span,
    outstart: Span,
    inedges: Span,
    instart: Span,
    outcallee: Span,
    incaller: Span,
    symmeta: Span,
    impls: Span,
    implty: Span,
    ifext: Span,
    msets: Span,
    methods: Span,
    unres: Span,
}

/// A symbol read from the index: numbers copied out, strings borrowed from the map.
#[derive(Clone, Copy)]
pub struct Sym<'a> {
    pub kind: Kind,
    pub pkg: u32,
    /// NONE for synthetic symbols (`pkg.init`, `error`).
    pub file: u32,
    pub line: u32,
    pub col: u32,
    pub start_line: u32,
    pub end_line: u32,
    pub start_byte: u32,
    pub end_byte: u32,
    /// Methods: the symbol of the receiver's type.
    pub recv: u32,
    pub ptr_recv: bool,
    /// A type with type parameters.
    pub generic: bool,
    pub variants: u32,
    d: &'a SymD,
    heap: &'a [u8],
}

impl<'a> Sym<'a> {
    /// go/types qualified name.
    pub fn qname(&self) -> &'a str {
        text(self.heap, self.d.qname)
    }
    pub fn name(&self) -> &'a str {
        text(self.heap, self.d.name)
    }
    pub fn signature(&self) -> &'a str {
        text(self.heap, self.d.signature)
    }
    pub fn doc(&self) -> &'a str {
        text(self.heap, self.d.doc)
    }
}

#[derive(Clone, Copy)]
pub struct FileView<'a> {
    pub pkg: u32,
    pub flags: u8,
    pub hash: u64,
    pub size: u64,
    pub mtime_ns: i128,
    pub lines: u32,
    pub syntax_errors: u32,
    pub first_error_line: Option<u32>,
    d: &'a FileD,
    heap: &'a [u8],
}

impl<'a> FileView<'a> {
    /// Path relative to the root (external files: `$GOROOT/src/...`, `$GOPATH/src/...`).
    pub fn rel(&self) -> &'a str {
        text(self.heap, self.d.rel)
    }
    /// The file's build constraint, if any.
    pub fn build(&self) -> Option<&'a str> {
        (self.d.build.len != NONE).then(|| text(self.heap, self.d.build))
    }
}

#[derive(Clone, Copy)]
pub struct PkgView<'a> {
    pub flags: u8,
    d: &'a PkgD,
    t: &'a Tables,
}

impl<'a> PkgView<'a> {
    pub fn path(&self) -> &'a str {
        text(self.t.heap(), self.d.path)
    }
    pub fn name(&self) -> &'a str {
        text(self.t.heap(), self.d.name)
    }
    pub fn dir(&self) -> &'a str {
        text(self.t.heap(), self.d.dir)
    }
    pub fn files(&self) -> &'a [u32] {
        range(
            self.t.m.slice::<u32>(self.t.pkgfiles),
            self.d.files_start,
            self.d.files_len,
        )
    }
    pub fn imports(&self) -> impl Iterator<Item = &'a str> + 'a {
        let heap = self.t.heap();
        range(
            self.t.m.slice::<Str>(self.t.pkgimps),
            self.d.imps_start,
            self.d.imps_len,
        )
        .iter()
        .map(move |&s| text(heap, s))
    }
}

/// The edges next to one symbol: a range of `edges` (its calls) or of `inedges` (its
/// callers). Positions and indexes from a damaged file end the walk or are skipped.
pub struct Adjacent<'a> {
    edges: &'a [EdgeD],
    via: Option<&'a [u32]>,
    pos: usize,
    end: usize,
}

impl Iterator for Adjacent<'_> {
    type Item = Edge;
    fn next(&mut self) -> Option<Edge> {
        while self.pos < self.end {
            let k = self.pos;
            self.pos += 1;
            let i = match self.via {
                Some(v) => *v.get(k)? as usize,
                None => k,
            };
            if let Some(e) = self.edges.get(i) {
                return Some(edge(e));
            }
        }
        None
    }
}

/// A method of a method set.
#[derive(Clone, Copy, Debug)]
pub struct Method<'a> {
    pub name: &'a str,
    pub sym: u32,
    pub ptr_only: bool,
    pub depth: u16,
    /// The embedded field it is promoted through.
    pub via: Option<&'a str>,
}

/// An unresolved call.
#[derive(Clone, Copy, Debug)]
pub struct UnresolvedView<'a> {
    pub caller: u32,
    pub file: u32,
    pub line: u32,
    pub col: u32,
    /// `dynamic` for calls through func values with no known target, else the reason.
    pub reason: &'a str,
    pub name: &'a str,
}

fn text(heap: &[u8], s: Str) -> &str {
    if s.len == NONE {
        return "";
    }
    let (a, b) = (s.off as usize, s.off as usize + s.len as usize);
    heap.get(a..b)
        .and_then(|b| std::str::from_utf8(b).ok())
        .unwrap_or("")
}

fn range<T>(v: &[T], start: u32, len: u32) -> &[T] {
    let (a, b) = (start as usize, start as usize + len as usize);
    v.get(a..b).unwrap_or(&[])
}

const INVALID_SYM: SymD = SymD {
    qname: Str { off: 0, len: 0 },
    name: Str { off: 0, len: 0 },
    signature: Str { off: 0, len: 0 },
    doc: Str { off: 0, len: 0 },
    pkg: NONE,
    file: NONE,
    line: 0,
    col: 0,
    start_line: 0,
    end_line: 0,
    start_byte: 0,
    end_byte: 0,
    recv: NONE,
    variants: 0,
    kind: 6,
    ptr_recv: 0,
    generic: 0,
    _pad: 0,
};

fn edge(d: &EdgeD) -> Edge {
    Edge {
        caller: d.caller,
        callee: d.callee,
        file: d.file,
        line: d.line,
        col: d.col,
        via: via_of(d.via),
        flags: d.flags,
    }
}

/// What [`patch_files`] writes into one file's record.
pub struct FileUpdate {
    /// The file's index in the files section.
    pub file: u32,
    pub hash: u64,
    pub size: u64,
    pub mtime_ns: i128,
    pub lines: u32,
}

/// Rewrites, in place, the content hash, size, time and line count of files in the
/// `index.bin` at `path`: a copy made for a new generation whose files changed in nothing
/// else (see `refresh`). Nothing else in the file depends on these fields.
pub fn patch_files(path: &Path, updates: &[FileUpdate]) -> Result<()> {
    use std::os::unix::fs::FileExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    let t = Tables::open(&file).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let recs = t.m.slice::<FileD>(t.files);
    let base = t.m.offset(t.files);
    for u in updates {
        let Some(old) = recs.get(u.file as usize) else {
            bail!("{}: no file {}", path.display(), u.file);
        };
        let d = FileD {
            hash: u.hash,
            size: u.size,
            mtime_lo: u.mtime_ns as u64,
            mtime_hi: (u.mtime_ns >> 64) as u64,
            lines: u.lines,
            ..*old
        };
        let at = base + u.file as u64 * std::mem::size_of::<FileD>() as u64;
        file.write_all_at(bytemuck::bytes_of(&d), at)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    file.sync_all()
        .with_context(|| format!("cannot write {}", path.display()))
}

impl Tables {
    pub fn open(file: &File) -> Result<Tables, String> {
        let m = Mapped::open(file, super::FORMAT_VERSION)?;
        let t = Tables {
            strings: m.section::<u8>(S_STRINGS)?,
            root: m.section::<u8>(S_ROOT)?,
            files: m.section::<FileD>(S_FILES)?,
            pkgs: m.section::<PkgD>(S_PKGS)?,
            pkgfiles: m.section::<u32>(S_PKGFILES)?,
            pkgimps: m.section::<Str>(S_PKGIMPS)?,
            syms: m.section::<SymD>(S_SYMS)?,
            byqname: m.section::<u32>(S_BYQNAME)?,
            byname: m.section::<u32>(S_BYNAME)?,
            names: m.section::<NameD>(S_NAMES)?,
            nametext: m.section::<u8>(S_NAMETEXT)?,
            edges: m.section::<EdgeD>(S_EDGES)?,
            outstart: m.section::<u32>(S_OUTSTART)?,
            inedges: m.section::<u32>(S_INEDGES)?,
            instart: m.section::<u32>(S_INSTART)?,
            outcallee: m.section::<u32>(S_OUTCALLEE)?,
            incaller: m.section::<u32>(S_INCALLER)?,
            symmeta: m.section::<SymMetaD>(S_SYMMETA)?,
            impls: m.section::<ImplD>(S_IMPLS)?,
            implty: m.section::<u32>(S_IMPLTY)?,
            ifext: m.section::<[u32; 2]>(S_IFEXT)?,
            msets: m.section::<MsetD>(S_MSETS)?,
            methods: m.section::<MethodD>(S_METHODS)?,
            unres: m.section::<UnresD>(S_UNRES)?,
            m,
        };
        Ok(t)
    }

    fn heap(&self) -> &[u8] {
        self.m.bytes(self.strings)
    }

    pub fn root(&self) -> &str {
        std::str::from_utf8(self.m.bytes(self.root)).unwrap_or("")
    }

    pub fn nsyms(&self) -> usize {
        self.m.slice::<SymD>(self.syms).len()
    }

    /// The symbol `id`; an id out of range (only from a damaged index) reads as an empty
    /// placeholder rather than panicking.
    pub fn sym(&self, id: u32) -> Sym<'_> {
        let d = self
            .m
            .slice::<SymD>(self.syms)
            .get(id as usize)
            .unwrap_or(&INVALID_SYM);
        Sym {
            kind: kind_of(d.kind),
            pkg: d.pkg,
            file: d.file,
            line: d.line,
            col: d.col,
            start_line: d.start_line,
            end_line: d.end_line,
            start_byte: d.start_byte,
            end_byte: d.end_byte,
            recv: d.recv,
            ptr_recv: d.ptr_recv != 0,
            generic: d.generic != 0,
            variants: d.variants,
            d,
            heap: self.heap(),
        }
    }

    pub fn by_qname(&self) -> &[u32] {
        self.m.slice(self.byqname)
    }
    pub fn by_name(&self) -> &[u32] {
        self.m.slice(self.byname)
    }

    /// The distinct short names, sorted: (name, ids of the symbols with that name).
    pub fn names(&self) -> impl ExactSizeIterator<Item = (&str, &[u32])> + '_ {
        let text_of = self.m.bytes(self.nametext);
        let by_name = self.by_name();
        self.m
            .slice::<NameD>(self.names)
            .iter()
            .map(move |n| (text(text_of, n.text), range(by_name, n.start, n.len)))
    }

    /// Ids of the symbols whose short name is `name`, by qualified name.
    pub fn ids_named(&self, name: &str) -> &[u32] {
        let text_of = self.m.bytes(self.nametext);
        let v = self.m.slice::<NameD>(self.names);
        let i = v.partition_point(|n| text(text_of, n.text) < name);
        match v.get(i) {
            Some(n) if text(text_of, n.text) == name => range(self.by_name(), n.start, n.len),
            _ => &[],
        }
    }

    pub fn nfiles(&self) -> usize {
        self.m.slice::<FileD>(self.files).len()
    }

    pub fn file(&self, i: u32) -> Option<FileView<'_>> {
        let d = self.m.slice::<FileD>(self.files).get(i as usize)?;
        Some(FileView {
            pkg: d.pkg,
            flags: d.flags,
            hash: d.hash,
            size: d.size,
            mtime_ns: ((d.mtime_hi as i128) << 64) | d.mtime_lo as i128,
            lines: d.lines,
            syntax_errors: d.syntax_errors,
            first_error_line: (d.first_error_line != NONE).then_some(d.first_error_line),
            d,
            heap: self.heap(),
        })
    }

    pub fn npkgs(&self) -> usize {
        self.m.slice::<PkgD>(self.pkgs).len()
    }

    pub fn pkg(&self, i: u32) -> Option<PkgView<'_>> {
        let d = self.m.slice::<PkgD>(self.pkgs).get(i as usize)?;
        Some(PkgView {
            flags: d.flags,
            d,
            t: self,
        })
    }

    /// Every call edge, by caller.
    pub fn edges(&self) -> impl ExactSizeIterator<Item = Edge> + '_ {
        self.m.slice::<EdgeD>(self.edges).iter().map(edge)
    }

    /// Edges out of `id`, in call-site order.
    pub fn edges_from(&self, id: u32) -> Adjacent<'_> {
        self.adjacent(id, self.outstart, None)
    }

    /// The callees of `id`'s calls, one per edge, in `edges_from` order.
    pub fn callee_ids(&self, id: u32) -> &[u32] {
        self.ids(id, self.outstart, self.outcallee)
    }

    /// The callers of `id`, one per edge, in `edges_to` order.
    pub fn caller_ids(&self, id: u32) -> &[u32] {
        self.ids(id, self.instart, self.incaller)
    }

    fn ids(&self, id: u32, start: Span, ids: Span) -> &[u32] {
        let start = self.m.slice::<u32>(start);
        let at = |k: usize| start.get(k).copied().unwrap_or(0) as usize;
        let ids = self.m.slice::<u32>(ids);
        let (a, b) = (at(id as usize), at(id as usize + 1));
        ids.get(a..b.max(a)).unwrap_or(&[])
    }

    /// Package, kind and flags of `id` (F_TEST, F_VENDOR, F_EXTERNAL), from the compact
    /// `symmeta` array.
    pub fn meta(&self, id: u32) -> (u32, Kind, u8) {
        let d = self
            .m
            .slice::<SymMetaD>(self.symmeta)
            .get(id as usize)
            .unwrap_or(&INVALID_META);
        (d.pkg, kind_of(d.kind), d.flags)
    }

    /// Edges into `id`.
    pub fn edges_to(&self, id: u32) -> Adjacent<'_> {
        self.adjacent(id, self.instart, Some(self.m.slice::<u32>(self.inedges)))
    }

    fn adjacent<'a>(&'a self, id: u32, start: Span, via: Option<&'a [u32]>) -> Adjacent<'a> {
        let start = self.m.slice::<u32>(start);
        let at = |k: usize| start.get(k).copied().unwrap_or(0) as usize;
        Adjacent {
            edges: self.m.slice::<EdgeD>(self.edges),
            via,
            pos: at(id as usize),
            end: at(id as usize + 1),
        }
    }

    /// Implementations of `iface`: (type, pointer only), by type id.
    pub fn impls_of(&self, iface: u32) -> Vec<(u32, bool)> {
        let v = self.m.slice::<ImplD>(self.impls);
        let lo = v.partition_point(|i| i.iface < iface);
        v[lo..]
            .iter()
            .take_while(|i| i.iface == iface)
            .map(|i| (i.ty, i.pointer != 0))
            .collect()
    }

    /// Interfaces `ty` implements: (interface, pointer only), by interface id.
    pub fn ifaces_of(&self, ty: u32) -> Vec<(u32, bool)> {
        let v = self.m.slice::<ImplD>(self.impls);
        let idx = self.m.slice::<u32>(self.implty);
        let key = |i: u32| v.get(i as usize).map(|r| r.ty).unwrap_or(NONE);
        let lo = idx.partition_point(|&i| key(i) < ty);
        idx[lo..]
            .iter()
            .take_while(|&&i| key(i) == ty)
            .filter_map(|&i| v.get(i as usize))
            .map(|r| (r.iface, r.pointer != 0))
            .collect()
    }

    /// Every (interface, type, pointer only) pair, by interface.
    pub fn all_impls(&self) -> impl Iterator<Item = (u32, u32, bool)> + '_ {
        self.m
            .slice::<ImplD>(self.impls)
            .iter()
            .map(|i| (i.iface, i.ty, i.pointer != 0))
    }

    /// Interfaces whose method set contains `iface`'s.
    pub fn extending(&self, iface: u32) -> Vec<u32> {
        let v = self.m.slice::<[u32; 2]>(self.ifext);
        let lo = v.partition_point(|p| p[0] < iface);
        v[lo..]
            .iter()
            .take_while(|p| p[0] == iface)
            .map(|p| p[1])
            .collect()
    }

    /// The method set of a named type, by method name.
    pub fn method_set(&self, ty: u32) -> Vec<Method<'_>> {
        let sets = self.m.slice::<MsetD>(self.msets);
        let i = sets.partition_point(|s| s.ty < ty);
        let Some(s) = sets.get(i).filter(|s| s.ty == ty) else {
            return Vec::new();
        };
        let heap = self.heap();
        range(self.m.slice::<MethodD>(self.methods), s.start, s.len)
            .iter()
            .map(|m| Method {
                name: text(heap, m.name),
                sym: m.sym,
                ptr_only: m.ptr_only != 0,
                depth: m.depth,
                via: (m.via.len != NONE).then(|| text(heap, m.via)),
            })
            .collect()
    }

    fn unres_view(&self, u: &UnresD) -> UnresolvedView<'_> {
        let heap = self.heap();
        UnresolvedView {
            caller: u.caller,
            file: u.file,
            line: u.line,
            col: u.col,
            reason: text(heap, u.reason),
            name: text(heap, u.name),
        }
    }

    /// Unresolved calls made by `id`, in call-site order.
    pub fn unresolved_of(&self, id: u32) -> Vec<UnresolvedView<'_>> {
        let v = self.m.slice::<UnresD>(self.unres);
        let lo = v.partition_point(|u| u.caller < id);
        v[lo..]
            .iter()
            .take_while(|u| u.caller == id)
            .map(|u| self.unres_view(u))
            .collect()
    }

    /// Every unresolved call, by caller.
    pub fn unresolved(&self) -> impl ExactSizeIterator<Item = UnresolvedView<'_>> + '_ {
        self.m
            .slice::<UnresD>(self.unres)
            .iter()
            .map(|u| self.unres_view(u))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{MethodRec, SymRec};

    fn sym(qname: &str, name: &str, sig: &str, doc: &str) -> SymRec {
        let mut s = SymRec::synthetic(qname.into(), name.into(), Kind::Func, NONE);
        s.signature = sig.into();
        s.doc = doc.into();
        s
    }

    #[test]
    fn equal_texts_are_stored_once_and_read_back() {
        let syms = vec![
            sym("p.A", "A", "func A()", "// Same doc."),
            sym("p.B", "B", "func B()", "// Other doc."),
            sym("p.C", "C", "func A()", "// Same doc."),
            sym("p.D", "D", "", ""),
            sym("p.E", "E", "", "// Other doc."),
            sym("(p.T).M", "M", "func (T) M()", ""),
        ];
        assert_eq!(first_equal(&syms, |s| &s.doc), [0, 1, 0, 3, 1, 5]);
        assert_eq!(first_equal(&syms, |s| &s.signature), [0, 1, 0, 3, 4, 5]);
        let n = syms.len() as u32;
        let sy = Symbols {
            root: "/r".into(),
            files: Vec::new(),
            pkgs: Vec::new(),
            syms,
            by_qname: (0..n).collect(),
            by_name: (0..n).collect(),
        };
        let method = MethodRec {
            sym: 5,
            ptr_only: false,
            depth: 0,
            via: None,
        };
        let g = Graph {
            impls: Vec::new(),
            iface_extends: Vec::new(),
            methods: vec![(0, vec![method])],
            edges: Vec::new(),
            unresolved: Vec::new(),
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("index.bin");
        write(&path, crate::store::FORMAT_VERSION, &sy, &g).unwrap();
        let t = Tables::open(&File::open(&path).unwrap()).unwrap();
        for (i, s) in sy.syms.iter().enumerate() {
            let v = t.sym(i as u32);
            assert_eq!(
                (v.qname(), v.name(), v.signature(), v.doc()),
                (&*s.qname, &*s.name, &*s.signature, &*s.doc)
            );
        }
        assert_eq!(t.method_set(0)[0].name, "M");
        // Each distinct text once: the qualified names, two signatures of the four, two docs.
        let qnames: usize = sy.syms.iter().map(|s| s.qname.len()).sum();
        let texts = "func A()func B()func (T) M()// Same doc.// Other doc.".len();
        assert_eq!(t.heap().len(), qnames + texts);
    }
}
