//! `codewalk index [DIR]`.

use super::{exit, Ctx};
use crate::pipeline::{self, IndexOptions};
use crate::refresh::Reuse;
use crate::store;
use anyhow::Result;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The checkout to index.
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// GOROOT whose standard library is indexed as external packages (default: `go env GOROOT`).
    #[arg(long, value_name = "DIR")]
    pub goroot: Option<PathBuf>,
    /// Do not index the standard library (fewer resolved calls into it).
    #[arg(long)]
    pub no_std: bool,
    /// Rebuild even when no file changed since the last index (facts are still taken over
    /// from it, the search index is built from scratch).
    #[arg(long)]
    pub force: bool,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
}

pub fn run(ctx: &Ctx, a: Args) -> Result<()> {
    let t0 = std::time::Instant::now();
    let root = ctx.resolve_path(&a.dir);
    if !root.exists() {
        return Err(exit(1, format!("{}: no such directory", root.display())));
    }
    if !root.is_dir() {
        return Err(exit(1, format!("{}: not a directory", root.display())));
    }
    let canon = root.canonicalize()?;
    let index_dir = match &ctx.index_dir {
        Some(d) => ctx.resolve_path(d),
        None => store::default_index_dir(&canon),
    };
    // A run that fails leaves no trace: when this run created the index directory and
    // commits nothing (no Go files, disk full, ...), the directory is removed again.
    let created = !index_dir.exists();
    let lock = store::lock(&index_dir).map_err(|e| exit(1, format!("{e:#}")))?;
    store::sweep(&index_dir);
    let result = build_and_write(ctx, a, t0, &canon, &index_dir);
    if result.is_err() && created && !index_dir.join("CURRENT").exists() {
        drop(lock);
        let _ = std::fs::remove_dir_all(&index_dir);
    }
    result
}

