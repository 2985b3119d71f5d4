//! The `codewalk` binary: parse arguments, run, map errors to exit codes.

use clap::Parser;
use std::io::Write;

/// Stack for the thread that runs the command. Rayon runs a parallel loop over a single
/// item on the calling thread, so the main thread parses files too (a one-file checkout),
/// and deeply nested generated expressions recurse deeply: give it the same room as the
/// rayon workers (see `pipeline::build`). Only touched pages cost memory.
const MAIN_STACK: usize = 256 << 20;

fn main() {
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
