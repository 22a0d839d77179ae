//! OpenID Provider metadata (OpenID Connect Discovery 1.0): where the provider's endpoints are and
//! what it supports, checked against the configured issuer and flow so that a setup mistake shows
//! as one clear error at start rather than a failure halfway through a sign-in.

use super::fields::{self, Object, WrongType};
use super::jwks::Alg;
use super::urls::{check_endpoint, UrlProblem};
use crate::config::Flow;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;

/// Largest discovery document accepted. Real ones are a few KiB; an answer far larger is not one.
pub const MAX_DISCOVERY_LEN: usize = 256 * 1024;

/// The metadata this app uses, validated by [`parse_discovery`]. Serializable, so the app can
/// cache it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderMetadata {
    /// The issuer identifier; equal to the configured one.
    pub issuer: String,
    /// Where sign-in starts (the authorize URL's base).
    pub authorization_endpoint: String,
    /// Where codes are exchanged for tokens; present whenever the code flow is configured.
    pub token_endpoint: Option<String>,
    /// Where profile claims can be fetched with the access token.
    pub userinfo_endpoint: Option<String>,
    /// The provider's signing keys (JWKS).
    pub jwks_uri: String,
    /// RP-Initiated Logout endpoint; `None` means sign-out is local only.
    pub end_session_endpoint: Option<String>,
    /// Token revocation (RFC 7009); where logout revokes a refresh token.
    pub revocation_endpoint: Option<String>,
    /// JWS algorithms the provider may sign id_tokens with; at least one is [`Alg`]-supported.
    pub id_token_signing_alg_values_supported: Vec<String>,
    /// `response_type` values the provider offers (empty when the document omits them).
    pub response_types_supported: Vec<String>,
    /// PKCE methods (RFC 8414); empty when the document omits them.
    pub code_challenge_methods_supported: Vec<String>,
    /// Whether authorization responses carry `iss` (RFC 9207); if so, the callback must have it.
    pub authorization_response_iss_parameter_supported: bool,
    /// JWS algorithms the provider accepts for DPoP proofs (RFC 9449 §5.1); empty when the document
    /// omits them. With ES256 among them, `dpop: auto` binds tokens to the browser's key.
    #[serde(default)]
    pub dpop_signing_alg_values_supported: Vec<String>,
}

/// Why a discovery document cannot be used. Each variant names what to fix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DiscoveryError {
    /// The document is larger than [`MAX_DISCOVERY_LEN`].
    TooLarge,
    /// The body is not a JSON object: usually an HTML page, because `issuer` points at a web site
    /// rather than at the provider.
    NotJson,
    /// A member this app needs is absent.
    MissingField(&'static str),
    /// A member has the wrong JSON type or form; `expected` describes the right one.
    InvalidField {
        /// The member's name.
        field: &'static str,
        /// What it should be, e.g. "a string".
        expected: &'static str,
    },
    /// The document's `issuer` differs from the configured one. OpenID Connect Discovery §4.3
    /// requires them to be identical (a trailing slash counts), or tokens could come from anyone.
    IssuerMismatch {
        /// The issuer in `config.json`.
        configured: String,
        /// The issuer the provider states.
        discovered: String,
    },
    /// An endpoint uses plain `http` on a host other than loopback.
    InsecureEndpoint {
        /// The member's name.
        field: &'static str,
        /// Its value.
        url: String,
    },
    /// The code flow is configured but the provider has no `token_endpoint`.
    NoTokenEndpoint,
    /// The provider lists PKCE methods without `S256`, which the code flow uses.
    NoS256,
    /// The provider's `response_types_supported` lacks the response type of the configured flow.
    ResponseTypeUnsupported(&'static str),
    /// The provider signs id_tokens with none of the algorithms this app verifies (RS256, ES256);
    /// holds the ones it lists.
    NoSupportedAlg(Vec<String>),
}

impl fmt::Display for DiscoveryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DiscoveryError::TooLarge => write!(
                f,
                "the provider's discovery document is larger than {} KiB: check `issuer` in \
                 config.json",
                MAX_DISCOVERY_LEN / 1024
            ),
            DiscoveryError::NotJson => f.write_str(
                "the provider's discovery document is not JSON: check that `issuer` in config.json \
                 is the provider's issuer URL",
            ),
            DiscoveryError::MissingField(field) => write!(
                f,
                "the provider's discovery document lacks `{field}`: check that `issuer` in \
                 config.json is an OpenID Connect provider"
            ),
            DiscoveryError::InvalidField { field, expected } => write!(
                f,
                "the provider's discovery document has an invalid `{field}` (expected {expected})"
            ),
            DiscoveryError::IssuerMismatch {
                configured,
                discovered,
            } => write!(
                f,
                "the provider's issuer is \"{discovered}\" but config.json says \"{configured}\": \
                 copy the provider's value into `issuer` in config.json"
            ),
            DiscoveryError::InsecureEndpoint { field, url } => write!(
                f,
                "the provider's `{field}` ({url}) does not use https, which only localhost may skip"
            ),
            DiscoveryError::NoTokenEndpoint => f.write_str(
                "the provider has no token endpoint, which the code flow needs: set `flow` to \
                 \"implicit\" in config.json",
            ),
            DiscoveryError::NoS256 => f.write_str(
                "the provider does not offer PKCE with S256, which the code flow needs: enable it \
                 at the provider",
            ),
            DiscoveryError::ResponseTypeUnsupported(response_type) => write!(
                f,
                "the provider does not offer response type \"{response_type}\": enable it at the \
                 provider or change `flow` in config.json"
            ),
            DiscoveryError::NoSupportedAlg(algs) => write!(
                f,
                "the provider signs id_tokens with {} only; set the client's signing algorithm to \
                 RS256 or ES256 at the provider",
                if algs.is_empty() {
                    "nothing".to_owned()
                } else {
                    algs.join(", ")
                }
            ),
        }
    }
}

