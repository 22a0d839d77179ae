//! WebCrypto glue: JWS verification with keys generated here, SHA-256 and random bytes.

use crate::browser::crypto::{sha256, verify_signature};
use crate::browser::random::random_bytes;
use crate::browser::BrowserError;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use js_sys::{Array, Object, Reflect, Uint8Array};
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::wasm_bindgen_test;
use web_sys::{CryptoKey, SubtleCrypto};

/// A token signed by a key generated in the test, as a provider would publish and issue it.
struct Signed {
    /// The public key as one JWKS entry (with `kid` and `use`, as providers publish them).
    jwk: String,
    /// `base64url(header).base64url(payload)`.
    input: Vec<u8>,
    signature: Vec<u8>,
}

#[derive(Clone, Copy)]
enum Kind {
    Rsa,
    Ec,
}

fn subtle() -> SubtleCrypto {
    gloo::utils::window().crypto().unwrap().subtle()
}

fn set(object: &JsValue, key: &str, value: impl Into<JsValue>) {
    Reflect::set(object, &key.into(), &value.into()).unwrap();
}

fn get(object: &JsValue, key: &str) -> JsValue {
    Reflect::get(object, &key.into()).unwrap()
}

/// Generates a key pair of `kind`, and signs a JWS whose header names `alg` and `kid`.
async fn signed(kind: Kind) -> Signed {
    let subtle = subtle();
    let params = Object::new();
    let (alg, sign_params): (&str, Object) = match kind {
        Kind::Rsa => {
            set(&params, "name", "RSASSA-PKCS1-v1_5");
            set(&params, "modulusLength", 2048);
            set(
                &params,
                "publicExponent",
                Uint8Array::from(&[1u8, 0, 1][..]),
            );
            set(&params, "hash", "SHA-256");
            let sign = Object::new();
            set(&sign, "name", "RSASSA-PKCS1-v1_5");
            ("RS256", sign)
        }
        Kind::Ec => {
            set(&params, "name", "ECDSA");
            set(&params, "namedCurve", "P-256");
            let sign = Object::new();
            set(&sign, "name", "ECDSA");
            set(&sign, "hash", "SHA-256");
            ("ES256", sign)
        }
    };
    let usages = Array::of2(&"sign".into(), &"verify".into());
    let pair = JsFuture::from(
        subtle
            .generate_key_with_object(&params, true, &usages)
            .unwrap(),
    )
    .await
    .unwrap();
    let private: CryptoKey = get(&pair, "privateKey").into();
    let public: CryptoKey = get(&pair, "publicKey").into();

    let jwk = JsFuture::from(subtle.export_key("jwk", &public).unwrap())
        .await
        .unwrap();
    set(&jwk, "kid", "test-key");
    set(&jwk, "use", "sig");
    let jwk = String::from(js_sys::JSON::stringify(&jwk).unwrap());

    let header = format!(r#"{{"alg":"{alg}","typ":"JWT","kid":"test-key"}}"#);
    let payload =
        r#"{"iss":"https://op.example","sub":"demo","aud":"client","nonce":"n-0S6_WzA2Mj"}"#;
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(payload)
    )
    .into_bytes();
    let signature = JsFuture::from(
        subtle
            .sign_with_object_and_u8_array(&sign_params, &private, &input)
            .unwrap(),
    )
    .await
    .unwrap();
    Signed {
        jwk,
        input,
        signature: Uint8Array::new(&signature).to_vec(),
    }
}

fn flip_one_byte(bytes: &[u8], index: usize) -> Vec<u8> {
    let mut changed = bytes.to_vec();
    changed[index] ^= 0x01;
    changed
}

/// Checks the verdict for a valid token and for one changed byte at the start, the middle and the end of
/// the signing input and of the signature.
async fn check_accepts_only_the_signed_bytes(kind: Kind, alg: &str) {
    let token = signed(kind).await;
    assert_eq!(
        verify_signature(alg, &token.jwk, &token.input, &token.signature).await,
        Ok(true),
        "{alg}: the valid signature"
    );
    for index in [0, token.input.len() / 2, token.input.len() - 1] {
        let input = flip_one_byte(&token.input, index);
        assert_eq!(
            verify_signature(alg, &token.jwk, &input, &token.signature).await,
            Ok(false),
            "{alg}: input byte {index} changed"
        );
    }
    for index in [0, token.signature.len() / 2, token.signature.len() - 1] {
        let signature = flip_one_byte(&token.signature, index);
        assert_eq!(
            verify_signature(alg, &token.jwk, &token.input, &signature).await,
            Ok(false),
            "{alg}: signature byte {index} changed"
        );
    }
}

#[wasm_bindgen_test]
async fn rs256_accepts_the_signature_and_rejects_one_changed_byte() {
    check_accepts_only_the_signed_bytes(Kind::Rsa, "RS256").await;
}

#[wasm_bindgen_test]
async fn es256_accepts_the_signature_and_rejects_one_changed_byte() {
    check_accepts_only_the_signed_bytes(Kind::Ec, "ES256").await;
}

#[wasm_bindgen_test]
async fn a_key_of_the_wrong_type_for_the_algorithm_is_an_error() {
    let rsa = signed(Kind::Rsa).await;
    let ec = signed(Kind::Ec).await;
    // An ES256-length signature, so that the key import is what fails.
    let result = verify_signature("ES256", &rsa.jwk, &rsa.input, &ec.signature).await;
    assert!(
        matches!(result, Err(BrowserError::KeyImport(_))),
        "RSA key with ES256: {result:?}"
    );
    let result = verify_signature("RS256", &ec.jwk, &ec.input, &rsa.signature).await;
    assert!(
        matches!(result, Err(BrowserError::KeyImport(_))),
        "EC key with RS256: {result:?}"
    );
}

