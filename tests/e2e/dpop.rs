//! DPoP (#15, RFC 9449) end to end: the local provider lists ES256 DPoP proofs, so the shipped
//! `dpop: auto` binds every token to a key pair the browser made non-extractable and keeps in
//! IndexedDB. Sign-in, iframe renewal, refresh renewal (the cross-site setup of `refresh.rs`) and the
//! API page carry proofs; tokens copied out of storage and proofs replayed from this process are
//! refused; the provider's nonce challenges are answered; a reload keeps the key.
//!
//! The attacker here is this test process: it holds whatever a script could read from storage, and
//! a P-256 key of its own (the browser's cannot be read), and speaks HTTP to the API and the token
//! endpoint directly.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hyper::Method;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::fixtures::{http, poll_until, Harness, DEMO_NAME};

const TTL_SECS: u64 = 12;
/// Long enough that only the Renew-now button renews during a test.
const LONG_TTL_SECS: u64 = 300;
const OFFLINE_SCOPE: &str = "openid profile email offline_access";
/// The demo client's key-store namespace (yew-oidc: `oidc-renew:<client_id>`).
const NAMESPACE: &str = "oidc-renew:oidc-renew-demo";

fn configure(h: &Harness, fields: Value) {
    let mut config = h.app.config().expect("the harness sets config.json");
    for (name, value) in fields.as_object().unwrap() {
        config[name] = value.clone();
    }
    h.app.set_config(config);
}

/// The thumbprint the stored session's tokens are bound to (checking that they are DPoP tokens).
async fn bound_jkt(h: &Harness) -> String {
    let session = h.stored_session().await;
    assert_eq!(session["token_type"], "DPoP", "{session}");
    let jkt = session["dpop_jkt"].as_str().expect("a dpop_jkt").to_owned();
    assert_eq!(jkt.len(), 43, "{jkt}");
    jkt
}

/// Waits (up to `within`) until the stored access token differs from `previous`.
async fn next_token(h: &Harness, previous: &str, within: Duration) -> String {
    poll_until(within, || async {
        h.stored_token().await.filter(|token| token != previous)
    })
    .await
    .unwrap_or_else(|| panic!("no renewal within {within:?}\n{}", h.provider.output()))
}

/// The newest successful renewal's log line, once there is one after `count` of them.
async fn renewal_succeeded(h: &Harness, count: usize) -> String {
    let found = poll_until(Duration::from_secs(20), || async {
        let list = h
            .browser
            .eval("return Array.from(document.querySelectorAll('#event-log li[data-kind=\"renewal-succeeded\"]'), li => li.textContent)")
            .await;
        let list: Vec<String> = serde_json::from_value(list).unwrap_or_default();
        (list.len() > count).then(|| list[0].clone())
    })
    .await;
    found.unwrap_or_else(|| panic!("no renewal succeeded\n{}", h.provider.output()))
}

/// Calls the API from its page; returns the status shown and the API's JSON answer, back on the
/// home page (the session panel's).
async fn api(h: &Harness) -> (String, Value) {
    let status = h.call_api().await;
    let body = h.browser.find("#api-result").await.text().await.unwrap();
    h.browser.click(r#"nav#nav a[href="/"]"#).await;
    h.browser.wait_for("#event-log").await;
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

/// What the page itself can do with the key record IndexedDB holds for `jkt`: whether it is there,
/// whether `exportKey` on its private key throws (and how), and whether its public key's RFC 7638
/// thumbprint, computed here independently, is `jkt`.
async fn key_record(h: &Harness, jkt: &str) -> Value {
    h.browser
        .eval_async_with(
            r#"
            const [namespace, jkt] = args;
            const db = await new Promise((resolve, reject) => {
                const open = indexedDB.open('oidc-renew-dpop');
                open.onsuccess = () => resolve(open.result);
                open.onerror = () => reject(open.error);
            });
            const request = (store) => new Promise((resolve, reject) => {
                store.onsuccess = () => resolve(store.result);
                store.onerror = () => reject(store.error);
            });
            const keys = db.transaction('keys').objectStore('keys');
            const record = await request(keys.get([namespace, jkt]));
            const all = await request(db.transaction('keys').objectStore('keys').getAllKeys());
            db.close();
            const ours = all.filter((key) => key[0] === namespace).map((key) => key[1]);
            if (!record) return { found: false, keys: ours };
            const outcome = {};
            for (const format of ['jwk', 'pkcs8']) {
                try {
                    await crypto.subtle.exportKey(format, record.private);
                    outcome[format] = 'exported';
                } catch (error) {
                    outcome[format] = error.name;
                }
            }
            const jwk = JSON.parse(record.jwk);
            const input = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y });
            const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(input)));
            const thumbprint = btoa(String.fromCharCode(...digest))
                .replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
            return {
                found: true, keys: ours, extractable: record.private.extractable,
                type: record.private.type, export: outcome, thumbprint_matches: thumbprint === jkt,
                has_private_member: 'd' in jwk,
            };
            "#,
            vec![json!(NAMESPACE), json!(jkt)],
        )
        .await
}

