//! Command-line glue: clap commands, one module per command family, each an `Args` struct
//! and a `run` function. No logic lives here beyond mapping flags to library calls.

mod calls;
mod export;
mod graph;
mod index;
mod lookup;
mod notes;
mod search;
mod types;

use crate::analysis::{Filter, Index, QueryError};
use anyhow::Result;
use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};

#[derive(Parser, Debug)]
#[command(
    name = "codewalk",
    version,
    about = "Index a Go checkout once, then ask: who implements this interface, what calls what, trace this flow"
)]
pub struct Cli {
    /// Run as if started in DIR (the index is found by walking up from there).
    #[arg(short = 'C', global = true, value_name = "DIR")]
    pub chdir: Option<PathBuf>,
    /// Use the index in DIR instead of <root>/.codewalk.
    #[arg(long, global = true, env = "CODEWALK_INDEX_DIR", value_name = "DIR")]
    pub index_dir: Option<PathBuf>,
    /// Print one JSON document on stdout.
    #[arg(long, global = true)]
    pub json: bool,
    /// Leave out _test.go files and test packages.
    #[arg(long, global = true)]
    pub no_tests: bool,
    /// Leave out vendored packages.
    #[arg(long, global = true)]
    pub no_vendor: bool,
    /// When a name is ambiguous, take the best-ranked candidate instead of listing them.
    #[arg(long, global = true)]
    pub first: bool,
    /// Do not print the notes attached to the symbols shown.
    #[arg(long, global = true)]
    pub no_notes: bool,
    #[command(subcommand)]
    pub cmd: Cmd,
}

#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// Index a Go checkout (parse, resolve types, method sets and calls; persist the index).
    Index(index::Args),
    /// Where is a symbol declared: file:line, kind, signature, doc comment.
    Def(lookup::DefArgs),
    /// Print a declaration's source.
    Show(lookup::ShowArgs),
    /// List packages (with a prefix, `...` wildcard allowed) and their file counts.
    Packages(lookup::PackagesArgs),
    /// Index statistics: files, packages, declarations, parse errors, size, age.
    Stats(lookup::StatsArgs),
    /// Concrete types implementing an interface (`*T` marked where only the pointer does).
    Implementations(types::ImplArgs),
    /// Interfaces a type satisfies.
    Interfaces(types::IfaceArgs),
    /// The full method set of a type: declared and promoted, with origin.
    Methods(types::MethodsArgs),
    /// Who calls a function (through interfaces and func values too).
    Callers(calls::CallersArgs),
    /// What a function calls, and where.
    Callees(calls::CalleesArgs),
    /// Call paths from A to B, or the call tree under A.
    Trace(calls::TraceArgs),
    /// Call graphs, implementation maps and package maps as DOT, Mermaid or JSON.
    Graph(graph::GraphArgs),
    /// Ranked symbol and full-text search.
    Search(search::SearchArgs),
    /// Regex or literal search over all indexed Go files.
    Grep(search::GrepArgs),
    /// Notes attached to symbols, kept across re-indexing.
    Note(notes::NoteArgs),
    /// Reading trails: an ordered list of steps, exported as an article.
    Trail(notes::TrailArgs),
    /// Dump whole relations (for evaluation and other tools).
    Export(export::ExportArgs),
}

/// Global options every command sees.
pub struct Ctx {
    pub cwd: PathBuf,
    pub index_dir: Option<PathBuf>,
    pub json: bool,
    pub filter: Filter,
    pub first: bool,
    pub no_notes: bool,
}

impl Ctx {
    /// The index for a query: --index-dir / CODEWALK_INDEX_DIR, else found by walking up.
    pub fn index_dir(&self) -> Result<PathBuf, QueryError> {
        if let Some(d) = &self.index_dir {
            return Ok(self.cwd.join(d));
        }
        crate::store::find_index_dir(&self.cwd).ok_or_else(|| {
            QueryError::Open(crate::store::OpenError::Missing(
                self.cwd.display().to_string(),
            ))
        })
    }

    pub fn open(&self) -> Result<Index, QueryError> {
        Index::open(&self.index_dir()?)
    }

    /// Notes attached to symbols, unless `--no-notes`.
    pub fn notes(&self, ix: &Index) -> Option<crate::notes::Attached> {
        if self.no_notes {
            return None;
        }
        let n = crate::notes::Attached::load(ix, None);
        n.warn();
        Some(n)
    }

    pub fn resolve_path(&self, p: &Path) -> PathBuf {
        self.cwd.join(p)
    }
}

/// An error with the exit code it maps to.
#[derive(Debug, thiserror::Error)]
#[error("{msg}")]
pub struct Exit {
    pub code: i32,
    pub msg: String,
}

pub fn exit(code: i32, msg: impl Into<String>) -> anyhow::Error {
    Exit {
        code,
        msg: msg.into(),
    }
    .into()
}

impl From<QueryError> for Exit {
    fn from(e: QueryError) -> Exit {
        Exit {
            code: e.exit_code(),
            msg: e.to_string(),
        }
    }
}

pub fn qerr(e: QueryError) -> anyhow::Error {
    Exit::from(e).into()
}

pub fn run(cli: Cli) -> Result<()> {
    let base = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let cwd = match &cli.chdir {
        Some(d) => {
            let d = base.join(d);
            if !d.is_dir() {
                return Err(exit(1, format!("-C {}: not a directory", d.display())));
            }
            d
        }
        None => base,
    };
    let ctx = Ctx {
        cwd,
        index_dir: cli.index_dir.clone(),
        json: cli.json,
        filter: Filter {
            no_tests: cli.no_tests,
            no_vendor: cli.no_vendor,
            external: false,
        },
        first: cli.first,
        no_notes: cli.no_notes,
    };
    match cli.cmd {
        Cmd::Index(a) => index::run(&ctx, a),
        Cmd::Def(a) => lookup::def(&ctx, a),
        Cmd::Show(a) => lookup::show(&ctx, a),
        Cmd::Packages(a) => lookup::packages(&ctx, a),
        Cmd::Stats(a) => lookup::stats(&ctx, a),
        Cmd::Implementations(a) => types::implementations(&ctx, a),
        Cmd::Interfaces(a) => types::interfaces(&ctx, a),
        Cmd::Methods(a) => types::methods(&ctx, a),
        Cmd::Callers(a) => calls::callers(&ctx, a),
        Cmd::Callees(a) => calls::callees(&ctx, a),
        Cmd::Trace(a) => calls::trace(&ctx, a),
        Cmd::Graph(a) => graph::run(&ctx, a),
        Cmd::Search(a) => search::search(&ctx, a),
        Cmd::Grep(a) => search::grep(&ctx, a),
        Cmd::Note(a) => notes::note(&ctx, a),
        Cmd::Trail(a) => notes::trail(&ctx, a),
        Cmd::Export(a) => export::run(&ctx, a),
    }
}
