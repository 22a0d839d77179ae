//! The auth state machine: a pure reducer from (state, event) to the next state. The provider
//! component holds the state and dispatches events; effects (storage, navigation, renewal) follow
//! from the state at the edge, never from inside [`reduce`].
//!
//! Transitions (anything not listed leaves the state unchanged):
//!
//! | from | event | to |
//! |---|---|---|
//! | any | `SignedOut(reason)` | `SignedOut { reason }` |
//! | any | `Failed(failure)` | `Failed(failure)` |
//! | any | `LoginStarted` | `SigningIn` |
//! | any | `SignedIn(session)` | `SignedIn(session)` |
//! | `Loading` | `Restored(Some(session))` | `SignedIn(session)` |
//! | `Loading` | `Restored(None)` | `SignedOut { reason: None }` |
//! | `Loading`, `SignedIn`, `Expired` | `Renewed(session)`, same `sub` | `SignedIn(session)` |
//! | `SignedIn`, `Expired` | `Renewed(session)`, another `sub` | `Failed` (subject changed) |
//! | `SignedIn` | `TimePassed` past expiry | `Expired(session)` |
//!
//! Ignored on purpose: `Restored` after start-up (only the first restore counts); `Renewed` while
//! `SignedOut`, `SigningIn` or `Failed` (a renewal that finishes after logout must not sign the
//! user back in); `TimePassed` outside `SignedIn`. `Restored(Some(expired))` gives `SignedIn`: the
//! caller follows it with `TimePassed` (or a renewal), since only the caller knows the time.

use super::callback::CallbackError;
use super::discovery::DiscoveryError;
use super::dpop::DpopError;
use super::id_token::IdTokenError;
use super::jwks::JwksError;
use super::jwt::JwtError;
use super::session::{Session, StoredSessionError};
use super::token::TokenError;
use super::transaction::TransactionError;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Where sign-in stands.
#[derive(Clone, Debug, PartialEq)]
pub enum AuthState {
    /// Start-up: the stored session is being restored.
    Loading,
    /// No session; `reason` says why, when there is one to tell the user.
    SignedOut {
        /// Why the session ended; `None` when there never was one.
        reason: Option<SignOutReason>,
    },
    /// On the way to or back from the provider.
    SigningIn,
    /// A session whose access token is valid.
    SignedIn(Session),
    /// A session whose access token has expired: renewal may still bring it back, else the user
    /// signs in again.
    Expired(Session),
    /// Sign-in failed; the failure says what to do.
    Failed(AuthFailure),
}

impl AuthState {
    /// Whether a valid session is held (`SignedIn`).
    pub fn is_signed_in(&self) -> bool {
        matches!(self, AuthState::SignedIn(_))
    }

    /// The session, valid or expired.
    pub fn session(&self) -> Option<&Session> {
        match self {
            AuthState::SignedIn(session) | AuthState::Expired(session) => Some(session),
            _ => None,
        }
    }

    /// The access token to send to APIs, while signed in (never an expired one).
    pub fn access_token(&self) -> Option<&str> {
        match self {
            AuthState::SignedIn(session) => Some(&session.access_token),
            _ => None,
        }
    }
}

/// What happened.
#[derive(Clone, Debug, PartialEq)]
pub enum AuthEvent {
    /// Start-up restore finished: the stored session, or none.
    Restored(Option<Session>),
    /// The user set off to sign in.
    LoginStarted,
    /// A sign-in completed (here, or adopted from another tab).
    SignedIn(Session),
    /// A renewal produced a new session for the same user.
    Renewed(Session),
    /// Something failed that ends sign-in or the session.
    Failed(AuthFailure),
    /// The clock was read: a signed-in session past its expiry turns `Expired`.
    TimePassed {
        /// Now, in milliseconds since the Unix epoch.
        now_ms: u64,
    },
    /// The session ended.
    SignedOut(SignOutReason),
}

/// Why a session ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SignOutReason {
    /// The user logged out.
    UserLoggedOut,
    /// The session expired and could not be renewed.
    SessionExpired,
    /// The stored session was damaged or absurd and was discarded.
    StoredSessionInvalid,
    /// The user logged out in another tab.
    OtherTab,
    /// The user logged out, but only here: the provider offers no logout endpoint.
    ProviderLogoutUnsupported,
    /// The user logged out, but only here: the provider could not be reached.
    ProviderUnreachable,
    /// The user logged out and went to the provider, but came back without the provider's
    /// confirmation (the `state` sent).
    ProviderLogoutUnconfirmed,
}