impl std::error::Error for DiscoveryError {}

/// The discovery document's URL: the issuer without its trailing slash, then
/// `/.well-known/openid-configuration` (OpenID Connect Discovery §4).
pub fn discovery_url(issuer: &str) -> String {
    let base = issuer.strip_suffix('/').unwrap_or(issuer);
    format!("{base}/.well-known/openid-configuration")
}

/// Parses and checks a discovery document for the configured issuer and flow.
///
/// Checks: the issuer equals `expected_issuer` exactly; endpoints are https (http on loopback); at
/// least one id_token signing algorithm is one this app verifies; the code flow has a token
/// endpoint and, if PKCE methods are listed, S256; the flow's response type is offered when the
/// document lists response types.
pub fn parse_discovery(
    json: &str,
    expected_issuer: &str,
    flow: Flow,
) -> Result<ProviderMetadata, DiscoveryError> {
    if json.len() > MAX_DISCOVERY_LEN {
        return Err(DiscoveryError::TooLarge);
    }
    let Ok(Value::Object(doc)) = serde_json::from_str::<Value>(json) else {
        return Err(DiscoveryError::NotJson);
    };
    let issuer = required(string(&doc, "issuer")?, "issuer")?;
    if issuer != expected_issuer {
        return Err(DiscoveryError::IssuerMismatch {
            configured: expected_issuer.to_owned(),
            discovered: issuer,
        });
    }
    endpoint("issuer", &issuer)?;
    let authorization_endpoint = required_endpoint(&doc, "authorization_endpoint")?;
    let token_endpoint = optional_endpoint(&doc, "token_endpoint")?;
    let userinfo_endpoint = optional_endpoint(&doc, "userinfo_endpoint")?;
    let jwks_uri = required_endpoint(&doc, "jwks_uri")?;
    let end_session_endpoint = optional_endpoint(&doc, "end_session_endpoint")?;
    let revocation_endpoint = optional_endpoint(&doc, "revocation_endpoint")?;
    let algs = required(
        strings(&doc, "id_token_signing_alg_values_supported")?,
        "id_token_signing_alg_values_supported",
    )?;
    // Spec-required, but only used here to fail early with a clear message: absent means unknown.
    let response_types = strings(&doc, "response_types_supported")?.unwrap_or_default();
    let methods = strings(&doc, "code_challenge_methods_supported")?;
    let dpop_algs = strings(&doc, "dpop_signing_alg_values_supported")?.unwrap_or_default();
    let iss_parameter = fields::boolean(&doc, "authorization_response_iss_parameter_supported")
        .map_err(|WrongType| DiscoveryError::InvalidField {
            field: "authorization_response_iss_parameter_supported",
            expected: "true or false",
        })?
        .unwrap_or(false);

    if !algs.iter().any(|alg| Alg::from_name(alg).is_some()) {
        return Err(DiscoveryError::NoSupportedAlg(algs));
    }
    let response_type = match flow {
        Flow::Code => {
            if token_endpoint.is_none() {
                return Err(DiscoveryError::NoTokenEndpoint);
            }
            if let Some(methods) = &methods {
                if !methods.iter().any(|method| method == "S256") {
                    return Err(DiscoveryError::NoS256);
                }
            }
            "code"
        }
        Flow::Implicit => "id_token token",
    };
    if !response_types.is_empty()
        && !response_types
            .iter()
            .any(|offered| same_words(offered, response_type))
    {
        return Err(DiscoveryError::ResponseTypeUnsupported(response_type));
    }
    Ok(ProviderMetadata {
        issuer,
        authorization_endpoint,
        token_endpoint,
        userinfo_endpoint,
        jwks_uri,
        end_session_endpoint,
        revocation_endpoint,
        id_token_signing_alg_values_supported: algs,
        response_types_supported: response_types,
        code_challenge_methods_supported: methods.unwrap_or_default(),
        authorization_response_iss_parameter_supported: iss_parameter,
        dpop_signing_alg_values_supported: dpop_algs,
    })
}

