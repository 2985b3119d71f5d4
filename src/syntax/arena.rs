//! A bump arena for tree-sitter's C allocations while one file is parsed and its facts
//! extracted ([`scope`]).
//!
//! Parsing a file allocates one block per syntax node and frees them all again when the
//! tree is deleted, a walk over every node (`ts_tree_delete` was 3.5% of a GOSTD cold
//! index, the allocator's calls about as much again). Inside a scope the parser, its tree
//! and the cursors over it take their memory from a per-thread arena: allocating moves a
//! pointer, freeing does nothing, and the tree is never deleted node by node. The scope's
//! end rewinds the arena. The pages stay with the thread for the next file, so they are
//! not faulted in again either.
//!
//! The contract that makes this sound: everything tree-sitter allocates inside a scope is
//! created and abandoned inside it (a fresh parser per scope, trees and cursors that do not
//! escape: [`super::with_tree`]); what was allocated outside and is freed or grown inside
//! goes to jemalloc, as it came from there. Outside a scope the functions are jemalloc's.
//! They are installed by the binary ([`install`]); without them (unit tests, the library
//! used on its own) scopes are not used and tree-sitter allocates as it always does.
//!
//! Memory: nothing is freed inside a scope, so a scope holds everything its file's parse
//! ever allocated, about 70 times the source on real code (the tree and what parsing
//! discarded). Sources above [`MAX_SOURCE`] are parsed outside the arena, a scope takes at
//! most [`CAP`] bytes from it (then ordinary blocks), and the arena keeps at most [`KEEP`]
//! bytes between files.

use std::cell::UnsafeCell;
use std::ffi::c_void;
use std::sync::atomic::{AtomicBool, Ordering};

/// Larger sources are parsed with tree-sitter's ordinary allocations.
pub const MAX_SOURCE: usize = 1 << 20;
/// Bytes of chunks a thread keeps from one scope to the next.
const KEEP: usize = 32 << 20;
/// Bytes of chunks a thread may hold. A scope that needs more (hostile input: error
/// recovery on a megabyte of noise allocates and drops hundreds of megabytes of stack
/// versions, which the arena would otherwise keep to the end of the file) allocates the rest
/// from jemalloc, block by block, freed as usual.
const CAP: usize = 64 << 20;
/// The first chunk; each further one is twice the size of the one before.
const FIRST_CHUNK: usize = 1 << 20;
/// Blocks are 16-aligned, as malloc's are, and preceded by 16 bytes that hold their size.
const ALIGN: usize = 16;
const HEADER: usize = 16;

static INSTALLED: AtomicBool = AtomicBool::new(false);

struct Arena {
    active: bool,
    /// (base, size) of each chunk, from jemalloc; `chunks[..=cur]` are in use.
    chunks: Vec<(usize, usize)>,
    cur: usize,
    /// Next free byte of the current chunk and its end (0 when there is no chunk yet).
    top: usize,
    end: usize,
    /// The most recent block, which `realloc` grows in place when the chunk has room.
    last: usize,
}

thread_local! {
    static ARENA: UnsafeCell<Arena> = const { UnsafeCell::new(Arena::EMPTY) };
}

/// Sets tree-sitter's allocator to this module's functions. Must run before any
/// tree-sitter object exists (see `tree_sitter::set_allocator`).
///
/// # Safety
/// No tree-sitter object may exist yet, nor be created on another thread meanwhile.
pub unsafe fn install() {
    // SAFETY: the caller guarantees no tree-sitter allocation exists; the functions have
    // the C signatures tree-sitter requires and behave like malloc & co.
    unsafe { tree_sitter::set_allocator(Some(malloc), Some(calloc), Some(realloc), Some(free)) };
    INSTALLED.store(true, Ordering::Release);
}

/// Whether [`install`] ran.
pub fn installed() -> bool {
    INSTALLED.load(Ordering::Acquire)
}

/// Runs `f` with the calling thread's tree-sitter allocations in its arena, then rewinds
/// the arena. Nested scopes run inside the outer one. The arena must be [`installed`], and
/// nothing tree-sitter allocated inside may be used after `f` returns.
pub fn scope<R>(f: impl FnOnce() -> R) -> R {
    struct Rewind;
    impl Drop for Rewind {
        fn drop(&mut self) {
            with(|a| {
                a.active = false;
                a.rewind(KEEP);
            });
        }
    }
    if with(|a| std::mem::replace(&mut a.active, true)) {
        return f();
    }
    let _rewind = Rewind;
    f()
}

