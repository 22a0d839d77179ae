//! The silent page's browser glue: read the callback from the URL, remove it, post it to the parent.
//!
//! This wasm is downloaded on every silent renewal, so it is built for size (budget: html + js + wasm
//! <= 6 KB gzip, checked by `tools/silent-size`):
//! - `no_std`: a bump allocator and a trapping panic handler (below) instead of std's allocator, panic and
//!   formatting machinery;
//! - the dozen browser calls it makes are bound here by hand, not through web-sys / js-sys: their
//!   `catch` wrappers, `String` results and the lazily cached global object cost more than the rest of
//!   the page (measured: 8.7 KB with web-sys, 7.4 KB with web-sys and only the window bound by hand);
//! - browser strings are copied in with `TextEncoder.encodeInto` into memory the page keeps, not through
//!   wasm-bindgen's `String` conversion, which links `Vec`'s growth and panic paths (0.7 KB gzip);
//! - JS values are never released (`ManuallyDrop`): the page runs once, and releasing them links
//!   wasm-bindgen's externref bookkeeping.

use crate::message::MESSAGE_TYPE;
use crate::parse::{is_utf8_bytes, select_params, validate};
use core::arch::wasm32::unreachable as trap;
use core::mem::ManuallyDrop;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// `location`: this page's URL.
    #[wasm_bindgen(js_name = location)]
    type Location;
    #[wasm_bindgen(static_method_of = Location, getter)]
    fn hash() -> JsString;
    #[wasm_bindgen(static_method_of = Location, getter)]
    fn search() -> JsString;
    #[wasm_bindgen(static_method_of = Location, getter)]
    fn pathname() -> JsValue;
    #[wasm_bindgen(static_method_of = Location, getter)]
    fn origin() -> JsValue;

    /// `history`: this page's session history.
    #[wasm_bindgen(js_name = history)]
    type History;
    #[wasm_bindgen(static_method_of = History, js_name = replaceState)]
    fn replace_state(data: &JsValue, unused: &str, url: &JsValue);

    /// `globalThis`: this page's window.
    #[wasm_bindgen(js_name = globalThis)]
    type Global;
    #[wasm_bindgen(static_method_of = Global, getter)]
    fn window() -> JsValue;
    #[wasm_bindgen(static_method_of = Global, getter)]
    fn parent() -> Window;

    type Window;
    #[wasm_bindgen(method, js_name = postMessage)]
    fn post_message(this: &Window, message: &JsValue, target_origin: &JsValue);

    /// `document`: this page.
    #[wasm_bindgen(js_name = document)]
    type Document;
    #[wasm_bindgen(static_method_of = Document, js_name = getElementById)]
    fn get_element_by_id(id: &str) -> Option<Element>;

    type Element;
    #[wasm_bindgen(method, js_name = removeAttribute)]
    fn remove_attribute(this: &Element, name: &str);

    #[wasm_bindgen(js_name = Object)]
    type Object;
    #[wasm_bindgen(constructor, js_class = "Object")]
    fn new() -> Object;
    #[wasm_bindgen(js_namespace = Reflect)]
    fn set(target: &Object, key: &str, value: &str);

    /// A JS string, left in JS until [`utf8`] copies it.
    type JsString;
    #[wasm_bindgen(method, getter)]
    fn length(this: &JsString) -> u32;

    type TextEncoder;
    #[wasm_bindgen(constructor)]
    fn new() -> TextEncoder;
    #[wasm_bindgen(method, js_name = encodeInto)]
    fn encode_into(this: &TextEncoder, source: &JsString, destination: &mut [u8]) -> Encoded;

    /// What `encodeInto` did.
    type Encoded;
    #[wasm_bindgen(method, getter)]
    fn written(this: &Encoded) -> u32;
}

#[wasm_bindgen(start)]
fn start() {
    // Nothing here can be reported to anyone but the parent: a failure (an exception from the browser, a
    // trap) leaves the parent to time out.
    let encoder = ManuallyDrop::new(TextEncoder::new());
    let hash = utf8(&encoder, &ManuallyDrop::new(Location::hash()));
    let search = utf8(&encoder, &ManuallyDrop::new(Location::search()));
    let params = select_params(hash, search);
    if !params.is_empty() {
        // Codes and tokens must not linger in the frame's URL (history, referrers, screenshots of devtools).
        let path = ManuallyDrop::new(Location::pathname());
        History::replace_state(&JsValue::NULL, "", &path);
    }

    let parent = ManuallyDrop::new(Global::parent());
    if **parent == *ManuallyDrop::new(Global::window()) {
        // Opened top-level: there is nobody to tell; explain the page instead.
        if let Some(note) = Document::get_element_by_id("standalone") {
            ManuallyDrop::new(note).remove_attribute("hidden");
        }
        return;
    }

    let message = ManuallyDrop::new(Object::new());
    set(&message, "type", MESSAGE_TYPE);
    // The one parser's checks, without copying anything out: the parent parses `params` again.
    match validate(params) {
        Ok(_) => set(&message, "params", params),
        Err(error) => set(&message, "error", error.code()),
    }
    // The app and its silent page share one origin, so the parent must be at our own origin: a page of any
    // other origin that frames us receives nothing (RFC 9700 §4.17: never "*").
    parent.post_message(&message, &ManuallyDrop::new(Location::origin()));
}

/// Copies a JS string into memory the page keeps, as UTF-8.
fn utf8(encoder: &TextEncoder, text: &JsString) -> &'static str {
    // A UTF-16 code unit takes at most 3 bytes of UTF-8 (a surrogate pair, two units, takes 4).
    let Some(buffer) = allocator::bytes((text.length() as usize).saturating_mul(3)) else {
        trap()
    };
    let written = ManuallyDrop::new(encoder.encode_into(text, buffer)).written();
    let buffer: &'static [u8] = buffer;
    match buffer.get(..written as usize) {
        // `encodeInto` writes UTF-8; checked all the same, so that no script can break `str`'s promise.
        // SAFETY: the bytes were just checked to be UTF-8.
        Some(bytes) if is_utf8_bytes(bytes) => unsafe { core::str::from_utf8_unchecked(bytes) },
        _ => trap(),
    }
}

/// The page runs once and is thrown away: a bump allocator that never frees is all it needs (a few
/// strings and wasm-bindgen's table of JS values), and keeps a general-purpose allocator out of the wasm.
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
