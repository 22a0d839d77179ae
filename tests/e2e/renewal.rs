//! Silent renewal with short tokens, as a user would live it: renewals in the background with no
//! reload, across reloads, when the provider session ends behind the app's back, and with two tabs.

use std::time::Duration;

use fantoccini::wd::WindowHandle;

use crate::fixtures::{poll_until, Harness};

/// Short enough for several renewals per test, long enough for a renewal (about 50 ms) to fit.
const TTL_SECS: u64 = 12;

async fn start() -> Harness {
    Harness::builder().token_ttl(TTL_SECS).start().await
}

async fn text(h: &Harness, css: &str) -> String {
    h.browser.find(css).await.text().await.unwrap()
}

/// Waits (up to three token lifetimes) until the stored access token differs from `previous`.
async fn next_token(h: &Harness, previous: &str) -> String {
    let found = poll_until(Duration::from_secs(3 * TTL_SECS), || async {
        h.stored_token().await.filter(|token| token != previous)
    })
    .await;
    match found {
        Some(token) => token,
        None => panic!(
            "no renewal within {}s; panel: {}\n{}",
            3 * TTL_SECS,
            h.browser.body_text().await,
            h.provider.output()
        ),
    }
}

async fn log_kinds(h: &Harness) -> Vec<String> {
    let kinds = h
        .browser
        .eval("return Array.from(document.querySelectorAll('#event-log li'), (li) => li.dataset.kind)")
        .await;
    serde_json::from_value(kinds).unwrap_or_default()
}

#[tokio::test]
async fn renews_three_times_in_a_row_without_reload_and_the_api_keeps_working() {
    let h = start().await;
    h.log_in().await;
    // A full page load would lose this marker, a top-level navigation too.
    h.browser.eval("window.__e2eMarker = 'same-document'").await;
    let mut tokens = vec![h.stored_token().await.expect("a stored session")];
    for _ in 0..3 {
        let token = next_token(&h, tokens.last().unwrap()).await;
        assert!(
            !tokens.contains(&token),
            "a renewal returned an earlier token"
        );
        tokens.push(token);
    }
    assert_eq!(
        h.browser.eval("return window.__e2eMarker").await,
        "same-document"
    );
    h.browser
        .wait_until(
            "three renewals counted",
            "return Number(document.querySelector('#renewal-count')?.textContent) >= 3",
        )
        .await;
    assert_eq!(
        h.browser.find_all(".silent-renewal-frame").await.len(),
        0,
        "a renewal iframe was left behind"
    );
    let stats = h.provider.stats().await;
    assert!(
        stats["authorize_prompt_none"].as_u64().unwrap() >= 3,
        "{stats}"
    );

    // The API accepts the current token.
    assert_eq!(h.call_api().await, "HTTP 200");
    assert_eq!(
        h.browser.eval("return window.__e2eMarker").await,
        "same-document"
    );
    h.close().await;
}

#[tokio::test]
async fn the_renew_now_button_renews_at_once() {
    // Tokens for five minutes: only the button can make a renewal within the wait.
    let h = Harness::builder().token_ttl(300).start().await;
    h.log_in().await;
    let before = h.stored_token().await.expect("a stored session");
    assert_eq!(text(&h, "#renewal-count").await, "0");
    h.renew_now().await;
    next_token(&h, &before).await;
    h.browser
        .wait_until(
            "one renewal counted",
            "return document.querySelector('#renewal-count')?.textContent === '1'",
        )
        .await;
    h.close().await;
}

#[tokio::test]
async fn a_reload_mid_session_reschedules() {
    let h = start().await;
    h.log_in().await;
    let before = h.stored_token().await.unwrap();
    h.open("/").await;
    h.browser.wait_for("#auth-status.signed-in").await;
    let scheduled = text(&h, "#next-renewal").await;
    assert!(
        scheduled.contains("(in "),
        "next renewal after reload: {scheduled}"
    );
    next_token(&h, &before).await;
    h.browser
        .wait_until(
            "a renewal counted",
            "return Number(document.querySelector('#renewal-count')?.textContent) >= 1",
        )
        .await;
    h.close().await;
}

