//! `search` and `grep`.

use super::Ctx;
use anyhow::Result;

#[derive(clap::Args, Debug)]
pub struct SearchArgs {
    pub query: Vec<String>,
}

#[derive(clap::Args, Debug)]
pub struct GrepArgs {
    pub pattern: String,
}

pub fn search(_ctx: &Ctx, _a: SearchArgs) -> Result<()> {
    Err(super::exit(1, "search: not implemented yet"))
}
pub fn grep(_ctx: &Ctx, _a: GrepArgs) -> Result<()> {
    Err(super::exit(1, "grep: not implemented yet"))
}
