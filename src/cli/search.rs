//! `search` and `grep`.

use super::{exit, qerr, Ctx};
use crate::analysis::QueryError;
use crate::search::grep::GrepOptions;
use crate::search::{self, SearchError, SearchIndex, SearchOptions};
use anyhow::Result;
use serde::Serialize;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(clap::Args, Debug)]
pub struct SearchArgs {
    /// Words (identifiers are split: `SharedIndexInformer` finds `informer`), plus filters:
    /// `kind:func|method|struct|interface|type|alias|var|const|interface_method`,
    /// `pkg:PATH` (PATH and sub-packages; `...` is a wildcard), `file:NAME` (a file name, a
    /// path suffix or a directory; `*` and `...` are wildcards).
    #[arg(value_name = "QUERY")]
    pub query: Vec<String>,
    /// Most results per section (symbols, code lines).
    #[arg(long, short = 'n', default_value_t = 20)]
    pub limit: usize,
    /// Code lines only.
    #[arg(long, conflicts_with = "symbols")]
    pub code: bool,
    /// Symbols only.
    #[arg(long)]
    pub symbols: bool,
    /// Include symbols of packages outside the checkout (standard library).
    #[arg(long)]
    pub external: bool,
}

#[derive(clap::Args, Debug)]
pub struct GrepArgs {
    /// A regular expression (ripgrep's syntax), or a literal with -F.
    #[arg(allow_hyphen_values = true)]
    pub pattern: String,
    /// Treat the pattern as a literal string.
    #[arg(short = 'F', long)]
    pub fixed_strings: bool,
    /// Case-insensitive match.
    #[arg(short = 'i', long)]
    pub ignore_case: bool,
    /// Also search files reached through symbolic links (ripgrep does not by default).
    #[arg(short = 'L', long)]
    pub follow: bool,
    /// Print how many files the index let through to stderr.
    #[arg(long)]
    pub stats: bool,
}

fn open(ctx: &Ctx) -> Result<SearchIndex> {
    let dir = ctx.index_dir().map_err(qerr)?;
    let opened = crate::store::open(&dir)
        .map_err(QueryError::from)
        .map_err(qerr)?;
    let root = PathBuf::from(&opened.manifest.root);
    SearchIndex::open(&opened.gen, &root).map_err(serr)
}

fn serr(e: SearchError) -> anyhow::Error {
    let code = match e {
        SearchError::Query(_) | SearchError::Pattern(_) => 2,
        _ => 1,
    };
    exit(code, e.to_string())
}

fn usage(name: &str) -> String {
    let mut cmd = <super::Cli as clap::CommandFactory>::command();
    cmd.build();
    cmd.find_subcommand_mut(name)
        .map(|c| c.render_usage().to_string())
        .unwrap_or_default()
}

#[derive(Serialize)]
struct SymbolJson<'a> {
    name: &'a str,
    kind: &'a str,
    package: &'a str,
    file: &'a str,
    line: u32,
    col: u32,
    #[serde(skip_serializing_if = "str::is_empty")]
    signature: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    doc: &'a str,
    test: bool,
    vendor: bool,
    external: bool,
    #[serde(rename = "match")]
    tier: search::Tier,
}

#[derive(Serialize)]
struct CodeJson<'a> {
    file: &'a str,
    line: u32,
    text: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    symbol: Option<&'a str>,
}

#[derive(Serialize)]
struct SearchJson<'a> {
    query: String,
    symbols: Vec<SymbolJson<'a>>,
    code: Vec<CodeJson<'a>>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    stale_files: &'a [String],
}

