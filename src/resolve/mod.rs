//! Resolution: packages, scopes, type identity, method sets, interface satisfaction and
//! call-site resolution, without a compiler.
//!
//! Input: per-file [`FileFacts`](crate::facts::FileFacts) with each file's import path.
//! Output: a frozen [`Model`] (symbols, named types, method sets, implementations) and, per
//! file, resolved or unresolved call sites ([`check::FileCalls`]).
//! Must not know: the filesystem, the index format, output formats.

pub mod check;
pub mod methods;
pub mod model;
pub mod types;

pub use model::{FileInput, Model, PkgId, SymId, SymKind, Symbol};
