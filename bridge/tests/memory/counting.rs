//! The system allocator, counting the bytes currently allocated: the load
//! test's and the memory test's measure of live heap.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The system allocator, counting the bytes currently allocated.
pub struct CountingAllocator;

static LIVE_HEAP: AtomicUsize = AtomicUsize::new(0);
static PEAK_HEAP: AtomicUsize = AtomicUsize::new(0);

fn grew(bytes: usize) {
    let now = LIVE_HEAP.fetch_add(bytes, Ordering::Relaxed) + bytes;
    PEAK_HEAP.fetch_max(now, Ordering::Relaxed);
}

// SAFETY: every call is forwarded unchanged to `System`, which upholds the
// `GlobalAlloc` contract; the counter only observes sizes.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same layout as given to us.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            grew(layout.size());
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `System` with `layout`.
        unsafe { System.dealloc(ptr, layout) };
        LIVE_HEAP.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` was allocated by `System` with `layout`.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            grew(new_size);
            LIVE_HEAP.fetch_sub(layout.size(), Ordering::Relaxed);
        }
        new
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// Bytes allocated now by the whole process.
pub fn live_heap() -> usize {
    LIVE_HEAP.load(Ordering::Relaxed)
}

/// The most bytes allocated at once since the last [`reset_peak`] (a
/// reallocation counts its old and new blocks together, as it may).
pub fn peak_heap() -> usize {
    PEAK_HEAP.load(Ordering::Relaxed)
}

/// Starts a new peak from the heap now.
pub fn reset_peak() {
    PEAK_HEAP.store(live_heap(), Ordering::Relaxed);
}