pub fn search(ctx: &Ctx, a: SearchArgs) -> Result<()> {
    let text = a.query.join(" ");
    let q = search::parse_query(&text).map_err(|e| serr(e.into()))?;
    if q.is_empty() {
        return Err(exit(
            2,
            format!("search: empty query\n\n{}", usage("search")),
        ));
    }
    let ix = open(ctx)?;
    let opts = SearchOptions {
        limit: a.limit,
        symbols: !a.code,
        code: !a.symbols,
        no_tests: ctx.filter.no_tests,
        no_vendor: ctx.filter.no_vendor,
        external: a.external,
    };
    let res = ix.search(&q, &opts).map_err(serr)?;
    for f in &res.stale {
        eprintln!("warning: {f} changed since it was indexed (its code lines are left out); re-run `codewalk index`");
    }
    if ctx.json {
        let out = SearchJson {
            query: text,
            symbols: res
                .symbols
                .iter()
                .map(|s| SymbolJson {
                    name: &s.qname,
                    kind: &s.kind,
                    package: &s.package,
                    file: &s.file,
                    line: s.line,
                    col: s.col,
                    signature: &s.signature,
                    doc: &s.doc,
                    test: s.test,
                    vendor: s.vendor,
                    external: s.external,
                    tier: s.tier,
                })
                .collect(),
            code: res
                .code
                .iter()
                .map(|c| CodeJson {
                    file: &c.file,
                    line: c.line,
                    text: &c.text,
                    symbol: c.symbol.as_deref(),
                })
                .collect(),
            stale_files: &res.stale,
        };
        return crate::render::json(&out);
    }
    let mut w = std::io::BufWriter::new(std::io::stdout().lock());
    for s in &res.symbols {
        writeln!(w, "{}:{}  {}  {}", s.file, s.line, s.kind, s.qname)?;
        if !s.signature.is_empty() {
            writeln!(w, "    {}", s.signature)?;
        }
        if let Some(l) = s.doc.lines().find(|l| !l.trim().is_empty()) {
            writeln!(w, "    // {}", l.trim())?;
        }
    }
    if !res.symbols.is_empty() && !res.code.is_empty() {
        writeln!(w, "\ncode:")?;
    }
    for c in &res.code {
        writeln!(w, "{}:{}:{}", c.file, c.line, c.text)?;
    }
    if res.symbols.is_empty() && res.code.is_empty() {
        eprintln!("no matches for '{text}'");
    }
    w.flush()?;
    Ok(())
}

/// How a file path is printed: as ripgrep prints it when run in `cwd` on the indexed root
/// (relative when the root is the working directory, else absolute).
fn display_prefix(cwd: &Path, root: &Path) -> PathBuf {
    let cwd = cwd.canonicalize().unwrap_or_else(|_| cwd.to_path_buf());
    if cwd == root {
        PathBuf::new()
    } else {
        root.to_path_buf()
    }
}

pub fn grep(ctx: &Ctx, a: GrepArgs) -> Result<()> {
    let ix = open(ctx)?;
    let opts = GrepOptions {
        fixed: a.fixed_strings,
        ignore_case: a.ignore_case,
        no_tests: ctx.filter.no_tests,
        no_vendor: ctx.filter.no_vendor,
        follow: a.follow,
    };
    let t0 = std::time::Instant::now();
    let res = ix.grep(&a.pattern, &opts).map_err(serr)?;
    for f in &res.stale {
        eprintln!("warning: {f} changed since it was indexed; results may be incomplete, re-run `codewalk index`");
    }
    for f in &res.unreadable {
        eprintln!("warning: {f}: cannot read");
    }
    if a.stats {
        eprintln!(
            "grep: read {} of {} files ({} with matches) in {:.1?} (load {:.1?}, trigrams {:.1?}, search and change check {:.1?}, changed files {:.1?})",
            res.candidates,
            res.searchable,
            res.matches.len(),
            t0.elapsed(),
            res.phases[0],
            res.phases[1],
            res.phases[2],
            res.phases[3],
        );
    }
    let prefix = display_prefix(&ctx.cwd, Path::new(&res.files.root));
    let path = |rel: &str| -> String {
        if prefix.as_os_str().is_empty() {
            rel.to_string()
        } else {
            prefix.join(rel).display().to_string()
        }
    };
    if ctx.json {
        #[derive(Serialize)]
        struct M {
            file: String,
            line: u64,
            text: String,
        }
        #[derive(Serialize)]
        struct Out {
            pattern: String,
            matches: Vec<M>,
            files_read: usize,
            files_searchable: usize,
        }
        let mut matches = Vec::new();
        for fm in &res.matches {
            let p = path(&res.files.files[fm.file as usize].rel);
            for (ln, t) in &fm.lines {
                matches.push(M {
                    file: p.clone(),
                    line: *ln,
                    text: String::from_utf8_lossy(t).into_owned(),
                });
            }
        }
        return crate::render::json(&Out {
            pattern: a.pattern,
            matches,
            files_read: res.candidates,
            files_searchable: res.searchable,
        });
    }
    let mut w = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    for fm in &res.matches {
        let p = path(&res.files.files[fm.file as usize].rel);
        for (ln, t) in &fm.lines {
            write!(w, "{p}:{ln}:")?;
            w.write_all(t)?;
            w.write_all(b"\n")?;
        }
    }
    w.flush()?;
    if res.matches.is_empty() {
        // As grep and ripgrep: exit code 1 when nothing matched.
        return Err(exit(1, "no matches"));
    }
    Ok(())
}
