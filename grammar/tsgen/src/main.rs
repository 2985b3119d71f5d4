//! tsgen GRAMMAR_JSON PARSER_C: writes the tree-sitter parser of a grammar.json, as
//! `tree-sitter generate` does, without the CLI or node (grammar/README.md).

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 3 {
        eprintln!("usage: tsgen GRAMMAR_JSON PARSER_C");
        std::process::exit(2);
    }
    let json = std::fs::read_to_string(&args[1]).unwrap_or_else(|e| {
        eprintln!("tsgen: {}: {e}", args[1]);
        std::process::exit(1)
    });
    // The grammar's version (tree-sitter-go 0.25.0): ABI 15 parsers record it.
    match tree_sitter_generate::generate_parser_for_grammar(&json, Some((0, 25, 0))) {
        Ok((name, code)) => {
            std::fs::write(&args[2], code).unwrap_or_else(|e| {
                eprintln!("tsgen: {}: {e}", args[2]);
                std::process::exit(1)
            });
            eprintln!("tsgen: wrote the {name} parser to {}", args[2]);
        }
        Err(e) => {
            eprintln!("tsgen: {e}");
            std::process::exit(1);
        }
    }
}
