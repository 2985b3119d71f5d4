//! `graph calls|implements|packages`: builds a [`Diagram`] from call-graph, implementation or
//! import queries and writes it as DOT, Mermaid or JSON (optionally rendered by Graphviz).

use super::calls::FilterArgs;
use super::{exit, qerr, Ctx};
use crate::analysis::Index;
use crate::graph::query::{self, CallGraph, Sub};
use crate::render::dot::{self, DEdge, Diagram, EdgeStyle, Node, NodeKind};
use crate::render::{self, mermaid};
use crate::store::{self, Kind, Via};
use anyhow::Result;
use serde::Serialize;
use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct GraphArgs {
    #[command(subcommand)]
    pub cmd: GraphCmd,
}

#[derive(clap::Subcommand, Debug)]
pub enum GraphCmd {
    /// The call graph under a function (or the paths to --to).
    Calls(CallsArgs),
    /// An interface, its implementations and the interfaces extending it.
    Implements(ImplementsArgs),
    /// Import dependencies between packages under a prefix.
    Packages(PackagesArgs),
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Dot,
    Mermaid,
    Json,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupBy {
    Package,
    File,
    None,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Collapse {
    Package,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum RenderTo {
    Svg,
    Png,
}

/// Output options shared by every diagram.
#[derive(clap::Args, Debug)]
pub struct OutArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Dot)]
    pub format: Format,
    /// Most nodes drawn; the rest is cut and the cut stated.
    #[arg(long, default_value_t = 150)]
    pub max_nodes: usize,
    /// Link nodes to a code host: URL prefix followed by `/<file>#L<line>`
    /// (e.g. https://github.com/golang/go/blob/go1.19/src).
    #[arg(long, value_name = "URL")]
    pub link_base: Option<String>,
    /// Render with Graphviz (`dot`, or --engine) into an image; needs -o.
    #[arg(long, value_enum)]
    pub render: Option<RenderTo>,
    /// Graphviz layout engine for --render (`sfdp` is much faster past a few hundred nodes).
    #[arg(long, default_value = "dot")]
    pub engine: String,
    /// Write to FILE instead of stdout.
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
pub struct CallsArgs {
    /// Start function.
    pub name: String,
    /// Levels of calls below NAME.
    #[arg(long, default_value_t = 2)]
    pub depth: usize,
    /// Draw only the call paths from NAME to this function.
    #[arg(long, value_name = "NAME")]
    pub to: Option<String>,
    /// Most paths drawn with --to.
    #[arg(long, default_value_t = 10)]
    pub max_paths: usize,
    /// Longest path with --to, in calls.
    #[arg(long, default_value_t = 12)]
    pub max_depth: usize,
    /// Draw callers above NAME instead of callees below it.
    #[arg(long)]
    pub callers: bool,
    /// Clusters.
    #[arg(long, value_enum, default_value_t = GroupBy::Package)]
    pub group_by: GroupBy,
    /// One node per package.
    #[arg(long, value_enum)]
    pub collapse: Option<Collapse>,
    #[command(flatten)]
    pub filter: FilterArgs,
    #[command(flatten)]
    pub out: OutArgs,
}

#[derive(clap::Args, Debug)]
pub struct ImplementsArgs {
    /// An interface (`io.Reader`, `cache.Store`).
    pub name: String,
    /// Clusters.
    #[arg(long, value_enum, default_value_t = GroupBy::Package)]
    pub group_by: GroupBy,
    #[command(flatten)]
    pub filter: FilterArgs,
    #[command(flatten)]
    pub out: OutArgs,
}

#[derive(clap::Args, Debug)]
pub struct PackagesArgs {
    /// Import path prefix (`k8s.io/client-go/tools/...`); empty for all packages.
    #[arg(default_value = "")]
    pub prefix: String,
    /// Merge sub-packages: keep this many path elements below the prefix.
    #[arg(long, value_name = "N")]
    pub collapse_depth: Option<usize>,
    /// Include packages outside the checkout (standard library) that are imported.
    #[arg(long)]
    pub external: bool,
    /// Drop imports implied by a longer chain (transitive reduction, as Graphviz's `tred`):
    /// A→C goes when A→B→C exists. Reachability is unchanged; the diagram gets readable.
    #[arg(long)]
    pub reduce: bool,
    #[command(flatten)]
    pub out: OutArgs,
}

pub fn run(ctx: &Ctx, a: GraphArgs) -> Result<()> {
    match a.cmd {
        GraphCmd::Calls(c) => calls(ctx, c),
        GraphCmd::Implements(i) => implements(ctx, i),
        GraphCmd::Packages(p) => packages(ctx, p),
    }
}

fn url_for(ix: &Index, id: u32, base: &Option<String>) -> Option<String> {
    let base = base.as_ref()?;
    let f = ix.file_of(id)?;
    if f.flags & store::F_EXTERNAL != 0 || f.rel().starts_with('$') {
        return None;
    }
    Some(format!(
        "{}/{}#L{}",
        base.trim_end_matches('/'),
        f.rel(),
        ix.sym(id).line
    ))
}

/// Groups: cluster index per key, in first-seen order.
struct Groups {
    names: Vec<String>,
    idx: HashMap<String, usize>,
}

impl Groups {
    fn new() -> Groups {
        Groups {
            names: Vec::new(),
            idx: HashMap::new(),
        }
    }
    fn get(&mut self, key: &str) -> usize {
        if let Some(&i) = self.idx.get(key) {
            return i;
        }
        self.names.push(key.to_string());
        self.idx.insert(key.to_string(), self.names.len() - 1);
        self.names.len() - 1
    }
}

fn sym_node(ix: &Index, id: u32, group_by: GroupBy, groups: &mut Groups, o: &OutArgs) -> Node {
    let s = ix.sym(id);
    let (label, group) = match group_by {
        GroupBy::Package => (
            render::short_name(ix, id),
            Some(groups.get(ix.pkg_path(id))),
        ),
        GroupBy::File => match ix.file_of(id) {
            Some(f) => (render::short_name(ix, id), Some(groups.get(f.rel()))),
            None => (s.qname().to_string(), None),
        },
        GroupBy::None => (s.qname().to_string(), None),
    };
    let kind = if ix.is_external(id) {
        NodeKind::External
    } else {
        match s.kind {
            Kind::IfaceMethod => NodeKind::IfaceMethod,
            Kind::Interface => NodeKind::Interface,
            k if k.is_type() => NodeKind::Type,
            _ => NodeKind::Func,
        }
    };
    Node {
        label,
        name: s.qname().to_string(),
        group,
        kind,
        location: if ix.file_of(id).is_some() {
            ix.location(id)
        } else {
            String::new()
        },
        url: url_for(ix, id, &o.link_base),
    }
}

fn edge_style(e: &store::Edge) -> (EdgeStyle, String) {
    if e.flags & store::E_GO != 0 {
        return (EdgeStyle::Go, "go".into());
    }
    if e.flags & store::E_DEFER != 0 {
        return (EdgeStyle::Defer, "defer".into());
    }
    match e.via {
        Via::Static => (EdgeStyle::Static, String::new()),
        Via::Interface => (EdgeStyle::Interface, String::new()),
        Via::Dispatch => (EdgeStyle::Dispatch, String::new()),
        Via::FuncValue => (EdgeStyle::FuncValue, "func value".into()),
    }
}

fn calls(ctx: &Ctx, a: CallsArgs) -> Result<()> {
    let mut o = a.filter.opts(ctx)?;
    o.max_paths = a.max_paths;
    o.max_depth = a.max_depth;
    let ix = ctx.open().map_err(qerr)?;
    let from = ix.resolve(&a.name, ctx.first).map_err(qerr)?;
    if !ix.sym(from).kind.is_func() {
        return Err(exit(
            1,
            format!(
                "{} is a {}, not a function or method",
                ix.sym(from).qname(),
                ix.sym(from).kind.as_str()
            ),
        ));
    }
    let cg = CallGraph;
    let (sub, to, title) = match &a.to {
        Some(t) => {
            let to = ix.resolve(t, ctx.first).map_err(qerr)?;
            let paths = cg.paths(&ix, from, to, &o);
            if paths.is_empty() {
                return Err(exit(
                    1,
                    format!(
                        "--to {}: no call path from {} within {} calls; see `codewalk trace '{}' '{}'` for how far each side gets",
                        ix.sym(to).qname(),
                        ix.sym(from).qname(),
                        o.max_depth,
                        ix.sym(from).qname(),
                        ix.sym(to).qname()
                    ),
                ));
            }
            let mut sub = Sub::from_paths(&paths);
            if sub.nodes.len() > a.out.max_nodes {
                sub.cut = sub.nodes.len() - a.out.max_nodes;
                sub.nodes.truncate(a.out.max_nodes);
            }
            let title = format!(
                "call paths from {} to {}",
                ix.sym(from).qname(),
                ix.sym(to).qname()
            );
            (sub, Some(to), title)
        }
        None => {
            let sub = cg.neighbourhood(&ix, from, a.depth, &o, a.out.max_nodes, a.callers);
            let title = format!(
                "{} of {} (depth {})",
                if a.callers { "callers" } else { "calls" },
                ix.sym(from).qname(),
                a.depth
            );
            (sub, None, title)
        }
    };
    let mut d = Diagram {
        title,
        ..Default::default()
    };
    let mut groups = Groups::new();
    if a.collapse == Some(Collapse::Package) {
        // One node per package; edges aggregated with a count.
        let mut node_of: HashMap<u32, usize> = HashMap::new();
        let mut pkg_node: HashMap<String, usize> = HashMap::new();
        for &id in &sub.nodes {
            let p = ix.pkg_path(id).to_string();
            let n = *pkg_node.entry(p.clone()).or_insert_with(|| {
                d.nodes.push(Node {
                    label: p.clone(),
                    name: p.clone(),
                    group: None,
                    kind: if ix.is_external(id) {
                        NodeKind::External
                    } else {
                        NodeKind::Package
                    },
                    location: String::new(),
                    url: None,
                });
                d.nodes.len() - 1
            });
            if id == from || Some(id) == to {
                d.nodes[n].kind = NodeKind::Root;
            }
            node_of.insert(id, n);
        }
        let mut agg: Vec<((usize, usize), usize)> = Vec::new();
        let mut at: HashMap<(usize, usize), usize> = HashMap::new();
        for e in &sub.edges {
            let (Some(&x), Some(&y)) = (node_of.get(&e.caller), node_of.get(&e.callee)) else {
                continue;
            };
            if x == y {
                continue;
            }
            match at.get(&(x, y)) {
                Some(&k) => agg[k].1 += 1,
                None => {
                    at.insert((x, y), agg.len());
                    agg.push(((x, y), 1));
                }
            }
        }
        for ((x, y), n) in agg {
            d.edges.push(DEdge {
                from: x,
                to: y,
                style: EdgeStyle::Static,
                label: if n > 1 { n.to_string() } else { String::new() },
                tooltip: format!("{n} call edges"),
            });
        }
    } else {
        let mut node_of: HashMap<u32, usize> = HashMap::new();
        for &id in &sub.nodes {
            let mut n = sym_node(&ix, id, a.group_by, &mut groups, &a.out);
            if id == from {
                n.kind = NodeKind::Root;
            } else if Some(id) == to {
                n.kind = NodeKind::Target;
            }
            node_of.insert(id, d.nodes.len());
            d.nodes.push(n);
        }
        for e in &sub.edges {
            let (Some(&x), Some(&y)) = (node_of.get(&e.caller), node_of.get(&e.callee)) else {
                continue;
            };
            let (style, label) = edge_style(e);
            let tooltip = if e.file == store::NONE {
                e.via.as_str().to_string()
            } else {
                format!("{} {}:{}", e.via.as_str(), ix.file_rel(e.file), e.line)
            };
            d.edges.push(DEdge {
                from: x,
                to: y,
                style,
                label,
                tooltip,
            });
        }
    }
    d.groups = groups.names;
    // Edges in node order (the node order is breadth first from the root).
    d.edges.sort_by_key(|e| (e.from, e.to));
    if sub.cut > 0 {
        d.note = Some(format!(
            "{} more functions not shown (--max-nodes {})",
            sub.cut, a.out.max_nodes
        ));
        eprintln!(
            "note: diagram cut at {} nodes: {} more functions were reached; raise --max-nodes, or narrow with --depth, --focus, --exclude, --no-std or --collapse package",
            a.out.max_nodes, sub.cut
        );
    }
    emit(ctx, &d, &a.out)
}

fn implements(ctx: &Ctx, a: ImplementsArgs) -> Result<()> {
    let o = a.filter.opts(ctx)?;
    let ix = ctx.open().map_err(qerr)?;
    let id = ix.resolve(&a.name, ctx.first).map_err(qerr)?;
    if ix.sym(id).kind != Kind::Interface {
        return Err(exit(
            1,
            format!(
                "{} is a {}, not an interface ({})",
                ix.sym(id).qname(),
                ix.sym(id).kind.as_str(),
                ix.location(id)
            ),
        ));
    }
    let keep = |t: u32| {
        let s = ix.sym(t);
        !(o.no_tests && ix.is_test(t)
            || o.no_vendor && ix.is_vendor(t)
            || o.no_std && ix.is_external(t)
            || o.exclude.as_ref().is_some_and(|r| r.is_match(s.qname()))
            || o.focus
                .as_ref()
                .is_some_and(|f| !query::under(ix.pkg_path(t), f)))
    };
    let by_name = |a: &(u32, bool), b: &(u32, bool)| {
        (ix.pkg_path(a.0), ix.sym(a.0).qname()).cmp(&(ix.pkg_path(b.0), ix.sym(b.0).qname()))
    };
    let mut impls: Vec<(u32, bool)> = ix
        .implementations(id)
        .into_iter()
        .filter(|&(t, _)| keep(t))
        .collect();
    impls.sort_by(by_name);
    let mut ext: Vec<(u32, bool)> = ix
        .extending_interfaces(id)
        .into_iter()
        .filter(|&t| t != id && keep(t))
        .map(|t| (t, false))
        .collect();
    ext.sort_by(by_name);
    let mut d = Diagram {
        title: format!("implementations of {}", ix.sym(id).qname()),
        ..Default::default()
    };
    let mut groups = Groups::new();
    let mut root = sym_node(&ix, id, a.group_by, &mut groups, &a.out);
    root.kind = NodeKind::Root;
    d.nodes.push(root);
    let total = impls.len() + ext.len();
    let room = a.out.max_nodes.saturating_sub(1);
    let mut cut = 0;
    for (k, &(t, ptr)) in impls.iter().chain(ext.iter()).enumerate() {
        if d.nodes.len() > room {
            cut = total - k;
            break;
        }
        let mut n = sym_node(&ix, t, a.group_by, &mut groups, &a.out);
        if ptr {
            n.label = format!("*{}", n.label);
        }
        d.nodes.push(n);
        let is_ext = k >= impls.len();
        d.edges.push(DEdge {
            from: d.nodes.len() - 1,
            to: 0,
            style: if is_ext {
                EdgeStyle::Extends
            } else if ptr {
                EdgeStyle::ImplementsPtr
            } else {
                EdgeStyle::Implements
            },
            label: if ptr { "*T".into() } else { String::new() },
            tooltip: if is_ext {
                "extends".into()
            } else if ptr {
                "only the pointer type implements it".into()
            } else {
                "implements".into()
            },
        });
    }
    d.groups = groups.names;
    if cut > 0 {
        d.note = Some(format!(
            "{cut} more types not shown (--max-nodes {})",
            a.out.max_nodes
        ));
        eprintln!(
            "note: diagram cut at {} nodes: {cut} more types; raise --max-nodes or narrow with --focus, --exclude, --no-tests",
            a.out.max_nodes
        );
    }
    if total == 0 {
        eprintln!(
            "no implementations of {} with the filters given",
            ix.sym(id).qname()
        );
    }
    emit(ctx, &d, &a.out)
}

fn packages(ctx: &Ctx, a: PackagesArgs) -> Result<()> {
    let ix = ctx.open().map_err(qerr)?;
    let prefix = a.prefix.trim_end_matches("...").trim_end_matches('/');
    let pre_elems = if prefix.is_empty() {
        0
    } else {
        prefix.split('/').count()
    };
    let key = |path: &str| -> String {
        match a.collapse_depth {
            Some(n) => path
                .split('/')
                .take(pre_elems + n)
                .collect::<Vec<_>>()
                .join("/"),
            None => path.to_string(),
        }
    };
    let f = &ctx.filter;
    let selected = |p: &store::PkgView| {
        query::under(p.path(), prefix)
            && !(f.no_tests && p.flags & store::F_TEST != 0)
            && !(f.no_vendor && p.flags & store::F_VENDOR != 0)
            && (a.external || p.flags & store::F_EXTERNAL == 0)
    };
    let mut pkgs: Vec<store::PkgView> = ix.pkgs().map(|(_, p)| p).filter(selected).collect();
    pkgs.sort_by(|x, y| x.path().cmp(y.path()));
    if pkgs.is_empty() {
        return Err(exit(
            1,
            format!(
                "no packages under '{}'; list them with `codewalk packages`",
                a.prefix
            ),
        ));
    }
    let known: HashMap<&str, store::PkgView> = ix.pkgs().map(|(_, p)| (p.path(), p)).collect();
    let mut d = Diagram {
        title: if prefix.is_empty() {
            "package imports".to_string()
        } else {
            format!("package imports under {prefix}")
        },
        ..Default::default()
    };
    let mut node_of: HashMap<String, usize> = HashMap::new();
    let mut cut: std::collections::BTreeSet<String> = Default::default();
    let mut add = |d: &mut Diagram, k: String, external: bool| -> Option<usize> {
        if let Some(&n) = node_of.get(&k) {
            return Some(n);
        }
        if d.nodes.len() >= a.out.max_nodes {
            cut.insert(k);
            return None;
        }
        d.nodes.push(Node {
            label: k.clone(),
            name: k.clone(),
            group: None,
            kind: if external {
                NodeKind::External
            } else {
                NodeKind::Package
            },
            location: String::new(),
            url: None,
        });
        node_of.insert(k, d.nodes.len() - 1);
        Some(d.nodes.len() - 1)
    };
    for p in &pkgs {
        add(&mut d, key(p.path()), false);
    }
    let mut edges: Vec<(usize, usize)> = Vec::new();
    for p in &pkgs {
        let Some(from) = add(&mut d, key(p.path()), false) else {
            continue;
        };
        for imp in p.imports() {
            let Some(q) = known.get(imp) else {
                continue;
            };
            let inside = selected(q);
            let is_ext = q.flags & store::F_EXTERNAL != 0;
            if !(inside || a.external && is_ext) {
                continue;
            }
            let Some(to) = add(&mut d, key(imp), is_ext) else {
                continue;
            };
            if from != to {
                edges.push((from, to));
            }
        }
    }
    edges.sort();
    edges.dedup();
    let mut implied = 0;
    if a.reduce {
        match transitive_reduction(d.nodes.len(), &edges) {
            Some(kept) => {
                implied = edges.len() - kept.len();
                edges = kept;
            }
            None => eprintln!(
                "note: --reduce skipped: the merged packages import each other in a cycle (try a larger --collapse-depth)"
            ),
        }
    }
    for (x, y) in edges {
        d.edges.push(DEdge {
            from: x,
            to: y,
            style: EdgeStyle::Imports,
            label: String::new(),
            tooltip: "imports".into(),
        });
    }
    if implied > 0 {
        d.note = Some(format!(
            "{implied} imports implied by longer chains not drawn (--reduce)"
        ));
    }
    if !cut.is_empty() {
        d.note = Some(format!(
            "{} more packages not shown (--max-nodes {})",
            cut.len(),
            a.out.max_nodes
        ));
        eprintln!(
            "note: diagram cut at {} nodes: {} more packages; raise --max-nodes, use a longer prefix or --collapse-depth N",
            a.out.max_nodes,
            cut.len()
        );
    }
    emit(ctx, &d, &a.out)
}

#[derive(Serialize)]
struct JsonNode<'a> {
    id: String,
    label: &'a str,
    name: &'a str,
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    group: Option<&'a str>,
    #[serde(skip_serializing_if = "str::is_empty")]
    location: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<&'a str>,
}

