//! Call-graph queries: direct callers and callees, call paths between two functions, call
//! trees and bounded neighbourhoods, on the stored call graph: edges sorted by caller with
//! per-symbol offsets in both directions (see `store::layout`), read from the memory map,
//! so a query costs what it visits, not the size of the graph.
//!
//! Input: an opened [`Index`]. Output: stored [`Edge`]s, paths of edges, [`Tree`]s, [`Sub`]graphs.
//! Must not know: command-line flags, output formats.
//!
//! # Filters ([`Opts`])
//! The endpoints a user names are always kept; the filters apply to every other function.
//! - `no_std`: drops functions of packages outside the checkout ([`Index::is_external`]) and
//!   *std-like* packages of the checkout — import paths whose first element has no dot
//!   (`io`, `net/http`) — except those sharing their first element with one of the named
//!   endpoints. So on an index of the standard library itself, a trace from
//!   `(*net/http.Server).Serve` with `no_std` keeps `net/...` and drops `io`, `sync`, `fmt`;
//!   on a module named `myapp` (no dot) its own packages stay.
//! - `focus`: keeps only packages under an import-path prefix (`k8s.io/client-go/tools`, with
//!   or without a trailing `/...`).
//! - An interface method dropped by `no_std`/`focus` is still kept when one of its dispatch
//!   targets is kept: it is the bridge from a call site to the implementations
//!   (`(io.Writer).Write` → the checkout's own writers).
//! - `no_dispatch` skips `dispatch` edges (interface method → implementation).
//!
//! # Bounds
//! Path enumeration is bounded three ways so hub functions cannot explode it: `max_depth`
//! hops, at most [`FANOUT`] successors tried per node (nearest to the target first), and
//! [`STEP_BUDGET`] expansions per query. Trees and neighbourhoods stop at a node count and
//! report how much they cut.

use crate::analysis::Index;
use crate::store::{self, Edge, Kind, Via};
use petgraph::Direction::{self, Incoming, Outgoing};
use std::collections::{HashMap, HashSet, VecDeque};

/// Successors tried per node when enumerating paths.
pub const FANOUT: usize = 48;
/// Node expansions per path query.
pub const STEP_BUDGET: usize = 200_000;
/// Nodes in a call tree before it is cut.
pub const TREE_MAX_NODES: usize = 3_000;
/// Children shown under one tree node (dispatch from `(io.Writer).Write` has hundreds).
pub const TREE_MAX_CHILDREN: usize = 60;

/// Query options. Construct with `..Default::default()` so new fields do not break callers.
#[derive(Clone, Debug)]
pub struct Opts {
    pub no_std: bool,
    pub no_tests: bool,
    pub no_vendor: bool,
    /// Import-path prefix to stay within.
    pub focus: Option<String>,
    pub no_dispatch: bool,
    /// Longest path, in hops, for [`CallGraph::paths`].
    pub max_depth: usize,
    /// Most paths returned by [`CallGraph::paths`].
    pub max_paths: usize,
    /// Functions whose qualified name matches are left out.
    pub exclude: Option<regex::Regex>,
}

impl Default for Opts {
    fn default() -> Self {
        Opts {
            no_std: false,
            no_tests: false,
            no_vendor: false,
            focus: None,
            no_dispatch: false,
            max_depth: 12,
            max_paths: 10,
            exclude: None,
        }
    }
}

/// Call-graph queries over an index's stored edges (nothing to build: the adjacency is in
/// `index.bin`).
pub struct CallGraph;

/// A call tree: `nodes[0]` is the root; children in call-site order.
#[derive(Debug, Default)]
pub struct Tree {
    pub nodes: Vec<TreeNode>,
    /// Nodes left out because the tree reached [`TREE_MAX_NODES`].
    pub cut: usize,
}

#[derive(Debug, Clone)]
pub struct TreeNode {
    pub id: u32,
    /// The first call site from the parent (None for the root).
    pub edge: Option<Edge>,
    /// How many call sites the parent has for this callee.
    pub sites: usize,
    pub depth: usize,
    pub children: Vec<usize>,
    /// Already expanded at this node index (a repeated subtree).
    pub repeat_of: Option<usize>,
    /// Callees not shown: beyond the depth limit or the per-node / total caps.
    pub more: usize,
}

/// A bounded neighbourhood: nodes in discovery order, one edge per (caller, callee) pair.
#[derive(Debug, Default)]
pub struct Sub {
    pub nodes: Vec<u32>,
    pub edges: Vec<Edge>,
    /// Nodes reached but left out because of the node cap.
    pub cut: usize,
}