/// Response types are space-separated sets: `token id_token` is `id_token token` (RFC 6749 §3.1.1).
/// `wanted` is ours (a word or two), `offered` the provider's: the same words, each as often. No
/// sort: counting is linear in `offered` for so few wanted words, and weighs less in the bundle.
fn same_words(offered: &str, wanted: &str) -> bool {
    fn words(text: &str) -> impl Iterator<Item = &str> {
        text.split(' ').filter(|word| !word.is_empty())
    }
    let count = |text: &str, word: &str| words(text).filter(|w| *w == word).count();
    words(offered).count() == words(wanted).count()
        && words(wanted).all(|word| count(offered, word) == count(wanted, word))
}

fn string(doc: &Object, field: &'static str) -> Result<Option<String>, DiscoveryError> {
    fields::string(doc, field)
        .map(|value| value.map(str::to_owned))
        .map_err(|WrongType| DiscoveryError::InvalidField {
            field,
            expected: "a string",
        })
}

fn strings(doc: &Object, field: &'static str) -> Result<Option<Vec<String>>, DiscoveryError> {
    fields::strings(doc, field).map_err(|WrongType| DiscoveryError::InvalidField {
        field,
        expected: "an array of strings",
    })
}

fn required<T>(value: Option<T>, field: &'static str) -> Result<T, DiscoveryError> {
    value.ok_or(DiscoveryError::MissingField(field))
}

fn endpoint(field: &'static str, url: &str) -> Result<(), DiscoveryError> {
    check_endpoint(url).map_err(|problem| match problem {
        UrlProblem::NotAUrl => DiscoveryError::InvalidField {
            field,
            expected: "an https URL without fragment",
        },
        UrlProblem::InsecureHttp => DiscoveryError::InsecureEndpoint {
            field,
            url: url.to_owned(),
        },
    })
}

fn required_endpoint(doc: &Object, field: &'static str) -> Result<String, DiscoveryError> {
    let url = required(string(doc, field)?, field)?;
    endpoint(field, &url)?;
    Ok(url)
}

