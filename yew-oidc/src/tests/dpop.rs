//! DPoP glue: the non-extractable key pair, its IndexedDB store, proofs, and the one retry of a nonce
//! challenge (against a stand-in `fetch`).

use super::common::{restore_fetch, stand_in_fetch};
use crate::browser::crypto::verify_signature;
use crate::browser::dpop_keys::{self, KeyPair, DB_NAME, STORE};
use crate::dpop::{Dpop, DpopFailure};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use js_sys::{Array, Promise, Reflect};
use oidc_renew_core::config::StorageKind;
use oidc_renew_core::dpop::{PublicKey, Server};
use serde_json::Value;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::wasm_bindgen_test;

/// A namespace of its own for each test: the database is shared by the whole origin.
fn namespace(test: &str) -> String {
    format!("oidc-renew-test:{test}:{}", js_sys::Math::random())
}

fn decode(segment: &str) -> Value {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(segment).unwrap()).unwrap()
}

/// The proof's header and claims, after checking its signature with the key in its header.
async fn checked(proof: &str) -> (Value, Value) {
    let parts: Vec<&str> = proof.split('.').collect();
    assert_eq!(parts.len(), 3, "{proof}");
    let header = decode(parts[0]);
    let signature = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
    let input = format!("{}.{}", parts[0], parts[1]);
    let valid = verify_signature(
        "ES256",
        &header["jwk"].to_string(),
        input.as_bytes(),
        &signature,
    )
    .await
    .unwrap();
    assert!(
        valid,
        "the proof's signature does not verify with its own jwk"
    );
    (header, decode(parts[1]))
}

async fn await_js(value: JsValue) -> Result<JsValue, JsValue> {
    JsFuture::from(value.dyn_into::<Promise>().unwrap()).await
}

#[wasm_bindgen_test]
async fn the_private_key_cannot_be_exported_and_signs_es256() {
    let pair = KeyPair::generate().await.unwrap();
    assert!(!pair.extractable());
    let public = PublicKey::from_jwk(pair.public_jwk()).expect("an EC P-256 public JWK");
    assert!(!pair.public_jwk().contains("\"d\""));
    let signature = pair.sign(b"header.claims").await.unwrap();
    assert_eq!(signature.len(), 64, "raw r || s");
    let jwk = serde_json::to_string(&public.jwk()).unwrap();
    assert!(
        verify_signature("ES256", &jwk, b"header.claims", &signature)
            .await
            .unwrap()
    );
    assert!(
        !verify_signature("ES256", &jwk, b"header.claimz", &signature)
            .await
            .unwrap()
    );
}

#[wasm_bindgen_test]
async fn keys_are_kept_in_indexeddb_and_stay_unexportable() {
    let ns = namespace("store");
    let pair = KeyPair::generate().await.unwrap();
    dpop_keys::save(&ns, "jkt-1", &pair, 1).await.unwrap();
    let loaded = dpop_keys::load(&ns, "jkt-1")
        .await
        .unwrap()
        .expect("stored");
    assert_eq!(loaded.public_jwk(), pair.public_jwk());
    assert!(!loaded.extractable());
    // What a reload finds still signs for the same public key.
    let signature = loaded.sign(b"after a reload").await.unwrap();
    assert!(
        verify_signature("ES256", pair.public_jwk(), b"after a reload", &signature)
            .await
            .unwrap()
    );
    assert!(dpop_keys::load(&ns, "jkt-2").await.unwrap().is_none());
    assert!(dpop_keys::load("another-client", "jkt-1")
        .await
        .unwrap()
        .is_none());

    // Read by hand, as a script of the page could: the stored private key refuses to be exported.
    let script = format!(
        r#"return new Promise((resolve, reject) => {{
            const open = indexedDB.open("{DB_NAME}");
            open.onerror = () => reject(open.error);
            open.onsuccess = () => {{
                const get = open.result.transaction("{STORE}").objectStore("{STORE}").get(["{ns}", "jkt-1"]);
                get.onsuccess = () => crypto.subtle.exportKey("jwk", get.result.private)
                    .then(() => resolve("exported"), (e) => resolve(e.name));
                get.onerror = () => reject(get.error);
            }};
        }});"#
    );
    let outcome = await_js(
        js_sys::Function::new_no_args(&script)
            .call0(&JsValue::NULL)
            .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(outcome.as_string().as_deref(), Some("InvalidAccessError"));

    // Deleting one, then all but one, of a namespace; other namespaces untouched.
    let other = namespace("store-other");
    dpop_keys::save(&other, "jkt-9", &pair, 1).await.unwrap();
    for jkt in ["jkt-2", "jkt-3"] {
        dpop_keys::save(&ns, jkt, &pair, 2).await.unwrap();
    }
    dpop_keys::delete(&ns, Some("jkt-2"), None).await.unwrap();
    let mut left = dpop_keys::thumbprints(&ns).await.unwrap();
    left.sort();
    assert_eq!(left, ["jkt-1", "jkt-3"]);
    dpop_keys::delete(&ns, None, Some("jkt-3")).await.unwrap();
    assert_eq!(dpop_keys::thumbprints(&ns).await.unwrap(), ["jkt-3"]);
    dpop_keys::delete(&ns, None, None).await.unwrap();
    assert!(dpop_keys::thumbprints(&ns).await.unwrap().is_empty());
    assert_eq!(dpop_keys::thumbprints(&other).await.unwrap(), ["jkt-9"]);
    dpop_keys::delete(&other, None, None).await.unwrap();
}

