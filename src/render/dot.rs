//! Diagrams: the format-neutral [`Diagram`] model (nodes, clusters, styled edges) shared by the
//! DOT and Mermaid writers, and the Graphviz DOT writer.
//!
//! Every name and path goes through [`quote`], so Go names (`(*net/http.Server).Serve`,
//! `List[T]`, `"`-containing build paths) are always valid DOT. Node ids are generated
//! (`n0`, `n1`, …) in the diagram's node order, so output is byte-for-byte deterministic.
//! Must not know: the index, Go semantics (the caller builds the [`Diagram`]).

use std::fmt::Write;

/// A diagram ready to be written as DOT or Mermaid.
#[derive(Debug, Default, Clone)]
pub struct Diagram {
    pub title: String,
    /// Cluster labels (packages or files); [`Node::group`] indexes into it.
    pub groups: Vec<String>,
    pub nodes: Vec<Node>,
    pub edges: Vec<DEdge>,
    /// Shown under the title (e.g. how many nodes were cut).
    pub note: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Node {
    /// Short label (`(*Server).Serve`); the package is on the cluster.
    pub label: String,
    /// Full name for tooltips and JSON (`(*net/http.Server).Serve`).
    pub name: String,
    pub group: Option<usize>,
    pub kind: NodeKind,
    /// `file:line`, empty when unknown.
    pub location: String,
    pub url: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    /// A function of the checkout.
    Func,
    /// The function the diagram starts from.
    Root,
    /// The `--to` target.
    Target,
    /// An interface method (drawn dashed).
    IfaceMethod,
    /// Outside the checkout: standard library, dependencies (greyed).
    External,
    Interface,
    Type,
    Package,
}

impl NodeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            NodeKind::Func => "func",
            NodeKind::Root => "root",
            NodeKind::Target => "target",
            NodeKind::IfaceMethod => "interface method",
            NodeKind::External => "external",
            NodeKind::Interface => "interface",
            NodeKind::Type => "type",
            NodeKind::Package => "package",
        }
    }
}

#[derive(Debug, Clone)]
pub struct DEdge {
    pub from: usize,
    pub to: usize,
    pub style: EdgeStyle,
    /// Short text on the edge (`go`, `defer`, `*T`, a count); may be empty.
    pub label: String,
    /// Call site or other detail for tooltips.
    pub tooltip: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EdgeStyle {
    Static,
    Interface,
    Dispatch,
    FuncValue,
    /// A call in a `go` statement.
    Go,
    /// A call in a `defer` statement.
    Defer,
    /// Type → interface it implements.
    Implements,
    /// Only `*T` implements.
    ImplementsPtr,
    /// Interface → interface whose method set contains it.
    Extends,
    Imports,
}

impl EdgeStyle {
    pub fn as_str(self) -> &'static str {
        match self {
            EdgeStyle::Static => "static",
            EdgeStyle::Interface => "interface",
            EdgeStyle::Dispatch => "dispatch",
            EdgeStyle::FuncValue => "funcvalue",
            EdgeStyle::Go => "go",
            EdgeStyle::Defer => "defer",
            EdgeStyle::Implements => "implements",
            EdgeStyle::ImplementsPtr => "implements (pointer)",
            EdgeStyle::Extends => "extends",
            EdgeStyle::Imports => "imports",
        }
    }
}

/// A DOT double-quoted string: `"` and `\` escaped, newlines as `\n`, other control
/// characters dropped. Safe for any Go name or path.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn node_attrs(n: &Node) -> String {
    let mut a = vec![format!("label={}", quote(&n.label))];
    let tip = if n.location.is_empty() {
        n.name.clone()
    } else {
        format!("{}\n{}", n.name, n.location)
    };
    a.push(format!("tooltip={}", quote(&tip)));
    if let Some(u) = &n.url {
        a.push(format!("URL={}", quote(u)));
        a.push("target=\"_blank\"".into());
    }
    match n.kind {
        NodeKind::Func => {}
        NodeKind::Root | NodeKind::Target => {
            a.push("penwidth=2".into());
            a.push("style=\"rounded,filled,bold\"".into());
            a.push("fillcolor=\"#fff3c4\"".into());
        }
        NodeKind::IfaceMethod => a.push("style=\"rounded,dashed\"".into()),
        NodeKind::External => {
            a.push("style=\"rounded,filled\"".into());
            a.push("fillcolor=\"#eeeeee\"".into());
            a.push("color=\"#999999\"".into());
            a.push("fontcolor=\"#666666\"".into());
        }
        NodeKind::Interface => {
            a.push("style=\"rounded,dashed,filled\"".into());
            a.push("fillcolor=\"#e8f0fe\"".into());
        }
        NodeKind::Type => {}
        NodeKind::Package => a.push("shape=folder".into()),
    }
    a.join(", ")
}

