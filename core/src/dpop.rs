//! DPoP (RFC 9449): tokens bound to a key pair the browser holds, so that a token copied out of the
//! page is worth nothing without the private key, which no script can read (a non-extractable
//! WebCrypto key).
//!
//! Pure like the rest of this crate: the glue generates the key, hashes and signs; this module decides
//! and encodes everything else.
//! - The key's RFC 7638 thumbprint ([`PublicKey::thumbprint_input`], then [`thumbprint`] of its
//!   SHA-256): the `dpop_jkt` of every authorize request (RFC 9449 §10), and what a session records.
//! - The proof ([`ProofClaims`], [`signing_input`], [`compact`]): a JWS with `typ: dpop+jwt`,
//!   `alg: ES256` and the public `jwk` in its header; `htm`, `htu` ([`htu`]: no query, no fragment),
//!   `iat`, a unique `jti` ([`jti`], from random bytes the caller draws), `ath` ([`ath`]) when it goes
//!   with an access token, and `nonce` when the server asked for one.
//! - The servers' answers ([`Answer`]): a nonce challenge ([`retry_nonce`]: the token endpoint's 400
//!   `use_dpop_nonce`, a resource server's 401 with `WWW-Authenticate: DPoP error="use_dpop_nonce"`,
//!   each with a `DPoP-Nonce` header) is answered by one retry, never more; a nonce any answer brings
//!   is remembered for the next request to that server ([`fresh_nonce`]).
//! - Whether DPoP is used at all ([`in_use`]: the `dpop` setting and what discovery lists), and the
//!   token type an answer must have ([`TokenType`]; checked in [`crate::token`]): a `Bearer` answer to
//!   a DPoP request, or the reverse, is an error, never a silent downgrade.
//!
//! Every input from a server (headers, bodies) is hostile: bounded, checked against its grammar, and
//! never a reason to panic or to retry more than once.

use crate::base64url;
pub use crate::config::DpopMode;
use crate::config::Flow;
use crate::fields::{self, Object};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;

/// The one proof algorithm used: ECDSA on P-256 with SHA-256, which every browser's WebCrypto
/// offers for non-extractable keys.
pub const ALG: &str = "ES256";

/// The proof's `typ` header (RFC 9449 §4.2).
pub const TYP: &str = "dpop+jwt";

/// Longest server nonce accepted. Real ones are tens of characters (oidc-provider's: 43).
pub const MAX_NONCE_LEN: usize = 1024;

/// Longest `WWW-Authenticate` header read; a longer one is not read at all.
pub const MAX_CHALLENGE_LEN: usize = 8 * 1024;

/// Longest body of a token endpoint error read for its `error` code.
const MAX_ERROR_BODY_LEN: usize = 64 * 1024;

/// The type of an access token, as the token endpoint states it and as a session records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum TokenType {
    /// Anyone holding the token can use it (RFC 6750).
    #[default]
    Bearer,
    /// Bound to a key: every use carries a proof signed with it (RFC 9449).
    #[serde(rename = "DPoP")]
    DPoP,
}

impl TokenType {
    /// The name a token response gives it, and the `Authorization` scheme it is sent with.
    pub fn name(self) -> &'static str {
        match self {
            TokenType::Bearer => "Bearer",
            TokenType::DPoP => "DPoP",
        }
    }

    /// The type a token response's `token_type` names (case-insensitive, RFC 6749 §7.1), if known.
    pub fn from_name(name: &str) -> Option<TokenType> {
        [TokenType::Bearer, TokenType::DPoP]
            .into_iter()
            .find(|token_type| name.eq_ignore_ascii_case(token_type.name()))
    }

    /// Whether this is [`TokenType::Bearer`] (stored sessions leave the default out).
    pub fn is_bearer(&self) -> bool {
        *self == TokenType::Bearer
    }
}

/// Why DPoP cannot be used as configured, or a key or URL cannot go into a proof.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DpopError {
    /// `dpop` is `on`, and the provider's discovery lists DPoP algorithms without ES256; holds them.
    ProviderLacksEs256(Vec<String>),
    /// `dpop` is `on` with the implicit flow, whose tokens come through the URL and cannot be bound.
    ImplicitFlow,
    /// The public key the browser exported is not an EC P-256 JWK (a glue bug, or a browser that
    /// does not follow WebCrypto).
    KeyNotUsable(&'static str),
    /// The signature is not the 64 bytes `r || s` of an ES256 JWS; holds its length.
    SignatureLength(usize),
    /// The URL a proof is for is not an absolute http(s) URL.
    NotAUrl,
    /// The key the session's tokens are bound to is gone from this browser (its storage was cleared,
    /// or another tab signed in again): the tokens cannot be used any more.
    KeyMissing,
    /// `dpop` is `on`, and the app was built without DPoP (yew-oidc's `dpop` feature is off).
    NotBuilt,
}

