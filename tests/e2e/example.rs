//! The minimal example (`examples/minimal`), as a new user would build and run it: its release dist
//! (`trunk build --release` in its folder), the local provider, Chromium. Nothing of the demo app is
//! involved; the example uses yew-oidc's public API and its documented steps only.
//!
//! `E2E_EXAMPLE_DIST` (relative to the workspace root) serves another build of it.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::{json, Value};

use crate::fixtures::{http, poll_until, workspace_root, Engine, Harness, DEMO_NAME, SESSION_KEY};

/// Short enough for a renewal within the test, long enough for one (about 50 ms) to fit.
const TTL_SECS: u64 = 12;

/// The page yew-oidc ships (`SILENT_PAGE_HTML`), which the example's trunk line copies.
const SILENT_PAGE: &str = include_str!("../../yew-oidc/silent/index.html");

fn example_dist() -> PathBuf {
    let dir =
        std::env::var_os("E2E_EXAMPLE_DIST").unwrap_or_else(|| "examples/minimal/dist".into());
    let dist = workspace_root().join(dir);
    assert!(
        dist.join("index.html").is_file(),
        "the example is not built: run `trunk build --release` in examples/minimal (no {})",
        dist.join("index.html").display()
    );
    dist
}

async fn text(h: &Harness, css: &str) -> String {
    h.browser.wait_for(css).await.text().await.unwrap()
}

#[tokio::test]
async fn the_minimal_example_signs_in_renews_silently_and_signs_out() {
    let h = Harness::builder()
        .dist(example_dist())
        .token_ttl(TTL_SECS)
        .start()
        .await;
    // CSP violations are recorded through DevTools (the page and its renewal frame alike): in
    // Chromium only; the other engines run the rest of the test.
    let recording = Engine::current() == Engine::Chromium;
    if recording {
        h.browser.record_csp_violations().await;
    }

    // Its /silent/ is yew-oidc's page, byte for byte, not the example's index.html.
    let silent = http::get(&h.app.url("/silent/")).await;
    assert_eq!(silent.status, 200, "GET /silent/");
    assert!(
        silent.text() == SILENT_PAGE,
        "/silent/ is not yew-oidc/silent/index.html ({} bytes): {:.200}",
        silent.text().len(),
        silent.text()
    );

    // Log in on the public page: the provider's form, then back on the guarded page, signed in, with
    // the callback gone from the address bar.
    h.open("/").await;
    h.browser.click("#home button#login").await;
    h.sign_in_at_provider().await;
    assert_eq!(text(&h, "#private #user").await, DEMO_NAME);
    h.browser
        .wait_for_url("/private, without the callback", |url| {
            url == h.app.url("/private")
        })
        .await;

    // Renewal with no code in the app: a new access token within the token's lifetime, in the same
    // document (no reload, no navigation), through a prompt=none request; the page shows the new expiry.
    let first = h.stored_token().await.expect("a stored session");
    let expires = text(&h, "#expires").await;
    h.browser.eval("window.__e2eMarker = 'same-document'").await;
    let renewed = poll_until(Duration::from_secs(2 * TTL_SECS), || async {
        h.stored_token().await.filter(|token| *token != first)
    })
    .await;
    assert!(
        renewed.is_some(),
        "no renewal within {}s: {}\n{}",
        2 * TTL_SECS,
        h.browser.body_text().await,
        h.provider.output()
    );
    h.browser
        .wait_until(
            "the new expiry shown",
            &format!(
                "return document.querySelector('#expires')?.textContent !== {}",
                json!(expires)
            ),
        )
        .await;
    assert_eq!(
        h.browser.eval("return window.__e2eMarker").await,
        "same-document",
        "the page was reloaded"
    );
    assert_eq!(h.browser.current_url().await, h.app.url("/private"));
    let stats = h.provider.stats().await;
    assert!(
        stats["authorize_prompt_none"].as_u64() >= Some(1),
        "{stats}"
    );
    assert!(stats["token"].as_u64() >= Some(2), "{stats}");

    // Log out: here and at the provider. Back on the public page, signed out, nothing stored.
    h.browser.click("#private button#logout").await;
    h.confirm_logout_at_provider().await;
    h.browser.wait_for("#home button#login").await;
    let stored = h
        .browser
        .eval(&format!("return localStorage.getItem('{SESSION_KEY}')"))
        .await;
    assert_eq!(stored, Value::Null, "the session is still stored");

    // The provider's session ended too: the guarded page sends to its form again, and signing in
    // there lands back on it.
    h.open("/private").await;
    h.sign_in_at_provider().await;
    assert_eq!(text(&h, "#private #user").await, DEMO_NAME);
    assert_eq!(h.browser.current_url().await, h.app.url("/private"));

    // Under the deploy CSP (E2E_HOST=nginx) nothing was refused, in the page or its renewal frame.
    if recording {
        assert_eq!(
            h.browser.csp_violations().await,
            json!([]),
            "CSP violations ({:?} host)\n{}",
            h.app.host(),
            h.app.output()
        );
    }
    h.close().await;
}
