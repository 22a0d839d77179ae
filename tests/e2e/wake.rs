//! Waking after a sleep past expiry, with the network down, and memory storage's sign-in cost.
//!
//! A sleep is simulated the way a laptop makes it: the page's clock jumps past the session's expiry
//! while no timer fires (an init script shifts `Date.now`, which the app reads), then the page gets a
//! wake-up event. The network is cut and restored with Chromium's network emulation (CDP), which also
//! fires the page's `offline` and `online` events.

use crate::fixtures::{needs_chromium, poll_until, Harness, DEMO_NAME, SESSION_KEY};
use serde_json::{json, Value};
use std::time::Duration;

/// Shifts `Date.now()` by `window.__clockOffset` ms, and samples every 20 ms (and on every DOM
/// change) whether the page shows a signed-in user, with the page's clock.
const INIT: &str = r#"
(() => {
  const realNow = Date.now.bind(Date);
  window.__clockOffset = 0;
  Date.now = () => realNow() + window.__clockOffset;
  window.__samples = [];
  const sample = () => {
    const user = document.querySelector('#user-name');
    window.__samples.push({ now: Date.now(), signedIn: !!user });
  };
  setInterval(sample, 20);
  addEventListener('DOMContentLoaded', () =>
    new MutationObserver(sample).observe(document.body, { childList: true, subtree: true, characterData: true }));
})();
"#;

async fn set_offline(h: &Harness, offline: bool) {
    h.browser.cdp("Network.enable", json!({})).await;
    h.browser
        .cdp(
            "Network.emulateNetworkConditions",
            json!({"offline": offline, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}),
        )
        .await;
}

/// The event log's renewal failures, newest first, as `[at text, detail]` (the session panel shows
/// the newest 20 entries).
async fn failures(h: &Harness) -> Vec<Value> {
    let list = h
        .browser
        .eval(
            "return Array.from(document.querySelectorAll('#event-log li[data-kind=\"renewal-failed\"]'), \
             li => li.textContent)",
        )
        .await;
    list.as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn a_sleep_past_expiry_offline_shows_restoring_then_signs_in_again_when_the_network_is_back()
{
    if needs_chromium(
        "Network.emulateNetworkConditions takes the browser offline and back (firing `offline` and `online`)",
    ) {
        return;
    }
    let h = Harness::builder().token_ttl(120).start().await;
    h.browser
        .cdp(
            "Page.addScriptToEvaluateOnNewDocument",
            json!({ "source": INIT }),
        )
        .await;
    h.log_in().await;
    let expires_at = h
        .browser
        .eval(&format!(
            "return JSON.parse(localStorage.getItem('{SESSION_KEY}')).expires_at_ms"
        ))
        .await
        .as_u64()
        .expect("a stored session");

    // Asleep: the network goes, the clock moves 20 s past expiry without a timer firing; then the
    // laptop wakes (the page is shown and focused again).
    set_offline(&h, true).await;
    let woke_at = h
        .browser
        .eval_with(
            "window.__clockOffset = arguments[0] - Date.now() + 20000; \
             window.__samples = []; \
             dispatchEvent(new Event('focus')); \
             return Date.now();",
            vec![json!(expires_at)],
        )
        .await
        .as_u64()
        .unwrap();
    assert!(woke_at > expires_at);

    // Offline, the home page says it is restoring; the renewal fails and is retried with backoff.
    h.browser
        .wait_until(
            "the home page to say it restores the session",
            "return document.querySelector('#auth-status')?.textContent.includes('Restoring')",
        )
        .await;
    let failed = poll_until(Duration::from_secs(40), || async {
        let failed = failures(&h).await;
        (failed.len() >= 3).then_some(failed)
    })
    .await
    .expect("three failed attempts while offline");
    let stamps: Vec<u64> = h
        .browser
        .eval(
            "return Array.from(document.querySelectorAll('#event-log li[data-kind=\"renewal-started\"]'), \
             li => li.dataset.at ? Number(li.dataset.at) : null)",
        )
        .await
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter_map(Value::as_u64)
        .collect();
    // Attempts come with growing gaps (2 s, 4 s, 8 s steps, each at least half its step), never
    // back to back: the log's start times, newest first.
    let mut starts: Vec<u64> = stamps.into_iter().filter(|at| *at >= woke_at).collect();
    starts.sort_unstable();
    assert!(
        starts.len() >= 3,
        "attempts after the wake: {starts:?} ({failed:?})"
    );
    let gaps: Vec<u64> = starts.windows(2).map(|w| w[1] - w[0]).collect();
    for (n, gap) in gaps.iter().enumerate().take(2) {
        let step = 2_000u64 << n;
        assert!(
            *gap >= step / 2,
            "attempt gap {n} is {gap} ms ({gaps:?}): not the backoff"
        );
    }

    // Not one sample showed a signed-in user while the session was expired.
    let samples = h.browser.eval("return window.__samples").await;
    let samples = samples.as_array().cloned().unwrap_or_default();
    assert!(samples.len() > 20, "too few samples: {}", samples.len());
    let shown: Vec<&Value> = samples
        .iter()
        .filter(|s| s["signedIn"] == true && s["now"].as_u64().unwrap_or(0) >= expires_at)
        .collect();
    assert!(shown.is_empty(), "signed in shown past expiry: {shown:?}");

    // The network is back: the `online` event retries at once, and the user is signed in again.
    set_offline(&h, false).await;
    let name = h.browser.wait_for("#user-name").await.text().await.unwrap();
    assert_eq!(name, DEMO_NAME);
    let status = h.browser.wait_for("#auth-status.signed-in").await;
    assert!(status.text().await.unwrap().contains(DEMO_NAME));
    assert_eq!(h.call_api().await, "HTTP 200");
    h.close().await;
}

#[tokio::test]
async fn memory_storage_signs_in_with_one_authorize_and_one_token_request() {
    let h = Harness::start().await;
    let mut config = h.app.config().unwrap();
    config["storage"] = json!("memory");
    h.app.set_config(config);
    h.provider.reset_stats().await;
    // A first visit: never signed in here, so no silent restore attempt.
    h.log_in().await;
    let stats = h.provider.stats().await;
    assert_eq!(stats["authorize"], 1, "{stats}");
    assert_eq!(stats["authorize_prompt_none"], 0, "{stats}");
    assert_eq!(stats["token"], 1, "{stats}");
    h.close().await;
}
