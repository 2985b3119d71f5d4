//! `callers`, `callees`, `trace`: call-graph queries (see `graph::query`), printed one hop per
//! line — the function, `via` (plus `go`/`defer`), and the call site `file:line`.

use super::{exit, qerr, Ctx};
use crate::analysis::Index;
use crate::graph::query::{self, CallGraph, Opts, Tree};
use crate::notes::Attached;
use crate::render;
use crate::store::{self, Edge, Via, NONE};
use anyhow::Result;
use serde::Serialize;
use std::io::Write;

/// Filters shared by the call-graph commands.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct FilterArgs {
    /// Leave out the standard library and packages outside the checkout (std-like paths
    /// without a dot in their first element, except the named functions' own).
    #[arg(long)]
    pub no_std: bool,
    /// Stay within packages under this import-path prefix (`k8s.io/client-go/tools/...`).
    #[arg(long, value_name = "PKGPREFIX")]
    pub focus: Option<String>,
    /// Do not follow dispatch edges (interface method → implementations).
    #[arg(long)]
    pub no_dispatch: bool,
    /// Leave out functions whose qualified name matches this regex.
    #[arg(long, value_name = "REGEX")]
    pub exclude: Option<String>,
}

impl FilterArgs {
    pub fn opts(&self, ctx: &Ctx) -> Result<Opts> {
        let exclude = match &self.exclude {
            Some(r) => Some(
                regex::Regex::new(r)
                    .map_err(|e| exit(2, format!("--exclude: invalid regex: {e}")))?,
            ),
            None => None,
        };
        Ok(Opts {
            no_std: self.no_std,
            no_tests: ctx.filter.no_tests,
            no_vendor: ctx.filter.no_vendor,
            focus: self.focus.clone(),
            no_dispatch: self.no_dispatch,
            exclude,
            ..Default::default()
        })
    }
}

#[derive(clap::Args, Debug)]
pub struct CallersArgs {
    /// Function or method name (qualified, `(*net/http.Server).Serve`, or short).
    pub name: String,
    /// Levels of callers to show.
    #[arg(long, default_value_t = 1)]
    pub depth: usize,
    #[command(flatten)]
    pub filter: FilterArgs,
}

#[derive(clap::Args, Debug)]
pub struct CalleesArgs {
    /// Function or method name (qualified, `(*net/http.Server).Serve`, or short).
    pub name: String,
    /// Levels of callees to show.
    #[arg(long, default_value_t = 1)]
    pub depth: usize,
    /// Also list calls that could not be resolved (`dynamic`: func values with unknown target).
    #[arg(long)]
    pub unresolved: bool,
    #[command(flatten)]
    pub filter: FilterArgs,
}

#[derive(clap::Args, Debug)]
pub struct TraceArgs {
    /// Start function.
    pub from: String,
    /// Target function (omit for the call tree under FROM).
    pub to: Option<String>,
    /// Levels of the call tree (without TO).
    #[arg(long, default_value_t = 3)]
    pub depth: usize,
    /// Most paths to show (with TO), shortest first.
    #[arg(long, default_value_t = 10)]
    pub max_paths: usize,
    /// Longest path in calls (with TO).
    #[arg(long, default_value_t = 12)]
    pub max_depth: usize,
    /// Also list calls that could not be resolved (`dynamic`: func values with unknown target).
    #[arg(long)]
    pub unresolved: bool,
    #[command(flatten)]
    pub filter: FilterArgs,
}

/// A call edge on the wire.
#[derive(Serialize)]
struct EdgeOut<'a> {
    caller: &'a str,
    callee: &'a str,
    /// Call site; empty for dispatch edges (interface method → implementation).
    file: &'a str,
    line: u32,
    col: u32,
    via: &'static str,
    go: bool,
    defer: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    depth: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sites: Option<usize>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    repeated: bool,
}

fn edge_out<'a>(ix: &'a Index, e: &Edge) -> EdgeOut<'a> {
    EdgeOut {
        caller: ix.sym(e.caller).qname(),
        callee: ix.sym(e.callee).qname(),
        file: site_file(ix, e),
        line: e.line,
        col: e.col,
        via: e.via.as_str(),
        go: e.flags & store::E_GO != 0,
        defer: e.flags & store::E_DEFER != 0,
        depth: None,
        sites: None,
        repeated: false,
    }
}

#[derive(Serialize)]
struct UnresolvedOut<'a> {
    caller: &'a str,
    name: &'a str,
    reason: &'a str,
    file: &'a str,
    line: u32,
    col: u32,
}

