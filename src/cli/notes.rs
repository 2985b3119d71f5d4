//! `note add|list|edit|rm|move` and `trail start|add|show|list|switch|export|conclude`.

use super::{qerr, Ctx};
use crate::analysis::Index;
use crate::notes::anchor::{self, Anchor};
use crate::notes::export::{self, Options};
use crate::notes::{self, Data, Note, Step, Store, Trail};
use anyhow::Result;
use serde::Serialize;
use std::io::Write;
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct NoteArgs {
    /// Keep notes in DIR instead of <indexed root>/.codewalk-notes.
    #[arg(long = "notes", env = notes::ENV_DIR, global = true, value_name = "DIR")]
    pub notes: Option<PathBuf>,
    #[command(subcommand)]
    pub cmd: NoteCmd,
}

#[derive(clap::Subcommand, Debug)]
pub enum NoteCmd {
    /// Attach a note to a symbol.
    Add {
        symbol: String,
        /// The note (words are joined with spaces).
        #[arg(required = true, num_args = 1..)]
        text: Vec<String>,
    },
    /// List notes by package (all, or those on one symbol); orphaned notes last.
    List {
        symbol: Option<String>,
        /// Include trail steps without text.
        #[arg(long)]
        all: bool,
    },
    /// Replace a note's text (and re-take its anchor if its symbol still resolves).
    Edit {
        id: u64,
        #[arg(required = true, num_args = 1..)]
        text: Vec<String>,
    },
    /// Delete a note.
    Rm { id: u64 },
    /// Re-attach a note (e.g. an orphaned one) to another symbol.
    Move { id: u64, symbol: String },
}

#[derive(clap::Args, Debug)]
pub struct TrailArgs {
    /// Keep notes and trails in DIR instead of <indexed root>/.codewalk-notes.
    #[arg(long = "notes", env = notes::ENV_DIR, global = true, value_name = "DIR")]
    pub notes: Option<PathBuf>,
    #[command(subcommand)]
    pub cmd: TrailCmd,
}

#[derive(clap::Subcommand, Debug)]
pub enum TrailCmd {
    /// Start a trail with the question it answers; it becomes the current trail.
    Start {
        question: String,
        /// A title for the article (default: the question).
        #[arg(long)]
        title: Option<String>,
    },
    /// Add a step (a symbol, with an optional note) to the current trail.
    Add {
        symbol: String,
        #[arg(long)]
        note: Option<String>,
        /// Add to this trail instead of the current one.
        #[arg(long)]
        trail: Option<String>,
    },
    /// Remove step N from the current trail (its note, if it has text, stays as a plain note).
    Drop {
        step: usize,
        #[arg(long)]
        trail: Option<String>,
    },
    /// Show a trail's steps and how each is reached from the previous one.
    Show { trail: Option<String> },
    /// List trails (`*` marks the current one).
    List,
    /// Make another trail the current one.
    Switch { trail: String },
    /// Set the trail's conclusion.
    Conclude {
        #[arg(required = true, num_args = 1..)]
        text: Vec<String>,
        #[arg(long)]
        trail: Option<String>,
    },
    /// Export a trail as a Markdown article (with a Mermaid diagram) or JSON.
    Export {
        trail: Option<String>,
        /// markdown or json (--json also selects json).
        #[arg(long, default_value = "markdown")]
        format: String,
        /// Write to FILE instead of stdout.
        #[arg(short = 'o', long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// Link steps to `<URL>/<file>#L<line>` (e.g. a repository at a commit).
        #[arg(long, value_name = "URL")]
        link_base: Option<String>,
    },
}

/// Opens the index (required) and the notes store.
fn open_rw(ctx: &Ctx, explicit: &Option<PathBuf>) -> Result<(Index, Store)> {
    let ix = ctx.open().map_err(qerr)?;
    let dir = notes::notes_dir(
        explicit.as_deref().map(|d| ctx.resolve_path(d)).as_deref(),
        Some(&ix),
    )
    .expect("a notes dir is known once the index is open");
    Ok((ix, Store::new(dir)))
}

