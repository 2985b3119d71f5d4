//! The façade that answers questions from a stored index, with plain result types.
//!
//! Input: an index directory. Output: symbols, implementations, method sets, edges — as
//! symbol ids plus views of the memory-mapped records ([`store::Sym`], …); rendering is
//! elsewhere.
//! Must not know: output formats, command-line flags (filters arrive as [`Filter`]).

use crate::store::{self, Kind, OpenError, NONE};
use std::path::{Path, PathBuf};

pub struct Index {
    pub dir: PathBuf,
    pub opened: store::Opened,
}

/// Which symbols a query may show.
#[derive(Clone, Copy, Debug, Default)]
pub struct Filter {
    pub no_tests: bool,
    pub no_vendor: bool,
    /// Include packages outside the checkout (standard library, GOPATH deps).
    pub external: bool,
}

pub enum Lookup {
    Found(u32),
    Ambiguous(Vec<u32>),
    NotFound(Vec<u32>),
}

#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    #[error("{0}")]
    Open(#[from] OpenError),
    #[error("no symbol matches '{name}'{hint}")]
    NotFound { name: String, hint: String },
    #[error(
        "'{name}' is ambiguous: {count} symbols match; use a qualified name or --first:\n{list}"
    )]
    Ambiguous {
        name: String,
        count: usize,
        list: String,
    },
    #[error("{0}")]
    Other(String),
}

impl QueryError {
    /// Exit code: 2 for ambiguous names and usage, 1 otherwise.
    pub fn exit_code(&self) -> i32 {
        match self {
            QueryError::Ambiguous { .. } => 2,
            _ => 1,
        }
    }
}

impl Index {
    pub fn open(dir: &Path) -> Result<Index, QueryError> {
        let opened = store::open(dir)?;
        Ok(Index {
            dir: dir.to_path_buf(),
            opened,
        })
    }

    /// The mapped tables (files, packages, symbols, graph).
    pub fn t(&self) -> &store::Tables {
        &self.opened.tables
    }

    /// The indexed root directory.
    pub fn root(&self) -> &str {
        self.t().root()
    }

    pub fn nsyms(&self) -> usize {
        self.t().nsyms()
    }

