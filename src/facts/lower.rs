//! Lowering of tree-sitter nodes into the plain facts types: type expressions, signatures,
//! expressions and statements. One structured walk, shared by every caller.
//!
//! Input: a node of a tree parsed from `src`. Output: `TypeExpr`, `FuncType`, `Expr`, `Stmt`.
//! Must not know: other files, packages, or what any name refers to.
//! Unknown or ERROR nodes lower to `Unknown` / `Other`, never to a panic.

use super::*;
use crate::syntax::{KindStr, FIELDS as F};
use tree_sitter::Node;

pub struct Lower<'a> {
    pub src: &'a [u8],
    /// `src` when it is all UTF-8 (checked once, not once per identifier).
    pub utf8: Option<&'a str>,
    /// Bodies of function literals and declarations are lowered only when set.
    pub bodies: bool,
    /// Current nesting of expressions and statements being lowered.
    pub depth: std::cell::Cell<u32>,
}

/// Deeper nesting than this (generated code, hostile input) lowers to `Other`/`Unknown`:
/// recursion stays bounded and the file keeps its other facts.
pub const MAX_DEPTH: u32 = 400;

fn pos(n: Node) -> Pos {
    let p = n.start_position();
    Pos {
        line: p.row as u32 + 1,
        col: p.column as u32 + 1,
    }
}

pub fn node_pos(n: Node) -> Pos {
    pos(n)
}

/// A node's children, inline up to 8.
pub type Kids<'t> = smallvec::SmallVec<[Node<'t>; 8]>;

/// Children of `n` under `field` (the names of `a, b int`).
pub fn field_children(n: Node, field: u16) -> Kids {
    children_where(n, |c| c.field_id().map(|f| f.get()) == Some(field))
}

/// The children of `n` at which `keep` holds, in one cursor walk.
fn children_where<'t>(
    n: Node<'t>,
    keep: impl Fn(&tree_sitter::TreeCursor<'t>) -> bool,
) -> Kids<'t> {
    let mut c = n.walk();
    let mut out = Kids::new();
    if c.goto_first_child() {
        loop {
            if keep(&c) {
                out.push(c.node());
            }
            if !c.goto_next_sibling() {
                break;
            }
        }
    }
    out
}

