//! Extraction of [`FileFacts`] from one parsed file, driven by `queries/items.scm`.

use super::lower::{node_pos, Lower};
use super::*;
use crate::syntax::{KindStr, QuerySet, FIELDS as F};
use std::collections::HashMap;
use tree_sitter::{Node, QueryCursor, StreamingIterator, Tree};

#[derive(Clone, Copy, Debug, Default)]
pub struct ExtractOptions {
    /// Lower function bodies (needed for call resolution, not for declarations).
    pub bodies: bool,
}

/// Facts of one file. Never fails: what tree-sitter recovered is extracted.
pub fn extract(qs: &QuerySet, tree: &Tree, src: &[u8], opts: ExtractOptions) -> FileFacts {
    let lower = Lower {
        src,
        utf8: std::str::from_utf8(src).ok(),
        bodies: opts.bodies,
        depth: std::cell::Cell::new(0),
    };
    let root = tree.root_node();
    let mut facts = FileFacts {
        lines: root.end_position().row as u32 + 1,
        has_bodies: opts.bodies,
        ..FileFacts::default()
    };
    if root.has_error() {
        count_errors(root, &mut facts);
    }
    facts.build = build_constraint(src);

    let around = Around::new(root);
    facts.decl_digest = decl_digest(&around, root, src, facts.build.as_deref());
    let caps = &qs.item_captures;
    let mut cursor = QueryCursor::new();
    // Every pattern is rooted at source_file: never start a match deeper.
    cursor.set_max_start_depth(Some(0));
    let mut matches = cursor.matches(&qs.items, root, src);
    // const specs: implicit repetition of the previous spec's type and value, iota per group.
    let mut const_state: Option<(usize, u32, Option<TypeExpr>, Vec<Expr>)> = None;
    while let Some(m) = matches.next() {
        for cap in m.captures {
            let n = cap.node;
            let i = cap.index;
            if i == caps.package {
                facts.package = lower.text(n).to_string();
            } else if i == caps.import {
                if let Some(p) = n.child_by_field_id(F.path) {
                    let path = lower.text(p).trim_matches(|c| c == '"' || c == '`');
                    facts.imports.push(Import {
                        alias: n
                            .child_by_field_id(F.name)
                            .map(|a| lower.text(a).to_string()),
                        path: path.to_string(),
                        pos: node_pos(n),
                    });
                }
            } else if i == caps.func || i == caps.method {
                facts
                    .items
                    .push(func_item(&lower, &around, n, i == caps.method));
            } else if i == caps.ty || i == caps.alias {
                facts
                    .items
                    .push(type_item(&lower, &around, n, i == caps.alias));
            } else if i == caps.var {
                var_items(&lower, &around, n, &mut facts.items);
            } else if i == caps.konst {
                let decl_id = around.parent(n).map(|p| p.id()).unwrap_or(0);
                let spec = lower.var_spec(n);
                let (iota, ty, values) = match &mut const_state {
                    Some((id, iota, ty, values)) if *id == decl_id => {
                        *iota += 1;
                        if spec.ty.is_some() || !spec.values.is_empty() {
                            *ty = spec.ty.clone();
                            *values = spec.values.clone();
                        }
                        (*iota, ty.clone(), values.clone())
                    }
                    _ => {
                        const_state = Some((decl_id, 0, spec.ty.clone(), spec.values.clone()));
                        (0, spec.ty.clone(), spec.values.clone())
                    }
                };
                let first_line = lower.text(n).lines().next().unwrap_or("").to_string();
                for (k, (name, pos)) in spec.names.iter().enumerate() {
                    let mut item = base_item(&lower, &around, n, ItemKind::Const, name, *pos);
                    item.signature = format!("const {}", one_line(&first_line)).into();
                    item.ty = ty.as_ref().map(Encoded::encode);
                    item.value = values.get(k).map(Encoded::encode);
                    item.iota = iota;
                    facts.items.push(item);
                }
            }
        }
    }
    // Facts of every file stay alive until resolution: no spare capacity.
    facts.items.shrink_to_fit();
    facts.imports.shrink_to_fit();
    facts
}

fn count_errors(n: Node, facts: &mut FileFacts) {
    let mut cursor = n.walk();
    let mut stack = vec![n];
    while let Some(n) = stack.pop() {
        if n.is_error() || n.is_missing() {
            facts.syntax_errors += 1;
            let line = n.start_position().row as u32 + 1;
            facts.first_error_line = Some(facts.first_error_line.map_or(line, |l| l.min(line)));
            if n.is_missing() {
                continue;
            }
        }
        if n.has_error() {
            stack.extend(n.children(&mut cursor));
        }
    }
}

/// The `//go:build` expression (or the legacy `// +build` lines) before the package clause.
fn build_constraint(src: &[u8]) -> Option<String> {
    let mut legacy = Vec::new();
    for line in src.split(|&b| b == b'\n').take(64) {
        let line = std::str::from_utf8(line).unwrap_or("").trim();
        if line.starts_with("package ") {
            break;
        }
        if let Some(expr) = line.strip_prefix("//go:build ") {
            return Some(expr.trim().to_string());
        }
        if let Some(expr) = line.strip_prefix("// +build ") {
            let any: Vec<String> = expr
                .split_whitespace()
                .map(|opt| opt.split(',').collect::<Vec<_>>().join(" && "))
                .collect();
            legacy.push(format!("({})", any.join(" || ")));
        }
    }
    (!legacy.is_empty()).then(|| legacy.join(" && "))
}

