//! Sign-in, session and sign-out, as a new user would do them: through the app's buttons and the
//! provider's login form.

use serde_json::{json, Value};

use crate::fixtures::{http, Harness};

use crate::fixtures::{DEMO_NAME, SESSION_KEY};

async fn text_of(h: &Harness, css: &str) -> String {
    h.browser.wait_for(css).await.text().await.unwrap()
}

/// Asks the provider, from a hidden iframe at the app's origin, whether the browser still has a provider
/// session (`prompt=none`): resolves with the silent page's `params`.
async fn silent_probe(h: &Harness) -> String {
    let discovery = http::get_json(&h.provider.url("/.well-known/openid-configuration")).await;
    let mut authorize =
        url::Url::parse(discovery["authorization_endpoint"].as_str().unwrap()).unwrap();
    authorize
        .query_pairs_mut()
        .append_pair("client_id", "oidc-renew-demo")
        .append_pair("response_type", "code")
        .append_pair("redirect_uri", &h.app.url("/silent/"))
        .append_pair("scope", "openid")
        .append_pair("state", "probe")
        .append_pair("nonce", "probe")
        .append_pair("prompt", "none")
        .append_pair(
            "code_challenge",
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        )
        .append_pair("code_challenge_method", "S256");
    let message = h
        .browser
        .eval_async_with(
            r#"
            const iframe = document.createElement('iframe');
            return await new Promise((resolve) => {
                const timer = setTimeout(() => resolve(null), 10000);
                window.addEventListener('message', (e) => {
                    if (e.source !== iframe.contentWindow) return;
                    clearTimeout(timer);
                    iframe.remove();
                    resolve(e.data);
                });
                iframe.src = args[0];
                document.body.appendChild(iframe);
            });
            "#,
            vec![json!(authorize.as_str())],
        )
        .await;
    message["params"]
        .as_str()
        .unwrap_or_else(|| panic!("no silent-page answer: {message}"))
        .to_owned()
}

fn provider_requests(stats: &Value) -> u64 {
    [
        "authorize",
        "token",
        "discovery",
        "jwks",
        "userinfo",
        "end_session",
    ]
    .iter()
    .map(|name| stats[name].as_u64().unwrap_or(0))
    .sum()
}

