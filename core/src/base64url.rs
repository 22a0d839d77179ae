//! base64url without padding (RFC 4648 §5): the one encoding of JWT segments, PKCE values, DPoP proofs
//! and JWK members. Strict, as RFC 7515 §2 asks: no padding, no other alphabet, no line breaks, and no
//! set bits past the last byte (a second spelling of the same bytes is refused).
//!
//! base64ct (RustCrypto): constant-time, and small in the bundle, where the `base64` crate's
//! general-purpose engine (unrolled, with a bounds check per step) weighed about 2 KB gzip more.

use base64ct::{Base64UrlUnpadded, Encoding};

/// The encoding of `bytes`.
pub fn encode(bytes: &[u8]) -> String {
    Base64UrlUnpadded::encode_string(bytes)
}

/// The bytes `text` encodes, or `None` when it is not strict unpadded base64url.
pub fn decode(text: &str) -> Option<Vec<u8>> {
    Base64UrlUnpadded::decode_vec(text).ok()
}

#[cfg(test)]
mod tests {
    use super::{decode, encode};
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;

    /// The `base64` crate's strict unpadded base64url: a second implementation to agree with.
    fn reference(text: &str) -> Option<Vec<u8>> {
        URL_SAFE_NO_PAD.decode(text).ok()
    }

    #[test]
    fn encodes_as_rfc_4648_says() {
        // RFC 4648 §10's vectors, in the URL-safe alphabet without padding.
        for (bytes, text) in [
            ("", ""),
            ("f", "Zg"),
            ("fo", "Zm8"),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg"),
            ("fooba", "Zm9vYmE"),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(encode(bytes.as_bytes()), text);
            assert_eq!(decode(text).as_deref(), Some(bytes.as_bytes()));
        }
        assert_eq!(encode(&[0xfb, 0xff, 0xbf]), "-_-_");
    }

    #[test]
    fn every_byte_string_round_trips_as_the_reference_encodes_it() {
        let mut bytes = Vec::new();
        for n in 0..300u32 {
            bytes.push(n.wrapping_mul(167).to_le_bytes()[0] ^ (n >> 3) as u8);
            let text = encode(&bytes);
            assert_eq!(text, URL_SAFE_NO_PAD.encode(&bytes));
            assert_eq!(decode(&text).as_deref(), Some(bytes.as_slice()));
        }
    }

    #[test]
    fn refuses_what_strict_base64url_refuses() {
        for text in [
            "Zg==",     // padding
            "Zm8=",     // padding
            "Zh",       // set bits past the last byte: a second spelling of "Zg"
            "Zm9",      // the same, of "Zm8"
            "Z",        // a length no bytes have
            "Zm9vY",    // the same, after a whole block
            "Zm9v+/8",  // the standard alphabet
            "Zm9v Yg",  // whitespace
            "Zm9v\nYg", // a line break
            "Zm9vYg.",  // a JWT's separator
            "é",        // not ASCII
        ] {
            assert_eq!(decode(text), None, "{text:?}");
            assert_eq!(reference(text), None, "the reference accepts {text:?}");
        }
    }

    #[test]
    fn decodes_every_short_text_as_the_reference_does() {
        // Every text of up to 4 characters over characters of each kind: both alphabets' own
        // characters, values with low bits set or clear, padding, separators, whitespace.
        let alphabet = [
            "A", "Q", "g", "w", "_", "-", "+", "/", "=", "9", ".", " ", "é",
        ];
        let mut texts = vec![String::new()];
        let mut last = texts.clone();
        for _ in 0..4 {
            last = last
                .iter()
                .flat_map(|text| alphabet.iter().map(move |c| format!("{text}{c}")))
                .collect();
            texts.extend(last.iter().cloned());
        }
        assert_eq!(
            texts.len(),
            1 + 13 + 13 * 13 + 13 * 13 * 13 + 13 * 13 * 13 * 13
        );
        for text in texts
            .iter()
            .map(String::as_str)
            .chain(["Zm9vYmFyAQ", "Zm9vYmFyAR", "AAAA_w"])
        {
            assert_eq!(decode(text), reference(text), "{text:?}");
        }
    }
}