/// Parents and preceding siblings of the nodes items come from, found in one pass over the
/// file's top level. tree-sitter's `parent` and `prev_sibling` scan from the first child of
/// the parent (from the root for `parent`): quadratic in a generated file of 15,000
/// declarations.
/// A digest of the file's declarations as written, function bodies and top-level comments
/// left out, positions not involved: equal digests mean the file declares the same things
/// in the same order (a body edit, or lines moving, leaves it as it was).
fn decl_digest(around: &Around, root: Node, src: &[u8], build: Option<&str>) -> u64 {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    h.update(build.unwrap_or("").as_bytes());
    for n in around
        .kids
        .get(&root.id())
        .map(|v| v.as_slice())
        .unwrap_or(&[])
    {
        if n.kind_str() == "comment" {
            continue;
        }
        let (start, end) = (n.start_byte(), n.end_byte());
        let body = match n.kind_str() {
            "function_declaration" | "method_declaration" => n.child_by_field_id(F.body),
            _ => None,
        };
        let cut = body.map_or(end..end, |b| b.start_byte()..b.end_byte());
        h.update(&src[start..cut.start]);
        h.update(&[0xff]);
        h.update(&src[cut.end..end]);
        h.update(&[0xfe]);
    }
    h.digest()
}

struct Around<'t> {
    /// Node id → (parent, index among the parent's children).
    at: HashMap<usize, (Node<'t>, usize)>,
    /// Parent id → all its children, comments and anonymous tokens included.
    kids: HashMap<usize, Vec<Node<'t>>>,
}