impl<'a> Lower<'a> {
    pub fn text(&self, n: Node) -> &'a str {
        match self.utf8 {
            Some(all) => all.get(n.byte_range()).unwrap_or(""),
            None => std::str::from_utf8(&self.src[n.byte_range()]).unwrap_or(""),
        }
    }

    /// Text with invalid UTF-8 replaced (for doc comments and signatures).
    pub fn lossy(&self, n: Node) -> std::borrow::Cow<'a, str> {
        String::from_utf8_lossy(&self.src[n.byte_range()])
    }

    fn enter(&self) -> bool {
        let d = self.depth.get();
        if d >= MAX_DEPTH {
            return false;
        }
        self.depth.set(d + 1);
        true
    }

    fn leave(&self) {
        self.depth.set(self.depth.get().saturating_sub(1));
    }

    /// Named children but comments. Inline storage: most nodes have a few children, and this
    /// runs for most nodes of every file.
    fn named_children<'t>(&self, n: Node<'t>) -> Kids<'t> {
        children_where(n, |c| {
            let k = c.node();
            k.is_named() && k.kind_id() != F.comment
        })
    }

    // ---- types -------------------------------------------------------------------------

    pub fn type_expr(&self, n: Node) -> TypeExpr {
        if !self.enter() {
            return TypeExpr::Unknown;
        }
        let t = self.type_expr_inner(n);
        self.leave();
        t
    }

    fn type_expr_inner(&self, n: Node) -> TypeExpr {
        match n.kind_str() {
            "type_identifier" | "identifier" => TypeExpr::Name(self.text(n).to_string()),
            "qualified_type" => {
                let pkg = n.child_by_field_id(F.package).map(|p| self.text(p));
                let name = n.child_by_field_id(F.name).map(|p| self.text(p));
                match (pkg, name) {
                    (Some(p), Some(m)) => TypeExpr::Qualified(p.to_string(), m.to_string()),
                    _ => TypeExpr::Unknown,
                }
            }
            "generic_type" => {
                let base = n
                    .child_by_field_id(F.ty)
                    .map(|t| self.type_expr(t))
                    .unwrap_or(TypeExpr::Unknown);
                let args = n
                    .child_by_field_id(F.type_arguments)
                    .map(|a| self.type_args(a))
                    .unwrap_or_default();
                TypeExpr::Generic(Box::new(base), args)
            }
            "pointer_type" => TypeExpr::Pointer(Box::new(self.first_type(n))),
            "parenthesized_type" | "type_elem" | "type_constraint" => self.first_type(n),
            "slice_type" => TypeExpr::Slice(Box::new(self.field_type(n, F.element))),
            "array_type" => {
                let len = n
                    .child_by_field_id(F.length)
                    .map(|l| self.text(l).to_string())
                    .unwrap_or_default();
                TypeExpr::Array(len, Box::new(self.field_type(n, F.element)))
            }
            "implicit_length_array_type" => {
                TypeExpr::Array("...".into(), Box::new(self.field_type(n, F.element)))
            }
            "map_type" => TypeExpr::Map(
                Box::new(self.field_type(n, F.key)),
                Box::new(self.field_type(n, F.value)),
            ),
            "channel_type" => {
                let txt = self.text(n);
                let dir = if txt.starts_with("<-") {
                    ChanDir::Recv
                } else if txt["chan".len().min(txt.len())..]
                    .trim_start()
                    .starts_with("<-")
                {
                    ChanDir::Send
                } else {
                    ChanDir::Both
                };
                TypeExpr::Chan(dir, Box::new(self.field_type(n, F.value)))
            }
            "function_type" => TypeExpr::Func(Box::new(self.func_type(n))),
            "struct_type" => TypeExpr::Struct(self.struct_fields(n)),
            "interface_type" => TypeExpr::Interface(self.iface_elems(n)),
            // Types that reach expression lowering as expressions (`(*T)(x)`, `pkg.T{}`).
            "selector_expression" => {
                let operand = n.child_by_field_id(F.operand);
                let field = n.child_by_field_id(F.field);
                match (operand, field) {
                    (Some(o), Some(f)) if o.kind_str() == "identifier" => {
                        TypeExpr::Qualified(self.text(o).to_string(), self.text(f).to_string())
                    }
                    _ => TypeExpr::Unknown,
                }
            }
            "unary_expression" if self.op(n) == "*" => TypeExpr::Pointer(Box::new(
                n.child_by_field_id(F.operand)
                    .map(|o| self.type_expr(o))
                    .unwrap_or(TypeExpr::Unknown),
            )),
            "parenthesized_expression" => self.first_type(n),
            "index_expression" => {
                let base = n
                    .child_by_field_id(F.operand)
                    .map(|o| self.type_expr(o))
                    .unwrap_or(TypeExpr::Unknown);
                let arg = n
                    .child_by_field_id(F.index)
                    .map(|o| self.type_expr(o))
                    .unwrap_or(TypeExpr::Unknown);
                TypeExpr::Generic(Box::new(base), vec![arg])
            }
            "type_instantiation_expression" => {
                let kids = self.named_children(n);
                let base = kids
                    .first()
                    .map(|o| self.type_expr(*o))
                    .unwrap_or(TypeExpr::Unknown);
                let args = kids.iter().skip(1).map(|a| self.type_expr(*a)).collect();
                TypeExpr::Generic(Box::new(base), args)
            }
            _ => TypeExpr::Unknown,
        }
    }

    fn type_args(&self, n: Node) -> Vec<TypeExpr> {
        self.named_children(n)
            .into_iter()
            .map(|a| self.type_expr(a))
            .collect()
    }

    fn first_type(&self, n: Node) -> TypeExpr {
        self.named_children(n)
            .first()
            .map(|c| self.type_expr(*c))
            .unwrap_or(TypeExpr::Unknown)
    }

    fn field_type(&self, n: Node, field: u16) -> TypeExpr {
        n.child_by_field_id(field)
            .map(|t| self.type_expr(t))
            .unwrap_or(TypeExpr::Unknown)
    }

    pub fn func_type(&self, n: Node) -> FuncType {
        let mut f = FuncType::default();
        if let Some(p) = n.child_by_field_id(F.parameters) {
            f.params = self.params(p, &mut f.variadic);
        }
        if let Some(r) = n.child_by_field_id(F.result) {
            if r.kind_str() == "parameter_list" {
                let mut v = false;
                f.results = self.params(r, &mut v);
            } else {
                f.results = vec![Param {
                    name: None,
                    ty: self.type_expr(r),
                }];
            }
        }
        f
    }

    pub fn params(&self, list: Node, variadic: &mut bool) -> Vec<Param> {
        let mut out = Vec::new();
        for p in self.named_children(list) {
            let is_variadic = p.kind_str() == "variadic_parameter_declaration";
            if p.kind_str() != "parameter_declaration" && !is_variadic {
                continue;
            }
            let mut ty = self.field_type(p, F.ty);
            if is_variadic {
                *variadic = true;
                ty = TypeExpr::Slice(Box::new(ty));
            }
            let names = field_children(p, F.name);
            if names.is_empty() {
                out.push(Param { name: None, ty });
            } else {
                for nm in names {
                    out.push(Param {
                        name: Some(self.text(nm).to_string()),
                        ty: ty.clone(),
                    });
                }
            }
        }
        out
    }

    pub fn type_params(&self, n: Option<Node>) -> Vec<TypeParam> {
        let Some(n) = n else { return Vec::new() };
        let mut out = Vec::new();
        for d in self.named_children(n) {
            if d.kind_str() != "type_parameter_declaration" {
                continue;
            }
            let constraint = self.field_type(d, F.ty);
            for nm in field_children(d, F.name) {
                out.push(TypeParam {
                    name: self.text(nm).to_string(),
                    constraint: constraint.clone(),
                });
            }
        }
        out
    }

    fn struct_fields(&self, n: Node) -> Vec<Field> {
        let mut out = Vec::new();
        let Some(list) = self
            .named_children(n)
            .into_iter()
            .find(|c| c.kind_str() == "field_declaration_list")
        else {
            return out;
        };
        for fd in self.named_children(list) {
            if fd.kind_str() != "field_declaration" {
                continue;
            }
            let mut ty = self.field_type(fd, F.ty);
            let line = pos(fd).line;
            let tag = fd
                .child_by_field_id(F.tag)
                .map(|t| self.text(t).to_string())
                .unwrap_or_default();
            let names = field_children(fd, F.name);
            if names.is_empty() {
                // Embedded field; `*T` has an anonymous `*` token before the type.
                let mut c2 = fd.walk();
                let star = fd.children(&mut c2).any(|ch| ch.kind_str() == "*");
                if star {
                    ty = TypeExpr::Pointer(Box::new(ty));
                }
                out.push(Field {
                    name: None,
                    ty,
                    tag,
                    line,
                });
            } else {
                for nm in names {
                    out.push(Field {
                        name: Some(self.text(nm).to_string()),
                        ty: ty.clone(),
                        tag: tag.clone(),
                        line,
                    });
                }
            }
        }
        out
    }

    fn iface_elems(&self, n: Node) -> Vec<IfaceElem> {
        let mut out = Vec::new();
        for e in self.named_children(n) {
            match e.kind_str() {
                "method_elem" => {
                    let name = e
                        .child_by_field_id(F.name)
                        .map(|x| self.text(x).to_string())
                        .unwrap_or_default();
                    out.push(IfaceElem::Method {
                        name,
                        func: self.func_type(e),
                        pos: pos(e),
                    });
                }
                "type_elem" => {
                    let terms = self.named_children(e);
                    if terms.len() == 1 && terms[0].kind_str() != "negated_type" {
                        out.push(IfaceElem::Embed(self.type_expr(terms[0])));
                    } else {
                        out.push(IfaceElem::TypeSet);
                    }
                }
                _ => {}
            }
        }
        out
    }

    // ---- expressions -------------------------------------------------------------------

    fn op(&self, n: Node) -> &'a str {
        n.child_by_field_id(F.operator)
            .map(|o| self.text(o))
            .unwrap_or("")
    }

    fn boxed(&self, n: Option<Node>) -> Box<Expr> {
        Box::new(n.map(|n| self.expr(n)).unwrap_or(Expr::Other))
    }

    pub fn expr_list(&self, n: Option<Node>) -> Vec<Expr> {
        match n {
            None => Vec::new(),
            Some(n) if n.kind_str() == "expression_list" => self
                .named_children(n)
                .into_iter()
                .map(|e| self.expr(e))
                .collect(),
            Some(n) => vec![self.expr(n)],
        }
    }

    pub fn expr(&self, n: Node) -> Expr {
        if !self.enter() {
            return Expr::Other;
        }
        let e = self.expr_inner(n);
        self.leave();
        e
    }

    fn expr_inner(&self, n: Node) -> Expr {
        match n.kind_str() {
            "identifier" => Expr::Ident(self.text(n).to_string(), pos(n)),
            "true" | "false" => Expr::Lit(LitKind::Bool),
            "nil" => Expr::Ident("nil".into(), pos(n)),
            "iota" => Expr::Ident("iota".into(), pos(n)),
            "int_literal" => Expr::Lit(LitKind::Int),
            "float_literal" => Expr::Lit(LitKind::Float),
            "imaginary_literal" => Expr::Lit(LitKind::Imag),
            "rune_literal" => Expr::Lit(LitKind::Rune),
            "interpreted_string_literal" | "raw_string_literal" => Expr::Lit(LitKind::String),
            "parenthesized_expression" => self
                .named_children(n)
                .first()
                .map(|c| self.expr(*c))
                .unwrap_or(Expr::Other),
            "selector_expression" => {
                let field = n.child_by_field_id(F.field);
                Expr::Selector(
                    self.boxed(n.child_by_field_id(F.operand)),
                    field.map(|f| self.text(f).to_string()).unwrap_or_default(),
                    field.map(pos).unwrap_or_else(|| pos(n)),
                )
            }
            "call_expression" => {
                let fun = n
                    .child_by_field_id(F.function)
                    .map(|f| self.expr(f))
                    .unwrap_or(Expr::Other);
                let type_args = n
                    .child_by_field_id(F.type_arguments)
                    .map(|a| self.type_args(a))
                    .unwrap_or_default();
                let mut args = Vec::new();
                let mut ellipsis = false;
                if let Some(a) = n.child_by_field_id(F.arguments) {
                    for c in self.named_children(a) {
                        if c.kind_str() == "variadic_argument" {
                            ellipsis = true;
                            args.push(
                                self.named_children(c)
                                    .first()
                                    .map(|x| self.expr(*x))
                                    .unwrap_or(Expr::Other),
                            );
                        } else {
                            args.push(self.expr(c));
                        }
                    }
                }
                Expr::Call(Box::new(Call {
                    fun,
                    args,
                    type_args,
                    ellipsis,
                    pos: n
                        .child_by_field_id(F.arguments)
                        .map(pos)
                        .unwrap_or_else(|| pos(n)),
                }))
            }
            "composite_literal" => {
                let ty = n.child_by_field_id(F.ty).map(|t| self.type_expr(t));
                let elems = n
                    .child_by_field_id(F.body)
                    .map(|b| self.literal_value(b))
                    .unwrap_or_default();
                Expr::Composite(Box::new(Composite {
                    ty,
                    elems,
                    pos: pos(n),
                }))
            }
            "literal_value" => Expr::Composite(Box::new(Composite {
                ty: None,
                elems: self.literal_value(n),
                pos: pos(n),
            })),
            "func_literal" => {
                let body = if self.bodies {
                    n.child_by_field_id(F.body)
                        .map(|b| self.block(b))
                        .unwrap_or_default()
                } else {
                    Vec::new()
                };
                Expr::FuncLit(Box::new(self.func_type(n)), body)
            }
            "unary_expression" => {
                let op = match self.op(n) {
                    "&" => UnOp::Addr,
                    "*" => UnOp::Deref,
                    "<-" => UnOp::Recv,
                    "!" => UnOp::Not,
                    _ => UnOp::Other,
                };
                Expr::Unary(op, self.boxed(n.child_by_field_id(F.operand)))
            }
            "binary_expression" => {
                let op = match self.op(n) {
                    "==" | "!=" | "<" | "<=" | ">" | ">=" | "&&" | "||" => BinOp::Compare,
                    "<<" | ">>" => BinOp::Shift,
                    _ => BinOp::Arith,
                };
                Expr::Binary(
                    op,
                    self.boxed(n.child_by_field_id(F.left)),
                    self.boxed(n.child_by_field_id(F.right)),
                )
            }
            "index_expression" => {
                let idx = n
                    .child_by_field_id(F.index)
                    .map(|i| vec![self.expr(i)])
                    .unwrap_or_default();
                Expr::Index(self.boxed(n.child_by_field_id(F.operand)), idx)
            }
            "type_instantiation_expression" => {
                let kids = self.named_children(n);
                let base = kids.first().map(|o| self.expr(*o)).unwrap_or(Expr::Other);
                let args = kids
                    .iter()
                    .skip(1)
                    .map(|a| Expr::Type(self.type_expr(*a)))
                    .collect();
                Expr::Index(Box::new(base), args)
            }
            "slice_expression" => Expr::Slice(
                self.boxed(n.child_by_field_id(F.operand)),
                [F.start, F.end, F.capacity]
                    .into_iter()
                    .filter_map(|f| n.child_by_field_id(f))
                    .map(|x| self.expr(x))
                    .collect(),
            ),
            "type_assertion_expression" => {
                let ty = n.child_by_field_id(F.ty).map(|t| self.type_expr(t));
                Expr::TypeAssert(self.boxed(n.child_by_field_id(F.operand)), ty)
            }
            "type_conversion_expression" => {
                let mut c = n.walk();
                let paren = n
                    .children(&mut c)
                    .find(|ch| ch.kind_str() == "(")
                    .map(pos)
                    .unwrap_or_else(|| pos(n));
                Expr::Conversion(
                    self.field_type(n, F.ty),
                    self.boxed(n.child_by_field_id(F.operand)),
                    paren,
                )
            }
            "type_identifier"
            | "qualified_type"
            | "pointer_type"
            | "slice_type"
            | "array_type"
            | "map_type"
            | "channel_type"
            | "function_type"
            | "struct_type"
            | "interface_type"
            | "generic_type"
            | "parenthesized_type"
            | "implicit_length_array_type" => Expr::Type(self.type_expr(n)),
            _ => Expr::Other,
        }
    }

    fn literal_value(&self, n: Node) -> Vec<Element> {
        let mut out = Vec::new();
        for e in self.named_children(n) {
            match e.kind_str() {
                "keyed_element" => {
                    let key = e.child_by_field_id(F.key).map(|k| self.literal_elem(k));
                    let value = e
                        .child_by_field_id(F.value)
                        .map(|v| self.literal_elem(v))
                        .unwrap_or(Expr::Other);
                    // A field name as key only matters when a func value flows into it.
                    let plain_key = key
                        .as_ref()
                        .is_none_or(|k| matches!(k, Expr::Ident(..)) || inert(k));
                    if !(plain_key && inert(&value)) {
                        out.push(Element { key, value });
                    }
                }
                "literal_element" => {
                    let value = self.literal_elem(e);
                    if !inert(&value) {
                        out.push(Element { key: None, value });
                    }
                }
                _ => {}
            }
        }
        out
    }

    fn literal_elem(&self, n: Node) -> Expr {
        if n.kind_str() == "literal_element" {
            self.named_children(n)
                .first()
                .map(|c| self.expr(*c))
                .unwrap_or(Expr::Other)
        } else {
            self.expr(n)
        }
    }
}

