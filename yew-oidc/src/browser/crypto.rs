//! WebCrypto (`crypto.subtle`): SHA-256, and JWS signature verification with a public JWK.
//!
//! Which key and algorithm to use is decided by the protocol layer (alg allow-list, `kid` lookup in the
//! JWKS); this file only runs the primitive.

use super::error::{js_error, js_message, truncate, window, BrowserError};
use js_sys::{Array, Object, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{CryptoKey, EcKeyImportParams, EcdsaParams, RsaHashedImportParams, SubtleCrypto};

/// The JWK members passed on to `importKey`: the public key, and the members WebCrypto checks against the
/// algorithm (`alg`, `use`, `key_ops`). Private members (`d`, `p`, `q`, ...) of a misconfigured JWKS are
/// dropped, so such a key is still used as the public key it contains.
const PUBLIC_JWK_MEMBERS: [&str; 9] = ["kty", "crv", "x", "y", "n", "e", "alg", "use", "key_ops"];

/// The JWS algorithms verified here.
#[derive(Clone, Copy)]
enum Alg {
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    Rs256,
    /// ECDSA on P-256 with SHA-256; the signature is the raw 64-byte `r || s`.
    Es256,
}

impl Alg {
    fn from_jws(alg: &str) -> Result<Self, BrowserError> {
        match alg {
            "RS256" => Ok(Self::Rs256),
            "ES256" => Ok(Self::Es256),
            other => Err(BrowserError::UnsupportedAlgorithm(truncate(other, 16))),
        }
    }
}

/// `crypto.subtle`. It is `undefined` outside secure contexts, although web-sys types it as always present,
/// so it is read and checked by hand.
pub(crate) fn subtle() -> Result<SubtleCrypto, BrowserError> {
    let crypto = window()?
        .crypto()
        .map_err(|_| BrowserError::CryptoUnavailable)?;
    Reflect::get(&crypto, &JsValue::from_str("subtle"))
        .ok()
        .and_then(|subtle| subtle.dyn_into::<SubtleCrypto>().ok())
        .ok_or(BrowserError::CryptoUnavailable)
}

/// The SHA-256 digest of `data` (e.g. the PKCE S256 code challenge of a verifier).
///
/// Errors: [`BrowserError::NoWindow`], [`BrowserError::CryptoUnavailable`], [`BrowserError::Js`].
pub async fn sha256(data: &[u8]) -> Result<[u8; 32], BrowserError> {
    // WebCrypto copies `data` when called, so handing it a view of wasm memory is safe across the await.
    let promise = subtle()?
        .digest_with_str_and_u8_array("SHA-256", data)
        .map_err(js_error)?;
    let digest = Uint8Array::new(&JsFuture::from(promise).await.map_err(js_error)?);
    let mut out = [0u8; 32];
    if digest.length() as usize != out.len() {
        return Err(BrowserError::Js(format!(
            "SHA-256 digest of {} bytes",
            digest.length()
        )));
    }
    digest.copy_to(&mut out);
    Ok(out)
}

/// Verifies a JWS signature with WebCrypto.
///
/// - `alg`: the JWS algorithm, `"RS256"` (RSASSA-PKCS1-v1_5, SHA-256) or `"ES256"` (ECDSA P-256, SHA-256).
/// - `public_jwk_json`: one JWK (a JSON object, e.g. one entry of a JWKS `keys` array). Only its public
///   members are used; its `alg`, `use` and `key_ops`, when present, must allow verifying with `alg`.
/// - `signing_input`: the ASCII bytes `base64url(header) "." base64url(payload)`.
/// - `signature`: the decoded signature; for ES256 the raw 64-byte `r || s` of JWS (what WebCrypto expects).
///
/// Returns `Ok(false)` for a well-formed signature that does not match. Errors:
/// [`BrowserError::UnsupportedAlgorithm`] for any other `alg` (`none`, `HS256`, ...),
/// [`BrowserError::SignatureLength`] for an ES256 signature that is not 64 bytes,
/// [`BrowserError::KeyImport`] for a key that is not JSON or does not fit the algorithm (an RSA key with
/// ES256, a P-384 key, ...), and [`BrowserError::CryptoUnavailable`], [`BrowserError::NoWindow`],
/// [`BrowserError::Js`].
pub async fn verify_signature(
    alg: &str,
    public_jwk_json: &str,
    signing_input: &[u8],
    signature: &[u8],
) -> Result<bool, BrowserError> {
    let alg = Alg::from_jws(alg)?;
    if let Alg::Es256 = alg {
        if signature.len() != 64 {
            return Err(BrowserError::SignatureLength {
                expected: 64,
                actual: signature.len(),
            });
        }
    }
    let subtle = subtle()?;
    let key = import_public_jwk(&subtle, alg, public_jwk_json).await?;
    let promise = match alg {
        // The hash is part of the imported key's algorithm: the name is all `verify` needs.
        Alg::Rs256 => subtle.verify_with_str_and_u8_array_and_u8_array(
            "RSASSA-PKCS1-v1_5",
            &key,
            signature,
            signing_input,
        ),
        Alg::Es256 => subtle.verify_with_object_and_u8_array_and_u8_array(
            &EcdsaParams::new_with_str("ECDSA", "SHA-256"),
            &key,
            signature,
            signing_input,
        ),
    }
    .map_err(js_error)?;
    JsFuture::from(promise)
        .await
        .map_err(js_error)?
        .as_bool()
        .ok_or_else(|| BrowserError::Js("verify did not return a boolean".to_owned()))
}

/// Imports the public part of a JWK for verifying with `alg`.
async fn import_public_jwk(
    subtle: &SubtleCrypto,
    alg: Alg,
    json: &str,
) -> Result<CryptoKey, BrowserError> {
    let parsed = js_sys::JSON::parse(json)
        .map_err(|_| BrowserError::KeyImport("the key is not JSON".to_owned()))?;
    if !parsed.is_object() || Array::is_array(&parsed) {
        return Err(BrowserError::KeyImport(
            "the key is not a JSON object".to_owned(),
        ));
    }
    // Checked here rather than left to `importKey`, whose checks differ by engine: Firefox (ESR 153)
    // crashes its content process importing an RSA JWK for ECDSA, and imports a JWK whose `use` is
    // "enc" for verifying (Chromium and WebKit refuse it). See README, Browsers.
    let member = |name: &str| Reflect::get(&parsed, &JsValue::from_str(name)).ok();
    let kty = member("kty").and_then(|value| value.as_string());
    let wanted = match alg {
        Alg::Rs256 => "RSA",
        Alg::Es256 => "EC",
    };
    if kty.as_deref() != Some(wanted) {
        return Err(BrowserError::KeyImport(format!(
            "the key type (kty) is {}, not {wanted}",
            kty.map_or("missing".to_owned(), |kty| format!(
                "\"{}\"",
                truncate(&kty, 16)
            ))
        )));
    }
    if let Some(key_use) = member("use").filter(|value| !value.is_undefined()) {
        if key_use.as_string().as_deref() != Some("sig") {
            return Err(BrowserError::KeyImport(
                "the key's use is not \"sig\"".to_owned(),
            ));
        }
    }
    let jwk = Object::new();
    for member in PUBLIC_JWK_MEMBERS {
        let name = JsValue::from_str(member);
        let value = Reflect::get(&parsed, &name).map_err(js_error)?;
        if !value.is_undefined() {
            Reflect::set(&jwk, &name, &value).map_err(js_error)?;
        }
    }

    let algorithm: Object = match alg {
        Alg::Rs256 => {
            let params = RsaHashedImportParams::new_with_str("SHA-256");
            // web-sys's RsaHashedImportParams has no `name` setter (the member is inherited from the
            // WebIDL `Algorithm` dictionary), so it is set by hand.
            Reflect::set(
                &params,
                &JsValue::from_str("name"),
                &JsValue::from_str("RSASSA-PKCS1-v1_5"),
            )
            .map_err(js_error)?;
            params.into()
        }
        Alg::Es256 => {
            let params = EcKeyImportParams::new("ECDSA");
            params.set_named_curve("P-256");
            params.into()
        }
    };
    let usages = Array::of1(&JsValue::from_str("verify"));
    let promise = subtle
        .import_key_with_object("jwk", &jwk, &algorithm, false, &usages)
        .map_err(|error| BrowserError::KeyImport(js_message(&error)))?;
    JsFuture::from(promise)
        .await
        .map_err(|error| BrowserError::KeyImport(js_message(&error)))?
        .dyn_into::<CryptoKey>()
        .map_err(|_| BrowserError::KeyImport("importKey did not return a key".to_owned()))
}
