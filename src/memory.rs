//! Process-level memory and timing helpers of `codewalk index`: how long the allocator keeps
//! freed pages in each phase, and the `CODEWALK_TIMINGS` phase laps.
//!
//! The binary allocates with jemalloc, tree-sitter's C code included (`main.rs`).
//!
//! Must not know: what the phases do. The settings are no-ops when jemalloc is not the
//! allocator (unit tests), the laps without `CODEWALK_TIMINGS`.

/// How long jemalloc keeps freed pages before handing them back to the OS, for the phases
/// of `codewalk index` to come (`main.rs` starts at 0: at once).
///
/// Parsing and the search build allocate and free the same few hundred MiB over and over
/// (per-file facts, tantivy's per-segment arenas): handing those pages back at once and
/// faulting fresh zeroed ones in right after costs TLB shootdowns and page zeroing, 15% of
/// the search build's CPU on GOSTD. Those phases keep freed pages for [`KEEP_FREED_MS`];
/// the phases that hold the run's peak (model to records) hand them back at once, which
/// setting 0 also does with every page kept so far.
pub fn keep_freed_pages(ms: isize) {
    // The arenas created from now on, then each existing one (an index not in use only
    // answers an error).
    // SAFETY: the settings are ssize_t and narenas an unsigned; an error (jemalloc not the
    // allocator, as in unit tests) leaves the setting as it was.
    unsafe {
        let _ = tikv_jemalloc_ctl::raw::write(b"arenas.dirty_decay_ms\0", ms);
        let n: u32 = tikv_jemalloc_ctl::raw::read(b"arenas.narenas\0").unwrap_or(0);
        for i in 0..n {
            let name = format!("arena.{i}.dirty_decay_ms\0");
            let _ = tikv_jemalloc_ctl::raw::write(name.as_bytes(), ms);
        }
    }
}

/// See [`keep_freed_pages`].
pub const KEEP_FREED_MS: isize = 5000;

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
