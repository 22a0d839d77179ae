//! Sign-in, session and sign-out.
//!
//! - [`protocol`]: pure OAuth 2.0 / OpenID Connect logic (no browser APIs; host-tested).
//! - [`browser`]: thin glue, one concern a file (random, WebCrypto, storage, fetch, navigation, clock).
//! - [`AuthClient`]: runs the protocol steps in order, deciding with `protocol` and acting with `browser`.
//! - [`AuthProvider`], [`use_auth`], [`RequireAuth`]: the Yew surface. App code uses only these: it never
//!   touches storage or tokens directly.
//!
//! ```no_run
//! use oidc_renew::auth::{use_auth, AuthProvider, RequireAuth};
//! use oidc_renew::config::Config;
//! use std::rc::Rc;
//! use yew::prelude::*;
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
//!     let text = r#"{"issuer": "https://example.eu.auth0.com/", "client_id": "abc"}"#;
//!     let config = Rc::new(Config::from_json(text).unwrap());
//!     html! {
//!         <AuthProvider {config}>
//!             <RequireAuth><Greeting /></RequireAuth>
//!         </AuthProvider>
//!     }
//! }
//! ```

pub mod browser;
mod client;
mod guard;
mod hooks;
mod keeper;
pub mod protocol;
mod provider;
pub mod renewer;
pub mod status;

pub use client::AuthClient;
pub use guard::{RequireAuth, RequireAuthProps};
pub use hooks::{use_auth, AuthHandle};
pub use provider::{AuthContext, AuthProvider, AuthProviderProps, AuthStore, StatusStore};
pub use renewer::{
    IframeRenewer, IframeRenewerProps, IgnoredMessage, SilentOutcome, SilentRequest,
};
pub use status::{LogEntry, LogKind, RenewalStatus};
