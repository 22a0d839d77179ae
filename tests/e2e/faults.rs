//! Provider faults, injected by the provider's test hooks (`tests/provider/faults.mjs`), each with the
//! outcome the app promises (README: "Failure modes"):
//!
//! | fault | outcome |
//! |---|---|
//! | provider down (connection refused) | `network` failures (the frame shows the browser's error page), retried with backoff; recovers when it is back |
//! | browser offline | `network` failures ("the browser is offline"), not `provider_page_shown`; recovers online |
//! | 500 at the token endpoint | transient, retried; recovers |
//! | authorize slower than the renewal timeout | `timeout` (transient) after 10 s; recovers |
//! | HTML error page inside the iframe | `provider_page_shown` (transient) in about a second, not the 10 s timeout; recovers |
//! | `invalid_grant` at the token endpoint | fatal: signed out at once, the reason shown |
//! | signing-key rotation (new kid) | the JWKS is fetched again exactly once; renewal succeeds |
//! | discovery failing at start | signed out: a readable error, and the next attempt works; signed in: the stored session stays, renewal retries until discovery is back |
//!
//! Renewals are started with the session panel's "Renew now" button (tokens last five minutes, so no
//! scheduled renewal interferes); the retries that follow a failure are the app's own.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::fixtures::{needs_chromium, poll_until, report, Engine, Harness};

/// Long enough that only "Renew now" and the app's retries renew during a test.
const TTL_SECS: u64 = 300;

async fn start() -> Harness {
    let h = Harness::builder().token_ttl(TTL_SECS).start().await;
    h.log_in().await;
    h.browser.wait_for("button#renew-now").await;
    h
}

/// The event log, oldest first: (kind, text).
async fn log(h: &Harness) -> Vec<(String, String)> {
    let entries = h
        .browser
        .eval(
            "return Array.from(document.querySelectorAll('#event-log li'), \
             (li) => [li.dataset.kind, li.textContent]).reverse()",
        )
        .await;
    serde_json::from_value(entries).unwrap_or_default()
}

async fn count_kind(h: &Harness, kind: &str) -> usize {
    log(h).await.iter().filter(|(k, _)| k == kind).count()
}

/// Waits until the log holds `n` entries of `kind`; fails with the page and the provider's output.
async fn wait_for_kind(h: &Harness, kind: &str, n: usize, within: Duration) {
    let reached = poll_until(within, || async {
        (count_kind(h, kind).await >= n).then_some(())
    })
    .await;
    if reached.is_none() {
        panic!(
            "no {n} `{kind}` entries within {within:?}; log: {:#?}\n{}",
            log(h).await,
            h.provider.output()
        );
    }
}

/// The failures logged so far, as their detail text.
async fn failures(h: &Harness) -> Vec<String> {
    log(h)
        .await
        .into_iter()
        .filter(|(kind, _)| kind == "renewal-failed")
        .map(|(_, text)| text)
        .collect()
}

/// The app is still signed in as the demo user, holds no renewal frame, and its API call works.
async fn assert_healthy(h: &Harness) {
    assert!(
        h.browser
            .find("#user-name")
            .await
            .text()
            .await
            .unwrap()
            .contains("Demo"),
        "not signed in: {}",
        h.browser.body_text().await
    );
    assert!(h.browser.find_all("#session-banner").await.is_empty());
    assert_eq!(h.browser.find_all(".silent-renewal-frame").await.len(), 0);
    let status = h.call_api().await;
    assert_eq!(status, "HTTP 200", "{}", h.browser.body_text().await);
}

/// Runs one fault scenario that must recover by itself: injects with `inject`, presses "Renew now",
/// waits for `failed` transient failures and then a success, and checks the session moved on.
/// Returns the failures' texts.
async fn recovers(h: &Harness, failed: usize, within: Duration) -> Vec<String> {
    let before = h.stored_token().await.expect("a stored session");
    h.renew_now().await;
    wait_for_kind(h, "renewal-failed", failed, within).await;
    wait_for_kind(h, "renewal-succeeded", 1, within).await;
    let texts = failures(h).await;
    assert_eq!(texts.len(), failed, "failures: {texts:#?}");
    for text in &texts {
        assert!(text.contains("(transient, "), "not transient: {text}");
    }
    let after = h
        .stored_token()
        .await
        .expect("a stored session after recovery");
    assert_ne!(before, after, "the recovered renewal stored no new token");
    texts
}