impl fmt::Display for DpopError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DpopError::ProviderLacksEs256(algs) => write!(
                f,
                "the provider accepts DPoP proofs signed with {} only, and this app signs with \
                 ES256: enable ES256 for DPoP at the provider, or set `dpop` to \"auto\" or \"off\" \
                 in config.json",
                algs.join(", ")
            ),
            DpopError::ImplicitFlow => f.write_str(
                "DPoP needs the code flow: set `flow` to \"code\" or `dpop` to \"off\" in config.json",
            ),
            DpopError::KeyNotUsable(why) => {
                write!(f, "the browser's DPoP key cannot be used ({why}): sign in again")
            }
            DpopError::SignatureLength(length) => write!(
                f,
                "the browser's DPoP signature has {length} bytes instead of 64: sign in again"
            ),
            DpopError::NotAUrl => f.write_str("a DPoP proof needs an absolute http(s) URL"),
            DpopError::KeyMissing => f.write_str(
                "the key this session's tokens are bound to is gone from this browser: sign in again",
            ),
            DpopError::NotBuilt => f.write_str(
                "`dpop` is \"on\" in config.json, but this app was built without DPoP: enable the \
                 `dpop` feature of yew-oidc (a default feature), or set `dpop` to \"auto\" or \"off\"",
            ),
        }
    }
}

impl std::error::Error for DpopError {}

/// Whether DPoP is used for a new grant (a sign-in or an iframe renewal), from the `dpop` setting,
/// the flow, the provider's `dpop_signing_alg_values_supported` (empty when discovery omits it), and
/// whether the app was `built` with DPoP (yew-oidc's `dpop` feature): without it `auto` means off
/// and `on` is an error, never a silent downgrade to bearer tokens.
pub fn in_use(mode: DpopMode, flow: Flow, algs: &[String], built: bool) -> Result<bool, DpopError> {
    let es256 = algs.iter().any(|alg| alg == ALG);
    match (mode, flow) {
        (DpopMode::Off, _) | (DpopMode::Auto, Flow::Implicit) => Ok(false),
        (DpopMode::Auto, Flow::Code) if !built => Ok(false),
        (DpopMode::On, Flow::Code) if !built => Err(DpopError::NotBuilt),
        (DpopMode::On, Flow::Implicit) => Err(DpopError::ImplicitFlow),
        (DpopMode::Auto, Flow::Code) => Ok(es256),
        // Discovery need not list it: `on` trusts the configuration, and the answer's token type
        // tells whether the provider bound the tokens.
        (DpopMode::On, Flow::Code) if algs.is_empty() || es256 => Ok(true),
        (DpopMode::On, Flow::Code) => Err(DpopError::ProviderLacksEs256(algs.to_vec())),
    }
}

/// The public half of the browser's P-256 key, as it goes into a proof's header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    x: String,
    y: String,
}

impl PublicKey {
    /// Reads the public JWK the browser exported (`crypto.subtle.exportKey("jwk", publicKey)`): an EC
    /// P-256 key with 32-byte `x` and `y`. Other members (`ext`, `key_ops`) are dropped; a private
    /// member (`d`) is refused: it must never reach a header.
    pub fn from_jwk(json: &str) -> Result<PublicKey, DpopError> {
        let Ok(Value::Object(jwk)) = serde_json::from_str::<Value>(json) else {
            return Err(DpopError::KeyNotUsable("not a JSON object"));
        };
        let text = |name| fields::string(&jwk, name).ok().flatten();
        if text("kty") != Some("EC") || text("crv") != Some("P-256") {
            return Err(DpopError::KeyNotUsable("not an EC P-256 key"));
        }
        if jwk.contains_key("d") {
            return Err(DpopError::KeyNotUsable("a private key"));
        }
        let coordinate = |name| {
            text(name)
                .filter(|value| base64url::decode(value).is_some_and(|b| b.len() == 32))
                .map(str::to_owned)
                .ok_or(DpopError::KeyNotUsable(
                    "a coordinate is not 32 bytes of base64url",
                ))
        };
        Ok(PublicKey {
            x: coordinate("x")?,
            y: coordinate("y")?,
        })
    }

    /// The JWK of the proof header: the required members only.
    pub fn jwk(&self) -> PublicJwk<'_> {
        PublicJwk {
            crv: "P-256",
            kty: "EC",
            x: &self.x,
            y: &self.y,
        }
    }

    /// The RFC 7638 thumbprint input: the required members in lexicographic order, no whitespace.
    pub fn thumbprint_input(&self) -> String {
        // x and y are base64url (checked): nothing to escape.
        format!(
            r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
            self.x, self.y
        )
    }
}

/// The RFC 7638 thumbprint input of any JWK of type EC, RSA or OKP (the required members of its
/// type, in lexicographic order, JSON without whitespace); `None` when a required member is missing
/// or not a string.
pub fn thumbprint_input(jwk: &Object) -> Option<String> {
    let required: &[&str] = match fields::string(jwk, "kty").ok()?? {
        "EC" => &["crv", "kty", "x", "y"],
        "RSA" => &["e", "kty", "n"],
        "OKP" => &["crv", "kty", "x"],
        _ => return None,
    };
    let mut canonical = serde_json::Map::new();
    for name in required {
        let value = fields::string(jwk, name).ok()??;
        canonical.insert((*name).to_owned(), Value::String(value.to_owned()));
    }
    // serde_json's map keeps its keys sorted: the order RFC 7638 §3.3 asks for.
    Some(Value::Object(canonical).to_string())
}

/// The thumbprint itself: base64url of the SHA-256 of [`PublicKey::thumbprint_input`] (RFC 7638 §3;
/// the hash is the caller's). This is `dpop_jkt` and the access token's `cnf.jkt`.
pub fn thumbprint(input_sha256: &[u8; 32]) -> String {
    base64url::encode(input_sha256)
}

