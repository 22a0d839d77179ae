//! Decoding of a compact JWS (RFC 7515 §7.1), the form of an id_token: header, claims, the signing
//! input and the signature bytes. No signature check here: that is WebCrypto's, in the glue, on
//! [`Jwt::signing_input`] and [`Jwt::signature`]; the claims are validated in `id_token`.

use super::fields::{self, WrongType};
use crate::base64url;
use serde_json::{Map, Value};
use std::fmt;

/// Longest token accepted. An id_token is 1 to 2 KiB; the bound keeps decoding cheap on hostile
/// input.
pub const MAX_JWT_LEN: usize = 16 * 1024;

/// The JOSE header members this app reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JwtHeader {
    /// The signature algorithm, e.g. `RS256`; checked against the allow-list in `id_token`.
    pub alg: String,
    /// The signing key's id in the provider's JWKS.
    pub kid: Option<String>,
    /// The media type, usually `JWT`.
    pub typ: Option<String>,
}

/// A decoded, not yet verified, compact JWS.
#[derive(Clone, Debug, PartialEq)]
pub struct Jwt {
    /// The header.
    pub header: JwtHeader,
    /// The claims (payload), a JSON object.
    pub claims: Map<String, Value>,
    /// The signed bytes, as text: the first two segments with their dot (`header.payload`).
    pub signing_input: String,
    /// The decoded signature.
    pub signature: Vec<u8>,
}

impl Jwt {
    /// A string claim, e.g. `at_hash`; `None` if absent or not a string.
    pub fn claim_str(&self, name: &str) -> Option<&str> {
        self.claims.get(name).and_then(Value::as_str)
    }
}

/// The three parts of a compact JWS, to say which one is broken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JwtPart {
    /// The JOSE header (first segment).
    Header,
    /// The claims (second segment).
    Claims,
    /// The signature (third segment).
    Signature,
}

impl fmt::Display for JwtPart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            JwtPart::Header => "header",
            JwtPart::Claims => "claims",
            JwtPart::Signature => "signature",
        })
    }
}

/// Why a token cannot be decoded. Each means the token is not a usable id_token: sign in again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JwtError {
    /// Longer than [`MAX_JWT_LEN`].
    TooLarge,
    /// Not three dot-separated segments; holds how many there are (5 is an encrypted JWE).
    SegmentCount(usize),
    /// A segment is not unpadded base64url.
    Base64(JwtPart),
    /// The header or the claims are not JSON.
    NotJson(JwtPart),
    /// The header or the claims are JSON but not an object.
    NotAnObject(JwtPart),
    /// The header lacks `alg`.
    MissingAlg,
    /// A header member this app reads has the wrong type; names it.
    InvalidHeader(&'static str),
    /// The header has `crit`: extensions this app does not implement must not be ignored
    /// (RFC 7515 §4.1.11).
    CriticalHeader,
}

impl fmt::Display for JwtError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the provider's token is not readable (")?;
        match self {
            JwtError::TooLarge => write!(f, "longer than {} KiB", MAX_JWT_LEN / 1024)?,
            JwtError::SegmentCount(5) => {
                f.write_str("encrypted, which this app does not support")?
            }
            JwtError::SegmentCount(count) => write!(f, "{count} segments instead of 3")?,
            JwtError::Base64(part) => write!(f, "its {part} segment is not base64url")?,
            JwtError::NotJson(part) => write!(f, "its {part} segment is not JSON")?,
            JwtError::NotAnObject(part) => write!(f, "its {part} segment is not a JSON object")?,
            JwtError::MissingAlg => f.write_str("its header lacks `alg`")?,
            JwtError::InvalidHeader(member) => write!(f, "its header's `{member}` is invalid")?,
            JwtError::CriticalHeader => f.write_str("it requires extensions this app lacks")?,
        }
        f.write_str("): sign in again")
    }
}

impl std::error::Error for JwtError {}

