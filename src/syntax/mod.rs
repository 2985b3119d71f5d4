//! tree-sitter setup: the Go grammar, and the queries of `queries/*.scm` compiled once.
//!
//! Input: source bytes. Output: a `tree_sitter::Tree` and the compiled [`QuerySet`].
//! Must not know: what the captures mean (that is `facts`), files or packages.

pub mod arena;

use std::sync::OnceLock;
use tree_sitter::{Language, Parser, Query, Tree};

/// The Go language of tree-sitter-go.
pub fn language() -> Language {
    tree_sitter_go::LANGUAGE.into()
}

/// Capture indices of `queries/items.scm`, resolved by name when the query is compiled.
pub struct ItemCaptures {
    pub package: u32,
    pub import: u32,
    pub func: u32,
    pub method: u32,
    pub ty: u32,
    pub alias: u32,
    pub var: u32,
    pub konst: u32,
}

/// Every query codewalk runs, compiled once per process.
pub struct QuerySet {
    pub items: Query,
    pub item_captures: ItemCaptures,
}

/// A query file that failed to compile or lacks a capture: `file:line: message`.
#[derive(Debug, thiserror::Error)]
#[error("queries/{file}:{line}: {message}")]
pub struct QueryError {
    pub file: &'static str,
    pub line: usize,
    pub message: String,
}

const ITEMS_SCM: &str = include_str!("../../queries/items.scm");

fn compile(file: &'static str, source: &str) -> Result<Query, QueryError> {
    Query::new(&language(), source).map_err(|e| QueryError {
        file,
        line: e.row + 1,
        message: format!("{:?}: {}", e.kind, e.message),
    })
}

fn capture(query: &Query, file: &'static str, name: &str) -> Result<u32, QueryError> {
    query
        .capture_index_for_name(name)
        .ok_or_else(|| QueryError {
            file,
            line: 1,
            message: format!("capture @{name} is missing"),
        })
}

impl QuerySet {
    pub fn compile() -> Result<QuerySet, QueryError> {
        let items = compile("items.scm", ITEMS_SCM)?;
        let c = |n| capture(&items, "items.scm", n);
        let item_captures = ItemCaptures {
            package: c("package")?,
            import: c("import")?,
            func: c("func")?,
            method: c("method")?,
            ty: c("type")?,
            alias: c("alias")?,
            var: c("var")?,
            konst: c("const")?,
        };
        if items.capture_names().len() != 8 {
            return Err(QueryError {
                file: "items.scm",
                line: 1,
                message: format!("unexpected captures {:?}", items.capture_names()),
            });
        }
        Ok(QuerySet {
            items,
            item_captures,
        })
    }

    /// The process-wide query set. The queries are part of the binary, so a failure here is a
    /// bug caught by the test suite; it is still reported, not unwrapped.
    pub fn global() -> Result<&'static QuerySet, &'static QueryError> {
        static SET: OnceLock<Result<QuerySet, QueryError>> = OnceLock::new();
        SET.get_or_init(QuerySet::compile).as_ref()
    }
}

macro_rules! field_ids {
    ($($f:ident = $name:literal),* $(,)?) => {
        /// Field ids of the Go grammar, resolved once: `child_by_field_name` compares the name
        /// with every field name of the language on each call, in the hottest loop of indexing.
        pub struct Fields {
            $(pub $f: u16,)*
            /// Kind id of `comment` (comments are extras: they appear among any node's children).
            pub comment: u16,
        }

        impl Fields {
            fn resolve() -> Fields {
                let lang = language();
                Fields {
                    $($f: lang
                        .field_id_for_name($name)
                        .map_or(u16::MAX, |id| id.get()),)*
                    comment: lang.id_for_node_kind("comment", true),
                }
            }

            /// Every field id, for the test that they all resolve.
            #[cfg(test)]
            fn all(&self) -> Vec<u16> {
                vec![$(self.$f,)*]
            }
        }
    };
}

field_ids!(
    alias = "alias",
    alternative = "alternative",
    arguments = "arguments",
    body = "body",
    capacity = "capacity",
    channel = "channel",
    communication = "communication",
    condition = "condition",
    consequence = "consequence",
    element = "element",
    end = "end",
    field = "field",
    function = "function",
    index = "index",
    initializer = "initializer",
    key = "key",
    left = "left",
    length = "length",
    name = "name",
    operand = "operand",
    operator = "operator",
    package = "package",
    parameters = "parameters",
    path = "path",
    receiver = "receiver",
    result = "result",
    right = "right",
    start = "start",
    tag = "tag",
    ty = "type",
    type_arguments = "type_arguments",
    type_parameters = "type_parameters",
    update = "update",
    value = "value",
);

