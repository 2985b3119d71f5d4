//! The index directory: what is written after `codewalk index`, and how queries read it.
//!
//! # On-disk format (version [`FORMAT_VERSION`])
//! ```text
//! <index dir>/            default <root>/.codewalk, or --index-dir / CODEWALK_INDEX_DIR
//!   CURRENT               name of the live generation directory ("gen-<n>"), replaced by rename
//!   lock                  held (flock) by a running `codewalk index`
//!   gen-<n>/manifest.json format version, codewalk version, root, counts, time (human-readable)
//!   gen-<n>/index.bin     files, packages, symbols, name indexes, implementations, method
//!                         sets, call edges (both directions), unresolved calls: fixed-size
//!                         records and a string heap in named sections ([`layout`])
//!   gen-<n>/search/       tantivy index (see src/search)
//! ```
//! A new generation is written completely (files fsynced) before CURRENT is switched to it
//! by an atomic rename, so a crash or Ctrl-C at any point leaves the previous index usable.
//! Queries memory-map `index.bin` and read only the records they touch: opening an index
//! costs the same on a 10-file fixture and on a Kubernetes-size tree.
//!
//! Format changes: bump [`FORMAT_VERSION`] and add a line here.
//! - 1: first format (bincode `symbols.bin` and `graph.bin`, read whole).
//! - 2: one memory-mapped `index.bin` ([`container`] of [`layout`] sections).
//! - 3: compact `outcallee`, `incaller` and `symmeta` sections for call-graph walks.
//!
//! Must not know: Go semantics (it stores what `pipeline` computed), output formats.

mod container;
mod layout;

pub use layout::{
    patch_files, Adjacent, FileUpdate, FileView, Method, PkgView, Sym, Tables, UnresolvedView,
};

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

pub const FORMAT_VERSION: u32 = 3;
pub const DEFAULT_DIR: &str = ".codewalk";

pub const F_TEST: u8 = 1;
pub const F_VENDOR: u8 = 2;
pub const F_EXTERNAL: u8 = 4;
pub const F_IGNORED: u8 = 8;
/// No common configuration (linux, darwin, windows on amd64) builds the file: its
/// declarations exist only for special tags or old Go versions (`boringcrypto`, `!go1.18`).
pub const F_NOBUILD: u8 = 16;

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct Manifest {
    pub format_version: u32,
    pub codewalk_version: String,
    pub root: String,
    pub created_unix: u64,
    pub files: u64,
    pub external_files: u64,
    pub packages: u64,
    pub symbols: u64,
    pub edges: u64,
    pub implementations: u64,
    pub syntax_error_files: u64,
    pub unreadable_files: u64,
    pub too_large_files: u64,
    pub unresolved_calls: u64,
    pub unresolved_imports: u64,
    pub source_bytes: u64,
    pub index_seconds: f64,
    pub warnings: Vec<String>,
    /// `pipeline::inputs_digest` of the files this generation was built from.
    #[serde(default)]
    pub inputs_digest: u64,
    /// Files whose facts were taken over from the previous generation, not parsed again.
    #[serde(default)]
    pub reused_files: u64,
    /// Its `layout` part (paths, go.mod files, roots; not file sizes and times).
    #[serde(default)]
    pub layout_digest: u64,
}

#[derive(Debug, Clone)]
pub struct FileRec {
    pub rel: String,
    pub pkg: u32,
    pub flags: u8,
    pub hash: u64,
    pub size: u64,
    pub mtime_ns: i128,
    pub lines: u32,
    pub syntax_errors: u32,
    pub first_error_line: Option<u32>,
    pub build: Option<String>,
}

#[derive(Debug, Clone)]
pub struct PkgRec {
    pub path: String,
    pub name: String,
    pub dir: String,
    pub flags: u8,
    pub files: Vec<u32>,
    pub imports: Vec<String>,
}

/// Symbol kinds as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Func,
    Method,
    Struct,
    Interface,
    Type,
    Alias,
    Var,
    Const,
    IfaceMethod,
    Init,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Func => "func",
            Kind::Method => "method",
            Kind::Struct => "struct",
            Kind::Interface => "interface",
            Kind::Type => "type",
            Kind::Alias => "alias",
            Kind::Var => "var",
            Kind::Const => "const",
            Kind::IfaceMethod => "interface method",
            Kind::Init => "init",
        }
    }
    pub fn is_type(self) -> bool {
        matches!(
            self,
            Kind::Struct | Kind::Interface | Kind::Type | Kind::Alias
        )
    }
    pub fn is_func(self) -> bool {
        matches!(
            self,
            Kind::Func | Kind::Method | Kind::IfaceMethod | Kind::Init
        )
    }
}

