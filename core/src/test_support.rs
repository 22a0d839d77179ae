//! Builders shared by the host tests: tokens and claims with one thing changed at a time.

use super::id_token::IdClaims;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::Value;

/// Unpadded base64url.
pub(crate) fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A compact JWS with this header and these claims, and a placeholder signature (signatures are
/// checked by WebCrypto in the browser tests, not here).
pub(crate) fn jwt(header: Value, claims: Value) -> String {
    format!(
        "{}.{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes()),
        b64(b"not a real signature")
    )
}

/// Claims of a demo user, issued at `iat` seconds and expiring five minutes later.
pub(crate) fn claims(iat: i64) -> IdClaims {
    IdClaims {
        sub: "demo".into(),
        iss: "http://localhost:4000".into(),
        aud: vec!["oidc-renew-demo".into()],
        exp: iat + 300,
        iat,
        auth_time: Some(iat),
        nonce: Some("n-0S6_WzA2Mj".into()),
        azp: None,
        name: Some("Demo User".into()),
        email: Some("demo@example.com".into()),
        email_verified: Some(true),
        preferred_username: Some("demo".into()),
        picture: None,
    }
}