#[wasm_bindgen_test]
async fn a_reload_finds_the_key_by_its_thumbprint_with_local_storage_only() {
    let ns = namespace("reload");
    let key = Dpop::new(&ns, StorageKind::Local)
        .create(false)
        .await
        .unwrap();
    assert_eq!(key.jkt.len(), 43);
    // A new page: another client instance, same origin.
    let after_reload = Dpop::new(&ns, StorageKind::Local);
    let found = after_reload.key(&key.jkt).await.unwrap().expect("kept");
    assert_eq!(found.jkt, key.jkt);
    after_reload.forget_all(None).await;
    assert!(Dpop::new(&ns, StorageKind::Local)
        .key(&key.jkt)
        .await
        .unwrap()
        .is_none());

    // Memory storage: nothing outlives the page, but a sign-in's key outlives the redirect once.
    let memory = Dpop::new(&ns, StorageKind::Memory);
    let page_only = memory.create(false).await.unwrap();
    assert!(dpop_keys::thumbprints(&ns).await.unwrap().is_empty());
    assert!(Dpop::new(&ns, StorageKind::Memory)
        .key(&page_only.jkt)
        .await
        .unwrap()
        .is_none());
    let signing_in = memory.create(true).await.unwrap();
    assert_eq!(
        dpop_keys::thumbprints(&ns).await.unwrap(),
        vec![signing_in.jkt.clone()]
    );
    let callback = Dpop::new(&ns, StorageKind::Memory);
    let taken = callback
        .key_after_redirect(&signing_in.jkt)
        .await
        .unwrap()
        .expect("the sign-in's key");
    assert_eq!(taken.jkt, signing_in.jkt);
    assert!(dpop_keys::thumbprints(&ns).await.unwrap().is_empty());
    assert!(callback.key(&signing_in.jkt).await.unwrap().is_some());
}

#[wasm_bindgen_test]
async fn proofs_carry_the_claims_and_verify() {
    let dpop = Dpop::new(&namespace("proof"), StorageKind::Memory);
    let key = dpop.create(false).await.unwrap();
    let token_request = key
        .proof("POST", "https://id.example.com/token?x=1#y", None, None)
        .await
        .unwrap();
    let (header, claims) = checked(&token_request).await;
    assert_eq!(header["typ"], "dpop+jwt");
    assert_eq!(header["alg"], "ES256");
    assert_eq!(header["jwk"]["kty"], "EC");
    assert!(header["jwk"].get("d").is_none());
    assert_eq!(claims["htm"], "POST");
    assert_eq!(claims["htu"], "https://id.example.com/token");
    assert!(claims.get("ath").is_none() && claims.get("nonce").is_none());
    let now = (js_sys::Date::now() / 1000.0) as i64;
    assert!((claims["iat"].as_i64().unwrap() - now).abs() <= 2);
    // RFC 9449 §7.1's token: its ath.
    let api = key
        .proof(
            "GET",
            "https://api.example.com/ping",
            Some("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"),
            Some("n-1"),
        )
        .await
        .unwrap();
    let (_, claims2) = checked(&api).await;
    assert_eq!(
        claims2["ath"],
        "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"
    );
    assert_eq!(claims2["nonce"], "n-1");
    assert_ne!(claims["jti"], claims2["jti"], "a jti per proof");
    // The user-timing figure the benchmark reads.
    let measures = web_sys::window()
        .unwrap()
        .performance()
        .unwrap()
        .get_entries_by_name(crate::dpop::PROOF_MEASURE);
    assert!(measures.length() >= 2);
}

fn recorded(record: &Array, i: u32, field: &str) -> Option<String> {
    Reflect::get(&record.get(i), &field.into())
        .unwrap()
        .as_string()
}

