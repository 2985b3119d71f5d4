//! Search index (tantivy): built inside each index generation.

use crate::store::Symbols;
use anyhow::Result;
use std::path::Path;

/// Builds the search index for a generation directory (placeholder: nothing yet).
pub fn build_index(_gen_dir: &Path, _symbols: &Symbols) -> Result<()> {
    Ok(())
}
