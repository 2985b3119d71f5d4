//! Mermaid flowcharts (render on GitHub, GitLab, Hugo and Hexo blogs) from a [`Diagram`].
//!
//! Labels are always double-quoted and escaped with Mermaid entity codes ([`label`]): `"`,
//! `#`, `<`, `>`, `&`, `|` and backticks cannot break out of a label, so every Go name and
//! path is safe. Node ids are generated (`n0`, `n1`, …), subgraph ids `g0`, `g1`, ….
//! Must not know: the index, Go semantics.

use super::dot::{DEdge, Diagram, EdgeStyle, NodeKind};
use std::fmt::Write;

/// A Mermaid label body (goes between double quotes).
pub fn label(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("#quot;"),
            '#' => out.push_str("#35;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '&' => out.push_str("#amp;"),
            '|' => out.push_str("#124;"),
            '`' => out.push_str("#96;"),
            '\n' => out.push(' '),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// A string for `click` statements, which take no entity codes: quotes and control
/// characters are dropped.
fn plain(s: &str) -> String {
    s.chars()
        .filter(|&c| c != '"' && c != '\\' && !c.is_control())
        .collect()
}

fn arrow(e: &DEdge) -> &'static str {
    match e.style {
        EdgeStyle::Static | EdgeStyle::Defer | EdgeStyle::Imports => "-->",
        EdgeStyle::Go => "==>",
        EdgeStyle::Interface
        | EdgeStyle::Dispatch
        | EdgeStyle::FuncValue
        | EdgeStyle::Implements
        | EdgeStyle::ImplementsPtr
        | EdgeStyle::Extends => "-.->",
    }
}

fn class(k: NodeKind) -> Option<&'static str> {
    match k {
        NodeKind::Func | NodeKind::Type => None,
        NodeKind::Root | NodeKind::Target => Some("root"),
        NodeKind::IfaceMethod => Some("iface"),
        NodeKind::External => Some("ext"),
        NodeKind::Interface => Some("ifacetype"),
        NodeKind::Package => Some("pkg"),
    }
}

/// Writes the diagram as a Mermaid `flowchart LR`.
pub fn write(d: &Diagram) -> String {
    let mut s = String::new();
    let mut title = d.title.clone();
    if let Some(n) = &d.note {
        title.push_str(" — ");
        title.push_str(n);
    }
    let _ = writeln!(s, "---");
    // YAML front matter: a double-quoted YAML string.
    let _ = writeln!(
        s,
        "title: \"{}\"",
        title
            .replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('\n', " ")
    );
    let _ = writeln!(s, "---");
    let _ = writeln!(s, "flowchart LR");
    let node = |i: usize| format!("n{i}[\"{}\"]", label(&d.nodes[i].label));
    for (gi, g) in d.groups.iter().enumerate() {
        let members: Vec<usize> = (0..d.nodes.len())
            .filter(|&i| d.nodes[i].group == Some(gi))
            .collect();
        if members.is_empty() {
            continue;
        }
        let _ = writeln!(s, "  subgraph g{gi}[\"{}\"]", label(g));
        for i in members {
            let _ = writeln!(s, "    {}", node(i));
        }
        let _ = writeln!(s, "  end");
    }
    for (i, n) in d.nodes.iter().enumerate() {
        if n.group.is_none() {
            let _ = writeln!(s, "  {}", node(i));
        }
    }
    let mut link_styles: Vec<(usize, &'static str)> = Vec::new();
    for (k, e) in d.edges.iter().enumerate() {
        let text = if e.label.is_empty() {
            String::new()
        } else {
            format!("|\"{}\"|", label(&e.label))
        };
        let _ = writeln!(s, "  n{} {}{text} n{}", e.from, arrow(e), e.to);
        let st = match e.style {
            EdgeStyle::Interface | EdgeStyle::Dispatch => Some("stroke:#1f5fbf"),
            EdgeStyle::FuncValue => Some("stroke:#8e44ad"),
            EdgeStyle::Go => Some("stroke:#1e8449"),
            EdgeStyle::Defer => Some("stroke:#a04000"),
            EdgeStyle::ImplementsPtr => Some("stroke:#7f8c8d"),
            _ => None,
        };
        if let Some(st) = st {
            link_styles.push((k, st));
        }
    }
    for (k, st) in link_styles {
        let _ = writeln!(s, "  linkStyle {k} {st}");
    }
    let _ = writeln!(s, "  classDef root stroke-width:3px,fill:#fff3c4");
    let _ = writeln!(s, "  classDef iface stroke-dasharray:5 5");
    let _ = writeln!(
        s,
        "  classDef ext fill:#eeeeee,stroke:#999999,color:#666666"
    );
    let _ = writeln!(s, "  classDef ifacetype stroke-dasharray:5 5,fill:#e8f0fe");
    let _ = writeln!(s, "  classDef pkg fill:#f6f6f6");
    for c in ["root", "iface", "ext", "ifacetype", "pkg"] {
        let ids: Vec<String> = d
            .nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| class(n.kind) == Some(c))
            .map(|(i, _)| format!("n{i}"))
            .collect();
        if !ids.is_empty() {
            let _ = writeln!(s, "  class {} {c}", ids.join(","));
        }
    }
    for (i, n) in d.nodes.iter().enumerate() {
        if let Some(u) = &n.url {
            let tip = if n.location.is_empty() {
                n.name.clone()
            } else {
                format!("{} {}", n.name, n.location)
            };
            let _ = writeln!(
                s,
                "  click n{i} href \"{}\" \"{}\" _blank",
                plain(u),
                plain(&tip)
            );
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_escapes() {
        assert_eq!(
            label("(*net/http.Server).Serve"),
            "(*net/http.Server).Serve"
        );
        assert_eq!(label("a\"b#c<d>|`"), "a#quot;b#35;c#lt;d#gt;#124;#96;");
    }
}
