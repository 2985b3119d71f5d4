//! Per-file facts: what one Go file declares and (optionally) what its bodies contain, as
//! plain owned data.
//!
//! Input: the bytes of one file. Output: [`FileFacts`].
//! Must not know: any other file, packages, import paths, types of other declarations.
//! Parsing never fails: a broken file yields the facts that could be recovered plus a count
//! of syntax-error nodes.

pub mod build;
pub mod cache;
mod extract;
mod lower;

use bincode::Options;
pub use extract::{extract, ExtractOptions};
use serde::{Deserialize, Serialize};

/// A position in a file: 1-based line, 1-based column (in bytes).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Pos {
    pub line: u32,
    pub col: u32,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct FileFacts {
    /// The package clause name; empty when the file has none (counted as a syntax error).
    pub package: String,
    pub imports: Vec<Import>,
    /// The `//go:build` expression, if any.
    pub build: Option<String>,
    pub items: Vec<Item>,
    /// ERROR and MISSING nodes tree-sitter recovered from.
    pub syntax_errors: u32,
    /// Line of the first syntax error, for diagnostics.
    pub first_error_line: Option<u32>,
    /// Lines in the file. Not encoded with the rest: [`cache::FactsFile`] keeps it beside
    /// them, so that an entry's digest says whether anything else changed.
    #[serde(skip)]
    pub lines: u32,
    /// Function bodies were lowered (`ExtractOptions::bodies`).
    pub has_bodies: bool,
    /// What the file declares, as a digest that function bodies, comments and positions do
    /// not enter: see `extract::decl_digest`.
    pub decl_digest: u64,
    /// Where [`cache::FactsFile`] keeps this file's bodies, doc comments and signatures: its
    /// entry in the generation's `facts.bin` (set when the facts are stored there, never
    /// encoded).
    #[serde(skip)]
    pub spilled: Option<Spill>,
}

/// An entry of `facts.bin`: at `at`, `len` bytes, of which the first `texts_len` are the
/// compressed doc comments and signatures and the rest the compressed bodies and facts.
#[derive(Clone, Copy, Debug)]
pub struct Spill {
    pub at: u64,
    pub texts_len: u32,
    pub len: u32,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Import {
    /// `None`: no alias; `Some(".")`, `Some("_")` or an alias.
    pub alias: Option<String>,
    pub path: String,
    pub pos: Pos,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ItemKind {
    Func,
    Method,
    Type,
    Alias,
    Var,
    Const,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Item {
    pub kind: ItemKind,
    pub name: String,
    /// Position of the name.
    pub pos: Pos,
    /// Byte range and last line of the whole declaration (from the doc comment's end on).
    pub start_byte: u32,
    pub end_byte: u32,
    pub start_line: u32,
    pub end_line: u32,
    pub doc: Text,
    /// One-line header as written: `func (s *Server) Serve(l net.Listener) error`.
    pub signature: Text,
    pub type_params: Box<[TypeParam]>,
    // The parts only some kinds of item have are boxed: the facts of every file are alive
    // until resolution ends, and an unboxed `Item` was 408 bytes.
    pub recv: Option<Box<Receiver>>,
    /// Type declarations: the right-hand side. Var/const: the declared type, if any.
    /// Encoded like bodies (as trees, type expressions were a third of the facts'
    /// memory): the model decodes each once.
    pub ty: Option<Encoded<TypeExpr>>,
    /// Funcs and methods.
    pub func: Option<Encoded<FuncType>>,
    /// Var/const: the initialiser; with `value_index` when one call initialises several names.
    pub value: Option<Encoded<Expr>>,
    pub value_index: Option<u32>,
    /// Const: the iota value of its spec.
    pub iota: u32,
    /// Function body, when extracted with bodies.
    pub body: Option<Body>,
}

/// A lowered function body, kept encoded between parsing and call resolution.
pub type Body = Encoded<Block>;

/// Lowered facts that only call resolution reads (function bodies, var initialisers), kept
/// encoded from parsing until then.
///
/// They are most of a file's facts and are needed once, by `resolve::check`, after every
/// file has been parsed: as trees of `Stmt`/`Expr` values they take ~10× the source text,
/// encoded (bincode, varints) a small fraction of it. `decode` rebuilds the tree.
#[derive(Serialize, Deserialize)]
#[serde(bound = "")]
pub struct Encoded<T> {
    bytes: Bytes,
    #[serde(skip)]
    of: std::marker::PhantomData<T>,
}

#[derive(Clone, Serialize, Deserialize)]
enum Bytes {
    Inline(Box<[u8]>),
    /// Moved to `facts.bin` ([`cache::FactsFile`]): a range of the file's blob.
    Spilled {
        off: u32,
        len: u32,
    },
}

impl Bytes {
    /// The bytes, inline or in `spilled` (the file's blob read back from `facts.bin`); empty
    /// when a spilled range is not in `spilled`.
    fn get<'a>(&'a self, spilled: &'a [u8]) -> &'a [u8] {
        match self {
            Bytes::Inline(b) => b,
            Bytes::Spilled { off, len } => spilled
                .get(*off as usize..*off as usize + *len as usize)
                .unwrap_or(&[]),
        }
    }
}

/// Text that only the index records read (doc comments, signatures). Like bodies, it moves
/// to `facts.bin` when the file's facts are stored there ([`cache::FactsFile::put`]), so
/// resolution does not carry it; `read` takes it back.
#[derive(Clone, Serialize, Deserialize)]
pub struct Text(Bytes);

impl Text {
    /// The text; `spilled` as for [`Encoded::decode`].
    pub fn read(&self, spilled: &[u8]) -> String {
        String::from_utf8_lossy(self.0.get(spilled)).into_owned()
    }

    /// The text while it is still in memory (as extracted), else "".
    pub fn inline(&self) -> &str {
        match &self.0 {
            Bytes::Inline(b) => std::str::from_utf8(b).unwrap_or(""),
            Bytes::Spilled { .. } => "",
        }
    }
}

impl Default for Text {
    fn default() -> Text {
        Text(Bytes::Inline(Box::default()))
    }
}

impl From<String> for Text {
    fn from(s: String) -> Text {
        Text(Bytes::Inline(s.into_bytes().into_boxed_slice()))
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Text {
        Text(Bytes::Inline(s.as_bytes().into()))
    }
}

impl std::fmt::Debug for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Bytes::Inline(_) => self.inline().fmt(f),
            Bytes::Spilled { off, len } => write!(f, "<spilled {off}+{len}>"),
        }
    }
}

fn codec() -> impl bincode::Options {
    // Lowering bounds the depth (`lower::MAX_DEPTH`); the codec needs no limit.
    bincode::DefaultOptions::new()
}

impl<T: Serialize + serde::de::DeserializeOwned + Default> Encoded<T> {
    pub fn encode(value: &T) -> Encoded<T> {
        Encoded {
            bytes: Bytes::Inline(codec().serialize(value).unwrap_or_default().into()),
            of: std::marker::PhantomData,
        }
    }

