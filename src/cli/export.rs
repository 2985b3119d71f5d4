//! `export implementations|calls`: whole relations as one JSON document, for evaluation.

use super::{exit, qerr, Ctx};
use crate::render;
use crate::store;
use anyhow::Result;
use serde::Serialize;

#[derive(clap::Args, Debug)]
pub struct ExportArgs {
    /// `implementations` or `calls`.
    pub what: String,
    /// Include declarations from files no common build (linux/darwin/windows, amd64)
    /// compiles, such as `boringcrypto` or `!go1.18` variants.
    #[arg(long)]
    pub all_builds: bool,
}

pub fn run(ctx: &Ctx, a: ExportArgs) -> Result<()> {
    let ix = ctx.open().map_err(qerr)?;
    let loc = |id: u32| match ix.file_of(id) {
        Some(f) => (f.rel().to_string(), ix.sym(id).line),
        None => (String::new(), 0),
    };
    match a.what.as_str() {
        "implementations" => {
            #[derive(Serialize)]
            struct I {
                interface: String,
                #[serde(rename = "type")]
                ty: String,
                pointer: bool,
                file: String,
                line: u32,
                /// The interface or the type has type parameters (the pair holds for every
                /// instantiation, type parameters matched by position).
                #[serde(skip_serializing_if = "std::ops::Not::not")]
                generic: bool,
            }
            let out: Vec<I> = ix
                .t()
                .all_impls()
                .filter(|&(iface, ty, _)| {
                    ix.allowed(ty, &ctx.filter) && ix.allowed(iface, &ctx.filter)
                })
                .filter(|&(iface, ty, _)| {
                    a.all_builds || (ix.pkg_flags(ty) | ix.pkg_flags(iface)) & store::F_NOBUILD == 0
                })
                .map(|(iface, ty, pointer)| {
                    let (file, line) = loc(ty);
                    I {
                        interface: ix.sym(iface).qname().to_string(),
                        ty: ix.sym(ty).qname().to_string(),
                        pointer,
                        file,
                        line,
                        generic: ix.sym(iface).generic || ix.sym(ty).generic,
                    }
                })
                .collect();
            render::json(&serde_json::json!({ "implementations": out }))
        }
        "calls" => {
            #[derive(Serialize)]
            struct C<'a> {
                caller: &'a str,
                callee: &'a str,
                file: &'a str,
                line: u32,
                via: &'static str,
                #[serde(skip_serializing_if = "std::ops::Not::not")]
                go: bool,
                #[serde(skip_serializing_if = "std::ops::Not::not")]
                defer: bool,
            }
            let out: Vec<C> = ix
                .t()
                .edges()
                .filter_map(|e| Some((ix.file(e.file)?, e)))
                .filter(|(f, _)| {
                    !(ctx.filter.no_tests && f.flags & store::F_TEST != 0
                        || ctx.filter.no_vendor && f.flags & store::F_VENDOR != 0)
                })
                .map(|(f, e)| C {
                    caller: ix.sym(e.caller).qname(),
                    callee: ix.sym(e.callee).qname(),
                    file: f.rel(),
                    line: e.line,
                    via: e.via.as_str(),
                    go: e.flags & store::E_GO != 0,
                    defer: e.flags & store::E_DEFER != 0,
                })
                .collect();
            render::json(&serde_json::json!({ "calls": out }))
        }
        other => Err(exit(
            2,
            format!("export: unknown relation '{other}' (implementations, calls)"),
        )),
    }
}