/// How far each side got when there is no path.
#[derive(Debug, Default)]
pub struct Miss {
    /// Functions reachable from FROM (within max_depth) and their depth.
    pub forward: Vec<(u32, usize)>,
    /// Functions that reach TO (within max_depth) and their depth.
    pub backward: Vec<(u32, usize)>,
}

/// The per-query filter: which functions may appear.
struct Scope<'a> {
    ix: &'a Index,
    o: &'a Opts,
    /// Per package: passes no_std and focus.
    pkg_ok: Vec<bool>,
    keep: Vec<u32>,
}

fn first_elem(path: &str) -> &str {
    path.split('/').next().unwrap_or(path)
}

fn focus_prefix(f: &str) -> &str {
    f.trim_end_matches("...").trim_end_matches('/')
}

/// True when `path` is `prefix` or below it.
pub fn under(path: &str, prefix: &str) -> bool {
    let p = focus_prefix(prefix);
    p.is_empty()
        || path == p
        || path.len() > p.len() && path.starts_with(p) && path.as_bytes()[p.len()] == b'/'
}

impl<'a> Scope<'a> {
    fn new(ix: &'a Index, o: &'a Opts, keep: &[u32]) -> Scope<'a> {
        let homes: Vec<&str> = keep
            .iter()
            .filter_map(|&id| ix.pkg(ix.sym(id).pkg))
            .map(|p| first_elem(p.path()))
            .collect();
        let pkg_ok = ix
            .pkgs()
            .map(|(_, p)| {
                if o.no_std {
                    if p.flags & store::F_EXTERNAL != 0 {
                        return false;
                    }
                    let fe = first_elem(p.path());
                    if !fe.contains('.') && !homes.contains(&fe) {
                        return false;
                    }
                }
                match &o.focus {
                    Some(f) => under(p.path(), f),
                    None => true,
                }
            })
            .collect();
        Scope {
            ix,
            o,
            pkg_ok,
            keep: keep.to_vec(),
        }
    }

    /// Filters that never have exceptions: tests, vendor, exclude.
    fn basic_ok(&self, id: u32) -> bool {
        let ix = self.ix;
        if (self.o.no_tests && ix.is_test(id)) || (self.o.no_vendor && ix.is_vendor(id)) {
            return false;
        }
        if let Some(re) = &self.o.exclude {
            if re.is_match(ix.sym(id).qname()) {
                return false;
            }
        }
        true
    }

    fn pkg_pass(&self, id: u32) -> bool {
        match self.pkg_ok.get(self.ix.t().meta(id).0 as usize) {
            Some(&ok) => ok && !(self.o.no_std && self.ix.is_external(id)),
            // Symbols without a package (`(error).Error`) are std-like.
            None => !self.o.no_std && self.o.focus.is_none(),
        }
    }

    fn ok(&self, cg: &CallGraph, id: u32) -> bool {
        if self.keep.contains(&id) {
            return true;
        }
        if !self.basic_ok(id) {
            return false;
        }
        if self.pkg_pass(id) {
            return true;
        }
        // An interface method is the bridge to implementations that are kept.
        self.ix.t().meta(id).1 == Kind::IfaceMethod
            && !self.o.no_dispatch
            && cg.raw(self.ix, id, Outgoing).any(|e| {
                e.via == Via::Dispatch && self.basic_ok(e.callee) && self.pkg_pass(e.callee)
            })
    }

    fn via_ok(&self, e: &Edge) -> bool {
        !(self.o.no_dispatch && e.via == Via::Dispatch)
    }
}

impl CallGraph {
    /// Edges out of (callees) or into (callers) `id`, unfiltered.
    fn raw<'s>(&'s self, ix: &'s Index, id: u32, dir: Direction) -> store::Adjacent<'s> {
        match dir {
            Outgoing => ix.t().edges_from(id),
            Incoming => ix.t().edges_to(id),
        }
    }

    /// Direct calls made by `id`, every call site, in source order.
    pub fn callees(&self, ix: &Index, id: u32, o: &Opts) -> Vec<Edge> {
        let sc = Scope::new(ix, o, &[id]);
        let mut v: Vec<Edge> = self
            .raw(ix, id, Outgoing)
            .filter(|e| sc.via_ok(e) && sc.ok(self, e.callee))
            .collect();
        v.sort_by(|a, b| out_key(ix, a).cmp(&out_key(ix, b)));
        v
    }