fn edge_attrs(e: &DEdge) -> String {
    let mut a: Vec<String> = Vec::new();
    match e.style {
        EdgeStyle::Static | EdgeStyle::Imports => {}
        EdgeStyle::Interface => {
            a.push("style=dashed".into());
            a.push("color=\"#1f5fbf\"".into());
        }
        EdgeStyle::Dispatch => {
            a.push("style=dotted".into());
            a.push("color=\"#1f5fbf\"".into());
            a.push("arrowhead=empty".into());
        }
        EdgeStyle::FuncValue => {
            a.push("style=dashed".into());
            a.push("color=\"#8e44ad\"".into());
        }
        EdgeStyle::Go => {
            a.push("color=\"#1e8449\"".into());
            a.push("penwidth=2".into());
        }
        EdgeStyle::Defer => a.push("color=\"#a04000\"".into()),
        EdgeStyle::Implements => {
            a.push("style=dashed".into());
            a.push("arrowhead=empty".into());
        }
        EdgeStyle::ImplementsPtr => {
            a.push("style=dashed".into());
            a.push("arrowhead=empty".into());
            a.push("color=\"#7f8c8d\"".into());
        }
        EdgeStyle::Extends => {
            a.push("style=dotted".into());
            a.push("arrowhead=empty".into());
        }
    }
    if !e.label.is_empty() {
        a.push(format!("label={}", quote(&e.label)));
    }
    if !e.tooltip.is_empty() {
        a.push(format!("tooltip={}", quote(&e.tooltip)));
    }
    a.join(", ")
}

/// Writes the diagram as a Graphviz digraph.
pub fn write(d: &Diagram) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "digraph codewalk {{");
    let mut label = d.title.clone();
    if let Some(n) = &d.note {
        label.push('\n');
        label.push_str(n);
    }
    let _ = writeln!(
        s,
        "  graph [rankdir=LR, fontname=\"Helvetica\", fontsize=12, labelloc=t, label={}];",
        quote(&label)
    );
    let _ = writeln!(
        s,
        "  node [shape=box, style=rounded, fontname=\"Helvetica\", fontsize=10];"
    );
    let _ = writeln!(s, "  edge [fontname=\"Helvetica\", fontsize=9];");
    // Clusters in group order, then ungrouped nodes.
    for (gi, g) in d.groups.iter().enumerate() {
        let members: Vec<usize> = (0..d.nodes.len())
            .filter(|&i| d.nodes[i].group == Some(gi))
            .collect();
        if members.is_empty() {
            continue;
        }
        let _ = writeln!(s, "  subgraph cluster_{gi} {{");
        let _ = writeln!(
            s,
            "    graph [label={}, style=\"rounded\", color=\"#aaaaaa\", fontcolor=\"#555555\"];",
            quote(g)
        );
        for i in members {
            let _ = writeln!(s, "    n{i} [{}];", node_attrs(&d.nodes[i]));
        }
        let _ = writeln!(s, "  }}");
    }
    for (i, n) in d.nodes.iter().enumerate() {
        if n.group.is_none() {
            let _ = writeln!(s, "  n{i} [{}];", node_attrs(n));
        }
    }
    for e in &d.edges {
        let attrs = edge_attrs(e);
        if attrs.is_empty() {
            let _ = writeln!(s, "  n{} -> n{};", e.from, e.to);
        } else {
            let _ = writeln!(s, "  n{} -> n{} [{attrs}];", e.from, e.to);
        }
    }
    let _ = writeln!(s, "}}");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_escapes_go_names() {
        assert_eq!(
            quote("(*net/http.Server).Serve"),
            "\"(*net/http.Server).Serve\""
        );
        assert_eq!(quote("a\"b\\c\nd"), "\"a\\\"b\\\\c\\nd\"");
        assert_eq!(quote("List[T]"), "\"List[T]\"");
    }
}
