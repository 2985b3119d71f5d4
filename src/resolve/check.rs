//! Call-site resolution inside function bodies: a small type inference over the lowered
//! bodies of one file, against the frozen [`Model`].
//!
//! Input: the model, every named type's members, one file's bytes. Output: [`FileCalls`]:
//! each call site with its resolved target (static, interface) or why it is unresolved, and
//! the function-value flows (which functions are stored into which fields, parameters and
//! variables) that the call graph turns into `funcvalue` edges.
//! Types first seen in a body are interned in a per-thread overlay, never in the model.

use super::methods::{members_of, MemberKind, Members};
use super::model::{is_exported, FileId, Model, PkgId, SymId, SymKind, NONE};
use super::types::*;
use crate::facts::{
    self, BinOp, Block, Call, Expr, ExtractOptions, FuncType, ItemKind, LitKind, Pos, Stmt,
    TypeExpr, UnOp,
};
use crate::pipeline::FileMeta;
use crate::syntax::{self, QuerySet};
use rayon::prelude::*;
// FxHash: keys are names and small ids, hashed millions of times per index.
use rustc_hash::FxHashMap as HashMap;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Types inferred for package-level variables, kept by each worker across files.
pub type VarCache = HashMap<SymId, TypeId>;

pub const GO: u8 = 1;
pub const DEFER: u8 = 2;

