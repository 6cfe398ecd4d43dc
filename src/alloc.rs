//! The global allocator: the system's, asking Linux to back large blocks with transparent huge
//! pages.
//!
//! An offset or a toolpath fills tens of MB of fresh arrays (band values, candidate lists,
//! vertices), and each 4 KiB page the kernel hands out is a fault and a page cleared: about
//! 16.7 k faults on foot-left +3. The kernel's transparent huge pages are commonly enabled only
//! where a program asks (`madvise`), so blocks of [`LARGE`] bytes or more are advised
//! `MADV_HUGEPAGE`, one fault per 2 MiB: 11.7 k faults there, and the offset ~4 % faster.
//! Nothing else changes; on other systems, or where the kernel declines, this is the system
//! allocator.

use std::alloc::{GlobalAlloc, Layout, System};

/// Blocks at least this large are advised (a few huge pages each).
pub const LARGE: usize = 4 << 20;

/// The system allocator, advising large blocks to use huge pages.
pub struct HugePages;

#[cfg(target_os = "linux")]
fn advise(p: *mut u8, len: usize) {
    const HUGE: usize = 2 << 20;
    let start = (p as usize).next_multiple_of(HUGE);
    let end = (p as usize + len) / HUGE * HUGE;
    if end > start {
        // SAFETY: `start..end` lies within the block just allocated, and advice changes no
        // contents; an error (a kernel without THP) leaves ordinary pages, which is fine.
        unsafe {
            libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE);
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn advise(_: *mut u8, _: usize) {}

// SAFETY: every call is passed to `System` with the same arguments; `advise` only adds advice
// about pages of a block the caller now owns.
unsafe impl GlobalAlloc for HugePages {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if layout.size() >= LARGE && !p.is_null() {
            advise(p, layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if layout.size() >= LARGE && !p.is_null() {
            advise(p, layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        unsafe { System.dealloc(p, layout) }
    }

    unsafe fn realloc(&self, p: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let q = unsafe { System.realloc(p, layout, new_size) };
        if new_size >= LARGE && !q.is_null() {
            advise(q, new_size);
        }
        q
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Large blocks (advised) and small ones keep what is written to them through growth,
    /// zeroing and freeing.
    #[test]
    fn large_and_small_blocks_hold_their_contents() {
        let a = HugePages;
        for size in [64, LARGE - 8, LARGE, 3 * LARGE + 12_345] {
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
}
