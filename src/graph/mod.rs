//! Graph building: turns the resolved model and call sites into the stored records — symbols
//! with qualified names, implementation pairs, method sets, and typed call edges (`static`,
//! `interface`, `dispatch` from interface methods to implementations, `funcvalue` from calls
//! through func values to the functions that flow there).
//!
//! Input: [`Built`] (consumed). Output: [`store::Symbols`] and [`store::Graph`].
//! Must not know: files on disk, output formats.

pub mod query;

use crate::facts::cache::FactsFile;
use crate::pipeline::{Built, FileMeta, Kept};
use crate::resolve::check::{FileCalls, Reason, Slot, Source, Target, DEFER, GO};
use crate::resolve::methods::{self, Impl, MemberKind, Members};
use crate::resolve::model::{Model, SymKind, NONE};
use crate::resolve::types::Ty;
use crate::store::{self, Edge, FileRec, ImplRec, Kind, MethodRec, PkgRec, SymRec, Via};
use rayon::prelude::*;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::path::Path;
use std::sync::Arc;

/// Most targets a single call through a func value is linked to; past that the call is kept
/// as unresolved (`dynamic`), since a hub of hundreds of edges misleads more than it helps.
const MAX_FUNCVALUE_TARGETS: usize = 32;

/// Turns the built model into stored records. `Built` is consumed and dropped piece by piece
/// (call sites, method sets and implementations once the graph exists, the model once the
/// symbol records are made), so the records never sit beside a full copy of what they came
/// from. Also returns warnings: files whose doc comments could not be read back.
///
/// `order_hint` is the previous generation's `by_qname` and `by_name`: when they still sort
/// this generation's symbols (a body edit keeps every symbol), they are taken instead of
/// sorting again.
pub fn to_store(
    b: Built,
    order_hint: Option<(Vec<u32>, Vec<u32>)>,
) -> (store::Symbols, store::Graph, Vec<String>) {
    let Built {
        root,
        model,
        kept,
        texts,
        members,
        impls,
        calls,
        file_meta,
        ..
    } = b;
    let lap = crate::memory::Timings::start();
    // The graph first: it consumes the call sites, and method sets and implementations
    // are freed before the symbol records are allocated.
    let (graph, synthetic) =
        graph_records(&model, &members, &impls, calls, model.syms.len() as u32);
    lap.lap("to_store: graph records");
    // Freeing is millions of small frees: another thread does it while this one works on.
    let freeing = std::thread::spawn(move || drop((members, impls)));
    let (mut items, warnings) = read_texts(&model, kept, texts.as_ref());
    drop(texts);
    let mut symbols = symbol_records(&root, &model, &mut items, &file_meta);
    symbols.syms.extend(synthetic);
    drop(items);
    let _ = freeing.join();
    let freeing = std::thread::spawn(move || drop(model));
    lap.lap("to_store: symbol records");
    // Sorted only now, with the `(interface).M` symbols the graph added.
    let (by_qname, by_name) = match order_hint.filter(|h| sorts(&symbols.syms, h)) {
        Some(h) => h,
        None => sort_symbols(&symbols.syms),
    };
    symbols.by_qname = by_qname;
    symbols.by_name = by_name;
    lap.lap("to_store: sorted");
    let _ = freeing.join();
    (symbols, graph, warnings)
}

/// The symbol ids by qualified name, then id; and by name, then the qualified-name order.
fn sort_symbols(syms: &[SymRec]) -> (Vec<u32>, Vec<u32>) {
    // Unstable sorts with the tie broken explicitly give what stable ones would, faster and
    // without a merge buffer.
    let mut by_qname: Vec<u32> = (0..syms.len() as u32).collect();
    by_qname.par_sort_unstable_by(|&a, &b| {
        syms[a as usize]
            .qname
            .cmp(&syms[b as usize].qname)
            .then(a.cmp(&b))
    });
    let rank = ranks(&by_qname);
    let mut by_name = by_qname.clone();
    by_name.par_sort_unstable_by(|&a, &b| {
        syms[a as usize]
            .name
            .cmp(&syms[b as usize].name)
            .then(rank[a as usize].cmp(&rank[b as usize]))
    });
    (by_qname, by_name)
}

/// Each id's position in `order` (a permutation of the ids).
fn ranks(order: &[u32]) -> Vec<u32> {
    let mut rank = vec![0u32; order.len()];
    for (r, &id) in order.iter().enumerate() {
        rank[id as usize] = r as u32;
    }
    rank
}