#[wasm_bindgen_test]
async fn a_nonce_challenge_is_answered_once_and_the_nonce_remembered() {
    let dpop = Dpop::new(&namespace("nonce"), StorageKind::Memory);
    let key = dpop.create(false).await.unwrap();
    let token = "https://id.example.com/token";
    let form = [("Content-Type", "application/x-www-form-urlencoded")];

    // The token endpoint asks for a nonce, then answers.
    let record = stand_in_fetch(
        r#"[[400, "{\"error\":\"use_dpop_nonce\"}", {"DPoP-Nonce": "n-1"}],
            [200, "{\"access_token\":\"at\"}", {"DPoP-Nonce": "n-2"}]]"#,
    );
    let response = dpop
        .send(
            &key,
            Server::Authorization,
            "POST",
            token,
            &form,
            Some("a=b"),
            None,
        )
        .await;
    assert_eq!(response.map(|r| r.status), Ok(200));
    assert_eq!(record.length(), 2);
    let (_, first) = checked(&recorded(&record, 0, "dpop").unwrap()).await;
    let (_, second) = checked(&recorded(&record, 1, "dpop").unwrap()).await;
    assert!(first.get("nonce").is_none());
    assert_eq!(second["nonce"], "n-1");
    assert_ne!(first["jti"], second["jti"]);
    assert_eq!(recorded(&record, 1, "body").as_deref(), Some("a=b"));
    assert_eq!(recorded(&record, 0, "auth"), None);

    // The next request to that server sends the nonce its last answer brought.
    let record = stand_in_fetch(r#"[[200, "{}", {}]]"#);
    dpop.send(
        &key,
        Server::Authorization,
        "POST",
        token,
        &form,
        Some("a=b"),
        None,
    )
    .await
    .unwrap();
    let (_, claims) = checked(&recorded(&record, 0, "dpop").unwrap()).await;
    assert_eq!(claims["nonce"], "n-2");

    // A server that always asks gets two requests, and its last answer.
    let record = stand_in_fetch(
        r#"[[401, "", {"WWW-Authenticate": "DPoP error=\"use_dpop_nonce\"", "DPoP-Nonce": "r-1"}],
            [401, "", {"WWW-Authenticate": "DPoP error=\"use_dpop_nonce\"", "DPoP-Nonce": "r-2"}],
            [401, "", {"WWW-Authenticate": "DPoP error=\"use_dpop_nonce\"", "DPoP-Nonce": "r-3"}]]"#,
    );
    let api = "https://api.example.com/ping";
    let response = dpop
        .send(&key, Server::Resource, "GET", api, &[], None, Some("at-1"))
        .await
        .unwrap();
    assert_eq!(response.status, 401);
    assert_eq!(record.length(), 2);
    assert_eq!(recorded(&record, 0, "auth").as_deref(), Some("DPoP at-1"));
    let (_, claims) = checked(&recorded(&record, 1, "dpop").unwrap()).await;
    assert_eq!(claims["nonce"], "r-1");
    assert!(claims["ath"].is_string());

    // A hostile nonce (joined headers, a quote, too long) is neither retried with nor remembered.
    for nonce in ["a, b", "a\"b", &"n".repeat(2000)] {
        let answers = serde_json::json!([[401, "", {
            "WWW-Authenticate": "DPoP error=\"use_dpop_nonce\"", "DPoP-Nonce": nonce
        }]])
        .to_string();
        let record = stand_in_fetch(&answers);
        let dpop = Dpop::new(&namespace("hostile"), StorageKind::Memory);
        let key = dpop.create(false).await.unwrap();
        let response = dpop
            .send(&key, Server::Resource, "GET", api, &[], None, Some("at"))
            .await
            .unwrap();
        assert_eq!((response.status, record.length()), (401, 1), "{nonce}");
        let record = stand_in_fetch(r#"[[200, "{}", {}]]"#);
        dpop.send(&key, Server::Resource, "GET", api, &[], None, Some("at"))
            .await
            .unwrap();
        let (_, claims) = checked(&recorded(&record, 0, "dpop").unwrap()).await;
        assert!(claims.get("nonce").is_none(), "{nonce}");
    }

    // No response: the failure names the URL, with no retry.
    let record = stand_in_fetch(r#"[]"#);
    let _ = js_sys::eval("window.fetch = async () => { throw new TypeError('Failed to fetch'); };");
    let failed = dpop
        .send(&key, Server::Resource, "GET", api, &[], None, Some("at"))
        .await;
    assert!(
        matches!(&failed, Err(DpopFailure::Http { url, .. }) if url == api),
        "{failed:?}"
    );
    assert_eq!(record.length(), 0);
    restore_fetch();
}
