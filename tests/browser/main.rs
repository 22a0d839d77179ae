//! Browser tests of the demo app's components (wasm-bindgen-test, headless Chromium):
//! `cargo test --target wasm32-unknown-unknown -p oidc-renew --test browser`. The library's own browser
//! tests (glue, renewer, tabs) live inside `yew-oidc` (src/tests/).
#![cfg(target_arch = "wasm32")]

mod common;
mod components;
mod timeline;

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);
