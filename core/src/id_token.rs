//! id_token validation (OpenID Connect Core §3.1.3.7 and §3.2.2.11), every rule but the signature:
//! the algorithm allow-list, issuer, audience, authorized party, times, nonce and subject, each
//! with its own error. The signature is verified by WebCrypto in the glue, with the key
//! `jwks::select_key` picks; it reports [`IdTokenError::BadSignature`] or
//! [`IdTokenError::UnknownKey`].

use super::fields::{self, Object, WrongType};
use super::jwks::Alg;
use super::jwt::{Jwt, JwtError};
use crate::base64url;
use serde::Serialize;
use std::fmt;

/// Leeway for `exp`, `iat` and `nbf`, in seconds, on top of [`MAX_CLOCK_SKEW_SECS`]: transfer and
/// processing time, and the clock drift of a laptop that has just woken.
pub const LEEWAY_SECS: i64 = 60;

/// How far this browser's clock may be from the provider's, either way, in seconds (five minutes,
/// as Kerberos and oidc-client-ts allow). Such clocks are common (a dead CMOS battery, a VM
/// restored from a snapshot, a manually set time), and the user can do nothing about the
/// provider's. Within it:
/// - the id_token's time claims pass ([`CLOCK_TOLERANCE_SECS`] below): a fresh token can look five
///   minutes old or five minutes early. Replay is not what these checks stop: the `nonce`, single
///   use and bound to this request, does that;
/// - renewal times do not depend on the skew at all: a session's lifetime is the relative
///   `expires_in` (or `exp - iat`), counted from when the browser received it (`session::Session`).
///
/// Beyond it, the token is refused with [`IdTokenError::IssuedInFuture`] or
/// [`IdTokenError::Expired`], and the setup doctor's clock check turns red.
pub const MAX_CLOCK_SKEW_SECS: i64 = 5 * 60;

/// The tolerance of the time claims checks: [`MAX_CLOCK_SKEW_SECS`] + [`LEEWAY_SECS`].
pub const CLOCK_TOLERANCE_SECS: i64 = MAX_CLOCK_SKEW_SECS + LEEWAY_SECS;

/// What the token must match. Times in seconds since the Unix epoch, the unit of JWT claims.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IdTokenExpectations<'a> {
    /// The configured issuer; `iss` must equal it exactly.
    pub issuer: &'a str,
    /// This app's client id; `aud` must contain it.
    pub client_id: &'a str,
    /// What `nonce` (and, on refresh, `auth_time`) must be.
    pub nonce: Nonce<'a>,
    /// The current time, in seconds since the Unix epoch.
    pub now_secs: i64,
    /// On renewal, the current session's `sub`: the user must not change.
    pub expected_sub: Option<&'a str>,
}

/// What an id_token's `nonce` must be, by what it answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nonce<'a> {
    /// A sign-in or a silent renewal: the request's nonce, exactly (a replayed or injected token
    /// fails here).
    Request(&'a str),
    /// A refresh-token grant (OpenID Connect Core §12.2): no nonce was sent, so the new token carries
    /// none or the original token's; its `auth_time`, when present, is the original authentication's.
    Refresh {
        /// The original id_token's `nonce`.
        original: Option<&'a str>,
        /// The original id_token's `auth_time`.
        auth_time: Option<i64>,
    },
}

/// The validated claims the app keeps (in the session) and shows (on the profile page).
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
pub struct IdClaims {
    /// Subject: the user's stable id at the provider.
    pub sub: String,
    /// Issuer.
    pub iss: String,
    /// Audiences; the token may state one as a string or several as an array.
    pub aud: Vec<String>,
    /// Expiry, in seconds since the epoch.
    pub exp: i64,
    /// Issue time, in seconds since the epoch.
    pub iat: i64,
    /// When the user last authenticated at the provider, in seconds since the epoch.
    pub auth_time: Option<i64>,
    /// The request's nonce, repeated.
    pub nonce: Option<String>,
    /// Authorized party: the client the token was issued to.
    pub azp: Option<String>,
    /// Full name, for display.
    pub name: Option<String>,
    /// E-mail address, for display.
    pub email: Option<String>,
    /// Whether the provider verified the e-mail address.
    pub email_verified: Option<bool>,
    /// The user's preferred short name, for display.
    pub preferred_username: Option<String>,
    /// URL of a profile picture; display it only from https.
    pub picture: Option<String>,
}

