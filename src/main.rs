//! The `codewalk` binary: parse arguments, run, map errors to exit codes.

use clap::Parser;
use std::io::Write;

fn main() {
    let cli = codewalk::cli::Cli::parse();
    let code = match codewalk::cli::run(cli) {
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
    };
    std::process::exit(code);
}