    pub fn sym(&self, id: u32) -> store::Sym<'_> {
        self.t().sym(id)
    }

    pub fn nfiles(&self) -> usize {
        self.t().nfiles()
    }

    pub fn file(&self, i: u32) -> Option<store::FileView<'_>> {
        self.t().file(i)
    }

    pub fn npkgs(&self) -> usize {
        self.t().npkgs()
    }

    pub fn pkg(&self, i: u32) -> Option<store::PkgView<'_>> {
        self.t().pkg(i)
    }

    /// Every package, by id.
    pub fn pkgs(&self) -> impl Iterator<Item = (u32, store::PkgView<'_>)> + '_ {
        (0..self.npkgs() as u32).filter_map(|i| Some((i, self.pkg(i)?)))
    }

    /// Every file, by id.
    pub fn files(&self) -> impl Iterator<Item = (u32, store::FileView<'_>)> + '_ {
        (0..self.nfiles() as u32).filter_map(|i| Some((i, self.file(i)?)))
    }

    /// The import path of a symbol's package ("" for symbols without one).
    pub fn pkg_path(&self, id: u32) -> &str {
        self.pkg(self.sym(id).pkg).map(|p| p.path()).unwrap_or("")
    }

    /// A file's path relative to the root; "" for NONE (dispatch edges have no call site).
    pub fn file_rel(&self, f: u32) -> &str {
        self.file(f).map(|f| f.rel()).unwrap_or("")
    }

    pub fn file_of(&self, id: u32) -> Option<store::FileView<'_>> {
        let f = self.sym(id).file;
        if f == NONE {
            return None;
        }
        self.file(f)
    }

    /// `file:line` of a symbol, relative to the indexed root (external files keep their prefix).
    pub fn location(&self, id: u32) -> String {
        match self.file_of(id) {
            Some(f) => format!("{}:{}", f.rel(), self.sym(id).line),
            None => "<builtin>".to_string(),
        }
    }

    pub fn pkg_flags(&self, id: u32) -> u8 {
        self.t().meta(id).2
    }

    pub fn is_test(&self, id: u32) -> bool {
        self.pkg_flags(id) & store::F_TEST != 0
    }
    pub fn is_vendor(&self, id: u32) -> bool {
        self.pkg_flags(id) & store::F_VENDOR != 0
    }
    pub fn is_external(&self, id: u32) -> bool {
        self.pkg_flags(id) & store::F_EXTERNAL != 0
    }

    pub fn allowed(&self, id: u32, f: &Filter) -> bool {
        let flags = self.pkg_flags(id);
        !(f.no_tests && flags & store::F_TEST != 0 || f.no_vendor && flags & store::F_VENDOR != 0)
    }

    /// Rank for listing candidates: checkout code first, then vendor, tests, external.
    pub fn rank(&self, id: u32) -> (u8, usize, &str) {
        let fl = self.pkg_flags(id);
        let r = (fl & store::F_EXTERNAL != 0) as u8 * 4
            + (fl & store::F_TEST != 0) as u8 * 2
            + (fl & store::F_VENDOR != 0) as u8;
        let q = self.sym(id).qname();
        (r, q.len(), q)
    }

    /// The symbol with exactly this qualified name.
    pub fn id_qname(&self, q: &str) -> Option<u32> {
        let v = self.t().by_qname();
        let i = v.partition_point(|&i| self.sym(i).qname() < q);
        v.get(i).copied().filter(|&id| self.sym(id).qname() == q)
    }

    /// Resolves a user-written name: a go/types qualified name, or a short form
    /// (`http.Handler`, `Handler`, `Server.Serve`, `(*Server).Serve`, `cache.controller.Run`).
    pub fn lookup(&self, input: &str) -> Lookup {
        let input = input.trim();
        if let Some(id) = self.id_qname(input) {
            return Lookup::Found(id);
        }
        let stripped = input.trim_start_matches('*');
        if stripped != input {
            if let Some(id) = self.id_qname(stripped) {
                return Lookup::Found(id);
            }
        }
        let pat = Pattern::parse(stripped);
        let mut cands: Vec<u32> = self
            .t()
            .ids_named(&pat.name)
            .iter()
            .copied()
            .filter(|&id| self.matches(id, &pat, false))
            .collect();
        if cands.is_empty() && pat.recv.is_none() {
            // `sharedIndexInformer.Run`: a lowercase first part may be a type, not a package.
            if let Some(q) = pat.qual.as_deref().filter(|q| !q.contains('/')) {
                let alt = Pattern {
                    qual: None,
                    recv: Some(q.to_string()),
                    name: pat.name.clone(),
                };
                cands = self
                    .t()
                    .ids_named(&alt.name)
                    .iter()
                    .copied()
                    .filter(|&id| self.matches(id, &alt, false))
                    .collect();
            }
        }
        if cands.is_empty() {
            let lname = pat.name.to_lowercase();
            cands = self
                .t()
                .names()
                .filter(|(n, _)| {
                    n.len() == pat.name.len() && n.eq_ignore_ascii_case(&pat.name)
                        || !n.is_ascii() && n.to_lowercase() == lname
                })
                .flat_map(|(_, ids)| ids.iter().copied())
                .filter(|&id| self.matches(id, &pat, true))
                .collect();
        }
        // `pkg.init` symbols only when asked for by name.
        cands.retain(|&id| self.sym(id).kind != Kind::Init || pat.name == "init");
        cands.sort_by(|&a, &b| self.rank(a).cmp(&self.rank(b)));
        cands.dedup();
        match cands.len() {
            0 => Lookup::NotFound(self.suggest(&pat.name)),
            1 => Lookup::Found(cands[0]),
            _ => {
                // A unique non-external, non-test, non-vendor candidate wins over the rest.
                let best: Vec<u32> = cands
                    .iter()
                    .copied()
                    .filter(|&id| self.rank(id).0 == 0)
                    .collect();
                if best.len() == 1 {
                    Lookup::Found(best[0])
                } else {
                    Lookup::Ambiguous(cands)
                }
            }
        }
    }

    fn matches(&self, id: u32, pat: &Pattern, icase: bool) -> bool {
        let s = self.sym(id);
        let eq = |a: &str, b: &str| {
            if icase {
                a.eq_ignore_ascii_case(b)
            } else {
                a == b
            }
        };
        if let Some(t) = &pat.recv {
            if s.recv == NONE {
                return false;
            }
            if !eq(self.sym(s.recv).name(), t) {
                return false;
            }
        }
        if let Some(q) = &pat.qual {
            let Some(pkg) = self.pkg(s.pkg) else {
                return false;
            };
            let path = pkg.path();
            let path_match = path == q
                || path.len() > q.len()
                    && path.ends_with(q.as_str())
                    && path.as_bytes()[path.len() - q.len() - 1] == b'/'
                || eq(pkg.name(), q);
            if !path_match {
                return false;
            }
        }
        true
    }

    fn suggest(&self, name: &str) -> Vec<u32> {
        let lname = name.to_lowercase();
        let mut scored: Vec<(f64, u32)> = Vec::new();
        let mut lower = String::new();
        for (n, ids) in self.t().names() {
            if n.len() + 3 < name.len() || n.len() > name.len() + 8 || ids.is_empty() {
                continue;
            }
            lower.clear();
            lower.extend(n.chars().flat_map(char::to_lowercase));
            let score = strsim::jaro_winkler(&lname, &lower);
            if score > 0.85 {
                // The best-ranked symbol of that name stands for it.
                let best = ids
                    .iter()
                    .copied()
                    .min_by(|&a, &b| self.rank(a).cmp(&self.rank(b)));
                scored.extend(best.map(|id| (score, id)));
            }
        }
        scored.sort_by(|a, b| {
            b.0.total_cmp(&a.0)
                .then(self.rank(a.1).cmp(&self.rank(b.1)))
        });
        scored.into_iter().take(5).map(|(_, id)| id).collect()
    }

    /// Lookup that turns ambiguity and absence into errors (or takes the first with `first`).
    pub fn resolve(&self, name: &str, first: bool) -> Result<u32, QueryError> {
        match self.lookup(name) {
            Lookup::Found(id) => Ok(id),
            Lookup::Ambiguous(c) if first => Ok(c[0]),
            Lookup::Ambiguous(c) => Err(QueryError::Ambiguous {
                name: name.to_string(),
                count: c.len(),
                list: c
                    .iter()
                    .take(20)
                    .map(|&id| format!("  {}  {}", self.sym(id).qname(), self.location(id)))
                    .collect::<Vec<_>>()
                    .join("\n"),
            }),
            Lookup::NotFound(s) => Err(QueryError::NotFound {
                name: name.to_string(),
                hint: if s.is_empty() {
                    String::new()
                } else {
                    format!(
                        "; did you mean {}?",
                        s.iter()
                            .map(|&id| self.sym(id).qname().to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                },
            }),
        }
    }

    /// The declaration's source text, read from the indexed file.
    pub fn source(&self, id: u32) -> Result<String, QueryError> {
        let s = self.sym(id);
        let Some(f) = self.file_of(id) else {
            return Err(QueryError::Other(format!(
                "{} has no source (builtin)",
                s.qname()
            )));
        };
        let path = if let Some(rest) = f.rel().strip_prefix("$GOROOT/src/") {
            crate::gomod::std_goroot()
                .map(|g| g.join("src").join(rest))
                .unwrap_or_else(|| PathBuf::from(f.rel()))
        } else {
            Path::new(self.root()).join(f.rel())
        };
        let bytes = std::fs::read(&path)
            .map_err(|e| QueryError::Other(format!("cannot read {}: {e}", path.display())))?;
        if xxhash_rust::xxh3::xxh3_64(&bytes) != f.hash {
            return Err(QueryError::Other(format!(
                "{} changed since it was indexed; re-run `codewalk index`",
                f.rel()
            )));
        }
        let (a, b) = (s.start_byte as usize, s.end_byte as usize);
        let text = bytes
            .get(a..b.min(bytes.len()))
            .map(|x| String::from_utf8_lossy(x).to_string())
            .unwrap_or_default();
        Ok(text)
    }

    /// Implementations of an interface: concrete (type, pointer_only) pairs.
    pub fn implementations(&self, iface: u32) -> Vec<(u32, bool)> {
        self.t().impls_of(iface)
    }

    /// Interfaces whose method set contains this interface's (they extend it).
    pub fn extending_interfaces(&self, iface: u32) -> Vec<u32> {
        self.t().extending(iface)
    }

    /// Interfaces a type satisfies: (interface, pointer_only).
    pub fn interfaces_of(&self, ty: u32) -> Vec<(u32, bool)> {
        self.t().ifaces_of(ty)
    }

    pub fn method_set(&self, ty: u32) -> Vec<store::Method<'_>> {
        self.t().method_set(ty)
    }
}

/// A parsed user name: `[qual.][Recv.]name`, `(*[qual.]Recv).name`.
struct Pattern {
    qual: Option<String>,
    recv: Option<String>,
    name: String,
}

impl Pattern {
    fn parse(s: &str) -> Pattern {
        // (*pkg.T).M or (pkg.T).M
        if let Some(rest) = s.strip_prefix('(') {
            if let Some((inner, name)) = rest.split_once(").") {
                let inner = inner.trim_start_matches('*');
                let (qual, recv) = match inner.rsplit_once('.') {
                    Some((q, r)) => (Some(q.to_string()), r.to_string()),
                    None => (None, inner.to_string()),
                };
                return Pattern {
                    qual,
                    recv: Some(recv),
                    name: name.to_string(),
                };
            }
        }
        // Split the import path part (up to the last '/') from the dotted rest.
        let (path_prefix, rest) = match s.rfind('/') {
            Some(i) => (Some(&s[..i + 1]), &s[i + 1..]),
            None => (None, s),
        };
        let parts: Vec<&str> = rest.split('.').collect();
        let join = |q: &str| match path_prefix {
            Some(p) => format!("{p}{q}"),
            None => q.to_string(),
        };
        match parts.as_slice() {
            [name] => Pattern {
                qual: path_prefix.map(|p| p.trim_end_matches('/').to_string()),
                recv: None,
                name: name.to_string(),
            },
            [a, name] => {
                // `pkg.Name` or `Type.Method`: decided by case of the first part.
                if path_prefix.is_some() || a.chars().next().is_some_and(|c| c.is_lowercase()) {
                    Pattern {
                        qual: Some(join(a)),
                        recv: None,
                        name: name.to_string(),
                    }
                } else {
                    Pattern {
                        qual: None,
                        recv: Some(a.to_string()),
                        name: name.to_string(),
                    }
                }
            }
            [.., q, t, name] => Pattern {
                qual: Some(join(q)),
                recv: Some(t.to_string()),
                name: name.to_string(),
            },
            [] => Pattern {
                qual: None,
                recv: None,
                name: String::new(),
            },
        }
    }
}