fn record(name: &str, fault: &str, outcome: &str, failures: usize, injected: &Value) {
    report::record(
        "faults",
        name,
        json!({
            "fault": fault,
            "outcome": outcome,
            "failures_before_recovery": failures,
            "injected": injected,
            "survived": true,
        }),
    );
}

#[tokio::test]
async fn provider_down_then_back_recovers_by_itself() {
    let h = start().await;
    // Refused for 4 s: the first attempt and at least one retry fail, a later retry succeeds.
    h.provider.go_down(4_000).await;
    let before = h.stored_token().await.expect("a stored session");
    let started = Instant::now();
    h.renew_now().await;
    wait_for_kind(&h, "renewal-failed", 1, Duration::from_secs(15)).await;
    wait_for_kind(&h, "renewal-succeeded", 1, Duration::from_secs(40)).await;
    let recovered_after = started.elapsed();
    let texts = failures(&h).await;
    assert!(!texts.is_empty());
    for text in &texts {
        assert!(text.contains("(transient, "), "not transient: {text}");
    }
    // Chromium: the frame showed the browser's own error page (its `load` fires), a network failure,
    // not a provider page. (A later retry whose frame failed just before the provider came back may
    // find it answering the check, and say provider_page_shown; the first one came seconds before.)
    // Firefox and WebKit fire no `load` for a refused navigation: the first attempt ends by its
    // timeout (README, Browsers).
    let first = match Engine::current() {
        Engine::Chromium => {
            texts[0].contains("— network (transient, ") && texts[0].contains("network error page")
        }
        Engine::Firefox | Engine::WebKit => {
            texts[0].contains("— timeout (transient, ")
                && texts[0].contains("did not answer in time")
        }
    };
    assert!(first, "{:?}: {}", Engine::current(), texts[0]);
    assert_ne!(h.stored_token().await.unwrap(), before);
    assert!(
        recovered_after >= Duration::from_secs(4),
        "recovered before the provider was back? {recovered_after:?}"
    );
    assert_healthy(&h).await;
    record(
        "provider_down",
        "provider down 4 s (connection refused)",
        "transient failures, recovered",
        texts.len(),
        &json!({"down_ms": 4000, "recovered_after_ms": recovered_after.as_millis() as u64}),
    );
    h.close().await;
}

#[tokio::test]
async fn renewals_while_offline_fail_as_network_failures_and_recover_online() {
    if needs_chromium("Network.emulateNetworkConditions takes the browser offline and back online")
    {
        return;
    }
    // 12 s tokens: the scheduled renewal (at two thirds, about 8 s) comes while the browser is offline.
    let h = Harness::builder().token_ttl(12).start().await;
    h.log_in().await;
    let before = h.stored_token().await.expect("a stored session");
    h.browser.cdp("Network.enable", json!({})).await;
    let conditions = |offline: bool| json!({"offline": offline, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1});
    h.browser
        .cdp("Network.emulateNetworkConditions", conditions(true))
        .await;
    wait_for_kind(&h, "renewal-failed", 1, Duration::from_secs(15)).await;
    let texts = failures(&h).await;
    for text in &texts {
        assert!(
            text.contains("— network (transient, ") && text.contains("the browser is offline"),
            "offline, but: {text}"
        );
    }
    h.browser
        .cdp("Network.emulateNetworkConditions", conditions(false))
        .await;
    // Back online (the `online` event): the due renewal runs again, and succeeds before expiry.
    wait_for_kind(&h, "renewal-succeeded", 1, Duration::from_secs(10)).await;
    assert_ne!(h.stored_token().await.unwrap(), before);
    assert_healthy(&h).await;
    record(
        "offline",
        "browser offline when a renewal is due",
        "network failures (transient), recovered online",
        texts.len(),
        &json!({"failures": texts.len()}),
    );
    h.close().await;
}