fn optional_endpoint(doc: &Object, field: &'static str) -> Result<Option<String>, DiscoveryError> {
    let url = string(doc, field)?;
    if let Some(url) = &url {
        endpoint(field, url)?;
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ISSUER: &str = "http://localhost:4000";

    /// The local provider's document (panva/oidc-provider), trimmed to the members that matter.
    fn local_provider() -> Value {
        json!({
            "issuer": ISSUER,
            "authorization_endpoint": "http://localhost:4000/auth",
            "token_endpoint": "http://localhost:4000/token",
            "userinfo_endpoint": "http://localhost:4000/me",
            "jwks_uri": "http://localhost:4000/jwks",
            "end_session_endpoint": "http://localhost:4000/session/end",
            "revocation_endpoint": "http://localhost:4000/token/revocation",
            "id_token_signing_alg_values_supported": ["ES256", "EdDSA", "PS256", "RS256"],
            "response_types_supported": ["code", "id_token token"],
            "code_challenge_methods_supported": ["S256"],
            "authorization_response_iss_parameter_supported": true,
            "subject_types_supported": ["public"],
            "dpop_signing_alg_values_supported": ["ES256", "EdDSA"],
        })
    }

    fn with(field: &str, value: Value) -> String {
        let mut doc = local_provider();
        doc[field] = value;
        doc.to_string()
    }

    fn without(field: &str) -> String {
        let mut doc = local_provider();
        doc.as_object_mut().map(|doc| doc.remove(field));
        doc.to_string()
    }

    fn check(json: &str, flow: Flow, expected: Result<(), DiscoveryError>) {
        let actual = parse_discovery(json, ISSUER, flow).map(|_| ());
        assert_eq!(actual, expected, "{json}");
    }

    fn invalid(field: &'static str, expected: &'static str) -> Result<(), DiscoveryError> {
        Err(DiscoveryError::InvalidField { field, expected })
    }

    #[test]
    fn discovery_url_appends_the_well_known_path() {
        let check = |issuer: &str, expected: &str| assert_eq!(discovery_url(issuer), expected);
        check(
            "http://localhost:4000",
            "http://localhost:4000/.well-known/openid-configuration",
        );
        check(
            "https://example.eu.auth0.com/",
            "https://example.eu.auth0.com/.well-known/openid-configuration",
        );
        check(
            "https://id.example.com/realms/app",
            "https://id.example.com/realms/app/.well-known/openid-configuration",
        );
    }

    #[test]
    fn parses_the_local_provider() {
        let metadata = parse_discovery(&local_provider().to_string(), ISSUER, Flow::Code).unwrap();
        assert_eq!(
            metadata,
            ProviderMetadata {
                issuer: ISSUER.into(),
                authorization_endpoint: "http://localhost:4000/auth".into(),
                token_endpoint: Some("http://localhost:4000/token".into()),
                userinfo_endpoint: Some("http://localhost:4000/me".into()),
                jwks_uri: "http://localhost:4000/jwks".into(),
                end_session_endpoint: Some("http://localhost:4000/session/end".into()),
                revocation_endpoint: Some("http://localhost:4000/token/revocation".into()),
                id_token_signing_alg_values_supported: vec![
                    "ES256".into(),
                    "EdDSA".into(),
                    "PS256".into(),
                    "RS256".into()
                ],
                response_types_supported: vec!["code".into(), "id_token token".into()],
                code_challenge_methods_supported: vec!["S256".into()],
                authorization_response_iss_parameter_supported: true,
                dpop_signing_alg_values_supported: vec!["ES256".into(), "EdDSA".into()],
            }
        );
        // The cached form reads back as it was.
        let cached = serde_json::to_string(&metadata).unwrap();
        assert_eq!(
            serde_json::from_str::<ProviderMetadata>(&cached).unwrap(),
            metadata
        );
    }

    #[test]
    fn accepted_documents() {
        let table: &[(String, Flow)] = &[
            (local_provider().to_string(), Flow::Code),
            (local_provider().to_string(), Flow::Implicit),
            // Optional members absent or null.
            (without("end_session_endpoint"), Flow::Code),
            (with("userinfo_endpoint", Value::Null), Flow::Code),
            (
                without("authorization_response_iss_parameter_supported"),
                Flow::Code,
            ),
            // No PKCE list: S256 is assumed (many providers support it without saying so).
            (without("code_challenge_methods_supported"), Flow::Code),
            (without("response_types_supported"), Flow::Implicit),
            // No DPoP: bearer tokens (`dpop: auto`).
            (without("dpop_signing_alg_values_supported"), Flow::Code),
            // Implicit needs no token endpoint; response types are sets of words.
            (without("token_endpoint"), Flow::Implicit),
            (
                with("response_types_supported", json!(["token id_token"])),
                Flow::Implicit,
            ),
            (
                with(
                    "response_types_supported",
                    json!(["code", " token  id_token "]),
                ),
                Flow::Implicit,
            ),
        ];
        for (json, flow) in table {
            check(json, *flow, Ok(()));
        }
    }

    #[test]
    fn rejected_documents() {
        let code = Flow::Code;
        let table: Vec<(String, Flow, Result<(), DiscoveryError>)> = vec![
            ("".into(), code, Err(DiscoveryError::NotJson)),
            (
                "<html>Not found</html>".into(),
                code,
                Err(DiscoveryError::NotJson),
            ),
            ("[]".into(), code, Err(DiscoveryError::NotJson)),
            ("\"issuer\"".into(), code, Err(DiscoveryError::NotJson)),
            (
                format!("{{\"x\":\"{}\"}}", "a".repeat(MAX_DISCOVERY_LEN)),
                code,
                Err(DiscoveryError::TooLarge),
            ),
            (
                without("issuer"),
                code,
                Err(DiscoveryError::MissingField("issuer")),
            ),
            (
                without("authorization_endpoint"),
                code,
                Err(DiscoveryError::MissingField("authorization_endpoint")),
            ),
            (
                without("jwks_uri"),
                code,
                Err(DiscoveryError::MissingField("jwks_uri")),
            ),
            (
                without("id_token_signing_alg_values_supported"),
                code,
                Err(DiscoveryError::MissingField(
                    "id_token_signing_alg_values_supported",
                )),
            ),
            (
                with("issuer", json!(4)),
                code,
                invalid("issuer", "a string"),
            ),
            (
                with("jwks_uri", json!(["http://localhost:4000/jwks"])),
                code,
                invalid("jwks_uri", "a string"),
            ),
            (
                with("response_types_supported", json!("code")),
                code,
                invalid("response_types_supported", "an array of strings"),
            ),
            (
                with(
                    "authorization_response_iss_parameter_supported",
                    json!("yes"),
                ),
                code,
                invalid(
                    "authorization_response_iss_parameter_supported",
                    "true or false",
                ),
            ),
            (
                with("authorization_endpoint", json!("/auth")),
                code,
                invalid("authorization_endpoint", "an https URL without fragment"),
            ),
            (
                with("token_endpoint", json!("http://id.example.com/token")),
                code,
                Err(DiscoveryError::InsecureEndpoint {
                    field: "token_endpoint",
                    url: "http://id.example.com/token".into(),
                }),
            ),
            (
                with("end_session_endpoint", json!("http://10.0.0.5/logout")),
                code,
                Err(DiscoveryError::InsecureEndpoint {
                    field: "end_session_endpoint",
                    url: "http://10.0.0.5/logout".into(),
                }),
            ),
            (
                without("token_endpoint"),
                code,
                Err(DiscoveryError::NoTokenEndpoint),
            ),
            (
                with("code_challenge_methods_supported", json!(["plain"])),
                code,
                Err(DiscoveryError::NoS256),
            ),
            (
                with("response_types_supported", json!(["id_token token"])),
                code,
                Err(DiscoveryError::ResponseTypeUnsupported("code")),
            ),
            (
                with("response_types_supported", json!(["code", "id_token"])),
                Flow::Implicit,
                Err(DiscoveryError::ResponseTypeUnsupported("id_token token")),
            ),
            // The same words, each as often: a repeated word or one more is another response type.
            (
                with(
                    "response_types_supported",
                    json!(["id_token id_token", "token id_token code", "token"]),
                ),
                Flow::Implicit,
                Err(DiscoveryError::ResponseTypeUnsupported("id_token token")),
            ),
            (
                with(
                    "id_token_signing_alg_values_supported",
                    json!(["HS256", "none"]),
                ),
                code,
                Err(DiscoveryError::NoSupportedAlg(vec![
                    "HS256".into(),
                    "none".into(),
                ])),
            ),
            (
                with("id_token_signing_alg_values_supported", json!([])),
                code,
                Err(DiscoveryError::NoSupportedAlg(vec![])),
            ),
            (
                with("dpop_signing_alg_values_supported", json!("ES256")),
                code,
                Err(DiscoveryError::InvalidField {
                    field: "dpop_signing_alg_values_supported",
                    expected: "an array of strings",
                }),
            ),
        ];
        for (json, flow, expected) in table {
            check(&json, flow, expected);
        }
    }

    #[test]
    fn the_issuer_must_match_exactly() {
        for discovered in [
            "http://localhost:4000/",
            "http://127.0.0.1:4000",
            "HTTP://localhost:4000",
            "https://evil.example",
        ] {
            check(
                &with("issuer", json!(discovered)),
                Flow::Code,
                Err(DiscoveryError::IssuerMismatch {
                    configured: ISSUER.into(),
                    discovered: discovered.into(),
                }),
            );
        }
        let message = parse_discovery(
            &with("issuer", json!("http://localhost:4000/")),
            ISSUER,
            Flow::Code,
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            message,
            "the provider's issuer is \"http://localhost:4000/\" but config.json says \
             \"http://localhost:4000\": copy the provider's value into `issuer` in config.json"
        );
    }

    #[test]
    fn messages_name_the_field() {
        let check = |error: DiscoveryError, part: &str| {
            let message = error.to_string();
            assert!(message.contains(part), "{message}");
            assert!(message.starts_with(char::is_lowercase), "{message}");
        };
        check(DiscoveryError::MissingField("jwks_uri"), "`jwks_uri`");
        check(
            DiscoveryError::InsecureEndpoint {
                field: "token_endpoint",
                url: "http://x/token".into(),
            },
            "`token_endpoint` (http://x/token)",
        );
        check(
            DiscoveryError::NoSupportedAlg(vec!["HS256".into()]),
            "HS256 only",
        );
        check(DiscoveryError::NotJson, "`issuer` in config.json");
    }
}
