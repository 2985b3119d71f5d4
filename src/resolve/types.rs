//! Type identity: every Go type the resolver meets is interned once, so that two types are
//! identical exactly when their [`TypeId`]s are equal (named types by declaration, composite
//! types by structure, as go/types defines identity).

// FxHash: keys are names and small ids, hashed millions of times per index.
use rustc_hash::FxHashMap as HashMap;

pub type TypeId = u32;
pub type NamedId = u32;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Basic {
    Bool,
    Int,
    Int8,
    Int16,
    Int32,
    Int64,
    Uint,
    Uint8,
    Uint16,
    Uint32,
    Uint64,
    Uintptr,
    Float32,
    Float64,
    Complex64,
    Complex128,
    String,
    UnsafePointer,
    UntypedInt,
    UntypedFloat,
    UntypedRune,
    UntypedString,
    UntypedBool,
    UntypedNil,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Sig {
    pub params: Box<[TypeId]>,
    pub results: Box<[TypeId]>,
    pub variadic: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct StructField {
    pub name: Box<str>,
    pub ty: TypeId,
    pub embedded: bool,
    /// Unexported field names are package-qualified for identity.
    pub pkg: u32,
    pub tag: Box<str>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Ty {
    /// Not known: unresolvable import, broken syntax, unsupported construct.
    Invalid,
    Basic(Basic),
    Named(NamedId),
    Pointer(TypeId),
    Slice(TypeId),
    Array(Box<str>, TypeId),
    Map(TypeId, TypeId),
    /// Direction: 0 both, 1 send-only, 2 receive-only.
    Chan(u8, TypeId),
    Func(Sig),
    Tuple(Box<[TypeId]>),
    Struct(Box<[StructField]>),
    /// An interface literal: method keys and signatures, sorted; `true` when it has type terms.
    Interface(Box<[(Box<str>, TypeId)]>, bool),
    /// A type parameter: declaring object and index.
    TypeParam(u32, u32),
}

#[derive(Default)]
pub struct TypeTable {
    types: Vec<Ty>,
    map: HashMap<Ty, TypeId>,
}

pub const INVALID: TypeId = 0;

impl TypeTable {
    /// Takes the interning map out (for the caller to drop): the table can be read, not
    /// added to, afterwards (an `intern` would number a type again).
    pub fn forget_interning(&mut self) -> HashMap<Ty, TypeId> {
        std::mem::take(&mut self.map)
    }

    pub fn new() -> Self {
        let mut t = TypeTable::default();
        t.intern(Ty::Invalid);
        t
    }

    pub fn intern(&mut self, ty: Ty) -> TypeId {
        if let Some(&id) = self.map.get(&ty) {
            return id;
        }
        let id = self.types.len() as TypeId;
        self.types.push(ty.clone());
        self.map.insert(ty, id);
        id
    }

    pub fn lookup(&self, ty: &Ty) -> Option<TypeId> {
        self.map.get(ty).copied()
    }

    pub fn get(&self, id: TypeId) -> &Ty {
        &self.types[id as usize]
    }

    pub fn len(&self) -> usize {
        self.types.len()
    }

    pub fn is_empty(&self) -> bool {
        self.types.is_empty()
    }

    pub fn basic(&mut self, b: Basic) -> TypeId {
        self.intern(Ty::Basic(b))
    }

    pub fn pointer(&mut self, t: TypeId) -> TypeId {
        if t == INVALID {
            return INVALID;
        }
        self.intern(Ty::Pointer(t))
    }

    pub fn named(&mut self, n: NamedId) -> TypeId {
        self.intern(Ty::Named(n))
    }
}
