//! `implementations`, `interfaces`, `methods`.

use super::{exit, qerr, Ctx};
use crate::analysis::Index;
use crate::render;
use crate::store::Kind;
use anyhow::Result;
use serde::Serialize;
use std::io::Write;

#[derive(clap::Args, Debug)]
pub struct ImplArgs {
    /// An interface (`io.Reader`, `cache.SharedInformer`).
    pub name: String,
    /// Also list interfaces that embed or extend it.
    #[arg(long)]
    pub interfaces: bool,
    /// Include types outside the checkout (standard library).
    #[arg(long)]
    pub external: bool,
}

#[derive(clap::Args, Debug)]
pub struct IfaceArgs {
    /// A type (`'*github.com/docker/docker/daemon.Daemon'`, `bytes.Buffer`).
    pub name: String,
    #[arg(long)]
    pub external: bool,
}

#[derive(clap::Args, Debug)]
pub struct MethodsArgs {
    pub name: String,
}

#[derive(Serialize)]
struct ImplOut {
    #[serde(flatten)]
    symbol: render::SymbolOut,
    pointer: bool,
}

fn require_kind(ix: &Index, id: u32, want_iface: bool) -> Result<()> {
    let s = ix.sym(id);
    let ok = if want_iface {
        s.kind == Kind::Interface
    } else {
        s.kind.is_type() && s.kind != Kind::Interface
    };
    if ok {
        return Ok(());
    }
    let what = if want_iface {
        "an interface"
    } else {
        "a concrete type"
    };
    Err(exit(
        1,
        format!(
            "{} is a {}, not {what} ({})",
            s.qname(),
            s.kind.as_str(),
            ix.location(id)
        ),
    ))
}

fn print_grouped(
    ix: &Index,
    rows: &[(u32, bool)],
    notes: Option<&crate::notes::Attached>,
) -> Result<()> {
    let mut w = std::io::stdout().lock();
    let mut last_pkg = u32::MAX;
    for &(id, pointer) in rows {
        let s = ix.sym(id);
        if s.pkg != last_pkg {
            writeln!(w, "{}", ix.pkg(s.pkg).map(|p| p.path()).unwrap_or(""))?;
            last_pkg = s.pkg;
        }
        let star = if pointer { "*" } else { "" };
        writeln!(
            w,
            "  {star}{}  {}",
            render::short_name(ix, id),
            ix.location(id)
        )?;
        if let Some(n) = notes {
            n.write_lines(&mut w, ix, id, "    ")?;
        }
    }
    Ok(())
}

fn sort_rows(ix: &Index, rows: &mut [(u32, bool)]) {
    rows.sort_by(|a, b| {
        let (sa, sb) = (ix.sym(a.0), ix.sym(b.0));
        (ix.pkg_path(a.0), sa.name()).cmp(&(ix.pkg_path(b.0), sb.name()))
    });
}

pub fn implementations(ctx: &Ctx, a: ImplArgs) -> Result<()> {
    let ix = ctx.open().map_err(qerr)?;
    let id = ix.resolve(&a.name, ctx.first).map_err(qerr)?;
    require_kind(&ix, id, true)?;
    let mut rows: Vec<(u32, bool)> = ix
        .implementations(id)
        .into_iter()
        .filter(|&(t, _)| ix.allowed(t, &ctx.filter) && (a.external || !ix.is_external(t)))
        .collect();
    sort_rows(&ix, &mut rows);
    let mut ifaces: Vec<(u32, bool)> = if a.interfaces {
        ix.extending_interfaces(id)
            .into_iter()
            .filter(|&t| ix.allowed(t, &ctx.filter) && (a.external || !ix.is_external(t)))
            .map(|t| (t, false))
            .collect()
    } else {
        Vec::new()
    };
    sort_rows(&ix, &mut ifaces);
    if ctx.json {
        let out: Vec<ImplOut> = rows
            .iter()
            .chain(ifaces.iter())
            .map(|&(t, pointer)| ImplOut {
                symbol: render::symbol(&ix, t),
                pointer,
            })
            .collect();
        return render::json(&serde_json::json!({
            "interface": render::symbol(&ix, id),
            "implementations": out,
        }));
    }
    if rows.is_empty() && ifaces.is_empty() {
        eprintln!(
            "no implementations of {} in the checkout{}",
            ix.sym(id).qname(),
            if a.external { "" } else { " (try --external)" }
        );
        return Ok(());
    }
    let notes = ctx.notes(&ix);
    print_grouped(&ix, &rows, notes.as_ref())?;
    if !ifaces.is_empty() {
        println!("-- interfaces extending {}:", ix.sym(id).qname());
        print_grouped(&ix, &ifaces, notes.as_ref())?;
    }
    Ok(())
}