/// Decodes a compact JWS: exactly three unpadded base64url segments, header and claims JSON
/// objects, `alg` present, no `crit`. The signature is decoded but not checked.
pub fn decode_jwt(token: &str) -> Result<Jwt, JwtError> {
    if token.len() > MAX_JWT_LEN {
        return Err(JwtError::TooLarge);
    }
    let segments = token.split('.').count();
    let (signing_input, signature) = match token.rsplit_once('.') {
        Some(split) if segments == 3 => split,
        _ => return Err(JwtError::SegmentCount(segments)),
    };
    let (header, claims) = signing_input
        .split_once('.')
        .ok_or(JwtError::SegmentCount(segments))?;
    let header = object(header, JwtPart::Header)?;
    let claims = object(claims, JwtPart::Claims)?;
    let signature = base64url::decode(signature).ok_or(JwtError::Base64(JwtPart::Signature))?;

    if header.contains_key("crit") {
        return Err(JwtError::CriticalHeader);
    }
    let string = |name: &'static str| {
        fields::string(&header, name)
            .map(|value| value.map(str::to_owned))
            .map_err(|WrongType| JwtError::InvalidHeader(name))
    };
    let alg = string("alg")?.ok_or(JwtError::MissingAlg)?;
    let header = JwtHeader {
        alg,
        kid: string("kid")?,
        typ: string("typ")?,
    };
    Ok(Jwt {
        header,
        claims,
        signing_input: signing_input.to_owned(),
        signature,
    })
}

