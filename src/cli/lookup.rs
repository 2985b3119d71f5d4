//! `def`, `show`, `packages`, `stats`.

use super::{qerr, Ctx};
use crate::render::{self, SymbolOut};
use crate::store;
use anyhow::Result;
use serde::Serialize;
use std::io::Write;

#[derive(clap::Args, Debug)]
pub struct DefArgs {
    /// A symbol: qualified (`net/http.Handler`, `(*net/http.Server).Serve`) or short (`http.Handler`, `Serve`).
    pub name: String,
}

#[derive(clap::Args, Debug)]
pub struct ShowArgs {
    pub name: String,
}

#[derive(clap::Args, Debug)]
pub struct PackagesArgs {
    /// Import path prefix; a trailing `/...` (or `...`) matches sub-packages.
    pub prefix: Option<String>,
    /// Include external packages (standard library outside the checkout).
    #[arg(long)]
    pub external: bool,
}

#[derive(clap::Args, Debug)]
pub struct StatsArgs {}

/// `--no-tests` / `--no-vendor` apply to the symbol a name resolves to.
fn check_filter(ctx: &Ctx, ix: &crate::analysis::Index, id: u32, name: &str) -> Result<()> {
    if ix.allowed(id, &ctx.filter) {
        return Ok(());
    }
    let why = if ctx.filter.no_tests && ix.is_test(id) {
        "--no-tests"
    } else {
        "--no-vendor"
    };
    Err(super::exit(
        1,
        format!(
            "'{name}' is {} ({}), excluded by {why}",
            ix.sym(id).qname(),
            ix.location(id)
        ),
    ))
}

pub fn def(ctx: &Ctx, a: DefArgs) -> Result<()> {
    let ix = ctx.open().map_err(qerr)?;
    let id = ix.resolve(&a.name, ctx.first).map_err(qerr)?;
    check_filter(ctx, &ix, id, &a.name)?;
    let out = render::symbol(&ix, id);
    let notes = ctx.notes(&ix);
    if ctx.json {
        let mut v = serde_json::to_value(&out)?;
        if let Some(n) = &notes {
            let attached = n.json(&ix, id);
            if !attached.is_empty() {
                v["notes"] = serde_json::Value::Array(attached);
            }
        }
        return render::json(&v);
    }
    let mut w = std::io::stdout().lock();
    print_def(&mut w, &out)?;
    if let Some(n) = &notes {
        n.write_lines(&mut w, &ix, id, "  ")?;
    }
    Ok(())
}

fn print_def(w: &mut impl Write, s: &SymbolOut) -> std::io::Result<()> {
    if s.file.is_empty() {
        writeln!(w, "{}  <builtin>  {}", s.name, s.kind)?;
    } else {
        writeln!(w, "{}:{}  {}  {}", s.file, s.line, s.kind, s.name)?;
    }
    if !s.signature.is_empty() {
        writeln!(w, "  {}", s.signature)?;
    }
    for l in s.doc.lines() {
        writeln!(w, "  // {l}")?;
    }
    Ok(())
}

pub fn show(ctx: &Ctx, a: ShowArgs) -> Result<()> {
    let ix = ctx.open().map_err(qerr)?;
    let id = ix.resolve(&a.name, ctx.first).map_err(qerr)?;
    check_filter(ctx, &ix, id, &a.name)?;
    let src = ix.source(id).map_err(qerr)?;
    let s = render::symbol(&ix, id);
    if ctx.json {
        #[derive(Serialize)]
        struct Out<'a> {
            #[serde(flatten)]
            symbol: &'a SymbolOut,
            source: String,
        }
        return render::json(&Out {
            symbol: &s,
            source: src,
        });
    }
    let mut w = std::io::stdout().lock();
    if let Some(n) = ctx.notes(&ix) {
        n.write_lines(&mut w, &ix, id, "// note: ")?;
    }
    writeln!(w, "// {}:{}", s.file, s.line)?;
    if !s.doc.is_empty() {
        for l in s.doc.lines() {
            writeln!(w, "// {l}")?;
        }
    }
    writeln!(w, "{src}")?;
    Ok(())
}

fn prefix_match(path: &str, prefix: &str) -> bool {
    if let Some(p) = prefix.strip_suffix("...") {
        let p = p.trim_end_matches('/');
        path == p || path.starts_with(&format!("{p}/")) || p.is_empty()
    } else {
        path == prefix
    }
}