/// Whether `value` has the form of a SHA-256 thumbprint: 43 base64url characters.
pub fn is_thumbprint(value: &str) -> bool {
    value.len() == 43 && base64url::decode(value).is_some_and(|b| b.len() == 32)
}

/// `ath`: base64url of the SHA-256 of the access token's ASCII (RFC 9449 §4.2; the hash is the
/// caller's).
pub fn ath(access_token_sha256: &[u8; 32]) -> String {
    base64url::encode(access_token_sha256)
}

/// A `jti` from 16 random bytes (128 bits: unique without coordination).
pub fn jti(random: &[u8; 16]) -> String {
    base64url::encode(random)
}

/// `htu`: the request's URL without its query and fragment (RFC 9449 §4.2). `Err` for anything but
/// an absolute http(s) URL with a host.
pub fn htu(url: &str) -> Result<String, DpopError> {
    let base = url.split(['?', '#']).next().unwrap_or_default();
    let rest = base
        .strip_prefix("https://")
        .or_else(|| base.strip_prefix("http://"))
        .ok_or(DpopError::NotAUrl)?;
    if rest.split('/').next().unwrap_or_default().is_empty()
        || base.chars().any(|c| c.is_control() || c == ' ')
    {
        return Err(DpopError::NotAUrl);
    }
    Ok(base.to_owned())
}

/// The origin of a URL (`scheme://authority`, lowercased): the server a nonce belongs to.
pub fn server_of(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    format!("{scheme}://{authority}").to_ascii_lowercase()
}

/// A proof's claims (RFC 9449 §4.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProofClaims {
    /// Unique per proof ([`jti`]): the server refuses a second use.
    pub jti: String,
    /// The request's method, e.g. `POST`.
    pub htm: String,
    /// The request's URL without query and fragment ([`htu`]).
    pub htu: String,
    /// When the proof was made, in seconds since the epoch (the browser's clock).
    pub iat: i64,
    /// With an access token: [`ath`] of it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ath: Option<String>,
    /// The server's nonce, when it asked for one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
}

/// An EC P-256 public JWK ([`PublicKey::jwk`]), serialized with its members in lexicographic order.
/// Typed rather than a JSON value: only strings, so no number formatting is compiled in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PublicJwk<'a> {
    /// `P-256`.
    pub crv: &'a str,
    /// `EC`.
    pub kty: &'a str,
    /// The x coordinate, base64url.
    pub x: &'a str,
    /// The y coordinate, base64url.
    pub y: &'a str,
}

/// A proof's JOSE header, its members in lexicographic order.
#[derive(Serialize)]
struct ProofHeader<'a> {
    alg: &'a str,
    jwk: PublicJwk<'a>,
    typ: &'a str,
}

/// The JWS signing input of a proof: `base64url(header) "." base64url(claims)`, the header being
/// `typ: dpop+jwt`, `alg: ES256` and `key`'s public JWK. The glue signs its ASCII bytes.
pub fn signing_input(key: &PublicKey, claims: &ProofClaims) -> String {
    let header = ProofHeader {
        alg: ALG,
        jwk: key.jwk(),
        typ: TYP,
    };
    // Strings and integers only: serializing cannot fail.
    let header = serde_json::to_string(&header).unwrap_or_default();
    let claims = serde_json::to_string(claims).unwrap_or_default();
    format!(
        "{}.{}",
        base64url::encode(header.as_bytes()),
        base64url::encode(claims.as_bytes())
    )
}

/// The finished proof (the `DPoP` header's value): the signing input and the signature, the raw
/// 64-byte `r || s` WebCrypto's ECDSA returns (which is JWS's ES256 form).
pub fn compact(signing_input: &str, signature: &[u8]) -> Result<String, DpopError> {
    if signature.len() != 64 {
        return Err(DpopError::SignatureLength(signature.len()));
    }
    Ok(format!("{signing_input}.{}", base64url::encode(signature)))
}

/// Which kind of server answered: the rules for asking for a nonce differ (RFC 9449 §8 and §9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Server {
    /// The token endpoint: HTTP 400 with `{"error":"use_dpop_nonce"}`.
    Authorization,
    /// A protected API: HTTP 401 with `WWW-Authenticate: DPoP error="use_dpop_nonce"`.
    Resource,
}

/// What a server answered, as far as DPoP is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Answer<'a> {
    /// The HTTP status.
    pub status: u16,
    /// The body (a token endpoint's error is JSON).
    pub body: &'a str,
    /// The `DPoP-Nonce` header, as the browser gives it (several become one, joined by `, `).
    pub dpop_nonce: Option<&'a str>,
    /// The `WWW-Authenticate` header, likewise.
    pub www_authenticate: Option<&'a str>,
}

/// Whether `nonce` has RFC 9449 §8.1's form: 1 to [`MAX_NONCE_LEN`] NQCHARs (visible ASCII but `"`
/// and `\`; no space, so two joined headers are no nonce).
pub fn valid_nonce(nonce: &str) -> bool {
    (1..=MAX_NONCE_LEN).contains(&nonce.len())
        && nonce
            .bytes()
            .all(|b| matches!(b, 0x21 | 0x23..=0x5b | 0x5d..=0x7e))
}

/// The nonce an answer brings, to send with the next proof to that server (any answer may carry a
/// new one, RFC 9449 §8.2); `None` when there is none or it is not a valid nonce.
pub fn fresh_nonce<'a>(answer: &Answer<'a>) -> Option<&'a str> {
    answer.dpop_nonce.map(str::trim).filter(|n| valid_nonce(n))
}

