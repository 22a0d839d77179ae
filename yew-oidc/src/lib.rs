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
//! 3. Serve the silent page at `/silent/` (see the README).
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
mod driver;
mod guard;
mod hooks;
mod provider;
mod renewer;

#[cfg(all(test, target_arch = "wasm32"))]
mod tests;

pub use oidc_renew_core as core;
pub use oidc_renew_core::config::{AuthConfig, ConfigError, Flow, ProviderKind, StorageKind};
pub use oidc_renew_core::id_token::IdClaims;
pub use oidc_renew_core::renewal::{RenewalClass, RenewalError};
pub use oidc_renew_core::session::Session;
pub use oidc_renew_core::state::{AuthFailure, AuthState, SignOutReason};
pub use oidc_renew_core::status::{IgnoredMessage, LogEntry, LogKind, RenewalStatus, TokenSpan};

pub use guard::{RequireAuth, RequireAuthProps};
pub use hooks::{use_auth, use_optional_auth, ApiError, ApiResponse, AuthHandle};
pub use provider::{AuthProvider, AuthProviderProps};
pub use renewer::{IframeRenewer, IframeRenewerProps, SilentOutcome, SilentRequest};
