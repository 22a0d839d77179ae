//! `use_auth()`: what app code uses to sign in and out and to read the session.

use crate::browser::BrowserError;
use crate::dpop::DpopFailure;
use crate::provider::AuthContext;
use oidc_renew_core::dpop::{DpopError, Server, TokenType};
use oidc_renew_core::keeper::Input;
use oidc_renew_core::session::Session;
use oidc_renew_core::state::AuthState;
use oidc_renew_core::status::RenewalStatus;
use yew::prelude::*;

/// A handle on the sign-in state and actions. Cheap to clone.
///
/// The state is read when the handle is made (at render, by [`use_auth`]) and judged against the
/// wall clock then: a session past its expiry is [`AuthState::Expired`] ("restoring") even before the
/// session keeper has woken up to renew it (a laptop just out of sleep), so an expired access token
/// is never handed out.
#[derive(Clone, PartialEq)]
pub struct AuthHandle {
    context: AuthContext,
    state: AuthState,
}

impl AuthHandle {
    fn new(context: AuthContext) -> AuthHandle {
        let now = crate::browser::clock::now_ms();
        let state = match &context.view.state {
            AuthState::SignedIn(session) if session.is_expired(now) => {
                AuthState::Expired(session.clone())
            }
            state => state.clone(),
        };
        AuthHandle { context, state }
    }

    /// The current state.
    pub fn state(&self) -> &AuthState {
        &self.state
    }

    /// The session, while signed in (never an expired one).
    pub fn session(&self) -> Option<&Session> {
        match self.state() {
            AuthState::SignedIn(session) => Some(session),
            _ => None,
        }
    }

    /// The access token to send to APIs, while signed in (never an expired one).
    pub fn access_token(&self) -> Option<&str> {
        self.session().map(|session| session.access_token.as_str())
    }

    /// Whether a valid session is held.
    pub fn is_signed_in(&self) -> bool {
        self.session().is_some()
    }

    /// Starts a sign-in at the provider; the user comes back to `return_to` (an app path).
    pub fn login(&self, return_to: &str) {
        self.feed(Input::LoginRequested {
            return_to: return_to.to_owned(),
        });
    }

    /// Signs out here, in the other tabs and at the provider. Renewal stops at once.
    pub fn logout(&self) {
        self.feed(Input::LogoutRequested);
    }

    /// Asks for one silent renewal now, whatever the schedule says. Does nothing while a renewal
    /// runs or when not signed in; the result shows in [`status`](Self::status).
    pub fn renew_now(&self) {
        self.feed(Input::RenewNow);
    }

    /// Why the session is kept in this page's memory only (a reload signs the user out) although the
    /// configuration asks for `localStorage` or `sessionStorage`: the browser storage is unavailable or
    /// refused a read or write (quota exceeded, storage disabled). `None` while storage works.
    pub fn storage_fallback(&self) -> Option<BrowserError> {
        self.context
            .driver
            .as_ref()
            .and_then(|driver| driver.client().storage_fallback())
    }

    /// The renewal status: next renewal, last result, the event log.
    pub fn status(&self) -> &RenewalStatus {
        &self.context.view.status
    }

    fn feed(&self, input: Input) {
        if let Some(driver) = &self.context.driver {
            driver.feed(input);
        }
    }

    /// How the access token is sent: `Bearer`, or `DPoP` (bound to this browser's key: each request
    /// needs a proof, which [`call_api`](Self::call_api) makes). `None` while not signed in.
    pub fn token_type(&self) -> Option<TokenType> {
        self.session().map(|session| session.token_type)
    }