#[tokio::test]
async fn code_flow_sign_in_profile_api_reload_and_logout() {
    let h = Harness::start().await;
    h.log_in().await;
    // The callback's code and state are gone from the address bar.
    assert_eq!(h.browser.current_url().await, h.app.url("/"));
    // The sign-in is the first entry of the session's event log.
    let entry = h
        .browser
        .wait_for(r#"#event-log li[data-kind="signed-in"]"#)
        .await;
    assert!(entry.text().await.unwrap().contains("in this tab"));

    // A reload (here: a deep link to /profile) keeps the session, without asking the provider anything.
    h.provider.reset_stats().await;
    h.open("/profile").await;
    assert_eq!(text_of(&h, "#profile-name").await, DEMO_NAME);
    assert_eq!(text_of(&h, "#profile-email").await, "demo@example.com");
    let stats = h.provider.stats().await;
    assert_eq!(
        provider_requests(&stats),
        0,
        "requests to the provider on reload: {stats}"
    );

    // The API accepts the access token.
    h.browser.click(r#"nav#nav a[href="/api"]"#).await;
    h.browser.click("button#call-api").await;
    assert_eq!(text_of(&h, "#api-status").await, "HTTP 200");
    let answer: Value = serde_json::from_str(&text_of(&h, "#api-result").await).unwrap();
    assert_eq!(answer["message"], "pong", "{answer}");
    assert_eq!(answer["aud"], "urn:oidc-renew:demo-api", "{answer}");

    // Logout ends the session here and at the provider.
    let logout_page = h.log_out_at_provider().await;
    // A redirect (GET, the default), with the hint that spares the user a prompt at most providers
    // and the state the app checks on return (see tests/e2e/logout.rs for the other set-ups).
    assert!(logout_page.contains("id_token_hint="), "{logout_page}");
    assert!(logout_page.contains("state="), "{logout_page}");
    assert_eq!(
        text_of(&h, "#auth-status.signed-out").await,
        "You are signed out."
    );
    // The provider's state left the address bar.
    assert_eq!(h.browser.current_url().await, h.app.url("/"));
    assert_eq!(
        h.stored_session_text().await,
        None,
        "the session is still stored"
    );
    let answer = silent_probe(&h).await;
    assert!(
        answer.contains("error=login_required"),
        "prompt=none after logout: {answer}"
    );
    h.close().await;
}

#[tokio::test]
async fn es256_id_tokens_are_verified_too() {
    let h = Harness::builder()
        .provider_env("ID_TOKEN_ALG", "ES256")
        .start()
        .await;
    h.log_in().await;
    let stored: Value = serde_json::from_str(&h.stored_session_text().await.unwrap()).unwrap();
    let id_token = stored["id_token"].as_str().unwrap();
    let header = id_token.split('.').next().unwrap();
    assert!(
        header.starts_with("eyJhbGciOiJFUzI1Ni"),
        "not an ES256 id_token: {header}"
    );
    h.close().await;
}

#[tokio::test]
async fn implicit_legacy_flow_signs_in() {
    let h = Harness::start().await;
    let mut config = h.app.config().unwrap();
    config["flow"] = json!("implicit");
    h.app.set_config(config);
    h.log_in().await;
    h.open("/profile").await;
    assert_eq!(text_of(&h, "#profile-name").await, DEMO_NAME);
    assert_eq!(
        h.provider.stats().await["token"],
        0,
        "the implicit flow needs no token request"
    );
    h.close().await;
}

#[tokio::test]
async fn protected_route_sends_a_signed_out_user_to_login_and_back() {
    let h = Harness::start().await;
    h.open("/api").await;
    h.sign_in_at_provider().await;
    h.browser.wait_for("button#call-api").await;
    assert_eq!(h.browser.current_url().await, h.app.url("/api"));
    h.close().await;
}

#[tokio::test]
async fn unreachable_provider_and_bad_config_are_explained() {
    let h = Harness::start().await;
    let mut config = h.app.config().unwrap();
    // Port 1 on loopback: connection refused.
    config["issuer"] = json!("http://localhost:1");
    h.app.set_config(config.clone());
    h.open("/").await;
    h.browser.click("button#login").await;
    let status = text_of(&h, "#auth-status.failed").await;
    assert!(
        status.contains("Cannot reach the sign-in provider"),
        "status: {status}"
    );

    config["issuer"] = json!("ftp://localhost");
    h.app.set_config(config);
    h.open("/").await;
    let error = text_of(&h, "#config-error").await;
    assert!(error.contains("`issuer`"), "config error: {error}");
    h.close().await;
}

#[tokio::test]
async fn a_corrupted_stored_session_means_signed_out() {
    let h = Harness::start().await;
    h.open("/").await;
    // The first page must have read storage before the test writes to it, or it refuses the value
    // itself (and removes it) and the next page finds nothing.
    let (class, _) = h.settled_status().await;
    assert!(class.contains("signed-out"), "a new visitor: {class}");
    for corrupted in [r#"{"access_token":"#, r#"{"access_token":1}"#, "null", "[]"] {
        h.browser
            .eval_with(
                "localStorage.setItem(arguments[0], arguments[1])",
                vec![json!(SESSION_KEY), json!(corrupted)],
            )
            .await;
        h.open("/").await;
        let (class, status) = h.settled_status().await;
        assert!(
            class.contains("signed-out") && status.contains("could not be read"),
            "{corrupted}: `{class}`: {status}"
        );
        assert_eq!(
            h.stored_session_text().await,
            None,
            "{corrupted}: the refused value is removed"
        );
    }
    h.close().await;
}
