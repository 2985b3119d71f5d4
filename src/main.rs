//! The `codewalk` binary: parse arguments, run, map errors to exit codes.

use clap::Parser;
use std::io::Write;

/// Stack for the thread that runs the command. Rayon runs a parallel loop over a single
/// item on the calling thread, so the main thread parses files too (a one-file checkout),
/// and deeply nested generated expressions recurse deeply: give it the same room as the
/// rayon workers (see `pipeline::build`). Only touched pages cost memory.
const MAIN_STACK: usize = 256 << 20;

/// jemalloc, not glibc's malloc: indexing frees most of what each phase allocated (facts,
/// call sites, records) while longer-lived data sits between, and glibc keeps those pages
/// (on the GOPATH tree its resident peak was 15-20% above the live heap).
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Freed pages go back to the OS at once rather than after jemalloc's default 10 s decay:
/// the phases of `codewalk index` are shorter than that, and its peak is what must stay low.
/// The phases that churn memory below the peak keep them a while
/// (`memory::keep_freed_pages`).
#[allow(non_upper_case_globals)]
#[export_name = "_rjem_malloc_conf"]
pub static malloc_conf: &[u8] = b"dirty_decay_ms:0,muzzy_decay_ms:0\0";

fn main() {
    // tree-sitter's trees come from jemalloc too: parsing allocates and frees millions of
    // small nodes, which jemalloc's thread caches serve faster than glibc (3% of GOSTD's
    // cold index time, 5 interleaved runs); while a file is parsed and its facts extracted,
    // from a per-thread arena that is rewound after the file (`syntax::arena`).
    // SAFETY: set before any tree-sitter object exists, so nothing allocated by another
    // allocator is ever freed by this one.
    unsafe { codewalk::syntax::arena::install() };
    let cli = codewalk::cli::Cli::parse();
    let code = std::thread::Builder::new()
        .name("main".into())
        .stack_size(MAIN_STACK)
        .spawn(move || run(cli))
        .map(|h| h.join().unwrap_or(101))
        .unwrap_or_else(|e| {
            let _ = writeln!(std::io::stderr(), "codewalk: cannot start: {e}");
            1
        });
    std::process::exit(code);
}

fn run(cli: codewalk::cli::Cli) -> i32 {
    match codewalk::cli::run(cli) {
        Ok(()) => 0,
        Err(e) => {
            // A closed pipe (`codewalk ... | head`) is not an error.
            if e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) {
                0
            } else {
                let code = e
                    .downcast_ref::<codewalk::cli::Exit>()
                    .map(|x| x.code)
                    .unwrap_or(1);
                let msg = format!("{e:#}");
                let _ = writeln!(std::io::stderr(), "codewalk: {msg}");
                code
            }
        }
    }
}
