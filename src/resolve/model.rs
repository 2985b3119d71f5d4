//! The resolved model: packages, symbols, named types and their underlying types, function
//! signatures. Built once, single-threaded, from every file's facts; frozen afterwards so
//! that call resolution can read it from many threads.

use super::types::*;
use crate::facts::{FileFacts, FuncType, IfaceElem, Item, ItemKind, Pos, TypeExpr};
// FxHash: keys are names and small ids, hashed millions of times per index.
use rustc_hash::FxHashMap as HashMap;

pub type PkgId = u32;
pub type SymId = u32;
pub type FileId = u32;
pub const NONE: u32 = u32::MAX;

/// One file handed to the resolver.
pub struct FileInput {
    pub rel: String,
    /// Import path of the file's directory (without a `_test` suffix).
    pub import_path: String,
    pub dir: String,
    pub is_test: bool,
    pub vendor: bool,
    pub external: bool,
    pub facts: FileFacts,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SymKind {
    Func,
    Method,
    /// A named type (struct, defined type, interface: see `NamedType`).
    Type,
    Alias,
    Var,
    Const,
    /// A method declared in an interface type.
    IfaceMethod,
    /// `importpath.init`: package initialisation (var initialisers and `init` funcs).
    Init,
}

#[derive(Clone, Debug)]
pub struct Symbol {
    pub name: String,
    pub kind: SymKind,
    pub pkg: PkgId,
    pub file: FileId,
    /// Index of the declaring item in the file's facts, or NONE.
    pub item: u32,
    pub pos: Pos,
    /// Methods and interface methods: the named type declaring them.
    pub recv: u32,
    pub ptr_recv: bool,
    /// Types: the named type.
    pub named: u32,
    /// Other declarations of the same name in other build variants of the package.
    pub variants: u32,
}

pub struct Package {
    pub path: String,
    pub name: String,
    pub dir: String,
    pub files: Vec<FileId>,
    pub scope: HashMap<String, SymId>,
    pub external: bool,
    pub vendor: bool,
    /// An external test package (`package foo_test`).
    pub xtest: bool,
    pub init: SymId,
}

pub struct NamedType {
    pub pkg: PkgId,
    pub name: String,
    /// The type symbol, or NONE for a type of an unknown package (`placeholder`).
    pub sym: SymId,
    pub tparams: Vec<String>,
    pub methods: HashMap<String, SymId>,
}

pub struct ImportBinding {
    pub name: String,
    pub path: String,
    pub pkg: Option<PkgId>,
}

pub struct File {
    pub input: FileInput,
    pub pkg: PkgId,
    pub imports: Vec<ImportBinding>,
    pub dot_imports: Vec<PkgId>,
}

/// The interface method set of an interface type, flattened over embedding.
#[derive(Clone, Debug, Default)]
pub struct IfaceInfo {
    /// Sorted by key: (key, name, signature, declaring interface-method symbol or NONE).
    pub methods: Vec<IMethod>,
    pub typeset: bool,
}

#[derive(Clone, Debug)]
pub struct IMethod {
    /// The name, package-qualified when unexported (`io.x` style: `pkgid:name`).
    pub key: Box<str>,
    pub name: Box<str>,
    pub sig: TypeId,
    pub decl: SymId,
}

pub struct Model {
    pub pkgs: Vec<Package>,
    pub files: Vec<File>,
    pub syms: Vec<Symbol>,
    pub named: Vec<NamedType>,
    pub types: TypeTable,
    pub underlying: Vec<TypeId>,
    /// Signature (Ty::Func) of each func/method/interface-method symbol; type of vars/consts
    /// with a declared type; INVALID otherwise (computed from the initialiser when needed).
    pub sym_type: Vec<TypeId>,
    /// Interface literals (unnamed), by type.
    pub iface: HashMap<TypeId, IfaceInfo>,
    /// Named interfaces, whose methods are named after the interface declaring them.
    pub iface_named: HashMap<NamedId, IfaceInfo>,
    pub pkgs_by_path: HashMap<String, Vec<PkgId>>,
    pub pkg_by_dir: HashMap<String, PkgId>,
    pub universe: HashMap<&'static str, TypeId>,
    pub error_named: NamedId,
    placeholders: HashMap<(String, String), NamedId>,
    named_state: Vec<u8>,
    pub unresolved_imports: u32,
    pub duplicate_decls: u32,
    rec_depth: u32,
}

pub fn is_exported(name: &str) -> bool {
    name.chars().next().is_some_and(|c| c.is_uppercase())
}

/// How much a build variant is preferred when two files declare the same name:
/// 0 for files built in the default configuration (linux/amd64, cgo, the current Go),
/// 2 for the others.
pub fn variant_rank(rel: &str, build: Option<&str>) -> u8 {
    if crate::facts::build::matches_default(rel, build) {
        0
    } else {
        2
    }
}

struct Ctx<'a> {
    file: FileId,
    tparams: &'a [(String, TypeId)],
}

