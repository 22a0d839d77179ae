//! The code exchange at the token endpoint (RFC 6749 §4.1.3 and §5, RFC 7636 §4.5): the request
//! body and the response, whose every other form (HTML error pages, proxies, odd fields) is a
//! typed error.

use super::dpop::TokenType;
use super::fields::{self, Object, WrongType};
use serde_json::Value;
use std::fmt;

/// Largest token response accepted. Tokens are a few KiB; anything far larger is not a response.
pub const MAX_TOKEN_RESPONSE_LEN: usize = 64 * 1024;

/// Longest `expires_in` accepted, in seconds (one year): a larger one is a provider bug.
pub const MAX_EXPIRES_IN_SECS: u64 = 365 * 24 * 60 * 60;

/// Longest `error_description` kept, in characters: it is shown to the user.
const MAX_DESCRIPTION_CHARS: usize = 300;

/// The body of the code exchange (`application/x-www-form-urlencoded`): a public client identifies
/// itself with `client_id` and proves the request with the PKCE verifier.
pub fn token_request_body(
    code: &str,
    redirect_uri: &str,
    client_id: &str,
    code_verifier: &str,
) -> String {
    form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "authorization_code")
        .append_pair("code", code)
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("client_id", client_id)
        .append_pair("code_verifier", code_verifier)
        .finish()
}

/// The body of a refresh-token grant (RFC 6749 §6) by a public client. The scope is left out: the
/// refreshed tokens keep the original grant's.
pub fn refresh_request_body(refresh_token: &str, client_id: &str) -> String {
    form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "refresh_token")
        .append_pair("refresh_token", refresh_token)
        .append_pair("client_id", client_id)
        .finish()
}

/// The body of a token revocation (RFC 7009 §2.1) of a refresh token, by a public client.
pub fn revocation_request_body(refresh_token: &str, client_id: &str) -> String {
    form_urlencoded::Serializer::new(String::new())
        .append_pair("token", refresh_token)
        .append_pair("token_type_hint", "refresh_token")
        .append_pair("client_id", client_id)
        .finish()
}

/// A successful token response (RFC 6749 §5.1), checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenResponse {
    /// The access token, non-empty.
    pub access_token: String,
    /// `Bearer` in any case (RFC 6749 §7.1: case-insensitive), as sent.
    pub token_type: String,
    /// Lifetime of the access token in seconds (1 to [`MAX_EXPIRES_IN_SECS`]), when stated.
    pub expires_in: Option<u64>,
    /// The id_token, not yet validated; present whenever `openid` was in the scope.
    pub id_token: Option<String>,
    /// The granted scope, when the provider states it.
    pub scope: Option<String>,
    /// A refresh token, when the provider issued one (non-empty, printable ASCII).
    pub refresh_token: Option<String>,
}

