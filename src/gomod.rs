//! Import paths the way the go command computes them.
//!
//! Input: the canonical root, the root-relative paths of the `go.mod` /
//! `go.work` / `vendor/modules.txt` files found below it, and a function that
//! reads a file (so tests and callers control all I/O).
//! Output: a [`ModuleMap`] answering "what is the import path of the package
//! in this directory?" ([`ModuleMap::import_path`]), plus the modules, local
//! replacements and warnings (a broken `go.mod` is a warning, never a failure).
//!
//! Rules, first match wins:
//! 1. Go std tree (governing `go.mod` says `module std` or `module cmd`):
//!    packages are named by their directory below GOROOT/src, `vendor/`
//!    prefix kept (`vendor/golang.org/x/net/...`, `cmd/vendor/golang.org/x/arch/...`,
//!    as `go list std cmd` names them). Origin `Std`.
//! 2. GOPATH: the root lies at or below a `<gopath>/src` directory: the path
//!    below `src/` (this is what `GO111MODULE=off go list` reports, even
//!    where a `go.mod` disagrees, and also for vendored packages, which keep
//!    their `.../vendor/...` path in GOPATH mode). Origin `Gopath`, or
//!    `Vendor` for a directory below a `vendor` component.
//! 3. A `vendor` directory component (module mode): the path below the last
//!    one ([`below_vendor`]). Origin `Vendor`.
//! 4. The deepest `go.mod` (or a `go.work` `use` dir, or a local `replace`
//!    target) at or above the directory: `module path + "/" + sub dir`.
//!    A `go.mod` above the root is found too. Origin `Module`.
//! 5. Otherwise the relative directory itself (the root's own name for the
//!    root). Origin `Fallback`.
//!
//! Must not know: how files are listed (that is `walk`), Go syntax, the index.

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::path::{Component, Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Where an import path comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Origin {
    /// Under a `go.mod` (or `go.work` use dir / local replace target).
    Module,
    /// Below a `vendor` directory.
    Vendor,
    /// Part of the Go distribution (GOROOT/src: `module std` / `module cmd`).
    Std,
    /// Below a GOPATH `src` directory.
    Gopath,
    /// None of the above: the relative directory itself.
    Fallback,
}

/// The import path of one package directory.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PkgPath {
    pub path: String,
    pub origin: Origin,
}

/// One module root known to the map.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Module {
    /// Root-relative directory (`""` = the root; also used for a module whose
    /// `go.mod` lies above the root).
    pub dir: String,
    /// Import path of `dir` itself (`""` for the std module's root).
    pub path: String,
    /// Part of the Go distribution (`module std` or `module cmd`).
    pub std: bool,
}

/// A `replace` directive whose target is a local directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replace {
    /// Root-relative path of the `go.mod` / `go.work` holding the directive.
    pub file: String,
    /// The replaced module path.
    pub old: String,
    /// The target as written.
    pub new: String,
    /// The target as a root-relative directory, when it lies inside the root.
    pub dir: Option<String>,
}

/// Import path lookup for one indexed root.
#[derive(Debug, Clone, Default)]
pub struct ModuleMap {
    root_name: String,
    modules: BTreeMap<String, Module>,
    gopath_prefix: Option<String>,
    replaces: Vec<Replace>,
    warnings: Vec<String>,
}