/// An element expression that calls nothing and names nothing: a constant built from
/// literals (`0x1f`, `-1`, `1 << 3`, `"x"`) or an elided literal of such (`{1, 2}`).
/// Resolution learns nothing from it (element types come from the literal's type, and no
/// func value flows from it into a keyed field), so data tables drop these elements rather
/// than keep one `Element` per byte of a generated table.
fn inert(e: &Expr) -> bool {
    match e {
        Expr::Lit(_) => true,
        Expr::Unary(UnOp::Other | UnOp::Not, x) => inert(x),
        Expr::Binary(_, l, r) => inert(l) && inert(r),
        Expr::Composite(c) => c.ty.is_none() && c.elems.is_empty(),
        _ => false,
    }
}

impl<'a> Lower<'a> {
    // ---- statements --------------------------------------------------------------------

    pub fn block(&self, n: Node) -> Block {
        let mut out = Vec::new();
        for c in self.named_children(n) {
            if c.kind_str() == "statement_list" {
                for s in self.named_children(c) {
                    out.push(self.stmt(s));
                }
            } else {
                out.push(self.stmt(c));
            }
        }
        out
    }

    fn opt_stmt(&self, n: Option<Node>) -> Option<Box<Stmt>> {
        n.map(|n| Box::new(self.stmt(n)))
    }