fn assert_key_held(record: &Value, jkt: &str) {
    assert_eq!(record["found"], true, "{record}");
    assert_eq!(
        record["keys"],
        json!([jkt]),
        "one key, the session's: {record}"
    );
    assert_eq!(record["extractable"], false, "{record}");
    assert_eq!(record["type"], "private", "{record}");
    for format in ["jwk", "pkcs8"] {
        let outcome = record["export"][format].as_str().unwrap_or_default();
        assert!(
            !outcome.is_empty() && outcome != "exported",
            "exportKey({format}) must throw: {record}"
        );
    }
    assert_eq!(record["thumbprint_matches"], true, "{record}");
    assert_eq!(record["has_private_member"], false, "{record}");
}

#[tokio::test]
async fn sign_in_api_and_iframe_renewal_are_bound_to_one_unexportable_key_that_a_reload_keeps() {
    let h = Harness::builder().token_ttl(TTL_SECS).start().await;
    h.log_in().await;
    let jkt = bound_jkt(&h).await;
    let stats = h.provider.stats().await;
    assert!(stats["authorize_dpop_jkt"].as_u64() >= Some(1), "{stats}");
    assert!(stats["dpop_token"].as_u64() >= Some(1), "{stats}");
    assert_key_held(&key_record(&h, &jkt).await, &jkt);

    // The API page: a DPoP-bound token with a proof, accepted.
    let (status, answer) = api(&h).await;
    assert_eq!(status, "HTTP 200", "{answer}");
    assert_eq!(answer["token_type"], "DPoP", "{answer}");
    assert_eq!(answer["jkt"], jkt, "{answer}");

    // A silent renewal in the iframe: its authorize request names the key, its code exchange
    // proves it, and the new tokens are bound to the same key.
    h.provider.reset_stats().await;
    let token = h.stored_token().await.unwrap();
    let token = next_token(&h, &token, Duration::from_secs(3 * TTL_SECS)).await;
    assert!(renewal_succeeded(&h, 0).await.contains("by iframe"));
    assert_eq!(bound_jkt(&h).await, jkt);
    let stats = h.provider.stats().await;
    assert!(
        stats["authorize_prompt_none"].as_u64() >= Some(1),
        "{stats}"
    );
    assert_eq!(
        stats["authorize_dpop_jkt"], stats["authorize"],
        "every authorize request names the key: {stats}"
    );
    assert_eq!(stats["dpop_token"], stats["token"], "{stats}");

    // A reload: the same key from IndexedDB, renewals go on, the API still answers.
    h.open("/").await;
    let status = h.browser.wait_for("#auth-status.signed-in").await;
    assert!(status.text().await.unwrap().contains(DEMO_NAME));
    next_token(&h, &token, Duration::from_secs(3 * TTL_SECS)).await;
    assert_eq!(bound_jkt(&h).await, jkt);
    assert_key_held(&key_record(&h, &jkt).await, &jkt);
    let (status, answer) = api(&h).await;
    assert_eq!((status.as_str(), &answer["jkt"]), ("HTTP 200", &json!(jkt)));
    let stats = h.provider.stats().await;
    assert_eq!(
        stats["refresh"], 0,
        "no refresh token without offline_access: {stats}"
    );
    h.close().await;
}

#[tokio::test]
async fn refresh_renewal_across_sites_proves_the_same_key_through_a_reload() {
    refresh_renewal_proves_the_same_key("always").await;
}

#[tokio::test]
async fn a_bound_refresh_token_the_provider_does_not_rotate_is_used_again() {
    // oidc-provider's own policy: a sender-constrained refresh token is not rotated, so each answer
    // carries the same token (or none): the session goes on with it.
    refresh_renewal_proves_the_same_key("unbound").await;
}