impl ModuleMap {
    /// Builds the map. `root` should be canonical; `gomods` are the
    /// root-relative paths found by the walk; `read` reads an absolute path.
    pub fn build(
        root: &Path,
        gomods: &[PathBuf],
        read: impl Fn(&Path) -> io::Result<String>,
    ) -> ModuleMap {
        let mut map = ModuleMap {
            root_name: root
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "root".to_string()),
            ..ModuleMap::default()
        };
        let mut rels: Vec<String> = gomods
            .iter()
            .filter_map(|p| path_to_rel(p))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        rels.sort();
        // Directories that should hold a module but were not in the list.
        let mut extra_dirs: Vec<(String, Option<String>)> = Vec::new();
        for rel in &rels {
            let (dir, name) = split_rel(rel);
            if name != "go.mod" && name != "go.work" {
                continue;
            }
            let text = match read(&root.join(rel)) {
                Ok(t) => t,
                Err(e) => {
                    map.warnings.push(format!("cannot read {rel}: {e}"));
                    continue;
                }
            };
            let parsed = match parse_modfile(&text) {
                Ok(p) => p,
                Err(e) => {
                    map.warnings.push(format!("{rel}: {e}; ignored"));
                    continue;
                }
            };
            if name == "go.mod" {
                match &parsed.module {
                    Some(m) => map.add_module(dir, m),
                    None => map
                        .warnings
                        .push(format!("{rel}: no module directive; ignored")),
                }
            } else {
                for u in &parsed.uses {
                    match local_dir(root, dir, u) {
                        Some(d) => extra_dirs.push((d, None)),
                        None => map
                            .warnings
                            .push(format!("{rel}: use {u} is outside the root; ignored")),
                    }
                }
            }
            for (old, new) in parsed.replaces {
                if !is_local_path(&new) {
                    continue;
                }
                let target = local_dir(root, dir, &new);
                if let Some(d) = &target {
                    extra_dirs.push((d.clone(), Some(old.clone())));
                }
                map.replaces.push(Replace {
                    file: rel.clone(),
                    old,
                    new,
                    dir: target,
                });
            }
        }
        for (dir, replaced) in extra_dirs {
            if map.modules.contains_key(&dir) {
                continue;
            }
            let gomod = join_rel(&dir, "go.mod");
            let module = read(&root.join(&gomod))
                .ok()
                .and_then(|t| parse_modfile(&t).ok())
                .and_then(|p| p.module);
            match (module, replaced) {
                (Some(m), _) => map.add_module(&dir, &m),
                (None, Some(old)) => map.add_module(&dir, &old),
                (None, None) => map.warnings.push(format!(
                    "{}: go.work use dir has no readable go.mod; ignored",
                    show_rel(&dir)
                )),
            }
        }
        if !map.modules.contains_key("") {
            map.find_outer_module(root, &read);
        }
        map.gopath_prefix = gopath_prefix(root, rels.iter().any(|r| r == "go.mod"));
        map.warnings.sort();
        map.warnings.dedup();
        map
    }

    /// Like [`ModuleMap::build`], reading from disk.
    pub fn from_disk(root: &Path, gomods: &[PathBuf]) -> ModuleMap {
        ModuleMap::build(root, gomods, |p| std::fs::read_to_string(p))
    }

    /// Import path for a package directory (root-relative, `/`-separated,
    /// `""` or `"."` = the root).
    pub fn import_path(&self, rel_dir: &str) -> PkgPath {
        let rel_dir = normalize_query(rel_dir);
        let module = self.governing(&rel_dir);
        if let Some(m) = module.filter(|m| m.std) {
            let sub = strip_dir(&rel_dir, &m.dir);
            // Named by directory below GOROOT/src, vendor/ prefix kept
            // (as `go list std cmd` and go/types name them).
            return PkgPath {
                path: join_rel(&m.path, sub),
                origin: Origin::Std,
            };
        }
        let vendored = below_vendor(&rel_dir);
        if let Some(prefix) = &self.gopath_prefix {
            let path = join_rel(prefix, &rel_dir);
            if !path.is_empty() {
                return PkgPath {
                    path,
                    origin: if vendored.is_some() {
                        Origin::Vendor
                    } else {
                        Origin::Gopath
                    },
                };
            }
        }
        if let Some(v) = vendored {
            return PkgPath {
                path: v.to_string(),
                origin: Origin::Vendor,
            };
        }
        if let Some(m) = module {
            return PkgPath {
                path: join_rel(&m.path, strip_dir(&rel_dir, &m.dir)),
                origin: Origin::Module,
            };
        }
        PkgPath {
            path: if rel_dir.is_empty() {
                self.root_name.clone()
            } else {
                rel_dir
            },
            origin: Origin::Fallback,
        }
    }

    /// Known modules, sorted by directory.
    pub fn modules(&self) -> Vec<&Module> {
        self.modules.values().collect()
    }

    /// Local `replace` directives, in file order.
    pub fn replaces(&self) -> &[Replace] {
        &self.replaces
    }

    /// One line per unreadable or broken file, sorted.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Import path of the root when it lies in a GOPATH `src` tree
    /// (`""` when the root is the `src` directory itself).
    pub fn gopath_prefix(&self) -> Option<&str> {
        self.gopath_prefix.as_deref()
    }

    fn add_module(&mut self, dir: &str, module: &str) {
        let std = module == "std" || module == "cmd";
        let path = if module == "std" { "" } else { module };
        self.modules.insert(
            dir.to_string(),
            Module {
                dir: dir.to_string(),
                path: path.to_string(),
                std,
            },
        );
    }

    /// The go command looks for go.mod in the parents too.
    fn find_outer_module(&mut self, root: &Path, read: &impl Fn(&Path) -> io::Result<String>) {
        let mut sub: Vec<String> = Vec::new();
        let mut dir = root;
        while let Some(parent) = dir.parent() {
            match dir.file_name().and_then(|n| n.to_str()) {
                Some(n) => sub.push(n.to_string()),
                None => return,
            }
            dir = parent;
            let Ok(text) = read(&dir.join("go.mod")) else {
                continue;
            };
            let Some(module) = parse_modfile(&text).ok().and_then(|p| p.module) else {
                self.warnings.push(format!(
                    "{}: broken go.mod above the root; ignored",
                    dir.join("go.mod").display()
                ));
                return;
            };
            sub.reverse();
            let sub = sub.join("/");
            let std = module == "std" || module == "cmd";
            let base = if module == "std" { "" } else { module.as_str() };
            // cmd/vendor/X seen from inside: the root itself is below vendor.
            let path = join_rel(base, &sub);
            self.modules.insert(
                String::new(),
                Module {
                    dir: String::new(),
                    path,
                    std,
                },
            );
            return;
        }
    }

    fn governing(&self, rel_dir: &str) -> Option<&Module> {
        let mut dir = rel_dir;
        loop {
            if let Some(m) = self.modules.get(dir) {
                return Some(m);
            }
            if dir.is_empty() {
                return None;
            }
            dir = dir.rfind('/').map_or("", |i| &dir[..i]);
        }
    }
}