#[derive(Debug, Clone)]
pub struct SymRec {
    /// go/types qualified name.
    pub qname: String,
    pub name: String,
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
    pub signature: String,
    pub doc: String,
    pub variants: u32,
}

impl SymRec {
    /// A symbol with no declaration in any file (`(interface).M`, `pkg.init`).
    pub fn synthetic(qname: String, name: String, kind: Kind, pkg: u32) -> SymRec {
        SymRec {
            qname,
            name,
            kind,
            pkg,
            file: NONE,
            line: 0,
            col: 0,
            start_line: 0,
            end_line: 0,
            start_byte: 0,
            end_byte: 0,
            recv: NONE,
            ptr_recv: false,
            generic: false,
            signature: String::new(),
            doc: String::new(),
            variants: 0,
        }
    }
}

pub const NONE: u32 = u32::MAX;

#[derive(Debug, Default)]
pub struct Symbols {
    pub root: String,
    pub files: Vec<FileRec>,
    pub pkgs: Vec<PkgRec>,
    pub syms: Vec<SymRec>,
    /// Symbol ids sorted by qualified name.
    pub by_qname: Vec<u32>,
    /// Symbol ids sorted by short name (`name`), then qualified name.
    pub by_name: Vec<u32>,
}

impl Symbols {
    /// The import path of package `pkg` ("" for none).
    pub fn pkg_path(&self, pkg: u32) -> &str {
        self.pkgs.get(pkg as usize).map_or("", |p| p.path.as_str())
    }

    /// F_TEST, F_VENDOR and F_EXTERNAL of a symbol: its package's flags with its file's, and
    /// F_EXTERNAL for a symbol of no package, or of no file other than an `init`.
    pub fn flags(&self, s: &SymRec) -> u8 {
        let mut flags = self
            .pkgs
            .get(s.pkg as usize)
            .map_or(F_EXTERNAL, |p| p.flags);
        if let Some(f) = self.files.get(s.file as usize) {
            flags |= f.flags;
        }
        if s.file == NONE && s.kind != Kind::Init {
            flags |= F_EXTERNAL;
        }
        flags
    }
}

/// Call-edge kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Via {
    Static,
    Interface,
    Dispatch,
    FuncValue,
}

impl Via {
    pub fn as_str(self) -> &'static str {
        match self {
            Via::Static => "static",
            Via::Interface => "interface",
            Via::Dispatch => "dispatch",
            Via::FuncValue => "funcvalue",
        }
    }
}

pub const E_GO: u8 = 1;
pub const E_DEFER: u8 = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Edge {
    pub caller: u32,
    pub callee: u32,
    /// Call site (NONE file for dispatch edges, which have no site).
    pub file: u32,
    pub line: u32,
    pub col: u32,
    pub via: Via,
    pub flags: u8,
}