impl SignOutReason {
    /// What to tell the user.
    pub fn message(self) -> &'static str {
        match self {
            SignOutReason::UserLoggedOut => "You are signed out.",
            SignOutReason::SessionExpired => "Your session has expired. Sign in again.",
            SignOutReason::StoredSessionInvalid => {
                "Your saved session could not be read. Sign in again."
            }
            SignOutReason::OtherTab => "You signed out in another tab.",
            SignOutReason::ProviderLogoutUnsupported => {
                "You are signed out of this app only: the sign-in provider offers apps no way to end \
                 your session there, so it may still be open, and the next \"Log in\" may not ask \
                 for your password. To end it, sign out on the provider's own site, or clear this \
                 browser's cookies for it."
            }
            SignOutReason::ProviderUnreachable => {
                "You are signed out of this app only: the sign-in provider could not be reached to \
                 end your session there, so it may still be open, and the next \"Log in\" may not \
                 ask for your password. To end it, sign out on the provider's own site, or clear \
                 this browser's cookies for it."
            }
            SignOutReason::ProviderLogoutUnconfirmed => {
                "You are signed out of this app, but the sign-in provider did not confirm that it \
                 ended your session there: it may still be open, and the next \"Log in\" may not \
                 ask for your password. To end it, log in and log out again, or sign out on the \
                 provider's own site."
            }
        }
    }
}

/// A failure to show: `message` for the user (a sentence that says what to do), `detail` for
/// the console and bug reports. Built `From` every protocol error: the message is the error's
/// `Display` as a sentence, the detail names the layer and the error's debug form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthFailure {
    /// User-facing: what went wrong and what to do.
    pub message: String,
    /// Technical: the layer and the error, for logs.
    pub detail: String,
}

impl AuthFailure {
    /// A failure from its two parts.
    pub fn new(message: impl Into<String>, detail: impl Into<String>) -> AuthFailure {
        AuthFailure {
            message: message.into(),
            detail: detail.into(),
        }
    }

    fn from_error<E: fmt::Display + fmt::Debug>(layer: &str, error: &E) -> AuthFailure {
        AuthFailure {
            message: sentence(&error.to_string()),
            detail: format!("{layer}: {error:?}"),
        }
    }
}

impl fmt::Display for AuthFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// `the provider ...: sign in again` -> `The provider ...: sign in again.` The messages are this
/// crate's, in English: only an ASCII first letter is capitalized (`char::to_uppercase` would compile
/// Unicode's case table, about 13 KB, into every app).
fn sentence(text: &str) -> String {
    let mut sentence = text.to_owned();
    if let Some(first) = sentence.get_mut(..1) {
        first.make_ascii_uppercase();
    }
    if !sentence.ends_with(['.', '!', '?']) {
        sentence.push('.');
    }
    sentence
}

macro_rules! failure_from {
    ($($error:ty => $layer:literal),* $(,)?) => {$(
        impl From<$error> for AuthFailure {
            fn from(error: $error) -> AuthFailure {
                AuthFailure::from_error($layer, &error)
            }
        }
    )*};
}

failure_from! {
    CallbackError => "callback",
    TokenError => "token",
    IdTokenError => "id_token",
    DiscoveryError => "discovery",
    TransactionError => "transaction",
    JwksError => "jwks",
    JwtError => "jwt",
    StoredSessionError => "stored session",
    DpopError => "dpop",
}