/// Whether `(by_qname, by_name)` is exactly what [`sort_symbols`] gives for `syms`. Each
/// list must be strictly increasing in its key, which ids out of range fail and which
/// makes it a permutation: a stale or damaged hint is never taken.
fn sorts(syms: &[SymRec], (by_qname, by_name): &(Vec<u32>, Vec<u32>)) -> bool {
    let n = syms.len();
    let in_range = |v: &[u32]| v.len() == n && v.par_iter().all(|&i| (i as usize) < n);
    if !in_range(by_qname) || !in_range(by_name) {
        return false;
    }
    let qkey = |i: u32| (syms[i as usize].qname.as_str(), i);
    if !by_qname.par_windows(2).all(|w| qkey(w[0]) < qkey(w[1])) {
        return false;
    }
    let rank = ranks(by_qname);
    let nkey = |i: u32| (syms[i as usize].name.as_str(), rank[i as usize]);
    by_name.par_windows(2).all(|w| nkey(w[0]) < nkey(w[1]))
}

/// Reads the signatures and doc comments of `kept` back (from `facts.bin` where parsing
/// moved them). A file whose texts cannot be read keeps its items without them, and is
/// reported.
fn read_texts(
    m: &Model,
    kept: Vec<Vec<Kept>>,
    texts: Option<&FactsFile>,
) -> (Vec<Vec<Kept<String>>>, Vec<String>) {
    let read: Vec<(Vec<Kept<String>>, Option<String>)> = kept
        .into_par_iter()
        .enumerate()
        .map(|(f, items)| {
            let facts = &m.files[f].input.facts;
            let (blob, error) = match texts.map(|t| t.texts(facts)) {
                Some(Err(e)) => (
                    Vec::new(),
                    Some(format!(
                        "{}: doc comments and signatures could not be read back: {e}",
                        m.files[f].input.rel
                    )),
                ),
                Some(Ok(blob)) => (blob, None),
                None => (Vec::new(), None),
            };
            let items = items
                .into_iter()
                .map(|k| Kept {
                    start_line: k.start_line,
                    end_line: k.end_line,
                    start_byte: k.start_byte,
                    end_byte: k.end_byte,
                    signature: k.signature.read(&blob),
                    doc: k.doc.read(&blob),
                })
                .collect();
            (items, error)
        })
        .collect();
    let (items, errors): (Vec<_>, Vec<_>) = read.into_iter().unzip();
    (items, errors.into_iter().flatten().collect())
}