/// Why a token response is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenError {
    /// The body is larger than [`MAX_TOKEN_RESPONSE_LEN`].
    TooLarge,
    /// The body is not a JSON object (an HTML page from a proxy, a wrong endpoint).
    NotJson {
        /// The HTTP status of the response.
        status: u16,
    },
    /// The provider refused with an OAuth error (RFC 6749 §5.2), e.g. `invalid_grant`.
    Provider {
        /// The error code.
        error: String,
        /// The provider's human-readable text (shortened), if any.
        description: Option<String>,
    },
    /// The provider failed (HTTP 5xx): worth a retry later.
    Server(u16),
    /// A status other than 200, 4xx with an OAuth error, or 5xx.
    UnexpectedStatus(u16),
    /// A required member of a successful response is absent.
    MissingField(&'static str),
    /// A member has the wrong type or an impossible value (empty token, absurd `expires_in`).
    InvalidField(&'static str),
    /// `token_type` is neither `Bearer` nor `DPoP`, the types this app can send; holds it.
    UnsupportedTokenType(String),
    /// `token_type` is not the type asked for: a `Bearer` token to a request with a DPoP proof (the
    /// provider ignored the proof: the token would not be bound), or a `DPoP` token to one without.
    /// Never a silent downgrade.
    TokenTypeMismatch {
        /// The type the request asked for.
        asked: TokenType,
        /// The type the provider issued, as it wrote it.
        got: String,
    },
    /// No response at all (network down, CORS refused, timeout). For the glue: this module never
    /// returns it. Holds the glue's description.
    Network(String),
}

impl TokenError {
    /// Whether the provider refused the code as invalid, expired or already used (`invalid_grant`):
    /// retrying the same code cannot succeed.
    pub fn is_invalid_grant(&self) -> bool {
        matches!(self, TokenError::Provider { error, .. } if error == "invalid_grant")
    }

    /// Whether the failure may pass by itself (server error, network, rate limit), so that a retry
    /// with backoff makes sense; every other error needs a new sign-in or a fix.
    pub fn is_transient(&self) -> bool {
        match self {
            TokenError::Server(_) | TokenError::Network(_) | TokenError::UnexpectedStatus(429) => {
                true
            }
            // `use_dpop_nonce` after the one retry: the nonce it brought is remembered, and a later
            // attempt sends it. `invalid_dpop_proof`: a later attempt signs a new proof (new `jti`
            // and `iat`); nothing says the session is compromised, and expiry bounds the retries.
            TokenError::Provider { error, .. } => matches!(
                error.as_str(),
                "temporarily_unavailable" | "slow_down" | "use_dpop_nonce" | "invalid_dpop_proof"
            ),
            _ => false,
        }
    }
}

impl fmt::Display for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenError::TooLarge => write!(
                f,
                "the token endpoint's answer is larger than {} KiB: sign in again",
                MAX_TOKEN_RESPONSE_LEN / 1024
            ),
            TokenError::NotJson { status } => write!(
                f,
                "the token endpoint did not answer with JSON (HTTP {status}): check the provider's \
                 address and try again"
            ),
            TokenError::Provider { error, description } => {
                if error == "invalid_grant" {
                    f.write_str("the provider refused the sign-in code (invalid_grant)")?;
                } else {
                    write!(f, "the provider refused the token request ({error})")?;
                }
                if let Some(description) = description {
                    write!(f, ": {description}")?;
                }
                f.write_str("; sign in again")
            }
            TokenError::Server(status) => write!(
                f,
                "the provider's token endpoint failed (HTTP {status}): try again in a moment"
            ),
            TokenError::UnexpectedStatus(status) => write!(
                f,
                "the token endpoint answered HTTP {status}: check the provider's address and try \
                 again"
            ),
            TokenError::MissingField(field) => write!(
                f,
                "the token response lacks `{field}`: check the client's settings at the provider"
            ),
            TokenError::InvalidField(field) => write!(
                f,
                "the token response has an invalid `{field}`: check the client's settings at the \
                 provider"
            ),
            TokenError::UnsupportedTokenType(token_type) => write!(
                f,
                "the provider issued a \"{token_type}\" token; this app needs a Bearer or DPoP token"
            ),
            TokenError::TokenTypeMismatch { asked, got } => write!(
                f,
                "the provider issued a \"{got}\" token where this app asked for a {} token: check \
                 the provider's DPoP settings, or `dpop` in config.json",
                asked.name()
            ),
            TokenError::Network(why) => write!(
                f,
                "the token endpoint could not be reached ({why}): check the connection and try \
                 again"
            ),
        }
    }
}

impl std::error::Error for TokenError {}

/// Reads the token endpoint's answer: its HTTP status and body.
///
/// 200 must be a JSON object with a non-empty `access_token` and `token_type` Bearer; 4xx with a
/// JSON `error` is [`TokenError::Provider`]; 5xx is [`TokenError::Server`]; everything else is a
/// typed error.
pub fn parse_token_response(status: u16, body: &str) -> Result<TokenResponse, TokenError> {
    parse_token_response_as(status, body, TokenType::Bearer)
}

/// [`parse_token_response`] for a request that asked for `asked` tokens (a request with a DPoP
/// proof asks for `DPoP`): a `token_type` of the other kind is [`TokenError::TokenTypeMismatch`].
pub fn parse_token_response_as(
    status: u16,
    body: &str,
    asked: TokenType,
) -> Result<TokenResponse, TokenError> {
    if body.len() > MAX_TOKEN_RESPONSE_LEN {
        return Err(TokenError::TooLarge);
    }
    if (500..=599).contains(&status) {
        return Err(TokenError::Server(status));
    }
    let json = match serde_json::from_str::<Value>(body) {
        Ok(Value::Object(json)) => Some(json),
        _ => None,
    };
    match (status, json) {
        (200, Some(json)) => success(&json, asked),
        (200, None) => Err(TokenError::NotJson { status }),
        (400..=499, Some(json)) => {
            Err(provider_error(&json).unwrap_or(TokenError::UnexpectedStatus(status)))
        }
        _ => Err(TokenError::UnexpectedStatus(status)),
    }
}

