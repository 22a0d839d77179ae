//! Why a silent renewal failed, and what the app does about it.
//!
//! Three classes, three behaviours (anchors §4.3):
//! - [`RenewalClass::InteractionRequired`]: the provider wants the user (`login_required`, ...).
//!   Renewal stops; the session is kept until it truly expires, with a banner asking to sign in again.
//! - [`RenewalClass::Transient`]: it may pass by itself (timeout, network, 5xx). Retry with bounded
//!   backoff until expiry, and again when the browser comes back online.
//! - [`RenewalClass::Fatal`]: the answer cannot be trusted or the grant is gone (state or id_token
//!   invalid, another user, `invalid_grant`). The session ends now.

use super::callback::CallbackError;
use super::discovery::DiscoveryError;
use super::dpop::DpopError;
use super::id_token::IdTokenError;
use super::jwks::JwksError;
use super::token::TokenError;

/// What kind of failure a renewal failure is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RenewalClass {
    /// The user must sign in again; keep the session until it expires.
    InteractionRequired,
    /// Retry with backoff until expiry.
    Transient,
    /// End the session now.
    Fatal,
}

impl RenewalClass {
    /// A short name for the session panel and the event log.
    pub fn name(self) -> &'static str {
        match self {
            RenewalClass::InteractionRequired => "interaction required",
            RenewalClass::Transient => "transient",
            RenewalClass::Fatal => "fatal",
        }
    }
}

/// How a renewal gets its new tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// A silent authorize request (`prompt=none`) in the hidden iframe, then the code exchange.
    Iframe,
    /// The refresh-token grant at the token endpoint.
    RefreshToken,
}

impl Channel {
    /// A short name for the session panel and the event log.
    pub fn name(self) -> &'static str {
        match self {
            Channel::Iframe => "iframe",
            Channel::RefreshToken => "refresh token",
        }
    }
}

/// Why a silent renewal failed.
#[derive(Debug, Clone, PartialEq)]
pub enum RenewalError {
    /// The provider answered an OAuth error on the silent authorize request (`login_required`,
    /// `consent_required`, `interaction_required`, `account_selection_required`, or another code).
    Provider {
        /// The OAuth error code.
        error: String,
        /// The provider's text.
        description: Option<String>,
    },
    /// No answer from the hidden frame within the timeout.
    Timeout,
    /// The hidden frame showed a page that is not our silent page (a login or error page at the
    /// provider, or a page that refused framing), and no answer followed, while the provider answers
    /// requests (else it is [`RenewalError::Network`]: see [`fail_fast_error`]).
    FailFast,
    /// Our silent page received parameters it could not parse (its error code).
    Unparsable(String),
    /// A request to the provider did not get through (offline, DNS, CORS refusal, an HTTP error
    /// status where a document was expected): the browser's words.
    Network(String),
    /// The discovery document came back, but not one this client can use.
    Discovery(DiscoveryError),
    /// The provider's key set came back, but without a key this client can use.
    Jwks(JwksError),
    /// The callback did not match the request (state, issuer) or lacked a token.
    Callback(CallbackError),
    /// The token endpoint refused or failed.
    Token(TokenError),
    /// The new id_token is invalid, or names another user.
    IdToken(IdTokenError),
    /// Something else the browser refused (storage, crypto).
    Browser(String),
    /// The provider refused the refresh token (`invalid_grant`: expired, revoked, or its grant ended
    /// after a reuse was detected). It is dropped; the iframe may still renew (renewal `auto`).
    RefreshTokenRefused(TokenError),
    /// Renewal is set to use refresh tokens only, and the provider issued none.
    NoRefreshToken,
    /// Another tab renewed the session (spending the refresh token this tab holds) and its new one
    /// never reached this tab (per-tab storage, no message): sending ours would be a reuse.
    RefreshTokenElsewhere,
    /// The session's tokens are bound to a DPoP key this browser no longer holds (its storage was
    /// cleared): its refresh token is useless. It is dropped; the iframe may still renew with a new
    /// key (renewal `auto`).
    DpopKeyMissing,
}

/// The OAuth errors by which a provider answers `prompt=none` when it needs the user
/// (OpenID Connect Core §3.1.2.6).
pub const INTERACTION_ERRORS: [&str; 4] = [
    "login_required",
    "consent_required",
    "interaction_required",
    "account_selection_required",
];

impl RenewalError {
    /// The class that decides what happens next.
    pub fn class(&self) -> RenewalClass {
        match self {
            RenewalError::Provider { error, .. } => match error.as_str() {
                "server_error" | "temporarily_unavailable" => RenewalClass::Transient,
                // Any other refusal needs the user (or a fix at the provider): retrying cannot help,
                // and nothing suggests the current session is compromised.
                _ => RenewalClass::InteractionRequired,
            },
            RenewalError::Timeout
            | RenewalError::FailFast
            | RenewalError::Unparsable(_)
            | RenewalError::Network(_)
            // A provider mid-deployment, or a proxy's page: worth another try later.
            | RenewalError::Discovery(_)
            | RenewalError::Jwks(_)
            | RenewalError::Browser(_) => RenewalClass::Transient,
            RenewalError::Token(error) if error.is_transient() => RenewalClass::Transient,
            // The user must sign in again (unless the iframe still can): not a forged answer.
            RenewalError::RefreshTokenRefused(_)
            | RenewalError::NoRefreshToken
            | RenewalError::RefreshTokenElsewhere
            | RenewalError::DpopKeyMissing => RenewalClass::InteractionRequired,
            RenewalError::Callback(_) | RenewalError::Token(_) | RenewalError::IdToken(_) => {
                RenewalClass::Fatal
            }
        }
    }