#[derive(Debug, Clone)]
pub struct Unresolved {
    pub caller: u32,
    pub file: u32,
    pub line: u32,
    pub col: u32,
    /// `dynamic` for calls through func values with no known target, else the reason.
    pub reason: String,
    pub name: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ImplRec {
    pub iface: u32,
    pub ty: u32,
    pub pointer: bool,
}

#[derive(Debug, Clone)]
pub struct MethodRec {
    /// The method (its name is the member's name).
    pub sym: u32,
    pub ptr_only: bool,
    pub depth: u16,
    /// The embedded field it is promoted through.
    pub via: Option<Box<str>>,
}

#[derive(Debug, Default)]
pub struct Graph {
    /// Sorted by (iface, ty).
    pub impls: Vec<ImplRec>,
    /// Interface-to-interface: (iface, extending iface): the second's method set contains
    /// the first's.
    pub iface_extends: Vec<(u32, u32)>,
    /// Method sets of named types: (type symbol, methods sorted by name).
    pub methods: Vec<(u32, Vec<MethodRec>)>,
    /// Sorted by (caller, line, col).
    pub edges: Vec<Edge>,
    pub unresolved: Vec<Unresolved>,
}

/// Where the index of a root lives.
pub fn default_index_dir(root: &Path) -> PathBuf {
    root.join(DEFAULT_DIR)
}

/// Removes every generation but `current`, and temporary files of CURRENT: what runs that
/// were killed left, or what a new commit replaced. Only under the index lock.
fn keep_only(index_dir: &Path, current: &str) {
    if let Ok(rd) = fs::read_dir(index_dir) {
        for e in rd.flatten() {
            let n = e.file_name().to_string_lossy().to_string();
            if n.starts_with("gen-") && n != current {
                let _ = fs::remove_dir_all(e.path());
            }
            if n.starts_with("CURRENT.tmp-") {
                let _ = fs::remove_file(e.path());
            }
        }
    }
}

/// Removes what killed runs left (generations never committed). Call with the lock held,
/// before writing a new generation: these can be as large as the index itself.
pub fn sweep(index_dir: &Path) {
    if let Some(current) = current_name(index_dir) {
        keep_only(index_dir, &current);
    }
}

/// The generation CURRENT names, if it names one.
fn current_name(index_dir: &Path) -> Option<String> {
    let name = fs::read_to_string(index_dir.join("CURRENT")).ok()?;
    let name = name.trim();
    (name.starts_with("gen-") && !name.contains('/')).then(|| name.to_string())
}

/// The directory of the generation CURRENT names, if it exists (whether or not it opens).
pub fn current_gen(index_dir: &Path) -> Option<PathBuf> {
    let dir = index_dir.join(current_name(index_dir)?);
    dir.is_dir().then_some(dir)
}

/// Finds an index by walking up from `start`, as git finds `.git`.
pub fn find_index_dir(start: &Path) -> Option<PathBuf> {
    let start = start.canonicalize().ok()?;
    let mut d: Option<&Path> = Some(&start);
    while let Some(dir) = d {
        let cand = dir.join(DEFAULT_DIR);
        if cand.join("CURRENT").is_file() {
            return Some(cand);
        }
        d = dir.parent();
    }
    None
}

/// An exclusive lock on the index directory, held while indexing.
pub struct Lock {
    _file: File,
}

pub fn lock(dir: &Path) -> Result<Lock> {
    fs::create_dir_all(dir)
        .with_context(|| format!("cannot create index directory {}", dir.display()))?;
    let path = dir.join("lock");
    let file = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(Lock { _file: file }),
        Err(fs::TryLockError::WouldBlock) => bail!(
            "another `codewalk index` is running on {} (lock held); wait for it to finish",
            dir.display()
        ),
        Err(fs::TryLockError::Error(e)) => {
            Err(e).with_context(|| format!("cannot lock {}", path.display()))
        }
    }
}

/// A generation being written; becomes current with [`Pending::commit`].
pub struct Pending {
    pub dir: PathBuf,
    index_dir: PathBuf,
    name: String,
}

pub fn begin(index_dir: &Path) -> Result<Pending> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let name = format!("gen-{}-{}", nanos, std::process::id());
    let dir = index_dir.join(&name);
    fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    Ok(Pending {
        dir,
        index_dir: index_dir.to_path_buf(),
        name,
    })
}

impl Pending {
    pub fn write(&self, manifest: &Manifest, symbols: &Symbols, graph: &Graph) -> Result<()> {
        let lap = crate::memory::Timings::start();
        layout::write(&self.dir.join("index.bin"), FORMAT_VERSION, symbols, graph)?;
        lap.lap("write: index.bin");
        self.write_manifest(manifest)
    }

    pub fn write_manifest(&self, manifest: &Manifest) -> Result<()> {
        let m = serde_json::to_vec_pretty(manifest)?;
        let p = self.dir.join("manifest.json");
        let mut f = File::create(&p).with_context(|| format!("cannot create {}", p.display()))?;
        f.write_all(&m)
            .and_then(|_| f.sync_all())
            .with_context(|| format!("cannot write {}", p.display()))?;
        Ok(())
    }