/// Why an id_token is refused. Each rule has its own variant, so tests and logs tell them apart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IdTokenError {
    /// No id_token where one was required (a token response without one: `openid` missing from
    /// the scope, or a provider that is not OpenID Connect).
    Missing,
    /// The token could not be decoded (for callers that chain decoding and validation).
    Malformed(JwtError),
    /// `alg` is `none`: the token is unsigned.
    AlgNone,
    /// `alg` is a shared-secret algorithm (`HS*`), which a public client cannot verify and anyone
    /// could forge; holds the name.
    SymmetricAlg(String),
    /// `alg` is another algorithm this app does not verify (it verifies RS256 and ES256).
    UnsupportedAlg(String),
    /// No key in the provider's JWKS fits the token, even after fetching the set again (glue).
    UnknownKey,
    /// The signature does not verify with the provider's key (glue).
    BadSignature,
    /// A required claim is absent; names it.
    MissingClaim(&'static str),
    /// A claim has the wrong type or an impossible value; names it.
    InvalidClaim(&'static str),
    /// `iss` is not the configured issuer.
    WrongIssuer {
        /// The configured issuer.
        expected: String,
        /// The token's `iss`.
        found: String,
    },
    /// `aud` does not contain this app's client id.
    WrongAudience {
        /// This app's client id.
        client_id: String,
        /// The token's audiences.
        found: Vec<String>,
    },
    /// The token has several audiences but no `azp` naming this app (OpenID Connect Core
    /// §3.1.3.7, rule 4).
    MissingAzp,
    /// `azp` names another client; holds it.
    WrongAzp(String),
    /// `exp` has passed, beyond [`CLOCK_TOLERANCE_SECS`].
    Expired {
        /// The token's `exp`.
        exp: i64,
        /// The time of the check.
        now: i64,
    },
    /// `iat` lies in the future, beyond [`CLOCK_TOLERANCE_SECS`]: the token, or this computer's clock, is wrong.
    IssuedInFuture {
        /// The token's `iat`.
        iat: i64,
        /// The time of the check.
        now: i64,
    },
    /// `nbf` lies in the future, beyond [`CLOCK_TOLERANCE_SECS`].
    NotYetValid {
        /// The token's `nbf`.
        nbf: i64,
        /// The time of the check.
        now: i64,
    },
    /// `nonce` is absent or differs from the request's: a replayed or injected token.
    WrongNonce,
    /// On renewal, `sub` differs from the current session's: another user signed in at the
    /// provider. The session must end.
    SubjectChanged,
    /// Implicit flow: the id_token lacks `at_hash`, so the access token is not bound to it.
    MissingAtHash,
    /// Implicit flow: `at_hash` does not match the access token (a swapped token).
    WrongAtHash,
}

impl From<JwtError> for IdTokenError {
    fn from(error: JwtError) -> IdTokenError {
        IdTokenError::Malformed(error)
    }
}

impl fmt::Display for IdTokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const AGAIN: &str = ": sign in again";
        match self {
            IdTokenError::Missing => f.write_str(
                "the provider sent no id_token: check that `scope` in config.json includes openid",
            ),
            IdTokenError::Malformed(error) => write!(f, "{error}"),
            IdTokenError::AlgNone => write!(f, "the provider's id_token is unsigned{AGAIN}"),
            IdTokenError::SymmetricAlg(alg) | IdTokenError::UnsupportedAlg(alg) => write!(
                f,
                "the id_token is signed with {alg}, which this app does not accept: set the \
                 client's signing algorithm to RS256 or ES256 at the provider"
            ),
            IdTokenError::UnknownKey => f.write_str(
                "the id_token is signed with a key the provider does not publish: sign in again",
            ),
            IdTokenError::BadSignature => {
                write!(f, "the id_token's signature is not valid{AGAIN}")
            }
            IdTokenError::MissingClaim(claim) => {
                write!(f, "the id_token lacks the `{claim}` claim{AGAIN}")
            }
            IdTokenError::InvalidClaim(claim) => {
                write!(f, "the id_token's `{claim}` claim is invalid{AGAIN}")
            }
            IdTokenError::WrongIssuer { expected, found } => write!(
                f,
                "the id_token was issued by \"{found}\", not \"{expected}\": check `issuer` in \
                 config.json"
            ),
            IdTokenError::WrongAudience { client_id, .. } => write!(
                f,
                "the id_token is not meant for client \"{client_id}\": check `client_id` in \
                 config.json"
            ),
            IdTokenError::MissingAzp => write!(
                f,
                "the id_token has several audiences but does not name this app as its party{AGAIN}"
            ),
            IdTokenError::WrongAzp(azp) => {
                write!(
                    f,
                    "the id_token was issued to client \"{azp}\", not this app{AGAIN}"
                )
            }
            IdTokenError::Expired { .. } => write!(
                f,
                "the id_token has expired, or this computer's clock is more than 5 minutes behind the \
                 provider's: check the clock and sign in again"
            ),
            IdTokenError::IssuedInFuture { .. } | IdTokenError::NotYetValid { .. } => write!(
                f,
                "the id_token is not valid yet, or this computer's clock is more than 5 minutes ahead \
                 of the provider's: check the clock and sign in again"
            ),
            IdTokenError::WrongNonce => {
                write!(
                    f,
                    "the id_token does not answer this sign-in (nonce){AGAIN}"
                )
            }
            IdTokenError::SubjectChanged => f.write_str(
                "another user signed in at the provider: sign in again to continue as that user",
            ),
            IdTokenError::MissingAtHash | IdTokenError::WrongAtHash => write!(
                f,
                "the access token does not belong to the id_token (at_hash){AGAIN}"
            ),
        }
    }
}

