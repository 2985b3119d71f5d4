//! Notes and reading trails: the user's data, kept apart from the disposable index.
//!
//! Input: a notes directory and (optionally) an opened [`Index`]. Output: notes and trails as
//! plain values, each note's anchor checked against the index ([`anchor`]), and trails turned
//! into articles ([`export`]).
//! Must not know: command-line flags, how the index is built. It never writes into the index
//! directory, and the indexer never writes here.
//!
//! # On-disk format (version [`FORMAT_VERSION`])
//! ```text
//! <notes dir>/             default <root>/.codewalk-notes, or --notes DIR / CODEWALK_NOTES_DIR
//!   notes.jsonl            line 1: {"codewalk_notes":1,"next_id":N}; then one note per line,
//!                          sorted by id: {"id","symbol","kind","file","line","fingerprint",
//!                          "signature","text","trail"?,"created","updated"}
//!   trails/<slug>.json     one trail, pretty JSON: {"codewalk_trail":1,"slug","question",
//!                          "title"?,"conclusion"?,"created","steps":[{"note","link"?}]}
//!   current                the slug of the active trail (per user; git-ignored)
//!   lock                   held (flock) while a command writes (git-ignored)
//!   .gitignore             `lock`, `current`, `*.tmp-*`
//! ```
//! Every write replaces a whole file: written to `<file>.tmp-<pid>`, fsynced, renamed over the
//! old one, so a crash leaves either the old or the new file, and loses at most the note being
//! added. Writers take `lock` for the whole read-modify-write, so concurrent `note add`s are
//! serialised and all land. A file that does not parse is reported with its path and line and
//! is never written over: every write parses the current file first and stops on an error.
//!
//! A note's anchor is the symbol's qualified name plus its last known file:line and a
//! fingerprint of its declaration (see [`anchor`]). Trail steps are notes (the text may be
//! empty), so anchoring, `note move` and orphan detection work the same for both.
//!
//! Format changes: bump [`FORMAT_VERSION`] and add a line here.
//! - 1: first format.

pub mod anchor;
pub mod export;

use crate::analysis::Index;
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

pub const FORMAT_VERSION: u32 = 1;
pub const DEFAULT_DIR: &str = ".codewalk-notes";
pub const ENV_DIR: &str = "CODEWALK_NOTES_DIR";
const NOTES_FILE: &str = "notes.jsonl";
const TRAILS_DIR: &str = "trails";
const CURRENT_FILE: &str = "current";

/// One note, as stored (one line of `notes.jsonl`).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Note {
    pub id: u64,
    /// Qualified name of the symbol (`store::SymRec::qname`) when the note was last anchored.
    pub symbol: String,
    pub kind: String,
    /// Last known location, relative to the indexed root.
    pub file: String,
    pub line: u32,
    /// See [`anchor::fingerprint`]; empty when the source could not be read.
    pub fingerprint: String,
    pub signature: String,
    pub text: String,
    /// The trail this note is a step of.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trail: Option<String>,
    pub created: u64,
    pub updated: u64,
}

#[derive(Serialize, Deserialize, Debug)]
struct Header {
    codewalk_notes: u32,
    next_id: u64,
}

/// The call-graph link from the previous step, as found when the step was added.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct StoredLink {
    /// Qualified names from the previous step's symbol to this one, both included.
    pub path: Vec<String>,
    /// Edge kinds along `path` (`static`, `interface`, `dispatch`, `funcvalue`).
    pub via: Vec<String>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Step {
    pub note: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<StoredLink>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Trail {
    pub codewalk_trail: u32,
    pub slug: String,
    pub question: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conclusion: Option<String>,
    pub created: u64,
    pub steps: Vec<Step>,
}

impl Trail {
    pub fn title(&self) -> &str {
        self.title.as_deref().unwrap_or(&self.question)
    }
}

/// Where notes live: an explicit dir (flag or env), else `<indexed root>/.codewalk-notes`.
pub fn notes_dir(explicit: Option<&Path>, ix: Option<&Index>) -> Option<PathBuf> {
    if let Some(d) = explicit {
        return Some(d.to_path_buf());
    }
    if let Some(d) = std::env::var_os(ENV_DIR).filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(d));
    }
    ix.map(|ix| Path::new(ix.root()).join(DEFAULT_DIR))
}

pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// A notes directory. Reading needs no lock; writing goes through [`Store::write`].
pub struct Store {
    pub dir: PathBuf,
}

/// Everything in a notes directory, loaded.
#[derive(Debug, Default)]
pub struct Data {
    pub next_id: u64,
    pub notes: Vec<Note>,
    pub trails: Vec<Trail>,
    pub current: Option<String>,
}

impl Data {
    pub fn note(&self, id: u64) -> Option<&Note> {
        self.notes.iter().find(|n| n.id == id)
    }
    pub fn note_mut(&mut self, id: u64) -> Option<&mut Note> {
        self.notes.iter_mut().find(|n| n.id == id)
    }
    pub fn trail(&self, slug: &str) -> Option<&Trail> {
        self.trails.iter().find(|t| t.slug == slug)
    }
    pub fn trail_mut(&mut self, slug: &str) -> Option<&mut Trail> {
        self.trails.iter_mut().find(|t| t.slug == slug)
    }
    /// Allocates a note id (ids are never reused, even after `note rm`).
    pub fn alloc_id(&mut self) -> u64 {
        let max = self.notes.iter().map(|n| n.id).max().unwrap_or(0);
        let id = self.next_id.max(max + 1).max(1);
        self.next_id = id + 1;
        id
    }
    /// A slug for a new trail, unique among the loaded ones.
    pub fn new_slug(&self, question: &str) -> String {
        let mut base = String::new();
        for c in question.chars() {
            if c.is_ascii_alphanumeric() {
                base.push(c.to_ascii_lowercase());
            } else if !base.ends_with('-') && !base.is_empty() {
                base.push('-');
            }
        }
        // At most 48 characters, cut at a word boundary.
        if base.len() > 48 {
            let cut = base[..48].rfind('-').unwrap_or(48);
            base.truncate(cut);
        }
        let base = base.trim_end_matches('-').to_string();
        let base = if base.is_empty() {
            "trail".into()
        } else {
            base
        };
        let mut slug = base.clone();
        let mut n = 2;
        while self.trail(&slug).is_some() {
            slug = format!("{base}-{n}");
            n += 1;
        }
        slug
    }
}

/// A corrupt notes file: its path and line, and the promise that it is left alone.
#[derive(Debug, thiserror::Error)]
#[error("{path}:{line}: {msg}; codewalk will not write over this file: fix or move it")]
pub struct Corrupt {
    pub path: String,
    pub line: usize,
    pub msg: String,
}

impl Store {
    pub fn new(dir: PathBuf) -> Store {
        Store { dir }
    }

    fn notes_path(&self) -> PathBuf {
        self.dir.join(NOTES_FILE)
    }

    fn trail_path(&self, slug: &str) -> PathBuf {
        self.dir.join(TRAILS_DIR).join(format!("{slug}.json"))
    }

