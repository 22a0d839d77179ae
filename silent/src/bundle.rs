//! The silent page's browser side: read the callback from the URL, remove it, post it to the parent.
//!
//! The page is one request: `silent/index.html` holds its loader (`silent/loader.js`) and this wasm
//! (base64), inlined by `tools/build-silent`. A renewal waits for this page, so it is built for size
//! (budget: the page <= 6 KB gzip, checked by `tools/silent-size`) and for a short way to the message:
//! - no wasm-bindgen: the loader hands this module the few browser calls it makes as plain imports of
//!   numbers and `(pointer, length)` UTF-8 strings (module `page`, below); wasm-bindgen's generated glue
//!   alone is larger than the page's budget leaves, and its loader fetches the wasm as a second and third
//!   request (measured: 22.7 ms of a renewal's 69 ms, against 3.3 ms for a one-line page);
//! - the loader only performs the calls: what to read, when to strip the URL, whether to post, what and to
//!   which origin are decided here;
//! - `no_std`: a bump allocator and a trapping panic handler (below) instead of std's allocator, panic and
//!   formatting machinery.

use crate::message::MESSAGE_TYPE;
use crate::parse::{is_utf8_bytes, select_params, validate};
use core::arch::wasm32::unreachable as trap;

/// The parts of `location` the page reads, by number (the loader's `part`).
#[derive(Clone, Copy)]
#[repr(u32)]
enum Part {
    Hash = 0,
    Search = 1,
    Pathname = 2,
    Origin = 3,
}

// The browser calls, implemented by `silent/loader.js`. Strings go out as UTF-8 `(pointer, length)` in this
// module's memory; JS strings come in through `location_read` (`TextEncoder.encodeInto`).
#[link(wasm_import_module = "page")]
extern "C" {
    /// The length of a part of `location`, in UTF-16 code units.
    fn location_len(part: Part) -> usize;
    /// Copies a part of `location` as UTF-8 into `[to, to + capacity)`; returns the bytes written.
    fn location_read(part: Part, to: *mut u8, capacity: usize) -> usize;
    /// `history.replaceState(null, "", url)`.
    fn replace_state(url: *const u8, url_len: usize);
    /// `parent === window`: 1 when the page is not framed, else 0.
    fn top_level() -> u32;
    /// Removes the `hidden` attribute of the element with this id, if there is one.
    fn unhide(id: *const u8, id_len: usize);
    /// `parent.postMessage({ type: kind, [key]: value }, target_origin)`.
    #[allow(clippy::too_many_arguments)]
    fn post_message(
        kind: *const u8,
        kind_len: usize,
        key: *const u8,
        key_len: usize,
        value: *const u8,
        value_len: usize,
        target_origin: *const u8,
        target_origin_len: usize,
    );
}

/// Runs the page; the loader calls it once, after instantiating the module.
#[no_mangle]
pub extern "C" fn start() {
    // Nothing here can be reported to anyone but the parent: a failure (an exception from the browser, a
    // trap) leaves the parent to time out.
    let hash = location(Part::Hash);
    let search = location(Part::Search);
    let params = select_params(hash, search);
    // SAFETY (every call below): the imports only read the UTF-8 strings they are given, which live as
    // long as the call.
    if !params.is_empty() {
        // Codes and tokens must not linger in the frame's URL (history, referrers, screenshots of devtools).
        let path = location(Part::Pathname);
        unsafe { replace_state(path.as_ptr(), path.len()) };
    }

    if unsafe { top_level() } != 0 {
        // Opened top-level: there is nobody to tell; explain the page instead.
        let id = "standalone";
        unsafe { unhide(id.as_ptr(), id.len()) };
        return;
    }

    // The one parser's checks, without copying anything out: the parent parses `params` again.
    let (key, value) = match validate(params) {
        Ok(_) => ("params", params),
        Err(error) => ("error", error.code()),
    };
    // The app and its silent page share one origin, so the parent must be at our own origin: a page of any
    // other origin that frames us receives nothing (RFC 9700 §4.17: never "*").
    let origin = location(Part::Origin);
    unsafe {
        post_message(
            MESSAGE_TYPE.as_ptr(),
            MESSAGE_TYPE.len(),
            key.as_ptr(),
            key.len(),
            value.as_ptr(),
            value.len(),
            origin.as_ptr(),
            origin.len(),
        )
    };
}