    fn has_token(&self, n: Node, tok: &str) -> bool {
        let mut c = n.walk();
        let r = n
            .children(&mut c)
            .any(|ch| !ch.is_named() && ch.kind_str() == tok);
        r
    }

    fn names_of(&self, list: Option<Node>) -> Vec<(String, Pos)> {
        self.expr_list(list)
            .into_iter()
            .map(|e| match e {
                Expr::Ident(n, p) => (n, p),
                _ => ("_".to_string(), Pos::default()),
            })
            .collect()
    }

    pub fn var_spec(&self, n: Node) -> VarSpec {
        let names = field_children(n, F.name)
            .into_iter()
            .filter(|x| x.kind_str() == "identifier")
            .map(|x| (self.text(x).to_string(), pos(x)))
            .collect();
        VarSpec {
            names,
            ty: n.child_by_field_id(F.ty).map(|t| self.type_expr(t)),
            values: self.expr_list(n.child_by_field_id(F.value)),
        }
    }

    fn case_body(&self, n: Node) -> Block {
        let mut out = Vec::new();
        for c in self.named_children(n) {
            if c.kind_str() == "statement_list" {
                for s in self.named_children(c) {
                    out.push(self.stmt(s));
                }
            }
        }
        out
    }

    pub fn stmt(&self, n: Node) -> Stmt {
        if !self.enter() {
            return Stmt::Other;
        }
        let st = self.stmt_inner(n);
        self.leave();
        st
    }

