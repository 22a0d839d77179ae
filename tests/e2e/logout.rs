//! Sign-out against the end-session endpoints a user meets (`END_SESSION_POST` of the local provider):
//! one that takes GET and POST (oidc-provider 8.8.1), one that refuses POST as oidc-provider 9 does by
//! default (404), one whose POST fails a CSRF check as Django's does (403); with the default GET and,
//! where the provider takes it, `"logout_method": "post"`. Each time the provider session ends (a new
//! "Log in" asks for credentials), the app lands signed out on its own page with the provider's `state`
//! gone from the address bar. And when no logout can be made (no end-session endpoint, the provider
//! down), the app signs out here, says the provider session may still be open, and stays on its page.

use serde_json::{json, Value};

use crate::fixtures::{Harness, SESSION_KEY};

/// Where the app keeps the pending logout (sessionStorage), until the page after it reads it.
const LOGOUT_KEY: &str = "oidc-renew:oidc-renew-demo:logout";

/// A provider with `END_SESSION_POST=<end_session_post>` and the app's config.json changed by `config`.
async fn start(end_session_post: &str, config: &[(&str, Value)]) -> Harness {
    let h = Harness::builder()
        .provider_env("END_SESSION_POST", end_session_post)
        .start()
        .await;
    let mut app_config = h.app.config().unwrap();
    for (field, value) in config {
        app_config[*field] = value.clone();
    }
    h.app.set_config(app_config);
    h
}

/// Signed out on the app's home page, with nothing left: no session, no pending logout, no `state`
/// in the address bar.
async fn assert_signed_out(h: &Harness, message: &str) {
    let status = h.browser.wait_for("#auth-status.signed-out").await;
    assert_eq!(status.text().await.unwrap(), message);
    assert_eq!(h.browser.current_url().await, h.app.url("/"));
    assert_eq!(h.stored_token().await, None, "the session is still stored");
    let pending = h
        .browser
        .eval_with(
            "return sessionStorage.getItem(arguments[0])",
            vec![json!(LOGOUT_KEY)],
        )
        .await;
    assert_eq!(pending, Value::Null, "the pending logout was not consumed");
}

/// Waits for the home page's status to say `part` (the page reloads on the way: the status before the
/// reload says something else), and returns it.
async fn status_saying(h: &Harness, part: &str) -> String {
    let js = format!(
        "const s = document.querySelector('#auth-status.signed-out'); \
         return s && s.textContent.includes({part:?}) ? s.textContent : null"
    );
    let text = h
        .browser
        .wait_until(&format!("the status to say {part:?}"), &js)
        .await;
    text.as_str().unwrap_or_default().to_owned()
}

/// "Log in" now shows the provider's login form: the provider session is over.
async fn assert_login_asks_for_credentials(h: &Harness) {
    h.browser.click("button#login").await;
    let issuer = h.provider.issuer().to_owned();
    h.browser
        .wait_for_url("the provider's login page", |url| url.starts_with(&issuer))
        .await;
    h.browser.wait_for("input#password").await;
}

/// The whole sign-out by GET, the default: the request's URL carries the hint and a state, the
/// provider ends its session, the app checks the state and says "signed out".
async fn get_logout_ends_the_provider_session(end_session_post: &str) {
    let h = start(end_session_post, &[]).await;
    h.log_in().await;
    let page = h.log_out_at_provider().await;
    let path = page
        .strip_prefix(h.provider.issuer())
        .unwrap_or_default()
        .to_owned();
    assert!(path.starts_with("/session/end?"), "{page}");
    for parameter in [
        "id_token_hint=",
        "client_id=oidc-renew-demo",
        "post_logout_redirect_uri=",
        "state=",
    ] {
        assert!(page.contains(parameter), "{parameter} not in {page}");
    }
    assert_signed_out(&h, "You are signed out.").await;
    assert_login_asks_for_credentials(&h).await;
    h.close().await;
}

#[tokio::test]
async fn get_logout_at_a_provider_that_takes_get_and_post() {
    get_logout_ends_the_provider_session("accept").await;
}

#[tokio::test]
async fn get_logout_at_a_provider_that_refuses_post_like_oidc_provider_9() {
    get_logout_ends_the_provider_session("refuse").await;
}

#[tokio::test]
async fn get_logout_at_a_provider_whose_post_fails_a_csrf_check_like_django() {
    get_logout_ends_the_provider_session("csrf").await;
}

#[tokio::test]
async fn post_logout_where_configured_keeps_the_id_token_out_of_the_url() {
    let h = start("accept", &[("logout_method", json!("post"))]).await;
    h.log_in().await;
    let page = h.log_out_at_provider().await;
    assert_eq!(page, h.provider.url("/session/end"), "not a form POST");
    assert_signed_out(&h, "You are signed out.").await;
    assert_login_asks_for_credentials(&h).await;
    h.close().await;
}