/// The symbol records (`by_qname` and `by_name` left empty for `to_store`). Takes the items out of the
/// model: graph records need no item.
fn symbol_records(
    root: &Path,
    m: &Model,
    items: &mut [Vec<Kept<String>>],
    file_meta: &[FileMeta],
) -> store::Symbols {
    let mut files = Vec::with_capacity(m.files.len());
    for (i, f) in m.files.iter().enumerate() {
        let meta = &file_meta[i];
        let mut flags = 0;
        if f.input.is_test {
            flags |= store::F_TEST;
        }
        if f.input.vendor {
            flags |= store::F_VENDOR;
        }
        if f.input.external {
            flags |= store::F_EXTERNAL;
        }
        if !crate::facts::build::matches_common(&f.input.rel, f.input.facts.build.as_deref()) {
            flags |= store::F_NOBUILD;
        }
        files.push(FileRec {
            rel: f.input.rel.clone(),
            pkg: f.pkg,
            flags,
            hash: meta.hash,
            size: meta.size,
            mtime_ns: meta.mtime_ns,
            lines: meta.lines,
            syntax_errors: meta.syntax_errors,
            first_error_line: meta.first_error_line,
            build: f.input.facts.build.clone(),
        });
    }
    let pkgs = m
        .pkgs
        .iter()
        .map(|p| {
            let mut flags = 0;
            if p.external {
                flags |= store::F_EXTERNAL;
            }
            if p.vendor {
                flags |= store::F_VENDOR;
            }
            if p.xtest
                || (!p.files.is_empty()
                    && p.files.iter().all(|&f| m.files[f as usize].input.is_test))
            {
                flags |= store::F_TEST;
            }
            let mut imports: Vec<String> = p
                .files
                .iter()
                .flat_map(|&f| {
                    m.files[f as usize]
                        .input
                        .facts
                        .imports
                        .iter()
                        .map(|i| i.path.clone())
                })
                .collect();
            imports.sort();
            imports.dedup();
            PkgRec {
                path: p.path.clone(),
                name: p.name.clone(),
                dir: p.dir.clone(),
                flags,
                files: p.files.clone(),
                imports,
            }
        })
        .collect();
    let mut qnames: Vec<String> = (0..m.syms.len() as u32)
        .into_par_iter()
        .map(|i| m.qualified_name(i))
        .collect();
    let mut syms = Vec::with_capacity(m.syms.len());
    for (i, s) in m.syms.iter().enumerate() {
        let item = if s.file == NONE || s.item == NONE {
            None
        } else {
            items[s.file as usize].get_mut(s.item as usize)
        };
        let kind = match s.kind {
            SymKind::Func => Kind::Func,
            SymKind::Method => Kind::Method,
            SymKind::Type => {
                if m.iface_named.contains_key(&s.named) {
                    Kind::Interface
                } else if matches!(m.types.get(m.underlying[s.named as usize]), Ty::Struct(_)) {
                    Kind::Struct
                } else {
                    Kind::Type
                }
            }
            SymKind::Alias => Kind::Alias,
            SymKind::Var => Kind::Var,
            SymKind::Const => Kind::Const,
            SymKind::IfaceMethod => Kind::IfaceMethod,
            SymKind::Init => Kind::Init,
        };
        let (start_line, end_line, start_byte, end_byte, signature, doc) = match (item, s.kind) {
            (Some(_), SymKind::IfaceMethod) => {
                (s.pos.line, s.pos.line, 0, 0, String::new(), String::new())
            }
            (Some(it), _) => (
                it.start_line,
                it.end_line,
                it.start_byte,
                it.end_byte,
                std::mem::take(&mut it.signature),
                std::mem::take(&mut it.doc),
            ),
            (None, _) => (0, 0, 0, 0, String::new(), String::new()),
        };
        syms.push(SymRec {
            qname: std::mem::take(&mut qnames[i]),
            name: s.name.clone(),
            kind,
            pkg: s.pkg,
            file: s.file,
            line: s.pos.line,
            col: s.pos.col,
            start_line,
            end_line,
            start_byte,
            end_byte,
            recv: if s.recv != NONE {
                m.named[s.recv as usize].sym
            } else {
                NONE
            },
            ptr_recv: s.ptr_recv,
            generic: matches!(s.kind, SymKind::Type)
                && !m.named[s.named as usize].tparams.is_empty(),
            signature,
            doc,
            variants: s.variants,
        });
    }

    store::Symbols {
        root: root.display().to_string(),
        files,
        pkgs,
        syms,
        by_qname: Vec::new(),
        by_name: Vec::new(),
    }
}

