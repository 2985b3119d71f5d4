//! Method sets and selectors (Go's promotion rules) and interface satisfaction.
//!
//! Members of a type: its declared methods at depth 0, its fields at depth 0, and the members
//! of embedded fields one level deeper; the shallowest depth wins and two candidates at the
//! same shallowest depth cancel each other. A method with a pointer receiver reached through
//! a value embedding is only in the pointer type's method set (`ptr_only`).

use super::model::{Model, SymId, SymKind, NONE};
use super::types::*;
use rayon::prelude::*;
// FxHash: keys are names and small ids, hashed millions of times per index.
use rustc_hash::FxHashMap as HashMap;
use std::sync::Arc;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemberKind {
    Field(TypeId),
    Method(SymId),
    /// An interface method: declaring symbol (NONE for interface literals) and signature.
    IfaceMethod(SymId, TypeId),
}

#[derive(Clone, Debug)]
pub struct Member {
    pub kind: MemberKind,
    pub depth: u16,
    /// Only in the method set of the pointer type.
    pub ptr_only: bool,
    /// Two candidates at the same depth: the selector is invalid.
    pub ambiguous: bool,
    /// Name of the embedded field the member was promoted through (first hop), if any.
    pub via: Option<Box<str>>,
}

impl Member {
    /// A method an interface declares (or embeds): declaring symbol (NONE for interface
    /// literals) and signature, at depth 0.
    fn iface_method(decl: SymId, sig: TypeId) -> Member {
        Member {
            kind: MemberKind::IfaceMethod(decl, sig),
            depth: 0,
            ptr_only: false,
            ambiguous: false,
            via: None,
        }
    }
}

pub type Members = HashMap<Box<str>, Member>;

/// Members of every named type, indexed by NamedId, computed once.
pub fn all_members(m: &Model) -> Vec<Arc<Members>> {
    let mut memo: Vec<Option<Arc<Members>>> = vec![None; m.named.len()];
    let mut busy = vec![false; m.named.len()];
    for n in 0..m.named.len() {
        let mut partial = false;
        named_members(m, n as NamedId, &mut memo, &mut busy, &mut partial, true);
    }
    memo.into_iter().map(|x| x.unwrap_or_default()).collect()
}

fn named_members(
    m: &Model,
    n: NamedId,
    memo: &mut Vec<Option<Arc<Members>>>,
    busy: &mut Vec<bool>,
    partial: &mut bool,
    top: bool,
) -> Arc<Members> {
    if let Some(x) = &memo[n as usize] {
        return x.clone();
    }
    if busy[n as usize] {
        // A cycle of embeddings (`A{*B}`, `B{*A}`): this level is seen as empty, and the
        // results computed meanwhile must not be remembered as complete.
        *partial = true;
        return Arc::default();
    }
    busy[n as usize] = true;
    let outer_partial = std::mem::replace(partial, false);
    let mut out = Members::default();
    let nt = &m.named[n as usize];
    if let Some(info) = m.iface_named.get(&n) {
        for im in &info.methods {
            out.insert(im.name.clone(), Member::iface_method(im.decl, im.sig));
        }
    } else {
        for (name, &sym) in &nt.methods {
            out.insert(
                name.as_str().into(),
                Member {
                    kind: MemberKind::Method(sym),
                    depth: 0,
                    ptr_only: m.syms[sym as usize].ptr_recv,
                    ambiguous: false,
                    via: None,
                },
            );
        }
        if let Ty::Struct(fields) = m.types.get(m.underlying[n as usize]) {
            struct_members(fields, &mut out, &model_deref(m), &mut |t| {
                base_members(m, t, &mut |nn| {
                    named_members(m, nn, memo, busy, partial, false)
                })
            });
        }
    }
    let arc = Arc::new(out);
    if !*partial || top {
        memo[n as usize] = Some(arc.clone());
    }
    busy[n as usize] = false;
    *partial |= outer_partial;
    arc
}