/// Refresh renewals across sites, through a reload, with the provider's REFRESH_ROTATION: the same
/// key proves every request; the refresh token rotates at each renewal with `always` and stays the
/// same with `unbound`.
async fn refresh_renewal_proves_the_same_key(rotation: &str) {
    let h = Harness::builder()
        .provider_cross_site()
        .provider_env("REFRESH_ROTATION", rotation)
        .token_ttl(TTL_SECS)
        .start()
        .await;
    configure(&h, json!({"renewal": "auto", "scope": OFFLINE_SCOPE}));
    h.log_in().await;
    let jkt = bound_jkt(&h).await;
    let mut refresh_token = h.stored_session().await["refresh_token"]
        .as_str()
        .expect("a refresh token for offline_access")
        .to_owned();
    h.provider.reset_stats().await;
    let mut token = h.stored_token().await.unwrap();
    for round in 0..2 {
        token = next_token(&h, &token, Duration::from_secs(3 * TTL_SECS)).await;
        assert!(
            renewal_succeeded(&h, round)
                .await
                .contains("by refresh token"),
            "round {round}"
        );
        assert_eq!(bound_jkt(&h).await, jkt, "round {round}");
        let now = h.stored_session().await["refresh_token"]
            .as_str()
            .unwrap()
            .to_owned();
        match rotation {
            "always" => assert_ne!(now, refresh_token, "round {round}: not rotated"),
            _ => assert_eq!(now, refresh_token, "round {round}: the same token kept"),
        }
        refresh_token = now;
    }
    h.open("/").await;
    h.browser.wait_for("#auth-status.signed-in").await;
    next_token(&h, &token, Duration::from_secs(3 * TTL_SECS)).await;
    assert_eq!(bound_jkt(&h).await, jkt);
    let (status, answer) = api(&h).await;
    assert_eq!(status, "HTTP 200", "{answer}");
    assert_eq!(answer["jkt"], jkt);
    let stats = h.provider.stats().await;
    assert!(stats["refresh"].as_u64() >= Some(3), "{stats}");
    assert_eq!(stats["dpop_token"], stats["token"], "{stats}");
    assert_eq!(stats["refresh_refused"], 0, "{stats}");
    assert_eq!(stats["authorize_prompt_none"], 0, "{stats}");
    h.close().await;
}

/// A P-256 key of the attacker's own, and the proofs it signs: right in every claim, wrong in key.
struct Attacker {
    key: SigningKey,
    jwk: Value,
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

impl Attacker {
    fn new() -> Attacker {
        let key = SigningKey::from_bytes(&[7u8; 32].into()).expect("a valid scalar");
        let point = key.verifying_key().to_encoded_point(false);
        let jwk = json!({
            "kty": "EC", "crv": "P-256",
            "x": b64(point.x().unwrap()), "y": b64(point.y().unwrap()),
        });
        Attacker { key, jwk }
    }

    fn proof(&self, htm: &str, htu: &str, access_token: Option<&str>) -> String {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
        let mut claims = json!({
            "jti": format!("attacker-{}", now.as_nanos()), "htm": htm, "htu": htu,
            "iat": now.as_secs(),
        });
        if let Some(token) = access_token {
            claims["ath"] = json!(b64(&Sha256::digest(token.as_bytes())));
        }
        let header = json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": self.jwk});
        let input = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(claims.to_string().as_bytes())
        );
        let signature: Signature = self.key.sign(input.as_bytes());
        format!("{input}.{}", b64(&signature.to_bytes()))
    }
}

/// Signed in, the provider on another site, `renewal` auto with `offline_access` (tokens that last:
/// the test renews when it wants to).
async fn signed_in_across_sites_with_refresh_tokens() -> Harness {
    let h = Harness::builder()
        .provider_cross_site()
        .token_ttl(LONG_TTL_SECS)
        .start()
        .await;
    configure(&h, json!({"renewal": "auto", "scope": OFFLINE_SCOPE}));
    h.log_in().await;
    h
}

async fn get_api(h: &Harness, headers: &[(&str, &str)]) -> http::Response {
    http::send_with(Method::GET, &h.provider.url("/api/ping"), headers, None)
        .await
        .unwrap()
}

async fn post_token(h: &Harness, form: &str, proof: Option<&str>) -> http::Response {
    let mut headers = vec![("content-type", "application/x-www-form-urlencoded")];
    if let Some(proof) = proof {
        headers.push(("dpop", proof));
    }
    http::send_with(
        Method::POST,
        &h.provider.url("/token"),
        &headers,
        Some(form),
    )
    .await
    .unwrap()
}

