//! Checks a parsed authorization response against the login transaction: `state` (CSRF, RFC 6749
//! §10.12), the RFC 9207 `iss` (mix-up defence), the provider's error, and the implicit flow's
//! tokens. Parsing itself is `silent_callback::parse_callback`, the project's one callback parser.

use crate::config::Flow;
use silent_callback::{Callback, Outcome, ParseError};
use std::fmt;

/// A response that passed [`check_callback`]: what the provider answered, ready for the next step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuthorizationResponse {
    /// Code flow: the code to exchange at the token endpoint.
    Code(String),
    /// Implicit flow: the tokens, still to be validated (id_token, `at_hash`).
    Tokens {
        /// The bearer access token.
        access_token: String,
        /// The id_token, a compact JWS not yet verified.
        id_token: String,
        /// The access token's lifetime in seconds, when stated.
        expires_in: Option<u32>,
        /// The granted scope, when it differs from the requested one.
        scope: Option<String>,
    },
}

/// Why a callback is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallbackError {
    /// The callback parameters are not an authorization response (from the parser).
    Malformed(ParseError),
    /// `state` is absent or differs from the transaction's: the response answers a request this
    /// tab did not make (or a stale one). Checked first, for error responses too.
    StateMismatch,
    /// `iss` differs from the configured issuer (RFC 9207): the response comes from another
    /// provider, a mix-up attack or a misconfiguration.
    IssuerMismatch {
        /// The configured issuer.
        expected: String,
        /// The `iss` in the response.
        found: String,
    },
    /// The provider announces `iss` in its responses (RFC 9207) but this response lacks it.
    MissingIssuer,
    /// The provider answered with an OAuth error, e.g. `login_required` or `access_denied`.
    Provider {
        /// The error code (RFC 6749 §4.1.2.1, OpenID Connect Core §3.1.2.6).
        error: String,
        /// The provider's human-readable text, if any.
        description: Option<String>,
    },
    /// An implicit response lacks a token the app asked for (`access_token` or `id_token`).
    MissingToken(&'static str),
    /// A response of the other flow than the one requested (tokens where a code was asked for, or
    /// the reverse): never accepted, since its tokens are not bound to this client's request the
    /// way the requested flow binds them (PKCE, or `at_hash` and the nonce).
    WrongFlow {
        /// The flow that was requested.
        expected: Flow,
    },
}

impl CallbackError {
    /// Whether the provider needs the user at its pages (OpenID Connect Core §3.1.2.6): silent
    /// renewal must stop, and the user signs in again interactively.
    pub fn is_interaction_required(&self) -> bool {
        matches!(
            self,
            CallbackError::Provider { error, .. } if matches!(
                error.as_str(),
                "login_required"
                    | "consent_required"
                    | "interaction_required"
                    | "account_selection_required"
            )
        )
    }

    /// The provider's error code, for a [`CallbackError::Provider`].
    pub fn provider_error(&self) -> Option<&str> {
        match self {
            CallbackError::Provider { error, .. } => Some(error),
            _ => None,
        }
    }
}

impl From<ParseError> for CallbackError {
    fn from(error: ParseError) -> CallbackError {
        CallbackError::Malformed(error)
    }
}