/// Opens the notes store and, if it can, the index (reads work without one when the notes
/// dir is given explicitly).
fn open_ro(ctx: &Ctx, explicit: &Option<PathBuf>) -> Result<(Option<Index>, Store)> {
    let explicit = explicit.as_deref().map(|d| ctx.resolve_path(d));
    match ctx.open() {
        Ok(ix) => {
            let dir = notes::notes_dir(explicit.as_deref(), Some(&ix)).expect("dir");
            Ok((Some(ix), Store::new(dir)))
        }
        Err(e) => match notes::notes_dir(explicit.as_deref(), None) {
            Some(dir) => {
                eprintln!("codewalk: warning: {e}; notes shown at their last known locations");
                Ok((None, Store::new(dir)))
            }
            None => Err(qerr(e)),
        },
    }
}

fn load(store: &Store) -> Result<Data> {
    store.load().map_err(|e| super::exit(1, format!("{e:#}")))
}

fn write<T>(store: &Store, f: impl FnOnce(&mut Data) -> Result<T>) -> Result<T> {
    store
        .write(f)
        .map_err(|e| match e.downcast::<super::Exit>() {
            Ok(x) => x.into(),
            Err(e) => super::exit(1, format!("{e:#}")),
        })
}

/// Refreshes the last known location of notes whose symbol still resolves with the same
/// fingerprint, so an orphan later shows where it was last seen.
fn refresh(ix: &Index, d: &mut Data) {
    for n in &mut d.notes {
        if let Anchor::Attached(id) = anchor::locate(ix, n) {
            let file = ix
                .file_of(id)
                .map(|f| f.rel().to_string())
                .unwrap_or_default();
            let line = ix.sym(id).line;
            if n.file != file || n.line != line {
                n.file = file;
                n.line = line;
            }
        }
    }
}

#[derive(Serialize)]
struct NoteOut {
    id: u64,
    symbol: String,
    kind: String,
    package: String,
    status: &'static str,
    file: String,
    line: u32,
    text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    trail: Option<String>,
    /// For orphaned notes: the last known symbol and location are `symbol`, `file`, `line`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    candidates: Vec<String>,
}

fn note_out(ix: Option<&Index>, n: &Note) -> NoteOut {
    let a = ix.map(|ix| anchor::locate(ix, n));
    let (symbol, file, line, package) = match (ix, a.as_ref().and_then(|a| a.id())) {
        (Some(ix), Some(id)) => (
            ix.sym(id).qname().to_string(),
            ix.file_of(id)
                .map(|f| f.rel().to_string())
                .unwrap_or_default(),
            ix.sym(id).line,
            ix.pkg_path(id).to_string(),
        ),
        _ => (n.symbol.clone(), n.file.clone(), n.line, pkg_of(&n.symbol)),
    };
    let candidates = match (&a, ix) {
        (Some(Anchor::Orphaned { candidates }), Some(ix)) => candidates
            .iter()
            .map(|&c| ix.sym(c).qname().to_string())
            .collect(),
        _ => Vec::new(),
    };
    NoteOut {
        id: n.id,
        symbol,
        kind: n.kind.clone(),
        package,
        status: a.as_ref().map(|a| a.status()).unwrap_or("unchecked"),
        file,
        line,
        text: n.text.clone(),
        trail: n.trail.clone(),
        candidates,
    }
}

/// The package path of a qualified name: `(*net/http.Server).Serve` → `net/http`.
fn pkg_of(q: &str) -> String {
    let q = q.trim_start_matches('(').trim_start_matches('*');
    let (dir, last) = match q.rfind('/') {
        Some(i) => (&q[..=i], &q[i + 1..]),
        None => ("", q),
    };
    format!("{dir}{}", last.split('.').next().unwrap_or(""))
}

fn text_of(words: &[String]) -> Result<String> {
    let t = words.join(" ").trim().to_string();
    if t.is_empty() {
        return Err(super::exit(
            2,
            "the note is empty; give its text as arguments",
        ));
    }
    Ok(t)
}