impl Model {
    /// Builds the model from every file's facts. Files are grouped into packages by directory
    /// and package clause; `_test` packages are separate packages.
    pub fn build(inputs: Vec<FileInput>) -> Model {
        let mut m = Model {
            pkgs: Vec::new(),
            files: Vec::new(),
            syms: Vec::new(),
            named: Vec::new(),
            types: TypeTable::new(),
            underlying: Vec::new(),
            sym_type: Vec::new(),
            iface: HashMap::default(),
            iface_named: HashMap::default(),
            pkgs_by_path: HashMap::default(),
            pkg_by_dir: HashMap::default(),
            universe: HashMap::default(),
            error_named: 0,
            placeholders: HashMap::default(),
            named_state: Vec::new(),
            unresolved_imports: 0,
            duplicate_decls: 0,
            rec_depth: 0,
        };
        m.init_universe();
        m.collect(inputs);
        m.bind_imports();
        for n in 0..m.named.len() as u32 {
            m.resolve_underlying(n);
        }
        for s in 0..m.syms.len() as u32 {
            let t = m.compute_sym_type(s);
            m.sym_type[s as usize] = t;
        }
        m
    }

    fn init_universe(&mut self) {
        let pkg = Package {
            path: String::new(),
            name: String::new(),
            dir: String::new(),
            files: Vec::new(),
            scope: HashMap::default(),
            external: true,
            vendor: false,
            xtest: false,
            init: NONE,
        };
        self.pkgs.push(pkg);
        let basics: &[(&str, Basic)] = &[
            ("bool", Basic::Bool),
            ("int", Basic::Int),
            ("int8", Basic::Int8),
            ("int16", Basic::Int16),
            ("int32", Basic::Int32),
            ("rune", Basic::Int32),
            ("int64", Basic::Int64),
            ("uint", Basic::Uint),
            ("uint8", Basic::Uint8),
            ("byte", Basic::Uint8),
            ("uint16", Basic::Uint16),
            ("uint32", Basic::Uint32),
            ("uint64", Basic::Uint64),
            ("uintptr", Basic::Uintptr),
            ("float32", Basic::Float32),
            ("float64", Basic::Float64),
            ("complex64", Basic::Complex64),
            ("complex128", Basic::Complex128),
            ("string", Basic::String),
        ];
        for (n, b) in basics {
            let t = self.types.basic(*b);
            self.universe.insert(n, t);
        }
        let empty = self.types.intern(Ty::Interface(Box::new([]), false));
        self.iface.insert(empty, IfaceInfo::default());
        self.universe.insert("any", empty);
        let comparable = self.types.intern(Ty::Interface(Box::new([]), true));
        self.iface.insert(
            comparable,
            IfaceInfo {
                methods: Vec::new(),
                typeset: true,
            },
        );
        self.universe.insert("comparable", comparable);
        // error: a named interface of the universe with one method, Error() string.
        let err_sym = self.syms.len() as SymId;
        let err_named = self.named.len() as NamedId;
        self.syms.push(Symbol {
            name: "error".into(),
            kind: SymKind::Type,
            pkg: 0,
            file: NONE,
            item: NONE,
            pos: Pos::default(),
            recv: NONE,
            ptr_recv: false,
            named: err_named,
            variants: 0,
        });
        self.sym_type.push(INVALID);
        let m_sym = self.syms.len() as SymId;
        self.syms.push(Symbol {
            name: "Error".into(),
            kind: SymKind::IfaceMethod,
            pkg: 0,
            file: NONE,
            item: NONE,
            pos: Pos::default(),
            recv: err_named,
            ptr_recv: false,
            named: NONE,
            variants: 0,
        });
        let string = self.universe["string"];
        let sig = self.types.intern(Ty::Func(Sig {
            params: Box::new([]),
            results: Box::new([string]),
            variadic: false,
        }));
        self.sym_type.push(sig);
        self.named.push(NamedType {
            pkg: 0,
            name: "error".into(),
            sym: err_sym,
            tparams: Vec::new(),
            methods: HashMap::default(),
        });
        self.named_state.push(2);
        let iface = self
            .types
            .intern(Ty::Interface(Box::new([("Error".into(), sig)]), false));
        self.iface_named.insert(
            err_named,
            IfaceInfo {
                methods: vec![IMethod {
                    key: "Error".into(),
                    name: "Error".into(),
                    sig,
                    decl: m_sym,
                }],
                typeset: false,
            },
        );
        self.underlying.push(iface);
        self.error_named = err_named;
        let et = self.types.named(err_named);
        self.universe.insert("error", et);
        self.pkgs[0].scope.insert("error".into(), err_sym);
    }

