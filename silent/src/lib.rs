//! The project's one parser of OAuth 2.0 / OpenID Connect callbacks, and the silent-renewal page.
//!
//! Two users, one parser:
//! - the silent page at `/silent/` (feature `bundle`, a tiny wasm of its own) reads the callback from its
//!   URL, parses it, and posts it to the app framing it;
//! - the app parses its own sign-in callback, and decodes the silent page's messages, with the same code.
//!
//! The modules [`parse`] and [`message`] are pure (no browser APIs) and tested on the host. They need only
//! `core` and `alloc`: the page's wasm is `no_std`, which keeps the standard library's allocator, panic and
//! formatting machinery out of it.

#![cfg_attr(all(feature = "bundle", target_arch = "wasm32"), no_std)]

extern crate alloc;

pub mod message;
pub mod parse;

#[cfg(all(feature = "bundle", target_arch = "wasm32"))]
mod bundle;

pub use message::{decode_message, DecodeError, SilentMessage, MESSAGE_TYPE};
pub use parse::{parse_callback, select_params, Callback, Outcome, ParseError, Tokens};

// The README's examples are compiled and run as doctests, so the quick start cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