fn build_and_write(
    ctx: &Ctx,
    a: Args,
    t0: std::time::Instant,
    canon: &std::path::Path,
    index_dir: &std::path::Path,
) -> Result<()> {
    let canon = canon.to_path_buf();
    let index_dir = index_dir.to_path_buf();
    let opts = IndexOptions {
        goroot: a.goroot.map(|g| ctx.resolve_path(&g)),
        no_std: a.no_std,
        ..IndexOptions::default()
    };
    let progress = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let show = !a.quiet && std::io::stderr().is_terminal();
    let mut ticker = show.then(|| {
        let (p, d) = (progress.clone(), done.clone());
        std::thread::spawn(move || {
            let bar = indicatif::ProgressBar::new_spinner();
            bar.set_style(
                indicatif::ProgressStyle::with_template("{spinner} {msg} [{elapsed}]")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
            );
            while !d.load(Ordering::Relaxed) {
                bar.set_message(format!("parsed {} files", p.load(Ordering::Relaxed)));
                bar.tick();
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            bar.finish_and_clear();
        })
    });
    let lap = crate::memory::Timings::start();
    let discovered = pipeline::discover_all(&canon, &opts);
    // The live generation: facts and search shards are taken over from it.
    let previous = store::current_gen(&index_dir);
    let built = match discovered {
        Ok((disc, external)) => {
            let digest = pipeline::inputs_digest(&disc, &external);
            if !a.force {
                let reused = crate::refresh::reuse(
                    &index_dir,
                    previous.as_deref(),
                    digest,
                    &disc,
                    &external,
                    t0,
                )
                .map_err(|e| {
                    exit(
                        1,
                        format!("{e:#}; the previous index (if any) is unchanged"),
                    )
                })?;
                if !matches!(reused, Reuse::Rebuild) {
                    done.store(true, Ordering::Relaxed);
                    if let Some(t) = ticker.take() {
                        let _ = t.join();
                    }
                }
                match reused {
                    Reuse::UpToDate(m) => return report_fresh(ctx, &m, &index_dir, t0),
                    Reuse::Refreshed(r) => return report_refreshed(ctx, &r, &index_dir, t0),
                    Reuse::Rebuild => {}
                }
            }
            lap.lap("walk");
            // The new generation is begun now: its facts.bin is written while parsing.
            store::begin(&index_dir).and_then(|pending| {
                let facts = pipeline::FactsPaths {
                    new: pending.dir.join(crate::facts::cache::FILE_NAME),
                    old: previous
                        .as_ref()
                        .map(|g| g.join(crate::facts::cache::FILE_NAME)),
                };
                match pipeline::build_discovered(disc, external, Some(&facts), &progress) {
                    Ok(b) => Ok((b, digest, pending)),
                    Err(e) => {
                        pending.abandon();
                        Err(e)
                    }
                }
            })
        }
        Err(e) => Err(e),
    };
    done.store(true, Ordering::Relaxed);
    if let Some(t) = ticker.take() {
        let _ = t.join();
    }
    let (built, digest, pending) = built.map_err(|e| exit(1, format!("{e:#}")))?;
    if built.stats.files == 0 {
        pending.abandon();
        return Err(exit(
            1,
            format!("no Go files found under {}", canon.display()),
        ));
    }
    let mut stats = built.stats.clone();
    let unresolved_imports = built.model.unresolved_imports as u64;
    lap.lap("build");
    let order_hint = previous.as_deref().and_then(store::symbol_order);
    let (symbols, graph, warnings) = crate::graph::to_store(built, order_hint);
    stats.warnings.extend(warnings);
    lap.lap("to_store");
    let unresolved_calls = graph.unresolved.len() as u64;
    let manifest =
        store::Manifest {
            format_version: store::FORMAT_VERSION,
            codewalk_version: env!("CARGO_PKG_VERSION").to_string(),
            root: canon.display().to_string(),
            created_unix: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0),
            files: stats.files,
            external_files: stats.external_files,
            packages: symbols.pkgs.len() as u64,
            symbols: symbols.syms.len() as u64,
            edges: graph.edges.len() as u64,
            implementations: graph.impls.len() as u64,
            syntax_error_files: stats.syntax_error_files,
            unreadable_files: stats.unreadable_files,
            too_large_files: stats.too_large_files,
            unresolved_calls,
            unresolved_imports,
            source_bytes: stats.bytes,
            index_seconds: t0.elapsed().as_secs_f64(),
            warnings: stats
                .warnings
                .into_iter()
                .chain(stats.facts_cache_error.map(|e| {
                    format!("facts.bin not written ({e}): the next run parses every file")
                }))
                .collect(),
            reused_files: stats.reused_files,
            inputs_digest: digest.all,
            layout_digest: digest.layout,
        };
    // index.bin is written while the search index is built: both only read the records,
    // and writing is mostly one thread and the disk.
    // --force builds every search shard again (they are not checksummed as facts are).
    let prev = previous.as_deref().filter(|_| !a.force);
    crate::memory::keep_freed_pages(crate::memory::KEEP_FREED_MS);
    let (wrote, searched) = rayon::join(
        || pending.write(&manifest, &symbols, &graph),
        || crate::search::build_index(&pending.dir, &symbols, prev),
    );
    drop(graph);
    let written = wrote.and(searched);
    lap.lap("write index.bin and search index");
    let search_report = match written {
        Ok(r) => {
            pending.commit().map_err(|e| exit(1, format!("{e:#}")))?;
            r
        }
        Err(e) => {
            pending.abandon();
            return Err(exit(
                1,
                format!("{e:#}; the previous index (if any) is unchanged"),
            ));
        }
    };
    for w in manifest.warnings.iter().take(20) {
        eprintln!("warning: {w}");
    }
    if manifest.warnings.len() > 20 {
        eprintln!("warning: … and {} more", manifest.warnings.len() - 20);
    }
    let msg = format!(
        "indexed {} files ({} packages, {} symbols, {} call edges, {} implementations; {} files with syntax errors) in {:.1}s into {}",
        manifest.files,
        symbols.pkgs.iter().filter(|p| p.flags & store::F_EXTERNAL == 0).count(),
        symbols.syms.len(),
        manifest.edges,
        manifest.implementations,
        manifest.syntax_error_files,
        t0.elapsed().as_secs_f64(),
        index_dir.display()
    );
    // What was taken over from the previous generation, in one parenthesis.
    let mut kept = Vec::new();
    match (manifest.reused_files, manifest.external_files) {
        (0, _) => {}
        (n, 0) => kept.push(format!("{n} unchanged files not parsed again")),
        (n, _) => kept.push(format!(
            "{n} unchanged files not parsed again, the standard library's included"
        )),
    }
    if stats.reused_calls > 0 {
        kept.push(format!(
            "calls of {} files not resolved again",
            stats.reused_calls
        ));
    }
    if search_report.reused_shards > 0 || search_report.patched_shards > 0 {
        let mut s = format!(
            "{} of {} search index shards unchanged",
            search_report.reused_shards, search_report.shards
        );
        if search_report.patched_shards > 0 {
            s.push_str(&format!(", {} patched", search_report.patched_shards));
        }
        kept.push(s);
    }
    let msg = if kept.is_empty() {
        msg
    } else {
        format!("{msg} ({})", kept.join("; "))
    };
    if ctx.json {
        println!("{}", serde_json::to_string(&manifest)?);
    } else {
        eprintln!("{msg}");
    }
    Ok(())
}

fn report_refreshed(
    ctx: &Ctx,
    r: &crate::refresh::Refreshed,
    index_dir: &std::path::Path,
    t0: std::time::Instant,
) -> Result<()> {
    let m = &r.manifest;
    if ctx.json {
        println!("{}", serde_json::to_string(m)?);
    } else {
        eprintln!(
            "indexed {} files in {:.1}s into {}: {} changed in their text only (declarations, calls and positions as before), so the index was taken over with their texts replaced ({} of {} search index shards unchanged, {} patched)",
            m.files,
            t0.elapsed().as_secs_f64(),
            index_dir.display(),
            r.changed,
            r.search.reused_shards,
            r.search.shards,
            r.search.patched_shards,
        );
    }
    Ok(())
}

fn report_fresh(
    ctx: &Ctx,
    m: &store::Manifest,
    index_dir: &std::path::Path,
    t0: std::time::Instant,
) -> Result<()> {
    if ctx.json {
        println!("{}", serde_json::to_string(m)?);
    } else {
        eprintln!(
            "index is up to date: {} files unchanged since the last index (checked in {:.2}s; --force rebuilds) in {}",
            m.files,
            t0.elapsed().as_secs_f64(),
            index_dir.display()
        );
    }
    Ok(())
}
