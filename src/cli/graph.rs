//! `graph calls|implements|packages`.

use super::Ctx;
use anyhow::Result;

#[derive(clap::Args, Debug)]
pub struct GraphArgs {
    /// What to draw: calls, implements, packages.
    pub what: String,
    pub name: String,
}

pub fn run(_ctx: &Ctx, _a: GraphArgs) -> Result<()> {
    Err(super::exit(1, "graph: not implemented yet"))
}
