//! Renewal by refresh token (#14), with the provider on another site than the app: the app on
//! `http://127.0.0.1:<port>`, the provider on `localhost`. The provider's session cookie then never
//! reaches the hidden renewal frame (Chromium and WebKit with ITP block it, Firefox partitions it: see
//! `engines.rs`), so silent renewal in the iframe answers `login_required`, and only the refresh token
//! keeps the session alive.
//!
//! The provider issues rotating refresh tokens for `offline_access` and detects reuse
//! (tests/provider: `refresh_reuse` counts the refusals of a token used twice).

use std::time::Duration;

use fantoccini::wd::WindowHandle;
use serde_json::json;

use crate::fixtures::{http, poll_until, Harness, DEMO_NAME};

/// Short enough for several renewals per test (renewal at two thirds: about every 8 s).
const TTL_SECS: u64 = 12;
const OFFLINE_SCOPE: &str = "openid profile email offline_access";

/// A harness whose provider is on another site, with `renewal` and `scope` set in config.json.
async fn cross_site(renewal: &str, scope: &str) -> Harness {
    let h = Harness::builder()
        .provider_cross_site()
        .token_ttl(TTL_SECS)
        .start()
        .await;
    configure(&h, renewal, scope);
    h
}

fn configure(h: &Harness, renewal: &str, scope: &str) {
    let mut config = h.app.config().expect("the harness sets config.json");
    config["renewal"] = json!(renewal);
    config["scope"] = json!(scope);
    h.app.set_config(config);
}

/// Waits (up to three token lifetimes) until the stored access token differs from `previous`.
async fn next_token(h: &Harness, previous: &str) -> String {
    let found = poll_until(Duration::from_secs(3 * TTL_SECS), || async {
        h.stored_token().await.filter(|token| token != previous)
    })
    .await;
    found.unwrap_or_else(|| {
        panic!(
            "no renewal within {} s\n{}",
            3 * TTL_SECS,
            h.provider.output()
        )
    })
}

async fn text(h: &Harness, css: &str) -> String {
    h.browser.find(css).await.text().await.unwrap()
}

#[tokio::test]
async fn iframe_only_renewal_ends_at_expiry_with_a_cross_site_provider() {
    // The baseline the refresh token answers: the iframe gets login_required, the banner asks to
    // sign in again, and the session ends at expiry.
    let h = cross_site("iframe", OFFLINE_SCOPE).await;
    h.log_in().await;
    assert!(
        h.stored_session().await.get("refresh_token").is_none(),
        "renewal `iframe` keeps no refresh token"
    );
    let banner = h
        .browser
        .wait_for_within("#session-banner", Duration::from_secs(2 * TTL_SECS))
        .await;
    let banner = banner.text().await.unwrap();
    assert!(banner.contains("login_required"), "banner: {banner}");
    let status = h
        .browser
        .wait_for_within("#auth-status.signed-out", Duration::from_secs(2 * TTL_SECS))
        .await;
    assert_eq!(
        status.text().await.unwrap(),
        "Your session has expired. Sign in again."
    );
    let stats = h.provider.stats().await;
    assert_eq!(stats["refresh"], 0, "{stats}");
    h.close().await;
}

#[tokio::test]
async fn auto_renews_by_refresh_token_across_sites_through_a_reload_and_the_api_keeps_working() {
    let h = cross_site("auto", OFFLINE_SCOPE).await;
    h.log_in().await;
    let first = h.stored_session().await;
    let mut refresh_token = first["refresh_token"]
        .as_str()
        .expect("a refresh token for offline_access")
        .to_owned();
    h.provider.reset_stats().await;
    // Three renewals without a reload: each rotates the refresh token.
    let mut token: String = first["access_token"].as_str().unwrap().to_owned();
    for round in 0..3 {
        token = next_token(&h, &token).await;
        let now = h.stored_session().await;
        let rotated = now["refresh_token"].as_str().unwrap().to_owned();
        assert_ne!(rotated, refresh_token, "round {round}: not rotated");
        refresh_token = rotated;
    }
    // A reload keeps the session (localStorage) and renewal goes on by refresh token.
    h.open("/").await;
    let status = h.browser.wait_for("#auth-status.signed-in").await;
    assert!(status.text().await.unwrap().contains(DEMO_NAME));
    next_token(&h, &token).await;
    let last = poll_until(Duration::from_secs(5), || async {
        let last = text(&h, "#last-renewal").await;
        last.contains("succeeded").then_some(last)
    })
    .await
    .expect("the renewal shown");
    assert!(last.contains("by refresh token"), "{last}");
    assert_eq!(h.call_api().await, "HTTP 200");

    let stats = h.provider.stats().await;
    assert!(stats["refresh"].as_u64() >= Some(4), "{stats}");
    assert_eq!(stats["refresh_reuse"], 0, "{stats}");
    assert_eq!(stats["refresh_refused"], 0, "{stats}");
    // No iframe was ever needed: no silent authorize request reached the provider.
    assert_eq!(stats["authorize_prompt_none"], 0, "{stats}");
    h.close().await;
}