fn success(json: &Object, asked: TokenType) -> Result<TokenResponse, TokenError> {
    let string = |field: &'static str| {
        fields::string(json, field)
            .map(|value| value.map(str::to_owned))
            .map_err(|WrongType| TokenError::InvalidField(field))
    };
    let access_token = string("access_token")?.ok_or(TokenError::MissingField("access_token"))?;
    if access_token.is_empty() {
        return Err(TokenError::InvalidField("access_token"));
    }
    let token_type = string("token_type")?.ok_or(TokenError::MissingField("token_type"))?;
    match TokenType::from_name(&token_type) {
        Some(issued) if issued == asked => {}
        Some(_) => {
            return Err(TokenError::TokenTypeMismatch {
                asked,
                got: token_type,
            })
        }
        None => return Err(TokenError::UnsupportedTokenType(token_type)),
    }
    let expires_in = fields::unsigned(json, "expires_in")
        .map_err(|WrongType| TokenError::InvalidField("expires_in"))?;
    if let Some(expires_in) = expires_in {
        if !(1..=MAX_EXPIRES_IN_SECS).contains(&expires_in) {
            return Err(TokenError::InvalidField("expires_in"));
        }
    }
    let id_token = string("id_token")?;
    if id_token.as_deref() == Some("") {
        return Err(TokenError::InvalidField("id_token"));
    }
    let refresh_token = string("refresh_token")?;
    // RFC 6749 §A.17: VSCHAR only; it is sent back in a form body and stored.
    if let Some(token) = &refresh_token {
        if token.is_empty() || !token.bytes().all(|byte| (0x20..=0x7e).contains(&byte)) {
            return Err(TokenError::InvalidField("refresh_token"));
        }
    }
    Ok(TokenResponse {
        access_token,
        token_type,
        expires_in,
        id_token,
        scope: string("scope")?,
        refresh_token,
    })
}

