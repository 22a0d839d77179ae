//! Random tokens and PKCE (RFC 7636) from bytes the caller supplies: `crypto.getRandomValues` for
//! the randomness and WebCrypto for SHA-256 live in the browser glue, so the encodings here are
//! tested against the RFC's vector.

use crate::base64url;

/// Random bytes to draw for a `state`, a `nonce` or a code verifier: 256 bits, as RFC 7636 §7.1
/// recommends for the verifier, and far beyond guessing for the others.
pub const RANDOM_BYTES: usize = 32;

/// Encodes random bytes as base64url without padding: a `state` or `nonce` value (43 characters for
/// [`RANDOM_BYTES`] bytes), safe in URLs and in every RFC 6749 character set.
pub fn random_token(bytes: &[u8]) -> String {
    base64url::encode(bytes)
}

/// The PKCE code verifier for 32 random bytes: their base64url encoding, 43 characters
/// (RFC 7636 §4.1).
pub fn code_verifier(random: &[u8; 32]) -> String {
    base64url::encode(random)
}

/// The S256 code challenge for the SHA-256 of the verifier's ASCII: its base64url encoding
/// (RFC 7636 §4.2). The hash itself is the caller's (WebCrypto in the browser).
pub fn code_challenge(verifier_sha256: &[u8; 32]) -> String {
    base64url::encode(verifier_sha256)
}

/// Whether `verifier` has the form RFC 7636 §4.1 requires: 43 to 128 unreserved characters.
pub fn is_valid_verifier(verifier: &str) -> bool {
    (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    /// RFC 7636 Appendix B: the 32 random octets, the verifier and the challenge.
    const RFC_RANDOM: [u8; 32] = [
        116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186, 22, 212, 37,
        77, 105, 214, 191, 240, 91, 88, 5, 88, 83, 132, 141, 121,
    ];
    const RFC_VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    /// RFC 7636 Appendix B: the SHA-256 of the verifier's ASCII.
    const RFC_VERIFIER_SHA256: [u8; 32] = [
        19, 211, 30, 150, 26, 26, 216, 236, 47, 22, 177, 12, 76, 152, 46, 8, 118, 168, 120, 173,
        109, 241, 68, 86, 110, 225, 137, 74, 203, 112, 249, 195,
    ];
    /// The RFC's challenge (copies ending in `...buEUVseXK-Q` circulate; they are not the RFC's,
    /// and the hash bytes above, which the RFC lists too, decide it).
    const RFC_CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    fn sha256(text: &str) -> [u8; 32] {
        Sha256::digest(text.as_bytes()).into()
    }

    fn check_pkce(random: [u8; 32], verifier: &str, challenge: &str) {
        assert_eq!(code_verifier(&random), verifier);
        assert!(is_valid_verifier(verifier), "{verifier}");
        assert_eq!(code_challenge(&sha256(verifier)), challenge);
    }

    #[test]
    fn rfc7636_appendix_b() {
        check_pkce(RFC_RANDOM, RFC_VERIFIER, RFC_CHALLENGE);
        assert_eq!(sha256(RFC_VERIFIER), RFC_VERIFIER_SHA256);
        assert_eq!(code_challenge(&RFC_VERIFIER_SHA256), RFC_CHALLENGE);
    }

    #[test]
    fn other_verifiers_are_43_url_safe_characters() {
        check_pkce(
            [0; 32],
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "DwBzhbb51LfusnSGBa_hqYSgo7-j8BTQnip4TOnlzRo",
        );
        check_pkce(
            [0xff; 32],
            "__________________________________________8",
            "Il9-dTKd1FqjVJddc5hzGTCTk686TGczvBNgGk8bh5Y",
        );
    }

    #[test]
    fn random_tokens_are_unpadded_base64url() {
        let check = |bytes: &[u8], expected: &str| assert_eq!(random_token(bytes), expected);
        check(&[], "");
        check(&[0xfb, 0xff], "-_8");
        check(&RFC_RANDOM, RFC_VERIFIER);
    }

    #[test]
    fn verifier_form() {
        let check = |verifier: &str, expected: bool| {
            assert_eq!(is_valid_verifier(verifier), expected, "{verifier}");
        };
        check(&"a".repeat(42), false);
        check(&"a".repeat(43), true);
        check(&"-._~".repeat(32), true);
        check(&"a".repeat(129), false);
        check(&format!("{}+", "a".repeat(43)), false);
        check(&format!("{}é", "a".repeat(43)), false);
    }
}