    fn add_sym(&mut self, s: Symbol) -> SymId {
        let id = self.syms.len() as SymId;
        self.syms.push(s);
        self.sym_type.push(INVALID);
        id
    }

    fn collect(&mut self, inputs: Vec<FileInput>) {
        // Group files into packages: (dir, package clause).
        let mut order: Vec<usize> = (0..inputs.len()).collect();
        order.sort_by(|&a, &b| {
            let (fa, fb) = (&inputs[a], &inputs[b]);
            (
                &fa.dir,
                variant_rank(&fa.rel, fa.facts.build.as_deref()),
                &fa.rel,
            )
                .cmp(&(
                    &fb.dir,
                    variant_rank(&fb.rel, fb.facts.build.as_deref()),
                    &fb.rel,
                ))
        });
        let mut slots: Vec<Option<FileInput>> = inputs.into_iter().map(Some).collect();
        let mut pkg_key: HashMap<(String, String), PkgId> = HashMap::default();
        for idx in order {
            let input = slots[idx].take().expect("each file is taken once");
            let xtest = input.is_test && input.facts.package.ends_with("_test");
            let key = (input.dir.clone(), input.facts.package.clone());
            let pkg = match pkg_key.get(&key) {
                Some(&p) => p,
                None => {
                    let id = self.pkgs.len() as PkgId;
                    let path = if xtest {
                        format!("{}_test", input.import_path)
                    } else {
                        input.import_path.clone()
                    };
                    self.pkgs.push(Package {
                        path: path.clone(),
                        name: input.facts.package.clone(),
                        dir: input.dir.clone(),
                        files: Vec::new(),
                        scope: HashMap::default(),
                        external: input.external,
                        vendor: input.vendor,
                        xtest,
                        init: NONE,
                    });
                    self.pkgs_by_path.entry(path).or_default().push(id);
                    if !xtest {
                        // The non-test package of a directory wins the directory.
                        let e = self.pkg_by_dir.entry(input.dir.clone()).or_insert(id);
                        if self.pkgs[*e as usize].name.is_empty()
                            || (input.facts.package != "main" && !input.is_test)
                        {
                            let cur = &self.pkgs[*e as usize];
                            if cur.name == "main" || cur.name.is_empty() {
                                *e = id;
                            }
                        }
                    }
                    pkg_key.insert(key, id);
                    let init = self.add_sym(Symbol {
                        name: "init".into(),
                        kind: SymKind::Init,
                        pkg: id,
                        file: NONE,
                        item: NONE,
                        pos: Pos::default(),
                        recv: NONE,
                        ptr_recv: false,
                        named: NONE,
                        variants: 0,
                    });
                    self.pkgs[id as usize].init = init;
                    id
                }
            };
            let fid = self.files.len() as FileId;
            self.pkgs[pkg as usize].files.push(fid);
            self.files.push(File {
                input,
                pkg,
                imports: Vec::new(),
                dot_imports: Vec::new(),
            });
        }
        // Declarations, package by package; methods after types so receivers exist.
        for fid in 0..self.files.len() {
            let pkg = self.files[fid].pkg;
            let n_items = self.files[fid].input.facts.items.len();
            for i in 0..n_items {
                let item = &self.files[fid].input.facts.items[i];
                let kind = match item.kind {
                    ItemKind::Func => SymKind::Func,
                    ItemKind::Method => continue,
                    ItemKind::Type => SymKind::Type,
                    ItemKind::Alias => SymKind::Alias,
                    ItemKind::Var => SymKind::Var,
                    ItemKind::Const => SymKind::Const,
                };
                let name = item.name.clone();
                if name == "_" || name.is_empty() {
                    continue;
                }
                if kind == SymKind::Func && name == "init" {
                    continue;
                }
                let tparams: Vec<String> =
                    item.type_params.iter().map(|t| t.name.clone()).collect();
                let pos = item.pos;
                if let Some(&existing) = self.pkgs[pkg as usize].scope.get(&name) {
                    self.syms[existing as usize].variants += 1;
                    self.duplicate_decls += 1;
                    continue;
                }
                let sym = self.add_sym(Symbol {
                    name: name.clone(),
                    kind,
                    pkg,
                    file: fid as FileId,
                    item: i as u32,
                    pos,
                    recv: NONE,
                    ptr_recv: false,
                    named: NONE,
                    variants: 0,
                });
                if kind == SymKind::Type {
                    let nid = self.named.len() as NamedId;
                    self.named.push(NamedType {
                        pkg,
                        name: name.clone(),
                        sym,
                        tparams,
                        methods: HashMap::default(),
                    });
                    self.named_state.push(0);
                    self.underlying.push(INVALID);
                    self.syms[sym as usize].named = nid;
                }
                self.pkgs[pkg as usize].scope.insert(name, sym);
            }
        }
        for fid in 0..self.files.len() {
            let pkg = self.files[fid].pkg;
            let n_items = self.files[fid].input.facts.items.len();
            for i in 0..n_items {
                let item = &self.files[fid].input.facts.items[i];
                if item.kind != ItemKind::Method {
                    continue;
                }
                let Some(recv) = &item.recv else { continue };
                let Some(&tsym) = self.pkgs[pkg as usize].scope.get(&recv.base) else {
                    continue;
                };
                let nid = self.syms[tsym as usize].named;
                if nid == NONE {
                    continue;
                }
                let name = item.name.clone();
                if name == "_" {
                    continue;
                }
                let (pos, ptr) = (item.pos, recv.pointer);
                if let Some(&existing) = self.named[nid as usize].methods.get(&name) {
                    self.syms[existing as usize].variants += 1;
                    self.duplicate_decls += 1;
                    continue;
                }
                let sym = self.add_sym(Symbol {
                    name: name.clone(),
                    kind: SymKind::Method,
                    pkg,
                    file: fid as FileId,
                    item: i as u32,
                    pos,
                    recv: nid,
                    ptr_recv: ptr,
                    named: NONE,
                    variants: 0,
                });
                self.named[nid as usize].methods.insert(name, sym);
            }
        }
    }