/// An RFC 6749 §5.2 error body, if `json` is one.
fn provider_error(json: &Object) -> Option<TokenError> {
    let error = fields::string(json, "error").ok()??;
    if error.is_empty() {
        return None;
    }
    let description = fields::string(json, "error_description")
        .ok()
        .flatten()
        .map(|text| text.chars().take(MAX_DESCRIPTION_CHARS).collect());
    Some(TokenError::Provider {
        error: error.chars().take(MAX_DESCRIPTION_CHARS).collect(),
        description,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ok(
        access_token: &str,
        expires_in: Option<u64>,
        id_token: Option<&str>,
        scope: Option<&str>,
    ) -> Result<TokenResponse, TokenError> {
        Ok(TokenResponse {
            access_token: access_token.into(),
            token_type: "Bearer".into(),
            expires_in,
            id_token: id_token.map(Into::into),
            scope: scope.map(Into::into),
            refresh_token: None,
        })
    }

    fn check(status: u16, body: &str, expected: Result<TokenResponse, TokenError>) {
        assert_eq!(
            parse_token_response(status, body),
            expected,
            "{status} {body}"
        );
    }

    #[test]
    fn request_body() {
        assert_eq!(
            token_request_body(
                "SplxlOBeZQQYbYS6WxSbIA",
                "http://localhost:8080/callback",
                "oidc-renew-demo",
                "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
            ),
            "grant_type=authorization_code&code=SplxlOBeZQQYbYS6WxSbIA\
             &redirect_uri=http%3A%2F%2Flocalhost%3A8080%2Fcallback&client_id=oidc-renew-demo\
             &code_verifier=dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
        );
        assert_eq!(
            token_request_body("a+b&c", "r", "id =", "v"),
            "grant_type=authorization_code&code=a%2Bb%26c&redirect_uri=r&client_id=id+%3D\
             &code_verifier=v"
        );
    }

    #[test]
    fn refresh_and_revocation_bodies() {
        assert_eq!(
            refresh_request_body("tGzv3JOkF0XG5Qx2TlKWIA", "oidc-renew-demo"),
            "grant_type=refresh_token&refresh_token=tGzv3JOkF0XG5Qx2TlKWIA&client_id=oidc-renew-demo"
        );
        assert_eq!(
            revocation_request_body("a+b/c=", "id ="),
            "token=a%2Bb%2Fc%3D&token_type_hint=refresh_token&client_id=id+%3D"
        );
    }

    #[test]
    fn successful_responses() {
        // RFC 6749 §4.1.4's example, with an id_token (OpenID Connect Core §3.1.3.3).
        check(
            200,
            r#"{"access_token":"2YotnFZFEjr1zCsicMWpAA","token_type":"Bearer","expires_in":3600,
                "refresh_token":"tGzv3JOkF0XG5Qx2TlKWIA","id_token":"a.b.c"}"#,
            ok("2YotnFZFEjr1zCsicMWpAA", Some(3600), Some("a.b.c"), None).map(|response| {
                TokenResponse {
                    refresh_token: Some("tGzv3JOkF0XG5Qx2TlKWIA".into()),
                    ..response
                }
            }),
        );
        // A refresh token is checked like a token: not empty, printable ASCII.
        for bad in [json!(""), json!("a\nb"), json!("é"), json!(7)] {
            check(
                200,
                &json!({"access_token": "at", "token_type": "Bearer", "refresh_token": bad})
                    .to_string(),
                Err(TokenError::InvalidField("refresh_token")),
            );
        }
        check(
            200,
            &json!({"access_token": "at", "token_type": "Bearer", "scope": "openid email"})
                .to_string(),
            ok("at", None, None, Some("openid email")),
        );
        // Quoted expires_in and null members are tolerated.
        check(
            200,
            &json!({"access_token": "at", "token_type": "Bearer", "expires_in": "300",
                    "id_token": null})
            .to_string(),
            ok("at", Some(300), None, None),
        );
        let lower = parse_token_response(200, r#"{"access_token":"at","token_type":"bearer"}"#);
        assert_eq!(
            lower.map(|response| response.token_type),
            Ok("bearer".into())
        );
    }

    #[test]
    fn refused_responses() {
        let provider = |error: &str, description: Option<&str>| {
            Err(TokenError::Provider {
                error: error.into(),
                description: description.map(Into::into),
            })
        };
        let good = json!({"access_token": "at", "token_type": "Bearer", "expires_in": 300});
        let with = |field: &str, value: Value| {
            let mut body = good.clone();
            body[field] = value;
            body.to_string()
        };
        let table: Vec<(u16, String, Result<TokenResponse, TokenError>)> = vec![
            (
                400,
                r#"{"error":"invalid_grant","error_description":"grant request is invalid"}"#
                    .into(),
                provider("invalid_grant", Some("grant request is invalid")),
            ),
            (
                401,
                r#"{"error":"invalid_client"}"#.into(),
                provider("invalid_client", None),
            ),
            (
                400,
                json!({"error": "invalid_request", "error_description": "x".repeat(1000)})
                    .to_string(),
                provider("invalid_request", Some(&"x".repeat(MAX_DESCRIPTION_CHARS))),
            ),
            (
                400,
                "<html>Bad Request</html>".into(),
                Err(TokenError::UnexpectedStatus(400)),
            ),
            (
                400,
                r#"{"message":"no"}"#.into(),
                Err(TokenError::UnexpectedStatus(400)),
            ),
            (
                400,
                r#"{"error":""}"#.into(),
                Err(TokenError::UnexpectedStatus(400)),
            ),
            (
                400,
                r#"{"error":5}"#.into(),
                Err(TokenError::UnexpectedStatus(400)),
            ),
            (
                500,
                r#"{"error":"server_error"}"#.into(),
                Err(TokenError::Server(500)),
            ),
            (
                503,
                "<html>down</html>".into(),
                Err(TokenError::Server(503)),
            ),
            (302, "".into(), Err(TokenError::UnexpectedStatus(302))),
            (
                201,
                good.to_string(),
                Err(TokenError::UnexpectedStatus(201)),
            ),
            (0, "".into(), Err(TokenError::UnexpectedStatus(0))),
            (
                200,
                "<!doctype html><html></html>".into(),
                Err(TokenError::NotJson { status: 200 }),
            ),
            (200, "".into(), Err(TokenError::NotJson { status: 200 })),
            (
                200,
                "[1,2]".into(),
                Err(TokenError::NotJson { status: 200 }),
            ),
            (
                200,
                r#"{"access_token":"at""#.into(),
                Err(TokenError::NotJson { status: 200 }),
            ),
            (
                200,
                format!(
                    r#"{{"access_token":"{}"}}"#,
                    "a".repeat(MAX_TOKEN_RESPONSE_LEN)
                ),
                Err(TokenError::TooLarge),
            ),
            (
                200,
                r#"{"token_type":"Bearer"}"#.into(),
                Err(TokenError::MissingField("access_token")),
            ),
            (
                200,
                r#"{"access_token":"at"}"#.into(),
                Err(TokenError::MissingField("token_type")),
            ),
            (
                200,
                with("access_token", json!("")),
                Err(TokenError::InvalidField("access_token")),
            ),
            (
                200,
                with("access_token", json!(7)),
                Err(TokenError::InvalidField("access_token")),
            ),
            (
                200,
                with("token_type", json!("mac")),
                Err(TokenError::UnsupportedTokenType("mac".into())),
            ),
            (
                200,
                with("token_type", json!("DPoP")),
                Err(TokenError::TokenTypeMismatch {
                    asked: TokenType::Bearer,
                    got: "DPoP".into(),
                }),
            ),
            (
                200,
                with("expires_in", json!(-1)),
                Err(TokenError::InvalidField("expires_in")),
            ),
            (
                200,
                with("expires_in", json!(0)),
                Err(TokenError::InvalidField("expires_in")),
            ),
            (
                200,
                with("expires_in", json!(1.5)),
                Err(TokenError::InvalidField("expires_in")),
            ),
            (
                200,
                with("expires_in", json!("soon")),
                Err(TokenError::InvalidField("expires_in")),
            ),
            (
                200,
                with("expires_in", json!(MAX_EXPIRES_IN_SECS + 1)),
                Err(TokenError::InvalidField("expires_in")),
            ),
            (
                200,
                with("expires_in", json!(u64::MAX)),
                Err(TokenError::InvalidField("expires_in")),
            ),
            (
                200,
                with("id_token", json!("")),
                Err(TokenError::InvalidField("id_token")),
            ),
            (
                200,
                with("id_token", json!(["a.b.c"])),
                Err(TokenError::InvalidField("id_token")),
            ),
            (
                200,
                with("scope", json!(["openid"])),
                Err(TokenError::InvalidField("scope")),
            ),
        ];
        for (status, body, expected) in table {
            check(status, &body, expected);
        }
    }

    #[test]
    fn the_token_type_is_the_one_asked_for() {
        let body = |token_type: &str| {
            json!({"access_token": "at", "token_type": token_type, "expires_in": 300}).to_string()
        };
        let table = [
            (TokenType::DPoP, "DPoP", Ok(())),
            (TokenType::DPoP, "dpop", Ok(())),
            (TokenType::Bearer, "Bearer", Ok(())),
            // A proof the provider ignored: the token is not bound, and is not taken.
            (
                TokenType::DPoP,
                "Bearer",
                Err(TokenError::TokenTypeMismatch {
                    asked: TokenType::DPoP,
                    got: "Bearer".into(),
                }),
            ),
            (
                TokenType::Bearer,
                "DPoP",
                Err(TokenError::TokenTypeMismatch {
                    asked: TokenType::Bearer,
                    got: "DPoP".into(),
                }),
            ),
            (
                TokenType::DPoP,
                "mac",
                Err(TokenError::UnsupportedTokenType("mac".into())),
            ),
        ];
        for (asked, issued, expected) in table {
            assert_eq!(
                parse_token_response_as(200, &body(issued), asked).map(|_| ()),
                expected,
                "{asked:?} {issued}"
            );
        }
        let mismatch = TokenError::TokenTypeMismatch {
            asked: TokenType::DPoP,
            got: "Bearer".into(),
        };
        assert!(!mismatch.is_transient());
        assert!(
            mismatch.to_string().contains("asked for a DPoP token"),
            "{mismatch}"
        );
    }

    #[test]
    fn error_classes() {
        let provider = |error: &str| TokenError::Provider {
            error: error.into(),
            description: None,
        };
        assert!(provider("invalid_grant").is_invalid_grant());
        assert!(!provider("invalid_client").is_invalid_grant());
        assert!(!TokenError::Server(500).is_invalid_grant());
        for transient in [
            TokenError::Server(502),
            TokenError::Network("offline".into()),
            TokenError::UnexpectedStatus(429),
            provider("temporarily_unavailable"),
            provider("use_dpop_nonce"),
            provider("invalid_dpop_proof"),
        ] {
            assert!(transient.is_transient(), "{transient:?}");
        }
        for fatal in [
            provider("invalid_grant"),
            TokenError::NotJson { status: 200 },
            TokenError::UnexpectedStatus(404),
        ] {
            assert!(!fatal.is_transient(), "{fatal:?}");
        }
        assert_eq!(
            TokenError::Provider {
                error: "invalid_grant".into(),
                description: Some("code expired".into())
            }
            .to_string(),
            "the provider refused the sign-in code (invalid_grant): code expired; sign in again"
        );
    }
}