async fn open_tab(h: &Harness) -> WindowHandle {
    let client = h.browser.client();
    let tab = client.new_window(true).await.unwrap().handle;
    client.switch_to_window(tab.clone()).await.unwrap();
    h.open("/").await;
    h.browser.wait_for("#auth-status.signed-in").await;
    tab
}

#[tokio::test]
async fn five_tabs_refresh_once_per_cycle_and_never_reuse_a_refresh_token() {
    let h = Harness::builder()
        .provider_cross_site()
        .token_ttl(8)
        .start()
        .await;
    configure(&h, "auto", OFFLINE_SCOPE);
    h.log_in().await;
    let first = h.browser.client().window().await.unwrap();
    let mut tabs = vec![first];
    for _ in 0..4 {
        tabs.push(open_tab(&h).await);
    }
    h.browser
        .client()
        .switch_to_window(tabs[0].clone())
        .await
        .unwrap();
    h.provider.reset_stats().await;
    let mut token = h.stored_token().await.unwrap();
    let mut seen = vec![token.clone()];
    for _ in 0..3 {
        token = poll_until(Duration::from_secs(24), || async {
            h.stored_token().await.filter(|t| !seen.contains(t))
        })
        .await
        .expect("a renewal within three lifetimes");
        seen.push(token.clone());
    }
    // Let the last cycle's broadcast reach every tab.
    let stats = poll_until(Duration::from_secs(5), || async {
        let stats = h.provider.stats().await;
        (stats["refresh"].as_u64() >= Some(3)).then_some(stats)
    })
    .await
    .expect("three refresh grants");
    // One refresh per new token: the five tabs never refreshed twice in a cycle, nor reused one.
    assert_eq!(
        stats["refresh"].as_u64(),
        Some(seen.len() as u64 - 1),
        "{stats}"
    );
    assert_eq!(stats["refresh_reuse"], 0, "{stats}");
    assert_eq!(stats["refresh_refused"], 0, "{stats}");
    assert_eq!(stats["authorize_prompt_none"], 0, "{stats}");
    // Every tab holds the newest session.
    for tab in &tabs {
        h.browser
            .client()
            .switch_to_window(tab.clone())
            .await
            .unwrap();
        let held = poll_until(Duration::from_secs(5), || async {
            let shown = h
                .browser
                .eval("return document.querySelector('#auth-status')?.className")
                .await;
            let token = h.stored_token().await;
            (shown.as_str().is_some_and(|c| c.contains("signed-in"))
                && token.as_deref() == seen.last().map(String::as_str))
            .then_some(())
        })
        .await;
        assert!(held.is_some(), "a tab is not on the newest session");
    }
    h.close().await;
}

#[tokio::test]
async fn a_revoked_grant_ends_the_session_cleanly_with_the_sign_in_banner() {
    let h = cross_site("auto", OFFLINE_SCOPE).await;
    h.log_in().await;
    let revoked = http::post(&h.provider.url("/__test/revoke-grants"), "{}").await;
    assert_eq!(revoked.status, 200);
    assert!(revoked.json()["revoked"].as_u64() >= Some(1));
    // The next renewal's refresh is refused; auto tries the iframe once, which the cross-site
    // provider answers with login_required: the banner asks to sign in again.
    let banner = h
        .browser
        .wait_for_within("#session-banner", Duration::from_secs(2 * TTL_SECS))
        .await
        .text()
        .await
        .unwrap();
    assert!(banner.contains("sign in again"), "banner: {banner}");
    let log = h
        .browser
        .eval("return Array.from(document.querySelectorAll('#event-log li'), li => li.textContent).join('\\n')")
        .await;
    let log = log.as_str().unwrap_or_default().to_owned();
    assert!(
        log.contains("refresh_token_refused") && log.contains("renewing in the iframe instead"),
        "{log}"
    );
    // The dropped refresh token is gone from storage, and the session ends at expiry.
    assert!(h.stored_session().await.get("refresh_token").is_none());
    h.browser
        .wait_for_within("#auth-status.signed-out", Duration::from_secs(2 * TTL_SECS))
        .await;
    let stats = h.provider.stats().await;
    assert_eq!(stats["refresh_reuse"], 0, "{stats}");
    h.close().await;
}

