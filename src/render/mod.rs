//! Output formatting: the only place that decides how answers look (text or JSON). JSON wire
//! types live here, apart from the index's own types, so the output format is versioned
//! deliberately.

pub mod dot;
pub mod mermaid;

use crate::analysis::Index;
use serde::Serialize;
use std::io::Write;

/// A symbol as shown to users and other tools.
#[derive(Serialize, Debug, Clone)]
pub struct SymbolOut {
    pub name: String,
    pub kind: &'static str,
    pub package: String,
    pub file: String,
    pub line: u32,
    pub col: u32,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub signature: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub doc: String,
    pub test: bool,
    pub vendor: bool,
    pub external: bool,
}

pub fn symbol(ix: &Index, id: u32) -> SymbolOut {
    let s = ix.sym(id);
    let (file, line) = match ix.file_of(id) {
        Some(f) => (f.rel().to_string(), s.line),
        None => (String::new(), 0),
    };
    SymbolOut {
        name: s.qname().to_string(),
        kind: s.kind.as_str(),
        package: ix.pkg_path(id).to_string(),
        file,
        line,
        col: s.col,
        signature: s.signature().to_string(),
        doc: s.doc().to_string(),
        test: ix.is_test(id),
        vendor: ix.is_vendor(id),
        external: ix.is_external(id),
    }
}

/// Writes one JSON document to stdout.
pub fn json<T: Serialize>(v: &T) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer(&mut out, v)?;
    writeln!(out)?;
    Ok(())
}

/// A short display name for a symbol inside its package: `(*Server).Serve`, `Server`, `F`.
pub fn short_name(ix: &Index, id: u32) -> String {
    let s = ix.sym(id);
    let pkg = ix.pkg_path(id);
    if pkg.is_empty() {
        return s.qname().to_string();
    }
    s.qname().replacen(&format!("{pkg}."), "", 1)
}