    /// The lowered value; `spilled` is the file's blob read back from `facts.bin`
    /// ([`cache::FactsFile::blob`]), empty when nothing was moved there. An encoding that does not decode (never
    /// written by `encode`, or a blob that could not be read back) yields the default (an
    /// empty body, `Expr::Other`).
    pub fn decode(&self, spilled: &[u8]) -> T {
        codec()
            .deserialize(self.bytes.get(spilled))
            .unwrap_or_default()
    }
}

impl<T> Clone for Encoded<T> {
    fn clone(&self) -> Self {
        Encoded {
            bytes: self.bytes.clone(),
            of: std::marker::PhantomData,
        }
    }
}

impl<T: Serialize + serde::de::DeserializeOwned + Default + std::fmt::Debug> std::fmt::Debug
    for Encoded<T>
{
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.bytes {
            Bytes::Inline(_) => self.decode(&[]).fmt(f),
            Bytes::Spilled { off, len } => write!(f, "<spilled {off}+{len}>"),
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TypeParam {
    pub name: String,
    pub constraint: TypeExpr,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Receiver {
    pub name: Option<String>,
    pub pointer: bool,
    /// The receiver's base type name (`Server` in `(s *Server)`).
    pub base: String,
    /// Names of the receiver type parameters (`T` in `(l *List[T])`).
    pub type_params: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ChanDir {
    Both,
    Send,
    Recv,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TypeExpr {
    /// An unqualified name: a declared type, a predeclared type, or a type parameter.
    Name(String),
    /// `pkg.Name`, `pkg` being the file's name for an import.
    Qualified(String, String),
    /// `Name[Args]`.
    Generic(Box<TypeExpr>, Vec<TypeExpr>),
    Pointer(Box<TypeExpr>),
    Slice(Box<TypeExpr>),
    /// `[len]T`; the length as written ("..." for `[...]T`).
    Array(String, Box<TypeExpr>),
    Map(Box<TypeExpr>, Box<TypeExpr>),
    Chan(ChanDir, Box<TypeExpr>),
    Func(Box<FuncType>),
    Struct(Vec<Field>),
    Interface(Vec<IfaceElem>),
    #[default]
    Unknown,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FuncType {
    pub params: Vec<Param>,
    pub results: Vec<Param>,
    pub variadic: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Param {
    pub name: Option<String>,
    pub ty: TypeExpr,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Field {
    /// `None` for an embedded field (its name is the type's name).
    pub name: Option<String>,
    pub ty: TypeExpr,
    /// The tag as written (part of struct type identity).
    pub tag: String,
    pub line: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum IfaceElem {
    Method {
        name: String,
        func: FuncType,
        pos: Pos,
    },
    /// An embedded interface (or a single-type constraint term).
    Embed(TypeExpr),
    /// A union or `~T` term: the interface is a constraint, never implemented by method sets.
    TypeSet,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LitKind {
    Int,
    Float,
    Imag,
    Rune,
    String,
    Bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum UnOp {
    Addr,
    Deref,
    Recv,
    Not,
    Other,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BinOp {
    /// `== != < <= > >= && ||`: untyped bool.
    Compare,
    /// `<< >>`: the left operand's type.
    Shift,
    /// Arithmetic: the operands' common type.
    Arith,
}

/// A lowered expression: every node a type inference over Go needs, nothing else.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub enum Expr {
    Ident(String, Pos),
    Selector(Box<Expr>, String, Pos),
    Call(Box<Call>),
    Composite(Box<Composite>),
    FuncLit(Box<FuncType>, Block),
    Unary(UnOp, Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `a[i]`, or a generic instantiation `F[T]` (told apart by resolution).
    Index(Box<Expr>, Vec<Expr>),
    /// `x[lo:hi:max]`: the operand and the index expressions present.
    Slice(Box<Expr>, Vec<Expr>),
    /// `x.(T)`; `None` for `x.(type)`.
    TypeAssert(Box<Expr>, Option<TypeExpr>),
    /// A type in expression position: `[]byte(s)`, `make(map[K]V)`, `new(T)`.
    Type(TypeExpr),
    /// `T(x)` parsed as a conversion; the position is the `(`.
    Conversion(TypeExpr, Box<Expr>, Pos),
    Lit(LitKind),
    #[default]
    Other,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Call {
    pub fun: Expr,
    pub args: Vec<Expr>,
    pub type_args: Vec<TypeExpr>,
    pub ellipsis: bool,
    pub pos: Pos,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Composite {
    /// `None` for an elided type inside another composite literal.
    pub ty: Option<TypeExpr>,
    pub elems: Vec<Element>,
    pub pos: Pos,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Element {
    /// A field name or key expression, when keyed.
    pub key: Option<Expr>,
    pub value: Expr,
}

pub type Block = Vec<Stmt>;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct VarSpec {
    pub names: Vec<(String, Pos)>,
    pub ty: Option<TypeExpr>,
    pub values: Vec<Expr>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TypeCase {
    /// Types listed in the case; `None` stands for `nil`. Empty for `default`.
    pub types: Vec<Option<TypeExpr>>,
    pub body: Block,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Stmt {
    Expr(Expr),
    /// `a, b := x, y` (names, "_" kept).
    Define(Vec<(String, Pos)>, Vec<Expr>),
    Assign(Vec<Expr>, Vec<Expr>),
    Var(Vec<VarSpec>),
    /// Local `const` specs: names and types only matter for shadowing.
    Const(Vec<VarSpec>),
    /// A local type declaration.
    TypeDecl {
        name: String,
        ty: TypeExpr,
        alias: bool,
    },
    Go(Expr),
    Defer(Expr),
    Return(Vec<Expr>),
    Block(Block),
    If {
        init: Option<Box<Stmt>>,
        cond: Expr,
        then: Block,
        els: Option<Box<Stmt>>,
    },
    For {
        init: Option<Box<Stmt>>,
        cond: Option<Expr>,
        post: Option<Box<Stmt>>,
        body: Block,
    },
    Range {
        key: Option<Expr>,
        value: Option<Expr>,
        define: bool,
        expr: Expr,
        body: Block,
    },
    Switch {
        init: Option<Box<Stmt>>,
        tag: Option<Expr>,
        cases: Vec<(Vec<Expr>, Block)>,
    },
    TypeSwitch {
        init: Option<Box<Stmt>>,
        bind: Option<String>,
        expr: Expr,
        cases: Vec<TypeCase>,
    },
    Select(Vec<(Option<Box<Stmt>>, Block)>),
    Send(Expr, Expr),
    IncDec(Expr),
    Labeled(Box<Stmt>),
    Other,
}