pub fn note(ctx: &Ctx, a: NoteArgs) -> Result<()> {
    match a.cmd {
        NoteCmd::Add { symbol, text } => {
            let (ix, store) = open_rw(ctx, &a.notes)?;
            let id = ix.resolve(&symbol, ctx.first).map_err(qerr)?;
            let text = text_of(&text)?;
            let (mut n, anchored) = notes::new_note(&ix, id, &text, None);
            if !anchored {
                eprintln!(
                    "codewalk: warning: {} changed since it was indexed, so the note has no fingerprint; re-run `codewalk index` and `codewalk note move {{id}} {}` to anchor it",
                    n.file, n.symbol
                );
            }
            let n = write(&store, |d| {
                refresh(&ix, d);
                n.id = d.alloc_id();
                d.notes.push(n.clone());
                Ok(n)
            })?;
            if ctx.json {
                return crate::render::json(&note_out(Some(&ix), &n));
            }
            println!("note #{} on {} ({}:{})", n.id, n.symbol, n.file, n.line);
            Ok(())
        }
        NoteCmd::List { symbol, all } => {
            let (ix, store) = open_ro(ctx, &a.notes)?;
            let d = load(&store)?;
            let want = match (&symbol, &ix) {
                (Some(s), Some(ix)) => Some(ix.resolve(s, ctx.first).map_err(qerr)?),
                (Some(_), None) => {
                    return Err(super::exit(1, "listing notes of one symbol needs an index"))
                }
                _ => None,
            };
            let mut out: Vec<NoteOut> = d
                .notes
                .iter()
                .filter(|n| all || !n.text.is_empty())
                .map(|n| note_out(ix.as_ref(), n))
                .filter(|o| match (want, &ix) {
                    (Some(id), Some(ix)) => {
                        o.status != "orphaned" && o.symbol == ix.sym(id).qname()
                    }
                    _ => true,
                })
                .collect();
            out.sort_by(|a, b| {
                (a.status == "orphaned", &a.package, &a.symbol, a.id).cmp(&(
                    b.status == "orphaned",
                    &b.package,
                    &b.symbol,
                    b.id,
                ))
            });
            if ctx.json {
                return crate::render::json(&serde_json::json!({
                    "notes_dir": store.dir.display().to_string(),
                    "notes": out,
                }));
            }
            let mut w = std::io::stdout().lock();
            if out.is_empty() {
                writeln!(w, "no notes (in {})", store.dir.display())?;
                return Ok(());
            }
            let mut last_pkg: Option<String> = None;
            for o in &out {
                let group = if o.status == "orphaned" {
                    "orphaned (symbol not in the index; `codewalk note move ID SYMBOL` re-attaches)"
                        .to_string()
                } else {
                    o.package.clone()
                };
                if last_pkg.as_ref() != Some(&group) {
                    writeln!(w, "{group}")?;
                    last_pkg = Some(group);
                }
                let mut flags = String::new();
                if o.status == "edited" {
                    flags.push_str("  [edited since noted]");
                }
                if o.status == "unchecked" {
                    flags.push_str("  [no index]");
                }
                if let Some(t) = &o.trail {
                    flags.push_str(&format!("  [trail {t}]"));
                }
                writeln!(
                    w,
                    "  #{:<4} {}  {}:{}{}",
                    o.id, o.symbol, o.file, o.line, flags
                )?;
                for l in o.text.lines() {
                    writeln!(w, "         {l}")?;
                }
                if !o.candidates.is_empty() {
                    writeln!(
                        w,
                        "         same declaration now named: {}",
                        o.candidates.join(", ")
                    )?;
                }
            }
            Ok(())
        }
        NoteCmd::Edit { id, text } => {
            let (ix, store) = open_ro(ctx, &a.notes)?;
            let text = text_of(&text)?;
            let n = write(&store, |d| {
                if let Some(ix) = &ix {
                    refresh(ix, d);
                }
                let n = d.note_mut(id).ok_or_else(|| {
                    super::exit(1, format!("no note #{id}; see `codewalk note list`"))
                })?;
                n.text = text;
                n.updated = notes::now();
                // The user has looked at the code again: take the anchor afresh.
                if let Some(ix) = &ix {
                    if let Some(sid) = anchor::locate(ix, n).id() {
                        notes::reanchor(ix, sid, n);
                    }
                }
                Ok(n.clone())
            })?;
            if ctx.json {
                return crate::render::json(&note_out(ix.as_ref(), &n));
            }
            println!("note #{} updated", n.id);
            Ok(())
        }
        NoteCmd::Rm { id } => {
            let (_ix, store) = open_ro(ctx, &a.notes)?;
            let (n, steps) = write(&store, |d| {
                let i = d.notes.iter().position(|n| n.id == id).ok_or_else(|| {
                    super::exit(1, format!("no note #{id}; see `codewalk note list`"))
                })?;
                let used: Vec<String> = d
                    .trails
                    .iter()
                    .filter(|t| t.steps.iter().any(|s| s.note == id))
                    .map(|t| t.slug.clone())
                    .collect();
                if !used.is_empty() {
                    return Err(super::exit(
                        1,
                        format!(
                            "note #{id} is a step of trail {}; edit it with `codewalk note edit {id} TEXT` instead",
                            used.join(", ")
                        ),
                    ));
                }
                Ok((d.notes.remove(i), used))
            })?;
            let _ = steps;
            if ctx.json {
                return crate::render::json(&serde_json::json!({"removed": n.id}));
            }
            println!(
                "note #{} removed ({}: {})",
                n.id,
                n.symbol,
                notes::first_line(&n.text)
            );
            Ok(())
        }
        NoteCmd::Move { id, symbol } => {
            let (ix, store) = open_rw(ctx, &a.notes)?;
            let sid = ix.resolve(&symbol, ctx.first).map_err(qerr)?;
            let (old, n) = write(&store, |d| {
                refresh(&ix, d);
                let n = d.note_mut(id).ok_or_else(|| {
                    super::exit(1, format!("no note #{id}; see `codewalk note list`"))
                })?;
                let old = n.symbol.clone();
                notes::reanchor(&ix, sid, n);
                Ok((old, n.clone()))
            })?;
            if ctx.json {
                return crate::render::json(&note_out(Some(&ix), &n));
            }
            println!(
                "note #{} moved from {} to {} ({}:{})",
                n.id, old, n.symbol, n.file, n.line
            );
            Ok(())
        }
    }
}

