//! End-to-end tests: the built app (trunk `dist/`), the local OpenID provider (`tests/provider`) and
//! headless Chromium through chromedriver. One test binary; each test starts its own `Harness`.
//!
//! Run from the workspace root after `trunk build --release` and `npm ci` in `tests/provider`:
//!
//! ```text
//! cargo test -p e2e -- --test-threads=2
//! ```
//!
//! Environment: `E2E_DIST` (served directory, default `dist/`), `E2E_EXAMPLE_DIST` (the minimal
//! example's, default `examples/minimal/dist/`), `E2E_HOST` (`nginx`: serve it with nginx
//! and the deploy template), `CHROMEDRIVER`, `E2E_CHROMIUM`, `E2E_NGINX`, `E2E_SCREENSHOTS`.
//! See README.md beside this file.

// Each test module uses a different part of the fixture API.
#[allow(dead_code)]
mod fixtures;

mod auth;
mod doctor;
mod dpop;
mod engines;
mod example;
mod faults;
mod hostile;
mod logout;
mod refresh;
mod renewal;
mod screenshots;
mod skew;
mod smoke;
mod storage;
mod wake;