    /// Direct callers of `id`, every call site, by caller name.
    pub fn callers(&self, ix: &Index, id: u32, o: &Opts) -> Vec<Edge> {
        let sc = Scope::new(ix, o, &[id]);
        let mut v: Vec<Edge> = self.raw(ix, id, Incoming).collect();
        v.retain(|e| sc.via_ok(e) && sc.ok(self, e.caller));
        v.sort_by(|a, b| in_key(ix, a).cmp(&in_key(ix, b)));
        v
    }

    /// Neighbours of `id` in one direction, one entry per function: (function, first call
    /// site, number of call sites), in source order (callees) or by name (callers).
    fn grouped(&self, ix: &Index, sc: &Scope, id: u32, reverse: bool) -> Vec<(u32, Edge, usize)> {
        let dir = if reverse { Incoming } else { Outgoing };
        let mut by: HashMap<u32, (Edge, usize)> = HashMap::new();
        for e in self.raw(ix, id, dir) {
            let other = if reverse { e.caller } else { e.callee };
            if !sc.via_ok(&e) || !sc.ok(self, other) {
                continue;
            }
            let ent = by.entry(other).or_insert((e, 0));
            ent.1 += 1;
            if (e.line, e.col) < (ent.0.line, ent.0.col) {
                ent.0 = e;
            }
        }
        let mut v: Vec<(u32, Edge, usize)> = by.into_iter().map(|(k, (e, n))| (k, e, n)).collect();
        if reverse {
            v.sort_by(|a, b| in_key(ix, &a.1).cmp(&in_key(ix, &b.1)));
        } else {
            v.sort_by(|a, b| out_key(ix, &a.1).cmp(&out_key(ix, &b.1)));
        }
        v
    }

    /// The call tree under `from`, `depth` levels deep. A function is expanded once, at its
    /// shallowest occurrence (breadth first); other occurrences refer to it (`repeat_of`).
    pub fn tree(&self, ix: &Index, from: u32, depth: usize, o: &Opts) -> Tree {
        self.build_tree(ix, from, depth, o, false)
    }

    /// The tree of callers above `to` (each node's `edge` goes from it to its parent).
    pub fn caller_tree(&self, ix: &Index, to: u32, depth: usize, o: &Opts) -> Tree {
        self.build_tree(ix, to, depth, o, true)
    }

    fn build_tree(&self, ix: &Index, root: u32, depth: usize, o: &Opts, reverse: bool) -> Tree {
        let sc = Scope::new(ix, o, &[root]);
        let mut t = Tree {
            nodes: vec![TreeNode {
                id: root,
                edge: None,
                sites: 0,
                depth: 0,
                children: Vec::new(),
                repeat_of: None,
                more: 0,
            }],
            cut: 0,
        };
        let mut expanded: HashMap<u32, usize> = HashMap::new();
        let mut q = VecDeque::from([0usize]);
        while let Some(ni) = q.pop_front() {
            let (id, d) = (t.nodes[ni].id, t.nodes[ni].depth);
            if let Some(&at) = expanded.get(&id) {
                t.nodes[ni].repeat_of = Some(at);
                continue;
            }
            let groups = self.grouped(ix, &sc, id, reverse);
            if d >= depth {
                t.nodes[ni].more = groups.len();
                continue;
            }
            expanded.insert(id, ni);
            for (shown, (other, e, n)) in groups.into_iter().enumerate() {
                if shown >= TREE_MAX_CHILDREN || t.nodes.len() >= TREE_MAX_NODES {
                    t.nodes[ni].more += 1;
                    if t.nodes.len() >= TREE_MAX_NODES {
                        t.cut += 1;
                    }
                    continue;
                }
                let ci = t.nodes.len();
                t.nodes.push(TreeNode {
                    id: other,
                    edge: Some(e),
                    sites: n,
                    depth: d + 1,
                    children: Vec::new(),
                    repeat_of: None,
                    more: 0,
                });
                t.nodes[ni].children.push(ci);
                q.push_back(ci);
            }
        }
        t
    }

