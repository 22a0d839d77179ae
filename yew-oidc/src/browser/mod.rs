//! Thin browser glue for sign-in: one concern a file, no protocol decisions.
//!
//! Everything here takes and returns plain Rust values (bytes, strings, numbers), so the pure protocol
//! module never sees a browser type and this module never sees a protocol type:
//!
//! - [`random`]: `crypto.getRandomValues` (state, nonce, PKCE verifier).
//! - [`crypto`]: WebCrypto SHA-256 and JWS signature verification (RS256, ES256).
//! - `dpop_keys` (with the `dpop` feature): the DPoP key pair (non-extractable ECDSA P-256), its
//!   signatures, its IndexedDB store.
//! - [`clock`]: the wall clock (`Date.now()`).
//! - [`storage`]: namespaced `localStorage` / `sessionStorage` / in-memory key-value store.
//! - [`http`]: `fetch` with a bounded response body.
//! - [`navigation`]: reading, stripping and leaving the page's URL.
//! - [`tabs`]: coordination between tabs: an exclusive lock (Web Locks) and a message bus
//!   (`BroadcastChannel`), each with a localStorage fallback.
//! - [`wake`]: the moments to look at the wall clock again (visible, shown, online, focus, periodic).
//! - [`error`]: [`BrowserError`], the error of every fallible call here except `fetch` ([`http::HttpError`]).
//!
//! Implementation notes: no call here panics on a browser failure (missing `window`, insecure context,
//! disabled storage, a throwing API); each returns a typed error or, where the signature has no room for
//! one, a documented fallback. Values read from storage and from the network are returned as they are,
//! unchecked: deciding whether they make sense is the protocol layer's job. Nothing here logs a token.

pub mod clock;
pub mod crypto;
#[cfg(feature = "dpop")]
pub mod dpop_keys;
pub mod error;
pub mod http;
pub(crate) mod listener;
pub mod navigation;
pub mod random;
pub mod storage;
pub mod tabs;
pub mod wake;

pub use error::BrowserError;

use std::future::Future;
use std::pin::Pin;

/// Runs `task` on the page's event loop (`wasm_bindgen_futures::spawn_local`). Every task of the
/// library goes through one boxed instantiation of the executor's generic spawn: each distinct
/// future type given to it directly would copy that code into the bundle again.
pub(crate) fn spawn(task: impl Future<Output = ()> + 'static) {
    spawn_boxed(Box::pin(task));
}

#[inline(never)]
fn spawn_boxed(task: Pin<Box<dyn Future<Output = ()>>>) {
    wasm_bindgen_futures::spawn_local(task);
}
