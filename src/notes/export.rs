//! A trail as an article: each step's symbol located in the index, the call path linking it to
//! the previous step, a code excerpt, a link; then Markdown (with a Mermaid flowchart) or JSON.
//!
//! Paths between steps are shortest paths in the call graph ([`CallGraph::paths`], at most
//! [`MAX_HOPS`] calls, test code left out). When the index cannot say (symbol orphaned, no path), the link stored when the
//! step was added is used, marked as such.

use super::anchor::{self, Anchor};
use super::{Data, Note, Trail};
use crate::analysis::Index;
use crate::graph::query::{CallGraph, Opts};
use crate::store::{Edge, E_DEFER, E_GO, NONE};
use serde::Serialize;
use std::collections::HashMap;
use std::fmt::Write as _;

/// Longest call path searched between two consecutive steps.
pub const MAX_HOPS: usize = 8;
/// Lines of a declaration shown from its start before eliding.
const HEAD_LINES: usize = 8;

/// One call on a path.
#[derive(Debug, Clone, Serialize)]
pub struct Hop {
    pub from: String,
    pub to: String,
    pub via: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub site: Option<String>,
    /// `site` as a URL when exporting with a link base.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub site_url: Option<String>,
    #[serde(skip)]
    pub site_line: Option<u32>,
    /// Display name of `to` (inside its package).
    #[serde(skip)]
    pub to_short: String,
    #[serde(skip)]
    from_id: Option<u32>,
    #[serde(skip)]
    to_id: Option<u32>,
}

/// How a step is reached from the previous one.
#[derive(Debug, Clone, Serialize)]
pub struct LinkOut {
    /// `graph`: found in the current index; `stored`: recorded when the step was added.
    pub source: &'static str,
    pub calls: Vec<Hop>,
}