fn object(segment: &str, part: JwtPart) -> Result<Map<String, Value>, JwtError> {
    let bytes = base64url::decode(segment).ok_or(JwtError::Base64(part))?;
    // Read as text: one JSON reader (`from_str`) for the whole app, not a second one for bytes.
    let text = std::str::from_utf8(&bytes).map_err(|_| JwtError::NotJson(part))?;
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(_) => Err(JwtError::NotAnObject(part)),
        Err(_) => Err(JwtError::NotJson(part)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{b64, jwt};
    use serde_json::json;

    /// RFC 7515 Appendix A.1: an HS256 JWS. Its header and claims have CRLFs and spaces, and its
    /// signature octets are listed in the RFC.
    const RFC7515_A1: &str = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9\
        .eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxl\
        LmNvbS9pc19yb290Ijp0cnVlfQ\
        .dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const RFC7515_A1_SIGNATURE: [u8; 32] = [
        116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186, 22, 212, 37,
        77, 105, 214, 191, 240, 91, 88, 5, 88, 83, 132, 141, 121,
    ];

    fn check(token: &str, expected: Result<(), JwtError>) {
        assert_eq!(decode_jwt(token).map(|_| ()), expected, "{token}");
    }

    #[test]
    fn decodes_the_rfc7515_example() {
        let decoded = decode_jwt(RFC7515_A1).unwrap();
        assert_eq!(
            decoded.header,
            JwtHeader {
                alg: "HS256".into(),
                kid: None,
                typ: Some("JWT".into()),
            }
        );
        assert_eq!(decoded.claims.get("iss"), Some(&json!("joe")));
        assert_eq!(decoded.claims.get("exp"), Some(&json!(1300819380)));
        assert_eq!(
            decoded.claims.get("http://example.com/is_root"),
            Some(&json!(true))
        );
        assert_eq!(decoded.claim_str("iss"), Some("joe"));
        assert_eq!(decoded.claim_str("exp"), None);
        assert_eq!(decoded.signature, RFC7515_A1_SIGNATURE);
        let (header, claims) = decoded.signing_input.split_once('.').unwrap();
        assert_eq!(header, "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9");
        assert!(claims.starts_with("eyJpc3MiOiJqb2Ui"));
    }

    #[test]
    fn routes_the_signature_input_exactly() {
        // WebCrypto verifies `signature` over `signing_input`: a change to either must reach it.
        let token = jwt(json!({"alg": "RS256", "kid": "k1"}), json!({"sub": "a"}));
        let decoded = decode_jwt(&token).unwrap();
        let (input, signature) = token.rsplit_once('.').unwrap();
        assert_eq!(decoded.signing_input, input);
        assert_eq!(b64(&decoded.signature), signature);
        assert_eq!(decoded.header.kid.as_deref(), Some("k1"));

        let other_claims = jwt(json!({"alg": "RS256", "kid": "k1"}), json!({"sub": "b"}));
        assert_ne!(
            decode_jwt(&other_claims).unwrap().signing_input,
            decoded.signing_input
        );
        let other_signature = format!("{input}.{}", b64(b"another signature"));
        let decoded_other = decode_jwt(&other_signature).unwrap();
        assert_eq!(decoded_other.signing_input, decoded.signing_input);
        assert_eq!(decoded_other.signature, b"another signature");
    }

    #[test]
    fn rejects_malformed_tokens() {
        let header = b64(br#"{"alg":"RS256"}"#);
        let claims = b64(br#"{"sub":"a"}"#);
        let sig = b64(b"sig");
        let with_header = |header: &[u8]| format!("{}.{claims}.{sig}", b64(header));
        let with_claims = |claims: &[u8]| format!("{header}.{}.{sig}", b64(claims));
        let table: Vec<(String, JwtError)> = vec![
            ("".into(), JwtError::SegmentCount(1)),
            ("abc".into(), JwtError::SegmentCount(1)),
            (format!("{header}.{claims}"), JwtError::SegmentCount(2)),
            (
                format!("{header}.{claims}.{sig}.{sig}"),
                JwtError::SegmentCount(4),
            ),
            (
                format!("{header}.{claims}.{sig}.{sig}.{sig}"),
                JwtError::SegmentCount(5),
            ),
            ("..".into(), JwtError::NotJson(JwtPart::Header)),
            (
                format!("{header}=.{claims}.{sig}"),
                JwtError::Base64(JwtPart::Header),
            ),
            (
                format!("{header}.{claims}!.{sig}"),
                JwtError::Base64(JwtPart::Claims),
            ),
            (
                format!("{header}.{claims}.{sig}+"),
                JwtError::Base64(JwtPart::Signature),
            ),
            // Standard base64's `/` and `+` are not base64url; nor is padding.
            (
                format!("{header}.{claims}.ab/c"),
                JwtError::Base64(JwtPart::Signature),
            ),
            (
                format!("{header}.{claims}.YQ=="),
                JwtError::Base64(JwtPart::Signature),
            ),
            // A single leftover character is never valid base64.
            (
                format!("{header}.{claims}.a"),
                JwtError::Base64(JwtPart::Signature),
            ),
            (with_header(b"not json"), JwtError::NotJson(JwtPart::Header)),
            (
                with_header(b"[\"alg\"]"),
                JwtError::NotAnObject(JwtPart::Header),
            ),
            (
                with_claims(b"\"sub\""),
                JwtError::NotAnObject(JwtPart::Claims),
            ),
            (with_claims(b"null"), JwtError::NotAnObject(JwtPart::Claims)),
            (
                with_claims(b"{\"sub\":"),
                JwtError::NotJson(JwtPart::Claims),
            ),
            (
                with_claims(&[0xff, 0xfe]),
                JwtError::NotJson(JwtPart::Claims),
            ),
            (with_header(b"{}"), JwtError::MissingAlg),
            (with_header(br#"{"alg":null}"#), JwtError::MissingAlg),
            (
                with_header(br#"{"alg":256}"#),
                JwtError::InvalidHeader("alg"),
            ),
            (
                with_header(br#"{"alg":"RS256","kid":1}"#),
                JwtError::InvalidHeader("kid"),
            ),
            (
                with_header(br#"{"alg":"RS256","typ":[]}"#),
                JwtError::InvalidHeader("typ"),
            ),
            (
                with_header(br#"{"alg":"RS256","crit":["exp"]}"#),
                JwtError::CriticalHeader,
            ),
            (
                format!("{header}.{}.{sig}", "A".repeat(MAX_JWT_LEN)),
                JwtError::TooLarge,
            ),
        ];
        for (token, error) in table {
            check(&token, Err(error));
        }
    }

    #[test]
    fn accepts_an_empty_signature_for_the_validator_to_refuse() {
        // `alg: none` tokens have an empty signature; decoding succeeds so that validation can
        // name the real problem (the algorithm).
        let token = format!("{}.{}.", b64(br#"{"alg":"none"}"#), b64(b"{}"));
        let decoded = decode_jwt(&token).unwrap();
        assert_eq!(decoded.header.alg, "none");
        assert!(decoded.signature.is_empty());
    }

    #[test]
    fn messages() {
        assert_eq!(
            JwtError::SegmentCount(2).to_string(),
            "the provider's token is not readable (2 segments instead of 3): sign in again"
        );
        assert_eq!(
            JwtError::Base64(JwtPart::Claims).to_string(),
            "the provider's token is not readable (its claims segment is not base64url): \
             sign in again"
        );
    }
}