    /// Breadth-first distances from `start` (following callees, or callers when `reverse`)
    /// within `max` hops, over functions the scope keeps. `u32::MAX` = not reached.
    fn distances(&self, ix: &Index, sc: &Scope, start: u32, reverse: bool, max: usize) -> Vec<u32> {
        let mut dist = vec![u32::MAX; ix.nsyms()];
        let Some(slot) = dist.get_mut(start as usize) else {
            return dist;
        };
        *slot = 0;
        let dir = if reverse { Incoming } else { Outgoing };
        let mut q = VecDeque::from([start]);
        // The compact id arrays, unless `--no-dispatch` needs each edge's kind.
        let compact = !sc.o.no_dispatch;
        let mut next: Vec<u32> = Vec::new();
        while let Some(u) = q.pop_front() {
            let du = dist[u as usize];
            if du as usize >= max {
                continue;
            }
            next.clear();
            if compact {
                let t = ix.t();
                next.extend_from_slice(if reverse {
                    t.caller_ids(u)
                } else {
                    t.callee_ids(u)
                });
            } else {
                next.extend(self.raw(ix, u, dir).filter(|e| sc.via_ok(e)).map(|e| {
                    if reverse {
                        e.caller
                    } else {
                        e.callee
                    }
                }));
            }
            for &v in &next {
                // (An id past the end only comes from a damaged index: skip it.)
                if dist.get(v as usize) != Some(&u32::MAX) || !sc.ok(self, v) {
                    continue;
                }
                dist[v as usize] = du + 1;
                q.push_back(v);
            }
        }
        dist
    }

    /// Call paths from `from` to `to`: shortest first, at most `o.max_paths`, each at most
    /// `o.max_depth` hops, one call site per hop (the first in the caller). Bounded by
    /// [`FANOUT`] and [`STEP_BUDGET`]; empty when there is none within the bounds.
    pub fn paths(&self, ix: &Index, from: u32, to: u32, o: &Opts) -> Vec<Vec<Edge>> {
        let mut out = Vec::new();
        if from == to || o.max_paths == 0 {
            return out;
        }
        let sc = Scope::new(ix, o, &[from, to]);
        let dist = self.distances(ix, &sc, to, true, o.max_depth);
        let d0 = match dist.get(from as usize) {
            Some(&d) if d != u32::MAX => d as usize,
            _ => return out,
        };
        let mut en = Enum {
            cg: self,
            sc: &sc,
            dist: &dist,
            to,
            path: Vec::new(),
            on: HashSet::from([from]),
            out: &mut out,
            max: o.max_paths,
            budget: STEP_BUDGET,
        };
        for len in d0..=o.max_depth {
            en.walk(from, len);
            if en.out.len() >= en.max || en.budget == 0 {
                break;
            }
        }
        out
    }

    /// When [`CallGraph::paths`] finds nothing: what FROM reaches and what reaches TO.
    pub fn miss(&self, ix: &Index, from: u32, to: u32, o: &Opts) -> Miss {
        let sc = Scope::new(ix, o, &[from, to]);
        // By depth, then id (the callers pick what they show by their own order).
        let collect = |d: Vec<u32>, skip: u32| {
            let mut v: Vec<(u32, usize)> = d
                .iter()
                .enumerate()
                .filter(|&(i, &x)| x != u32::MAX && i as u32 != skip)
                .map(|(i, &x)| (i as u32, x as usize))
                .collect();
            v.sort_unstable_by_key(|&(id, d)| (d, id));
            v
        };
        Miss {
            forward: collect(self.distances(ix, &sc, from, false, o.max_depth), from),
            backward: collect(self.distances(ix, &sc, to, true, o.max_depth), to),
        }
    }

    /// Functions within `depth` calls of `from`, breadth first, at most `max_nodes`, with one
    /// edge per (caller, callee) pair among them (`reverse`: callers instead of callees).
    pub fn neighbourhood(
        &self,
        ix: &Index,
        from: u32,
        depth: usize,
        o: &Opts,
        max_nodes: usize,
        reverse: bool,
    ) -> Sub {
        let sc = Scope::new(ix, o, &[from]);
        let mut sub = Sub::default();
        let mut depth_of: HashMap<u32, usize> = HashMap::from([(from, 0)]);
        let mut cut: HashSet<u32> = HashSet::new();
        sub.nodes.push(from);
        let mut i = 0;
        while i < sub.nodes.len() {
            let u = sub.nodes[i];
            i += 1;
            let du = depth_of[&u];
            if du >= depth {
                continue;
            }
            for (v, e, _) in self.grouped(ix, &sc, u, reverse) {
                if let std::collections::hash_map::Entry::Vacant(slot) = depth_of.entry(v) {
                    if sub.nodes.len() >= max_nodes.max(1) {
                        cut.insert(v);
                        continue;
                    }
                    slot.insert(du + 1);
                    sub.nodes.push(v);
                }
                sub.edges.push(e);
            }
        }
        // One edge per (caller, callee) pair.
        sub.edges.sort();
        sub.edges
            .dedup_by(|a, b| a.caller == b.caller && a.callee == b.callee);
        sub.cut = cut.len();
        sub
    }
}