/// GOROOT of the `go` on PATH (`go env GOROOT`), canonical; None when `go`
/// is missing, fails, or takes longer than 10 seconds.
pub fn std_goroot() -> Option<PathBuf> {
    let mut child = Command::new("go")
        .args(["env", "GOROOT"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => break,
            Ok(Some(_)) | Err(_) => return None,
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
    let mut out = String::new();
    io::Read::read_to_string(&mut child.stdout.take()?, &mut out).ok()?;
    let dir = out.trim();
    if dir.is_empty() {
        return None;
    }
    let dir = std::fs::canonicalize(dir).ok()?;
    dir.is_dir().then_some(dir)
}

/// What a go.mod / go.work says that matters here.
#[derive(Debug, Default, PartialEq, Eq)]
struct ModFile {
    module: Option<String>,
    replaces: Vec<(String, String)>,
    uses: Vec<String>,
}

/// Parses go.mod / go.work text: `module`, `replace` and `use` directives,
/// single-line or in `( ... )` blocks; `//` comments; quoted paths.
fn parse_modfile(text: &str) -> Result<ModFile, String> {
    let mut out = ModFile::default();
    let mut block: Option<(String, usize)> = None;
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        let toks = tokenize(line).map_err(|e| format!("line {n}: {e}"))?;
        if toks.is_empty() {
            continue;
        }
        let (verb, args): (&str, &[String]) = match &block {
            Some(_) if toks.len() == 1 && toks[0] == ")" => {
                block = None;
                continue;
            }
            Some((verb, _)) => (verb.as_str(), &toks[..]),
            None if toks.len() == 2 && toks[1] == "(" => {
                block = Some((toks[0].clone(), n));
                continue;
            }
            None => (toks[0].as_str(), &toks[1..]),
        };
        match verb {
            "module" => {
                let m = args
                    .first()
                    .ok_or_else(|| format!("line {n}: module directive without a path"))?;
                if m.is_empty() || m == "(" || m == ")" {
                    return Err(format!("line {n}: bad module path"));
                }
                out.module.get_or_insert_with(|| m.clone());
            }
            "replace" => {
                let arrow = args
                    .iter()
                    .position(|t| t == "=>")
                    .ok_or_else(|| format!("line {n}: replace without =>"))?;
                match (args.first(), args.get(arrow + 1)) {
                    (Some(old), Some(new)) if arrow > 0 => {
                        out.replaces.push((old.clone(), new.clone()))
                    }
                    _ => return Err(format!("line {n}: malformed replace")),
                }
            }
            "use" => {
                let d = args
                    .first()
                    .ok_or_else(|| format!("line {n}: use directive without a path"))?;
                out.uses.push(d.clone());
            }
            _ => {}
        }
    }
    if let Some((verb, n)) = block {
        return Err(format!("line {n}: unterminated {verb} block"));
    }
    Ok(out)
}

/// Splits one line into tokens: words, quoted strings (unquoted), `=>`,
/// `(`, `)`; stops at `//`.
fn tokenize(line: &str) -> Result<Vec<String>, String> {
    let mut toks = Vec::new();
    let mut chars = line.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '/' => {
                chars.next();
                if chars.peek() == Some(&'/') {
                    break;
                }
                let mut w = String::from("/");
                read_word(&mut chars, &mut w);
                toks.push(w);
            }
            '(' | ')' => {
                chars.next();
                toks.push(c.to_string());
            }
            '"' => {
                chars.next();
                let mut s = String::new();
                loop {
                    match chars.next() {
                        None => return Err("unterminated quoted string".to_string()),
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(e @ ('"' | '\\')) => s.push(e),
                            Some('n') => s.push('\n'),
                            Some('t') => s.push('\t'),
                            _ => return Err("bad escape in quoted string".to_string()),
                        },
                        Some(ch) => s.push(ch),
                    }
                }
                toks.push(s);
            }
            '`' => {
                chars.next();
                let mut s = String::new();
                loop {
                    match chars.next() {
                        None => return Err("unterminated quoted string".to_string()),
                        Some('`') => break,
                        Some(ch) => s.push(ch),
                    }
                }
                toks.push(s);
            }
            '=' => {
                chars.next();
                if chars.peek() == Some(&'>') {
                    chars.next();
                    toks.push("=>".to_string());
                } else {
                    let mut w = String::from("=");
                    read_word(&mut chars, &mut w);
                    toks.push(w);
                }
            }
            _ => {
                let mut w = String::new();
                read_word(&mut chars, &mut w);
                toks.push(w);
            }
        }
    }
    Ok(toks)
}