impl fmt::Display for CallbackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallbackError::Malformed(error) => write!(f, "{error}: sign in again"),
            CallbackError::StateMismatch => f.write_str(
                "the sign-in response does not belong to a sign-in started in this tab: sign in \
                 again",
            ),
            CallbackError::IssuerMismatch { expected, found } => write!(
                f,
                "the sign-in response comes from \"{found}\", not from \"{expected}\": sign in \
                 again"
            ),
            CallbackError::MissingIssuer => f.write_str(
                "the sign-in response does not name its provider, which this provider always \
                 does: sign in again",
            ),
            CallbackError::Provider { error, description } => {
                match error.as_str() {
                    "login_required" | "interaction_required" | "account_selection_required" => {
                        f.write_str("the provider needs you to sign in again")?
                    }
                    "consent_required" => {
                        f.write_str("the provider needs your consent: sign in again to give it")?
                    }
                    "access_denied" => f.write_str("the sign-in was cancelled or refused")?,
                    _ => write!(f, "the provider refused the sign-in ({error})")?,
                }
                match description {
                    Some(description) => write!(f, ": {description}"),
                    None => Ok(()),
                }
            }
            CallbackError::MissingToken(name) => write!(
                f,
                "the provider's answer lacks the {name}: check that the client allows the \
                 implicit flow (response type \"id_token token\")"
            ),
            CallbackError::WrongFlow { expected } => write!(
                f,
                "the sign-in response is not of the requested {} flow: sign in again",
                match expected {
                    Flow::Code => "authorization code",
                    Flow::Implicit => "implicit",
                }
            ),
        }
    }
}

impl std::error::Error for CallbackError {}

/// Checks a parsed callback against the transaction's `expected_state`, the configured `issuer` and
/// the requested `flow`. `iss_required` is the provider's
/// `authorization_response_iss_parameter_supported`.
///
/// Order: `state` first (a response with a wrong or missing state is `StateMismatch`, whatever it
/// says), then `iss`, then the outcome. A missing `iss` is tolerated on error responses even when
/// required: an error carries no code to misdirect, and renewal must still see `login_required`.
pub fn check_callback(
    callback: Callback,
    expected_state: &str,
    issuer: &str,
    iss_required: bool,
    flow: Flow,
) -> Result<AuthorizationResponse, CallbackError> {
    let state_matches = match &callback.state {
        Some(state) => !expected_state.is_empty() && same(state, expected_state),
        None => false,
    };
    if !state_matches {
        return Err(CallbackError::StateMismatch);
    }
    // Only a code needs the `iss` parameter: an error carries nothing to misdirect, and an implicit
    // response's id_token names its issuer itself (RFC 9207 §2.4), which id_token validation checks.
    let needs_iss = matches!(callback.outcome, Outcome::Code { .. });
    match callback.iss {
        Some(iss) if iss != issuer => {
            return Err(CallbackError::IssuerMismatch {
                expected: issuer.to_owned(),
                found: iss,
            });
        }
        None if iss_required && needs_iss => return Err(CallbackError::MissingIssuer),
        _ => {}
    }
    match (callback.outcome, flow) {
        (Outcome::Code { .. }, Flow::Implicit) | (Outcome::Tokens(_), Flow::Code) => {
            Err(CallbackError::WrongFlow { expected: flow })
        }
        (Outcome::Code { code }, _) => Ok(AuthorizationResponse::Code(code)),
        (Outcome::Tokens(tokens), _) => Ok(AuthorizationResponse::Tokens {
            access_token: tokens
                .access_token
                .ok_or(CallbackError::MissingToken("access_token"))?,
            id_token: tokens
                .id_token
                .ok_or(CallbackError::MissingToken("id_token"))?,
            expires_in: tokens.expires_in,
            scope: tokens.scope,
        }),
        (
            Outcome::Error {
                error, description, ..
            },
            _,
        ) => Err(CallbackError::Provider { error, description }),
    }
}