    /// Loads everything; a missing directory is an empty store.
    pub fn load(&self) -> Result<Data> {
        let mut data = Data {
            next_id: 1,
            ..Default::default()
        };
        let p = self.notes_path();
        match fs::read_to_string(&p) {
            Ok(text) => {
                for (i, line) in text.lines().enumerate() {
                    if line.trim().is_empty() {
                        continue;
                    }
                    let corrupt = |msg: String| Corrupt {
                        path: p.display().to_string(),
                        line: i + 1,
                        msg,
                    };
                    if i == 0 {
                        let h: Header = serde_json::from_str(line).map_err(|e| {
                            corrupt(format!("bad header ({e}); expected {{\"codewalk_notes\":{FORMAT_VERSION},\"next_id\":N}}"))
                        })?;
                        if h.codewalk_notes != FORMAT_VERSION {
                            return Err(corrupt(format!(
                                "notes format {} but this codewalk reads format {FORMAT_VERSION}",
                                h.codewalk_notes
                            ))
                            .into());
                        }
                        data.next_id = h.next_id;
                        continue;
                    }
                    let n: Note = serde_json::from_str(line)
                        .map_err(|e| corrupt(format!("bad note: {e}")))?;
                    if data.notes.iter().any(|m| m.id == n.id) {
                        return Err(corrupt(format!("duplicate note id {}", n.id)).into());
                    }
                    data.notes.push(n);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", p.display())),
        }
        data.notes.sort_by_key(|n| n.id);
        let td = self.dir.join(TRAILS_DIR);
        if let Ok(rd) = fs::read_dir(&td) {
            let mut paths: Vec<PathBuf> = rd
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .collect();
            paths.sort();
            for p in paths {
                let text = fs::read_to_string(&p)
                    .with_context(|| format!("cannot read {}", p.display()))?;
                let t: Trail = serde_json::from_str(&text).map_err(|e| Corrupt {
                    path: p.display().to_string(),
                    line: e.line(),
                    msg: format!("bad trail: {e}"),
                })?;
                if t.codewalk_trail != FORMAT_VERSION {
                    return Err(Corrupt {
                        path: p.display().to_string(),
                        line: 1,
                        msg: format!(
                            "trail format {} but this codewalk reads format {FORMAT_VERSION}",
                            t.codewalk_trail
                        ),
                    }
                    .into());
                }
                let stem = p.file_stem().map(|s| s.to_string_lossy().to_string());
                if stem.as_deref() != Some(t.slug.as_str()) {
                    return Err(Corrupt {
                        path: p.display().to_string(),
                        line: 1,
                        msg: format!("slug '{}' does not match the file name", t.slug),
                    }
                    .into());
                }
                data.trails.push(t);
            }
        }
        data.current = fs::read_to_string(self.dir.join(CURRENT_FILE))
            .ok()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty());
        Ok(data)
    }

    /// Runs `f` on the loaded data under the directory lock and writes back what changed.
    /// Nothing is written when loading fails (a corrupt file stays as it is) or `f` fails.
    pub fn write<T>(&self, f: impl FnOnce(&mut Data) -> Result<T>) -> Result<T> {
        fs::create_dir_all(&self.dir)
            .with_context(|| format!("cannot create notes directory {}", self.dir.display()))?;
        let gi = self.dir.join(".gitignore");
        if !gi.exists() {
            atomic_write(&gi, b"lock\ncurrent\n*.tmp-*\n")?;
        }
        let lp = self.dir.join("lock");
        let lock = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lp)
            .with_context(|| format!("cannot open {}", lp.display()))?;
        lock.lock()
            .with_context(|| format!("cannot lock {}", lp.display()))?;
        let before = self.load()?;
        let mut data = self.load()?;
        let out = f(&mut data)?;
        if data.notes != before.notes || data.next_id != before.next_id {
            data.notes.sort_by_key(|n| n.id);
            let mut buf = serde_json::to_string(&Header {
                codewalk_notes: FORMAT_VERSION,
                next_id: data.next_id,
            })?;
            buf.push('\n');
            for n in &data.notes {
                buf.push_str(&serde_json::to_string(n)?);
                buf.push('\n');
            }
            atomic_write(&self.notes_path(), buf.as_bytes())?;
        }
        for t in &data.trails {
            if before.trail(&t.slug) != Some(t) {
                fs::create_dir_all(self.dir.join(TRAILS_DIR))?;
                let mut s = serde_json::to_string_pretty(t)?;
                s.push('\n');
                atomic_write(&self.trail_path(&t.slug), s.as_bytes())?;
            }
        }
        for t in &before.trails {
            if data.trail(&t.slug).is_none() {
                let p = self.trail_path(&t.slug);
                fs::remove_file(&p).with_context(|| format!("cannot remove {}", p.display()))?;
            }
        }
        if data.current != before.current {
            let p = self.dir.join(CURRENT_FILE);
            match &data.current {
                Some(c) => atomic_write(&p, format!("{c}\n").as_bytes())?,
                None => {
                    let _ = fs::remove_file(&p);
                }
            }
        }
        drop(lock);
        Ok(out)
    }
}