/// The graph records. Calls of interface-literal methods add their `(interface).M` symbols
/// to `syms`.
fn graph_records(
    m: &Model,
    members: &[Arc<Members>],
    impls: &[Impl],
    calls: Vec<FileCalls>,
    first_synthetic: u32,
) -> (store::Graph, Vec<SymRec>) {
    // Symbols the graph adds (`(interface).M`), numbered from `first_synthetic` on.
    let mut syms = Vec::new();
    // Implementations, interface extensions, method sets.
    let tsym = |n: u32| m.named[n as usize].sym;
    let impl_recs: Vec<ImplRec> = impls
        .iter()
        .map(|i| ImplRec {
            iface: tsym(i.iface),
            ty: tsym(i.ty),
            pointer: i.pointer,
        })
        .collect();
    let iface_extends = methods::interface_extensions(m)
        .into_iter()
        .map(|(i, j)| (tsym(i), tsym(j)))
        .collect();
    let mut method_sets = Vec::new();
    for (n, nt) in m.named.iter().enumerate() {
        if nt.sym == NONE {
            continue;
        }
        let mut v: Vec<MethodRec> = members[n]
            .iter()
            .filter(|(_, mem)| !mem.ambiguous)
            .filter_map(|(_, mem)| {
                let sym = match mem.kind {
                    MemberKind::Method(s) => s,
                    MemberKind::IfaceMethod(d, _) if d != NONE => d,
                    _ => return None,
                };
                Some(MethodRec {
                    sym,
                    ptr_only: mem.ptr_only,
                    depth: mem.depth,
                    via: mem.via.clone(),
                })
            })
            .collect();
        if v.is_empty() {
            continue;
        }
        // By name, as `index.bin` stores them.
        v.sort_by(|a, b| {
            m.syms[a.sym as usize]
                .name
                .cmp(&m.syms[b.sym as usize].name)
        });
        method_sets.push((nt.sym, v));
    }

    // Call edges.
    // Sized up front: growing these by doubling leaves freed tables the allocator cannot
    // hand back, and this is the peak of the run.
    let n_flows = calls.iter().map(|fc| fc.flows.len()).sum();
    let mut flows: HashMap<Slot, Vec<Source>> =
        HashMap::with_capacity_and_hasher(n_flows, Default::default());
    let mut calls = calls;
    for fc in &mut calls {
        for (slot, src) in std::mem::take(&mut fc.flows) {
            flows.entry(slot).or_default().push(src);
        }
    }
    // A func value passed to an interface method flows to the parameters of every
    // implementation of that method (`q.Pop(c.process)` reaches `(*DeltaFIFO).Pop`'s param).
    let mut impls_of: HashMap<u32, Vec<u32>> = HashMap::default();
    for i in impls {
        impls_of.entry(i.iface).or_default().push(i.ty);
    }
    let impl_methods = |d: u32| -> Vec<u32> {
        let s = &m.syms[d as usize];
        if s.kind != SymKind::IfaceMethod || s.recv == NONE {
            return Vec::new();
        }
        impls_of
            .get(&s.recv)
            .map(|v| v.as_slice())
            .unwrap_or(&[])
            .iter()
            .filter_map(
                |&t| match members[t as usize].get(s.name.as_str()).map(|x| x.kind) {
                    Some(MemberKind::Method(ms)) => Some(ms),
                    _ => None,
                },
            )
            .collect()
    };
    let iface_params: Vec<(u32, u32)> = flows
        .keys()
        .filter_map(|k| match k {
            Slot::Param(d, i) if m.syms[*d as usize].kind == SymKind::IfaceMethod => Some((*d, *i)),
            _ => None,
        })
        .collect();
    for (d, i) in iface_params {
        for ms in impl_methods(d) {
            flows
                .entry(Slot::Param(ms, i))
                .or_default()
                .push(Source::Slot(Slot::Param(d, i)));
        }
    }
    let mut edges = Vec::with_capacity(calls.iter().map(|fc| fc.calls.len()).sum());
    let mut unresolved = Vec::new();
    let mut dispatch_from: HashSet<u32> = HashSet::default();
    let mut fv_cache: HashMap<Slot, Vec<u32>> = HashMap::default();
    let mut literal_methods: HashMap<String, u32> = HashMap::default();
    for fc in calls {
        for c in &fc.calls {
            let mut flags = 0;
            if c.flags & GO != 0 {
                flags |= store::E_GO;
            }
            if c.flags & DEFER != 0 {
                flags |= store::E_DEFER;
            }
            let edge = |callee: u32, via: Via| Edge {
                caller: c.caller,
                callee,
                file: fc.file,
                line: c.pos.line,
                col: c.pos.col,
                via,
                flags,
            };
            match &c.target {
                Target::Static(s) => edges.push(edge(*s, Via::Static)),
                Target::Interface(d, _) => {
                    edges.push(edge(*d, Via::Interface));
                    dispatch_from.insert(*d);
                }
                Target::Dynamic(slot) => {
                    let targets = match slot {
                        Some(s) => fv_cache
                            .entry(s.clone())
                            .or_insert_with(|| funcs_flowing_to(s, &flows))
                            .clone(),
                        None => Vec::new(),
                    };
                    if targets.is_empty() || targets.len() > MAX_FUNCVALUE_TARGETS {
                        unresolved.push(store::Unresolved {
                            caller: c.caller,
                            file: fc.file,
                            line: c.pos.line,
                            col: c.pos.col,
                            reason: "dynamic".into(),
                            name: slot
                                .as_ref()
                                .map(|s| describe_slot(m, s))
                                .unwrap_or_default(),
                        });
                    } else {
                        for t in targets {
                            edges.push(edge(t, Via::FuncValue));
                        }
                    }
                }
                // A method of an interface literal (`x.(interface{ Timeout() bool }).Timeout()`):
                // an interface call of `(interface).Timeout`, as go/types names it, with no
                // dispatch (the literal names no interface to look implementations up by).
                // A method of a type declared in a function body (`Type.M`) is
                // `(pkg.Type).M`, as go/types names it.
                Target::Unresolved(Reason::InterfaceLiteral, name) if !name.is_empty() => {
                    let (qname, short, pkg) = match name.split_once('.') {
                        Some((ty, method)) => {
                            let pkg = m.syms.get(c.caller as usize).map_or(NONE, |s| s.pkg);
                            let path = m.pkgs.get(pkg as usize).map_or("", |p| p.path.as_str());
                            (format!("({path}.{ty}).{method}"), method, pkg)
                        }
                        None => (format!("(interface).{name}"), &**name, NONE),
                    };
                    let next = first_synthetic + syms.len() as u32;
                    let id = *literal_methods.entry(qname.clone()).or_insert(next);
                    if id == next {
                        syms.push(SymRec::synthetic(
                            qname,
                            short.to_string(),
                            Kind::IfaceMethod,
                            pkg,
                        ));
                    }
                    edges.push(edge(id, Via::Interface));
                }
                Target::Unresolved(r, name) => unresolved.push(store::Unresolved {
                    caller: c.caller,
                    file: fc.file,
                    line: c.pos.line,
                    col: c.pos.col,
                    reason: r.as_str().into(),
                    name: name.to_string(),
                }),
            }
        }
    }
    // Dispatch: interface method -> the implementing types' methods.
    let mut dispatch_from: Vec<u32> = dispatch_from.into_iter().collect();
    dispatch_from.sort();
    for d in dispatch_from {
        for ms in impl_methods(d) {
            edges.push(Edge {
                caller: d,
                callee: ms,
                file: NONE,
                line: 0,
                col: 0,
                via: Via::Dispatch,
                flags: 0,
            });
        }
    }
    // By caller, then call site (the order `index.bin` stores), then the rest for dedup.
    edges.par_sort_unstable_by_key(|e| (e.caller, e.line, e.col, e.callee, e.file, e.via, e.flags));
    edges.dedup();
    let graph = store::Graph {
        impls: impl_recs,
        iface_extends,
        methods: method_sets,
        edges,
        unresolved,
    };
    (graph, syms)
}