/// Members contributed by a struct type's fields (depth 0) and embedded fields (deeper):
/// the shallowest depth wins, two candidates at the same depth cancel. `deref` tells an
/// embedded `*E` from `E`; `sub` gives the members of an embedded base type.
fn struct_members(
    fields: &[StructField],
    out: &mut Members,
    deref: &dyn Fn(TypeId) -> Option<TypeId>,
    sub: &mut dyn FnMut(TypeId) -> Option<Arc<Members>>,
) {
    let mut cands: Vec<(Box<str>, Member)> = Vec::new();
    for f in fields {
        if !f.name.is_empty() && &*f.name != "_" {
            cands.push((
                f.name.clone(),
                Member {
                    kind: MemberKind::Field(f.ty),
                    depth: 0,
                    ptr_only: false,
                    ambiguous: false,
                    via: None,
                },
            ));
        }
        if !f.embedded {
            continue;
        }
        let (base, ptr) = match deref(f.ty) {
            Some(b) => (b, true),
            None => (f.ty, false),
        };
        if let Some(sub_members) = sub(base) {
            for (name, mem) in sub_members.iter() {
                cands.push((
                    name.clone(),
                    Member {
                        kind: mem.kind,
                        depth: mem.depth + 1,
                        ptr_only: if ptr { false } else { mem.ptr_only },
                        ambiguous: mem.ambiguous,
                        via: Some(f.name.clone()),
                    },
                ));
            }
        }
    }
    for (name, c) in cands {
        match out.get_mut(&name) {
            None => {
                out.insert(name, c);
            }
            Some(cur) if c.depth < cur.depth => *cur = c,
            Some(cur) if c.depth == cur.depth => cur.ambiguous = true,
            Some(_) => {}
        }
    }
}

/// The pointee of a frozen-model pointer type.
fn model_deref(m: &Model) -> impl Fn(TypeId) -> Option<TypeId> + '_ {
    move |t| match m.types.get(t) {
        Ty::Pointer(b) => Some(*b),
        _ => None,
    }
}

/// Members of a base (non-pointer) type: named types through `named`, struct literals and
/// interface literals directly.
fn base_members(
    m: &Model,
    t: TypeId,
    named: &mut dyn FnMut(NamedId) -> Arc<Members>,
) -> Option<Arc<Members>> {
    match m.types.get(t) {
        Ty::Named(n) => Some(named(*n)),
        Ty::Struct(fields) => {
            let mut out = Members::default();
            struct_members(fields, &mut out, &model_deref(m), &mut |tt| {
                base_members(m, tt, named)
            });
            Some(Arc::new(out))
        }
        Ty::Interface(..) => m.iface.get(&t).map(|info| {
            Arc::new(
                info.methods
                    .iter()
                    .map(|im| (im.name.clone(), Member::iface_method(im.decl, im.sig)))
                    .collect(),
            )
        }),
        _ => None,
    }
}

/// Members of any type for selector lookup, given precomputed named members. `t` may be a
/// pointer to a named or struct type. Types interned after the model was frozen are looked up
/// through `get`.
pub fn members_of(
    m: &Model,
    all: &[Arc<Members>],
    t: TypeId,
    get: &dyn Fn(TypeId) -> Ty,
) -> Option<Arc<Members>> {
    let base = match get(t) {
        Ty::Pointer(b) => b,
        _ => t,
    };
    match get(base) {
        Ty::Named(n) => all.get(n as usize).cloned(),
        Ty::Struct(fields) => {
            let mut out = Members::default();
            let deref = |t: TypeId| match get(t) {
                Ty::Pointer(b) => Some(b),
                _ => None,
            };
            struct_members(&fields, &mut out, &deref, &mut |b| {
                members_of(m, all, b, get)
            });
            Some(Arc::new(out))
        }
        Ty::Interface(..) if (base as usize) < m.types.len() => base_members(m, base, &mut |n| {
            all.get(n as usize).cloned().unwrap_or_default()
        }),
        // An interface literal first met in a body (`var t interface{ M() }`): its methods,
        // with no declaring symbol (calls of them are `(interface).M`).
        Ty::Interface(methods, _) => Some(Arc::new(
            methods
                .iter()
                .map(|(key, sig)| {
                    let name = key.rsplit_once(':').map_or(&**key, |(_, n)| n);
                    (name.into(), Member::iface_method(NONE, *sig))
                })
                .collect(),
        )),
        _ => None,
    }
}