    /// What the user reads when a [`RenewalClass::Fatal`] failure ends the session: a grant the
    /// provider refused is not a forged answer, and the page says which happened.
    pub fn fatal_message(&self) -> &'static str {
        match self {
            RenewalError::Token(error) if error.is_invalid_grant() => {
                "The sign-in provider no longer accepts this session (invalid_grant). Sign in again."
            }
            _ => "Your session was ended because its renewal failed a security check. Sign in again.",
        }
    }

    /// A short stable name for the event log (`login_required`, `timeout`, `invalid_grant`, ...).
    pub fn code(&self) -> String {
        match self {
            RenewalError::Provider { error, .. } => error.clone(),
            RenewalError::Timeout => "timeout".into(),
            RenewalError::FailFast => "provider_page_shown".into(),
            RenewalError::Unparsable(code) => format!("unparsable_callback:{code}"),
            RenewalError::Network(_) => "network".into(),
            RenewalError::Discovery(_) => "discovery".into(),
            RenewalError::Jwks(_) => "jwks".into(),
            RenewalError::Callback(CallbackError::StateMismatch) => "state_mismatch".into(),
            RenewalError::Callback(_) => "invalid_callback".into(),
            RenewalError::Token(error) if error.is_invalid_grant() => "invalid_grant".into(),
            RenewalError::Token(_) => "token_error".into(),
            RenewalError::IdToken(IdTokenError::SubjectChanged) => "subject_changed".into(),
            RenewalError::IdToken(_) => "invalid_id_token".into(),
            RenewalError::Browser(_) => "browser".into(),
            RenewalError::RefreshTokenRefused(_) => "refresh_token_refused".into(),
            RenewalError::NoRefreshToken => "no_refresh_token".into(),
            RenewalError::RefreshTokenElsewhere => "refresh_token_elsewhere".into(),
            RenewalError::DpopKeyMissing => "dpop_key_missing".into(),
        }
    }
}

/// What a fail-fast renewal was (the hidden frame loaded a page that is not the silent page, and no
/// answer followed), given `probe`: whether the provider answered a request made right after (see
/// `http::reachable`). The frame's document is cross-origin either way, so the page itself cannot be
/// read: when the provider does not answer (offline, connection refused), the page was the browser's
/// own network error page, a network failure; when it answers, it was the provider's page.
///
/// The probe comes a second after the frame's error: a provider that came back in between is
/// reported as `provider_page_shown` (transient as well).
pub fn fail_fast_error(probe: Result<(), String>) -> RenewalError {
    match probe {
        Ok(()) => RenewalError::FailFast,
        Err(why) => RenewalError::Network(format!(
            "the hidden frame showed the browser's network error page ({why})"
        )),
    }
}

impl std::fmt::Display for RenewalError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RenewalError::Provider {
                error,
                description: Some(description),
            } => {
                write!(f, "the provider answered {error}: {description}")
            }
            RenewalError::Provider {
                error,
                description: None,
            } => {
                write!(f, "the provider answered {error}")
            }
            RenewalError::Timeout => f.write_str("the provider did not answer in time"),
            RenewalError::FailFast => {
                f.write_str("the provider showed a page in the hidden frame instead of answering")
            }
            RenewalError::Unparsable(code) => {
                write!(f, "the silent page got a bad callback ({code})")
            }
            RenewalError::Network(why) => write!(f, "the provider could not be reached: {why}"),
            RenewalError::Discovery(error) => write!(f, "{error}"),
            RenewalError::Jwks(error) => write!(f, "{error}"),
            RenewalError::Callback(error) => write!(f, "{error}"),
            RenewalError::Token(error) => write!(f, "{error}"),
            RenewalError::IdToken(error) => write!(f, "{error}"),
            RenewalError::Browser(why) => write!(f, "the browser refused: {why}"),
            RenewalError::RefreshTokenRefused(error) => {
                write!(f, "the provider no longer accepts the refresh token: {error}")
            }
            RenewalError::NoRefreshToken => f.write_str(
                "the provider issued no refresh token (check `offline_access` in the scope and the \
                 client's refresh-token settings)",
            ),
            RenewalError::RefreshTokenElsewhere => f.write_str(
                "another tab renewed the session and its new refresh token did not reach this tab: \
                 reload the page",
            ),
            RenewalError::DpopKeyMissing => write!(f, "{}", DpopError::KeyMissing),
        }
    }
}

impl std::error::Error for RenewalError {}