/// Compares without an early exit, so the time taken does not reveal how much of a guess matched.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |difference, (x, y)| difference | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use silent_callback::{parse_callback, Tokens};

    const STATE: &str = "af0ifjsldkj";
    const ISSUER: &str = "http://localhost:4000";
    const ISS: &str = "iss=http%3A%2F%2Flocalhost%3A4000";

    fn code(code: &str) -> Result<AuthorizationResponse, CallbackError> {
        Ok(AuthorizationResponse::Code(code.into()))
    }

    fn provider(
        error: &str,
        description: Option<&str>,
    ) -> Result<AuthorizationResponse, CallbackError> {
        Err(CallbackError::Provider {
            error: error.into(),
            description: description.map(Into::into),
        })
    }

    /// Parses `params` with the project's parser, then checks it.
    fn check(
        params: &str,
        iss_required: bool,
        expected: Result<AuthorizationResponse, CallbackError>,
    ) {
        // The flow whose response this is (the other flow's is refused: `responses_of_the_other_flow`).
        let flow = if params.contains("code=") {
            Flow::Code
        } else {
            Flow::Implicit
        };
        let actual = parse_callback(params)
            .map_err(CallbackError::from)
            .and_then(|callback| check_callback(callback, STATE, ISSUER, iss_required, flow));
        assert_eq!(actual, expected, "{params} (iss required: {iss_required})");
    }

    #[test]
    fn code_responses() {
        check(
            "code=SplxlOBeZQQYbYS6WxSbIA&state=af0ifjsldkj",
            false,
            code("SplxlOBeZQQYbYS6WxSbIA"),
        );
        check(&format!("?code=c&state={STATE}&{ISS}"), true, code("c"));
        check(&format!("#code=c&state={STATE}&{ISS}"), false, code("c"));
        check(
            &format!("code=c&state={STATE}"),
            true,
            Err(CallbackError::MissingIssuer),
        );
        check(
            &format!("code=c&state={STATE}&iss=https%3A%2F%2Fevil.example"),
            false,
            Err(CallbackError::IssuerMismatch {
                expected: ISSUER.into(),
                found: "https://evil.example".into(),
            }),
        );
        // The issuer must match exactly: a trailing slash is another issuer.
        check(
            &format!("code=c&state={STATE}&iss=http%3A%2F%2Flocalhost%3A4000%2F"),
            false,
            Err(CallbackError::IssuerMismatch {
                expected: ISSUER.into(),
                found: "http://localhost:4000/".into(),
            }),
        );
    }

    #[test]
    fn state_is_checked_first() {
        let table = [
            "code=c&state=other",
            "code=c&state=af0ifjsldk",
            "code=c&state=af0ifjsldkjX",
            "code=c&state=AF0IFJSLDKJ",
            "error=login_required",
            "error=login_required&state=other",
            "code=c&state=other&iss=https%3A%2F%2Fevil.example",
        ];
        for params in table {
            check(params, true, Err(CallbackError::StateMismatch));
        }
        // An empty expected state matches nothing.
        let callback = parse_callback("code=c&state=s").unwrap();
        assert_eq!(
            check_callback(callback, "", ISSUER, false, Flow::Code),
            Err(CallbackError::StateMismatch)
        );
    }

    #[test]
    fn error_responses() {
        check(
            &format!("error=login_required&state={STATE}"),
            true,
            provider("login_required", None),
        );
        check(
            &format!("error=access_denied&error_description=User+cancelled&state={STATE}&{ISS}"),
            true,
            provider("access_denied", Some("User cancelled")),
        );
        check(
            &format!("error=login_required&state={STATE}&iss=https%3A%2F%2Fevil.example"),
            true,
            Err(CallbackError::IssuerMismatch {
                expected: ISSUER.into(),
                found: "https://evil.example".into(),
            }),
        );
    }

    #[test]
    fn implicit_responses() {
        let tokens = |access: &str, id: &str, expires_in, scope: Option<&str>| {
            Ok(AuthorizationResponse::Tokens {
                access_token: access.into(),
                id_token: id.into(),
                expires_in,
                scope: scope.map(Into::into),
            })
        };
        check(
            &format!(
                "access_token=at&token_type=Bearer&id_token=a.b.c&expires_in=300&state={STATE}"
            ),
            false,
            tokens("at", "a.b.c", Some(300), None),
        );
        check(
            &format!("access_token=at&token_type=Bearer&id_token=a.b.c&scope=openid&state={STATE}"),
            false,
            tokens("at", "a.b.c", None, Some("openid")),
        );
        check(
            &format!("id_token=a.b.c&state={STATE}"),
            false,
            Err(CallbackError::MissingToken("access_token")),
        );
        // The id_token names the issuer: no `iss` parameter needed, even where the provider sends it.
        check(
            &format!("access_token=at&token_type=Bearer&id_token=a.b.c&state={STATE}"),
            true,
            tokens("at", "a.b.c", None, None),
        );
        check(
            &format!("access_token=at&token_type=Bearer&state={STATE}"),
            false,
            Err(CallbackError::MissingToken("id_token")),
        );
        // Built directly: the parser never yields tokens without either.
        let callback = Callback {
            state: Some(STATE.into()),
            iss: None,
            outcome: Outcome::Tokens(Tokens {
                access_token: None,
                id_token: None,
                expires_in: None,
                scope: None,
            }),
        };
        assert_eq!(
            check_callback(callback, STATE, ISSUER, false, Flow::Implicit),
            Err(CallbackError::MissingToken("access_token"))
        );
    }

    #[test]
    fn responses_of_the_other_flow() {
        let check_flow = |params: &str, flow: Flow, expected: Flow| {
            let callback = parse_callback(params).unwrap();
            assert_eq!(
                check_callback(callback, STATE, ISSUER, false, flow),
                Err(CallbackError::WrongFlow { expected }),
                "{params}"
            );
        };
        // Tokens slipped into a code-flow callback: refused, though their id_token may be valid.
        check_flow(
            &format!("#access_token=at&id_token=a.b.c&token_type=Bearer&state={STATE}"),
            Flow::Code,
            Flow::Code,
        );
        check_flow(
            &format!("code=c&state={STATE}"),
            Flow::Implicit,
            Flow::Implicit,
        );
        // An error answers either flow.
        let callback = parse_callback(&format!("error=login_required&state={STATE}")).unwrap();
        assert_eq!(
            check_callback(callback, STATE, ISSUER, false, Flow::Implicit),
            provider("login_required", None)
        );
        // State first, still.
        let callback = parse_callback("code=c&state=other").unwrap();
        assert_eq!(
            check_callback(callback, STATE, ISSUER, false, Flow::Implicit),
            Err(CallbackError::StateMismatch)
        );
    }

    #[test]
    fn hostile_inputs_keep_the_parser_error() {
        check("", false, Err(CallbackError::Malformed(ParseError::Empty)));
        check(
            "code=1&code=2&state=s",
            false,
            Err(CallbackError::Malformed(ParseError::Duplicate("code"))),
        );
    }

    #[test]
    fn interaction_required_errors() {
        let error = |code: &str| CallbackError::Provider {
            error: code.into(),
            description: None,
        };
        for code in [
            "login_required",
            "consent_required",
            "interaction_required",
            "account_selection_required",
        ] {
            assert!(error(code).is_interaction_required(), "{code}");
        }
        for other in [
            error("access_denied"),
            error("server_error"),
            CallbackError::StateMismatch,
            CallbackError::MissingIssuer,
        ] {
            assert!(!other.is_interaction_required(), "{other:?}");
        }
        assert_eq!(error("x").provider_error(), Some("x"));
        assert_eq!(CallbackError::StateMismatch.provider_error(), None);
    }

    #[test]
    fn messages() {
        let check = |error: CallbackError, expected: &str| assert_eq!(error.to_string(), expected);
        check(
            CallbackError::Provider {
                error: "login_required".into(),
                description: None,
            },
            "the provider needs you to sign in again",
        );
        check(
            CallbackError::Provider {
                error: "invalid_scope".into(),
                description: Some("unknown scope foo".into()),
            },
            "the provider refused the sign-in (invalid_scope): unknown scope foo",
        );
        check(
            CallbackError::Malformed(ParseError::Empty),
            "the callback URL carries no parameters: sign in again",
        );
    }
}