    fn bind_imports(&mut self) {
        for fid in 0..self.files.len() {
            let file = &self.files[fid];
            let mut bindings = Vec::new();
            let mut dots = Vec::new();
            let imports: Vec<_> = file
                .input
                .facts
                .imports
                .iter()
                .map(|i| (i.alias.clone(), i.path.clone()))
                .collect();
            let dir = file.input.dir.clone();
            for (alias, path) in imports {
                let pkg = self.lookup_import(&dir, &path);
                if pkg.is_none() && path != "C" && path != "unsafe" {
                    self.unresolved_imports += 1;
                }
                let name = match &alias {
                    Some(a) => a.clone(),
                    None => match pkg {
                        Some(p) => self.pkgs[p as usize].name.clone(),
                        None => guess_package_name(&path),
                    },
                };
                if name == "." {
                    if let Some(p) = pkg {
                        dots.push(p);
                    }
                    continue;
                }
                if name == "_" {
                    continue;
                }
                bindings.push(ImportBinding { name, path, pkg });
            }
            self.files[fid].imports = bindings;
            self.files[fid].dot_imports = dots;
        }
    }

    /// The package an import path denotes for code in `dir`: vendor directories from `dir`
    /// up first (as the go command resolves them), then the path itself, then std's vendor.
    pub fn lookup_import(&self, dir: &str, path: &str) -> Option<PkgId> {
        let mut d = dir;
        loop {
            let cand = if d.is_empty() {
                format!("vendor/{path}")
            } else {
                format!("{d}/vendor/{path}")
            };
            if let Some(&p) = self.pkg_by_dir.get(&cand) {
                return Some(p);
            }
            if d.is_empty() {
                break;
            }
            d = d.rfind('/').map(|i| &d[..i]).unwrap_or("");
        }
        let cands = self
            .pkgs_by_path
            .get(path)
            .or_else(|| self.pkgs_by_path.get(&format!("vendor/{path}")))?;
        cands
            .iter()
            .copied()
            .filter(|&p| !self.pkgs[p as usize].xtest)
            .max_by_key(|&p| {
                let pd = &self.pkgs[p as usize].dir;
                (
                    common_prefix(pd, dir),
                    !self.pkgs[p as usize].external,
                    std::cmp::Reverse(p),
                )
            })
    }

    // ---- type expressions -------------------------------------------------------------

