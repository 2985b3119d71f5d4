//! codewalk: index a Go checkout once, then answer questions about it.
//!
//! The stages, in order (see ARCHITECTURE.md): `walk` lists files, `gomod` gives each
//! directory its import path, `syntax` + `facts` turn each file into plain facts (in
//! parallel), `resolve` builds the typed model and resolves calls, `graph` turns them into
//! stored records, `store` writes and reads the index, `analysis` answers questions,
//! `render` formats the answers, `cli` is the glue.

pub mod analysis;
pub mod callcache;
pub mod cli;
pub mod facts;
pub mod gomod;
pub mod graph;
pub mod memory;
pub mod notes;
pub mod pipeline;
pub mod refresh;
pub mod render;
pub mod resolve;
pub mod search;
pub mod store;
pub mod syntax;
pub mod walk;