/// The nonce `server` asks the request to be repeated with, when `answer` is a nonce challenge with
/// a valid `DPoP-Nonce`; `None` for every other answer.
pub fn nonce_challenge(server: Server, answer: &Answer<'_>) -> Option<String> {
    let asked = match server {
        Server::Authorization => {
            answer.status == 400 && oauth_error(answer.body).as_deref() == Some("use_dpop_nonce")
        }
        Server::Resource => {
            answer.status == 401
                && answer
                    .www_authenticate
                    .and_then(dpop_challenge)
                    .and_then(|challenge| challenge.error)
                    .as_deref()
                    == Some("use_dpop_nonce")
        }
    };
    asked
        .then(|| fresh_nonce(answer))
        .flatten()
        .map(str::to_owned)
}

/// The one retry: `Some(nonce)` when the request that got `answer` (sent with `sent_nonce`, and not
/// itself a retry) must be sent once more with a proof carrying `nonce`. Never for a retry, and
/// never with the nonce that was just refused: a server that keeps asking gets its answer as it is.
pub fn retry_nonce(
    server: Server,
    answer: &Answer<'_>,
    sent_nonce: Option<&str>,
    retried: bool,
) -> Option<String> {
    if retried {
        return None;
    }
    nonce_challenge(server, answer).filter(|nonce| Some(nonce.as_str()) != sent_nonce)
}

/// The `error` code of an OAuth error body (RFC 6749 §5.2), if it is one.
fn oauth_error(body: &str) -> Option<String> {
    if body.len() > MAX_ERROR_BODY_LEN {
        return None;
    }
    let Ok(Value::Object(json)) = serde_json::from_str::<Value>(body) else {
        return None;
    };
    fields::string(&json, "error")
        .ok()
        .flatten()
        .map(str::to_owned)
}

/// One challenge of a `WWW-Authenticate` header (RFC 9110 §11.6.1), its parameters by lowercase name.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Challenge {
    /// The auth scheme, as sent (compared case-insensitively).
    pub scheme: String,
    /// `error` (RFC 6750 §3, RFC 9449 §7.1), e.g. `invalid_token`, `invalid_dpop_proof`,
    /// `use_dpop_nonce`.
    pub error: Option<String>,
    /// `error_description`, shortened.
    pub error_description: Option<String>,
    /// `algs`: the proof algorithms the resource server accepts.
    pub algs: Option<String>,
}

/// The `DPoP` challenge of a `WWW-Authenticate` header, if it has one.
pub fn dpop_challenge(header: &str) -> Option<Challenge> {
    parse_challenges(header)
        .into_iter()
        .find(|challenge| challenge.scheme.eq_ignore_ascii_case("DPoP"))
}

/// The challenges of a `WWW-Authenticate` header, up to the first malformed part (what follows it
/// cannot be read reliably). Empty for a header over [`MAX_CHALLENGE_LEN`].
pub fn parse_challenges(header: &str) -> Vec<Challenge> {
    const MAX_DESCRIPTION_CHARS: usize = 300;
    if header.len() > MAX_CHALLENGE_LEN {
        return Vec::new();
    }
    let mut reader = Reader {
        text: header.as_bytes(),
        at: 0,
    };
    let mut challenges = Vec::new();
    'challenges: loop {
        reader.skip(|b| b == b',' || is_ows(b));
        if reader.done() {
            break;
        }
        let Some(scheme) = reader.token() else { break };
        let mut challenge = Challenge {
            scheme: scheme.to_owned(),
            ..Challenge::default()
        };
        let mut first = true;
        loop {
            let mark = reader.at;
            reader.skip(is_ows);
            // A token68 (`Basic dXNlcg==`) stands alone after the scheme. Otherwise a parameter is
            // `name BWS "=" BWS value`; anything else after a comma starts the next challenge.
            if first {
                let start = reader.at;
                if reader.token68() {
                    reader.skip(is_ows);
                    if reader.done() || reader.peek() == Some(b',') {
                        break;
                    }
                    reader.at = start;
                }
            }
            let Some(name) = reader.token() else {
                reader.at = mark;
                break;
            };
            reader.skip(is_ows);
            if !reader.eat(b'=') {
                reader.at = mark;
                break;
            }
            reader.skip(is_ows);
            let value = if reader.peek() == Some(b'"') {
                reader.quoted()
            } else {
                reader.token().map(str::to_owned)
            };
            let Some(value) = value else {
                challenges.push(challenge);
                break 'challenges;
            };
            first = false;
            match name.to_ascii_lowercase().as_str() {
                "error" => challenge.error = Some(value),
                "error_description" => {
                    challenge.error_description =
                        Some(value.chars().take(MAX_DESCRIPTION_CHARS).collect())
                }
                "algs" => challenge.algs = Some(value),
                _ => {}
            }
            reader.skip(is_ows);
            if reader.done() {
                break;
            }
            if !reader.eat(b',') {
                challenges.push(challenge);
                break 'challenges;
            }
        }
        challenges.push(challenge);
    }
    challenges
}

fn is_ows(byte: u8) -> bool {
    byte == b' ' || byte == b'\t'
}

/// RFC 9110 §5.6.2 `tchar`.
fn is_tchar(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&byte)
}