    fn placeholder(&mut self, path: &str, name: &str) -> TypeId {
        let key = (path.to_string(), name.to_string());
        let nid = match self.placeholders.get(&key) {
            Some(&n) => n,
            None => {
                let n = self.named.len() as NamedId;
                // Unknown package: a named type with no declaration and no methods.
                let pkg = self.pkgs.len() as PkgId;
                self.pkgs.push(Package {
                    path: path.to_string(),
                    name: guess_package_name(path),
                    dir: String::new(),
                    files: Vec::new(),
                    scope: HashMap::default(),
                    external: true,
                    vendor: false,
                    xtest: false,
                    init: NONE,
                });
                self.named.push(NamedType {
                    pkg,
                    name: name.to_string(),
                    sym: NONE,
                    tparams: Vec::new(),
                    methods: HashMap::default(),
                });
                self.named_state.push(2);
                self.underlying.push(INVALID);
                self.placeholders.insert(key, n);
                n
            }
        };
        self.types.named(nid)
    }

    /// The type a type symbol denotes (following aliases).
    fn type_of_type_sym(&mut self, sym: SymId, depth: u32) -> TypeId {
        let s = &self.syms[sym as usize];
        match s.kind {
            SymKind::Type => self.types.named(s.named),
            SymKind::Alias if depth < 16 => {
                let (fid, item) = (s.file, s.item);
                let te = self.files[fid as usize].input.facts.items[item as usize]
                    .ty
                    .as_ref()
                    .map(|t| t.decode(&[]))
                    .unwrap_or(TypeExpr::Unknown);
                self.resolve_type_depth(
                    &te,
                    &Ctx {
                        file: fid,
                        tparams: &[],
                    },
                    depth + 1,
                )
            }
            _ => INVALID,
        }
    }

    /// Looks a name up in a file's package scope, then its dot imports, then the universe.
    pub fn lookup_pkg_name(&self, file: FileId, name: &str) -> Option<SymId> {
        let f = &self.files[file as usize];
        if let Some(&s) = self.pkgs[f.pkg as usize].scope.get(name) {
            return Some(s);
        }
        for &d in &f.dot_imports {
            if let Some(&s) = self.pkgs[d as usize].scope.get(name) {
                if is_exported(name) {
                    return Some(s);
                }
            }
        }
        None
    }

    pub fn import_binding(&self, file: FileId, name: &str) -> Option<&ImportBinding> {
        self.files[file as usize]
            .imports
            .iter()
            .find(|b| b.name == name)
    }

    fn resolve_type(&mut self, te: &TypeExpr, ctx: &Ctx) -> TypeId {
        self.resolve_type_depth(te, ctx, 0)
    }

    fn resolve_type_depth(&mut self, te: &TypeExpr, ctx: &Ctx, depth: u32) -> TypeId {
        // Self-referential aliases (`type A = func(A)`) would recurse forever.
        if self.rec_depth > 200 {
            return INVALID;
        }
        self.rec_depth += 1;
        let t = self.resolve_type_inner(te, ctx, depth);
        self.rec_depth -= 1;
        t
    }