pub fn interfaces(ctx: &Ctx, a: IfaceArgs) -> Result<()> {
    let ix = ctx.open().map_err(qerr)?;
    let id = ix.resolve(&a.name, ctx.first).map_err(qerr)?;
    require_kind(&ix, id, false)?;
    let asked_pointer = a.name.trim().starts_with('*');
    let mut rows: Vec<(u32, bool)> = ix
        .interfaces_of(id)
        .into_iter()
        .filter(|&(i, _)| ix.allowed(i, &ctx.filter) && (a.external || !ix.is_external(i)))
        .collect();
    sort_rows(&ix, &mut rows);
    if ctx.json {
        let out: Vec<ImplOut> = rows
            .iter()
            .map(|&(t, pointer)| ImplOut {
                symbol: render::symbol(&ix, t),
                pointer,
            })
            .collect();
        return render::json(&serde_json::json!({
            "type": render::symbol(&ix, id),
            "interfaces": out,
        }));
    }
    let mut w = std::io::stdout().lock();
    let mut last_pkg = u32::MAX;
    for &(i, pointer) in &rows {
        let s = ix.sym(i);
        if s.pkg != last_pkg {
            writeln!(w, "{}", ix.pkg(s.pkg).map(|p| p.path()).unwrap_or(""))?;
            last_pkg = s.pkg;
        }
        let note = if pointer && !asked_pointer {
            "  (only *T)"
        } else {
            ""
        };
        writeln!(
            w,
            "  {}  {}{note}",
            render::short_name(&ix, i),
            ix.location(i)
        )?;
    }
    if rows.is_empty() {
        eprintln!(
            "{} satisfies no interface of the checkout{}",
            ix.sym(id).qname(),
            if a.external { "" } else { " (try --external)" }
        );
    }
    Ok(())
}

pub fn methods(ctx: &Ctx, a: MethodsArgs) -> Result<()> {
    let ix = ctx.open().map_err(qerr)?;
    let id = ix.resolve(&a.name, ctx.first).map_err(qerr)?;
    if !ix.sym(id).kind.is_type() {
        return Err(exit(
            1,
            format!(
                "{} is a {}, not a type",
                ix.sym(id).qname(),
                ix.sym(id).kind.as_str()
            ),
        ));
    }
    let set = ix.method_set(id);
    #[derive(Serialize)]
    struct M {
        #[serde(flatten)]
        symbol: render::SymbolOut,
        method: String,
        pointer: bool,
        promoted: bool,
        via: Option<String>,
        depth: u16,
    }
    let out: Vec<M> = set
        .iter()
        .map(|m| M {
            symbol: render::symbol(&ix, m.sym),
            method: m.name.to_string(),
            pointer: m.ptr_only,
            promoted: m.depth > 0,
            via: m.via.map(str::to_string),
            depth: m.depth,
        })
        .collect();
    if ctx.json {
        return render::json(&serde_json::json!({
            "type": render::symbol(&ix, id),
            "methods": out,
        }));
    }
    let mut w = std::io::stdout().lock();
    for m in &out {
        let recv = if m.pointer { "*T " } else { "T  " };
        let origin = match &m.via {
            Some(v) => format!("  promoted via {v} from {}", m.symbol.name),
            None => String::new(),
        };
        writeln!(
            w,
            "{recv}{}  {}:{}{origin}",
            m.method, m.symbol.file, m.symbol.line
        )?;
    }
    Ok(())
}