fn read_word(chars: &mut std::iter::Peekable<std::str::Chars<'_>>, w: &mut String) {
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() || matches!(c, '(' | ')' | '"' | '`') {
            break;
        }
        if c == '=' || c == '/' {
            // `=>` and `//` end a word.
            let mut ahead = chars.clone();
            ahead.next();
            let next = ahead.peek().copied();
            if (c == '=' && next == Some('>')) || (c == '/' && next == Some('/')) {
                break;
            }
        }
        w.push(c);
        chars.next();
    }
}

/// `replace` targets and `use` dirs that name a directory (as modfile does).
fn is_local_path(p: &str) -> bool {
    p == "." || p == ".." || p.starts_with("./") || p.starts_with("../") || p.starts_with('/')
}

/// `target` (relative to the root-relative `dir`, or absolute) as a
/// root-relative directory; None when it leaves the root.
fn local_dir(root: &Path, dir: &str, target: &str) -> Option<String> {
    let t = Path::new(target);
    if t.is_absolute() {
        let sub = t.strip_prefix(root).ok()?;
        return path_to_rel(sub);
    }
    let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    Some(parts.join("/"))
}

/// Root for GOPATH rule: the path below `<gopath>/src`. A `src` component
/// counts when the root is that directory (and has no go.mod of its own) or
/// when the component after it looks like a domain (`github.com`, `k8s.io`).
/// The last such component wins.
fn gopath_prefix(root: &Path, root_has_gomod: bool) -> Option<String> {
    let comps: Vec<&str> = root
        .components()
        .filter_map(|c| match c {
            Component::Normal(p) => p.to_str(),
            _ => None,
        })
        .collect();
    (0..comps.len()).rev().find_map(|i| {
        if comps[i] != "src" {
            return None;
        }
        match comps.get(i + 1) {
            None if !root_has_gomod => Some(String::new()),
            Some(next) if next.contains('.') => Some(comps[i + 1..].join("/")),
            _ => None,
        }
    })
}

/// The path below the last `vendor` component of a relative directory: the
/// path by which source code imports a vendored package
/// (`x/vendor/github.com/a/b` -> `github.com/a/b`). None when not vendored.
pub fn below_vendor(rel: &str) -> Option<&str> {
    if let Some(rest) = rel.strip_prefix("vendor/") {
        if !rel.contains("/vendor/") {
            return (!rest.is_empty()).then_some(rest);
        }
    }
    let i = rel.rfind("/vendor/")?;
    let rest = &rel[i + "/vendor/".len()..];
    (!rest.is_empty()).then_some(rest)
}

