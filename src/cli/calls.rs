//! `callers`, `callees`, `trace`.

use super::Ctx;
use anyhow::Result;

#[derive(clap::Args, Debug)]
pub struct CallersArgs {
    /// Function or method name.
    pub name: String,
}

#[derive(clap::Args, Debug)]
pub struct CalleesArgs {
    /// Function or method name.
    pub name: String,
}

#[derive(clap::Args, Debug)]
pub struct TraceArgs {
    /// Start function.
    pub from: String,
    /// Target function (omit for the call tree under FROM).
    pub to: Option<String>,
}

pub fn callers(_ctx: &Ctx, _a: CallersArgs) -> Result<()> {
    Err(super::exit(1, "callers: not implemented yet"))
}
pub fn callees(_ctx: &Ctx, _a: CalleesArgs) -> Result<()> {
    Err(super::exit(1, "callees: not implemented yet"))
}
pub fn trace(_ctx: &Ctx, _a: TraceArgs) -> Result<()> {
    Err(super::exit(1, "trace: not implemented yet"))
}