    /// `GET url` with the access token: the way to call the API the token is for. A bearer token goes
    /// as `Authorization: Bearer …`; a DPoP-bound one as `Authorization: DPoP …` with a `DPoP` proof
    /// signed by this browser's key (with `ath`, the token's hash), and the API's nonce challenge
    /// (`use_dpop_nonce`) answered by one retry. Any HTTP status is a response (a 401 says the API
    /// refused the token); an error means no response (offline, CORS refusal), no session to call
    /// with, or no proof (the key is gone). Sent without cookies or `Referer`.
    pub fn call_api(
        &self,
        url: &str,
    ) -> impl std::future::Future<Output = Result<ApiResponse, ApiError>> + 'static {
        let session = self.session().cloned();
        let dpop = self
            .context
            .driver
            .as_ref()
            .map(|driver| driver.client().dpop().clone());
        let url = url.to_owned();
        async move {
            let session = session.ok_or(ApiError::NotSignedIn)?;
            let token = &session.access_token;
            let response = match (&session.dpop_jkt, dpop) {
                (None, _) => crate::browser::http::get_with_bearer(&url, token)
                    .await
                    .map_err(|error| ApiError::Unreachable(error.to_string()))?,
                (Some(jkt), Some(dpop)) => {
                    let key = dpop
                        .key(jkt)
                        .await
                        .map_err(|failure| ApiError::Proof(failure.to_string()))?
                        .ok_or_else(|| ApiError::Proof(DpopError::KeyMissing.to_string()))?;
                    dpop.send(&key, Server::Resource, "GET", &url, &[], None, Some(token))
                        .await
                        .map_err(|failure| match failure {
                            DpopFailure::Http { error, .. } => {
                                ApiError::Unreachable(error.to_string())
                            }
                            other => ApiError::Proof(other.to_string()),
                        })?
                }
                (Some(_), None) => return Err(ApiError::Proof(DpopError::KeyMissing.to_string())),
            };
            Ok(ApiResponse {
                status: response.status,
                body: response.body,
            })
        }
    }
}

/// `GET url` of one of the app's own files, such as its `config.json` (read at start, so that one build
/// serves every environment): the app needs no HTTP client of its own. Sent as the browser fetches a
/// page's resources, and as a `<link rel="preload" href="/config.json" as="fetch" crossorigin>` does, so
/// that such a preload answers it (CORS mode, same-origin credentials, the HTTP cache as usual). Any
/// HTTP status is a response; at most 1 MiB of body is read.
pub async fn fetch_app_file(url: &str) -> Result<ApiResponse, ApiError> {
    crate::browser::http::get_app_file(url)
        .await
        .map(|response| ApiResponse {
            status: response.status,
            body: response.body,
        })
        .map_err(|error| ApiError::Unreachable(error.to_string()))
}

/// An answer to [`AuthHandle::call_api`] or [`fetch_app_file`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiResponse {
    /// The HTTP status.
    pub status: u16,
    /// The body, as text (at most 1 MiB is read).
    pub body: String,
}

/// Why [`AuthHandle::call_api`] or [`fetch_app_file`] got no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// No valid session: nothing to call with.
    NotSignedIn,
    /// No response: offline, DNS, refused connection, a CORS refusal (the browser does not tell which),
    /// or a body over 1 MiB; the browser's description.
    Unreachable(String),
    /// The session's tokens are DPoP-bound and no proof could be made (the key is gone from this
    /// browser, or WebCrypto refused); what went wrong.
    Proof(String),
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApiError::NotSignedIn => f.write_str("not signed in"),
            ApiError::Unreachable(why) => f.write_str(why),
            ApiError::Proof(why) => write!(f, "no DPoP proof: {why}"),
        }
    }
}

impl std::error::Error for ApiError {}

/// The sign-in handle below an [`AuthProvider`](crate::AuthProvider), or `None` elsewhere (a page that
/// also renders when the app could not start, such as a setup doctor).
#[hook]
pub fn use_optional_auth() -> Option<AuthHandle> {
    use_context::<AuthContext>().map(AuthHandle::new)
}

/// The sign-in handle. Must be called below an [`AuthProvider`](crate::AuthProvider).
#[hook]
pub fn use_auth() -> AuthHandle {
    let context =
        use_context::<AuthContext>().expect("use_auth() must be called below <AuthProvider>");
    AuthHandle::new(context)
}
