//! glibc's malloc set up for fab's runs: freed memory used again, not handed back to the kernel
//! and faulted in anew.
//!
//! An offset or a toolpath fills tens to hundreds of MB of arrays (band values, candidate lists,
//! vertices, triangles), many of them made and dropped phase by phase. Every 4 KiB page the
//! kernel hands out is a fault and a page cleared, and on a virtual machine each fault can also
//! cost the host's work. [`tune`] (at the start of `main`) sets glibc up so that a run faults in
//! about its peak, not the sum of its phases:
//! - one arena (glibc gives each thread's arena a heap of its own, used again by none of the
//!   others);
//! - the heap grown [`TOP_PAD`] at a time;
//! - never trimmed while the process runs, so freed pages are used again;
//! - blocks under [`MMAP_THRESHOLD`] taken from that heap. Above it, glibc maps each block alone
//!   and unmaps it on free (glibc's default threshold starts at 128 KiB, so most of an offset's
//!   arrays would be mapped, unmapped and faulted in again).
//!
//! The single arena serialises allocation between threads. fab's kernels allocate per block of
//! work, not per point, so this costs nothing measurable on 2 cores; it has not been measured on
//! many.
//!
//! **No transparent huge pages.** fab used to advise blocks of 4 MiB or more and the growing heap
//! `MADV_HUGEPAGE` (bench/README.md, 2026-11-22, `0a398b6`). On the machine fab is developed and
//! benchmarked on (2 cores, a Firecracker VM, THP `madvise`), a C program touching 48 MiB of
//! fresh anonymous memory took:
//! - 6 ms with huge pages and 18 ms with 4 KiB pages, run within a second or two of the last
//!   process that freed as much (back to back);
//! - 107-125 ms with huge pages and 19-21 ms with 4 KiB pages after 4 s of idling, or straight
//!   after the benchmark's peers (libigl and MeshLab) had run.
//!
//! The likely cause is the guest reporting its free 2 MiB blocks to the host, which takes their
//! memory back: a huge page is carved from exactly such a block and each of its 512 pages then
//! faults on the host. Only back-to-back runs, as in a loop of benchmarks, gain from huge pages;
//! a run in the lab comes after idling. Measured on fab (foot-left +3, `offset_seconds`, median
//! of 5): 104.0 ms without the advice against 109.6 ms with it after 3 s of idling; 110.3 against
//! 117.6 ms straight after the peers; and the 1.6 M-triangle scale run's whole process 3.0 s
//! against 3.6-4.3 s. Nothing here asks for huge pages; the kernel's own policy (`always`, where
//! it is set) still applies.
//!
//! Other systems than glibc's get their allocator as it is.

/// glibc's heap grows by at least this much at a time, bytes (address space: pages are faulted
/// in only when written).
pub const TOP_PAD: usize = 16 << 20;
/// Blocks under this size come from glibc's heap; larger ones are mapped alone. This is glibc's
/// largest allowed threshold on 64-bit systems.
pub const MMAP_THRESHOLD: usize = 32 << 20;

/// Sets glibc's malloc up as the module documentation says. Call first thing in `main`, before
/// any thread starts; elsewhere a no-op.
pub fn tune() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let int = |x: usize| libc::c_int::try_from(x).unwrap_or(libc::c_int::MAX);
        // SAFETY: mallopt only changes glibc's parameters (each call returns 0 if refused,
        // which leaves the default).
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 1);
            libc::mallopt(libc::M_TOP_PAD, int(TOP_PAD));
            libc::mallopt(libc::M_TRIM_THRESHOLD, libc::c_int::MAX);
            libc::mallopt(libc::M_MMAP_THRESHOLD, int(MMAP_THRESHOLD));
        }
    }
}

#[cfg(all(test, target_os = "linux", target_env = "gnu"))]
mod tests {
    use super::*;

    /// The process's minor page faults so far.
    fn faults() -> i64 {
        // SAFETY: getrusage writes only the struct it is given.
        unsafe {
            let mut u: libc::rusage = std::mem::zeroed();
            assert_eq!(libc::getrusage(libc::RUSAGE_SELF, &mut u), 0);
            u.ru_minflt as i64
        }
    }

    /// Fills a fresh block of `mb` MiB and drops it; returns the page faults that took.
    fn fill(mb: usize) -> i64 {
        let before = faults();
        let block = vec![7u8; mb << 20];
        std::hint::black_box(&block);
        drop(block);
        faults() - before
    }

    /// After [`tune`], a block well under [`MMAP_THRESHOLD`] that is freed and made again uses
    /// the same pages: the second fill faults in almost nothing. With glibc's defaults each such
    /// block is mapped alone and unmapped on free, so every fill faults in all its pages. Run in
    /// a child process of this test binary, so that `tune` comes first.
    #[test]
    fn freed_blocks_are_used_again() {
        const NAME: &str = "alloc::tests::freed_blocks_are_used_again";
        const CHILD: &str = "FAB_TEST_ALLOC_CHILD";
        if std::env::var_os(CHILD).is_none() {
            let out = std::process::Command::new(std::env::current_exe().unwrap())
                .args(["--exact", NAME, "--test-threads=1", "--nocapture"])
                .env(CHILD, "1")
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&out.stdout) + String::from_utf8_lossy(&out.stderr);
            assert!(out.status.success(), "{text}");
            assert!(text.contains("1 passed"), "{text}");
            return;
        }
        tune();
        let pages = (10 << 20) / 4096;
        let first = fill(10);
        let again = [fill(10), fill(10), fill(10)];
        eprintln!("page faults: first fill {first}, again {again:?} (of {pages} pages)");
        // the first fill faults its pages in (fewer where the heap already had room)
        assert!(
            again.iter().all(|&f| f < pages / 20),
            "{again:?} of {pages}"
        );
    }
}
