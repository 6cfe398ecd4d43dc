//! The global allocator: the system's, set up for fab's runs, with memory backed by transparent
//! huge pages where Linux allows it.
//!
//! An offset or a toolpath fills tens to hundreds of MB of fresh arrays (band values, candidate
//! lists, vertices, triangles). Every 4 KiB page the kernel hands out is a fault and a page
//! cleared, and on a virtual machine each fault can also cost the host's work. On the machine
//! fab is developed and benchmarked on (2 cores, a Firecracker VM) the faults of an offset of
//! foot-left by 3 mm took 0.08 to 0.36 s of system time, as much as the offset's own work. Two
//! changes make this cheaper:
//!
//! - **Huge pages.** Kernels commonly enable transparent huge pages only where a program asks
//!   (`madvise`). Blocks of [`LARGE`] bytes or more are advised `MADV_HUGEPAGE`, and so is
//!   glibc's heap each time it grows, one fault per 2 MiB instead of 512.
//! - **glibc's malloc set up for it** ([`tune`], at the start of `main`):
//!   - one arena, the heap that is advised (glibc gives each thread's arena a heap of its own,
//!     which nothing here can see);
//!   - the heap grown [`TOP_PAD`] at a time, so that most of each growth is advised before it
//!     is first written (glibc writes a chunk header into it before the advice);
//!   - never trimmed while the process runs, so freed pages are used again and not faulted in
//!     anew;
//!   - blocks under [`MMAP_THRESHOLD`] taken from that heap. Above it, glibc maps each block
//!     alone and unmaps it on free.
//!
//! Measured on foot-left +3 (`fab mesh offset --json`'s `offset_seconds`, median of 15 runs
//! interleaved with those of the set-up before, glibc's defaults with only blocks of [`LARGE`]
//! bytes advised):
//! - 200.6 ms to 163.2 ms;
//! - page faults 12.4 k to 1.3 k;
//! - the 1.63 M-triangle scale run's peak RSS 588 to 539 MiB.
//!
//! The single arena serialises allocation between threads. fab's kernels allocate per block of
//! work, not per point, so this costs nothing measurable on 2 cores; it has not been measured on
//! many.
//!
//! Nothing else changes: other systems get the system allocator as it is, and where the kernel
//! declines huge pages, ordinary pages.

use std::alloc::{GlobalAlloc, Layout, System};

/// Blocks at least this large are advised (a few huge pages each).
pub const LARGE: usize = 4 << 20;
/// glibc's heap grows by at least this much at a time, bytes.
pub const TOP_PAD: usize = 16 << 20;
/// Blocks under this size come from glibc's heap; larger ones are mapped alone. This is glibc's
/// largest allowed threshold on 64-bit systems.
pub const MMAP_THRESHOLD: usize = 32 << 20;

/// The system allocator, advising large blocks and glibc's growing heap to use huge pages.
pub struct HugePages;

#[cfg(target_os = "linux")]
fn advise(p: usize, len: usize) {
    const HUGE: usize = 2 << 20;
    let start = p.next_multiple_of(HUGE);
    let end = (p + len) / HUGE * HUGE;
    if end > start {
        // SAFETY: `start..end` lies within memory the process has mapped (a block just
        // allocated, or the heap up to its break), and advice changes no contents; an error
        // (a kernel without THP) leaves ordinary pages, which is fine.
        unsafe {
            libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE);
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn advise(_: usize, _: usize) {}

/// glibc's heap: its set-up and the advice of each growth.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
mod heap {
    use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

    /// The break up to which the heap has been advised; `usize::MAX` until [`tune`] has run
    /// (or if the break could not be read).
    static ADVISED: AtomicUsize = AtomicUsize::new(usize::MAX);

    pub fn tune() {
        let int = |x: usize| libc::c_int::try_from(x).unwrap_or(libc::c_int::MAX);
        // SAFETY: mallopt only changes glibc's parameters (each call returns 0 if refused,
        // which leaves the default); sbrk(0) only reads the break.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 1);
            libc::mallopt(libc::M_TOP_PAD, int(super::TOP_PAD));
            libc::mallopt(libc::M_TRIM_THRESHOLD, libc::c_int::MAX);
            libc::mallopt(libc::M_MMAP_THRESHOLD, int(super::MMAP_THRESHOLD));
            ADVISED.store(libc::sbrk(0) as usize, Relaxed);
        }
    }

    /// Advises the heap's growth since the last call. The break is read without glibc's lock:
    /// a stale value only delays the advice to a later call, and advising a range twice is
    /// harmless.
    #[inline]
    pub fn grown() {
        let done = ADVISED.load(Relaxed);
        if done == usize::MAX {
            return;
        }
        // SAFETY: sbrk(0) only reads the break.
        let top = unsafe { libc::sbrk(0) } as usize;
        if top != done {
            let before = ADVISED.swap(top, Relaxed);
            if top > before {
                super::advise(before, top - before);
            }
        }
    }
}

/// Sets glibc's malloc up as the module documentation says. Call first thing in `main`, before
/// any thread starts; elsewhere a no-op.
pub fn tune() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    heap::tune();
}