#[derive(Serialize)]
struct JsonEdge<'a> {
    from: String,
    to: String,
    style: &'static str,
    #[serde(skip_serializing_if = "str::is_empty")]
    label: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    detail: &'a str,
}

fn json_value(d: &Diagram) -> serde_json::Value {
    let nodes: Vec<JsonNode> = d
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| JsonNode {
            id: format!("n{i}"),
            label: &n.label,
            name: &n.name,
            kind: n.kind.as_str(),
            group: n.group.map(|g| d.groups[g].as_str()),
            location: &n.location,
            url: n.url.as_deref(),
        })
        .collect();
    let edges: Vec<JsonEdge> = d
        .edges
        .iter()
        .map(|e| JsonEdge {
            from: format!("n{}", e.from),
            to: format!("n{}", e.to),
            style: e.style.as_str(),
            label: &e.label,
            detail: &e.tooltip,
        })
        .collect();
    serde_json::json!({
        "title": d.title,
        "note": d.note,
        "nodes": nodes,
        "edges": edges,
    })
}

/// Writes the diagram in the chosen format to stdout or -o, or renders it with Graphviz.
fn emit(ctx: &Ctx, d: &Diagram, o: &OutArgs) -> Result<()> {
    let format = if ctx.json { Format::Json } else { o.format };
    if let Some(r) = o.render {
        let Some(out) = &o.output else {
            return Err(exit(
                2,
                "--render needs -o FILE (the image is written there)",
            ));
        };
        if format == Format::Mermaid {
            return Err(exit(
                2,
                "--render uses Graphviz and draws DOT; drop --format mermaid (Mermaid renders in the browser, or with `mmdc` from @mermaid-js/mermaid-cli)",
            ));
        }
        let out = ctx.resolve_path(out);
        return render_graphviz(&dot::write(d), r, &o.engine, d.nodes.len(), &out);
    }
    let text = match format {
        Format::Dot => dot::write(d),
        Format::Mermaid => mermaid::write(d),
        Format::Json => {
            let mut s = serde_json::to_string(&json_value(d))?;
            s.push('\n');
            s
        }
    };
    match &o.output {
        Some(p) => {
            let p = ctx.resolve_path(p);
            std::fs::write(&p, text)
                .map_err(|e| exit(1, format!("cannot write {}: {e}", p.display())))?;
        }
        None => std::io::stdout().lock().write_all(text.as_bytes())?,
    }
    Ok(())
}

