//! OpenID Connect sign-in for Yew apps, with a session that never drops.
//!
//! Authorization Code + PKCE (RFC 9700) through any OpenID provider found by discovery, id_tokens
//! verified in the browser (WebCrypto, JWKS), and a session kept alive by silent renewal in a hidden
//! iframe before the access token expires: re-decided from the wall clock at every wake-up (sleep,
//! background tabs), retried with backoff through outages, one renewal at a time across tabs.
//!
//! # Use it in your app
//!
//! 1. Wrap the app in [`AuthProvider`] with an [`AuthConfig`]. The provider restores a stored session,
//!    finishes a sign-in when the page is the configured callback path (`/callback`; no page of yours
//!    is needed there), and renews the session before it expires.
//! 2. Read the session and act through [`use_auth`]; guard pages with [`RequireAuth`].
//! 3. Serve the silent page, [`SILENT_PAGE_HTML`], at `/silent/`: with trunk, one line in your
//!    `index.html` copies it into `dist/silent/`.
//! 4. Register `<origin>/callback` and `<origin>/silent/` as redirect URIs at the provider.
//!
//! ```no_run
//! use yew::prelude::*;
//! use yew_oidc::{use_auth, AuthConfig, AuthProvider, RequireAuth};
//!
//! #[function_component(Greeting)]
//! fn greeting() -> Html {
//!     let auth = use_auth();
//!     let name = auth.session().and_then(|s| s.claims.name.clone()).unwrap_or_default();
//!     let logout = Callback::from(move |_| auth.logout());
//!     html! { <p>{ "Hello, " }{ name }<button onclick={logout}>{ "Log out" }</button></p> }
//! }
//!
//! #[function_component(App)]
//! fn app() -> Html {
//!     let config = AuthConfig::new("https://example.eu.auth0.com/", "my-client-id");
//!     html! {
//!         <AuthProvider config={std::rc::Rc::new(config)}>
//!             <RequireAuth><Greeting /></RequireAuth>
//!         </AuthProvider>
//!     }
//! }
//! ```
//!
//! # What is inside
//!
//! The decisions are pure and live in [`oidc_renew_core`] (re-exported as [`core`]): the protocol
//! (discovery, PKCE, authorize, token and logout requests, id_token validation) and the session
//! policy. This crate carries them out in the browser: thin glue over WebCrypto, storage, fetch, Web
//! Locks and BroadcastChannel, and the Yew components. App code never touches storage or tokens
//! directly.

mod browser;
mod client;
pub mod diagnostics;
mod dpop;
mod driver;
mod guard;
mod hooks;
mod provider;
mod renewer;
mod small_map;

#[cfg(all(test, target_arch = "wasm32"))]
mod tests;

pub use oidc_renew_core as core;
pub use oidc_renew_core::config::{
    AuthConfig, ConfigError, Flow, ProviderKind, RenewalMode, StorageKind,
};
pub use oidc_renew_core::dpop::{DpopMode, TokenType};
pub use oidc_renew_core::id_token::IdClaims;
pub use oidc_renew_core::renewal::{Channel, RenewalClass, RenewalError};
pub use oidc_renew_core::session::Session;
pub use oidc_renew_core::state::{AuthFailure, AuthState, SignOutReason};
pub use oidc_renew_core::status::{IgnoredMessage, LogEntry, LogKind, RenewalStatus, TokenSpan};

pub use guard::{RequireAuth, RequireAuthProps};
pub use hooks::{fetch_app_file, use_auth, use_optional_auth, ApiError, ApiResponse, AuthHandle};
pub use provider::{AuthProvider, AuthProviderProps};
pub use renewer::{IframeRenewer, IframeRenewerProps, SilentOutcome, SilentRequest};

/// Whether this build has DPoP (RFC 9449): yew-oidc's `dpop` feature, on by default. Without it the
/// app is about 16 KB gzip lighter, the `dpop` setting "auto" means off, and "on" fails sign-in with
/// a message that says so.
pub const DPOP_BUILT: bool = cfg!(feature = "dpop");

/// The silent page: the finished one-file page where silent renewal lands (`/silent/`, the
/// configuration's `silent_redirect_path`), this crate's `silent/index.html`.
///
/// It reads the authorization response in its URL, removes it from the URL, and posts it to the parent
/// window at its own origin (never `"*"`), where [`IframeRenewer`] checks it. Its script and a tiny
/// wasm are inline: one request, about 4 kB gzip, no other file. Serve it as a page of its own: a host
/// that answers `/silent/` with the app's `index.html` boots the app inside the renewal frame, and the
/// session ends at the first expiry.
///
/// With trunk and yew-oidc as a path dependency, one line in your `index.html` copies it into
/// `dist/silent/index.html` (`href` is relative to your `index.html`):
///
/// ```html
/// <link data-trunk rel="copy-file" href="../yew-oidc/silent/index.html" data-target-path="silent" />
/// ```
///
/// With a git or crates.io dependency, keep a copy in your app (`silent/index.html`, and
/// `href="silent/index.html"` in that line), written and kept current by a test of your app:
///
/// ```no_run
/// # fn silent_page_is_current() {
/// // The body of a `#[test]` in your app (`cargo test` writes the file, then passes):
/// let file = concat!(env!("CARGO_MANIFEST_DIR"), "/silent/index.html");
/// if std::fs::read_to_string(file).ok().as_deref() != Some(yew_oidc::SILENT_PAGE_HTML) {
///     std::fs::create_dir_all(std::path::Path::new(file).parent().unwrap()).unwrap();
///     std::fs::write(file, yew_oidc::SILENT_PAGE_HTML).unwrap();
///     panic!("silent/index.html was missing or stale: written now, commit it");
/// }
/// # }
/// ```
///
/// Any other bundler or host: serve these bytes at `/silent/` as `text/html` (e.g. as
/// `silent/index.html` in the folder you deploy). Under a Content-Security-Policy, allow its inline
/// script by its hash and `'wasm-unsafe-eval'`.
///
/// The repository builds it from the `silent-callback` crate (`tools/build-silent`: Rust, wasm-opt,
/// terser); its test suite rebuilds it and fails if one byte differs from this copy.
pub const SILENT_PAGE_HTML: &str = include_str!("../silent/index.html");

// The README's examples are compiled and run as doctests, so the quick start cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