/// The functions a slot can hold: flow-insensitive closure over the recorded flows.
fn funcs_flowing_to(slot: &Slot, flows: &HashMap<Slot, Vec<Source>>) -> Vec<u32> {
    let mut out = Vec::new();
    let mut seen: HashSet<&Slot> = HashSet::default();
    let mut stack = vec![slot];
    while let Some(s) = stack.pop() {
        if !seen.insert(s) || seen.len() > 256 {
            continue;
        }
        for src in flows.get(s).map(|v| v.as_slice()).unwrap_or(&[]) {
            match src {
                Source::Func(f) => out.push(*f),
                Source::Slot(s2) => stack.push(s2),
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

fn describe_slot(m: &Model, s: &Slot) -> String {
    match s {
        Slot::Field(n, f) => format!("{}.{}", m.named_name(*n), f),
        Slot::Param(f, i) => format!("{} param {}", m.qualified_name(*f), i),
        Slot::Var(v) => m.qualified_name(*v),
        Slot::Local(f, n) => format!("{} local {}", m.qualified_name(*f), n),
        Slot::Recv(n) => format!("{} receiver", m.named_name(*n)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn syms(names: &[(&str, &str)]) -> Vec<SymRec> {
        names
            .iter()
            .map(|(q, n)| SymRec::synthetic(q.to_string(), n.to_string(), Kind::Func, 0))
            .collect()
    }

    #[test]
    fn a_previous_order_is_taken_only_when_it_sorts_the_symbols() {
        let a = syms(&[
            ("p.Run", "Run"),
            ("(p.T).Run", "Run"),
            ("q.New", "New"),
            ("p.Run", "Run"),
            ("a.Z", "Z"),
        ]);
        let order = sort_symbols(&a);
        assert_eq!(order.0, vec![1, 4, 0, 3, 2]);
        // By name, ties in the qualified-name order.
        assert_eq!(order.1, vec![2, 1, 0, 3, 4]);
        assert!(sorts(&a, &order));
        // Another symbol set (a renamed function) is not sorted by it.
        let mut b = syms(&[
            ("p.Run", "Run"),
            ("(p.T).Run", "Run"),
            ("q.New", "New"),
            ("p.Run", "Run"),
            ("a.Z", "Z"),
        ]);
        b[4].qname = "z.Z".into();
        assert!(!sorts(&b, &order));
        assert_eq!(sort_symbols(&b).0, vec![1, 0, 3, 2, 4]);
        // Equal qualified names are ordered by id; a swapped pair, a duplicate id (a list
        // that is no permutation), an id out of range or a short list is refused.
        let mut swapped = order.clone();
        swapped.0.swap(2, 3);
        assert!(!sorts(&a, &swapped));
        let mut dup = order.clone();
        dup.1[4] = dup.1[3];
        assert!(!sorts(&a, &dup));
        let mut out = order.clone();
        out.0[0] = 9;
        assert!(!sorts(&a, &out));
        let mut short = order.clone();
        short.1.pop();
        assert!(!sorts(&a, &short));
    }
}