impl std::error::Error for IdTokenError {}

/// Validates a decoded id_token's algorithm and claims against `expect`; returns the algorithm
/// (for the signature check) and the claims. The caller still verifies the signature.
///
/// Order: algorithm, claim types, `iss`, `aud`, `azp`, `exp`, `iat`, `nbf`, `nonce`, `sub`.
pub fn validate_id_token(
    jwt: &Jwt,
    expect: &IdTokenExpectations,
) -> Result<(Alg, IdClaims), IdTokenError> {
    let alg = allowed_alg(&jwt.header.alg)?;
    let claims = read_claims(&jwt.claims)?;
    let nbf = fields::numeric_date(&jwt.claims, "nbf")
        .map_err(|WrongType| IdTokenError::InvalidClaim("nbf"))?;
    let now = expect.now_secs;

    if claims.iss != expect.issuer {
        return Err(IdTokenError::WrongIssuer {
            expected: expect.issuer.to_owned(),
            found: claims.iss,
        });
    }
    if !claims.aud.iter().any(|aud| aud == expect.client_id) {
        return Err(IdTokenError::WrongAudience {
            client_id: expect.client_id.to_owned(),
            found: claims.aud,
        });
    }
    match &claims.azp {
        Some(azp) if azp != expect.client_id => return Err(IdTokenError::WrongAzp(azp.clone())),
        None if claims.aud.len() > 1 => return Err(IdTokenError::MissingAzp),
        _ => {}
    }
    if claims.exp <= now.saturating_sub(CLOCK_TOLERANCE_SECS) {
        return Err(IdTokenError::Expired {
            exp: claims.exp,
            now,
        });
    }
    if claims.iat > now.saturating_add(CLOCK_TOLERANCE_SECS) {
        return Err(IdTokenError::IssuedInFuture {
            iat: claims.iat,
            now,
        });
    }
    if let Some(nbf) = nbf {
        if nbf > now.saturating_add(CLOCK_TOLERANCE_SECS) {
            return Err(IdTokenError::NotYetValid { nbf, now });
        }
    }
    let nonce_matches = match expect.nonce {
        Nonce::Request(nonce) => claims.nonce.as_deref() == Some(nonce) && !nonce.is_empty(),
        Nonce::Refresh {
            original,
            auth_time,
        } => {
            (claims.nonce.is_none() || claims.nonce.as_deref() == original)
                && (claims.auth_time.is_none()
                    || auth_time.is_none()
                    || claims.auth_time == auth_time)
        }
    };
    if !nonce_matches {
        return Err(IdTokenError::WrongNonce);
    }
    if let Some(expected_sub) = expect.expected_sub {
        if claims.sub != expected_sub {
            return Err(IdTokenError::SubjectChanged);
        }
    }
    Ok((alg, claims))
}