fn unresolved_out<'a>(ix: &'a Index, u: &store::UnresolvedView<'a>) -> UnresolvedOut<'a> {
    UnresolvedOut {
        caller: ix.sym(u.caller).qname(),
        name: u.name,
        reason: u.reason,
        file: ix.file_rel(u.file),
        line: u.line,
        col: u.col,
    }
}

fn site_file<'a>(ix: &'a Index, e: &Edge) -> &'a str {
    ix.file_rel(e.file)
}

/// `static go  net/http/server.go:3072`, or for dispatch the implementation's declaration.
fn hop_text(ix: &Index, e: &Edge, callee_side: bool) -> String {
    let mut via = e.via.as_str().to_string();
    if e.flags & store::E_GO != 0 {
        via.push_str(" go");
    }
    if e.flags & store::E_DEFER != 0 {
        via.push_str(" defer");
    }
    let at = if e.file == NONE || e.via == Via::Dispatch {
        // Dispatch edges have no call site: show where the other end is declared.
        if callee_side {
            format!("(implementation at {})", ix.location(e.callee))
        } else {
            format!("(interface method at {})", ix.location(e.caller))
        }
    } else {
        format!("{}:{}", site_file(ix, e), e.line)
    };
    format!("{via}  {at}")
}

fn open(ctx: &Ctx, name: &str) -> Result<(Index, u32)> {
    let t = std::time::Instant::now();
    let ix = ctx.open().map_err(qerr)?;
    timing("open index", t);
    let id = ix.resolve(name, ctx.first).map_err(qerr)?;
    Ok((ix, id))
}

/// `CODEWALK_TIMING=1`: phase timings on stderr (for bench/ and performance work).
fn timing(what: &str, since: std::time::Instant) {
    if std::env::var_os("CODEWALK_TIMING").is_some() {
        eprintln!(
            "timing: {what}: {:.1} ms",
            since.elapsed().as_secs_f64() * 1e3
        );
    }
}

fn require_func(ix: &Index, id: u32) -> Result<()> {
    let s = ix.sym(id);
    if s.kind.is_func() {
        return Ok(());
    }
    Err(exit(
        1,
        format!(
            "{} is a {}, not a function or method ({})",
            s.qname(),
            s.kind.as_str(),
            ix.location(id)
        ),
    ))
}

pub fn callers(ctx: &Ctx, a: CallersArgs) -> Result<()> {
    let o = a.filter.opts(ctx)?;
    let (ix, id) = open(ctx, &a.name)?;
    require_func(&ix, id)?;
    let cg = CallGraph;
    if a.depth <= 1 {
        let t = std::time::Instant::now();
        let edges = cg.callers(&ix, id, &o);
        timing("query", t);
        let notes = ctx.notes(&ix);
        if ctx.json {
            let ids = std::iter::once(id).chain(edges.iter().map(|e| e.caller));
            return render::json(&with_notes(
                serde_json::json!({
                    "symbol": render::symbol(&ix, id),
                    "callers": edges.iter().map(|e| edge_out(&ix, e)).collect::<Vec<_>>(),
                }),
                notes_json(&notes, &ix, ids),
            ));
        }
        let mut w = std::io::stdout().lock();
        writeln!(w, "{}  {}", ix.sym(id).qname(), ix.location(id))?;
        note_lines(&mut w, &notes, &ix, id, "")?;
        let mut shown = std::collections::HashSet::new();
        for e in &edges {
            writeln!(
                w,
                "  {}  {}",
                ix.sym(e.caller).qname(),
                hop_text(&ix, e, false)
            )?;
            if shown.insert(e.caller) {
                note_lines(&mut w, &notes, &ix, e.caller, "  ")?;
            }
        }
        if edges.is_empty() {
            eprintln!(
                "no callers of {} in the index{}",
                ix.sym(id).qname(),
                filter_hint(&a.filter)
            );
        }
        return Ok(());
    }
    let t = cg.caller_tree(&ix, id, a.depth, &o);
    print_tree(ctx, &ix, &t, true, a.depth, None, "callers")
}