fn refresh_form(refresh_token: &str) -> String {
    format!("grant_type=refresh_token&refresh_token={refresh_token}&client_id=oidc-renew-demo")
}

fn assert_refused(response: &http::Response, reason: &str) {
    assert_eq!(response.status, 401, "{}", response.text());
    assert_eq!(response.json()["reason"], reason, "{}", response.text());
    let challenge = response.header("www-authenticate").unwrap_or_default();
    assert!(challenge.contains("DPoP"), "{challenge}");
}

#[tokio::test]
async fn tokens_copied_out_of_storage_are_refused_without_the_browsers_key() {
    let h = signed_in_across_sites_with_refresh_tokens().await;
    let session = h.stored_session().await;
    let access_token = session["access_token"].as_str().unwrap().to_owned();
    let refresh_token = session["refresh_token"].as_str().unwrap().to_owned();
    let attacker = Attacker::new();
    let api_url = h.provider.url("/api/ping");
    h.provider.reset_stats().await;

    // The access token: as a bearer token, as a DPoP token without a proof, and with a proof the
    // attacker signed (every claim right, the key its own).
    let bearer = format!("Bearer {access_token}");
    assert_refused(
        &get_api(&h, &[("authorization", &bearer)]).await,
        "DPoP-bound token sent as Bearer",
    );
    let dpop = format!("DPoP {access_token}");
    assert_refused(
        &get_api(&h, &[("authorization", &dpop)]).await,
        "missing DPoP proof",
    );
    let forged = attacker.proof("GET", &api_url, Some(&access_token));
    assert_refused(
        &get_api(&h, &[("authorization", &dpop), ("dpop", &forged)]).await,
        "proof key is not the token key (cnf.jkt)",
    );

    // The refresh token: without a proof, and with the attacker's.
    let token_url = h.provider.url("/token");
    for proof in [None, Some(attacker.proof("POST", &token_url, None))] {
        let answer = post_token(&h, &refresh_form(&refresh_token), proof.as_deref()).await;
        assert_eq!(answer.status, 400, "{}", answer.text());
        assert_eq!(answer.json()["error"], "invalid_grant", "{}", answer.text());
    }
    let errors = http::get_json(&h.provider.url("/__test/errors")).await;
    assert_eq!(errors["token"]["failed jkt verification"], 2, "{errors}");
    let stats = h.provider.stats().await;
    assert_eq!(stats["refresh"], 0, "{stats}");

    // The browser, which holds the key, goes on: its refresh token still works (the attempts did
    // not spend it), and so does the API.
    h.renew_now().await;
    assert!(renewal_succeeded(&h, 0).await.contains("by refresh token"));
    let (status, _) = api(&h).await;
    assert_eq!(status, "HTTP 200");
    let stats = h.provider.stats().await;
    assert_eq!(stats["refresh"], 1, "{stats}");
    assert_eq!(stats["refresh_reuse"], 0, "{stats}");
    h.close().await;
}

#[tokio::test]
async fn a_replayed_proof_is_refused_by_the_api_and_the_token_endpoint() {
    let h = signed_in_across_sites_with_refresh_tokens().await;
    h.renew_now().await;
    assert!(renewal_succeeded(&h, 0).await.contains("by refresh token"));
    let (status, _) = api(&h).await;
    assert_eq!(status, "HTTP 200");
    // What an observer of the traffic saw: the last proofs sent, and the tokens they went with.
    let proofs = http::get_json(&h.provider.url("/__test/dpop-proofs")).await;
    let last = |path: &str| {
        proofs[path]
            .as_array()
            .and_then(|list| list.last())
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("no proof at {path}: {proofs}"))
            .to_owned()
    };
    let (api_proof, token_proof) = (last("/api/ping"), last("/token"));
    let session = h.stored_session().await;
    let access_token = session["access_token"].as_str().unwrap();
    let refresh_token = session["refresh_token"].as_str().unwrap();
    h.provider.reset_stats().await;

    let dpop = format!("DPoP {access_token}");
    assert_refused(
        &get_api(&h, &[("authorization", &dpop), ("dpop", &api_proof)]).await,
        "proof replayed (jti)",
    );
    let answer = post_token(&h, &refresh_form(refresh_token), Some(&token_proof)).await;
    assert_eq!(answer.status, 400, "{}", answer.text());
    assert_eq!(answer.json()["error"], "invalid_grant");
    let errors = http::get_json(&h.provider.url("/__test/errors")).await;
    assert_eq!(
        errors["token"]["DPoP proof JWT Replay detected"], 1,
        "{errors}"
    );

    // Fresh proofs from the browser still pass.
    h.renew_now().await;
    assert!(renewal_succeeded(&h, 1).await.contains("by refresh token"));
    let (status, _) = api(&h).await;
    assert_eq!(status, "HTTP 200");
    h.close().await;
}