pub fn packages(ctx: &Ctx, a: PackagesArgs) -> Result<()> {
    let ix = ctx.open().map_err(qerr)?;
    #[derive(Serialize)]
    struct Pkg<'a> {
        path: &'a str,
        name: &'a str,
        dir: &'a str,
        files: usize,
        test_files: usize,
        external: bool,
        vendor: bool,
    }
    let mut out = Vec::new();
    for (_, p) in ix.pkgs() {
        if p.files().is_empty() || (p.flags & store::F_EXTERNAL != 0 && !a.external) {
            continue;
        }
        if ctx.filter.no_vendor && p.flags & store::F_VENDOR != 0 {
            continue;
        }
        if ctx.filter.no_tests && p.flags & store::F_TEST != 0 {
            continue;
        }
        if let Some(pre) = &a.prefix {
            if !prefix_match(p.path(), pre) {
                continue;
            }
        }
        let test_files = p
            .files()
            .iter()
            .filter(|&&f| ix.file(f).is_some_and(|f| f.flags & store::F_TEST != 0))
            .count();
        out.push(Pkg {
            path: p.path(),
            name: p.name(),
            dir: p.dir(),
            files: p.files().len(),
            test_files,
            external: p.flags & store::F_EXTERNAL != 0,
            vendor: p.flags & store::F_VENDOR != 0,
        });
    }
    out.sort_by(|a, b| a.path.cmp(b.path));
    if out.is_empty() {
        if let Some(pre) = &a.prefix {
            return Err(super::exit(1, format!("no package matches '{pre}'")));
        }
    }
    if ctx.json {
        return render::json(&serde_json::json!({ "packages": out }));
    }
    let mut w = std::io::stdout().lock();
    for p in &out {
        writeln!(
            w,
            "{}  {} files ({} test){}",
            p.path,
            p.files,
            p.test_files,
            if p.vendor { "  vendor" } else { "" }
        )?;
    }
    Ok(())
}

pub fn stats(ctx: &Ctx, _a: StatsArgs) -> Result<()> {
    let ix = ctx.open().map_err(qerr)?;
    let m = &ix.opened.manifest;
    let size: u64 = std::fs::read_dir(&ix.opened.gen)
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0);
    let age = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs().saturating_sub(m.created_unix))
        .unwrap_or(0);
    let decls = (0..ix.nsyms() as u32)
        .filter(|&id| {
            ix.file_of(id)
                .is_some_and(|f| f.flags & store::F_EXTERNAL == 0)
        })
        .count();
    let packages = ix
        .pkgs()
        .filter(|(_, p)| !p.files().is_empty() && p.flags & store::F_EXTERNAL == 0)
        .count();
    #[derive(Serialize)]
    struct Out<'a> {
        root: &'a str,
        index_dir: String,
        files: u64,
        external_files: u64,
        packages: usize,
        declarations: usize,
        symbols_total: u64,
        call_edges: u64,
        implementations: u64,
        syntax_error_files: u64,
        unreadable_files: u64,
        too_large_files: u64,
        unresolved_calls: u64,
        /// Why calls stayed unresolved (`dynamic`: through a func value with no known target).
        unresolved_by_reason: std::collections::BTreeMap<&'a str, u64>,
        unresolved_imports: u64,
        source_bytes: u64,
        index_bytes: u64,
        index_seconds: f64,
        age_seconds: u64,
        format_version: u32,
    }
    let mut unresolved_by_reason = std::collections::BTreeMap::new();
    for u in ix.t().unresolved() {
        *unresolved_by_reason.entry(u.reason).or_insert(0) += 1;
    }
    let out = Out {
        root: &m.root,
        index_dir: ix.dir.display().to_string(),
        files: m.files,
        external_files: m.external_files,
        packages,
        declarations: decls,
        symbols_total: m.symbols,
        call_edges: m.edges,
        implementations: m.implementations,
        syntax_error_files: m.syntax_error_files,
        unreadable_files: m.unreadable_files,
        too_large_files: m.too_large_files,
        unresolved_calls: m.unresolved_calls,
        unresolved_by_reason,
        unresolved_imports: m.unresolved_imports,
        source_bytes: m.source_bytes,
        index_bytes: size,
        index_seconds: m.index_seconds,
        age_seconds: age,
        format_version: m.format_version,
    };
    if ctx.json {
        return render::json(&out);
    }
    let mut w = std::io::stdout().lock();
    let v = serde_json::to_value(&out)?;
    if let serde_json::Value::Object(map) = v {
        for (k, v) in map {
            writeln!(w, "{k:20} {v}")?;
        }
    }
    Ok(())
}