    fn resolve_type_inner(&mut self, te: &TypeExpr, ctx: &Ctx, depth: u32) -> TypeId {
        match te {
            TypeExpr::Name(n) => {
                if let Some((_, t)) = ctx.tparams.iter().rev().find(|(p, _)| p == n) {
                    return *t;
                }
                if ctx.file != NONE {
                    if let Some(s) = self.lookup_pkg_name(ctx.file, n) {
                        return self.type_of_type_sym(s, depth);
                    }
                }
                self.universe.get(n.as_str()).copied().unwrap_or(INVALID)
            }
            TypeExpr::Qualified(p, n) => {
                if ctx.file == NONE {
                    return INVALID;
                }
                let Some(b) = self.import_binding(ctx.file, p) else {
                    return INVALID;
                };
                match b.pkg {
                    Some(pkg) => match self.pkgs[pkg as usize].scope.get(n).copied() {
                        Some(s) => self.type_of_type_sym(s, depth),
                        None => INVALID,
                    },
                    None => {
                        let path = b.path.clone();
                        self.placeholder(&path, n)
                    }
                }
            }
            TypeExpr::Generic(base, _) => self.resolve_type_depth(base, ctx, depth),
            TypeExpr::Pointer(t) => {
                let t = self.resolve_type_depth(t, ctx, depth);
                self.types.pointer(t)
            }
            TypeExpr::Slice(t) => {
                let t = self.resolve_type_depth(t, ctx, depth);
                self.types.intern(Ty::Slice(t))
            }
            TypeExpr::Array(len, t) => {
                let t = self.resolve_type_depth(t, ctx, depth);
                self.types.intern(Ty::Array(len.as_str().into(), t))
            }
            TypeExpr::Map(k, v) => {
                let k = self.resolve_type_depth(k, ctx, depth);
                let v = self.resolve_type_depth(v, ctx, depth);
                self.types.intern(Ty::Map(k, v))
            }
            TypeExpr::Chan(d, t) => {
                let t = self.resolve_type_depth(t, ctx, depth);
                let d = match d {
                    crate::facts::ChanDir::Both => 0,
                    crate::facts::ChanDir::Send => 1,
                    crate::facts::ChanDir::Recv => 2,
                };
                self.types.intern(Ty::Chan(d, t))
            }
            TypeExpr::Func(f) => self.resolve_sig(f, ctx),
            TypeExpr::Struct(fields) => {
                let pkg = if ctx.file == NONE {
                    0
                } else {
                    self.files[ctx.file as usize].pkg
                };
                let mut out = Vec::with_capacity(fields.len());
                for f in fields {
                    let ty = self.resolve_type_depth(&f.ty, ctx, depth);
                    let (name, embedded) = match &f.name {
                        Some(n) => (n.clone(), false),
                        None => (embedded_name(&f.ty), true),
                    };
                    let fpkg = if is_exported(&name) { 0 } else { pkg };
                    out.push(StructField {
                        name: name.into(),
                        ty,
                        embedded,
                        pkg: fpkg,
                        tag: f.tag.as_str().into(),
                    });
                }
                self.types.intern(Ty::Struct(out.into()))
            }
            TypeExpr::Interface(elems) => self.resolve_iface(elems, ctx, NONE, depth),
            TypeExpr::Unknown => INVALID,
        }
    }

    pub(crate) fn method_key(&self, name: &str, pkg: PkgId) -> Box<str> {
        if is_exported(name) {
            name.into()
        } else {
            format!("{pkg}:{name}").into()
        }
    }

    /// An interface literal. `owner`: the named interface declaring it, for method symbols.
    fn resolve_iface(
        &mut self,
        elems: &[IfaceElem],
        ctx: &Ctx,
        owner: NamedId,
        depth: u32,
    ) -> TypeId {
        let pkg = if ctx.file == NONE {
            0
        } else {
            self.files[ctx.file as usize].pkg
        };
        let mut info = IfaceInfo::default();
        for e in elems {
            match e {
                IfaceElem::Method { name, func, pos } => {
                    let sig = self.resolve_sig(func, ctx);
                    let decl = if owner != NONE {
                        let sym = self.add_sym(Symbol {
                            name: name.clone(),
                            kind: SymKind::IfaceMethod,
                            pkg,
                            file: ctx.file,
                            item: self.syms[self.named[owner as usize].sym as usize].item,
                            pos: *pos,
                            recv: owner,
                            ptr_recv: false,
                            named: NONE,
                            variants: 0,
                        });
                        self.sym_type[sym as usize] = sig;
                        sym
                    } else {
                        NONE
                    };
                    let key = self.method_key(name, pkg);
                    // Go 1.14+: an explicitly declared method may repeat an embedded one.
                    info.methods.retain(|m| m.key != key);
                    info.methods.push(IMethod {
                        key,
                        name: name.as_str().into(),
                        sig,
                        decl,
                    });
                }
                IfaceElem::Embed(te) => {
                    let t = self.resolve_type_depth(te, ctx, depth);
                    self.underlying_of(t);
                    match self.iface_of(t) {
                        Some(inner) => {
                            let inner = inner.clone();
                            info.typeset |= inner.typeset;
                            for m in inner.methods {
                                if !info.methods.iter().any(|x| x.key == m.key) {
                                    info.methods.push(m);
                                }
                            }
                        }
                        // Embedding a known non-interface type makes this a constraint; an
                        // embedded type of a package that is not indexed is left out (as
                        // go/types does with an invalid embedded type).
                        None => {
                            let unknown = t == INVALID
                                || matches!(self.types.get(t), Ty::Named(n) if self.named[*n as usize].sym == NONE);
                            if !unknown {
                                info.typeset = true;
                            }
                        }
                    }
                }
                IfaceElem::TypeSet => info.typeset = true,
            }
        }
        info.methods.sort_by(|a, b| a.key.cmp(&b.key));
        let sigs: Box<[(Box<str>, TypeId)]> = info
            .methods
            .iter()
            .map(|m| (m.key.clone(), m.sig))
            .collect();
        let id = self.types.intern(Ty::Interface(sigs, info.typeset));
        if owner != NONE {
            self.iface_named.insert(owner, info);
        } else {
            self.iface.entry(id).or_insert(info);
        }
        id
    }

