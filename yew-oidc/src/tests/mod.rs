//! Browser tests of the glue and the components (wasm-bindgen-test, in a headless browser):
//! `cargo test --target wasm32-unknown-unknown -p yew-oidc --lib`. They live inside the crate because
//! they test its internals (WebCrypto, storage, fetch, navigation, the renewer, tabs, wake-ups). With
//! `--no-default-features` the build without DPoP runs them, and `without_dpop` instead of `dpop`.

mod common;
mod crypto;
#[cfg(feature = "dpop")]
mod dpop;
mod http;
mod navigation;
mod provider;
mod renewer;
mod storage;
mod tabs;
mod wake;
#[cfg(not(feature = "dpop"))]
mod without_dpop;

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);
