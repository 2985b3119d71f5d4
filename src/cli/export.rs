//! `export implementations|calls`: whole relations as one JSON document, for evaluation.

use super::{exit, qerr, Ctx};
use crate::render;
use crate::store::{self, NONE};
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
    let g = ix.graph().map_err(qerr)?;
    let loc = |id: u32| match ix.file_of(id) {
        Some(f) => (f.rel.clone(), ix.sym(id).line),
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
            }
            let out: Vec<I> = g
                .impls
                .iter()
                .filter(|i| ix.allowed(i.ty, &ctx.filter) && ix.allowed(i.iface, &ctx.filter))
                .filter(|i| {
                    a.all_builds
                        || (ix.pkg_flags(i.ty) | ix.pkg_flags(i.iface)) & store::F_NOBUILD == 0
                })
                .map(|i| {
                    let (file, line) = loc(i.ty);
                    I {
                        interface: ix.sym(i.iface).qname.clone(),
                        ty: ix.sym(i.ty).qname.clone(),
                        pointer: i.pointer,
                        file,
                        line,
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
            let out: Vec<C> = g
                .edges
                .iter()
                .filter(|e| e.file != NONE)
                .filter(|e| {
                    let f = &ix.symbols.files[e.file as usize];
                    !(ctx.filter.no_tests && f.flags & store::F_TEST != 0
                        || ctx.filter.no_vendor && f.flags & store::F_VENDOR != 0)
                })
                .map(|e| C {
                    caller: &ix.sym(e.caller).qname,
                    callee: &ix.sym(e.callee).qname,
                    file: &ix.symbols.files[e.file as usize].rel,
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
