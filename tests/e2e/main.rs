//! End-to-end tests: the built app (trunk `dist/`), the local OpenID provider (`tests/provider`) and
//! headless Chromium through chromedriver. One test binary; each test starts its own `Harness`.
//!
//! Run from the workspace root after `trunk build --release` and `npm ci` in `tests/provider`:
//!
//! ```text
//! cargo test -p e2e -- --test-threads=2
//! ```
//!
//! Environment: `E2E_DIST` (served directory, default `dist/`), `CHROMEDRIVER`, `E2E_CHROMIUM`.
//! See README.md beside this file.

// Each test module uses a different part of the fixture API.
#[allow(dead_code)]
mod fixtures;

mod auth;
mod renewal;
mod smoke;
