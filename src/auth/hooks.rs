//! `use_auth()`: what app code uses to sign in and out and to read the session.

use super::browser::BrowserError;
use super::client::AuthClient;
use super::protocol::session::Session;
use super::protocol::state::{AuthEvent, AuthState, SignOutReason};
use super::provider::AuthContext;
use super::status::{RenewalStatus, StatusNote};
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
        super::keeper::announce_sign_out(&client);
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

    pub(crate) fn client(&self) -> &AuthClient {
        &self.context.client
    }

    pub(crate) fn dispatch(&self, event: AuthEvent) {
        self.context.store.dispatch(event);
    }

    /// Adds to the renewal status and event log (for sign-in steps outside the keeper).
    pub(crate) fn note(&self, note: StatusNote) {
        self.context.status.dispatch(note);
    }
}

/// The sign-in handle. Must be called below an [`AuthProvider`](super::AuthProvider).
#[hook]
pub fn use_auth() -> AuthHandle {
    let context =
        use_context::<AuthContext>().expect("use_auth() must be called below <AuthProvider>");
    AuthHandle { context }
}