/// The process-wide [`Fields`]. A name the grammar lacks resolves to an id no node has, so
/// lookups by it find nothing (`tests::every_field_name_resolves` guards against typos).
pub static FIELDS: std::sync::LazyLock<Fields> = std::sync::LazyLock::new(Fields::resolve);

/// A node's kind from a table by kind id. `Node::kind` measures and checks the grammar's
/// C string on every call, and lowering asks for the kind of every node it visits.
pub trait KindStr {
    fn kind_str(&self) -> &'static str;
}

impl KindStr for tree_sitter::Node<'_> {
    fn kind_str(&self) -> &'static str {
        KINDS.get(self.kind_id() as usize).copied().unwrap_or("")
    }
}

/// Every kind name of the language (aliases included), by kind id.
static KINDS: std::sync::LazyLock<Vec<&'static str>> = std::sync::LazyLock::new(|| {
    let lang = language();
    (0..lang.node_kind_count() as u16)
        .map(|id| lang.node_kind_for_id(id).unwrap_or(""))
        .collect()
});

/// A parser for Go. Outside the [`arena`], reuse one per thread: creating parsers is not
/// free (inside it, one per file costs next to nothing: see [`with_tree`]).
pub fn new_parser() -> Parser {
    let mut p = Parser::new();
    p.set_language(&language())
        .expect("tree-sitter-go is ABI-compatible with the tree-sitter crate (checked by tests)");
    p
}

/// Parse Go source. tree-sitter always returns a tree for a parser with a language and no
/// timeout/cancellation; `None` is mapped to an empty parse by callers.
pub fn parse(parser: &mut Parser, src: &[u8]) -> Option<Tree> {
    parser.parse(src, None)
}

/// Parses `src` and runs `f` on its tree (`None`: no tree, see [`parse`]). With the
/// [`arena`] installed and a source up to [`arena::MAX_SOURCE`], the parse runs in the
/// thread's arena with a parser of its own, and the parser and tree are abandoned to the
/// arena instead of deleted node by node; otherwise with `parser` (made on first use, to be
/// reused for the thread's next files).
pub fn with_tree<R>(
    parser: &mut Option<Parser>,
    src: &[u8],
    f: impl FnOnce(Option<&Tree>) -> R,
) -> R {
    if !arena::installed() || src.len() > arena::MAX_SOURCE {
        return f(parse(parser.get_or_insert_with(new_parser), src).as_ref());
    }
    arena::scope(|| {
        let mut own = new_parser();
        let tree = parse(&mut own, src);
        let r = f(tree.as_ref());
        std::mem::forget(tree);
        std::mem::forget(own);
        r
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_field_name_resolves() {
        let f = &*super::FIELDS;
        let lang = super::language();
        let count = lang.field_count() as u16;
        for id in f.all() {
            assert!(id >= 1 && id <= count, "field id {id} out of 1..={count}");
        }
        assert_eq!(lang.node_kind_for_id(f.comment), Some("comment"));
    }

    #[test]
    fn kind_str_is_the_node_kind() {
        use super::KindStr;
        // Aliased nodes (`field_identifier`, `package_identifier`, `type_identifier`,
        // `label_name`) and anonymous tokens included.
        let src = b"package p\nimport f \"fmt\"\ntype T struct{ X int }\n\
            func (t *T) M() { L: f.Println(t.X, 'c', 1.5); goto L }\n";
        let tree = super::parse(&mut super::new_parser(), src).unwrap();
        let mut c = tree.walk();
        let mut seen = 0;
        loop {
            let n = c.node();
            assert_eq!(n.kind_str(), n.kind(), "kind id {}", n.kind_id());
            seen += 1;
            if c.goto_first_child() || c.goto_next_sibling() {
                continue;
            }
            while c.goto_parent() && !c.goto_next_sibling() {}
            if c.node() == tree.root_node() {
                break;
            }
        }
        assert!(seen > 50, "{seen} nodes");
    }
}