/// Where a function value can be stored and later called from.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Slot {
    /// A struct field of a named type.
    Field(NamedId, Box<str>),
    /// The i-th parameter of a function or method.
    Param(SymId, u32),
    /// A package-level variable.
    Var(SymId),
    /// A local variable of a function (by name; flow-insensitive).
    Local(SymId, Box<str>),
    /// The receiver of the methods of a named func type (`http.HandlerFunc(f)`).
    Recv(NamedId),
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Source {
    Func(SymId),
    Slot(Slot),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Reason {
    UnknownPackage,
    UnknownName,
    UnknownType,
    NoMember,
    Ambiguous,
    InterfaceLiteral,
    NotAFunction,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::UnknownPackage => "package not indexed",
            Reason::UnknownName => "unknown name",
            Reason::UnknownType => "receiver type not inferred",
            Reason::NoMember => "no such field or method",
            Reason::Ambiguous => "ambiguous selector",
            Reason::InterfaceLiteral => "method of an interface literal",
            Reason::NotAFunction => "callee is not a function",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Target {
    Static(SymId),
    /// An interface method (its declaring symbol) and the named interface of the receiver's
    /// static type (NONE when unknown).
    Interface(SymId, NamedId),
    /// A call through a func value, and where that value came from when known.
    Dynamic(Option<Slot>),
    Unresolved(Reason, Box<str>),
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CallSite {
    pub caller: SymId,
    pub pos: Pos,
    pub target: Target,
    pub flags: u8,
}

#[derive(Clone, Debug, Default)]
pub struct FileCalls {
    pub file: FileId,
    pub calls: Vec<CallSite>,
    pub flows: Vec<(Slot, Source)>,
    /// The file changed since it was parsed for declarations, or could not be read.
    pub skipped: bool,
}

/// Resolves the calls of every non-external file, in parallel; a file for which `reuse`
/// has call sites (resolved by an earlier run and still valid) keeps those.
pub fn resolve_all(
    m: &Model,
    all: &[Arc<Members>],
    meta: &[FileMeta],
    qs: &QuerySet,
    spill: Option<&facts::cache::FactsFile>,
    reuse: &(dyn Fn(FileId) -> Option<FileCalls> + Sync),
) -> Vec<FileCalls> {
    let item_syms = item_symbols(m);
    let mut out: Vec<FileCalls> = (0..m.files.len() as FileId)
        .into_par_iter()
        .filter(|&f| !m.files[f as usize].input.external)
        .map_init(
            || {
                (
                    syntax::new_parser(),
                    Overlay::new(&m.types),
                    HashMap::default(),
                )
            },
            |(parser, overlay, var_cache), f| {
                if let Some(calls) = reuse(f) {
                    return calls;
                }
                let facts = &m.files[f as usize].input.facts;
                if facts.has_bodies {
                    let spilled = match spill.map(|s| s.blob(facts)) {
                        Some(Err(_)) => {
                            // facts.bin could not be read back: the file's calls are
                            // not resolved (as for an unreadable file), never guessed.
                            return FileCalls {
                                file: f,
                                skipped: true,
                                ..FileCalls::default()
                            };
                        }
                        Some(Ok(blob)) => blob,
                        None => Vec::new(),
                    };
                    return check_file(
                        m,
                        all,
                        f,
                        facts,
                        &spilled,
                        &item_syms[f as usize],
                        overlay,
                        var_cache,
                    );
                }
                let src = std::fs::read(&meta[f as usize].abs).unwrap_or_default();
                let skipped = FileCalls {
                    file: f,
                    skipped: true,
                    ..FileCalls::default()
                };
                if xxhash_rust::xxh3::xxh3_64(&src) != meta[f as usize].hash {
                    return skipped;
                }
                let Some(tree) = syntax::parse(parser, &src) else {
                    return skipped;
                };
                let facts = facts::extract(qs, &tree, &src, ExtractOptions { bodies: true });
                check_file(
                    m,
                    all,
                    f,
                    &facts,
                    &[],
                    &item_syms[f as usize],
                    overlay,
                    var_cache,
                )
            },
        )
        .collect();
    out.sort_by_key(|c| c.file);
    out
}

/// For each file, the symbol of each item (NONE where the item declares no symbol, such as a
/// duplicate build variant).
fn item_symbols(m: &Model) -> Vec<Vec<SymId>> {
    let mut v: Vec<Vec<SymId>> = m
        .files
        .iter()
        .map(|f| vec![NONE; f.input.facts.items.len()])
        .collect();
    for (i, s) in m.syms.iter().enumerate() {
        if s.file != NONE && s.item != NONE && s.kind != SymKind::IfaceMethod {
            v[s.file as usize][s.item as usize] = i as SymId;
        }
    }
    v
}

fn param_names(f: &FuncType) -> Vec<Option<String>> {
    f.params.iter().map(|p| p.name.clone()).collect()
}

pub struct Overlay {
    base: usize,
    local: Vec<Ty>,
    map: HashMap<Ty, TypeId>,
}

impl Overlay {
    pub fn new(t: &TypeTable) -> Overlay {
        Overlay {
            base: t.len(),
            local: Vec::new(),
            map: HashMap::default(),
        }
    }
}

#[derive(Clone, Debug)]
enum Op {
    Value(TypeId, Option<Slot>),
    Type(TypeId),
    Pkg(Option<PkgId>),
    Builtin(&'static str),
    Func(SymId),
    Method(SymId),
    IfaceMethod(SymId, TypeId, NamedId),
    Unknown(Reason, Box<str>),
}

const BUILTINS: &[&str] = &[
    "append", "cap", "clear", "close", "complex", "copy", "delete", "imag", "len", "make", "max",
    "min", "new", "panic", "print", "println", "real", "recover",
];

#[derive(Clone, Debug)]
enum Binding {
    Var(TypeId),
    Type(TypeId),
}

struct Checker<'a> {
    m: &'a Model,
    all: &'a [Arc<Members>],
    ov: &'a mut Overlay,
    var_cache: &'a mut VarCache,
    file: FileId,
    pkg: PkgId,
    scopes: Vec<Vec<(String, Binding)>>,
    tparams: Vec<(String, TypeId)>,
    caller: SymId,
    /// The names of `caller`'s parameters (decoded once per function).
    caller_params: Vec<Option<String>>,
    pending_flags: u8,
    recording: bool,
    out: FileCalls,
    /// Types declared inside function bodies (`type grpcService interface{...}`), by the
    /// type they stand for: go/types names their methods `(pkg.grpcService).Register`.
    local_types: HashMap<TypeId, Box<str>>,
    /// The local type whose interface-literal method the last selector found.
    literal_owner: Option<Box<str>>,
}

pub fn check_file(
    m: &Model,
    all: &[Arc<Members>],
    file: FileId,
    facts: &facts::FileFacts,
    spilled: &[u8],
    item_syms: &[SymId],
    ov: &mut Overlay,
    var_cache: &mut VarCache,
) -> FileCalls {
    let pkg = m.files[file as usize].pkg;
    let mut c = Checker {
        m,
        all,
        ov,
        var_cache,
        file,
        pkg,
        scopes: Vec::new(),
        tparams: Vec::new(),
        caller: m.pkgs[pkg as usize].init,
        caller_params: Vec::new(),
        pending_flags: 0,
        recording: true,
        out: FileCalls {
            file,
            ..FileCalls::default()
        },
        local_types: HashMap::default(),
        literal_owner: None,
    };
    let model_items = &m.files[file as usize].input.facts.items;
    if model_items.len() != facts.items.len() {
        c.out.skipped = true;
        return c.out;
    }
    for (i, item) in facts.items.iter().enumerate() {
        let mut sym = item_syms.get(i).copied().unwrap_or(NONE);
        match item.kind {
            ItemKind::Func | ItemKind::Method => {
                if sym == NONE {
                    sym = c.canonical_sym(item);
                }
                let is_init = item.kind == ItemKind::Func && item.name == "init";
                c.caller = if is_init || sym == NONE {
                    m.pkgs[pkg as usize].init
                } else {
                    sym
                };
                c.tparams = if sym != NONE && !is_init {
                    c.sym_tparams(sym)
                } else {
                    Vec::new()
                };
                c.scopes.clear();
                c.scopes.push(Vec::new());
                if let (Some(r), Some(rn)) =
                    (&item.recv, item.recv.as_ref().and_then(|r| r.name.clone()))
                {
                    let t = c.resolve_type(&TypeExpr::Name(r.base.clone()));
                    let t = if r.pointer { c.pointer(t) } else { t };
                    c.declare(&rn, Binding::Var(t));
                }
                let func = item.func.as_ref().map(|f| f.decode(&[]));
                // The caller's parameter names: this item's, unless the caller is the
                // declaration of another file (decoded once either way here).
                let caller_item = c.m.item(c.caller);
                c.caller_params = match caller_item {
                    Some(it) if std::ptr::eq(it, item) => func.as_ref().map(param_names),
                    Some(it) => it.func.as_ref().map(|f| param_names(&f.decode(&[]))),
                    None => None,
                }
                .unwrap_or_default();
                if let Some(f) = &func {
                    c.declare_params(f);
                }
                if let Some(body) = &item.body {
                    c.block(&body.decode(spilled));
                }
            }
            ItemKind::Var => {
                if let Some(v) = &item.value {
                    // `var a, b = f()` is one call: check it once, with the first name.
                    if item.value_index.unwrap_or(0) == 0 {
                        let v = v.decode(&[]);
                        c.caller = m.pkgs[pkg as usize].init;
                        c.tparams.clear();
                        c.scopes.clear();
                        c.scopes.push(Vec::new());
                        let op = c.expr(&v);
                        if sym != NONE && item.value_index.is_none() {
                            c.flow_to(Slot::Var(sym), &op);
                        }
                    }
                }
            }
            _ => {}
        }
    }
    c.out
}

impl<'a> Checker<'a> {
    // ---- types ------------------------------------------------------------------------

    fn ty(&self, t: TypeId) -> Ty {
        if (t as usize) < self.ov.base {
            self.m.types.get(t).clone()
        } else {
            self.ov.local[t as usize - self.ov.base].clone()
        }
    }

    fn intern(&mut self, ty: Ty) -> TypeId {
        if let Some(id) = self.m.types.lookup(&ty) {
            return id;
        }
        if let Some(&id) = self.ov.map.get(&ty) {
            return id;
        }
        let id = (self.ov.base + self.ov.local.len()) as TypeId;
        self.ov.local.push(ty.clone());
        self.ov.map.insert(ty, id);
        id
    }

    fn pointer(&mut self, t: TypeId) -> TypeId {
        if t == INVALID {
            INVALID
        } else {
            self.intern(Ty::Pointer(t))
        }
    }

    fn under(&self, t: TypeId) -> TypeId {
        match self.ty(t) {
            Ty::Named(n) => self.m.underlying[n as usize],
            _ => t,
        }
    }

    fn untyped_default(&mut self, t: TypeId) -> TypeId {
        let b = match self.ty(t) {
            Ty::Basic(Basic::UntypedInt) => Basic::Int,
            Ty::Basic(Basic::UntypedFloat) => Basic::Float64,
            Ty::Basic(Basic::UntypedRune) => Basic::Int32,
            Ty::Basic(Basic::UntypedString) => Basic::String,
            Ty::Basic(Basic::UntypedBool) => Basic::Bool,
            Ty::Basic(Basic::UntypedNil) => return INVALID,
            _ => return t,
        };
        self.intern(Ty::Basic(b))
    }

    fn is_untyped(&self, t: TypeId) -> bool {
        matches!(
            self.ty(t),
            Ty::Basic(
                Basic::UntypedInt
                    | Basic::UntypedFloat
                    | Basic::UntypedRune
                    | Basic::UntypedString
                    | Basic::UntypedBool
                    | Basic::UntypedNil
            )
        )
    }

    fn sym_tparams(&mut self, sym: SymId) -> Vec<(String, TypeId)> {
        let s = &self.m.syms[sym as usize];
        let Some(it) = self.m.item(sym) else {
            return Vec::new();
        };
        let (names, owner) = match &it.recv {
            Some(r) if s.recv != NONE => (r.type_params.clone(), self.m.named[s.recv as usize].sym),
            _ => (it.type_params.iter().map(|p| p.name.clone()).collect(), sym),
        };
        names
            .into_iter()
            .enumerate()
            .map(|(i, n)| (n, self.intern(Ty::TypeParam(owner, i as u32))))
            .collect()
    }

    /// The constraint of a type parameter, as a type (for method lookup).
    fn constraint(&mut self, owner: SymId, idx: u32) -> TypeId {
        let Some(it) = self.m.item(owner) else {
            return INVALID;
        };
        let Some(tp) = it.type_params.get(idx as usize) else {
            return INVALID;
        };
        let te = tp.constraint.clone();
        let saved = (self.file, self.pkg);
        self.file = self.m.syms[owner as usize].file;
        self.pkg = self.m.syms[owner as usize].pkg;
        let t = self.resolve_type(&te);
        (self.file, self.pkg) = saved;
        t
    }

    fn type_sym(&mut self, s: SymId) -> TypeId {
        match self.m.syms[s as usize].kind {
            SymKind::Type | SymKind::Alias => self.m.sym_type[s as usize],
            _ => INVALID,
        }
    }

    fn resolve_type(&mut self, te: &TypeExpr) -> TypeId {
        match te {
            TypeExpr::Name(n) => {
                if let Some((_, t)) = self.tparams.iter().rev().find(|(p, _)| p == n) {
                    return *t;
                }
                if let Some(Binding::Type(t)) = self.lookup_local(n) {
                    return t;
                }
                if let Some(s) = self.m.lookup_pkg_name(self.file, n) {
                    return self.type_sym(s);
                }
                self.m.universe.get(n.as_str()).copied().unwrap_or(INVALID)
            }
            TypeExpr::Qualified(p, n) => {
                let Some(b) = self.m.import_binding(self.file, p) else {
                    return INVALID;
                };
                match b.pkg.and_then(|pkg| self.m.pkgs[pkg as usize].scope.get(n)) {
                    Some(&s) => self.type_sym(s),
                    None => INVALID,
                }
            }
            TypeExpr::Generic(b, _) => self.resolve_type(b),
            TypeExpr::Pointer(t) => {
                let t = self.resolve_type(t);
                self.pointer(t)
            }
            TypeExpr::Slice(t) => {
                let t = self.resolve_type(t);
                self.intern(Ty::Slice(t))
            }
            TypeExpr::Array(l, t) => {
                let t = self.resolve_type(t);
                self.intern(Ty::Array(l.as_str().into(), t))
            }
            TypeExpr::Map(k, v) => {
                let k = self.resolve_type(k);
                let v = self.resolve_type(v);
                self.intern(Ty::Map(k, v))
            }
            TypeExpr::Chan(d, t) => {
                let t = self.resolve_type(t);
                let d = match d {
                    facts::ChanDir::Both => 0,
                    facts::ChanDir::Send => 1,
                    facts::ChanDir::Recv => 2,
                };
                self.intern(Ty::Chan(d, t))
            }
            TypeExpr::Func(f) => self.sig(f),
            TypeExpr::Struct(fields) => {
                let mut out = Vec::new();
                for f in fields {
                    let ty = self.resolve_type(&f.ty);
                    let (name, embedded) = match &f.name {
                        Some(n) => (n.clone(), false),
                        None => (super::model::embedded_name(&f.ty), true),
                    };
                    let pkg = if is_exported(&name) { 0 } else { self.pkg };
                    out.push(StructField {
                        name: name.into(),
                        ty,
                        embedded,
                        pkg,
                        tag: f.tag.as_str().into(),
                    });
                }
                self.intern(Ty::Struct(out.into()))
            }
            TypeExpr::Interface(elems) => {
                // Interface literals in bodies: known only if identical to one the model saw.
                let mut sigs: Vec<(Box<str>, TypeId)> = Vec::new();
                for e in elems {
                    match e {
                        facts::IfaceElem::Method { name, func, .. } => {
                            let s = self.sig(func);
                            sigs.push((self.m.method_key(name, self.pkg), s));
                        }
                        _ => return INVALID,
                    }
                }
                sigs.sort();
                self.intern(Ty::Interface(sigs.into(), false))
            }
            TypeExpr::Unknown => INVALID,
        }
    }

    fn sig(&mut self, f: &FuncType) -> TypeId {
        let params: Box<[TypeId]> = f.params.iter().map(|p| self.resolve_type(&p.ty)).collect();
        let results: Box<[TypeId]> = f.results.iter().map(|p| self.resolve_type(&p.ty)).collect();
        self.intern(Ty::Func(Sig {
            params,
            results,
            variadic: f.variadic,
        }))
    }

    // ---- scopes -----------------------------------------------------------------------

    fn declare(&mut self, name: &str, b: Binding) {
        if name == "_" || name.is_empty() {
            return;
        }
        if let Some(s) = self.scopes.last_mut() {
            s.push((name.to_string(), b));
        }
    }

    fn lookup_local(&self, name: &str) -> Option<Binding> {
        for s in self.scopes.iter().rev() {
            if let Some((_, b)) = s.iter().rev().find(|(n, _)| n == name) {
                return Some(b.clone());
            }
        }
        None
    }

    fn declared_in_current(&self, name: &str) -> bool {
        self.scopes
            .last()
            .is_some_and(|s| s.iter().any(|(n, _)| n == name))
    }

    fn declare_params(&mut self, f: &FuncType) {
        for p in &f.params {
            if let Some(n) = &p.name {
                let t = self.resolve_type(&p.ty);
                self.declare(n, Binding::Var(t));
            }
        }
        for p in &f.results {
            if let Some(n) = &p.name {
                let t = self.resolve_type(&p.ty);
                self.declare(n, Binding::Var(t));
            }
        }
    }

    /// The slot a local name denotes: a parameter of the current function, or a local.
    fn local_slot(&self, name: &str) -> Option<Slot> {
        if self.caller == NONE || self.m.syms[self.caller as usize].kind == SymKind::Init {
            return None;
        }
        if let Some(it) = self.m.item(self.caller) {
            if it.func.is_some() {
                if let Some(i) = self
                    .caller_params
                    .iter()
                    .position(|p| p.as_deref() == Some(name))
                {
                    return Some(Slot::Param(self.caller, i as u32));
                }
            }
            if let Some(r) = &it.recv {
                if r.name.as_deref() == Some(name) {
                    let recv = self.m.syms[self.caller as usize].recv;
                    if recv != NONE {
                        return Some(Slot::Recv(recv));
                    }
                }
            }
        }
        Some(Slot::Local(self.caller, name.into()))
    }

    fn canonical_sym(&self, item: &facts::Item) -> SymId {
        let scope = &self.m.pkgs[self.pkg as usize].scope;
        match (&item.recv, item.kind) {
            (Some(r), ItemKind::Method) => scope
                .get(&r.base)
                .map(|&t| self.m.syms[t as usize].named)
                .filter(|&n| n != NONE)
                .and_then(|n| self.m.named[n as usize].methods.get(&item.name).copied())
                .unwrap_or(NONE),
            _ => scope.get(&item.name).copied().unwrap_or(NONE),
        }
    }

    // ---- recording ----------------------------------------------------------------------

    fn record(&mut self, pos: Pos, target: Target, flags: u8) {
        if self.recording {
            self.out.calls.push(CallSite {
                caller: self.caller,
                pos,
                target,
                flags,
            });
        }
    }

    fn source_of(op: &Op) -> Option<Source> {
        match op {
            Op::Func(s) | Op::Method(s) => Some(Source::Func(*s)),
            Op::Value(_, Some(slot)) => Some(Source::Slot(slot.clone())),
            _ => None,
        }
    }

    fn flow_to(&mut self, slot: Slot, op: &Op) {
        if !self.recording {
            return;
        }
        if let Some(src) = Self::source_of(op) {
            if Source::Slot(slot.clone()) != src {
                self.out.flows.push((slot, src));
            }
        }
    }

    // ---- package-level variables --------------------------------------------------------

    fn var_type(&mut self, s: SymId) -> TypeId {
        let t = self.m.sym_type[s as usize];
        if t != INVALID {
            return t;
        }
        if let Some(&t) = self.var_cache.get(&s) {
            return t;
        }
        self.var_cache.insert(s, INVALID);
        let Some(it) = self.m.item(s) else {
            return INVALID;
        };
        let Some(v) = it.value.as_ref().map(|v| v.decode(&[])) else {
            return INVALID;
        };
        let idx = it.value_index;
        let saved_file = self.file;
        let saved_pkg = self.pkg;
        let saved_scopes = std::mem::take(&mut self.scopes);
        let saved_tp = std::mem::take(&mut self.tparams);
        let saved_rec = self.recording;
        let saved_flags = self.pending_flags;
        self.file = self.m.syms[s as usize].file;
        self.pkg = self.m.syms[s as usize].pkg;
        self.recording = false;
        self.scopes.push(Vec::new());
        let t = match idx {
            Some(i) => {
                let ts = self.multi_types(&[v], i as usize + 1);
                ts.get(i as usize).copied().unwrap_or(INVALID)
            }
            None => {
                let t = self.value_type(&v);
                if self.m.syms[s as usize].kind == SymKind::Var {
                    self.untyped_default(t)
                } else {
                    t
                }
            }
        };
        self.file = saved_file;
        self.pkg = saved_pkg;
        self.scopes = saved_scopes;
        self.tparams = saved_tp;
        self.recording = saved_rec;
        self.pending_flags = saved_flags;
        self.var_cache.insert(s, t);
        t
    }

    // ---- expressions --------------------------------------------------------------------

    fn value_type(&mut self, e: &Expr) -> TypeId {
        match self.expr(e) {
            Op::Value(t, _) => t,
            Op::Func(s) | Op::Method(s) => self.m.sym_type[s as usize],
            Op::IfaceMethod(_, sig, _) => sig,
            _ => INVALID,
        }
    }

    fn ident(&mut self, name: &str) -> Op {
        if let Some(b) = self.lookup_local(name) {
            return match b {
                Binding::Var(t) => Op::Value(t, self.local_slot(name)),
                Binding::Type(t) => Op::Type(t),
            };
        }
        if let Some((_, t)) = self.tparams.iter().rev().find(|(p, _)| p == name) {
            return Op::Type(*t);
        }
        if let Some(s) = self.m.lookup_pkg_name(self.file, name) {
            return self.sym_op(s);
        }
        if let Some(b) = self.m.import_binding(self.file, name) {
            return Op::Pkg(b.pkg);
        }
        if let Some(&t) = self.m.universe.get(name) {
            return Op::Type(t);
        }
        match name {
            "true" | "false" => Op::Value(self.intern(Ty::Basic(Basic::UntypedBool)), None),
            "nil" => Op::Value(self.intern(Ty::Basic(Basic::UntypedNil)), None),
            "iota" => Op::Value(self.intern(Ty::Basic(Basic::UntypedInt)), None),
            _ => match BUILTINS.iter().find(|b| **b == name) {
                Some(b) => Op::Builtin(b),
                None => Op::Unknown(Reason::UnknownName, name.into()),
            },
        }
    }

    fn sym_op(&mut self, s: SymId) -> Op {
        match self.m.syms[s as usize].kind {
            SymKind::Func => Op::Func(s),
            SymKind::Var => {
                let t = self.var_type(s);
                Op::Value(t, Some(Slot::Var(s)))
            }
            SymKind::Const => {
                let t = self.var_type(s);
                Op::Value(t, None)
            }
            SymKind::Type | SymKind::Alias => Op::Type(self.m.sym_type[s as usize]),
            _ => Op::Unknown(
                Reason::UnknownName,
                self.m.syms[s as usize].name.as_str().into(),
            ),
        }
    }

    /// Looks up a member of a type: fields, methods (declared and promoted), interface methods.
    fn member(&mut self, t: TypeId, name: &str) -> Op {
        if t == INVALID {
            return Op::Unknown(Reason::UnknownType, name.into());
        }
        let mut t = t;
        // Type parameters: methods of the constraint.
        let base = match self.ty(t) {
            Ty::Pointer(b) => b,
            _ => t,
        };
        if let Ty::TypeParam(owner, idx) = self.ty(base) {
            t = self.constraint(owner, idx);
            if t == INVALID {
                return Op::Unknown(Reason::UnknownType, name.into());
            }
        }
        let static_iface = match self.ty(t) {
            Ty::Named(n) if self.m.iface_named.contains_key(&n) => n,
            _ => NONE,
        };
        let get = |id: TypeId| -> Ty {
            if (id as usize) < self.ov.base {
                self.m.types.get(id).clone()
            } else {
                self.ov.local[id as usize - self.ov.base].clone()
            }
        };
        let Some(mem) = members_of(self.m, self.all, t, &get) else {
            return Op::Unknown(Reason::NoMember, name.into());
        };
        let Some(x) = mem.get(name) else {
            // A named type of an unknown package has no known members.
            if let Ty::Named(n) = self.ty(match self.ty(t) {
                Ty::Pointer(b) => b,
                _ => t,
            }) {
                if self.m.named[n as usize].sym == NONE {
                    return Op::Unknown(Reason::UnknownPackage, name.into());
                }
            }
            return Op::Unknown(Reason::NoMember, name.into());
        };
        if x.ambiguous {
            return Op::Unknown(Reason::Ambiguous, name.into());
        }
        match x.kind {
            MemberKind::Field(ft) => {
                let owner = self.field_owner(t, x.via.as_deref(), x.depth);
                Op::Value(ft, owner.map(|n| Slot::Field(n, name.into())))
            }
            MemberKind::Method(s) => Op::Method(s),
            MemberKind::IfaceMethod(d, sig) => {
                if d == NONE {
                    let base = match self.ty(t) {
                        Ty::Pointer(b) => b,
                        _ => t,
                    };
                    self.literal_owner = self.local_types.get(&base).cloned();
                }
                Op::IfaceMethod(d, sig, static_iface)
            }
        }
    }

    /// The named struct type declaring a field reached from `t` (direct fields only; promoted
    /// fields are attributed to their declaring type when it is one hop away).
    fn field_owner(&self, t: TypeId, via: Option<&str>, depth: u16) -> Option<NamedId> {
        let base = match self.ty(t) {
            Ty::Pointer(b) => b,
            _ => t,
        };
        let Ty::Named(n) = self.ty(base) else {
            return None;
        };
        if depth == 0 {
            return Some(n);
        }
        if depth == 1 {
            if let Ty::Struct(fields) = self.ty(self.m.underlying[n as usize]) {
                let f = fields.iter().find(|f| Some(&*f.name) == via)?;
                let fb = match self.ty(f.ty) {
                    Ty::Pointer(b) => b,
                    _ => f.ty,
                };
                if let Ty::Named(inner) = self.ty(fb) {
                    return Some(inner);
                }
            }
        }
        None
    }

    fn is_unsafe_import(&self, x: &Expr) -> bool {
        matches!(x, Expr::Ident(n, _) if self.m.import_binding(self.file, n).is_some_and(|b| b.path == "unsafe"))
    }

    fn selector(&mut self, x: &Expr, name: &str) -> Op {
        let xo = self.expr(x);
        match xo {
            Op::Pkg(None) if self.is_unsafe_import(x) => Op::Builtin("unsafe"),
            Op::Pkg(None) => Op::Unknown(Reason::UnknownPackage, name.into()),
            Op::Pkg(Some(p)) if self.m.pkgs[p as usize].path == "unsafe" => Op::Builtin("unsafe"),
            Op::Pkg(Some(p)) => match self.m.pkgs[p as usize].scope.get(name) {
                Some(&s) => self.sym_op(s),
                None => Op::Unknown(Reason::NoMember, name.into()),
            },
            // Method expression T.M / (*T).M: the method itself.
            Op::Type(t) => match self.member(t, name) {
                Op::Method(s) => Op::Func(s),
                other => other,
            },
            Op::Value(t, _) => self.member(t, name),
            Op::Unknown(r, _) => Op::Unknown(r, name.into()),
            Op::Func(_) | Op::Method(_) | Op::IfaceMethod(..) | Op::Builtin(_) => {
                Op::Unknown(Reason::NoMember, name.into())
            }
        }
    }

    fn results_of(&mut self, sig: TypeId) -> TypeId {
        let Ty::Func(s) = self.ty(self.under(sig)) else {
            return INVALID;
        };
        match s.results.len() {
            0 => INVALID,
            1 => s.results[0],
            _ => self.intern(Ty::Tuple(s.results.clone())),
        }
    }

    fn contains_tparam(&self, t: TypeId, depth: u32) -> bool {
        if depth > 8 {
            return true;
        }
        match self.ty(t) {
            Ty::TypeParam(..) => true,
            Ty::Pointer(x) | Ty::Slice(x) | Ty::Array(_, x) | Ty::Chan(_, x) => {
                self.contains_tparam(x, depth + 1)
            }
            Ty::Map(k, v) => {
                self.contains_tparam(k, depth + 1) || self.contains_tparam(v, depth + 1)
            }
            Ty::Tuple(ts) => ts.iter().any(|&x| self.contains_tparam(x, depth + 1)),
            _ => false,
        }
    }

    /// Substitutes inferred type parameters in a generic function's result type.
    fn subst(&mut self, t: TypeId, map: &[(TypeId, TypeId)], depth: u32) -> TypeId {
        if depth > 8 {
            return INVALID;
        }
        if let Some((_, r)) = map.iter().find(|(p, _)| *p == t) {
            return *r;
        }
        match self.ty(t) {
            Ty::TypeParam(..) => INVALID,
            Ty::Pointer(x) => {
                let x = self.subst(x, map, depth + 1);
                self.pointer(x)
            }
            Ty::Slice(x) => {
                let x = self.subst(x, map, depth + 1);
                self.intern(Ty::Slice(x))
            }
            Ty::Tuple(ts) => {
                let ts: Box<[TypeId]> = ts.iter().map(|&x| self.subst(x, map, depth + 1)).collect();
                self.intern(Ty::Tuple(ts))
            }
            _ => t,
        }
    }

    fn infer(&mut self, sig: TypeId, c: &Call, arg_types: &[TypeId]) -> Vec<(TypeId, TypeId)> {
        let mut map = Vec::new();
        // Explicit type arguments are positional over the function's type parameters.
        let Ty::Func(s) = self.ty(sig) else {
            return map;
        };
        let mut tps: Vec<TypeId> = Vec::new();
        for &p in s.params.iter().chain(s.results.iter()) {
            self.collect_tparams(p, &mut tps, 0);
        }
        tps.sort_by_key(|&t| match self.ty(t) {
            Ty::TypeParam(_, i) => i,
            _ => 0,
        });
        tps.dedup();
        for (i, ta) in c.type_args.iter().enumerate() {
            let t = self.resolve_type(ta);
            if let Some(&p) = tps
                .iter()
                .find(|&&p| matches!(self.ty(p), Ty::TypeParam(_, k) if k as usize == i))
            {
                map.push((p, t));
            }
        }
        for (i, &at) in arg_types.iter().enumerate() {
            let pt = s.params.get(i).copied().unwrap_or(INVALID);
            self.unify(pt, at, &mut map, 0);
        }
        map
    }

    fn collect_tparams(&self, t: TypeId, out: &mut Vec<TypeId>, depth: u32) {
        if depth > 8 {
            return;
        }
        match self.ty(t) {
            Ty::TypeParam(..) => out.push(t),
            Ty::Pointer(x) | Ty::Slice(x) | Ty::Array(_, x) | Ty::Chan(_, x) => {
                self.collect_tparams(x, out, depth + 1)
            }
            Ty::Map(k, v) => {
                self.collect_tparams(k, out, depth + 1);
                self.collect_tparams(v, out, depth + 1);
            }
            _ => {}
        }
    }

    fn unify(&mut self, p: TypeId, a: TypeId, map: &mut Vec<(TypeId, TypeId)>, depth: u32) {
        if depth > 8 || a == INVALID || p == INVALID {
            return;
        }
        match (self.ty(p), self.ty(a)) {
            (Ty::TypeParam(..), _) if !map.iter().any(|(x, _)| *x == p) => {
                let a = self.untyped_default(a);
                map.push((p, a));
            }
            (Ty::Pointer(x), Ty::Pointer(y)) | (Ty::Slice(x), Ty::Slice(y)) => {
                self.unify(x, y, map, depth + 1)
            }
            (Ty::Map(k1, v1), Ty::Map(k2, v2)) => {
                self.unify(k1, k2, map, depth + 1);
                self.unify(v1, v2, map, depth + 1);
            }
            _ => {}
        }
    }

    fn call(&mut self, c: &Call) -> Op {
        let flags = std::mem::take(&mut self.pending_flags);
        let f = self.expr(&c.fun);
        let literal_owner = self.literal_owner.take();
        let mut arg_ops = Vec::with_capacity(c.args.len());
        for a in &c.args {
            arg_ops.push(self.expr(a));
        }
        match f {
            Op::Type(t) => {
                // A conversion. Converting a function to a named func type: its methods'
                // receiver can be that function.
                if let (Ty::Named(n), Some(a)) = (self.ty(t), arg_ops.first()) {
                    if matches!(self.ty(self.under(t)), Ty::Func(_)) {
                        let a = a.clone();
                        self.flow_to(Slot::Recv(n), &a);
                    }
                }
                Op::Value(t, None)
            }
            Op::Builtin(b) => self.builtin(b, c, &arg_ops),
            Op::Func(s) | Op::Method(s) => {
                self.record(c.pos, Target::Static(s), flags);
                for (i, a) in arg_ops.iter().enumerate() {
                    if Self::source_of(a).is_some() {
                        self.flow_to(Slot::Param(s, i as u32), a);
                    }
                }
                let sig = self.m.sym_type[s as usize];
                let r = self.results_of(sig);
                if self.contains_tparam(r, 0) {
                    let ats: Vec<TypeId> = arg_ops
                        .iter()
                        .map(|o| match o {
                            Op::Value(t, _) => *t,
                            _ => INVALID,
                        })
                        .collect();
                    let map = self.infer(sig, c, &ats);
                    let r = self.subst(r, &map, 0);
                    return Op::Value(r, None);
                }
                Op::Value(r, None)
            }
            Op::IfaceMethod(d, sig, iface) => {
                if d == NONE {
                    // go/types names it `(interface).M`; graph::to_store gives it that symbol.
                    // A local named type's method is `Type.M` (see graph::to_store).
                    let name = match (&c.fun, literal_owner) {
                        (Expr::Selector(_, n, _), Some(owner)) => format!("{owner}.{n}").into(),
                        (Expr::Selector(_, n, _), None) => n.as_str().into(),
                        _ => "".into(),
                    };
                    self.record(
                        c.pos,
                        Target::Unresolved(Reason::InterfaceLiteral, name),
                        flags,
                    );
                } else {
                    self.record(c.pos, Target::Interface(d, iface), flags);
                    for (i, a) in arg_ops.iter().enumerate() {
                        if Self::source_of(a).is_some() {
                            self.flow_to(Slot::Param(d, i as u32), a);
                        }
                    }
                }
                Op::Value(self.results_of(sig), None)
            }
            Op::Value(t, slot) => {
                let u = self.under(t);
                if t != INVALID && !matches!(self.ty(u), Ty::Func(_)) {
                    self.record(
                        c.pos,
                        Target::Unresolved(Reason::NotAFunction, "".into()),
                        flags,
                    );
                    return Op::Value(INVALID, None);
                }
                self.record(c.pos, Target::Dynamic(slot), flags);
                Op::Value(self.results_of(t), None)
            }
            Op::Unknown(r, name) => {
                self.record(c.pos, Target::Unresolved(r, name), flags);
                Op::Value(INVALID, None)
            }
            Op::Pkg(_) => Op::Value(INVALID, None),
        }
    }

    fn builtin(&mut self, b: &str, c: &Call, args: &[Op]) -> Op {
        let first = || args.first().cloned();
        let int = || Ty::Basic(Basic::Int);
        match b {
            // Go 1.26: new(expr) points to a copy of the expression's value.
            "new" => match first() {
                Some(Op::Type(t)) => Op::Value(self.pointer(t), None),
                Some(Op::Value(t, _)) if t != INVALID => Op::Value(self.pointer(t), None),
                _ => Op::Value(INVALID, None),
            },
            "make" => match first() {
                Some(Op::Type(t)) => Op::Value(t, None),
                _ => Op::Value(INVALID, None),
            },
            "append" | "min" | "max" => match first() {
                Some(Op::Value(t, _)) => Op::Value(t, None),
                _ => Op::Value(INVALID, None),
            },
            "len" | "cap" | "copy" => Op::Value(self.intern(int()), None),
            "recover" => Op::Value(self.m.universe["any"], None),
            "real" | "imag" => Op::Value(self.intern(Ty::Basic(Basic::Float64)), None),
            "complex" => Op::Value(self.intern(Ty::Basic(Basic::Complex128)), None),
            _ => {
                let _ = c;
                Op::Value(INVALID, None)
            }
        }
    }

    fn expr(&mut self, e: &Expr) -> Op {
        match e {
            Expr::Ident(n, _) => self.ident(n),
            Expr::Selector(x, name, _) => self.selector(x, name),
            Expr::Call(c) => self.call(c),
            Expr::Composite(c) => {
                let t = match &c.ty {
                    Some(te) => self.resolve_type(te),
                    None => INVALID,
                };
                let field_owner = {
                    let base = match self.ty(t) {
                        Ty::Pointer(b) => b,
                        _ => t,
                    };
                    match self.ty(base) {
                        Ty::Named(n) if matches!(self.ty(self.under(base)), Ty::Struct(_)) => {
                            Some(n)
                        }
                        _ => None,
                    }
                };
                for el in &c.elems {
                    if let Some(k) = &el.key {
                        if !matches!(k, Expr::Ident(..)) {
                            self.expr(k);
                        }
                    }
                    let v = self.expr(&el.value);
                    if let (Some(n), Some(Expr::Ident(k, _))) = (field_owner, &el.key) {
                        self.flow_to(Slot::Field(n, k.as_str().into()), &v);
                    }
                }
                Op::Value(t, None)
            }
            Expr::FuncLit(f, body) => {
                let t = self.sig(f);
                let saved = std::mem::replace(&mut self.scopes, vec![Vec::new()]);
                // Closures see the enclosing scopes.
                self.scopes = saved.clone();
                self.scopes.push(Vec::new());
                for p in f.params.iter().chain(f.results.iter()) {
                    if let Some(n) = &p.name {
                        let pt = self.resolve_type(&p.ty);
                        self.declare(n, Binding::Var(pt));
                    }
                }
                let flags = std::mem::take(&mut self.pending_flags);
                self.block(body);
                self.pending_flags = flags;
                self.scopes = saved;
                Op::Value(t, None)
            }
            Expr::Unary(op, x) => {
                let xo = self.expr(x);
                match (op, xo) {
                    (UnOp::Addr, Op::Value(t, _)) => Op::Value(self.pointer(t), None),
                    (UnOp::Deref, Op::Type(t)) => Op::Type(self.pointer(t)),
                    (UnOp::Deref, Op::Value(t, _)) => match self.ty(self.under(t)) {
                        Ty::Pointer(b) => Op::Value(b, None),
                        _ => Op::Value(INVALID, None),
                    },
                    (UnOp::Recv, Op::Value(t, _)) => match self.ty(self.under(t)) {
                        Ty::Chan(_, e) => Op::Value(e, None),
                        _ => Op::Value(INVALID, None),
                    },
                    (UnOp::Not, _) => Op::Value(self.intern(Ty::Basic(Basic::UntypedBool)), None),
                    (UnOp::Other, Op::Value(t, _)) => Op::Value(t, None),
                    (_, Op::Unknown(r, n)) => Op::Unknown(r, n),
                    _ => Op::Value(INVALID, None),
                }
            }
            Expr::Binary(op, l, r) => {
                let lt = self.value_type(l);
                let rt = self.value_type(r);
                match op {
                    BinOp::Compare => Op::Value(self.intern(Ty::Basic(Basic::UntypedBool)), None),
                    BinOp::Shift => Op::Value(lt, None),
                    BinOp::Arith => {
                        if self.is_untyped(lt) && !self.is_untyped(rt) && rt != INVALID {
                            Op::Value(rt, None)
                        } else {
                            Op::Value(lt, None)
                        }
                    }
                }
            }
            Expr::Index(x, idx) => {
                let xo = self.expr(x);
                for i in idx {
                    self.expr(i);
                }
                match xo {
                    Op::Func(s) => Op::Func(s),
                    Op::Type(t) => Op::Type(t),
                    Op::Value(t, _) => Op::Value(self.index_type(t), None),
                    other => other,
                }
            }
            Expr::Slice(x, idx) => {
                for i in idx {
                    self.expr(i);
                }
                let t = self.value_type(x);
                let u = self.under(t);
                match self.ty(u) {
                    Ty::Array(_, e) => Op::Value(self.intern(Ty::Slice(e)), None),
                    Ty::Pointer(p) => match self.ty(self.under(p)) {
                        Ty::Array(_, e) => Op::Value(self.intern(Ty::Slice(e)), None),
                        _ => Op::Value(INVALID, None),
                    },
                    Ty::Basic(Basic::UntypedString) => {
                        Op::Value(self.intern(Ty::Basic(Basic::String)), None)
                    }
                    _ => Op::Value(t, None),
                }
            }
            Expr::TypeAssert(x, te) => {
                self.expr(x);
                match te {
                    Some(te) => Op::Value(self.resolve_type(te), None),
                    None => Op::Value(INVALID, None),
                }
            }
            Expr::Type(te) => Op::Type(self.resolve_type(te)),
            Expr::Conversion(te, x, cpos) => {
                // `F[int](x)` parses like a conversion to a generic type: it is a call when
                // the name denotes a function.
                if let TypeExpr::Generic(base, targs) = te {
                    let fun = match &**base {
                        TypeExpr::Name(n) => Some(Expr::Ident(n.clone(), Pos::default())),
                        TypeExpr::Qualified(p, n) => Some(Expr::Selector(
                            Box::new(Expr::Ident(p.clone(), Pos::default())),
                            n.clone(),
                            Pos::default(),
                        )),
                        _ => None,
                    };
                    if let Some(fun) = fun {
                        let saved = self.recording;
                        self.recording = false;
                        let is_func = matches!(self.expr(&fun), Op::Func(_));
                        self.recording = saved;
                        if is_func {
                            return self.call(&Call {
                                fun,
                                args: vec![(**x).clone()],
                                type_args: targs.clone(),
                                ellipsis: false,
                                pos: *cpos,
                            });
                        }
                    }
                }
                let xo = self.expr(x);
                let t = self.resolve_type(te);
                if let Ty::Named(n) = self.ty(t) {
                    if matches!(self.ty(self.under(t)), Ty::Func(_)) {
                        self.flow_to(Slot::Recv(n), &xo);
                    }
                }
                Op::Value(t, None)
            }
            Expr::Lit(k) => {
                let b = match k {
                    LitKind::Int => Basic::UntypedInt,
                    LitKind::Float | LitKind::Imag => Basic::UntypedFloat,
                    LitKind::Rune => Basic::UntypedRune,
                    LitKind::String => Basic::UntypedString,
                    LitKind::Bool => Basic::UntypedBool,
                };
                Op::Value(self.intern(Ty::Basic(b)), None)
            }
            Expr::Other => Op::Value(INVALID, None),
        }
    }

    fn index_type(&mut self, t: TypeId) -> TypeId {
        let u = self.under(t);
        match self.ty(u) {
            Ty::Slice(e) | Ty::Array(_, e) => e,
            Ty::Map(_, v) => v,
            Ty::Pointer(p) => match self.ty(self.under(p)) {
                Ty::Array(_, e) => e,
                _ => INVALID,
            },
            Ty::Basic(Basic::String | Basic::UntypedString) => self.intern(Ty::Basic(Basic::Uint8)),
            _ => INVALID,
        }
    }

    /// Types of `n` names assigned from `values` (one multi-value expression or n values).
    fn multi_types(&mut self, values: &[Expr], n: usize) -> Vec<TypeId> {
        if values.len() == 1 && n > 1 {
            let v = &values[0];
            let boolean = self.intern(Ty::Basic(Basic::Bool));
            match v {
                Expr::TypeAssert(_, Some(_)) => {
                    let t = self.value_type(v);
                    return vec![t, boolean];
                }
                Expr::Index(x, _) => {
                    let t = self.value_type(v);
                    let xt = self.value_type_quiet(x);
                    if matches!(self.ty(self.under(xt)), Ty::Map(..)) {
                        return vec![t, boolean];
                    }
                    return vec![t; n];
                }
                Expr::Unary(UnOp::Recv, _) => {
                    let t = self.value_type(v);
                    return vec![t, boolean];
                }
                _ => {}
            }
            let t = self.value_type(v);
            return match self.ty(t) {
                Ty::Tuple(ts) => (0..n)
                    .map(|i| ts.get(i).copied().unwrap_or(INVALID))
                    .collect(),
                _ => vec![INVALID; n],
            };
        }
        values.iter().map(|v| self.value_type(v)).collect()
    }

    /// The type of an expression already walked: walks again without recording.
    fn value_type_quiet(&mut self, e: &Expr) -> TypeId {
        let saved = self.recording;
        self.recording = false;
        let t = self.value_type(e);
        self.recording = saved;
        t
    }

    // ---- statements ---------------------------------------------------------------------

    fn block(&mut self, b: &Block) {
        self.scopes.push(Vec::new());
        for s in b {
            self.stmt(s);
        }
        self.scopes.pop();
    }

    fn define(&mut self, names: &[(String, Pos)], values: &[Expr]) {
        let ops: Option<Vec<Op>> =
            (values.len() == names.len()).then(|| values.iter().map(|v| self.expr(v)).collect());
        let types: Vec<TypeId> = match &ops {
            Some(ops) => ops
                .iter()
                .map(|o| match o {
                    Op::Value(t, _) => *t,
                    Op::Func(s) | Op::Method(s) => self.m.sym_type[*s as usize],
                    Op::IfaceMethod(_, sig, _) => *sig,
                    _ => INVALID,
                })
                .collect(),
            None => self.multi_types(values, names.len()),
        };
        for (i, (n, _)) in names.iter().enumerate() {
            if n == "_" {
                continue;
            }
            if let Some(ops) = &ops {
                if let Some(slot) = self.local_slot(n) {
                    let op = ops[i].clone();
                    self.flow_to(slot, &op);
                }
            }
            if self.declared_in_current(n) {
                continue;
            }
            let t = types.get(i).copied().unwrap_or(INVALID);
            let t = self.untyped_default(t);
            self.declare(n, Binding::Var(t));
        }
    }

    fn assign(&mut self, lhs: &[Expr], rhs: &[Expr]) {
        let rops: Vec<Op> = rhs.iter().map(|r| self.expr(r)).collect();
        for (i, l) in lhs.iter().enumerate() {
            let lo = self.expr(l);
            if lhs.len() == rhs.len() {
                if let Op::Value(_, Some(slot)) = lo {
                    let r = rops[i].clone();
                    self.flow_to(slot, &r);
                }
            }
        }
    }

    fn var_specs(&mut self, specs: &[facts::VarSpec], is_const: bool) {
        for s in specs {
            let names: Vec<(String, Pos)> = s.names.clone();
            match &s.ty {
                Some(te) => {
                    for v in &s.values {
                        self.expr(v);
                    }
                    let t = self.resolve_type(te);
                    for (n, _) in &names {
                        self.declare(n, Binding::Var(t));
                    }
                }
                None if is_const => {
                    for v in &s.values {
                        self.expr(v);
                    }
                    for (n, _) in &names {
                        let t = self.intern(Ty::Basic(Basic::UntypedInt));
                        self.declare(n, Binding::Var(t));
                    }
                }
                None => self.define_fresh(&names, &s.values),
            }
        }
    }

    fn define_fresh(&mut self, names: &[(String, Pos)], values: &[Expr]) {
        // `var` always declares new names, even when one exists in the scope.
        let types = if values.len() == names.len() {
            let mut ts = Vec::new();
            for (i, v) in values.iter().enumerate() {
                let op = self.expr(v);
                if let Some(slot) = self.local_slot(&names[i].0) {
                    self.flow_to(slot, &op);
                }
                ts.push(match op {
                    Op::Value(t, _) => t,
                    Op::Func(s) | Op::Method(s) => self.m.sym_type[s as usize],
                    _ => INVALID,
                });
            }
            ts
        } else {
            self.multi_types(values, names.len())
        };
        for (i, (n, _)) in names.iter().enumerate() {
            let t = types.get(i).copied().unwrap_or(INVALID);
            let t = self.untyped_default(t);
            self.declare(n, Binding::Var(t));
        }
    }

    fn stmt(&mut self, s: &Stmt) {
        match s {
            Stmt::Expr(e) => {
                self.expr(e);
            }
            Stmt::Define(names, values) => self.define(names, values),
            Stmt::Assign(l, r) => self.assign(l, r),
            Stmt::Var(specs) => self.var_specs(specs, false),
            Stmt::Const(specs) => self.var_specs(specs, true),
            Stmt::TypeDecl { name, ty, .. } => {
                let t = self.resolve_type(ty);
                self.local_types
                    .entry(t)
                    .or_insert_with(|| name.as_str().into());
                self.declare(name, Binding::Type(t));
            }
            Stmt::Go(e) | Stmt::Defer(e) => {
                let flag = if matches!(s, Stmt::Go(_)) { GO } else { DEFER };
                match e {
                    Expr::Call(_) => {
                        self.pending_flags = flag;
                        self.expr(e);
                        self.pending_flags = 0;
                    }
                    _ => {
                        self.expr(e);
                    }
                }
            }
            Stmt::Return(es) => {
                for e in es {
                    self.expr(e);
                }
            }
            Stmt::Block(b) => self.block(b),
            Stmt::If {
                init,
                cond,
                then,
                els,
            } => {
                self.scopes.push(Vec::new());
                if let Some(i) = init {
                    self.stmt(i);
                }
                self.expr(cond);
                self.block(then);
                if let Some(e) = els {
                    self.stmt(e);
                }
                self.scopes.pop();
            }
            Stmt::For {
                init,
                cond,
                post,
                body,
            } => {
                self.scopes.push(Vec::new());
                if let Some(i) = init {
                    self.stmt(i);
                }
                if let Some(c) = cond {
                    self.expr(c);
                }
                if let Some(p) = post {
                    self.stmt(p);
                }
                self.block(body);
                self.scopes.pop();
            }
            Stmt::Range {
                key,
                value,
                define,
                expr,
                body,
            } => {
                let t = self.value_type(expr);
                let u = self.under(t);
                let int = self.intern(Ty::Basic(Basic::Int));
                let (kt, vt) = match self.ty(u) {
                    Ty::Slice(e) | Ty::Array(_, e) => (int, e),
                    Ty::Pointer(p) => match self.ty(self.under(p)) {
                        Ty::Array(_, e) => (int, e),
                        _ => (INVALID, INVALID),
                    },
                    Ty::Map(k, v) => (k, v),
                    Ty::Chan(_, e) => (e, INVALID),
                    Ty::Basic(Basic::String | Basic::UntypedString) => {
                        (int, self.intern(Ty::Basic(Basic::Int32)))
                    }
                    Ty::Basic(_) => (self.untyped_default(t), INVALID),
                    _ => (INVALID, INVALID),
                };
                self.scopes.push(Vec::new());
                if *define {
                    if let Some(Expr::Ident(n, _)) = key {
                        self.declare(n, Binding::Var(kt));
                    }
                    if let Some(Expr::Ident(n, _)) = value {
                        self.declare(n, Binding::Var(vt));
                    }
                } else {
                    if let Some(k) = key {
                        self.expr(k);
                    }
                    if let Some(v) = value {
                        self.expr(v);
                    }
                }
                self.block(body);
                self.scopes.pop();
            }
            Stmt::Switch { init, tag, cases } => {
                self.scopes.push(Vec::new());
                if let Some(i) = init {
                    self.stmt(i);
                }
                if let Some(t) = tag {
                    self.expr(t);
                }
                for (es, body) in cases {
                    for e in es {
                        self.expr(e);
                    }
                    self.block(body);
                }
                self.scopes.pop();
            }
            Stmt::TypeSwitch {
                init,
                bind,
                expr,
                cases,
            } => {
                self.scopes.push(Vec::new());
                if let Some(i) = init {
                    self.stmt(i);
                }
                let xt = self.value_type(expr);
                for case in cases {
                    self.scopes.push(Vec::new());
                    if let Some(b) = bind {
                        let t = match case.types.as_slice() {
                            [Some(te)] => self.resolve_type(te),
                            _ => xt,
                        };
                        self.declare(b, Binding::Var(t));
                    }
                    self.block(&case.body);
                    self.scopes.pop();
                }
                self.scopes.pop();
            }
            Stmt::Select(cases) => {
                for (comm, body) in cases {
                    self.scopes.push(Vec::new());
                    if let Some(c) = comm {
                        self.stmt(c);
                    }
                    self.block(body);
                    self.scopes.pop();
                }
            }
            Stmt::Send(a, b) => {
                self.expr(a);
                self.expr(b);
            }
            Stmt::IncDec(e) => {
                self.expr(e);
            }
            Stmt::Labeled(s) => self.stmt(s),
            Stmt::Other => {}
        }
    }
}