    /// Makes this generation current (atomic rename of CURRENT) and removes older ones.
    /// On failure CURRENT is untouched and this generation is removed.
    pub fn commit(self) -> Result<()> {
        let tmp = self
            .index_dir
            .join(format!("CURRENT.tmp-{}", std::process::id()));
        let switched = (|| -> Result<()> {
            let mut f =
                File::create(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
            f.write_all(self.name.as_bytes())
                .and_then(|_| f.sync_all())
                .with_context(|| format!("cannot write {}", tmp.display()))?;
            fs::rename(&tmp, self.index_dir.join("CURRENT"))
                .with_context(|| format!("cannot update {}/CURRENT", self.index_dir.display()))
        })();
        if let Err(e) = switched {
            let _ = fs::remove_file(&tmp);
            self.abandon();
            return Err(e);
        }
        if let Ok(d) = File::open(&self.index_dir) {
            let _ = d.sync_all();
        }
        keep_only(&self.index_dir, &self.name);
        Ok(())
    }

    /// Removes a generation that was not committed.
    pub fn abandon(self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}

impl Opened {
    /// Replaces the generation's manifest (write to a temporary file, fsync, rename): used
    /// to record that the same index also stands for files whose times moved but whose
    /// contents did not.
    pub fn rewrite_manifest(&self, m: &Manifest) -> Result<()> {
        let tmp = self
            .gen
            .join(format!("manifest.json.tmp-{}", std::process::id()));
        let bytes = serde_json::to_vec_pretty(m)?;
        let mut f =
            File::create(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
        f.write_all(&bytes)
            .and_then(|_| f.sync_all())
            .with_context(|| format!("cannot write {}", tmp.display()))?;
        fs::rename(&tmp, self.gen.join("manifest.json"))
            .with_context(|| format!("cannot update {}/manifest.json", self.gen.display()))
    }
}

/// The state of an index directory, each with a clear action for the user.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(
        "no index found in {0} or any parent directory; create one with `codewalk index <dir>`"
    )]
    Missing(String),
    #[error("no index at {0}; create one with `codewalk index <dir> --index-dir {0}`")]
    MissingAt(String),
    #[error("the index at {dir} has format {found}, this codewalk reads format {want}; re-run `codewalk index`")]
    Version { dir: String, found: u32, want: u32 },
    #[error("the index at {dir} is corrupt ({what}); re-run `codewalk index`")]
    Corrupt { dir: String, what: String },
}

/// An opened generation. Its data file is mapped when the generation is opened, so a
/// concurrent `codewalk index` that commits a newer generation and deletes this one cannot
/// pull it from under a running query (an unlinked file stays readable through its mapping).
pub struct Opened {
    pub gen: PathBuf,
    pub manifest: Manifest,
    pub tables: Tables,
}

/// How often [`open`] re-reads CURRENT when the generation it names disappears (a
/// concurrent `codewalk index` committed and removed it between the two reads).
const OPEN_ATTEMPTS: usize = 5;

pub fn open(index_dir: &Path) -> Result<Opened, OpenError> {
    let mut last = None;
    for _ in 0..OPEN_ATTEMPTS {
        let current = match fs::read_to_string(index_dir.join("CURRENT")) {
            Ok(s) => s.trim().to_string(),
            Err(_) => return Err(OpenError::MissingAt(index_dir.display().to_string())),
        };
        match open_gen(index_dir, &current) {
            Ok(o) => return Ok(o),
            Err(e) => {
                // Retry only when CURRENT moved on meanwhile: then the failure was a race
                // with a committing `codewalk index`, not a broken index.
                let now = fs::read_to_string(index_dir.join("CURRENT"))
                    .map(|s| s.trim().to_string())
                    .unwrap_or_default();
                if now == current {
                    return Err(e);
                }
                last = Some(e);
            }
        }
    }
    Err(last.unwrap_or_else(|| OpenError::MissingAt(index_dir.display().to_string())))
}

/// The symbol orders (`by_qname`, `by_name`) of the generation in `gen`, if it can be read:
/// a hint for the next generation, which checks them before using them.
pub fn symbol_order(gen: &Path) -> Option<(Vec<u32>, Vec<u32>)> {
    let file = File::open(gen.join("index.bin")).ok()?;
    let t = Tables::open(&file).ok()?;
    Some((t.by_qname().to_vec(), t.by_name().to_vec()))
}

fn open_gen(index_dir: &Path, current: &str) -> Result<Opened, OpenError> {
    let d = index_dir.display().to_string();
    if !current.starts_with("gen-") || current.contains('/') {
        return Err(OpenError::Corrupt {
            dir: d,
            what: "CURRENT does not name a generation".into(),
        });
    }
    let gen = index_dir.join(current);
    let corrupt = |what: String| OpenError::Corrupt {
        dir: d.clone(),
        what,
    };
    let raw =
        fs::read(gen.join("manifest.json")).map_err(|e| corrupt(format!("manifest.json: {e}")))?;
    let v: serde_json::Value =
        serde_json::from_slice(&raw).map_err(|e| corrupt(format!("manifest.json: {e}")))?;
    let found = v
        .get("format_version")
        .and_then(|x| x.as_u64())
        .unwrap_or(0) as u32;
    if found != FORMAT_VERSION {
        return Err(OpenError::Version {
            dir: d,
            found,
            want: FORMAT_VERSION,
        });
    }
    let manifest: Manifest =
        serde_json::from_value(v).map_err(|e| corrupt(format!("manifest.json: {e}")))?;
    let file = File::open(gen.join("index.bin")).map_err(|e| corrupt(format!("index.bin: {e}")))?;
    let tables = Tables::open(&file).map_err(|e| corrupt(format!("index.bin: {e}")))?;
    Ok(Opened {
        gen,
        manifest,
        tables,
    })
}