/// Frees the arenas of this thread and of rayon's threads (after the parse, so that what
/// they keep for the next file does not add to the peak of the phases that follow).
pub fn trim() {
    let free_all = || {
        with(|a| {
            if !a.active {
                a.rewind(0);
            }
        })
    };
    free_all();
    rayon::broadcast(|_| free_all());
}

/// Runs `f` on this thread's arena. Allocator callbacks run on any thread at any time,
/// also while thread-locals are being torn down: then `f` sees a fresh inactive arena.
fn with<R>(f: impl FnOnce(&mut Arena) -> R) -> R {
    let mut f = Some(f);
    let r = ARENA.try_with(|a| {
        // SAFETY: the arena is only reached through `with`, which does not nest (none of
        // the closures given to it calls back into tree-sitter), and only from its thread.
        let a = unsafe { &mut *a.get() };
        (f.take().expect("called once"))(a)
    });
    r.unwrap_or_else(|_| {
        let mut spare = Arena::EMPTY;
        (f.take().expect("not called"))(&mut spare)
    })
}

impl Arena {
    const EMPTY: Arena = Arena {
        active: false,
        chunks: Vec::new(),
        cur: 0,
        top: 0,
        end: 0,
        last: 0,
    };

    fn owns(&self, p: usize) -> bool {
        self.chunks
            .iter()
            .take(self.cur + 1)
            .any(|&(base, size)| p >= base && p < base + size)
    }

    fn alloc(&mut self, size: usize) -> *mut c_void {
        let need = match size.checked_add(HEADER + ALIGN - 1) {
            Some(n) => n & !(ALIGN - 1),
            None => return std::ptr::null_mut(),
        };
        if self.end - self.top < need && !self.next_chunk(need) {
            // Over the cap: an ordinary block (`owns` tells it apart when it is freed).
            // SAFETY: jemalloc's malloc.
            return unsafe { tikv_jemalloc_sys::malloc(size) };
        }
        let block = self.top + HEADER;
        // SAFETY: `top..top + need` lies inside the current chunk, 16-aligned.
        unsafe { ((block - HEADER) as *mut usize).write(size) };
        self.top += need;
        self.last = block;
        block as *mut c_void
    }

    /// Moves to the next chunk with room for `need` bytes, allocating it if needed; false
    /// when that would take the chunks over [`CAP`] (or memory is exhausted).
    fn next_chunk(&mut self, need: usize) -> bool {
        loop {
            let next = if self.chunks.is_empty() {
                0
            } else {
                self.cur + 1
            };
            if next >= self.chunks.len() {
                let size = self
                    .chunks
                    .last()
                    .map_or(FIRST_CHUNK, |&(_, s)| s.saturating_mul(2))
                    .max(need);
                let held: usize = self.chunks.iter().map(|&(_, s)| s).sum();
                if held.saturating_add(size) > CAP {
                    return false;
                }
                // SAFETY: plain allocation; ALIGN is a power of two no larger than `size`.
                let base = unsafe {
                    tikv_jemalloc_sys::mallocx(size, tikv_jemalloc_sys::MALLOCX_ALIGN(ALIGN))
                };
                if base.is_null() {
                    return false;
                }
                self.chunks.push((base as usize, size));
            }
            self.cur = next;
            let (base, size) = self.chunks[next];
            self.top = base;
            self.end = base + size;
            self.last = 0;
            if size >= need {
                return true;
            }
        }
    }

    /// Back to the start of the first chunk; chunks beyond `keep_bytes` are freed.
    fn rewind(&mut self, keep_bytes: usize) {
        let mut kept = 0;
        let mut keep = 0;
        for &(_, size) in &self.chunks {
            if kept + size > keep_bytes {
                break;
            }
            kept += size;
            keep += 1;
        }
        for &(base, _) in &self.chunks[keep..] {
            // SAFETY: chunks come from jemalloc and nothing in them is used any more.
            unsafe { tikv_jemalloc_sys::free(base as *mut c_void) };
        }
        self.chunks.truncate(keep);
        self.cur = 0;
        self.last = 0;
        match self.chunks.first() {
            Some(&(base, size)) => (self.top, self.end) = (base, base + size),
            None => (self.top, self.end) = (0, 0),
        }
    }
}

extern "C" fn malloc(size: usize) -> *mut c_void {
    with(|a| {
        if a.active {
            a.alloc(size)
        } else {
            // SAFETY: jemalloc's malloc.
            unsafe { tikv_jemalloc_sys::malloc(size) }
        }
    })
}