pub fn callees(ctx: &Ctx, a: CalleesArgs) -> Result<()> {
    let o = a.filter.opts(ctx)?;
    let (ix, id) = open(ctx, &a.name)?;
    require_func(&ix, id)?;
    let cg = CallGraph;
    if a.depth <= 1 {
        let t = std::time::Instant::now();
        let edges = cg.callees(&ix, id, &o);
        timing("query", t);
        let unres = if a.unresolved {
            ix.t().unresolved_of(id)
        } else {
            Vec::new()
        };
        let notes = ctx.notes(&ix);
        if ctx.json {
            let ids = std::iter::once(id).chain(edges.iter().map(|e| e.callee));
            return render::json(&with_notes(
                serde_json::json!({
                    "symbol": render::symbol(&ix, id),
                    "callees": edges.iter().map(|e| edge_out(&ix, e)).collect::<Vec<_>>(),
                    "unresolved": unres.iter().map(|u| unresolved_out(&ix, u)).collect::<Vec<_>>(),
                }),
                notes_json(&notes, &ix, ids),
            ));
        }
        let mut w = std::io::stdout().lock();
        writeln!(w, "{}  {}", ix.sym(id).qname(), ix.location(id))?;
        note_lines(&mut w, &notes, &ix, id, "")?;
        let mut shown = std::collections::HashSet::new();
        for e in &edges {
            writeln!(
                w,
                "  {}  {}",
                ix.sym(e.callee).qname(),
                hop_text(&ix, e, true)
            )?;
            if shown.insert(e.callee) {
                note_lines(&mut w, &notes, &ix, e.callee, "  ")?;
            }
        }
        for u in &unres {
            print_unresolved(&mut w, &ix, u, "  ")?;
        }
        if edges.is_empty() && unres.is_empty() {
            eprintln!(
                "{} calls nothing in the index{}",
                ix.sym(id).qname(),
                filter_hint(&a.filter)
            );
        }
        return Ok(());
    }
    let t = cg.tree(&ix, id, a.depth, &o);
    print_tree(
        ctx,
        &ix,
        &t,
        false,
        a.depth,
        a.unresolved.then_some(()),
        "callees",
    )
}

/// Notes on the symbols of an answer, for JSON: `{"qualified name": [notes]}`.
fn notes_json(
    notes: &Option<Attached>,
    ix: &Index,
    ids: impl IntoIterator<Item = u32>,
) -> serde_json::Map<String, serde_json::Value> {
    let mut out = serde_json::Map::new();
    if let Some(n) = notes {
        for id in ids {
            let v = n.json(ix, id);
            if !v.is_empty() {
                out.insert(ix.sym(id).qname().to_string(), serde_json::Value::Array(v));
            }
        }
    }
    out
}

/// The user's notes on `id`, one line each, under the line that shows it.
fn note_lines(
    w: &mut impl Write,
    notes: &Option<Attached>,
    ix: &Index,
    id: u32,
    indent: &str,
) -> std::io::Result<()> {
    match notes {
        Some(n) => n.write_lines(w, ix, id, &format!("{indent}  ")),
        None => Ok(()),
    }
}

/// Adds `"notes"` to a JSON answer when any of its symbols has one.
fn with_notes(
    mut v: serde_json::Value,
    notes: serde_json::Map<String, serde_json::Value>,
) -> serde_json::Value {
    if !notes.is_empty() {
        v["notes"] = serde_json::Value::Object(notes);
    }
    v
}

fn filter_hint(f: &FilterArgs) -> &'static str {
    if f.no_std || f.focus.is_some() || f.exclude.is_some() || f.no_dispatch {
        " (with the filters given)"
    } else {
        ""
    }
}

fn print_unresolved(
    w: &mut impl Write,
    ix: &Index,
    u: &store::UnresolvedView,
    indent: &str,
) -> Result<()> {
    let name = if u.name.is_empty() { "?" } else { u.name };
    writeln!(
        w,
        "{indent}? {name}  unresolved ({})  {}:{}",
        u.reason,
        ix.file_rel(u.file),
        u.line
    )?;
    Ok(())
}