/// Writes `bytes` to `path` atomically: temp file, fsync, rename, fsync of the directory.
pub fn atomic_write(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let tmp = dir.join(format!("{name}.tmp-{}", std::process::id()));
    {
        let mut f =
            File::create(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
        f.write_all(bytes)
            .and_then(|_| f.sync_all())
            .with_context(|| format!("cannot write {}", tmp.display()))?;
    }
    if let Err(e) = fs::rename(&tmp, path) {
        let _ = fs::remove_file(&tmp);
        bail!("cannot replace {}: {e}", path.display());
    }
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Notes attached to the symbols a query shows, for `def`, `show`, `callers`, `callees` and
/// `implementations`. Matches by qualified name only (no source reads), so it is cheap.
pub struct Attached {
    notes: Vec<Note>,
    /// Why notes could not be loaded (a corrupt file): printed once as a warning.
    pub warning: Option<String>,
}

impl Attached {
    /// Loads the notes for this index (`CODEWALK_NOTES_DIR` or `<root>/.codewalk-notes`).
    /// Never fails: a missing store is empty, a corrupt one gives a warning.
    pub fn load(ix: &Index, explicit: Option<&Path>) -> Attached {
        let Some(dir) = notes_dir(explicit, Some(ix)) else {
            return Attached {
                notes: Vec::new(),
                warning: None,
            };
        };
        match Store::new(dir).load() {
            Ok(d) => Attached {
                notes: d.notes.into_iter().filter(|n| !n.text.is_empty()).collect(),
                warning: None,
            },
            Err(e) => Attached {
                notes: Vec::new(),
                warning: Some(format!("notes not shown: {e:#}")),
            },
        }
    }

    /// Prints the load warning, if any, to stderr.
    pub fn warn(&self) {
        if let Some(w) = &self.warning {
            eprintln!("codewalk: warning: {w}");
        }
    }

    pub fn for_sym<'a>(&'a self, ix: &'a Index, id: u32) -> impl Iterator<Item = &'a Note> + 'a {
        let q = ix.sym(id).qname();
        self.notes.iter().filter(move |n| n.symbol == q)
    }

    /// One line per note: `{indent}note #3: text` (first line of the text).
    pub fn write_lines(
        &self,
        w: &mut impl Write,
        ix: &Index,
        id: u32,
        indent: &str,
    ) -> std::io::Result<()> {
        for n in self.for_sym(ix, id) {
            writeln!(w, "{indent}note #{}: {}", n.id, first_line(&n.text))?;
        }
        Ok(())
    }

    /// For JSON output: `[{"id":3,"text":"..."}]` for a symbol.
    pub fn json(&self, ix: &Index, id: u32) -> Vec<serde_json::Value> {
        self.for_sym(ix, id)
            .map(|n| serde_json::json!({"id": n.id, "text": n.text, "trail": n.trail}))
            .collect()
    }
}

/// The first line of a note, shortened for one-line listings.
pub fn first_line(text: &str) -> String {
    let l = text.lines().next().unwrap_or("");
    let more = text.lines().nth(1).is_some();
    let mut s: String = l.chars().take(100).collect();
    if l.chars().count() > 100 || more {
        s.push('…');
    }
    s
}

/// A new note anchored to symbol `id` (the id is filled in by the caller under the lock).
/// Returns the note and whether its fingerprint could be taken (false when the file changed
/// since it was indexed).
pub fn new_note(ix: &Index, id: u32, text: &str, trail: Option<String>) -> (Note, bool) {
    let mut n = Note {
        id: 0,
        symbol: String::new(),
        kind: String::new(),
        file: String::new(),
        line: 0,
        fingerprint: String::new(),
        signature: String::new(),
        text: text.to_string(),
        trail,
        created: now(),
        updated: now(),
    };
    let ok = reanchor(ix, id, &mut n);
    (n, ok)
}

/// Points a note at symbol `id`: qualified name, location, signature, fingerprint.
pub fn reanchor(ix: &Index, id: u32, n: &mut Note) -> bool {
    let s = ix.sym(id);
    n.symbol = s.qname().to_string();
    n.kind = s.kind.as_str().to_string();
    n.file = ix
        .file_of(id)
        .map(|f| f.rel().to_string())
        .unwrap_or_default();
    n.line = s.line;
    n.signature = s.signature().to_string();
    let fp = anchor::fingerprint_of(ix, id);
    let ok = fp.is_some();
    n.fingerprint = fp.unwrap_or_default();
    n.updated = now();
    ok
}