/// The claims of a proof (its middle segment).
fn claims_of(proof: &str) -> Value {
    let claims = proof.split('.').nth(1).expect("a JWS");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(claims).unwrap()).unwrap()
}

#[tokio::test]
async fn the_providers_nonce_challenges_are_answered_with_one_retry() {
    let h = Harness::builder()
        .token_ttl(LONG_TTL_SECS)
        .provider_env("DPOP_REQUIRE_NONCE", "1")
        .start()
        .await;
    h.log_in().await;
    bound_jkt(&h).await;
    let stats = h.provider.stats().await;
    // The code exchange: challenged once (the page had no nonce yet), then sent once more.
    assert_eq!(stats["dpop_nonce"], 1, "{stats}");
    assert_eq!(stats["token"], 2, "{stats}");
    let proofs = http::get_json(&h.provider.url("/__test/dpop-proofs")).await;
    let sent: Vec<Value> = proofs["/token"]
        .as_array()
        .unwrap()
        .iter()
        .map(|proof| claims_of(proof.as_str().unwrap()))
        .collect();
    assert_eq!(sent.len(), 2, "{proofs}");
    assert!(sent[0].get("nonce").is_none() && sent[1]["nonce"].is_string());

    // The API asks for its own nonce the same way.
    let (status, answer) = api(&h).await;
    assert_eq!(status, "HTTP 200", "{answer}");
    let stats = h.provider.stats().await;
    assert_eq!(
        (&stats["api_dpop_nonce"], &stats["api"]),
        (&json!(1), &json!(2)),
        "{stats}"
    );

    // Nonces are remembered: a renewal and a second call are not challenged again.
    h.renew_now().await;
    renewal_succeeded(&h, 0).await;
    let (status, _) = api(&h).await;
    assert_eq!(status, "HTTP 200");
    let stats = h.provider.stats().await;
    assert_eq!(stats["dpop_nonce"], 1, "{stats}");
    assert_eq!(stats["api_dpop_nonce"], 1, "{stats}");
    assert_eq!(stats["token"], 3, "{stats}");
    h.close().await;
}

#[tokio::test]
async fn dpop_off_or_a_provider_without_it_keeps_bearer_tokens() {
    for (dpop, provider_dpop) in [("off", "1"), ("auto", "0")] {
        let h = Harness::builder()
            .provider_env("DPOP", provider_dpop)
            .start()
            .await;
        configure(&h, json!({"dpop": dpop}));
        h.log_in().await;
        let session = h.stored_session().await;
        assert!(session.get("token_type").is_none(), "{dpop}: {session}");
        assert!(session.get("dpop_jkt").is_none(), "{dpop}: {session}");
        let (status, answer) = api(&h).await;
        assert_eq!(status, "HTTP 200", "{dpop}: {answer}");
        assert_eq!(answer["token_type"], "Bearer", "{dpop}: {answer}");
        let stats = h.provider.stats().await;
        assert_eq!(stats["dpop_token"], 0, "{dpop}: {stats}");
        assert_eq!(stats["authorize_dpop_jkt"], 0, "{dpop}: {stats}");
        h.close().await;
    }
}

#[tokio::test]
async fn dpop_on_with_a_provider_that_ignores_proofs_is_an_error_not_a_downgrade() {
    let h = Harness::builder().provider_env("DPOP", "0").start().await;
    configure(&h, json!({"dpop": "on"}));
    h.open("/").await;
    h.browser.click("button#login").await;
    h.sign_in_at_provider().await;
    let error = h.browser.wait_for("#auth-status.failed").await;
    let text = error.text().await.unwrap();
    assert!(
        text.contains("\"Bearer\" token where this app asked for a DPoP token"),
        "{text}\n{}",
        h.provider.output()
    );
    assert!(h.stored_session().await.is_null(), "no session kept");
    h.close().await;
}