/// The next state after `event`. See the module documentation for the table.
pub fn reduce(state: &AuthState, event: AuthEvent) -> AuthState {
    use AuthEvent as E;
    use AuthState as S;
    match (state, event) {
        (_, E::SignedOut(reason)) => S::SignedOut {
            reason: Some(reason),
        },
        (_, E::Failed(failure)) => S::Failed(failure),
        (_, E::LoginStarted) => S::SigningIn,
        (_, E::SignedIn(session)) => S::SignedIn(session),
        (S::Loading, E::Restored(Some(session))) => S::SignedIn(session),
        (S::Loading, E::Restored(None)) => S::SignedOut { reason: None },
        (S::Loading, E::Renewed(session)) => S::SignedIn(session),
        (S::SignedIn(current) | S::Expired(current), E::Renewed(session)) => {
            if session.claims.sub == current.claims.sub {
                S::SignedIn(session)
            } else {
                S::Failed(IdTokenError::SubjectChanged.into())
            }
        }
        (S::SignedIn(current), E::TimePassed { now_ms }) if current.is_expired(now_ms) => {
            S::Expired(current.clone())
        }
        (state, _) => state.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support;

    const NOW_MS: u64 = 1_700_000_000_000;

    fn session(sub: &str, access_token: &str) -> Session {
        let mut claims = test_support::claims(1_700_000_000);
        claims.sub = sub.into();
        Session::new(
            access_token.into(),
            "a.b.c".into(),
            Some(300),
            None,
            claims,
            NOW_MS,
        )
    }

    fn failure() -> AuthFailure {
        AuthFailure::new("Sign-in failed.", "test")
    }

    fn check(state: AuthState, event: AuthEvent, expected: AuthState) {
        let label = format!("{state:?} + {event:?}");
        assert_eq!(reduce(&state, event), expected, "{label}");
    }

    #[test]
    fn transition_table() {
        let a1 = session("alice", "at-1");
        let a2 = session("alice", "at-2");
        let bob = session("bob", "at-b");
        let signed_out = |reason| AuthState::SignedOut { reason };
        let states = [
            AuthState::Loading,
            signed_out(None),
            signed_out(Some(SignOutReason::UserLoggedOut)),
            AuthState::SigningIn,
            AuthState::SignedIn(a1.clone()),
            AuthState::Expired(a1.clone()),
            AuthState::Failed(failure()),
        ];
        // Events every state obeys.
        for state in &states {
            check(
                state.clone(),
                AuthEvent::SignedOut(SignOutReason::OtherTab),
                signed_out(Some(SignOutReason::OtherTab)),
            );
            check(
                state.clone(),
                AuthEvent::Failed(failure()),
                AuthState::Failed(failure()),
            );
            check(state.clone(), AuthEvent::LoginStarted, AuthState::SigningIn);
            check(
                state.clone(),
                AuthEvent::SignedIn(bob.clone()),
                AuthState::SignedIn(bob.clone()),
            );
        }

        let table: Vec<(AuthState, AuthEvent, AuthState)> = vec![
            // Start-up.
            (
                AuthState::Loading,
                AuthEvent::Restored(Some(a1.clone())),
                AuthState::SignedIn(a1.clone()),
            ),
            (
                AuthState::Loading,
                AuthEvent::Restored(None),
                signed_out(None),
            ),
            // Memory storage: the session is restored by a silent renewal.
            (
                AuthState::Loading,
                AuthEvent::Renewed(a1.clone()),
                AuthState::SignedIn(a1.clone()),
            ),
            (
                AuthState::Loading,
                AuthEvent::TimePassed { now_ms: u64::MAX },
                AuthState::Loading,
            ),
            // Renewal.
            (
                AuthState::SignedIn(a1.clone()),
                AuthEvent::Renewed(a2.clone()),
                AuthState::SignedIn(a2.clone()),
            ),
            (
                AuthState::Expired(a1.clone()),
                AuthEvent::Renewed(a2.clone()),
                AuthState::SignedIn(a2.clone()),
            ),
            (
                AuthState::SignedIn(a1.clone()),
                AuthEvent::Renewed(bob.clone()),
                AuthState::Failed(IdTokenError::SubjectChanged.into()),
            ),
            (
                AuthState::Expired(a1.clone()),
                AuthEvent::Renewed(bob.clone()),
                AuthState::Failed(IdTokenError::SubjectChanged.into()),
            ),
            // Expiry.
            (
                AuthState::SignedIn(a1.clone()),
                AuthEvent::TimePassed {
                    now_ms: NOW_MS + 299_999,
                },
                AuthState::SignedIn(a1.clone()),
            ),
            (
                AuthState::SignedIn(a1.clone()),
                AuthEvent::TimePassed {
                    now_ms: NOW_MS + 300_000,
                },
                AuthState::Expired(a1.clone()),
            ),
            // A clock that went back does not revive an expired session.
            (
                AuthState::Expired(a1.clone()),
                AuthEvent::TimePassed { now_ms: NOW_MS },
                AuthState::Expired(a1.clone()),
            ),
            // Ignored: a late renewal after logout, during sign-in, or after a failure.
            (
                signed_out(Some(SignOutReason::UserLoggedOut)),
                AuthEvent::Renewed(a2.clone()),
                signed_out(Some(SignOutReason::UserLoggedOut)),
            ),
            (
                AuthState::SigningIn,
                AuthEvent::Renewed(a2.clone()),
                AuthState::SigningIn,
            ),
            (
                AuthState::Failed(failure()),
                AuthEvent::Renewed(a2.clone()),
                AuthState::Failed(failure()),
            ),
            // Ignored: a second restore.
            (
                signed_out(None),
                AuthEvent::Restored(Some(a1.clone())),
                signed_out(None),
            ),
            (
                AuthState::SignedIn(a1.clone()),
                AuthEvent::Restored(None),
                AuthState::SignedIn(a1.clone()),
            ),
            (
                AuthState::SigningIn,
                AuthEvent::Restored(Some(a1.clone())),
                AuthState::SigningIn,
            ),
            // Ignored: time outside SignedIn.
            (
                signed_out(None),
                AuthEvent::TimePassed { now_ms: NOW_MS },
                signed_out(None),
            ),
            (
                AuthState::SigningIn,
                AuthEvent::TimePassed { now_ms: u64::MAX },
                AuthState::SigningIn,
            ),
        ];
        for (state, event, expected) in table {
            check(state, event, expected);
        }
    }

    #[test]
    fn helpers() {
        let a1 = session("alice", "at-1");
        let check = |state: AuthState, signed_in: bool, has_session: bool, token: Option<&str>| {
            assert_eq!(state.is_signed_in(), signed_in, "{state:?}");
            assert_eq!(state.session().is_some(), has_session, "{state:?}");
            assert_eq!(state.access_token(), token, "{state:?}");
        };
        check(AuthState::SignedIn(a1.clone()), true, true, Some("at-1"));
        check(AuthState::Expired(a1), false, true, None);
        check(AuthState::Loading, false, false, None);
        check(AuthState::SignedOut { reason: None }, false, false, None);
        check(AuthState::SigningIn, false, false, None);
        check(AuthState::Failed(failure()), false, false, None);
    }

    #[test]
    fn failures_from_every_layer() {
        let check = |failure: AuthFailure, message: &str, detail_start: &str| {
            assert_eq!(failure.message, message);
            assert!(
                failure.detail.starts_with(detail_start),
                "{}",
                failure.detail
            );
        };
        check(
            CallbackError::StateMismatch.into(),
            "The sign-in response does not belong to a sign-in started in this tab: sign in again.",
            "callback: StateMismatch",
        );
        check(
            TokenError::Server(502).into(),
            "The provider's token endpoint failed (HTTP 502): try again in a moment.",
            "token: Server(502)",
        );
        check(
            IdTokenError::WrongNonce.into(),
            "The id_token does not answer this sign-in (nonce): sign in again.",
            "id_token: WrongNonce",
        );
        check(
            DiscoveryError::NoTokenEndpoint.into(),
            "The provider has no token endpoint, which the code flow needs: set `flow` to \
             \"implicit\" in config.json.",
            "discovery: NoTokenEndpoint",
        );
        check(
            TransactionError::Expired.into(),
            "The sign-in took longer than 10 minutes: sign in again.",
            "transaction: Expired",
        );
        check(
            JwksError::NoUsableKeys.into(),
            "The provider publishes no RS256 or ES256 signing key: set the client's signing \
             algorithm to RS256 or ES256 at the provider.",
            "jwks: NoUsableKeys",
        );
        check(
            JwtError::SegmentCount(4).into(),
            "The provider's token is not readable (4 segments instead of 3): sign in again.",
            "jwt: SegmentCount(4)",
        );
        check(
            StoredSessionError::Truncated.into(),
            "The stored session is incomplete: sign in again.",
            "stored session: Truncated",
        );
        assert_eq!(sentence(""), ".");
        assert_eq!(sentence("done!"), "Done!");
        // Only an ASCII first letter changes; other text is kept as it is.
        assert_eq!(sentence("é"), "é.");
        assert_eq!(sentence("`scope` is wrong"), "`scope` is wrong.");
        assert_eq!(AuthFailure::new("a", "b").to_string(), "a");
    }

    #[test]
    fn sign_out_reasons_have_messages() {
        for reason in [
            SignOutReason::UserLoggedOut,
            SignOutReason::SessionExpired,
            SignOutReason::StoredSessionInvalid,
            SignOutReason::OtherTab,
            SignOutReason::ProviderLogoutUnsupported,
            SignOutReason::ProviderUnreachable,
            SignOutReason::ProviderLogoutUnconfirmed,
        ] {
            assert!(reason.message().ends_with('.'), "{reason:?}");
        }
        // Signed out here only: the page says the provider session may be open, and how to end it.
        for reason in [
            SignOutReason::ProviderLogoutUnsupported,
            SignOutReason::ProviderUnreachable,
            SignOutReason::ProviderLogoutUnconfirmed,
        ] {
            let message = reason.message();
            assert!(message.contains("may still be open"), "{message}");
            assert!(message.contains("To end it"), "{message}");
        }
    }
}