fn render_graphviz(
    dot_text: &str,
    r: RenderTo,
    engine: &str,
    nodes: usize,
    out: &std::path::Path,
) -> Result<()> {
    use std::process::{Command, Stdio};
    let fmt = match r {
        RenderTo::Svg => "svg",
        RenderTo::Png => "png",
    };
    let mut cmd = Command::new(engine);
    cmd.arg(format!("-T{fmt}"));
    if engine == "dot" && nodes > 250 {
        // dot's network simplex and crossing minimisation take minutes on big graphs.
        cmd.args(["-Gnslimit=2", "-Gmclimit=0.5"]);
    }
    let child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(exit(
                1,
                format!(
                    "--render needs Graphviz, and `{engine}` is not on PATH; install it (Debian/Ubuntu: `sudo apt install graphviz`, macOS: `brew install graphviz`), or write DOT with `--format dot -o graph.dot` and render it elsewhere"
                ),
            ))
        }
        Err(e) => return Err(exit(1, format!("cannot run {engine}: {e}"))),
    };
    {
        let mut stdin = child.stdin.take().expect("piped stdin");
        let text = dot_text.to_string();
        // Write on a thread so a large output cannot deadlock against a full stdout pipe.
        let h = std::thread::spawn(move || stdin.write_all(text.as_bytes()));
        let res = child.wait_with_output()?;
        let _ = h.join();
        if !res.status.success() || res.stdout.is_empty() {
            return Err(exit(
                1,
                format!(
                    "{engine} -T{fmt} failed ({}): {}",
                    res.status,
                    String::from_utf8_lossy(&res.stderr).trim()
                ),
            ));
        }
        std::fs::write(out, &res.stdout)
            .map_err(|e| exit(1, format!("cannot write {}: {e}", out.display())))?;
    }
    if nodes > 250 && engine == "dot" {
        eprintln!("note: {nodes} nodes; for large graphs `--engine sfdp` lays out much faster");
    }
    Ok(())
}