#[tokio::test]
async fn token_endpoint_500s_are_retried_until_it_answers() {
    let h = start().await;
    h.provider.reset_stats().await;
    h.provider
        .inject(json!({"path": "/token", "kind": "status", "status": 500, "count": 2}))
        .await;
    let texts = recovers(&h, 2, Duration::from_secs(30)).await;
    for text in &texts {
        assert!(text.contains("500"), "the status is not in the log: {text}");
    }
    let faults = h.provider.faults().await;
    assert_eq!(faults["injected"]["status /token"], 2, "{faults}");
    // Three exchanges: two refused, one answered.
    assert_eq!(h.provider.stats().await["token"], 3);
    assert_healthy(&h).await;
    record(
        "token_500",
        "HTTP 500 at the token endpoint, twice",
        "transient, retried, recovered",
        texts.len(),
        &faults["injected"],
    );
    h.close().await;
}

#[tokio::test]
async fn an_authorize_slower_than_the_timeout_is_abandoned_then_retried() {
    let h = start().await;
    h.provider
        .inject(json!({"path": "/auth", "kind": "delay", "delay_ms": 13_000, "count": 1}))
        .await;
    let started = Instant::now();
    let texts = recovers(&h, 1, Duration::from_secs(40)).await;
    assert!(texts[0].contains("timeout"), "{}", texts[0]);
    assert!(
        started.elapsed() >= Duration::from_secs(10),
        "timed out before the 10 s limit: {:?}",
        started.elapsed()
    );
    assert_healthy(&h).await;
    let faults = h.provider.faults().await;
    record(
        "slow_authorize",
        "authorize answers after 13 s (timeout 10 s)",
        "timeout (transient), retried, recovered",
        texts.len(),
        &faults["injected"],
    );
    h.close().await;
}

#[tokio::test]
async fn an_html_error_page_in_the_iframe_fails_fast_then_recovers() {
    let h = start().await;
    h.provider
        .inject(json!({"path": "/auth", "kind": "html", "status": 500, "count": 1}))
        .await;
    let started = Instant::now();
    h.renew_now().await;
    wait_for_kind(&h, "renewal-failed", 1, Duration::from_secs(15)).await;
    let failed_after = started.elapsed();
    // Fail-fast: about the one-second grace after the page loaded, far from the 10 s timeout.
    assert!(
        failed_after < Duration::from_secs(6),
        "the error page was only noticed after {failed_after:?}"
    );
    let texts = failures(&h).await;
    assert!(texts[0].contains("provider_page_shown"), "{}", texts[0]);
    wait_for_kind(&h, "renewal-succeeded", 1, Duration::from_secs(20)).await;
    assert_healthy(&h).await;
    let faults = h.provider.faults().await;
    assert_eq!(faults["injected"]["html /auth"], 1, "{faults}");
    record(
        "html_in_iframe",
        "HTML 500 page inside the renewal iframe",
        "provider_page_shown (transient) within the grace, retried, recovered",
        texts.len(),
        &json!({"injected": faults["injected"], "failed_after_ms": failed_after.as_millis() as u64}),
    );
    h.close().await;
}

#[tokio::test]
async fn invalid_grant_at_the_token_endpoint_signs_out_with_the_reason() {
    let h = start().await;
    h.provider.reset_stats().await;
    h.provider
        .inject(json!({"path": "/token", "kind": "invalid_grant", "count": 1}))
        .await;
    h.renew_now().await;
    // The grant is gone: the session ends now, visibly (the session panel goes with it), and the
    // stored session too.
    let status = h
        .browser
        .wait_for_within("#auth-status.failed", Duration::from_secs(15))
        .await;
    let message = status.text().await.unwrap();
    assert!(
        message.contains("invalid_grant") && message.contains("Sign in again"),
        "{message}"
    );
    assert!(h.browser.find_all("#session-panel").await.is_empty());
    let reached = poll_until(Duration::from_secs(5), || async {
        h.stored_token().await.is_none().then_some(())
    })
    .await;
    assert!(reached.is_some(), "the session stayed in storage");
    // Nothing retried the refused grant.
    assert_eq!(
        h.provider.stats().await["token"],
        1,
        "only the refused renewal"
    );
    // Signing in again works (the provider still knows the browser: no login form).
    h.browser.click("button#login").await;
    h.browser.wait_for("#auth-status.signed-in").await;
    let faults = h.provider.faults().await;
    record(
        "invalid_grant",
        "invalid_grant at the token endpoint",
        "fatal: signed out at once with the reason; sign-in works again",
        1,
        &faults["injected"],
    );
    h.close().await;
}