#[inline]
fn after_alloc(p: *mut u8, size: usize) {
    if size >= LARGE && !p.is_null() {
        advise(p as usize, size);
    }
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    heap::grown();
}

// SAFETY: every call is passed to `System` with the same arguments; `after_alloc` only adds
// advice about pages the process has mapped.
unsafe impl GlobalAlloc for HugePages {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        after_alloc(p, layout.size());
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        after_alloc(p, layout.size());
        p
    }

    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        unsafe { System.dealloc(p, layout) }
    }

    unsafe fn realloc(&self, p: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let q = unsafe { System.realloc(p, layout, new_size) };
        after_alloc(q, new_size);
        q
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Large blocks (advised) and small ones keep what is written to them through growth,
    /// zeroing and freeing, after glibc has been set up.
    #[test]
    fn blocks_hold_their_contents() {
        tune();
        let a = HugePages;
        for size in [
            64,
            300_000,
            LARGE - 8,
            LARGE,
            3 * LARGE + 12_345,
            MMAP_THRESHOLD + 1,
        ] {
            let layout = Layout::from_size_align(size, 64).unwrap();
            unsafe {
                let p = a.alloc_zeroed(layout);
                assert!(!p.is_null());
                assert!((0..size).step_by(4093).all(|i| *p.add(i) == 0));
                for i in (0..size).step_by(4093) {
                    *p.add(i) = (i % 251) as u8;
                }
                let grown = 2 * size + LARGE;
                let q = a.realloc(p, layout, grown);
                assert!(!q.is_null());
                assert!(
                    (0..size)
                        .step_by(4093)
                        .all(|i| *q.add(i) == (i % 251) as u8)
                );
                *q.add(grown - 1) = 7;
                assert_eq!(*q.add(grown - 1), 7);
                a.dealloc(q, Layout::from_size_align(grown, 64).unwrap());
            }
        }
    }

    /// After [`tune`], the heap that blocks under [`LARGE`] come from is eligible for huge pages
    /// as it grows. Run in a child process of this test binary, so that `tune` comes before any
    /// other thread, where the kernel offers this process huge pages at all.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn the_growing_heap_is_advised() {
        const NAME: &str = "alloc::tests::the_growing_heap_is_advised";
        const CHILD: &str = "FAB_TEST_ALLOC_CHILD";
        let thp = std::fs::read_to_string("/sys/kernel/mm/transparent_hugepage/enabled");
        // (a process can also be barred from them, by `prctl(PR_SET_THP_DISABLE)` in a parent)
        let barred = std::fs::read_to_string("/proc/self/status").is_ok_and(|s| {
            s.lines()
                .any(|l| l.split_whitespace().eq(["THP_enabled:", "0"]))
        });
        if barred || thp.map_or(true, |t| t.contains("[never]")) {
            eprintln!("skipped: this process is offered no transparent huge pages");
            return;
        }
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
        // a thread started after `tune`, when the one arena allowed is taken, shares glibc's
        // main heap (this test's own thread has an arena of its own)
        std::thread::spawn(|| {
            // 48 MiB in 1 MiB blocks: from the heap, each under LARGE, so advised only as heap
            let blocks: Vec<Vec<u8>> = (0..48).map(|i| vec![i as u8; 1 << 20]).collect();
            // the mappings' ranges and whether each may use huge pages
            let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap();
            let mut maps: Vec<(usize, usize, bool)> = Vec::new();
            for line in smaps.lines() {
                let first = line.split_whitespace().next().unwrap_or("");
                if let Some((a, b)) = first.split_once('-')
                    && let (Ok(a), Ok(b)) =
                        (usize::from_str_radix(a, 16), usize::from_str_radix(b, 16))
                {
                    maps.push((a, b, false));
                } else if let Some(v) = line.strip_prefix("THPeligible:") {
                    maps.last_mut().unwrap().2 = v.trim() == "1";
                }
            }
            let eligible = blocks
                .iter()
                .filter(|b| {
                    let p = b.as_ptr() as usize;
                    maps.iter().any(|&(a, z, e)| e && a <= p && p < z)
                })
                .count();
            // all but the few that fit in the heap as it was before `tune`
            assert!(
                eligible >= 40,
                "{eligible} of 48 blocks lie in memory eligible for huge pages"
            );
        })
        .join()
        .unwrap();
    }
}