impl<'t> Around<'t> {
    fn new(root: Node<'t>) -> Around<'t> {
        let mut a = Around {
            at: HashMap::new(),
            kids: HashMap::new(),
        };
        let mut stack = vec![root];
        while let Some(p) = stack.pop() {
            let mut c = p.walk();
            let kids: Vec<Node<'t>> = p.children(&mut c).collect();
            for (i, k) in kids.iter().enumerate() {
                a.at.insert(k.id(), (p, i));
                if matches!(
                    k.kind_str(),
                    "type_declaration" | "var_declaration" | "const_declaration" | "var_spec_list"
                ) {
                    stack.push(*k);
                }
            }
            a.kids.insert(p.id(), kids);
        }
        a
    }

    fn parent(&self, n: Node<'t>) -> Option<Node<'t>> {
        match self.at.get(&n.id()) {
            Some((p, _)) => Some(*p),
            None => n.parent(),
        }
    }

    /// The siblings before `n`, nearest first.
    fn before(&self, n: Node<'t>) -> impl Iterator<Item = &Node<'t>> {
        let sibs = self
            .at
            .get(&n.id())
            .and_then(|(p, i)| Some(&self.kids.get(&p.id())?[..*i]))
            .unwrap_or(&[]);
        sibs.iter().rev()
    }

    fn prev_named_sibling(&self, n: Node<'t>) -> Option<Node<'t>> {
        self.before(n).find(|s| s.is_named()).copied()
    }
}

/// Comments directly above `n` (or above its declaration when `n` is its only spec).
fn doc_comment(lower: &Lower, around: &Around, n: Node) -> String {
    let mut target = n;
    if around
        .prev_named_sibling(n)
        .is_none_or(|p| p.kind_str() != "comment")
    {
        if let Some(parent) = around.parent(n) {
            if matches!(
                parent.kind_str(),
                "type_declaration" | "var_declaration" | "const_declaration"
            ) {
                target = parent;
            }
        }
    }
    let mut lines = Vec::new();
    let mut next_row = target.start_position().row;
    for c in around.before(target) {
        if c.kind_str() != "comment" || c.end_position().row + 1 != next_row {
            break;
        }
        lines.push(lower.lossy(*c));
        next_row = c.start_position().row;
    }
    lines.reverse();
    lines
        .iter()
        .map(|l| {
            let l = l.trim_end_matches(['\r', '\n']);
            let l = l.strip_prefix("//").unwrap_or(l);
            l.strip_prefix(' ').unwrap_or(l)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn one_line(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    for c in s.chars() {
        if c.is_whitespace() {
            space = true;
        } else {
            if space && !out.is_empty() {
                out.push(' ');
            }
            space = false;
            out.push(c);
        }
    }
    out
}

fn base_item(
    lower: &Lower,
    around: &Around,
    n: Node,
    kind: ItemKind,
    name: &str,
    pos: Pos,
) -> Item {
    let doc = doc_comment(lower, around, n);
    Item {
        kind,
        name: name.to_string(),
        pos,
        start_byte: n.start_byte() as u32,
        end_byte: n.end_byte() as u32,
        start_line: n.start_position().row as u32 + 1,
        end_line: n.end_position().row as u32 + 1,
        doc: doc.into(),
        signature: Text::default(),
        type_params: Box::default(),
        recv: None,
        ty: None,
        func: None,
        value: None,
        value_index: None,
        iota: 0,
        body: None,
    }
}

fn func_item(lower: &Lower, around: &Around, n: Node, method: bool) -> Item {
    let name_node = n.child_by_field_id(F.name);
    let name = name_node.map(|x| lower.text(x)).unwrap_or("");
    let kind = if method {
        ItemKind::Method
    } else {
        ItemKind::Func
    };
    let mut item = base_item(
        lower,
        around,
        n,
        kind,
        name,
        name_node.map(node_pos).unwrap_or_else(|| node_pos(n)),
    );
    let body = n.child_by_field_id(F.body);
    let head_end = body.map(|b| b.start_byte()).unwrap_or(n.end_byte());
    item.signature =
        one_line(std::str::from_utf8(&lower.src[n.start_byte()..head_end]).unwrap_or("")).into();
    item.type_params = lower
        .type_params(n.child_by_field_id(F.type_parameters))
        .into();
    item.func = Some(Encoded::encode(&lower.func_type(n)));
    if method {
        item.recv = n
            .child_by_field_id(F.receiver)
            .and_then(|r| receiver(lower, r))
            .map(Box::new);
    }
    if lower.bodies {
        let block = body.map(|b| lower.block(b)).unwrap_or_default();
        item.body = Some(Body::encode(&block));
    }
    item
}

fn receiver(lower: &Lower, list: Node) -> Option<Receiver> {
    let mut c = list.walk();
    let p = list
        .named_children(&mut c)
        .find(|p| p.kind_str() == "parameter_declaration")?;
    let name = p
        .child_by_field_id(F.name)
        .map(|x| lower.text(x).to_string());
    let mut ty = p.child_by_field_id(F.ty)?;
    let mut pointer = false;
    while let "pointer_type" | "parenthesized_type" = ty.kind_str() {
        pointer |= ty.kind_str() == "pointer_type";
        let mut c = ty.walk();
        ty = ty.named_children(&mut c).next()?;
    }
    let (base, type_params) = match ty.kind_str() {
        "generic_type" => {
            let base = ty.child_by_field_id(F.ty).map(|b| lower.text(b))?;
            let params = ty
                .child_by_field_id(F.type_arguments)
                .map(|a| {
                    let mut c = a.walk();
                    let v: Vec<String> = a
                        .named_children(&mut c)
                        .map(|x| lower.text(x).trim().to_string())
                        .collect();
                    v
                })
                .unwrap_or_default();
            (base.to_string(), params)
        }
        "type_identifier" => (lower.text(ty).to_string(), Vec::new()),
        _ => return None,
    };
    Some(Receiver {
        name,
        pointer,
        base,
        type_params,
    })
}

fn type_item(lower: &Lower, around: &Around, n: Node, alias: bool) -> Item {
    let name_node = n.child_by_field_id(F.name);
    let name = name_node.map(|x| lower.text(x)).unwrap_or("");
    let kind = if alias {
        ItemKind::Alias
    } else {
        ItemKind::Type
    };
    let mut item = base_item(
        lower,
        around,
        n,
        kind,
        name,
        name_node.map(node_pos).unwrap_or_else(|| node_pos(n)),
    );
    let ty_node = n.child_by_field_id(F.ty);
    item.ty = ty_node.map(|t| Encoded::encode(&lower.type_expr(t)));
    item.type_params = lower
        .type_params(n.child_by_field_id(F.type_parameters))
        .into();
    let text = lower.text(n);
    let first = text.lines().next().unwrap_or("");
    let mut signature = format!("type {}", one_line(first.trim_end_matches('{').trim()));
    if signature.ends_with(" struct") || signature.ends_with(" interface") {
        signature.push_str(" {…}");
    }
    item.signature = signature.into();
    // Widen the span to the declaration keyword for single-spec declarations.
    if let Some(p) = around.parent(n) {
        if p.kind_str() == "type_declaration" && p.named_child_count() == 1 {
            item.start_byte = p.start_byte() as u32;
            item.start_line = p.start_position().row as u32 + 1;
        }
    }
    item
}

fn var_items(lower: &Lower, around: &Around, n: Node, out: &mut Vec<Item>) {
    let spec = lower.var_spec(n);
    let single_call = spec.names.len() > 1 && spec.values.len() == 1;
    let first_line = lower.text(n).lines().next().unwrap_or("").to_string();
    for (k, (name, pos)) in spec.names.iter().enumerate() {
        let mut item = base_item(lower, around, n, ItemKind::Var, name, *pos);
        item.ty = spec.ty.as_ref().map(Encoded::encode);
        item.signature = format!("var {}", one_line(&first_line)).into();
        if single_call {
            item.value = spec.values.first().map(Encoded::encode);
            item.value_index = Some(k as u32);
        } else {
            item.value = spec.values.get(k).map(Encoded::encode);
        }
        out.push(item);
    }
}