#[tokio::test]
async fn a_provider_session_ended_behind_the_apps_back_warns_then_signs_out_at_expiry() {
    let h = start().await;
    h.log_in().await;
    h.provider.end_sessions().await;
    let banner = h
        .browser
        .wait_for_within("#session-banner", Duration::from_secs(2 * TTL_SECS))
        .await;
    let banner = banner.text().await.unwrap();
    assert!(banner.contains("sign in again"), "banner: {banner}");
    // It says which channel gave up, and why.
    assert!(
        banner.contains("(silent renewal was refused: login_required)"),
        "banner: {banner}"
    );
    let failed = text(&h, "#last-renewal").await;
    assert!(
        failed.contains("login_required") && failed.contains("interaction required, iframe"),
        "{failed}"
    );
    // Still signed in until the token truly expires, then signed out: no error page.
    let status = h
        .browser
        .wait_for_within("#auth-status.signed-out", Duration::from_secs(2 * TTL_SECS))
        .await;
    assert_eq!(
        status.text().await.unwrap(),
        "Your session has expired. Sign in again."
    );
    assert_eq!(
        h.stored_token().await,
        None,
        "the expired session is still stored"
    );
    h.close().await;
}

async fn open_second_tab(h: &Harness) -> (WindowHandle, WindowHandle) {
    let client = h.browser.client();
    let first = client.window().await.unwrap();
    let second = client.new_window(true).await.unwrap().handle;
    client.switch_to_window(second.clone()).await.unwrap();
    h.open("/").await;
    h.browser.wait_for("#auth-status.signed-in").await;
    (first, second)
}

async fn renewals_in_tab(h: &Harness, tab: &WindowHandle) -> u64 {
    h.browser
        .client()
        .switch_to_window(tab.clone())
        .await
        .unwrap();
    text(h, "#renewal-count").await.parse().unwrap()
}

#[tokio::test]
async fn two_tabs_make_one_authorize_request_per_renewal_and_both_hold_the_new_token() {
    let h = start().await;
    h.log_in().await;
    let (first, second) = open_second_tab(&h).await;
    h.provider.reset_stats().await;
    let mut token = h.stored_token().await.unwrap();
    for _ in 0..2 {
        token = next_token(&h, &token).await;
    }
    // Let the other tab adopt the last one.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let stats = h.provider.stats().await;
    let renewals = renewals_in_tab(&h, &first).await + renewals_in_tab(&h, &second).await;
    assert_eq!(
        stats["authorize_prompt_none"].as_u64().unwrap(),
        renewals,
        "authorize requests vs renewals across both tabs: {stats}"
    );
    assert!(renewals >= 2, "renewals: {renewals}");
    let mut expires_in = Vec::new();
    for tab in [&first, &second] {
        h.browser
            .client()
            .switch_to_window(tab.clone())
            .await
            .unwrap();
        let kinds = log_kinds(&h).await;
        assert!(
            kinds
                .iter()
                .any(|kind| kind == "adopted-from-another-tab" || kind == "renewal-succeeded"),
            "tab log: {kinds:?}"
        );
        let shown = text(&h, "#session-expires-in").await;
        expires_in.push(shown.trim_end_matches(" s").parse::<i64>().unwrap_or(-100));
    }
    // Both tabs hold the newest session: the same expiry, give or take the switch between them.
    // A tab left on the previous token would show about a third of the lifetime less.
    assert!(
        (expires_in[0] - expires_in[1]).abs() <= 2,
        "expires in, per tab: {expires_in:?}"
    );
    h.close().await;
}

#[tokio::test]
async fn logout_in_one_tab_signs_out_the_other() {
    let h = start().await;
    h.log_in().await;
    let (first, second) = open_second_tab(&h).await;
    h.browser.client().switch_to_window(first).await.unwrap();
    h.browser.click("button#logout").await;
    h.browser.client().switch_to_window(second).await.unwrap();
    let status = h
        .browser
        .wait_for_within("#auth-status.signed-out", Duration::from_secs(2))
        .await;
    assert_eq!(
        status.text().await.unwrap(),
        "You signed out in another tab."
    );
    h.close().await;
}

#[tokio::test]
async fn memory_storage_restores_the_session_on_reload_by_a_silent_renewal() {
    let h = start().await;
    let mut config = h.app.config().unwrap();
    config["storage"] = serde_json::json!("memory");
    h.app.set_config(config);
    h.log_in().await;
    assert_eq!(
        h.stored_token().await,
        None,
        "memory storage wrote the session to localStorage"
    );
    h.provider.reset_stats().await;
    h.open("/profile").await;
    let name = h
        .browser
        .wait_for("#profile-name")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(name, crate::fixtures::DEMO_NAME);
    let stats = h.provider.stats().await;
    assert_eq!(
        stats["authorize_prompt_none"], 1,
        "one silent renewal restores the session: {stats}"
    );
    assert_eq!(stats["authorize"], 1, "no interactive sign-in: {stats}");
    h.close().await;
}
