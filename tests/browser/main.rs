//! Browser tests (wasm-bindgen-test, headless Chromium): `cargo test --target wasm32-unknown-unknown`.
#![cfg(target_arch = "wasm32")]

mod common;
mod components;
mod crypto;
mod http;
mod navigation;
mod renewer;
mod storage;
mod tabs;
mod timeline;
mod wake;

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);