impl From<CallbackError> for RenewalError {
    fn from(error: CallbackError) -> RenewalError {
        match error {
            CallbackError::Provider { error, description } => {
                RenewalError::Provider { error, description }
            }
            other => RenewalError::Callback(other),
        }
    }
}

impl From<TokenError> for RenewalError {
    fn from(error: TokenError) -> RenewalError {
        RenewalError::Token(error)
    }
}

impl From<DpopError> for RenewalError {
    fn from(error: DpopError) -> RenewalError {
        match error {
            DpopError::KeyMissing => RenewalError::DpopKeyMissing,
            other => RenewalError::Browser(other.to_string()),
        }
    }
}

impl From<IdTokenError> for RenewalError {
    fn from(error: IdTokenError) -> RenewalError {
        RenewalError::IdToken(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn provider(error: &str) -> RenewalError {
        RenewalError::Provider {
            error: error.into(),
            description: None,
        }
    }

    #[test]
    fn a_refused_grant_is_not_called_a_security_failure() {
        let invalid_grant = RenewalError::Token(TokenError::Provider {
            error: "invalid_grant".into(),
            description: None,
        });
        assert!(invalid_grant.fatal_message().contains("invalid_grant"));
        let forged = RenewalError::Callback(CallbackError::StateMismatch);
        assert!(forged.fatal_message().contains("security check"));
        assert_ne!(invalid_grant.fatal_message(), forged.fatal_message());
    }

    #[test]
    fn classes() {
        let check = |error: RenewalError, class: RenewalClass, code: &str| {
            assert_eq!(error.class(), class, "{error:?}");
            assert_eq!(error.code(), code, "{error:?}");
            assert!(!error.to_string().is_empty());
        };
        for error in INTERACTION_ERRORS {
            check(provider(error), RenewalClass::InteractionRequired, error);
        }
        check(
            provider("access_denied"),
            RenewalClass::InteractionRequired,
            "access_denied",
        );
        check(
            provider("server_error"),
            RenewalClass::Transient,
            "server_error",
        );
        check(
            provider("temporarily_unavailable"),
            RenewalClass::Transient,
            "temporarily_unavailable",
        );
        check(RenewalError::Timeout, RenewalClass::Transient, "timeout");
        check(
            RenewalError::FailFast,
            RenewalClass::Transient,
            "provider_page_shown",
        );
        check(
            RenewalError::Network("offline".into()),
            RenewalClass::Transient,
            "network",
        );
        check(
            RenewalError::Discovery(DiscoveryError::NotJson),
            RenewalClass::Transient,
            "discovery",
        );
        check(
            RenewalError::Jwks(JwksError::NoUsableKeys),
            RenewalClass::Transient,
            "jwks",
        );
        check(
            RenewalError::Token(TokenError::Server(503)),
            RenewalClass::Transient,
            "token_error",
        );
        let invalid_grant = TokenError::Provider {
            error: "invalid_grant".into(),
            description: None,
        };
        check(
            RenewalError::Token(invalid_grant.clone()),
            RenewalClass::Fatal,
            "invalid_grant",
        );
        // On the refresh channel the same answer asks for the user, it does not end the session.
        check(
            RenewalError::RefreshTokenRefused(invalid_grant),
            RenewalClass::InteractionRequired,
            "refresh_token_refused",
        );
        check(
            RenewalError::NoRefreshToken,
            RenewalClass::InteractionRequired,
            "no_refresh_token",
        );
        check(
            RenewalError::RefreshTokenElsewhere,
            RenewalClass::InteractionRequired,
            "refresh_token_elsewhere",
        );
        check(
            RenewalError::Callback(CallbackError::StateMismatch),
            RenewalClass::Fatal,
            "state_mismatch",
        );
        check(
            RenewalError::IdToken(IdTokenError::SubjectChanged),
            RenewalClass::Fatal,
            "subject_changed",
        );
        check(
            RenewalError::IdToken(IdTokenError::BadSignature),
            RenewalClass::Fatal,
            "invalid_id_token",
        );
    }

    #[test]
    fn a_fail_fast_with_the_provider_unreachable_is_a_network_failure() {
        let offline = fail_fast_error(Err("the browser is offline".into()));
        assert_eq!(offline.code(), "network");
        assert_eq!(offline.class(), RenewalClass::Transient);
        assert_eq!(
            offline.to_string(),
            "the provider could not be reached: the hidden frame showed the browser's network \
             error page (the browser is offline)"
        );
        let shown = fail_fast_error(Ok(()));
        assert_eq!(shown, RenewalError::FailFast);
        assert_eq!(shown.code(), "provider_page_shown");
        assert_eq!(shown.class(), RenewalClass::Transient);
    }

    #[test]
    fn provider_errors_from_the_callback_keep_their_code() {
        let error: RenewalError = CallbackError::Provider {
            error: "login_required".into(),
            description: Some("x".into()),
        }
        .into();
        assert_eq!(error.class(), RenewalClass::InteractionRequired);
        assert_eq!(error.to_string(), "the provider answered login_required: x");
        let error: RenewalError = CallbackError::MissingIssuer.into();
        assert_eq!(error.class(), RenewalClass::Fatal);
    }
}