/// The trail a command acts on: the one named, else the current one.
fn pick<'a>(d: &'a Data, name: Option<&str>) -> Result<&'a Trail> {
    let slug = match name.or(d.current.as_deref()) {
        Some(s) => s,
        None => {
            return Err(super::exit(
                1,
                "no current trail; start one with `codewalk trail start \"QUESTION\"` or pick one with `codewalk trail switch NAME`",
            ))
        }
    };
    find_trail(d, slug)
}

fn find_trail<'a>(d: &'a Data, name: &str) -> Result<&'a Trail> {
    if let Some(t) = d.trail(name) {
        return Ok(t);
    }
    // A unique prefix of a slug is enough.
    let m: Vec<&Trail> = d
        .trails
        .iter()
        .filter(|t| t.slug.starts_with(name))
        .collect();
    match m.as_slice() {
        [t] => Ok(t),
        [] => Err(super::exit(
            1,
            format!(
                "no trail '{name}'; trails: {}",
                if d.trails.is_empty() {
                    "none (start one with `codewalk trail start \"QUESTION\"`)".to_string()
                } else {
                    d.trails
                        .iter()
                        .map(|t| t.slug.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            ),
        )),
        _ => Err(super::exit(
            2,
            format!(
                "'{name}' matches several trails: {}",
                m.iter()
                    .map(|t| t.slug.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
    }
}

pub fn trail(ctx: &Ctx, a: TrailArgs) -> Result<()> {
    match a.cmd {
        TrailCmd::Start { question, title } => {
            let (_ix, store) = open_ro(ctx, &a.notes)?;
            let question = question.trim().to_string();
            if question.is_empty() {
                return Err(super::exit(2, "a trail starts with a question"));
            }
            let slug = write(&store, |d| {
                let slug = d.new_slug(&question);
                d.trails.push(Trail {
                    codewalk_trail: notes::FORMAT_VERSION,
                    slug: slug.clone(),
                    question: question.clone(),
                    title,
                    conclusion: None,
                    created: notes::now(),
                    steps: Vec::new(),
                });
                d.current = Some(slug.clone());
                Ok(slug)
            })?;
            if ctx.json {
                return crate::render::json(&serde_json::json!({"trail": slug}));
            }
            println!("trail {slug} started (now current); add steps with `codewalk trail add SYMBOL --note TEXT`");
            Ok(())
        }
        TrailCmd::Add {
            symbol,
            note,
            trail,
        } => {
            let (ix, store) = open_rw(ctx, &a.notes)?;
            let id = ix.resolve(&symbol, ctx.first).map_err(qerr)?;
            let text = note.unwrap_or_default().trim().to_string();
            let (slug, n, link, pos) = write(&store, |d| {
                refresh(&ix, d);
                let slug = pick(d, trail.as_deref())?.slug.clone();
                let prev_sym = d
                    .trail(&slug)
                    .and_then(|t| t.steps.last())
                    .and_then(|s| d.note(s.note))
                    .and_then(|n| anchor::locate(&ix, n).id());
                let link = prev_sym.and_then(|p| export::stored_link(&ix, p, id));
                let (mut n, _) = notes::new_note(&ix, id, &text, Some(slug.clone()));
                n.id = d.alloc_id();
                d.notes.push(n.clone());
                let t = d.trail_mut(&slug).expect("picked");
                t.steps.push(Step {
                    note: n.id,
                    link: link.clone(),
                });
                Ok((slug, n, link, t.steps.len()))
            })?;
            if ctx.json {
                return crate::render::json(&serde_json::json!({
                    "trail": slug, "step": pos, "note": note_out(Some(&ix), &n), "link": link,
                }));
            }
            println!("step {pos} of {slug}: {} ({}:{})", n.symbol, n.file, n.line);
            match link {
                Some(l) => println!(
                    "  reached from step {} by {} call{}: {}",
                    pos - 1,
                    l.via.len(),
                    if l.via.len() == 1 { "" } else { "s" },
                    l.path.join(" → ")
                ),
                None if pos > 1 => println!(
                    "  no call path from step {} within {} calls",
                    pos - 1,
                    export::MAX_HOPS
                ),
                None => {}
            }
            Ok(())
        }
        TrailCmd::Drop { step, trail } => {
            let (_ix, store) = open_ro(ctx, &a.notes)?;
            let slug = write(&store, |d| {
                let slug = pick(d, trail.as_deref())?.slug.clone();
                let t = d.trail_mut(&slug).expect("picked");
                if step == 0 || step > t.steps.len() {
                    return Err(super::exit(
                        2,
                        format!("{slug} has {} steps; no step {step}", t.steps.len()),
                    ));
                }
                let st = t.steps.remove(step - 1);
                // The next step's stored link was from the dropped one: it no longer holds.
                if let Some(next) = t.steps.get_mut(step - 1) {
                    next.link = None;
                }
                let keep = d.note(st.note).is_some_and(|n| !n.text.is_empty());
                if keep {
                    d.note_mut(st.note).expect("exists").trail = None;
                } else {
                    d.notes.retain(|n| n.id != st.note);
                }
                Ok(slug)
            })?;
            if ctx.json {
                return crate::render::json(&serde_json::json!({"trail": slug, "dropped": step}));
            }
            println!("step {step} dropped from {slug}");
            Ok(())
        }
        TrailCmd::Show { trail } => {
            let (ix, store) = open_ro(ctx, &a.notes)?;
            let d = load(&store)?;
            let t = pick(&d, trail.as_deref())?;
            let art = export::article(ix.as_ref(), &d, t, &Options::default());
            if ctx.json {
                return crate::render::json(&art);
            }
            let mut w = std::io::stdout().lock();
            writeln!(w, "{}  [{}]", art.title, art.slug)?;
            if art.title != art.question {
                writeln!(w, "question: {}", art.question)?;
            }
            for s in &art.steps {
                if let Some(l) = &s.from_previous {
                    for h in &l.calls {
                        let site = h
                            .site
                            .as_deref()
                            .map(|x| format!(" at {x}"))
                            .unwrap_or_default();
                        writeln!(w, "   ↓ {} ({}){}", h.to, h.via, site)?;
                    }
                } else if s.n > 1 {
                    writeln!(w, "   ↓ (no call path found)")?;
                }
                let flag = match s.status {
                    "attached" | "unchecked" => String::new(),
                    st => format!("  [{st}]"),
                };
                writeln!(
                    w,
                    "{}. {}  {}:{}  (note #{}){flag}",
                    s.n, s.symbol, s.file, s.line, s.note_id
                )?;
                for l in s.note.lines() {
                    writeln!(w, "     {l}")?;
                }
            }
            if let Some(c) = &art.conclusion {
                writeln!(w, "conclusion: {c}")?;
            }
            Ok(())
        }
        TrailCmd::List => {
            let (_ix, store) = open_ro(ctx, &a.notes)?;
            let d = load(&store)?;
            if ctx.json {
                let v: Vec<_> = d
                    .trails
                    .iter()
                    .map(|t| {
                        serde_json::json!({
                            "trail": t.slug, "question": t.question, "title": t.title(),
                            "steps": t.steps.len(), "concluded": t.conclusion.is_some(),
                            "current": d.current.as_deref() == Some(t.slug.as_str()),
                        })
                    })
                    .collect();
                return crate::render::json(&serde_json::json!({ "trails": v }));
            }
            let mut w = std::io::stdout().lock();
            if d.trails.is_empty() {
                writeln!(
                    w,
                    "no trails (in {}); start one with `codewalk trail start \"QUESTION\"`",
                    store.dir.display()
                )?;
            }
            for t in &d.trails {
                let cur = if d.current.as_deref() == Some(t.slug.as_str()) {
                    "*"
                } else {
                    " "
                };
                writeln!(
                    w,
                    "{cur} {}  {} step{}{}  {}",
                    t.slug,
                    t.steps.len(),
                    if t.steps.len() == 1 { "" } else { "s" },
                    if t.conclusion.is_some() {
                        ", concluded"
                    } else {
                        ""
                    },
                    t.question
                )?;
            }
            Ok(())
        }
        TrailCmd::Switch { trail } => {
            let (_ix, store) = open_ro(ctx, &a.notes)?;
            let slug = write(&store, |d| {
                let slug = find_trail(d, &trail)?.slug.clone();
                d.current = Some(slug.clone());
                Ok(slug)
            })?;
            if ctx.json {
                return crate::render::json(&serde_json::json!({"trail": slug}));
            }
            println!("current trail: {slug}");
            Ok(())
        }
        TrailCmd::Conclude { text, trail } => {
            let (_ix, store) = open_ro(ctx, &a.notes)?;
            let text = text_of(&text)?;
            let slug = write(&store, |d| {
                let slug = pick(d, trail.as_deref())?.slug.clone();
                d.trail_mut(&slug).expect("picked").conclusion = Some(text);
                Ok(slug)
            })?;
            if ctx.json {
                return crate::render::json(&serde_json::json!({"trail": slug}));
            }
            println!("conclusion set for {slug}");
            Ok(())
        }
        TrailCmd::Export {
            trail,
            format,
            output,
            link_base,
        } => {
            let (ix, store) = open_ro(ctx, &a.notes)?;
            let d = load(&store)?;
            let t = pick(&d, trail.as_deref())?;
            let art = export::article(ix.as_ref(), &d, t, &Options { link_base });
            let json = ctx.json || format == "json";
            let text = match format.as_str() {
                _ if json => {
                    let mut s = serde_json::to_string_pretty(&art)?;
                    s.push('\n');
                    s
                }
                "markdown" | "md" => export::markdown(&art),
                f => {
                    return Err(super::exit(
                        2,
                        format!("unknown format '{f}'; use markdown or json"),
                    ))
                }
            };
            match output {
                Some(p) => {
                    let p = ctx.resolve_path(&p);
                    notes::atomic_write(&p, text.as_bytes())?;
                    eprintln!("wrote {} ({} steps)", p.display(), art.steps.len());
                }
                None => {
                    let mut w = std::io::stdout().lock();
                    w.write_all(text.as_bytes())?;
                }
            }
            Ok(())
        }
    }
}