#[derive(Debug, Clone, Serialize)]
pub struct StepOut {
    pub n: usize,
    pub note_id: u64,
    pub symbol: String,
    pub kind: String,
    pub status: &'static str,
    pub file: String,
    pub line: u32,
    pub link: String,
    pub note: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_previous: Option<LinkOut>,
    /// A few lines of the declaration (see [`Excerpt`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub excerpt: Option<Excerpt>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub orphan_candidates: Vec<String>,
    #[serde(skip)]
    sym: Option<u32>,
    #[serde(skip)]
    short: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Excerpt {
    /// `[line number, text]`; line number 0 marks elided lines (`// …`). The line with the
    /// call leading to the next step ends in `// → step N`.
    pub lines: Vec<(u32, String)>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Article {
    pub codewalk_trail: u32,
    pub slug: String,
    pub title: String,
    pub question: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conclusion: Option<String>,
    pub root: String,
    pub steps: Vec<StepOut>,
    pub mermaid: String,
}

#[derive(Debug, Default, Clone)]
pub struct Options {
    /// URL prefix for links: `<base>/<file>#L<line>`.
    pub link_base: Option<String>,
}

/// Shortest call path from `a` to `b` (edges in order), at most [`MAX_HOPS`] calls, leaving
/// out test code; through [`CallGraph::paths`].
pub fn call_path(ix: &Index, cg: &CallGraph, a: u32, b: u32) -> Option<Vec<Edge>> {
    let o = Opts {
        no_tests: true,
        max_depth: MAX_HOPS,
        max_paths: 1,
        ..Default::default()
    };
    cg.paths(ix, a, b, &o).into_iter().next()
}

fn via_label(e: &Edge) -> String {
    let mut s = e.via.as_str().to_string();
    if e.flags & E_GO != 0 {
        s.push_str(", go");
    }
    if e.flags & E_DEFER != 0 {
        s.push_str(", defer");
    }
    s
}

fn hops(ix: &Index, path: &[Edge], opts: &Options) -> Vec<Hop> {
    path.iter()
        .map(|e| Hop {
            from: ix.sym(e.caller).qname().to_string(),
            to: ix.sym(e.callee).qname().to_string(),
            via: via_label(e),
            site: (e.file != NONE).then(|| format!("{}:{}", ix.file_rel(e.file), e.line)),
            site_url: (e.file != NONE && opts.link_base.is_some())
                .then(|| link_for(opts, ix.file_rel(e.file), e.line))
                .filter(|l| l.starts_with("http")),
            site_line: (e.file != NONE).then_some(e.line),
            to_short: crate::render::short_name(ix, e.callee),
            from_id: Some(e.caller),
            to_id: Some(e.callee),
        })
        .collect()
}

/// The stored link of a step, as found now: `(path, via)` in qualified names.
pub fn stored_link(ix: &Index, a: u32, b: u32) -> Option<super::StoredLink> {
    let cg = CallGraph;
    let p = call_path(ix, &cg, a, b)?;
    let mut path = vec![ix.sym(a).qname().to_string()];
    path.extend(p.iter().map(|e| ix.sym(e.callee).qname().to_string()));
    Some(super::StoredLink {
        path,
        via: p.iter().map(via_label).collect(),
    })
}

fn link_for(opts: &Options, file: &str, line: u32) -> String {
    match &opts.link_base {
        Some(base) if !file.starts_with('$') && !file.is_empty() => {
            format!("{}/{}#L{}", base.trim_end_matches('/'), file, line)
        }
        _ => format!("{file}:{line}"),
    }
}

/// A few lines of the declaration: its head, and the lines around `call_line` (the call that
/// leads to the next step) when that is further down, then the closing line.
fn excerpt(ix: &Index, id: u32, call_line: Option<u32>, next_step: usize) -> Option<Excerpt> {
    let src = ix.source(id).ok()?;
    let start = ix.sym(id).start_line;
    let all: Vec<(u32, String)> = src
        .lines()
        .enumerate()
        .map(|(i, l)| {
            let ln = start + i as u32;
            let mut l = l.trim_end().to_string();
            if Some(ln) == call_line {
                let _ = write!(l, " // → step {next_step}");
            }
            (ln, l)
        })
        .collect();
    let n = all.len();
    let mut keep = vec![false; n];
    for k in keep.iter_mut().take(HEAD_LINES) {
        *k = true;
    }
    if let Some(cl) = call_line {
        for (i, (ln, _)) in all.iter().enumerate() {
            if *ln + 2 >= cl && *ln <= cl + 2 {
                keep[i] = true;
            }
        }
    }
    if let Some(k) = keep.last_mut() {
        *k = true;
    }
    let mut lines = Vec::new();
    let mut gap = false;
    for (i, l) in all.into_iter().enumerate() {
        if keep[i] {
            if gap {
                lines.push((0, "\t// …".to_string()));
                gap = false;
            }
            lines.push(l);
        } else {
            gap = true;
        }
    }
    Some(Excerpt { lines })
}

/// Builds the article for a trail; `ix` is None when no index is available (steps then show
/// their last known locations and stored links only).
pub fn article(ix: Option<&Index>, data: &Data, trail: &Trail, opts: &Options) -> Article {
    let empty = Note {
        id: 0,
        symbol: String::new(),
        kind: String::new(),
        file: String::new(),
        line: 0,
        fingerprint: String::new(),
        signature: String::new(),
        text: String::new(),
        trail: None,
        created: 0,
        updated: 0,
    };
    let cg = ix.map(|_| CallGraph);
    let mut steps: Vec<StepOut> = Vec::new();
    for (i, st) in trail.steps.iter().enumerate() {
        let note = data.note(st.note).unwrap_or(&empty);
        let anchor = ix.map(|ix| anchor::locate(ix, note));
        let sym = anchor.as_ref().and_then(|a| a.id());
        let (file, line) = match (ix, sym) {
            (Some(ix), Some(id)) => (
                ix.file_of(id)
                    .map(|f| f.rel().to_string())
                    .unwrap_or_default(),
                ix.sym(id).line,
            ),
            _ => (note.file.clone(), note.line),
        };
        let short = match (ix, sym) {
            (Some(ix), Some(id)) => crate::render::short_name(ix, id),
            _ => anchor::short(&note.symbol).to_string(),
        };
        let status = match &anchor {
            Some(a) => a.status(),
            None if note.id == 0 => "missing",
            None => "unchecked",
        };
        let orphan_candidates = match (&anchor, ix) {
            (Some(Anchor::Orphaned { candidates }), Some(ix)) => candidates
                .iter()
                .map(|&c| ix.sym(c).qname().to_string())
                .collect(),
            _ => Vec::new(),
        };
        let prev_sym = if i > 0 { steps[i - 1].sym } else { None };
        let from_previous = if i == 0 {
            None
        } else {
            let found = match (ix, &cg, prev_sym, sym) {
                (Some(ix), Some(cg), Some(a), Some(b)) => {
                    call_path(ix, cg, a, b).map(|p| LinkOut {
                        source: "graph",
                        calls: hops(ix, &p, opts),
                    })
                }
                _ => None,
            };
            found.or_else(|| {
                st.link.as_ref().map(|l| LinkOut {
                    source: "stored",
                    calls: l
                        .path
                        .windows(2)
                        .zip(&l.via)
                        .map(|(w, v)| Hop {
                            from: w[0].clone(),
                            to: w[1].clone(),
                            via: v.clone(),
                            site: None,
                            site_url: None,
                            site_line: None,
                            to_short: w[1].rsplit('/').next().unwrap_or(&w[1]).to_string(),
                            from_id: None,
                            to_id: None,
                        })
                        .collect(),
                })
            })
        };
        steps.push(StepOut {
            n: i + 1,
            note_id: st.note,
            symbol: sym
                .and_then(|id| ix.map(|ix| ix.sym(id).qname().to_string()))
                .unwrap_or_else(|| note.symbol.clone()),
            kind: note.kind.clone(),
            status,
            link: link_for(opts, &file, line),
            file,
            line,
            note: note.text.clone(),
            from_previous,
            excerpt: None,
            orphan_candidates,
            sym,
            short,
        });
    }
    // Excerpts: the call leading on to the next step is shown when it is inside this one.
    if let Some(ix) = ix {
        for i in 0..steps.len() {
            let Some(id) = steps[i].sym else { continue };
            let call_line = steps
                .get(i + 1)
                .and_then(|s| s.from_previous.as_ref())
                .and_then(|l| l.calls.first())
                .filter(|h| h.from_id == Some(id))
                .and_then(|h| h.site_line);
            steps[i].excerpt = excerpt(ix, id, call_line, i + 2);
        }
    }
    let mermaid = mermaid(ix, &steps);
    Article {
        codewalk_trail: super::FORMAT_VERSION,
        slug: trail.slug.clone(),
        title: trail.title().to_string(),
        question: trail.question.clone(),
        conclusion: trail.conclusion.clone(),
        root: ix.map(|ix| ix.root().to_string()).unwrap_or_default(),
        steps,
        mermaid,
    }
}

/// An edge kind as shown in articles: plain static calls are unmarked.
fn shown_via(via: &str) -> &str {
    via.strip_prefix("static, ")
        .unwrap_or(if via == "static" { "" } else { via })
}

fn esc(s: &str) -> String {
    s.replace('"', "#quot;")
        .replace('<', "#lt;")
        .replace('>', "#gt;")
}

/// A Mermaid flowchart of the path: steps as numbered, highlighted nodes, intermediate calls as
/// plain nodes, edges labelled by kind when not a plain static call.
fn mermaid(ix: Option<&Index>, steps: &[StepOut]) -> String {
    let mut out = String::from("flowchart TD\n");
    let mut ids: HashMap<String, String> = HashMap::new();
    let mut decl = String::new();
    let mut edges = String::new();
    let mut node = |key: &str, label: String, step: bool, decl: &mut String| -> String {
        if let Some(id) = ids.get(key) {
            if step {
                // A step that was first seen as an intermediate call: restyle it.
                let _ = writeln!(decl, "  class {id} step");
            }
            return id.clone();
        }
        let id = format!("n{}", ids.len());
        let _ = writeln!(decl, "  {id}[\"{}\"]", esc(&label));
        if step {
            let _ = writeln!(decl, "  class {id} step");
        }
        ids.insert(key.to_string(), id.clone());
        id
    };
    let short_of = |q: &str, id: Option<u32>| -> String {
        match (ix, id) {
            (Some(ix), Some(id)) => crate::render::short_name(ix, id),
            _ => q.rsplit('/').next().unwrap_or(q).to_string(),
        }
    };
    let mut prev: Option<String> = None;
    for (k, s) in steps.iter().enumerate() {
        // Steps are one node each; the calls between two steps get their own nodes, so an
        // interface method crossed twice (`(Handler).ServeHTTP`) does not draw a false cycle.
        let prev_sym = k.checked_sub(1).map(|p| steps[p].symbol.as_str());
        let key = |q: &str| -> String {
            if q == s.symbol || Some(q) == prev_sym {
                q.to_string()
            } else {
                format!("{}:{q}", s.n)
            }
        };
        if let Some(l) = &s.from_previous {
            for h in &l.calls {
                let from = node(
                    &key(&h.from),
                    short_of(&h.from, h.from_id),
                    false,
                    &mut decl,
                );
                let to_is_step = h.to == s.symbol;
                let label = if to_is_step {
                    format!("{}. {}", s.n, s.short)
                } else {
                    short_of(&h.to, h.to_id)
                };
                let to = node(&key(&h.to), label, to_is_step, &mut decl);
                let via = shown_via(&h.via);
                let lab = if via.is_empty() {
                    String::new()
                } else {
                    format!("|{via}|")
                };
                let _ = writeln!(edges, "  {from} -->{lab} {to}");
            }
        }
        let me = node(&s.symbol, format!("{}. {}", s.n, s.short), true, &mut decl);
        let linked = s
            .from_previous
            .as_ref()
            .is_some_and(|l| !l.calls.is_empty());
        if let (Some(p), false) = (&prev, linked) {
            // No call path known: a dotted "then" edge keeps the reading order visible.
            let _ = writeln!(edges, "  {p} -.-> {me}");
        }
        prev = Some(me);
    }
    // Declarations may repeat a `class` line when a node is restyled; keep the first of each.
    let mut seen = std::collections::HashSet::new();
    for l in decl.lines() {
        if seen.insert(l.to_string()) {
            out.push_str(l);
            out.push('\n');
        }
    }
    out.push_str(&edges);
    out.push_str("  classDef step fill:#fff3bf,stroke:#e8a400,stroke-width:2px\n");
    out
}

/// The article as Markdown.
pub fn markdown(a: &Article) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# {}\n", a.title);
    if a.title != a.question {
        let _ = writeln!(s, "**Question:** {}\n", a.question);
    }
    let _ = writeln!(
        s,
        "A reading trail of {} step{}{}.\n",
        a.steps.len(),
        if a.steps.len() == 1 { "" } else { "s" },
        if a.root.is_empty() {
            String::new()
        } else {
            format!(" through `{}`", display_root(&a.root))
        }
    );
    let _ = writeln!(s, "## The path\n\n```mermaid\n{}```\n", a.mermaid);
    let _ = writeln!(s, "## Steps\n");
    for st in &a.steps {
        let _ = writeln!(s, "### {}. `{}`\n", st.n, st.short);
        let loc = format!("{}:{}", st.file, st.line);
        if st.link.starts_with("http") {
            let _ = write!(s, "[`{loc}`]({})", st.link);
        } else {
            let _ = write!(s, "`{loc}`");
        }
        let _ = write!(s, " · {} `{}`", st.kind, st.symbol);
        match st.status {
            "edited" => s.push_str(" · *edited since this note was written*"),
            "orphaned" => {
                s.push_str(" · **orphaned**: not in the index any more (last seen here)");
                if !st.orphan_candidates.is_empty() {
                    let _ = write!(s, "; renamed to `{}`?", st.orphan_candidates.join("`, `"));
                }
            }
            _ => {}
        }
        s.push_str("\n\n");
        if let Some(l) = &st.from_previous {
            if !l.calls.is_empty() {
                let chain: Vec<String> = l
                    .calls
                    .iter()
                    .map(|h| {
                        let mut x = format!("`{}`", h.to_short);
                        let via = shown_via(&h.via);
                        if !via.is_empty() {
                            let _ = write!(x, " ({via})");
                        }
                        match (&h.site, &h.site_url) {
                            (Some(site), Some(url)) => {
                                let _ = write!(x, " at [{site}]({url})");
                            }
                            (Some(site), None) => {
                                let _ = write!(x, " at {site}");
                            }
                            _ => {}
                        }
                        x
                    })
                    .collect();
                let _ = writeln!(
                    s,
                    "Reached from step {}: → {}{}\n",
                    st.n - 1,
                    chain.join(" → "),
                    if l.source == "stored" {
                        " (as recorded when the step was added)"
                    } else {
                        ""
                    }
                );
            }
        }
        if !st.note.is_empty() {
            for line in st.note.lines() {
                let _ = writeln!(s, "> {line}");
            }
            s.push('\n');
        }
        if let Some(ex) = &st.excerpt {
            s.push_str("```go\n");
            for (_, text) in &ex.lines {
                let _ = writeln!(s, "{text}");
            }
            s.push_str("```\n\n");
        }
    }
    if let Some(c) = &a.conclusion {
        let _ = writeln!(s, "## Conclusion\n\n{c}\n");
    }
    s.push_str("---\n*Exported by `codewalk trail export`.*\n");
    s
}

/// The root as shown in an article: no absolute home paths in published text.
/// (`/usr/share/go-1.19/src` → `go-1.19/src`, `/home/me/kubernetes` → `kubernetes`).
fn display_root(root: &str) -> String {
    let p = std::path::Path::new(root);
    let name = |p: &std::path::Path| p.file_name().map(|n| n.to_string_lossy().to_string());
    match (name(p), p.parent().and_then(name)) {
        (Some(n), Some(parent)) if n == "src" => format!("{parent}/{n}"),
        (Some(n), _) => n,
        _ => root.to_string(),
    }
}