    fn resolve_sig(&mut self, f: &FuncType, ctx: &Ctx) -> TypeId {
        let params: Box<[TypeId]> = f
            .params
            .iter()
            .map(|p| self.resolve_type(&p.ty, ctx))
            .collect();
        let results: Box<[TypeId]> = f
            .results
            .iter()
            .map(|p| self.resolve_type(&p.ty, ctx))
            .collect();
        self.types.intern(Ty::Func(Sig {
            params,
            results,
            variadic: f.variadic,
        }))
    }

    /// The underlying type of any type (INVALID for unknown).
    pub fn underlying_of(&mut self, t: TypeId) -> TypeId {
        match self.types.get(t) {
            Ty::Named(n) => {
                let n = *n;
                self.resolve_underlying(n)
            }
            _ => t,
        }
    }

    fn resolve_underlying(&mut self, n: NamedId) -> TypeId {
        match self.named_state[n as usize] {
            2 => return self.underlying[n as usize],
            1 => return INVALID, // cycle
            _ => {}
        }
        self.named_state[n as usize] = 1;
        let sym = self.named[n as usize].sym;
        let (fid, item) = (self.syms[sym as usize].file, self.syms[sym as usize].item);
        let it: &Item = &self.files[fid as usize].input.facts.items[item as usize];
        let te = it
            .ty
            .as_ref()
            .map(|t| t.decode(&[]))
            .unwrap_or(TypeExpr::Unknown);
        let tparams: Vec<(String, TypeId)> = it
            .type_params
            .iter()
            .enumerate()
            .map(|(i, p)| {
                (
                    p.name.clone(),
                    self.types.intern(Ty::TypeParam(sym, i as u32)),
                )
            })
            .collect();
        let ctx = Ctx {
            file: fid,
            tparams: &tparams,
        };
        let u = match &te {
            TypeExpr::Interface(elems) => self.resolve_iface(elems, &ctx, n, 0),
            _ => {
                let t = self.resolve_type(&te, &ctx);
                let u = self.underlying_of(t);
                // `type T U` over an interface U: T has U's methods (the same objects).
                if let Ty::Named(m) = self.types.get(t) {
                    if let Some(info) = self.iface_named.get(m).cloned() {
                        self.iface_named.insert(n, info);
                    }
                } else if let Some(info) = self.iface.get(&u).cloned() {
                    self.iface_named.insert(n, info);
                }
                u
            }
        };
        self.underlying[n as usize] = u;
        self.named_state[n as usize] = 2;
        u
    }

    /// Type parameters of a func/method symbol as (name, TypeParam type), receiver's first.
    pub fn sym_tparams(&mut self, sym: SymId) -> Vec<(String, TypeId)> {
        let s = &self.syms[sym as usize];
        if s.item == NONE || s.file == NONE {
            return Vec::new();
        }
        let it = &self.files[s.file as usize].input.facts.items[s.item as usize];
        let mut names: Vec<String> = it.type_params.iter().map(|p| p.name.clone()).collect();
        let mut owner = sym;
        if let Some(r) = &it.recv {
            if s.recv != NONE {
                owner = self.named[s.recv as usize].sym;
            }
            names = r.type_params.clone();
        }
        names
            .into_iter()
            .enumerate()
            .map(|(i, n)| (n, self.types.intern(Ty::TypeParam(owner, i as u32))))
            .collect()
    }

    fn compute_sym_type(&mut self, s: SymId) -> TypeId {
        let sym = &self.syms[s as usize];
        if sym.item == NONE || sym.file == NONE {
            return self.sym_type[s as usize];
        }
        let fid = sym.file;
        let kind = sym.kind;
        let it = &self.files[fid as usize].input.facts.items[sym.item as usize];
        match kind {
            SymKind::Func | SymKind::Method => {
                let f = it.func.as_ref().map(|f| f.decode(&[])).unwrap_or_default();
                let tp = self.sym_tparams(s);
                self.resolve_sig(
                    &f,
                    &Ctx {
                        file: fid,
                        tparams: &tp,
                    },
                )
            }
            SymKind::Var | SymKind::Const => match it.ty.as_ref().map(|t| t.decode(&[])) {
                Some(te) => self.resolve_type(
                    &te,
                    &Ctx {
                        file: fid,
                        tparams: &[],
                    },
                ),
                None => INVALID,
            },
            SymKind::IfaceMethod => self.sym_type[s as usize],
            SymKind::Alias => self.type_of_type_sym(s, 0),
            SymKind::Type => self.types.named(self.syms[s as usize].named),
            _ => INVALID,
        }
    }