struct Reader<'a> {
    text: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn done(&self) -> bool {
        self.at >= self.text.len()
    }

    fn peek(&self) -> Option<u8> {
        self.text.get(self.at).copied()
    }

    fn eat(&mut self, byte: u8) -> bool {
        let matched = self.peek() == Some(byte);
        if matched {
            self.at += 1;
        }
        matched
    }

    fn skip(&mut self, class: impl Fn(u8) -> bool) {
        while self.peek().is_some_and(&class) {
            self.at += 1;
        }
    }

    fn token(&mut self) -> Option<&'a str> {
        let start = self.at;
        self.skip(is_tchar);
        // tchars are ASCII: the slice is valid UTF-8.
        (self.at > start)
            .then(|| std::str::from_utf8(&self.text[start..self.at]).ok())
            .flatten()
    }

    /// RFC 9110 §11.2 `token68`; `false` (and nothing read) when there is none.
    fn token68(&mut self) -> bool {
        let start = self.at;
        self.skip(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b));
        if self.at == start {
            return false;
        }
        self.skip(|b| b == b'=');
        true
    }

    /// A quoted-string (RFC 9110 §5.6.4) without its quotes and escapes; `None` when it is not closed
    /// or holds a control character.
    fn quoted(&mut self) -> Option<String> {
        let start = self.at;
        self.at += 1;
        let mut value = Vec::new();
        while let Some(byte) = self.peek() {
            self.at += 1;
            match byte {
                b'"' => return String::from_utf8(value).ok(),
                b'\\' => {
                    let escaped = self.peek().filter(|b| *b == b'\t' || !b.is_ascii_control());
                    match escaped {
                        Some(escaped) => {
                            value.push(escaped);
                            self.at += 1;
                        }
                        None => break,
                    }
                }
                b'\t' => value.push(byte),
                _ if byte.is_ascii_control() => break,
                _ => value.push(byte),
            }
        }
        self.at = start;
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::AuthFailure;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    use serde_json::json;
    use sha2::{Digest, Sha256};

    fn sha256(text: &str) -> [u8; 32] {
        Sha256::digest(text.as_bytes()).into()
    }

    /// RFC 9449 §4.1's example key (its §6.1 example gives its thumbprint as `cnf.jkt`).
    const RFC9449_JWK: &str = r#"{"kty":"EC","x":"l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs",
        "y":"9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA","crv":"P-256"}"#;
    const RFC9449_JKT: &str = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I";

    #[test]
    fn thumbprint_of_the_rfc7638_example() {
        // RFC 7638 §3.1: an RSA key, its canonical form and its thumbprint.
        let jwk = json!({
            "kty": "RSA",
            "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
            "e": "AQAB",
            "alg": "RS256",
            "kid": "2011-04-29"
        });
        let input = thumbprint_input(jwk.as_object().unwrap()).unwrap();
        assert!(
            input.starts_with(r#"{"e":"AQAB","kty":"RSA","n":"0vx7agoeb"#),
            "{input}"
        );
        assert_eq!(
            thumbprint(&sha256(&input)),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }

    #[test]
    fn thumbprint_of_an_ec_p256_key() {
        // The browser exports more members than the key's: they do not enter the thumbprint.
        let exported = RFC9449_JWK.replace('}', r#","ext":true,"key_ops":["verify"]}"#);
        let key = PublicKey::from_jwk(&exported).unwrap();
        assert_eq!(
            key.thumbprint_input(),
            r#"{"crv":"P-256","kty":"EC","x":"l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs","y":"9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA"}"#
        );
        let jkt = thumbprint(&sha256(&key.thumbprint_input()));
        assert_eq!(jkt, RFC9449_JKT);
        assert!(is_thumbprint(&jkt));
        // The generic form agrees.
        let value: Value = serde_json::from_str(RFC9449_JWK).unwrap();
        assert_eq!(
            thumbprint_input(value.as_object().unwrap()),
            Some(key.thumbprint_input())
        );
    }

    #[test]
    fn keys_that_cannot_go_into_a_proof() {
        let table = [
            ("", "not a JSON object"),
            ("[]", "not a JSON object"),
            (
                r#"{"kty":"RSA","n":"AQAB","e":"AQAB"}"#,
                "not an EC P-256 key",
            ),
            (
                r#"{"kty":"EC","crv":"P-384","x":"l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs","y":"9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA"}"#,
                "not an EC P-256 key",
            ),
            (
                r#"{"kty":"EC","crv":"P-256","x":"AQAB","y":"9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA"}"#,
                "a coordinate is not 32 bytes of base64url",
            ),
            (
                r#"{"kty":"EC","crv":"P-256","x":"l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs"}"#,
                "a coordinate is not 32 bytes of base64url",
            ),
            (
                r#"{"kty":"EC","crv":"P-256","d":"x","x":"l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs","y":"9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA"}"#,
                "a private key",
            ),
        ];
        for (jwk, why) in table {
            assert_eq!(
                PublicKey::from_jwk(jwk),
                Err(DpopError::KeyNotUsable(why)),
                "{jwk}"
            );
        }
        assert_eq!(
            thumbprint_input(json!({"kty": "oct", "k": "x"}).as_object().unwrap()),
            None
        );
        assert_eq!(
            thumbprint_input(
                json!({"kty": "EC", "crv": "P-256", "x": "a"})
                    .as_object()
                    .unwrap()
            ),
            None
        );
        assert!(!is_thumbprint("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9X"));
        assert!(!is_thumbprint(
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9X+"
        ));
    }

    #[test]
    fn ath_of_the_rfc9449_example() {
        // RFC 9449 §7.1: the access token and the `ath` of the proof that goes with it.
        assert_eq!(
            ath(&sha256("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU")),
            "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"
        );
    }

    fn decode(segment: &str) -> Value {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(segment).unwrap()).unwrap()
    }

    #[test]
    fn proof_header_and_claims() {
        let key = PublicKey::from_jwk(RFC9449_JWK).unwrap();
        let token_request = ProofClaims {
            jti: jti(&[7; 16]),
            htm: "POST".into(),
            htu: htu("https://server.example.com/token").unwrap(),
            iat: 1_562_262_616,
            ath: None,
            nonce: None,
        };
        let input = signing_input(&key, &token_request);
        let (header, claims) = input.split_once('.').unwrap();
        assert_eq!(
            decode(header),
            json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": {"kty": "EC", "crv": "P-256",
                   "x": "l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs",
                   "y": "9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA"}})
        );
        // RFC 9449 §4.1's claims, with our jti; no ath and no nonce unless there is one.
        assert_eq!(
            decode(claims),
            json!({"jti": "BwcHBwcHBwcHBwcHBwcHBw", "htm": "POST",
                   "htu": "https://server.example.com/token", "iat": 1_562_262_616})
        );
        // A resource request after a nonce challenge: ath and nonce.
        let resource_request = ProofClaims {
            htm: "GET".into(),
            htu: htu("https://resource.example.org/protectedresource?x=1#top").unwrap(),
            ath: Some(ath(&sha256("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"))),
            nonce: Some("eyJ7S_zG.eyJH0-Z.HX4w-7v".into()),
            ..token_request
        };
        let input = signing_input(&key, &resource_request);
        let claims = decode(input.split_once('.').unwrap().1);
        assert_eq!(
            claims,
            json!({"jti": "BwcHBwcHBwcHBwcHBwcHBw", "htm": "GET",
                   "htu": "https://resource.example.org/protectedresource",
                   "iat": 1_562_262_616, "ath": "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo",
                   "nonce": "eyJ7S_zG.eyJH0-Z.HX4w-7v"})
        );
        // The finished proof: the input and the 64-byte signature.
        let proof = compact(&input, &[1; 64]).unwrap();
        assert_eq!(proof.split('.').count(), 3);
        assert!(proof.starts_with(&input));
        assert_eq!(
            compact(&input, &[1; 72]),
            Err(DpopError::SignatureLength(72))
        );
    }

    #[test]
    fn jti_is_unique_per_random_draw() {
        assert_eq!(jti(&[0; 16]).len(), 22);
        assert_ne!(jti(&[0; 16]), jti(&[1; 16]));
    }

    #[test]
    fn htu_drops_query_and_fragment() {
        let table = [
            (
                "http://localhost:4000/token",
                Ok("http://localhost:4000/token"),
            ),
            (
                "https://api.example.com/v1/ping?a=1&b=2",
                Ok("https://api.example.com/v1/ping"),
            ),
            (
                "https://api.example.com/ping#frag",
                Ok("https://api.example.com/ping"),
            ),
            ("https://api.example.com?x", Ok("https://api.example.com")),
            (
                "https://api.example.com/a#b?c",
                Ok("https://api.example.com/a"),
            ),
            ("ftp://api.example.com/", Err(DpopError::NotAUrl)),
            ("/token", Err(DpopError::NotAUrl)),
            ("https:///token", Err(DpopError::NotAUrl)),
            ("https://a b/", Err(DpopError::NotAUrl)),
            ("", Err(DpopError::NotAUrl)),
        ];
        for (url, expected) in table {
            assert_eq!(htu(url), expected.map(str::to_owned), "{url}");
        }
        assert_eq!(
            server_of("HTTP://LocalHost:4000/api/ping?x"),
            "http://localhost:4000"
        );
        assert_eq!(server_of("http://localhost:4000"), "http://localhost:4000");
    }

    #[test]
    fn in_use_by_setting_flow_and_discovery() {
        let es256 = vec!["ES256".to_owned(), "EdDSA".to_owned()];
        let eddsa = vec!["EdDSA".to_owned()];
        let none: Vec<String> = Vec::new();
        let table = [
            (DpopMode::Auto, Flow::Code, &es256, Ok(true)),
            (DpopMode::Auto, Flow::Code, &eddsa, Ok(false)),
            (DpopMode::Auto, Flow::Code, &none, Ok(false)),
            (DpopMode::Auto, Flow::Implicit, &es256, Ok(false)),
            (DpopMode::On, Flow::Code, &es256, Ok(true)),
            (DpopMode::On, Flow::Code, &none, Ok(true)),
            (
                DpopMode::On,
                Flow::Code,
                &eddsa,
                Err(DpopError::ProviderLacksEs256(eddsa.clone())),
            ),
            (
                DpopMode::On,
                Flow::Implicit,
                &es256,
                Err(DpopError::ImplicitFlow),
            ),
            (DpopMode::Off, Flow::Code, &es256, Ok(false)),
            (DpopMode::Off, Flow::Implicit, &none, Ok(false)),
        ];
        for (mode, flow, algs, expected) in table {
            assert_eq!(
                in_use(mode, flow, algs, true),
                expected,
                "{mode:?} {flow:?} {algs:?}"
            );
        }
    }

    #[test]
    fn without_dpop_built_in_auto_is_off_and_on_is_an_error() {
        let es256 = vec!["ES256".to_owned()];
        let none: Vec<String> = Vec::new();
        let table = [
            (DpopMode::Auto, Flow::Code, &es256, Ok(false)),
            (DpopMode::Auto, Flow::Implicit, &es256, Ok(false)),
            (DpopMode::Off, Flow::Code, &es256, Ok(false)),
            (DpopMode::On, Flow::Code, &es256, Err(DpopError::NotBuilt)),
            (DpopMode::On, Flow::Code, &none, Err(DpopError::NotBuilt)),
            // The flow's own error comes first: it stands whatever the build.
            (
                DpopMode::On,
                Flow::Implicit,
                &es256,
                Err(DpopError::ImplicitFlow),
            ),
        ];
        for (mode, flow, algs, expected) in table {
            assert_eq!(
                in_use(mode, flow, algs, false),
                expected,
                "{mode:?} {flow:?} {algs:?}"
            );
        }
        let message = DpopError::NotBuilt.to_string();
        assert!(
            message.contains("`dpop` feature") && message.contains("\"auto\""),
            "{message}"
        );
    }

    #[test]
    fn token_types_by_name() {
        assert_eq!(TokenType::from_name("DPoP"), Some(TokenType::DPoP));
        assert_eq!(TokenType::from_name("dpop"), Some(TokenType::DPoP));
        assert_eq!(TokenType::from_name("bearer"), Some(TokenType::Bearer));
        assert_eq!(TokenType::from_name("mac"), None);
        assert_eq!(
            serde_json::to_string(&TokenType::DPoP).unwrap(),
            r#""DPoP""#
        );
        assert_eq!(TokenType::default(), TokenType::Bearer);
    }

    #[test]
    fn nonces_are_nqchars() {
        for good in [
            "a",
            "eyJ7S_zG.eyJH0-Z.HX4w-7v",
            "!#[]~",
            &"n".repeat(MAX_NONCE_LEN),
        ] {
            assert!(valid_nonce(good), "{good}");
        }
        for bad in [
            "",
            "a b",
            "a, b",
            "a\"b",
            "a\\b",
            "a\tb",
            "a\nb",
            "é",
            "a\u{7f}",
            &"n".repeat(MAX_NONCE_LEN + 1),
        ] {
            assert!(!valid_nonce(bad), "{bad:?}");
        }
    }

    fn answer<'a>(
        status: u16,
        body: &'a str,
        nonce: Option<&'a str>,
        challenge: Option<&'a str>,
    ) -> Answer<'a> {
        Answer {
            status,
            body,
            dpop_nonce: nonce,
            www_authenticate: challenge,
        }
    }

    const USE_NONCE_BODY: &str = r#"{"error":"use_dpop_nonce","error_description":"Authorization server requires nonce in DPoP proof"}"#;
    const USE_NONCE_CHALLENGE: &str = r#"DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof""#;

    #[test]
    fn nonce_challenges_of_both_servers() {
        use Server::{Authorization as As, Resource as Rs};
        let nonce = Some("eyJ7S_zG.eyJH0-Z.HX4w-7v");
        let table: Vec<(Server, Answer, Option<&str>)> = vec![
            // RFC 9449 §8's and §9's examples.
            (As, answer(400, USE_NONCE_BODY, nonce, None), nonce),
            (Rs, answer(401, "", nonce, Some(USE_NONCE_CHALLENGE)), nonce),
            // Another scheme's challenge first, the DPoP one after it.
            (
                Rs,
                answer(
                    401,
                    "",
                    nonce,
                    Some(r#"Bearer realm="api", DPoP algs="ES256", error="use_dpop_nonce""#),
                ),
                nonce,
            ),
            (
                Rs,
                answer(401, "", nonce, Some("dpop error=use_dpop_nonce")),
                nonce,
            ),
            // Not a challenge: the other server's form, another error, another status.
            (As, answer(401, "", nonce, Some(USE_NONCE_CHALLENGE)), None),
            (Rs, answer(400, USE_NONCE_BODY, nonce, None), None),
            (
                As,
                answer(400, r#"{"error":"invalid_dpop_proof"}"#, nonce, None),
                None,
            ),
            (As, answer(200, USE_NONCE_BODY, nonce, None), None),
            (As, answer(500, USE_NONCE_BODY, nonce, None), None),
            (
                Rs,
                answer(401, "", nonce, Some(r#"DPoP error="invalid_token""#)),
                None,
            ),
            (
                Rs,
                answer(401, "", nonce, Some(r#"Bearer error="use_dpop_nonce""#)),
                None,
            ),
            (Rs, answer(403, "", nonce, Some(USE_NONCE_CHALLENGE)), None),
            // A challenge without a usable nonce: nothing to retry with.
            (As, answer(400, USE_NONCE_BODY, None, None), None),
            (As, answer(400, USE_NONCE_BODY, Some(""), None), None),
            (As, answer(400, USE_NONCE_BODY, Some("a, b"), None), None),
            (
                Rs,
                answer(401, "", Some("a\"b"), Some(USE_NONCE_CHALLENGE)),
                None,
            ),
            (
                As,
                answer(400, "<html>use_dpop_nonce</html>", nonce, None),
                None,
            ),
            (
                As,
                answer(400, r#"{"error":["use_dpop_nonce"]}"#, nonce, None),
                None,
            ),
        ];
        for (server, answer, expected) in table {
            assert_eq!(
                nonce_challenge(server, &answer).as_deref(),
                expected,
                "{server:?} {answer:?}"
            );
        }
    }

    #[test]
    fn one_retry_never_a_loop() {
        use Server::Authorization as As;
        fn challenge(nonce: &str) -> Answer<'_> {
            answer(400, USE_NONCE_BODY, Some(nonce), None)
        }
        // The first answer asks: retry once with its nonce.
        assert_eq!(
            retry_nonce(As, &challenge("n-1"), None, false).as_deref(),
            Some("n-1")
        );
        // A stale remembered nonce refused with a new one: retry once with the new one.
        assert_eq!(
            retry_nonce(As, &challenge("n-2"), Some("n-1"), false).as_deref(),
            Some("n-2")
        );
        // The retry asked again: no more requests, whatever the nonce.
        assert_eq!(retry_nonce(As, &challenge("n-3"), Some("n-2"), true), None);
        // The nonce just sent, asked for again: retrying cannot help.
        assert_eq!(retry_nonce(As, &challenge("n-1"), Some("n-1"), false), None);
        // Not a challenge: done.
        assert_eq!(
            retry_nonce(As, &answer(200, "{}", Some("n-4"), None), None, false),
            None
        );
        // Driving requests by the rule, a server that always asks gets exactly two requests.
        let mut sent = None;
        let mut requests = 0;
        let mut retried = false;
        loop {
            requests += 1;
            let next = format!("n-{requests}");
            match retry_nonce(As, &challenge(&next), sent.as_deref(), retried) {
                Some(nonce) => {
                    sent = Some(nonce);
                    retried = true;
                }
                None => break,
            }
        }
        assert_eq!(requests, 2);
    }

    #[test]
    fn fresh_nonces_are_remembered_from_any_answer() {
        assert_eq!(
            fresh_nonce(&answer(200, "{}", Some(" n-1 "), None)),
            Some("n-1")
        );
        assert_eq!(
            fresh_nonce(&answer(200, "{}", Some("n-1, n-2"), None)),
            None
        );
        assert_eq!(fresh_nonce(&answer(200, "{}", None, None)), None);
    }

    #[test]
    fn www_authenticate_challenges() {
        /// Scheme, `error`, `error_description`.
        type Read<'a> = (&'a str, Option<&'a str>, Option<&'a str>);
        let table: Vec<(&str, Vec<Read>)> = vec![
            (
                r#"DPoP error="invalid_token", error_description="Invalid DPoP key binding", algs="ES256""#,
                vec![(
                    "DPoP",
                    Some("invalid_token"),
                    Some("Invalid DPoP key binding"),
                )],
            ),
            (
                r#"Bearer realm="demo-api", DPoP algs="ES256 PS256", error="use_dpop_nonce""#,
                vec![
                    ("Bearer", None, None),
                    ("DPoP", Some("use_dpop_nonce"), None),
                ],
            ),
            (
                "Basic dXNlcjpwYXNz==, DPoP error=x",
                vec![("Basic", None, None), ("DPoP", Some("x"), None)],
            ),
            (
                "Negotiate, DPoP",
                vec![("Negotiate", None, None), ("DPoP", None, None)],
            ),
            (
                r#"DPoP error_description="say \"hi\"""#,
                vec![("DPoP", None, Some("say \"hi\""))],
            ),
            (" ,, DPoP  ERROR = \"a\" ,", vec![("DPoP", Some("a"), None)]),
            // Malformed: read up to the flaw.
            (r#"DPoP error="unclosed"#, vec![("DPoP", None, None)]),
            (r#"DPoP error="a" junk"#, vec![("DPoP", Some("a"), None)]),
            ("DPoP error=\"a\u{1}\"", vec![("DPoP", None, None)]),
            ("\"DPoP\"", vec![]),
            ("", vec![]),
        ];
        for (header, expected) in table {
            let got: Vec<(String, Option<String>, Option<String>)> = parse_challenges(header)
                .into_iter()
                .map(|c| (c.scheme, c.error, c.error_description))
                .collect();
            let expected: Vec<(String, Option<String>, Option<String>)> = expected
                .into_iter()
                .map(|(s, e, d)| (s.to_owned(), e.map(str::to_owned), d.map(str::to_owned)))
                .collect();
            assert_eq!(got, expected, "{header:?}");
        }
        assert_eq!(
            dpop_challenge(r#"DPoP algs="ES256""#)
                .and_then(|c| c.algs)
                .as_deref(),
            Some("ES256")
        );
        let huge = format!(
            "DPoP error=\"use_dpop_nonce\", x=\"{}\"",
            "a".repeat(MAX_CHALLENGE_LEN)
        );
        assert_eq!(parse_challenges(&huge), vec![]);
    }

    #[test]
    fn messages_say_what_to_do() {
        let failure = AuthFailure::from(DpopError::ProviderLacksEs256(vec!["EdDSA".into()]));
        assert!(failure
            .message
            .starts_with("The provider accepts DPoP proofs signed with EdDSA"));
        assert!(
            failure.message.ends_with("config.json."),
            "{}",
            failure.message
        );
        assert!(DpopError::KeyMissing.to_string().ends_with("sign in again"));
    }
}