#[wasm_bindgen_test]
async fn algorithms_other_than_rs256_and_es256_are_errors() {
    let token = signed(Kind::Rsa).await;
    for alg in ["HS256", "none", "None", "", "PS256", "ES384", "rs256"] {
        let result = verify_signature(alg, &token.jwk, &token.input, &token.signature).await;
        assert_eq!(
            result,
            Err(BrowserError::UnsupportedAlgorithm(alg.to_owned())),
            "{alg:?}"
        );
    }
}

#[wasm_bindgen_test]
async fn an_es256_signature_that_is_not_64_bytes_is_an_error() {
    let token = signed(Kind::Ec).await;
    // A DER-encoded ECDSA signature (what OpenSSL produces) is 70 to 72 bytes.
    for length in [0, 63, 65, 72] {
        let mut signature = token.signature.clone();
        signature.resize(length, 0x30);
        assert_eq!(
            verify_signature("ES256", &token.jwk, &token.input, &signature).await,
            Err(BrowserError::SignatureLength {
                expected: 64,
                actual: length
            })
        );
    }
}

#[wasm_bindgen_test]
async fn a_key_that_is_not_a_jwk_object_is_an_error() {
    let token = signed(Kind::Rsa).await;
    let truncated = &token.jwk[..token.jwk.len() / 2];
    for jwk in ["", "null", "[]", "\"RSA\"", "{}", truncated] {
        let result = verify_signature("RS256", jwk, &token.input, &token.signature).await;
        assert!(
            matches!(result, Err(BrowserError::KeyImport(_))),
            "{jwk:?}: {result:?}"
        );
    }
}

/// The engine running the tests, from its user agent: `chromium`, `firefox` or `webkit`.
fn engine() -> &'static str {
    let agent = gloo::utils::window()
        .navigator()
        .user_agent()
        .unwrap_or_default();
    if agent.contains("Firefox/") {
        "firefox"
    } else if agent.contains("Chrome/") {
        "chromium"
    } else {
        "webkit"
    }
}

/// An engine difference: an RSA JWK whose modulus is 17 bits (`n` = 65537) is refused at import by
/// Chromium (BoringSSL), while Firefox and WebKit import it, and then no signature verifies. Either
/// way the token is refused; only the error differs.
#[wasm_bindgen_test]
async fn a_17_bit_rsa_modulus_never_verifies_and_chromium_refuses_to_import_it() {
    let token = signed(Kind::Rsa).await;
    let tiny = r#"{"kty":"RSA","n":"AQAB","e":"AQAB"}"#;
    let result = verify_signature("RS256", tiny, &token.input, &token.signature).await;
    match engine() {
        "chromium" => assert!(
            matches!(result, Err(BrowserError::KeyImport(_))),
            "{result:?}"
        ),
        _ => assert_eq!(result, Ok(false)),
    }
}

#[wasm_bindgen_test]
async fn a_jwk_whose_alg_or_use_forbids_the_algorithm_is_an_error() {
    let token = signed(Kind::Rsa).await;
    for (from, to) in [
        (r#""alg":"RS256""#, r#""alg":"RS384""#),
        (r#""use":"sig""#, r#""use":"enc""#),
    ] {
        assert!(token.jwk.contains(from), "{}", token.jwk);
        let jwk = token.jwk.replace(from, to);
        let result = verify_signature("RS256", &jwk, &token.input, &token.signature).await;
        assert!(
            matches!(result, Err(BrowserError::KeyImport(_))),
            "{to}: {result:?}"
        );
    }
}

#[wasm_bindgen_test]
async fn sha256_matches_the_fips_180_2_vectors() {
    let hex = |bytes: [u8; 32]| bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
    assert_eq!(
        hex(sha256(b"abc").await.unwrap()),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    assert_eq!(
        hex(
            sha256(b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
                .await
                .unwrap()
        ),
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
    );
    assert_eq!(
        hex(sha256(b"").await.unwrap()),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
}

#[wasm_bindgen_test]
fn random_bytes_differ_between_calls() {
    let first = random_bytes::<32>().unwrap();
    let second = random_bytes::<32>().unwrap();
    assert_ne!(first, second);
    assert_ne!(first, [0; 32]);
}

#[wasm_bindgen_test]
fn random_bytes_beyond_the_browser_limit_is_an_error() {
    // getRandomValues fills at most 65 536 bytes a call and throws a QuotaExceededError beyond.
    assert_eq!(
        random_bytes::<65_536>().map(|bytes| bytes.len()),
        Ok(65_536)
    );
    let result = random_bytes::<65_537>();
    assert!(
        matches!(&result, Err(BrowserError::Js(message)) if message.contains("QuotaExceeded")),
        "{result:?}"
    );
}

#[wasm_bindgen_test]
async fn a_jwk_with_private_members_is_used_as_its_public_key() {
    // A misconfigured JWKS publishing the private key: WebCrypto would refuse to import it for "verify";
    // only the public members are passed on.
    let token = signed(Kind::Ec).await;
    let with_private = token.jwk.replacen(
        '{',
        r#"{"d":"c2VjcmV0LXNjYWxhci1ub3QtdXNlZC1mb3ItdmVyaWZ5aW5n","#,
        1,
    );
    assert_eq!(
        verify_signature("ES256", &with_private, &token.input, &token.signature).await,
        Ok(true)
    );
}