/// Why GET is the default: a form POST to an endpoint that refuses it (the local provider as
/// oidc-provider 9 answers by default) leaves the user on the provider's 404, with its session alive.
/// This is the configuration the end-to-end tests ran against before; it hid the problem.
#[tokio::test]
async fn post_logout_where_the_provider_refuses_post_strands_the_user_as_reported() {
    let h = start("refuse", &[("logout_method", json!("post"))]).await;
    h.log_in().await;
    h.browser.click("button#logout").await;
    let endpoint = h.provider.url("/session/end");
    h.browser
        .wait_for_url("the provider's end-session endpoint", |url| url == endpoint)
        .await;
    h.browser
        .wait_until(
            "the provider's 404 page",
            "return document.body?.innerText.trim() === 'Not Found'",
        )
        .await;
    // Back at the app by hand, without the provider's state: the app does not claim success.
    h.open("/").await;
    status_saying(&h, "did not confirm").await;
    // And rightly: the provider session is alive, "Log in" signs straight back in.
    h.browser.click("button#login").await;
    h.browser.wait_for("#auth-status.signed-in").await;
    h.close().await;
}

#[tokio::test]
async fn memory_storage_does_not_restore_after_logout() {
    let h = start("refuse", &[("storage", json!("memory"))]).await;
    h.log_in().await;
    h.provider.reset_stats().await;
    h.log_out_at_provider().await;
    assert_signed_out(&h, "You are signed out.").await;
    // Back from the logout, the app did not try to restore the session it just ended.
    let stats = h.provider.stats().await;
    assert_eq!(stats["authorize_prompt_none"], 0, "{stats}");
    // Nor does a new page load: the logout removed the "signed in before" marker, so there is no
    // session to restore and the provider is not asked.
    h.open("/").await;
    let status = h.browser.wait_for("#auth-status.signed-out").await;
    assert_eq!(status.text().await.unwrap(), "You are signed out.");
    let stats = h.provider.stats().await;
    assert_eq!(stats["authorize_prompt_none"], 0, "{stats}");
    assert_login_asks_for_credentials(&h).await;
    h.close().await;
}

#[tokio::test]
async fn logout_signs_out_the_other_tabs_too() {
    let h = start("refuse", &[]).await;
    h.log_in().await;
    let client = h.browser.client();
    let first = client.window().await.unwrap();
    let second = client.new_window(true).await.unwrap().handle;
    client.switch_to_window(second.clone()).await.unwrap();
    h.open("/").await;
    h.browser.wait_for("#auth-status.signed-in").await;
    client.switch_to_window(first).await.unwrap();
    h.log_out_at_provider().await;
    assert_signed_out(&h, "You are signed out.").await;
    client.switch_to_window(second).await.unwrap();
    let status = h.browser.wait_for("#auth-status.signed-out").await;
    assert_eq!(
        status.text().await.unwrap(),
        "You signed out in another tab."
    );
    // A reload of that tab finds nothing to restore either.
    h.open("/").await;
    let status = h.browser.wait_for("#auth-status.signed-out").await;
    assert_eq!(status.text().await.unwrap(), "You are signed out.");
    h.close().await;
}

#[tokio::test]
async fn without_an_end_session_endpoint_the_app_says_the_provider_session_may_be_open() {
    let h = Harness::builder()
        .provider_env("END_SESSION", "0")
        .start()
        .await;
    h.log_in().await;
    h.browser.click("button#logout").await;
    let message = status_saying(&h, "may still be open").await;
    assert!(
        message.contains("signed out of this app only")
            && message.contains("may still be open")
            && message.contains("To end it, sign out on the provider's own site"),
        "{message}"
    );
    assert_eq!(h.browser.current_url().await, h.app.url("/"));
    assert_eq!(h.stored_token().await, None);
    // And it is right: the provider session is open, so "Log in" needs no password.
    h.browser.click("button#login").await;
    h.browser.wait_for("#auth-status.signed-in").await;
    assert_eq!(h.provider.stats().await["end_session"], 0);
    h.close().await;
}

#[tokio::test]
async fn a_provider_down_at_logout_leaves_the_user_on_the_app_told_why() {
    let h = start("accept", &[]).await;
    h.log_in().await;
    // Discovery is cached from the sign-in: only a check at logout can tell the provider is gone.
    h.provider.go_down(30_000).await;
    h.browser.click("button#logout").await;
    let message = status_saying(&h, "may still be open").await;
    assert!(
        message.contains("could not be reached") && message.contains("may still be open"),
        "{message}"
    );
    assert_eq!(h.browser.current_url().await, h.app.url("/"));
    assert_eq!(h.stored_token().await, None);
    let stored = h
        .browser
        .eval(&format!("return localStorage.getItem('{SESSION_KEY}')"))
        .await;
    assert_eq!(stored, Value::Null);
    h.close().await;
}