/// The edges of the transitive reduction of a DAG on nodes `0..n` (petgraph's `tred`), in
/// the input order; None when the graph has a cycle.
fn transitive_reduction(n: usize, edges: &[(usize, usize)]) -> Option<Vec<(usize, usize)>> {
    use petgraph::algo::tred;
    use petgraph::graph::{DiGraph, NodeIndex};
    use petgraph::visit::IntoNeighbors;
    let mut g = DiGraph::<(), (), u32>::with_capacity(n, edges.len());
    for _ in 0..n {
        g.add_node(());
    }
    for &(x, y) in edges {
        g.add_edge(NodeIndex::new(x), NodeIndex::new(y), ());
    }
    let order = petgraph::algo::toposort(&g, None).ok()?;
    let (list, revmap) = tred::dag_to_toposorted_adjacency_list::<_, u32>(&g, &order);
    let (reduced, _closure) = tred::dag_transitive_reduction_closure(&list);
    let keep: std::collections::HashSet<(u32, u32)> = reduced
        .node_indices()
        .flat_map(|i| (&reduced).neighbors(i).map(move |j| (i, j)))
        .collect();
    Some(
        edges
            .iter()
            .copied()
            .filter(|&(x, y)| keep.contains(&(revmap[x], revmap[y])))
            .collect(),
    )
}