/// Prints a call tree (or caller tree when `up`), or its JSON.
fn print_tree(
    ctx: &Ctx,
    ix: &Index,
    t: &Tree,
    up: bool,
    depth: usize,
    unresolved: Option<()>,
    key: &str,
) -> Result<()> {
    let root = t.nodes[0].id;
    let notes = ctx.notes(ix);
    if ctx.json {
        let mut edges = Vec::new();
        let mut unres = Vec::new();
        for n in &t.nodes {
            if let Some(e) = &n.edge {
                let mut eo = edge_out(ix, e);
                eo.depth = Some(n.depth);
                eo.sites = Some(n.sites);
                eo.repeated = n.repeat_of.is_some();
                edges.push(eo);
            }
            if unresolved.is_some() && n.repeat_of.is_none() && (n.depth < depth) {
                for u in ix.t().unresolved_of(n.id) {
                    unres.push(unresolved_out(ix, &u));
                }
            }
        }
        return render::json(&with_notes(
            serde_json::json!({
                "symbol": render::symbol(ix, root),
                "depth": depth,
                key: edges,
                "unresolved": unres,
                "cut": t.cut,
            }),
            notes_json(&notes, ix, t.nodes.iter().map(|n| n.id)),
        ));
    }
    // Print order (depth first) decides whether a repeat refers up or down.
    let mut order = vec![usize::MAX; t.nodes.len()];
    let mut stack = vec![0usize];
    let mut k = 0;
    while let Some(i) = stack.pop() {
        order[i] = k;
        k += 1;
        for &c in t.nodes[i].children.iter().rev() {
            stack.push(c);
        }
    }
    let mut w = std::io::stdout().lock();
    writeln!(w, "{}  {}", ix.sym(root).qname(), ix.location(root))?;
    note_lines(&mut w, &notes, ix, root, "")?;
    let mut stack: Vec<usize> = t.nodes[0].children.iter().rev().copied().collect();
    let more_word = if up { "caller" } else { "callee" };
    let r0 = &t.nodes[0];
    while let Some(i) = stack.pop() {
        let n = &t.nodes[i];
        let indent = "  ".repeat(n.depth);
        let e = n.edge.as_ref().expect("non-root tree node has an edge");
        let mut line = format!("{indent}{}  {}", ix.sym(n.id).qname(), hop_text(ix, e, !up));
        if n.sites > 1 {
            line.push_str(&format!("  ({} sites)", n.sites));
        }
        if let Some(at) = n.repeat_of {
            line.push_str(if order[at] < order[i] {
                "  (repeated: expanded above)"
            } else {
                "  (repeated: expanded below)"
            });
        }
        writeln!(w, "{line}")?;
        if n.repeat_of.is_none() {
            note_lines(&mut w, &notes, ix, n.id, &indent)?;
            if unresolved.is_some() && n.depth < depth {
                for u in ix.t().unresolved_of(n.id) {
                    print_unresolved(&mut w, ix, &u, &"  ".repeat(n.depth + 1))?;
                }
            }
            if n.more > 0 {
                let why = if n.depth >= depth {
                    format!("--depth {}", depth + 1)
                } else {
                    "a narrower filter (--focus, --no-std, --exclude)".to_string()
                };
                writeln!(
                    w,
                    "{indent}  … {} more {more_word}{} (see {why})",
                    n.more,
                    if n.more == 1 { "" } else { "s" }
                )?;
            }
        }
        for &c in n.children.iter().rev() {
            stack.push(c);
        }
    }
    if unresolved.is_some() {
        for u in ix.t().unresolved_of(root) {
            print_unresolved(&mut w, ix, &u, "  ")?;
        }
    }
    if r0.more > 0 {
        writeln!(
            w,
            "  … {} more {more_word}{} not shown",
            r0.more,
            if r0.more == 1 { "" } else { "s" }
        )?;
    }
    if t.cut > 0 {
        writeln!(
            w,
            "… tree cut at {} functions ({} more); use a smaller --depth or --focus",
            query::TREE_MAX_NODES,
            t.cut
        )?;
    }
    if t.nodes.len() == 1 {
        eprintln!("no {more_word}s of {}", ix.sym(root).qname());
    }
    Ok(())
}