#[tokio::test]
async fn logout_revokes_the_refresh_token() {
    let h = cross_site("auto", OFFLINE_SCOPE).await;
    h.log_in().await;
    let refresh_token = h.stored_session().await["refresh_token"]
        .as_str()
        .expect("a refresh token")
        .to_owned();
    h.provider.reset_stats().await;
    h.log_out_at_provider().await;
    h.browser.wait_for("#auth-status.signed-out").await;
    let stats = h.provider.stats().await;
    assert_eq!(stats["revocation"], 1, "{stats}");
    // The copy taken before the logout is worth nothing now.
    let form =
        format!("grant_type=refresh_token&refresh_token={refresh_token}&client_id=oidc-renew-demo");
    let answer = http::post_form(&h.provider.url("/token"), &form).await;
    assert_eq!(answer.status, 400, "{}", answer.text());
    assert_eq!(answer.json()["error"], "invalid_grant");
    h.close().await;
}

#[tokio::test]
async fn same_site_auto_renews_by_refresh_token_when_issued_and_in_the_iframe_when_not() {
    for (scope, channel) in [
        (OFFLINE_SCOPE, "refresh token"),
        ("openid profile email", "iframe"),
    ] {
        let h = Harness::builder().token_ttl(TTL_SECS).start().await;
        configure(&h, "auto", scope);
        h.log_in().await;
        h.provider.reset_stats().await;
        let token = h.stored_token().await.unwrap();
        next_token(&h, &token).await;
        let last = poll_until(Duration::from_secs(5), || async {
            let last = text(&h, "#last-renewal").await;
            last.contains("succeeded").then_some(last)
        })
        .await
        .expect("a successful renewal shown");
        assert!(last.contains(&format!("by {channel}")), "{scope}: {last}");
        let stats = h.provider.stats().await;
        if channel == "iframe" {
            assert_eq!(stats["refresh"], 0, "{stats}");
            assert!(
                stats["authorize_prompt_none"].as_u64() >= Some(1),
                "{stats}"
            );
        } else {
            assert_eq!(stats["authorize_prompt_none"], 0, "{stats}");
            assert!(stats["refresh"].as_u64() >= Some(1), "{stats}");
        }
        h.close().await;
    }
}

#[tokio::test]
async fn a_sign_in_that_does_not_ask_for_offline_access_gets_no_refresh_token() {
    // Refresh tokens are issued per authorization request that asks for offline_access (Auth0), not
    // to every later sign-in of the same user and client: here one with the provider session (and
    // grant) of an earlier sign-in that asked. The bench found the local provider issuing them to
    // every app origin signed in after one that asked.
    let h = Harness::builder().token_ttl(TTL_SECS).start().await;
    configure(&h, "auto", OFFLINE_SCOPE);
    h.log_in().await;
    assert!(h.stored_session().await["refresh_token"].is_string());
    h.browser.eval("localStorage.clear(); return null").await;
    configure(&h, "auto", "openid profile email");
    h.open("/").await;
    h.browser.wait_for("#auth-status.signed-out").await;
    h.browser.click("button#login").await;
    // The provider session is still there: no login form, straight back signed in.
    let status = h.browser.wait_for("#auth-status.signed-in").await;
    assert!(status.text().await.unwrap().contains(DEMO_NAME));
    let session = h.stored_session().await;
    // The fields it has, never the tokens themselves.
    let fields: Vec<&String> = session
        .as_object()
        .map(|o| o.keys().collect())
        .unwrap_or_default();
    assert!(session["access_token"].is_string(), "{fields:?}");
    assert!(session.get("refresh_token").is_none(), "{fields:?}");
    // So renewal goes by the iframe.
    let token = h.stored_token().await.unwrap();
    next_token(&h, &token).await;
    let stats = h.provider.stats().await;
    assert_eq!(stats["refresh"], 0, "{stats}");
    h.close().await;
}
/// The event log's entries of `kind` (`renewal-failed`, ...), newest first.
async fn log_entries(h: &Harness, kind: &str) -> Vec<String> {
    let list = h
        .browser
        .eval_with(
            "return Array.from(document.querySelectorAll(`#event-log li[data-kind=\"${arguments[0]}\"]`), li => li.textContent)",
            vec![json!(kind)],
        )
        .await;
    serde_json::from_value(list).unwrap_or_default()
}

