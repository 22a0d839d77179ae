//! The build without the `dpop` feature: a provider that offers DPoP gets bearer requests under
//! `dpop` "auto", and "on" is refused with a message that names the feature (against a stand-in
//! `fetch` that serves discovery).

use super::common::{restore_fetch, stand_in_fetch};
use crate::client::AuthClient;
use oidc_renew_core::config::AuthConfig;
use oidc_renew_core::dpop::DpopMode;
use serde_json::json;
use std::rc::Rc;
use wasm_bindgen_test::wasm_bindgen_test;

const ISSUER: &str = "https://id.example.com";

fn client(dpop: DpopMode) -> AuthClient {
    AuthClient::new(Rc::new(AuthConfig::new(ISSUER, "client-1").dpop(dpop)))
}

#[wasm_bindgen_test]
async fn auto_renews_without_dpop_jkt_and_on_is_refused_naming_the_feature() {
    const { assert!(!crate::DPOP_BUILT) };
    let discovery = json!({
        "issuer": ISSUER,
        "authorization_endpoint": format!("{ISSUER}/authorize"),
        "token_endpoint": format!("{ISSUER}/token"),
        "jwks_uri": format!("{ISSUER}/jwks"),
        "response_types_supported": ["code"],
        "code_challenge_methods_supported": ["S256"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "dpop_signing_alg_values_supported": ["ES256"],
    });
    let answers = json!([[200, discovery.to_string(), {"Content-Type": "application/json"}]]);
    let record = stand_in_fetch(&answers.to_string());

    let pending = client(DpopMode::Auto).begin_renewal(1).await;
    let refused = client(DpopMode::On).begin_renewal(2).await;
    restore_fetch();

    let pending = pending.expect("a renewal under auto");
    assert!(
        pending
            .request
            .url
            .starts_with(&format!("{ISSUER}/authorize?")),
        "{}",
        pending.request.url
    );
    assert!(
        !pending.request.url.contains("dpop_jkt"),
        "{}",
        pending.request.url
    );
    let error = refused.expect_err("`on` without the feature").to_string();
    assert!(error.contains("`dpop` feature"), "{error}");
    // Both asked discovery; nothing else was sent.
    assert_eq!(record.length(), 2);
}