fn allowed_alg(name: &str) -> Result<Alg, IdTokenError> {
    if let Some(alg) = Alg::from_name(name) {
        return Ok(alg);
    }
    Err(if name.eq_ignore_ascii_case("none") {
        IdTokenError::AlgNone
    } else if name.starts_with("HS") {
        IdTokenError::SymmetricAlg(name.to_owned())
    } else {
        IdTokenError::UnsupportedAlg(name.to_owned())
    })
}

/// Reads the claims with one error per claim. Security claims of the wrong type are errors;
/// display claims of the wrong type are dropped (some providers send `email_verified` as a
/// string, which is read as the boolean it spells).
fn read_claims(claims: &Object) -> Result<IdClaims, IdTokenError> {
    let string = |name: &'static str| {
        fields::string(claims, name)
            .map(|value| value.map(str::to_owned))
            .map_err(|WrongType| IdTokenError::InvalidClaim(name))
    };
    let required_string =
        |name: &'static str| string(name)?.ok_or(IdTokenError::MissingClaim(name));
    let date = |name: &'static str| {
        fields::numeric_date(claims, name).map_err(|WrongType| IdTokenError::InvalidClaim(name))
    };
    let display = |name: &str| {
        fields::string(claims, name)
            .ok()
            .flatten()
            .map(str::to_owned)
    };

    let sub = required_string("sub")?;
    if sub.is_empty() {
        return Err(IdTokenError::InvalidClaim("sub"));
    }
    let iss = required_string("iss")?;
    let aud = fields::one_or_many(claims, "aud")
        .map_err(|WrongType| IdTokenError::InvalidClaim("aud"))?
        .ok_or(IdTokenError::MissingClaim("aud"))?;
    let exp = date("exp")?.ok_or(IdTokenError::MissingClaim("exp"))?;
    let iat = date("iat")?.ok_or(IdTokenError::MissingClaim("iat"))?;
    let email_verified = match claims.get("email_verified") {
        Some(serde_json::Value::Bool(value)) => Some(*value),
        Some(serde_json::Value::String(text)) => match text.as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        },
        _ => None,
    };
    Ok(IdClaims {
        sub,
        iss,
        aud,
        exp,
        iat,
        auth_time: date("auth_time")?,
        nonce: string("nonce")?,
        azp: string("azp")?,
        name: display("name"),
        email: display("email"),
        email_verified,
        preferred_username: display("preferred_username"),
        picture: display("picture"),
    })
}