fn normalize_query(rel: &str) -> String {
    rel.split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect::<Vec<_>>()
        .join("/")
}

fn path_to_rel(p: &Path) -> Option<String> {
    let mut parts = Vec::new();
    for c in p.components() {
        match c {
            Component::Normal(s) => parts.push(s.to_str()?),
            Component::CurDir => {}
            _ => return None,
        }
    }
    Some(parts.join("/"))
}

fn split_rel(rel: &str) -> (&str, &str) {
    match rel.rfind('/') {
        Some(i) => (&rel[..i], &rel[i + 1..]),
        None => ("", rel),
    }
}

fn strip_dir<'a>(rel: &'a str, dir: &str) -> &'a str {
    if dir.is_empty() {
        return rel;
    }
    match rel.strip_prefix(dir) {
        Some(rest) => rest.trim_start_matches('/'),
        None => rel,
    }
}

fn join_rel(a: &str, b: &str) -> String {
    match (a.is_empty(), b.is_empty()) {
        (true, _) => b.to_string(),
        (_, true) => a.to_string(),
        _ => format!("{a}/{b}"),
    }
}

fn show_rel(rel: &str) -> &str {
    if rel.is_empty() {
        "."
    } else {
        rel
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// A map over an in-memory tree: `files` are (absolute path, text).
    fn map_of(root: &str, files: &[(&str, &str)]) -> ModuleMap {
        let fs: HashMap<PathBuf, String> = files
            .iter()
            .map(|(p, t)| (Path::new(root).join(p), t.to_string()))
            .collect();
        let gomods: Vec<PathBuf> = files
            .iter()
            .filter(|(p, _)| !p.starts_with('/'))
            .map(|(p, _)| PathBuf::from(p))
            .collect();
        ModuleMap::build(Path::new(root), &gomods, |p| {
            fs.get(p)
                .cloned()
                .ok_or_else(|| io::Error::from(io::ErrorKind::NotFound))
        })
    }

    fn ip(m: &ModuleMap, dir: &str) -> (String, Origin) {
        let p = m.import_path(dir);
        (p.path, p.origin)
    }

    fn check(m: &ModuleMap, cases: &[(&str, &str, Origin)]) {
        for (dir, want, origin) in cases {
            assert_eq!(ip(m, dir), (want.to_string(), *origin), "dir {dir:?}");
        }
    }

    #[test]
    fn parses_modfile_forms() {
        let text = "// leading comment\nmodule \"example.com/m\" // trailing\n\ngo 1.21\n\
            require (\n\texample.com/a v1.0.0 // indirect\n)\n\
            replace example.com/a => ./a\nreplace (\n\texample.com/b v1.2.0 => ../b\n\
            \texample.com/c=>example.com/c2 v1.0.0\n\t`example.com/d` => `/abs/d`\n)\n\
            use ./x\nuse (\n\t./y // why\n)\n";
        let m = parse_modfile(text).unwrap();
        assert_eq!(m.module.as_deref(), Some("example.com/m"));
        assert_eq!(
            m.replaces,
            [
                ("example.com/a".into(), "./a".into()),
                ("example.com/b".into(), "../b".into()),
                ("example.com/c".into(), "example.com/c2".into()),
                ("example.com/d".into(), "/abs/d".into()),
            ]
        );
        assert_eq!(m.uses, ["./x", "./y"]);
        let block = parse_modfile("module (\n\texample.com/blk\n)\n").unwrap();
        assert_eq!(block.module.as_deref(), Some("example.com/blk"));
        assert_eq!(
            parse_modfile("module x\r\n").unwrap().module.as_deref(),
            Some("x")
        );
    }

    #[test]
    fn broken_modfiles_are_errors_not_panics() {
        for bad in [
            "module \"unterminated\n",
            "replace (\n a => ./b\n",
            "replace a ./b\n",
            "module\n",
            "module \"bad\\q\"\n",
            "replace => ./x\n",
        ] {
            assert!(parse_modfile(bad).is_err(), "{bad:?}");
        }
        // Arbitrary bytes never panic.
        let mut seed = 7u32;
        for _ in 0..2000 {
            let s: String = (0..40)
                .map(|_| {
                    seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                    b"module replace use()=>\"`/ .\n\tx"[(seed >> 16) as usize % 29] as char
                })
                .collect();
            let _ = parse_modfile(&s);
        }
        let m = map_of(
            "/r",
            &[
                ("go.mod", "module \"oops\n"),
                ("a/go.mod", "go 1.21\n"),
                ("b/go.mod", "module example.com/b\n"),
            ],
        );
        assert_eq!(m.warnings().len(), 2, "{:?}", m.warnings());
        assert!(m.warnings()[0].starts_with("a/go.mod: no module directive"));
        assert!(m.warnings()[1].starts_with("go.mod: line 1: unterminated quoted string"));
        check(
            &m,
            &[
                ("b/c", "example.com/b/c", Origin::Module),
                ("a/x", "a/x", Origin::Fallback),
                ("", "r", Origin::Fallback),
            ],
        );
    }

    #[test]
    fn nested_modules_deepest_wins() {
        let m = map_of(
            "/w/repo",
            &[
                ("go.mod", "module example.com/outer\n"),
                ("inner/go.mod", "module example.com/inner/v2\n"),
                ("inner/deeper/go.mod", "module example.com/deeper\n"),
            ],
        );
        check(
            &m,
            &[
                ("", "example.com/outer", Origin::Module),
                (".", "example.com/outer", Origin::Module),
                ("a/b", "example.com/outer/a/b", Origin::Module),
                ("inner", "example.com/inner/v2", Origin::Module),
                ("inner/x/", "example.com/inner/v2/x", Origin::Module),
                ("inner/deeper/y", "example.com/deeper/y", Origin::Module),
                ("innerx", "example.com/outer/innerx", Origin::Module),
            ],
        );
        assert_eq!(m.modules().len(), 3);
    }

    #[test]
    fn go_work_and_local_replace_targets() {
        let m = map_of(
            "/w/repo",
            &[
                ("go.work", "use (\n\t./tools\n\t../outside\n)\n"),
                ("go.mod", "module example.com/app\nreplace example.com/lib => ./third_party/lib\nreplace example.com/nomod v1.0.0 => ./nomod\n"),
                // Read through `read` only: not in the walk's list.
                ("/w/repo/tools/go.mod", "module example.com/tools\n"),
                ("/w/repo/third_party/lib/go.mod", "module example.com/lib\n"),
            ],
        );
        check(
            &m,
            &[
                ("tools/gen", "example.com/tools/gen", Origin::Module),
                ("third_party/lib/x", "example.com/lib/x", Origin::Module),
                ("nomod/y", "example.com/nomod/y", Origin::Module),
                ("cmd", "example.com/app/cmd", Origin::Module),
            ],
        );
        assert_eq!(m.replaces().len(), 2);
        assert_eq!(m.replaces()[0].dir.as_deref(), Some("third_party/lib"));
        assert_eq!(m.warnings().len(), 1, "{:?}", m.warnings());
        assert!(m.warnings()[0].contains("outside the root"));
    }

    #[test]
    fn vendor_dirs_strip_to_the_path_below_vendor() {
        let m = map_of("/w/app", &[("go.mod", "module example.com/app\n")]);
        check(
            &m,
            &[
                (
                    "vendor/github.com/pkg/errors",
                    "github.com/pkg/errors",
                    Origin::Vendor,
                ),
                ("x/vendor/a/vendor/b/c", "b/c", Origin::Vendor),
                ("vendorx/a", "example.com/app/vendorx/a", Origin::Module),
            ],
        );
        assert_eq!(below_vendor("vendor"), None);
        assert_eq!(below_vendor("a/vendor/b"), Some("b"));
    }

    #[test]
    fn std_tree_keeps_vendor_prefix_and_cmd_module() {
        let m = map_of(
            "/usr/lib/go/src",
            &[
                ("go.mod", "module std\n\ngo 1.19\n"),
                ("cmd/go.mod", "module cmd\n\ngo 1.19\n"),
                ("vendor/modules.txt", "# golang.org/x/net v0\n"),
                ("cmd/go/testdata/mod/go.mod", "module example.com/testmod\n"),
            ],
        );
        check(
            &m,
            &[
                ("net/http", "net/http", Origin::Std),
                ("runtime", "runtime", Origin::Std),
                (
                    "vendor/golang.org/x/net/http/httpproxy",
                    "vendor/golang.org/x/net/http/httpproxy",
                    Origin::Std,
                ),
                ("cmd/go/internal/load", "cmd/go/internal/load", Origin::Std),
                (
                    "cmd/vendor/golang.org/x/arch/x86/x86asm",
                    "cmd/vendor/golang.org/x/arch/x86/x86asm",
                    Origin::Std,
                ),
                (
                    "cmd/go/testdata/mod/p",
                    "example.com/testmod/p",
                    Origin::Module,
                ),
            ],
        );
        // A root inside GOROOT/src finds `module std` above it.
        let sub = map_of(
            "/usr/lib/go/src/net",
            &[("/usr/lib/go/src/go.mod", "module std\n")],
        );
        check(
            &sub,
            &[("http", "net/http", Origin::Std), ("", "net", Origin::Std)],
        );
        let cmd = map_of(
            "/usr/lib/go/src/cmd/vendor",
            &[("/usr/lib/go/src/cmd/go.mod", "module cmd\n")],
        );
        check(
            &cmd,
            &[(
                "golang.org/x/mod",
                "cmd/vendor/golang.org/x/mod",
                Origin::Std,
            )],
        );
    }

    #[test]
    fn gopath_src_path_wins() {
        let m = map_of(
            "/home/u/go/src",
            &[
                (
                    "github.com/acme/tool/go.mod",
                    "module github.com/acme/tool/v3\n",
                ),
                ("golang.org/x/net/go.mod", "module golang.org/x/net\n"),
            ],
        );
        assert_eq!(m.gopath_prefix(), Some(""));
        check(
            &m,
            &[
                (
                    "github.com/docker/docker/client",
                    "github.com/docker/docker/client",
                    Origin::Gopath,
                ),
                (
                    "github.com/acme/tool/client",
                    "github.com/acme/tool/client",
                    Origin::Gopath,
                ),
                (
                    "golang.org/x/net/http2",
                    "golang.org/x/net/http2",
                    Origin::Gopath,
                ),
                (
                    "github.com/acme/tool/vendor/github.com/pkg/errors",
                    "github.com/acme/tool/vendor/github.com/pkg/errors",
                    Origin::Vendor,
                ),
            ],
        );
        // Root inside GOPATH: computed from the enclosing src/.
        let inside = map_of(
            "/home/u/go/src/github.com/docker/docker",
            &[("go.mod", "module github.com/moby/moby/v2\n")],
        );
        assert_eq!(inside.gopath_prefix(), Some("github.com/docker/docker"));
        check(
            &inside,
            &[
                ("client", "github.com/docker/docker/client", Origin::Gopath),
                ("", "github.com/docker/docker", Origin::Gopath),
            ],
        );
        // A `src` dir that is not a GOPATH: a module named by its go.mod.
        let proj = map_of(
            "/home/u/src/myapp",
            &[("go.mod", "module example.com/myapp\n")],
        );
        assert_eq!(proj.gopath_prefix(), None);
        check(&proj, &[("pkg", "example.com/myapp/pkg", Origin::Module)]);
        let srcmod = map_of("/home/u/proj/src", &[("go.mod", "module example.com/p\n")]);
        check(&srcmod, &[("pkg", "example.com/p/pkg", Origin::Module)]);
    }

    #[test]
    fn fallback_is_the_relative_dir() {
        let m = map_of("/tmp/some-tree", &[]);
        check(
            &m,
            &[
                ("", "some-tree", Origin::Fallback),
                ("a/b", "a/b", Origin::Fallback),
                ("vendor/x/y", "x/y", Origin::Vendor),
            ],
        );
    }

    #[test]
    fn module_above_root_is_found() {
        let m = map_of(
            "/w/repo/pkg",
            &[("/w/repo/go.mod", "module example.com/repo\n")],
        );
        check(&m, &[("util", "example.com/repo/pkg/util", Origin::Module)]);
    }

    #[test]
    fn std_goroot_does_not_panic() {
        if let Some(g) = std_goroot() {
            assert!(g.is_absolute());
            assert!(g.join("src").is_dir(), "{}", g.display());
        }
    }

    fn fixture_map(name: &str) -> (crate::walk::Discovery, ModuleMap) {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/layouts")
            .join(name);
        let d = crate::walk::discover(&root, &crate::walk::WalkOptions::default()).unwrap();
        let m = ModuleMap::from_disk(&d.root, &d.gomods);
        assert!(m.warnings().is_empty(), "{:?}", m.warnings());
        (d, m)
    }

    /// Every package dir of a fixture, with its import path.
    fn fixture_paths(name: &str) -> Vec<(String, String, Origin)> {
        let (d, m) = fixture_map(name);
        let dirs: BTreeSet<&str> = d
            .files
            .iter()
            .map(|f| f.rel.rsplit_once('/').map_or("", |(dir, _)| dir))
            .collect();
        dirs.into_iter()
            .map(|dir| {
                let p = m.import_path(dir);
                (dir.to_string(), p.path, p.origin)
            })
            .collect()
    }

    fn want(rows: &[(&str, &str, Origin)]) -> Vec<(String, String, Origin)> {
        rows.iter()
            .map(|(a, b, o)| (a.to_string(), b.to_string(), *o))
            .collect()
    }

    #[test]
    fn fixtures_match_readme() {
        use Origin::*;
        assert_eq!(
            fixture_paths("gomod-nested"),
            want(&[
                ("", "example.com/outer", Module),
                ("a", "example.com/outer/a", Module),
                ("inner", "example.com/inner/v2", Module),
                ("inner/b", "example.com/inner/v2/b", Module),
                ("lib", "example.com/lib", Module),
                ("tools/gen", "example.com/tools/gen", Module),
            ])
        );
        assert_eq!(
            fixture_paths("gopath/src"),
            want(&[
                ("github.com/acme/tool", "github.com/acme/tool", Gopath),
                (
                    "github.com/acme/tool/client",
                    "github.com/acme/tool/client",
                    Gopath
                ),
                (
                    "github.com/acme/tool/vendor/github.com/pkg/errors",
                    "github.com/acme/tool/vendor/github.com/pkg/errors",
                    Vendor
                ),
                (
                    "golang.org/x/text/unicode/norm",
                    "golang.org/x/text/unicode/norm",
                    Gopath
                ),
            ])
        );
        assert_eq!(
            fixture_paths("gopath/src/github.com/acme/tool"),
            want(&[
                ("", "github.com/acme/tool", Gopath),
                ("client", "github.com/acme/tool/client", Gopath),
                (
                    "vendor/github.com/pkg/errors",
                    "github.com/acme/tool/vendor/github.com/pkg/errors",
                    Vendor
                ),
            ])
        );
        assert_eq!(
            fixture_paths("std-like"),
            want(&[
                ("cmd/go/internal/load", "cmd/go/internal/load", Std),
                (
                    "cmd/vendor/golang.org/x/arch/x86/x86asm",
                    "cmd/vendor/golang.org/x/arch/x86/x86asm",
                    Std
                ),
                ("net/http", "net/http", Std),
                ("runtime", "runtime", Std),
                (
                    "vendor/golang.org/x/net/http/httpproxy",
                    "vendor/golang.org/x/net/http/httpproxy",
                    Std
                ),
            ])
        );
        assert_eq!(
            fixture_paths("vendor"),
            want(&[
                ("cmd/app", "example.com/app/cmd/app", Module),
                ("internal/store", "example.com/app/internal/store", Module),
                (
                    "vendor/github.com/pkg/errors",
                    "github.com/pkg/errors",
                    Vendor
                ),
                (
                    "vendor/golang.org/x/sync/errgroup",
                    "golang.org/x/sync/errgroup",
                    Vendor
                ),
            ])
        );
        assert_eq!(
            fixture_paths("kube-staging-symlink"),
            want(&[
                ("pkg/controller", "k8s.io/kubernetes/pkg/controller", Module),
                (
                    "staging/src/k8s.io/api/core/v1",
                    "k8s.io/api/core/v1",
                    Module
                ),
                (
                    "staging/src/k8s.io/client-go/kubernetes",
                    "k8s.io/client-go/kubernetes",
                    Module
                ),
                (
                    "staging/src/k8s.io/client-go/tools/cache",
                    "k8s.io/client-go/tools/cache",
                    Module
                ),
                (
                    "vendor/github.com/google/uuid",
                    "github.com/google/uuid",
                    Vendor
                ),
            ])
        );
        let (d, m) = fixture_map("kube-staging-symlink");
        // The alias resolves to the same import path as its target.
        for (alias, target) in &d.symlink_aliases {
            assert_eq!(m.import_path(alias).path, m.import_path(target).path);
        }
        assert_eq!(
            fixture_paths("gitignore"),
            want(&[
                ("", "gitignore", Fallback),
                ("_examples", "_examples", Fallback),
                ("api", "api", Fallback),
                ("testdata", "testdata", Fallback),
            ])
        );
    }
}