/// One (interface, type) pair: `ty` (or only `*ty` when `pointer`) implements `iface`.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct Impl {
    pub iface: NamedId,
    pub ty: NamedId,
    pub pointer: bool,
}

/// Whether a member set satisfies an interface: None if not, Some(pointer_only) if it does.
/// Methods declared in `_test.go` files count only for types declared in test files.
pub fn satisfies(
    m: &Model,
    mem: &Members,
    info: &super::model::IfaceInfo,
    allow_test_methods: bool,
) -> Option<bool> {
    let mut ptr = false;
    for im in &info.methods {
        let c = mem.get(&im.name)?;
        if c.ambiguous {
            return None;
        }
        if let MemberKind::Method(s) = c.kind {
            let f = m.syms[s as usize].file;
            if !allow_test_methods && f != NONE && m.files[f as usize].input.is_test {
                return None;
            }
        }
        let (sig, pkg) = match c.kind {
            MemberKind::Method(s) => (m.sym_type[s as usize], m.syms[s as usize].pkg),
            MemberKind::IfaceMethod(d, sig) => {
                (sig, if d == NONE { 0 } else { m.syms[d as usize].pkg })
            }
            MemberKind::Field(_) => return None,
        };
        if sig == INVALID || sig != im.sig && !same_modulo_tparams(&m.types, sig, im.sig) {
            return None;
        }
        if m.method_key(&im.name, pkg) != im.key {
            return None;
        }
        ptr |= c.ptr_only;
    }
    Some(ptr)
}

/// Identity with type parameters compared by position: `TypeParam(_, k)` matches any
/// `TypeParam(_, k)`. This is how a generic type satisfies a generic interface without
/// instantiating either: `*Typed[T]` has `Get() (T, bool)`, `TypedInterface[T]` wants
/// `Get() (T, bool)` — for every X, `*Typed[X]` implements `TypedInterface[X]`. (Type
/// arguments are not part of a named type's identity here, so `List[int]` and `List[T]` are
/// the same named type.)
pub fn same_modulo_tparams(tt: &TypeTable, a: TypeId, b: TypeId) -> bool {
    if a == b {
        return true;
    }
    let same = |x: TypeId, y: TypeId| same_modulo_tparams(tt, x, y);
    let all = |xs: &[TypeId], ys: &[TypeId]| {
        xs.len() == ys.len() && xs.iter().zip(ys).all(|(&x, &y)| same(x, y))
    };
    match (tt.get(a), tt.get(b)) {
        (Ty::TypeParam(_, i), Ty::TypeParam(_, j)) => i == j,
        (Ty::Pointer(x), Ty::Pointer(y)) | (Ty::Slice(x), Ty::Slice(y)) => same(*x, *y),
        (Ty::Array(n, x), Ty::Array(k, y)) => n == k && same(*x, *y),
        (Ty::Map(k1, v1), Ty::Map(k2, v2)) => same(*k1, *k2) && same(*v1, *v2),
        (Ty::Chan(d1, x), Ty::Chan(d2, y)) => d1 == d2 && same(*x, *y),
        (Ty::Func(f), Ty::Func(g)) => {
            f.variadic == g.variadic && all(&f.params, &g.params) && all(&f.results, &g.results)
        }
        (Ty::Tuple(xs), Ty::Tuple(ys)) => all(xs, ys),
        (Ty::Struct(fs), Ty::Struct(gs)) => {
            fs.len() == gs.len()
                && fs.iter().zip(gs.iter()).all(|(f, g)| {
                    f.name == g.name
                        && f.embedded == g.embedded
                        && f.pkg == g.pkg
                        && f.tag == g.tag
                        && same(f.ty, g.ty)
                })
        }
        (Ty::Interface(ms, t1), Ty::Interface(ns, t2)) => {
            t1 == t2
                && ms.len() == ns.len()
                && ms
                    .iter()
                    .zip(ns.iter())
                    .all(|((a, x), (b, y))| a == b && same(*x, *y))
        }
        _ => false,
    }
}