pub fn trace(ctx: &Ctx, a: TraceArgs) -> Result<()> {
    let mut o = a.filter.opts(ctx)?;
    o.max_paths = a.max_paths;
    o.max_depth = a.max_depth;
    let (ix, from) = open(ctx, &a.from)?;
    require_func(&ix, from)?;
    let Some(to_name) = &a.to else {
        let cg = CallGraph;
        let t = cg.tree(&ix, from, a.depth, &o);
        return print_tree(
            ctx,
            &ix,
            &t,
            false,
            a.depth,
            a.unresolved.then_some(()),
            "edges",
        );
    };
    let to = ix.resolve(to_name, ctx.first).map_err(qerr)?;
    require_func(&ix, to)?;
    let cg = CallGraph;
    let t = std::time::Instant::now();
    let paths = cg.paths(&ix, from, to, &o);
    timing("query", t);
    let (fq, tq) = (ix.sym(from).qname(), ix.sym(to).qname());
    if !paths.is_empty() {
        let notes = ctx.notes(&ix);
        if ctx.json {
            let ps: Vec<_> = paths
                .iter()
                .map(|p| {
                    serde_json::json!({
                        "hops": p.len(),
                        "edges": p.iter().map(|e| edge_out(&ix, e)).collect::<Vec<_>>(),
                    })
                })
                .collect();
            let ids = std::iter::once(from).chain(paths.iter().flatten().map(|e| e.callee));
            return render::json(&with_notes(
                serde_json::json!({
                    "from": render::symbol(&ix, from),
                    "to": render::symbol(&ix, to),
                    "paths": ps,
                }),
                notes_json(&notes, &ix, ids),
            ));
        }
        let mut w = std::io::stdout().lock();
        let n = paths.len();
        writeln!(
            w,
            "{n} path{} from {fq} to {tq} (shortest first{})",
            if n == 1 { "" } else { "s" },
            if n >= o.max_paths {
                format!("; more may exist, see --max-paths {}", o.max_paths * 2)
            } else {
                String::new()
            }
        )?;
        for (i, p) in paths.iter().enumerate() {
            writeln!(
                w,
                "path {} ({} call{})",
                i + 1,
                p.len(),
                if p.len() == 1 { "" } else { "s" }
            )?;
            writeln!(w, "  0. {}  {}", fq, ix.location(from))?;
            note_lines(&mut w, &notes, &ix, from, "    ")?;
            for (k, e) in p.iter().enumerate() {
                writeln!(
                    w,
                    "  {}. {}  {}",
                    k + 1,
                    ix.sym(e.callee).qname(),
                    hop_text(&ix, e, true)
                )?;
                note_lines(&mut w, &notes, &ix, e.callee, "    ")?;
            }
        }
        return Ok(());
    }
    // No path: how far each side got.
    let miss = cg.miss(&ix, from, to, &o);
    let near_f = query::nearest(&ix, &miss.forward, to, 5);
    let near_b = query::nearest(&ix, &miss.backward, from, 5);
    let max_d = |v: &[(u32, usize)]| v.iter().map(|x| x.1).max().unwrap_or(0);
    let mut msg = format!(
        "no call path from {fq} to {tq} within {} calls{}\n",
        o.max_depth,
        filter_hint(&a.filter)
    );
    msg.push_str(&format!(
        "  from {fq}: {} functions reached, {} calls deep; nearest to the target:\n",
        miss.forward.len(),
        max_d(&miss.forward)
    ));
    for (id, d) in &near_f {
        msg.push_str(&format!(
            "    {}  (depth {d})  {}\n",
            ix.sym(*id).qname(),
            ix.location(*id)
        ));
    }
    msg.push_str(&format!(
        "  to {tq}: {} callers found, {} calls up; nearest to the start:\n",
        miss.backward.len(),
        max_d(&miss.backward)
    ));
    for (id, d) in &near_b {
        msg.push_str(&format!(
            "    {}  (depth {d})  {}\n",
            ix.sym(*id).qname(),
            ix.location(*id)
        ));
    }
    // Dynamic calls on the forward side may be the missing link.
    let reached: std::collections::HashSet<u32> = miss
        .forward
        .iter()
        .map(|x| x.0)
        .chain(std::iter::once(from))
        .collect();
    let mut reached: Vec<u32> = reached.into_iter().collect();
    reached.sort_unstable();
    let unres: Vec<store::UnresolvedView> = reached
        .iter()
        .flat_map(|&id| ix.t().unresolved_of(id))
        .collect();
    if !unres.is_empty() {
        let dynamic = unres.iter().filter(|u| u.reason == "dynamic").count();
        msg.push_str(&format!(
            "  {} unresolved calls on the way ({} dynamic){}",
            unres.len(),
            dynamic,
            if a.unresolved {
                ":\n"
            } else {
                "; list them with --unresolved\n"
            }
        ));
        if a.unresolved {
            let mut sorted = unres.clone();
            sorted
                .sort_by(|x, y| (ix.file_rel(x.file), x.line).cmp(&(ix.file_rel(y.file), y.line)));
            for u in sorted.iter().take(50) {
                msg.push_str(&format!(
                    "    ? {}  unresolved ({})  in {}  {}:{}\n",
                    if u.name.is_empty() { "?" } else { u.name },
                    u.reason,
                    ix.sym(u.caller).qname(),
                    ix.file_rel(u.file),
                    u.line
                ));
            }
        }
    }
    msg.push_str("  try a larger --max-depth, fewer filters, or --unresolved");
    if ctx.json {
        let side = |v: &[(u32, usize)]| {
            v.iter()
                .map(|&(id, d)| serde_json::json!({"name": ix.sym(id).qname(), "depth": d, "location": ix.location(id)}))
                .collect::<Vec<_>>()
        };
        render::json(&serde_json::json!({
            "from": render::symbol(&ix, from),
            "to": render::symbol(&ix, to),
            "paths": [],
            "reached_from": miss.forward.len(),
            "reaching_to": miss.backward.len(),
            "nearest_from": side(&near_f),
            "nearest_to": side(&near_b),
        }))?;
    }
    Err(exit(1, msg.trim_end().to_string()))
}