impl Sub {
    /// The union of paths as a subgraph (nodes in first-seen order).
    pub fn from_paths(paths: &[Vec<Edge>]) -> Sub {
        let mut sub = Sub::default();
        let mut seen = HashSet::new();
        for p in paths {
            for e in p {
                for n in [e.caller, e.callee] {
                    if seen.insert(n) {
                        sub.nodes.push(n);
                    }
                }
                sub.edges.push(*e);
            }
        }
        sub.edges.sort();
        sub.edges
            .dedup_by(|a, b| a.caller == b.caller && a.callee == b.callee);
        sub
    }
}

/// The `k` reached functions nearest to `target`: most import-path elements in common with
/// its package, then deepest, then by name.
pub fn nearest(ix: &Index, reached: &[(u32, usize)], target: u32, k: usize) -> Vec<(u32, usize)> {
    let pkg = |id: u32| ix.pkg_path(id);
    let tp: Vec<&str> = pkg(target).split('/').collect();
    let common = |id: u32| {
        pkg(id)
            .split('/')
            .zip(tp.iter())
            .take_while(|(a, b)| a == *b)
            .count()
    };
    let mut v: Vec<(usize, u32, usize)> = reached
        .iter()
        .filter(|(id, _)| ix.sym(*id).kind.is_func())
        .map(|&(id, d)| (common(id), id, d))
        .collect();
    // Most path elements in common, then deepest; names break ties. Hundreds of thousands
    // of functions can be reached: order by the numbers first, and compare names only within
    // the prefix that can still make the cut.
    v.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(b.2.cmp(&a.2)).then(a.1.cmp(&b.1)));
    if let Some(&(c, _, d)) = v.get(k.saturating_sub(1)) {
        let end = v.partition_point(|x| x.0 > c || x.0 == c && x.2 >= d);
        v.truncate(end);
    }
    v.sort_by(|a, b| {
        b.0.cmp(&a.0)
            .then(b.2.cmp(&a.2))
            .then(ix.sym(a.1).qname().cmp(ix.sym(b.1).qname()))
    });
    v.into_iter().take(k).map(|(_, id, d)| (id, d)).collect()
}

fn out_key<'a>(ix: &'a Index, e: &Edge) -> (u32, u32, &'a str, Via, u32) {
    (e.line, e.col, ix.sym(e.callee).qname(), e.via, e.callee)
}

fn in_key<'a>(ix: &'a Index, e: &Edge) -> (&'a str, u32, u32, Via, u32) {
    (ix.sym(e.caller).qname(), e.line, e.col, e.via, e.caller)
}

/// Depth-first enumeration of paths of an exact length, pruned by the distance to the target.
struct Enum<'a> {
    cg: &'a CallGraph,
    sc: &'a Scope<'a>,
    dist: &'a [u32],
    to: u32,
    path: Vec<Edge>,
    on: HashSet<u32>,
    out: &'a mut Vec<Vec<Edge>>,
    max: usize,
    budget: usize,
}

impl Enum<'_> {
    fn walk(&mut self, u: u32, rem: usize) {
        if self.out.len() >= self.max || self.budget == 0 || rem == 0 {
            return;
        }
        self.budget -= 1;
        // Unique successors that can still reach the target, nearest first.
        let mut succ: HashMap<u32, Edge> = HashMap::new();
        for e in self.cg.raw(self.sc.ix, u, Outgoing) {
            let dv = self
                .dist
                .get(e.callee as usize)
                .copied()
                .unwrap_or(u32::MAX);
            if dv == u32::MAX || dv as usize > rem - 1 || !self.sc.via_ok(&e) {
                continue;
            }
            let ent = succ.entry(e.callee).or_insert(e);
            if (e.line, e.col, e.via) < (ent.line, ent.col, ent.via) {
                *ent = e;
            }
        }
        let mut succ: Vec<(u32, Edge)> = succ.into_iter().collect();
        succ.sort_by_key(|(v, e)| (self.dist.get(*v as usize), e.line, e.col, *v));
        for (v, e) in succ.into_iter().take(FANOUT) {
            if v == self.to {
                if rem == 1 {
                    self.path.push(e);
                    self.out.push(self.path.clone());
                    self.path.pop();
                    if self.out.len() >= self.max {
                        return;
                    }
                }
                continue;
            }
            if rem == 1 || self.on.contains(&v) {
                continue;
            }
            self.path.push(e);
            self.on.insert(v);
            self.walk(v, rem - 1);
            self.on.remove(&v);
            self.path.pop();
            if self.out.len() >= self.max || self.budget == 0 {
                return;
            }
        }
    }
}