/// Copies a part of `location` into memory the page keeps, as UTF-8.
fn location(part: Part) -> &'static str {
    // A UTF-16 code unit takes at most 3 bytes of UTF-8 (a surrogate pair, two units, takes 4).
    // SAFETY: the import reads nothing of ours.
    let units = unsafe { location_len(part) };
    let Some(buffer) = allocator::bytes(units.saturating_mul(3)) else {
        trap()
    };
    // SAFETY: the import writes at most `buffer.len()` bytes into the buffer, which no one else holds.
    let written = unsafe { location_read(part, buffer.as_mut_ptr(), buffer.len()) };
    let buffer: &'static [u8] = buffer;
    match buffer.get(..written) {
        // `encodeInto` writes UTF-8; checked all the same, so that no script can break `str`'s promise.
        // SAFETY: the bytes were just checked to be UTF-8.
        Some(bytes) if is_utf8_bytes(bytes) => unsafe { core::str::from_utf8_unchecked(bytes) },
        _ => trap(),
    }
}

/// The page runs once and is thrown away: a bump allocator that never frees is all it needs (a few
/// strings), and keeps a general-purpose allocator out of the wasm.
mod allocator {
    use core::alloc::{GlobalAlloc, Layout};
    use core::arch::wasm32::{memory_grow, memory_size};
    use core::cell::Cell;
    use core::ptr::null_mut;

    const PAGE: usize = 64 * 1024;

    /// Hands out memory above what the module started with, growing the memory as needed.
    struct Bump {
        /// The next free address; 0 before the first allocation.
        next: Cell<usize>,
    }

    // SAFETY: wasm32-unknown-unknown without the atomics feature has a single thread.
    unsafe impl Sync for Bump {}

    impl Bump {
        /// A block for `layout` that no one else has, or null when the memory cannot grow.
        fn bump(&self, layout: Layout) -> *mut u8 {
            let next = match self.next.get() {
                0 => match memory_size(0).checked_mul(PAGE) {
                    Some(end) => end,
                    None => return null_mut(),
                },
                next => next,
            };
            let Some(start) = next.checked_next_multiple_of(layout.align()) else {
                return null_mut();
            };
            let Some(end) = start.checked_add(layout.size()) else {
                return null_mut();
            };
            let (have, need) = (memory_size(0), end.div_ceil(PAGE));
            if need > have && memory_grow(0, need - have) == usize::MAX {
                return null_mut();
            }
            self.next.set(end);
            start as *mut u8
        }
    }

    // SAFETY: every block is aligned, inside the memory, and handed out once.
    unsafe impl GlobalAlloc for Bump {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            self.bump(layout)
        }

        unsafe fn dealloc(&self, _: *mut u8, _: Layout) {}
    }

    #[global_allocator]
    static ALLOCATOR: Bump = Bump { next: Cell::new(0) };

    /// `len` bytes for the page to keep, or `None` when the memory cannot grow.
    pub(super) fn bytes(len: usize) -> Option<&'static mut [u8]> {
        let start = ALLOCATOR.bump(Layout::from_size_align(len, 1).ok()?);
        if start.is_null() {
            return None;
        }
        // SAFETY: the block is handed out once, so the slice aliases nothing; it lies above the module's
        // initial memory, which `memory.grow` zeroes and nothing writes before handing it out, so its bytes
        // are initialized.
        Some(unsafe { core::slice::from_raw_parts_mut(start, len) })
    }
}

/// No panic can be reported from the page (and none is expected: the parser does not panic): trap, which
/// leaves the parent to time out, and keeps the panic and formatting machinery out of the wasm.
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    trap()
}