    // ---- names ------------------------------------------------------------------------

    pub fn pkg_path(&self, p: PkgId) -> &str {
        &self.pkgs[p as usize].path
    }

    /// The go/types name of a named type: `importpath.Name` (`error` for the universe's).
    pub fn named_name(&self, n: NamedId) -> String {
        let nt = &self.named[n as usize];
        let path = self.pkg_path(nt.pkg);
        if path.is_empty() {
            nt.name.clone()
        } else {
            format!("{}.{}", path, nt.name)
        }
    }

    /// The qualified name of a symbol, as types.Func.FullName / types.TypeName prints it.
    /// Takes out what only resolution uses (scopes, method maps, import bindings, the
    /// types' interning map), once every call is resolved: the index records need names,
    /// packages and types to read, not to look up. Returned for the caller to drop where it
    /// likes: it is millions of small frees.
    pub fn shed_resolution_state(&mut self) -> impl Send {
        let scopes: Vec<_> = self
            .pkgs
            .iter_mut()
            .map(|p| std::mem::take(&mut p.scope))
            .collect();
        let methods: Vec<_> = self
            .named
            .iter_mut()
            .map(|n| std::mem::take(&mut n.methods))
            .collect();
        let imports: Vec<_> = self
            .files
            .iter_mut()
            .map(|f| {
                (
                    std::mem::take(&mut f.imports),
                    std::mem::take(&mut f.dot_imports),
                )
            })
            .collect();
        (
            scopes,
            methods,
            imports,
            self.types.forget_interning(),
            std::mem::take(&mut self.iface),
            std::mem::take(&mut self.pkgs_by_path),
            std::mem::take(&mut self.pkg_by_dir),
            std::mem::take(&mut self.placeholders),
            std::mem::take(&mut self.sym_type),
        )
    }

    pub fn qualified_name(&self, s: SymId) -> String {
        let sym = &self.syms[s as usize];
        match sym.kind {
            SymKind::Method => {
                let t = self.named_name(sym.recv);
                if sym.ptr_recv {
                    format!("(*{}).{}", t, sym.name)
                } else {
                    format!("({}).{}", t, sym.name)
                }
            }
            SymKind::IfaceMethod => format!("({}).{}", self.named_name(sym.recv), sym.name),
            _ => {
                let path = self.pkg_path(sym.pkg);
                if path.is_empty() {
                    sym.name.clone()
                } else {
                    format!("{}.{}", path, sym.name)
                }
            }
        }
    }

    pub fn item(&self, s: SymId) -> Option<&Item> {
        let sym = &self.syms[s as usize];
        if sym.file == NONE || sym.item == NONE {
            return None;
        }
        self.files[sym.file as usize]
            .input
            .facts
            .items
            .get(sym.item as usize)
    }

    /// Interface info of a type, if its underlying type is an interface.
    pub fn iface_of(&self, t: TypeId) -> Option<&IfaceInfo> {
        match self.types.get(t) {
            Ty::Named(n) => self.iface_named.get(n),
            _ => self.iface.get(&t),
        }
    }

    pub fn is_interface_named(&self, n: NamedId) -> bool {
        self.iface_named.contains_key(&n)
    }
}

fn common_prefix(a: &str, b: &str) -> usize {
    a.split('/')
        .zip(b.split('/'))
        .take_while(|(x, y)| x == y)
        .count()
}

/// The package name an import path most likely has when the package is not indexed:
/// the last element, without a `.vN`/`-go` style suffix, or the one before a `/vN` suffix.
pub fn guess_package_name(path: &str) -> String {
    let mut parts = path.rsplit('/');
    let mut last = parts.next().unwrap_or(path);
    if last.len() >= 2 && last.starts_with('v') && last[1..].chars().all(|c| c.is_ascii_digit()) {
        last = parts.next().unwrap_or(last);
    }
    let last = last.strip_prefix("go-").unwrap_or(last);
    let last = last.split('.').next().unwrap_or(last);
    last.trim_end_matches("-go").replace('-', "_")
}

/// The field name of an embedded field: its type's name.
pub fn embedded_name(te: &TypeExpr) -> String {
    match te {
        TypeExpr::Name(n) => n.clone(),
        TypeExpr::Qualified(_, n) => n.clone(),
        TypeExpr::Pointer(t) | TypeExpr::Generic(t, _) => embedded_name(t),
        _ => String::new(),
    }
}
