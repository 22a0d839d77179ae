//! Clock skew: the browser's clock five minutes ahead of and behind the provider's. The provider's
//! clock is the one moved (`CLOCK_SKEW`: its `iat`, `exp` and everything it dates shift), which is
//! the same difference seen from the browser. Renewal must still happen before each token expires,
//! the API must still accept the tokens, and the setup doctor must name the skew.
//!
//! How skew is handled: `oidc_renew_core::id_token::MAX_CLOCK_SKEW_SECS`.

use std::time::Duration;

use serde_json::{json, Value};

use crate::fixtures::{poll_until, report, Harness, SESSION_KEY};

const TTL_SECS: u64 = 12;
const RENEWALS: usize = 2;

/// (access token, expires_at_ms, first seen at, by the browser's clock) of the stored session.
async fn stored(h: &Harness) -> Option<(String, u64, u64)> {
    let answer = h
        .browser
        .eval(&format!(
            "return [localStorage.getItem('{SESSION_KEY}'), Date.now()]"
        ))
        .await;
    let session: Value = serde_json::from_str(answer[0].as_str()?).ok()?;
    Some((
        session["access_token"].as_str()?.to_owned(),
        session["expires_at_ms"].as_u64()?,
        answer[1].as_u64()?,
    ))
}

async fn renews_on_time_with_skew(skew_secs: i64) {
    let h = Harness::builder()
        .token_ttl(TTL_SECS)
        .provider_env("CLOCK_SKEW", &skew_secs.to_string())
        .start()
        .await;
    h.log_in().await;

    // Every distinct session, in order, with when it was first seen.
    let mut sessions = vec![stored(&h).await.expect("a stored session")];
    while sessions.len() <= RENEWALS {
        let previous = sessions.last().unwrap().0.clone();
        let next = poll_until(Duration::from_secs(3 * TTL_SECS), || async {
            stored(&h).await.filter(|(token, ..)| *token != previous)
        })
        .await;
        match next {
            Some(session) => sessions.push(session),
            None => panic!(
                "no renewal with the provider's clock {skew_secs} s off; page: {}\n{}",
                h.browser.body_text().await,
                h.provider.output()
            ),
        }
    }
    for pair in sessions.windows(2) {
        let (_, expires_at_ms, _) = &pair[0];
        let (_, _, renewed_seen_at) = &pair[1];
        assert!(
            renewed_seen_at < expires_at_ms,
            "renewed at {renewed_seen_at}, after the token expired at {expires_at_ms} (skew {skew_secs} s)"
        );
    }
    let failed = h
        .browser
        .find_all("#event-log li[data-kind=renewal-failed]")
        .await;
    assert!(failed.is_empty(), "{}", h.browser.body_text().await);

    // The API (on the provider's clock) accepts the latest token.
    let status = h.call_api().await;
    assert_eq!(status, "HTTP 200", "{}", h.browser.body_text().await);

    // The doctor names the skew, in the right direction, as a warning (within the tolerance).
    h.browser.click("footer#footer a[href='/doctor/']").await;
    h.browser
        .wait_for_within("#doctor[data-state=done]", Duration::from_secs(30))
        .await;
    let row = h
        .browser
        .eval(
            "const li = document.querySelector('li.check[data-check=clock-skew]'); \
             return [li.dataset.result, li.querySelector('.cause').textContent]",
        )
        .await;
    let (result, cause) = (row[0].as_str().unwrap(), row[1].as_str().unwrap());
    assert_eq!(result, "amber", "{cause}");
    let direction = if skew_secs > 0 { "behind" } else { "ahead of" };
    let stated: i64 = cause
        .split("about ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no skew figure in: {cause}"));
    assert!(
        (stated - skew_secs.abs()).abs() <= 1 && cause.contains(direction),
        "doctor says: {cause}; expected about {} s {direction}",
        skew_secs.abs()
    );

    let margins: Vec<u64> = sessions
        .windows(2)
        .map(|pair| pair[0].1 - pair[1].2)
        .collect();
    report::record(
        "skew",
        &format!(
            "skew_{}{}",
            if skew_secs > 0 { "plus_" } else { "minus_" },
            skew_secs.abs()
        ),
        json!({
            "provider_clock_offset_s": skew_secs,
            "token_ttl_s": TTL_SECS,
            "renewals": RENEWALS,
            "renewed_before_expiry_by_ms": margins,
            "survived": true,
        }),
    );
    h.close().await;
}

#[tokio::test]
async fn renews_before_expiry_with_the_browser_five_minutes_behind() {
    renews_on_time_with_skew(300).await;
}

#[tokio::test]
async fn renews_before_expiry_with_the_browser_five_minutes_ahead() {
    renews_on_time_with_skew(-300).await;
}
