//! `note` and `trail`.

use super::Ctx;
use anyhow::Result;

#[derive(clap::Args, Debug)]
pub struct NoteArgs {
    pub args: Vec<String>,
}

#[derive(clap::Args, Debug)]
pub struct TrailArgs {
    pub args: Vec<String>,
}

pub fn note(_ctx: &Ctx, _a: NoteArgs) -> Result<()> {
    Err(super::exit(1, "note: not implemented yet"))
}
pub fn trail(_ctx: &Ctx, _a: TrailArgs) -> Result<()> {
    Err(super::exit(1, "trail: not implemented yet"))
}