/// Checks `at_hash` (OpenID Connect Core §3.2.2.9): the base64url of the left half of the access
/// token's SHA-256 (the hash of RS256 and ES256 alike). Required in the implicit flow, where the
/// access token travels in the URL beside the id_token. The hash is the caller's (WebCrypto).
pub fn check_at_hash(
    claims_at_hash: Option<&str>,
    access_token_sha256: &[u8; 32],
) -> Result<(), IdTokenError> {
    let claimed = claims_at_hash.ok_or(IdTokenError::MissingAtHash)?;
    let (left, _) = access_token_sha256.split_at(16);
    if base64url::encode(left) == claimed {
        Ok(())
    } else {
        Err(IdTokenError::WrongAtHash)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jwt::decode_jwt;
    use crate::test_support::{self, jwt};
    use serde_json::{json, Value};
    use sha2::{Digest, Sha256};

    const ISSUER: &str = "http://localhost:4000";
    const CLIENT: &str = "oidc-renew-demo";
    const NONCE: &str = "n-0S6_WzA2Mj";
    const NOW: i64 = 1_700_000_000;

    const EXPECT: IdTokenExpectations<'static> = IdTokenExpectations {
        issuer: ISSUER,
        client_id: CLIENT,
        nonce: Nonce::Request(NONCE),
        now_secs: NOW,
        expected_sub: None,
    };

    fn header() -> Value {
        json!({"alg": "RS256", "kid": "k1", "typ": "JWT"})
    }

    /// The claims of a good token issued just now, as JSON.
    fn good() -> Value {
        serde_json::to_value(test_support::claims(NOW)).unwrap()
    }

    fn with(mut claims: Value, changes: Value) -> Value {
        if let (Some(claims), Value::Object(changes)) = (claims.as_object_mut(), changes) {
            for (name, value) in changes {
                claims.insert(name, value);
            }
        }
        claims
    }

    fn without(mut claims: Value, name: &str) -> Value {
        if let Some(claims) = claims.as_object_mut() {
            claims.remove(name);
        }
        claims
    }

    fn check(
        header: Value,
        claims: Value,
        expect: IdTokenExpectations,
        expected: Result<Alg, IdTokenError>,
    ) {
        let token = jwt(header, claims.clone());
        let decoded = decode_jwt(&token).unwrap();
        let actual = validate_id_token(&decoded, &expect).map(|(alg, _)| alg);
        assert_eq!(actual, expected, "{claims}");
    }

    fn check_claims(claims: Value, expected: Result<Alg, IdTokenError>) {
        check(header(), claims, EXPECT, expected);
    }

    #[test]
    fn a_ten_second_token_passes_with_five_minutes_of_skew_either_way() {
        for skew in [-MAX_CLOCK_SKEW_SECS, MAX_CLOCK_SKEW_SECS] {
            // The provider's clock is `skew` ahead of ours: its fresh token carries its time.
            let claims = with(
                good(),
                json!({"iat": NOW + skew, "nbf": NOW + skew, "exp": NOW + skew + 10}),
            );
            check_claims(claims, Ok(Alg::Rs256));
        }
    }

    #[test]
    fn accepts_a_good_token() {
        let token = jwt(header(), good());
        let (alg, claims) = validate_id_token(&decode_jwt(&token).unwrap(), &EXPECT).unwrap();
        assert_eq!(alg, Alg::Rs256);
        assert_eq!(claims, test_support::claims(NOW));
        check(json!({"alg": "ES256"}), good(), EXPECT, Ok(Alg::Es256));
        // Within the tolerance on every side.
        check_claims(
            with(good(), json!({"exp": NOW - CLOCK_TOLERANCE_SECS + 1})),
            Ok(Alg::Rs256),
        );
        check_claims(
            with(good(), json!({"iat": NOW + CLOCK_TOLERANCE_SECS})),
            Ok(Alg::Rs256),
        );
        check_claims(
            with(good(), json!({"nbf": NOW + CLOCK_TOLERANCE_SECS})),
            Ok(Alg::Rs256),
        );
        // aud as an array; several audiences with azp; azp with one audience.
        check_claims(with(good(), json!({"aud": [CLIENT]})), Ok(Alg::Rs256));
        check_claims(
            with(good(), json!({"aud": [CLIENT, "urn:api"], "azp": CLIENT})),
            Ok(Alg::Rs256),
        );
        check_claims(with(good(), json!({"azp": CLIENT})), Ok(Alg::Rs256));
        // Renewal by the same user.
        let renewal = IdTokenExpectations {
            expected_sub: Some("demo"),
            ..EXPECT
        };
        check(header(), good(), renewal, Ok(Alg::Rs256));
    }

    #[test]
    fn each_failure_has_its_own_error() {
        let table: Vec<(Value, Value, IdTokenError)> = vec![
            (json!({"alg": "none"}), good(), IdTokenError::AlgNone),
            (json!({"alg": "NONE"}), good(), IdTokenError::AlgNone),
            (
                json!({"alg": "HS256"}),
                good(),
                IdTokenError::SymmetricAlg("HS256".into()),
            ),
            (
                json!({"alg": "HS512"}),
                good(),
                IdTokenError::SymmetricAlg("HS512".into()),
            ),
            (
                json!({"alg": "PS256"}),
                good(),
                IdTokenError::UnsupportedAlg("PS256".into()),
            ),
            (
                json!({"alg": "rs256"}),
                good(),
                IdTokenError::UnsupportedAlg("rs256".into()),
            ),
            (
                header(),
                with(good(), json!({"iss": "https://evil.example"})),
                IdTokenError::WrongIssuer {
                    expected: ISSUER.into(),
                    found: "https://evil.example".into(),
                },
            ),
            (
                header(),
                with(good(), json!({"iss": "http://localhost:4000/"})),
                IdTokenError::WrongIssuer {
                    expected: ISSUER.into(),
                    found: "http://localhost:4000/".into(),
                },
            ),
            (
                header(),
                with(good(), json!({"aud": "another-client"})),
                IdTokenError::WrongAudience {
                    client_id: CLIENT.into(),
                    found: vec!["another-client".into()],
                },
            ),
            (
                header(),
                with(good(), json!({"aud": []})),
                IdTokenError::WrongAudience {
                    client_id: CLIENT.into(),
                    found: vec![],
                },
            ),
            (
                header(),
                with(good(), json!({"aud": [CLIENT, "urn:api"]})),
                IdTokenError::MissingAzp,
            ),
            (
                header(),
                with(
                    good(),
                    json!({"aud": [CLIENT, "urn:api"], "azp": "urn:api"}),
                ),
                IdTokenError::WrongAzp("urn:api".into()),
            ),
            (
                header(),
                with(good(), json!({"azp": "another-client"})),
                IdTokenError::WrongAzp("another-client".into()),
            ),
            (
                header(),
                with(good(), json!({"exp": NOW - CLOCK_TOLERANCE_SECS})),
                IdTokenError::Expired {
                    exp: NOW - CLOCK_TOLERANCE_SECS,
                    now: NOW,
                },
            ),
            (
                header(),
                with(good(), json!({"iat": NOW + CLOCK_TOLERANCE_SECS + 1})),
                IdTokenError::IssuedInFuture {
                    iat: NOW + CLOCK_TOLERANCE_SECS + 1,
                    now: NOW,
                },
            ),
            (
                header(),
                with(good(), json!({"nbf": NOW + CLOCK_TOLERANCE_SECS + 1})),
                IdTokenError::NotYetValid {
                    nbf: NOW + CLOCK_TOLERANCE_SECS + 1,
                    now: NOW,
                },
            ),
            (
                header(),
                with(good(), json!({"nonce": "other"})),
                IdTokenError::WrongNonce,
            ),
            (header(), without(good(), "nonce"), IdTokenError::WrongNonce),
            (
                header(),
                with(good(), json!({"sub": ""})),
                IdTokenError::InvalidClaim("sub"),
            ),
            (
                header(),
                without(good(), "sub"),
                IdTokenError::MissingClaim("sub"),
            ),
            (
                header(),
                without(good(), "iss"),
                IdTokenError::MissingClaim("iss"),
            ),
            (
                header(),
                without(good(), "aud"),
                IdTokenError::MissingClaim("aud"),
            ),
            (
                header(),
                without(good(), "exp"),
                IdTokenError::MissingClaim("exp"),
            ),
            (
                header(),
                without(good(), "iat"),
                IdTokenError::MissingClaim("iat"),
            ),
            (
                header(),
                with(good(), json!({"sub": 42})),
                IdTokenError::InvalidClaim("sub"),
            ),
            (
                header(),
                with(good(), json!({"aud": [CLIENT, 1]})),
                IdTokenError::InvalidClaim("aud"),
            ),
            (
                header(),
                with(good(), json!({"aud": {"a": 1}})),
                IdTokenError::InvalidClaim("aud"),
            ),
            (
                header(),
                with(good(), json!({"exp": "soon"})),
                IdTokenError::InvalidClaim("exp"),
            ),
            (
                header(),
                with(good(), json!({"exp": 1e300})),
                IdTokenError::InvalidClaim("exp"),
            ),
            (
                header(),
                with(good(), json!({"iat": null})),
                IdTokenError::MissingClaim("iat"),
            ),
            (
                header(),
                with(good(), json!({"nbf": "now"})),
                IdTokenError::InvalidClaim("nbf"),
            ),
            (
                header(),
                with(good(), json!({"nonce": 7})),
                IdTokenError::InvalidClaim("nonce"),
            ),
            (
                header(),
                with(good(), json!({"azp": true})),
                IdTokenError::InvalidClaim("azp"),
            ),
            (
                header(),
                with(good(), json!({"auth_time": "yesterday"})),
                IdTokenError::InvalidClaim("auth_time"),
            ),
        ];
        for (header, claims, error) in table {
            check(header, claims, EXPECT, Err(error));
        }
    }

    #[test]
    fn expectations_matter() {
        let check_expect = |expect: IdTokenExpectations, error: IdTokenError| {
            check(header(), good(), expect, Err(error));
        };
        check_expect(
            IdTokenExpectations {
                expected_sub: Some("someone-else"),
                ..EXPECT
            },
            IdTokenError::SubjectChanged,
        );
        check_expect(
            IdTokenExpectations {
                nonce: Nonce::Request(""),
                ..EXPECT
            },
            IdTokenError::WrongNonce,
        );
        // A refreshed id_token: no nonce, or the original's; the original authentication's time.
        let refresh =
            |original: Option<&'static str>, auth_time: Option<i64>| IdTokenExpectations {
                nonce: Nonce::Refresh {
                    original,
                    auth_time,
                },
                ..EXPECT
            };
        check(
            header(),
            good(),
            refresh(Some(NONCE), Some(NOW)),
            Ok(Alg::Rs256),
        );
        check(
            header(),
            without(good(), "nonce"),
            refresh(Some(NONCE), Some(NOW)),
            Ok(Alg::Rs256),
        );
        check(
            header(),
            good(),
            refresh(None, None),
            Err(IdTokenError::WrongNonce),
        );
        check(
            header(),
            good(),
            refresh(Some("other"), None),
            Err(IdTokenError::WrongNonce),
        );
        check(
            header(),
            good(),
            refresh(Some(NONCE), Some(NOW - 60)),
            Err(IdTokenError::WrongNonce),
        );
        check_expect(
            IdTokenExpectations {
                now_secs: NOW + 300 + CLOCK_TOLERANCE_SECS,
                ..EXPECT
            },
            IdTokenError::Expired {
                exp: NOW + 300,
                now: NOW + 300 + CLOCK_TOLERANCE_SECS,
            },
        );
        // Extreme clocks do not overflow.
        check_expect(
            IdTokenExpectations {
                now_secs: i64::MAX,
                ..EXPECT
            },
            IdTokenError::Expired {
                exp: NOW + 300,
                now: i64::MAX,
            },
        );
        check_expect(
            IdTokenExpectations {
                now_secs: i64::MIN,
                ..EXPECT
            },
            IdTokenError::IssuedInFuture {
                iat: NOW,
                now: i64::MIN,
            },
        );
    }

    #[test]
    fn display_claims_are_lenient() {
        let token = jwt(
            header(),
            with(
                good(),
                json!({"name": 5, "email": null, "email_verified": "true", "picture": ["x"],
                       "exp": (NOW + 300) as f64 + 0.5}),
            ),
        );
        let (_, claims) = validate_id_token(&decode_jwt(&token).unwrap(), &EXPECT).unwrap();
        assert_eq!(claims.name, None);
        assert_eq!(claims.email, None);
        assert_eq!(claims.email_verified, Some(true));
        assert_eq!(claims.picture, None);
        assert_eq!(claims.exp, NOW + 300);
    }

    fn sha256(text: &str) -> [u8; 32] {
        Sha256::digest(text.as_bytes()).into()
    }

    #[test]
    fn at_hash() {
        let check =
            |at_hash: Option<&str>, access_token: &str, expected: Result<(), IdTokenError>| {
                assert_eq!(
                    check_at_hash(at_hash, &sha256(access_token)),
                    expected,
                    "{access_token}"
                );
            };
        // OpenID Connect Core Appendix A.3 (response_type=id_token token).
        let token = "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y";
        check(Some("77QmUPtjPfzWtF2AnpK9RQ"), token, Ok(()));
        check(
            Some("77QmUPtjPfzWtF2AnpK9RR"),
            token,
            Err(IdTokenError::WrongAtHash),
        );
        check(
            Some("77QmUPtjPfzWtF2AnpK9RQ"),
            "another token",
            Err(IdTokenError::WrongAtHash),
        );
        check(Some(""), token, Err(IdTokenError::WrongAtHash));
        check(None, token, Err(IdTokenError::MissingAtHash));
    }

    #[test]
    fn messages_say_what_to_do() {
        let check = |error: IdTokenError, part: &str| {
            let message = error.to_string();
            assert!(message.contains(part), "{message}");
        };
        check(
            IdTokenError::SymmetricAlg("HS256".into()),
            "RS256 or ES256 at the provider",
        );
        check(
            IdTokenError::WrongAudience {
                client_id: CLIENT.into(),
                found: vec![],
            },
            "check `client_id` in config.json",
        );
        check(
            IdTokenError::IssuedInFuture { iat: 0, now: 0 },
            "check the clock",
        );
        check(IdTokenError::Missing, "openid");
        check(IdTokenError::from(JwtError::MissingAlg), "lacks `alg`");
    }
}