extern "C" fn calloc(n: usize, size: usize) -> *mut c_void {
    with(|a| {
        if !a.active {
            // SAFETY: jemalloc's calloc.
            return unsafe { tikv_jemalloc_sys::calloc(n, size) };
        }
        let Some(bytes) = n.checked_mul(size) else {
            return std::ptr::null_mut();
        };
        let p = a.alloc(bytes);
        if !p.is_null() {
            // SAFETY: `p` has `bytes` bytes of its own; rewound chunks hold old data.
            unsafe { std::ptr::write_bytes(p as *mut u8, 0, bytes) };
        }
        p
    })
}

extern "C" fn realloc(p: *mut c_void, size: usize) -> *mut c_void {
    with(|a| {
        let at = p as usize;
        if !a.active || (!p.is_null() && !a.owns(at)) {
            // SAFETY: `p` is null or came from jemalloc (not from the arena).
            return unsafe { tikv_jemalloc_sys::realloc(p, size) };
        }
        if p.is_null() {
            return a.alloc(size);
        }
        // SAFETY: `p` is a block of the arena, so its size is in the header before it.
        let old = unsafe { ((at - HEADER) as *const usize).read() };
        if at == a.last {
            if let Some(end) = size.checked_add(ALIGN - 1).map(|n| at + (n & !(ALIGN - 1))) {
                if end <= a.end {
                    // SAFETY: as above; the block now ends at `end`, inside the chunk.
                    unsafe { ((at - HEADER) as *mut usize).write(size) };
                    a.top = end;
                    return p;
                }
            }
        }
        let q = a.alloc(size);
        if !q.is_null() {
            // SAFETY: both blocks hold at least `min(old, size)` bytes and do not overlap.
            unsafe { std::ptr::copy_nonoverlapping(p as *const u8, q as *mut u8, old.min(size)) };
        }
        q
    })
}

extern "C" fn free(p: *mut c_void) {
    with(|a| {
        if !(a.active && a.owns(p as usize)) {
            // SAFETY: `p` is null or came from jemalloc (not from the arena).
            unsafe { tikv_jemalloc_sys::free(p) }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn active() -> bool {
        with(|a| a.active)
    }

    #[test]
    fn blocks_grow_move_and_are_rewound() {
        // SAFETY: the functions are used as tree-sitter would: sizes as allocated, every
        // pointer from them, none used after its scope.
        unsafe {
            let outside = malloc(100) as *mut u8;
            outside.write_bytes(7, 100);
            let first = scope(|| {
                assert!(active());
                let a = malloc(24) as *mut u8;
                assert_eq!(a as usize % ALIGN, 0);
                a.write_bytes(1, 24);
                // The last block grows in place.
                let b = realloc(a as *mut c_void, 4000) as *mut u8;
                assert_eq!(a, b);
                assert!((0..24).all(|i| *b.add(i) == 1));
                // Not the last any more: it moves, with its bytes.
                let c = malloc(8) as *mut u8;
                let d = realloc(b as *mut c_void, 3 << 20) as *mut u8;
                assert_ne!(d, b);
                let (c, d) = (c as usize, d as usize);
                assert!(d + (3 << 20) <= c || d >= c + 8, "blocks overlap");
                let d = d as *mut u8;
                assert!((0..24).all(|i| *d.add(i) == 1));
                // Larger than the first chunk: a chunk of its own.
                let e = calloc(1, 5 << 20) as *mut u8;
                assert!((0..5 << 20).step_by(4096).all(|i| *e.add(i) == 0));
                // Past the cap: ordinary blocks, freed one by one.
                let big = malloc(CAP) as *mut u8;
                assert!(!big.is_null() && !with(|a| a.owns(big as usize)));
                big.write_bytes(3, CAP);
                free(big as *mut c_void);
                // What came from jemalloc is freed or grown there, also inside a scope.
                let grown = realloc(outside as *mut c_void, 200) as *mut u8;
                assert!((0..100).all(|i| *grown.add(i) == 7));
                free(grown as *mut c_void);
                free(d as *mut c_void); // does nothing: rewound below
                scope(|| assert!(active())); // nested: still the outer scope
                assert!(active());
                a.write_bytes(0xff, 64);
                a as usize
            });
            assert!(!active());
            // Rewound: the next scope starts at the same place, and calloc zeroes.
            scope(|| {
                let a = calloc(8, 8) as *mut u8;
                assert_eq!(a as usize, first);
                assert!((0..64).all(|i| *a.add(i) == 0));
            });
            trim();
            assert_eq!(with(|a| a.chunks.len()), 0);
        }
    }
}
