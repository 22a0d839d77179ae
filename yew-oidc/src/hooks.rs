//! `use_auth()`: what app code uses to sign in and out and to read the session.

use crate::browser::BrowserError;
use crate::provider::AuthContext;
use oidc_renew_core::session::Session;
use oidc_renew_core::state::{AuthEvent, AuthState, SignOutReason};
use oidc_renew_core::status::RenewalStatus;
use yew::prelude::*;

/// A handle on the sign-in state and actions. Cheap to clone; compare by state.
#[derive(Clone, PartialEq)]
pub struct AuthHandle {
    context: AuthContext,
}

impl AuthHandle {
    /// The current state.
    pub fn state(&self) -> &AuthState {
        &self.context.store.0
    }

    /// The session, while signed in.
    pub fn session(&self) -> Option<&Session> {
        match self.state() {
            AuthState::SignedIn(session) => Some(session),
            _ => None,
        }
    }

    /// The access token to send to APIs, while signed in.
    pub fn access_token(&self) -> Option<&str> {
        self.session().map(|session| session.access_token.as_str())
    }

    /// Whether a valid session is held.
    pub fn is_signed_in(&self) -> bool {
        self.session().is_some()
    }

    /// Starts a sign-in at the provider; the user comes back to `return_to` (an app path).
    pub fn login(&self, return_to: &str) {
        let (client, store) = (self.context.client.clone(), self.context.store.clone());
        let return_to = return_to.to_owned();
        store.dispatch(AuthEvent::LoginStarted);
        wasm_bindgen_futures::spawn_local(async move {
            if let Err(failure) = client.login(&return_to).await {
                store.dispatch(AuthEvent::Failed(failure));
            }
        });
    }

    /// Signs out here and at the provider. The state turns signed-out first, which stops every effect
    /// that depends on the session (renewal included) before the page navigates away.
    pub fn logout(&self) {
        let (client, store) = (self.context.client.clone(), self.context.store.clone());
        let id_token_hint = self.session().map(|session| session.id_token.clone());
        store.dispatch(AuthEvent::SignedOut(SignOutReason::UserLoggedOut));
        crate::keeper::announce_sign_out(&client);
        wasm_bindgen_futures::spawn_local(
            async move { client.logout(id_token_hint.as_deref()).await },
        );
    }

    /// Asks the session keeper for one silent renewal now, whatever the schedule says. Does nothing
    /// while a renewal runs or when not signed in; the result shows in [`status`](Self::status).
    pub fn renew_now(&self) {
        self.context.renew.fire();
    }

    /// Why the session is kept in this page's memory only (a reload signs the user out) although the
    /// configuration asks for `localStorage` or `sessionStorage`: the browser storage is unavailable or
    /// refused a read or write (quota exceeded, storage disabled). `None` while storage works. Read at
    /// render: a fallback happens while storing a session, before the state change that re-renders.
    pub fn storage_fallback(&self) -> Option<BrowserError> {
        self.context.client.storage_fallback()
    }

    /// The renewal status: next renewal, last result, the event log.
    pub fn status(&self) -> &RenewalStatus {
        &self.context.status.0
    }

    /// `GET url` with the access token (`Authorization: Bearer …`): the way to call the API the token is
    /// for. Any HTTP status is a response (a 401 says the API refused the token); an error means no
    /// response (offline, CORS refusal) or no session to call with. Sent without cookies or `Referer`.
    pub fn call_api(
        &self,
        url: &str,
    ) -> impl std::future::Future<Output = Result<ApiResponse, ApiError>> + 'static {
        let token = self.access_token().map(str::to_owned);
        let url = url.to_owned();
        async move {
            let token = token.ok_or(ApiError::NotSignedIn)?;
            crate::browser::http::get_with_bearer(&url, &token)
                .await
                .map(|response| ApiResponse {
                    status: response.status,
                    body: response.body,
                })
                .map_err(|error| ApiError::Unreachable(error.to_string()))
        }
    }
}

/// An API's answer to [`AuthHandle::call_api`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiResponse {
    /// The HTTP status.
    pub status: u16,
    /// The body, as text (at most 1 MiB is read).
    pub body: String,
}

/// Why [`AuthHandle::call_api`] got no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// No valid session: nothing to call with.
    NotSignedIn,
    /// No response: offline, DNS, refused connection, a CORS refusal (the browser does not tell which),
    /// or a body over 1 MiB; the browser's description.
    Unreachable(String),
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApiError::NotSignedIn => f.write_str("not signed in"),
            ApiError::Unreachable(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for ApiError {}

/// The sign-in handle below an [`AuthProvider`](crate::AuthProvider), or `None` elsewhere (a page that
/// also renders when the app could not start, such as a setup doctor).
#[hook]
pub fn use_optional_auth() -> Option<AuthHandle> {
    use_context::<AuthContext>().map(|context| AuthHandle { context })
}

/// The sign-in handle. Must be called below an [`AuthProvider`](crate::AuthProvider).
#[hook]
pub fn use_auth() -> AuthHandle {
    let context =
        use_context::<AuthContext>().expect("use_auth() must be called below <AuthProvider>");
    AuthHandle { context }
}