    fn stmt_inner(&self, n: Node) -> Stmt {
        match n.kind_str() {
            "expression_statement" => Stmt::Expr(
                self.named_children(n)
                    .first()
                    .map(|e| self.expr(*e))
                    .unwrap_or(Expr::Other),
            ),
            "short_var_declaration" => Stmt::Define(
                self.names_of(n.child_by_field_id(F.left)),
                self.expr_list(n.child_by_field_id(F.right)),
            ),
            "assignment_statement" => Stmt::Assign(
                self.expr_list(n.child_by_field_id(F.left)),
                self.expr_list(n.child_by_field_id(F.right)),
            ),
            "var_declaration" | "const_declaration" => {
                let mut specs = Vec::new();
                for c in self.named_children(n) {
                    match c.kind_str() {
                        "var_spec" | "const_spec" => specs.push(self.var_spec(c)),
                        "var_spec_list" => {
                            for s in self.named_children(c) {
                                if s.kind_str() == "var_spec" {
                                    specs.push(self.var_spec(s));
                                }
                            }
                        }
                        _ => {}
                    }
                }
                if n.kind_str() == "var_declaration" {
                    Stmt::Var(specs)
                } else {
                    Stmt::Const(specs)
                }
            }
            "type_declaration" => {
                // Several specs are rare; keep the first, the rest lower to nothing.
                let specs = self.named_children(n);
                for s in specs {
                    if s.kind_str() == "type_spec" || s.kind_str() == "type_alias" {
                        return Stmt::TypeDecl {
                            name: s
                                .child_by_field_id(F.name)
                                .map(|x| self.text(x).to_string())
                                .unwrap_or_default(),
                            ty: self.field_type(s, F.ty),
                            alias: s.kind_str() == "type_alias",
                        };
                    }
                }
                Stmt::Other
            }
            "go_statement" | "defer_statement" => {
                let e = self
                    .named_children(n)
                    .first()
                    .map(|e| self.expr(*e))
                    .unwrap_or(Expr::Other);
                if n.kind_str() == "go_statement" {
                    Stmt::Go(e)
                } else {
                    Stmt::Defer(e)
                }
            }
            "return_statement" => Stmt::Return(
                self.named_children(n)
                    .first()
                    .map(|l| self.expr_list(Some(*l)))
                    .unwrap_or_default(),
            ),
            "block" => Stmt::Block(self.block(n)),
            "if_statement" => Stmt::If {
                init: self.opt_stmt(n.child_by_field_id(F.initializer)),
                cond: n
                    .child_by_field_id(F.condition)
                    .map(|c| self.expr(c))
                    .unwrap_or(Expr::Other),
                then: n
                    .child_by_field_id(F.consequence)
                    .map(|b| self.block(b))
                    .unwrap_or_default(),
                els: self.opt_stmt(n.child_by_field_id(F.alternative)),
            },
            "for_statement" => {
                let body = n
                    .child_by_field_id(F.body)
                    .map(|b| self.block(b))
                    .unwrap_or_default();
                let head = self
                    .named_children(n)
                    .into_iter()
                    .find(|c| Some(*c) != n.child_by_field_id(F.body));
                match head {
                    Some(h) if h.kind_str() == "range_clause" => {
                        let left = self.expr_list(h.child_by_field_id(F.left));
                        let mut it = left.into_iter();
                        Stmt::Range {
                            key: it.next(),
                            value: it.next(),
                            define: self.has_token(h, ":="),
                            expr: h
                                .child_by_field_id(F.right)
                                .map(|r| self.expr(r))
                                .unwrap_or(Expr::Other),
                            body,
                        }
                    }
                    Some(h) if h.kind_str() == "for_clause" => Stmt::For {
                        init: self.opt_stmt(h.child_by_field_id(F.initializer)),
                        cond: h.child_by_field_id(F.condition).map(|c| self.expr(c)),
                        post: self.opt_stmt(h.child_by_field_id(F.update)),
                        body,
                    },
                    Some(h) => Stmt::For {
                        init: None,
                        cond: Some(self.expr(h)),
                        post: None,
                        body,
                    },
                    None => Stmt::For {
                        init: None,
                        cond: None,
                        post: None,
                        body,
                    },
                }
            }
            "expression_switch_statement" => {
                let mut cases = Vec::new();
                for c in self.named_children(n) {
                    match c.kind_str() {
                        "expression_case" => cases.push((
                            self.expr_list(c.child_by_field_id(F.value)),
                            self.case_body(c),
                        )),
                        "default_case" => cases.push((Vec::new(), self.case_body(c))),
                        _ => {}
                    }
                }
                Stmt::Switch {
                    init: self.opt_stmt(n.child_by_field_id(F.initializer)),
                    tag: n.child_by_field_id(F.value).map(|v| self.expr(v)),
                    cases,
                }
            }
            "type_switch_statement" => {
                let bind = self
                    .names_of(n.child_by_field_id(F.alias))
                    .into_iter()
                    .next()
                    .map(|(n, _)| n);
                let mut cases = Vec::new();
                for c in self.named_children(n) {
                    match c.kind_str() {
                        "type_case" => {
                            let types = field_children(c, F.ty)
                                .into_iter()
                                .filter(|t| t.is_named())
                                .map(|t| match self.type_expr(t) {
                                    TypeExpr::Name(n) if n == "nil" => None,
                                    te => Some(te),
                                })
                                .collect();
                            cases.push(TypeCase {
                                types,
                                body: self.case_body(c),
                            });
                        }
                        "default_case" => cases.push(TypeCase {
                            types: Vec::new(),
                            body: self.case_body(c),
                        }),
                        _ => {}
                    }
                }
                Stmt::TypeSwitch {
                    init: self.opt_stmt(n.child_by_field_id(F.initializer)),
                    bind,
                    expr: n
                        .child_by_field_id(F.value)
                        .map(|v| self.expr(v))
                        .unwrap_or(Expr::Other),
                    cases,
                }
            }
            "select_statement" => {
                let mut cases = Vec::new();
                for c in self.named_children(n) {
                    match c.kind_str() {
                        "communication_case" => cases.push((
                            self.opt_stmt(c.child_by_field_id(F.communication)),
                            self.case_body(c),
                        )),
                        "default_case" => cases.push((None, self.case_body(c))),
                        _ => {}
                    }
                }
                Stmt::Select(cases)
            }
            "receive_statement" => {
                let right = n
                    .child_by_field_id(F.right)
                    .map(|r| self.expr(r))
                    .unwrap_or(Expr::Other);
                match n.child_by_field_id(F.left) {
                    None => Stmt::Expr(right),
                    Some(l) if self.has_token(n, ":=") => {
                        Stmt::Define(self.names_of(Some(l)), vec![right])
                    }
                    Some(l) => Stmt::Assign(self.expr_list(Some(l)), vec![right]),
                }
            }
            "send_statement" => Stmt::Send(
                n.child_by_field_id(F.channel)
                    .map(|c| self.expr(c))
                    .unwrap_or(Expr::Other),
                n.child_by_field_id(F.value)
                    .map(|c| self.expr(c))
                    .unwrap_or(Expr::Other),
            ),
            "inc_statement" | "dec_statement" => Stmt::IncDec(
                self.named_children(n)
                    .first()
                    .map(|e| self.expr(*e))
                    .unwrap_or(Expr::Other),
            ),
            "labeled_statement" => match self
                .named_children(n)
                .into_iter()
                .find(|c| c.kind_str() != "label_name")
            {
                Some(s) => Stmt::Labeled(Box::new(self.stmt(s))),
                None => Stmt::Other,
            },
            // Calls are still found inside an ERROR node's children: lower them as a block.
            "ERROR" => Stmt::Block(
                self.named_children(n)
                    .into_iter()
                    .map(|c| {
                        if c.kind_str().ends_with("_statement") || c.kind_str() == "block" {
                            self.stmt(c)
                        } else {
                            Stmt::Expr(self.expr(c))
                        }
                    })
                    .collect(),
            ),
            _ => Stmt::Other,
        }
    }
}