#[tokio::test]
async fn a_signing_key_rotation_refetches_the_jwks_exactly_once() {
    let h = start().await;
    h.provider.reset_stats().await;
    let kids = h.provider.rotate_keys().await;
    assert_eq!(
        kids.len(),
        4,
        "new RSA + EC keys ahead of the old ones: {kids:?}"
    );

    // The first renewal meets an unknown kid: one JWKS fetch, then success.
    let before = h.stored_token().await.unwrap();
    h.renew_now().await;
    wait_for_kind(&h, "renewal-succeeded", 1, Duration::from_secs(15)).await;
    assert!(failures(&h).await.is_empty(), "{:#?}", log(&h).await);
    let after = h.stored_token().await.unwrap();
    assert_ne!(before, after);
    assert_eq!(
        h.provider.stats().await["jwks"],
        1,
        "one refetch for the new kid"
    );

    // The next one knows the key: no fetch.
    h.renew_now().await;
    wait_for_kind(&h, "renewal-succeeded", 2, Duration::from_secs(15)).await;
    assert_eq!(
        h.provider.stats().await["jwks"],
        1,
        "the new JWKS is cached"
    );
    assert_healthy(&h).await;
    record(
        "key_rotation",
        "signing-key rotation (new kid)",
        "JWKS refetched once, renewals succeed",
        0,
        &json!({"jwks_fetches": 1}),
    );
    h.close().await;
}

#[tokio::test]
async fn discovery_failing_at_start_is_explained_and_the_next_attempt_works() {
    let h = Harness::builder().token_ttl(TTL_SECS).start().await;
    h.provider
        .inject(
            json!({"path": "/.well-known/openid-configuration", "kind": "status", "status": 503}),
        )
        .await;
    h.open("/").await;
    h.browser.click("button#login").await;
    let status = h.browser.wait_for("#auth-status.failed").await;
    let message = status.text().await.unwrap();
    let detail = h
        .browser
        .find("#auth-detail")
        .await
        .prop("textContent")
        .await
        .unwrap()
        .unwrap_or_default();
    assert!(
        message.contains("/.well-known/openid-configuration") && detail.contains("HTTP 503"),
        "the error names neither the URL nor the status: {message} / {detail}"
    );
    assert!(h.browser.current_url().await.starts_with(&h.app.origin()));

    // The provider is fixed: the next press signs in, with no reload.
    h.provider.clear_faults().await;
    h.browser.click("button#login").await;
    h.sign_in_at_provider().await;
    h.browser.wait_for("#auth-status.signed-in").await;
    let faults = h.provider.faults().await;
    record(
        "discovery_at_start_signed_out",
        "discovery answering 503 when signing in",
        "readable error naming the URL and status; the next attempt signs in",
        1,
        &faults["injected"],
    );
    h.close().await;
}

#[tokio::test]
async fn discovery_failing_at_start_keeps_the_stored_session_and_renewal_recovers() {
    let h = start().await;
    let before = h.stored_token().await.unwrap();
    h.provider
        .inject(
            json!({"path": "/.well-known/openid-configuration", "kind": "status", "status": 500}),
        )
        .await;
    // A new page load: nothing cached, discovery refused.
    h.open("/").await;
    h.browser.wait_for("#auth-status.signed-in").await;
    h.renew_now().await;
    wait_for_kind(&h, "renewal-failed", 1, Duration::from_secs(15)).await;
    let texts = failures(&h).await;
    assert!(
        texts[0].contains("(transient, "),
        "a refused discovery must be retried: {}",
        texts[0]
    );
    assert_eq!(h.stored_token().await.as_deref(), Some(before.as_str()));
    h.provider.clear_faults().await;
    wait_for_kind(&h, "renewal-succeeded", 1, Duration::from_secs(30)).await;
    assert_ne!(h.stored_token().await.unwrap(), before);
    assert_healthy(&h).await;
    let faults = h.provider.faults().await;
    record(
        "discovery_at_start_signed_in",
        "discovery answering 500 on a reload with a stored session",
        "session kept; transient failures until discovery is back, then renewed",
        failures(&h).await.len(),
        &faults["injected"],
    );
    h.close().await;
}
