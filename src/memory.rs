//! Process-level memory and timing helpers of `codewalk index`: glibc allocator settings,
//! handing glibc's freed memory back after parsing, and the `CODEWALK_TIMINGS` phase laps.
//!
//! The binary allocates with jemalloc (`main.rs`); glibc's malloc still serves tree-sitter's
//! C code, which is what the glibc settings here are for.
//!
//! Must not know: what the phases do. The glibc parts are no-ops off Linux/glibc (and the
//! laps without `CODEWALK_TIMINGS`).

/// Allocator settings for indexing (glibc): no fastbins. Parsing frees millions of small
/// nodes between large allocations (file buffers, trees), and each large request first
/// consolidates the fastbins: measured on the GOPATH tree, 5-10% of indexing CPU.
pub fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        extern "C" {
            fn mallopt(param: std::ffi::c_int, value: std::ffi::c_int) -> std::ffi::c_int;
        }
        const M_MXFAST: std::ffi::c_int = 1;
        // SAFETY: mallopt only changes the allocator's parameters; called before the
        // worker threads start.
        unsafe {
            mallopt(M_MXFAST, 0);
        }
    }
}

/// Hands glibc's freed memory back to the OS. glibc keeps freed blocks in the arena of the
/// thread that allocated them; since Rust code allocates with jemalloc, what is there is
/// tree-sitter's, freed by the parse workers.
pub fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        extern "C" {
            fn malloc_trim(pad: usize) -> std::ffi::c_int;
        }
        // SAFETY: malloc_trim only returns free pages of the allocator's own arenas.
        unsafe {
            malloc_trim(0);
        }
    }
}

/// Phase timings on stderr when `CODEWALK_TIMINGS` is set: time since the previous lap,
/// resident memory now and the peak so far (for profiling; the benchmark measures from outside).
pub struct Timings {
    on: bool,
    last: std::cell::Cell<std::time::Instant>,
}

impl Timings {
    pub fn start() -> Timings {
        Timings {
            on: std::env::var_os("CODEWALK_TIMINGS").is_some(),
            last: std::cell::Cell::new(std::time::Instant::now()),
        }
    }

    pub fn lap(&self, what: &str) {
        if !self.on {
            return;
        }
        let now = std::time::Instant::now();
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let kb = |key: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(key))
                .and_then(|v| v.trim().trim_end_matches(" kB").parse::<u64>().ok())
                .unwrap_or(0)
        };
        eprintln!(
            "timing: {what}: {:.2?} (rss {} MiB, peak {} MiB, heap {} MiB)",
            now - self.last.get(),
            kb("VmRSS:") >> 10,
            kb("VmHWM:") >> 10,
            heap_in_use() >> 20
        );
        self.last.set(now);
    }
}

/// Bytes the allocators have handed out and not taken back: jemalloc's (0 when the process
/// does not allocate with it) and glibc's.
fn heap_in_use() -> usize {
    let _ = tikv_jemalloc_ctl::epoch::advance();
    tikv_jemalloc_ctl::stats::allocated::read().unwrap_or(0) + glibc_heap_in_use()
}

/// Bytes glibc's malloc has handed out and not taken back (0 elsewhere).
fn glibc_heap_in_use() -> usize {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        #[repr(C)]
        struct MallInfo2 {
            arena: usize,
            ordblks: usize,
            smblks: usize,
            hblks: usize,
            hblkhd: usize,
            usmblks: usize,
            fsmblks: usize,
            uordblks: usize,
            fordblks: usize,
            keepcost: usize,
        }
        extern "C" {
            fn mallinfo2() -> MallInfo2;
        }
        // SAFETY: mallinfo2 only reads the allocator's statistics.
        let m = unsafe { mallinfo2() };
        m.uordblks + m.hblkhd
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    0
}
