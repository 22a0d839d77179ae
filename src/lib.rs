//! The demo app: a Yew single-page app signed in through OpenID Connect, whose session is kept alive by
//! silent renewal. It uses the `yew-oidc` library through its public API only, like any other app.
//!
//! Layout: [`config`] is pure (`config.json`: the library's configuration plus `api_url`); [`doctor`] is
//! pure too (the setup doctor's verdicts, host-tested); [`app`] holds the root component and the routes;
//! [`pages`] the screens. Two bundles: the app ([`start`], `src/main.rs`) and the setup doctor's page
//! ([`start_doctor`], `doctor/main.rs`): neither links the other's code.

pub mod app;
pub mod config;
pub mod doctor;
pub mod pages;

/// Mounts the app on `<body>`.
pub fn start() {
    yew::Renderer::<app::App>::new().render();
}

/// Mounts the setup doctor's page (`/doctor/`, a bundle of its own) on `<body>`.
pub fn start_doctor() {
    yew::Renderer::<pages::DoctorApp>::new().render();
}

// The allocator of both bundles (and of the browser test suite): smaller than Rust's default dlmalloc
// (about 3 KB gzip off each bundle), and faster. Only where wasm has one thread, as in the browser.
#[cfg(all(target_family = "wasm", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();