#[tokio::test]
async fn refresh_500s_are_retried_by_refresh_token_until_the_provider_answers() {
    let h = cross_site("auto", OFFLINE_SCOPE).await;
    h.log_in().await;
    let before = h.stored_token().await.unwrap();
    h.provider.reset_stats().await;
    h.provider
        .inject(json!({"path": "/token", "kind": "status", "status": 500, "count": 2}))
        .await;
    h.renew_now().await;
    let succeeded = poll_until(Duration::from_secs(30), || async {
        let done = log_entries(&h, "renewal-succeeded").await;
        (!done.is_empty()).then_some(done)
    })
    .await
    .expect("renewal recovered");
    assert!(succeeded[0].contains("by refresh token"), "{succeeded:?}");
    let failed = log_entries(&h, "renewal-failed").await;
    assert_eq!(failed.len(), 2, "{failed:?}");
    for text in &failed {
        assert!(text.contains("(transient, refresh token)"), "{text}");
    }
    assert_ne!(h.stored_token().await.unwrap(), before);
    let stats = h.provider.stats().await;
    assert_eq!(stats["refresh"], 1, "{stats}");
    assert_eq!(stats["authorize_prompt_none"], 0, "no iframe: {stats}");
    assert_eq!(stats["refresh_reuse"], 0, "{stats}");
    crate::fixtures::report::record(
        "faults",
        "refresh_500",
        json!({
            "fault": "HTTP 500 at the token endpoint for a refresh, twice",
            "outcome": "transient, retried by refresh token, recovered",
            "failures_before_recovery": failed.len(),
            "injected": h.provider.faults().await["injected"],
            "survived": true,
        }),
    );
    h.close().await;
}

#[tokio::test]
async fn expired_refresh_tokens_fall_back_to_the_iframe_once_on_the_same_site() {
    let h = Harness::builder().token_ttl(TTL_SECS).start().await;
    configure(&h, "auto", OFFLINE_SCOPE);
    h.log_in().await;
    let expired = http::post(&h.provider.url("/__test/expire-refresh-tokens"), "{}").await;
    assert!(expired.json()["expired"].as_u64() >= Some(1));
    h.provider.reset_stats().await;
    h.renew_now().await;
    // Refused, dropped, and the iframe (whose cookie the same-site provider gets) renews at once...
    let succeeded = poll_until(Duration::from_secs(20), || async {
        let done = log_entries(&h, "renewal-succeeded").await;
        (!done.is_empty()).then_some(done)
    })
    .await
    .expect("renewal recovered");
    assert!(succeeded[0].contains("by iframe"), "{succeeded:?}");
    let failed = log_entries(&h, "renewal-failed").await;
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert!(
        failed[0].contains("refresh_token_refused")
            && failed[0].contains("renewing in the iframe instead"),
        "{failed:?}"
    );
    let stats = h.provider.stats().await;
    assert_eq!(stats["refresh_refused"], 1, "{stats}");
    assert_eq!(stats["authorize_prompt_none"], 1, "{stats}");
    // ...with offline_access again: a new refresh token, and the next renewal uses it.
    assert!(h.stored_session().await["refresh_token"].is_string());
    h.renew_now().await;
    let renewed = poll_until(Duration::from_secs(20), || async {
        let done = log_entries(&h, "renewal-succeeded").await;
        (done.len() >= 2).then_some(done)
    })
    .await
    .expect("a second renewal");
    assert!(renewed[0].contains("by refresh token"), "{renewed:?}");
    crate::fixtures::report::record(
        "faults",
        "refresh_expired",
        json!({
            "fault": "every refresh token expired at the provider",
            "outcome": "refresh_token_refused: dropped, the iframe renewed at once, refresh tokens again after",
            "failures_before_recovery": failed.len(),
            "injected": {"expire-refresh-tokens": 1},
            "survived": true,
        }),
    );
    h.close().await;
}