/// Every (named interface, named concrete type) implementation pair in the model.
pub fn implementations(m: &Model, all: &[Arc<Members>]) -> Vec<Impl> {
    // Index: method name -> concrete named types having a method of that name.
    let mut by_method: HashMap<&str, Vec<NamedId>> = HashMap::default();
    for (n, nt) in m.named.iter().enumerate() {
        if nt.sym == NONE || m.iface_named.contains_key(&(n as u32)) {
            continue;
        }
        if m.syms[nt.sym as usize].kind != SymKind::Type {
            continue;
        }
        for (name, mem) in all[n].iter() {
            if matches!(
                mem.kind,
                MemberKind::Method(_) | MemberKind::IfaceMethod(..)
            ) && !mem.ambiguous
            {
                by_method.entry(name).or_default().push(n as NamedId);
            }
        }
    }
    let mut ifaces: Vec<(&NamedId, &super::model::IfaceInfo)> = m.iface_named.iter().collect();
    ifaces.sort_by_key(|(n, _)| **n);
    // Each interface's candidates are checked apart from the others': in parallel.
    let mut out: Vec<Impl> = ifaces
        .par_iter()
        .flat_map_iter(|&(&i, info)| {
            let nt = &m.named[i as usize];
            let cands: &[NamedId] = if info.typeset || info.methods.is_empty() || nt.sym == NONE {
                &[]
            } else {
                // The candidates: the types with the interface's rarest method name.
                info.methods
                    .iter()
                    .map(|im| by_method.get(&*im.name).map_or(&[][..], |v| v.as_slice()))
                    .min_by_key(|v| v.len())
                    .unwrap_or(&[])
            };
            cands.iter().filter_map(move |&t| {
                let tf = m.syms[m.named[t as usize].sym as usize].file;
                let test_type = tf != NONE && m.files[tf as usize].input.is_test;
                satisfies(m, &all[t as usize], info, test_type).map(|pointer| Impl {
                    iface: i,
                    ty: t,
                    pointer,
                })
            })
        })
        .collect();
    out.sort();
    out
}

/// Pairs (I, J) of named interfaces, I != J, where J's method set contains all of I's:
/// J extends (or equals) I.
pub fn interface_extensions(m: &Model) -> Vec<(NamedId, NamedId)> {
    let mut by_key: HashMap<(&str, TypeId), Vec<NamedId>> = HashMap::default();
    for (&n, info) in &m.iface_named {
        if info.typeset || m.named[n as usize].sym == NONE {
            continue;
        }
        for im in &info.methods {
            by_key.entry((&im.key, im.sig)).or_default().push(n);
        }
    }
    let mut out = Vec::new();
    for (&i, info) in &m.iface_named {
        if info.typeset || info.methods.is_empty() || m.named[i as usize].sym == NONE {
            continue;
        }
        let Some(first) = info
            .methods
            .iter()
            .filter_map(|im| by_key.get(&(&*im.key, im.sig)))
            .min_by_key(|v| v.len())
        else {
            continue;
        };
        for &j in first {
            if j == i {
                continue;
            }
            let jm = &m.iface_named[&j].methods;
            if info
                .methods
                .iter()
                .all(|im| jm.iter().any(|x| x.key == im.key && x.sig == im.sig))
            {
                out.push((i, j));
            }
        }
    }
    out.sort();
    out.dedup();
    out
}
