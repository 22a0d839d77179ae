//! Storage faults (issue 6, part 4): a stored session that is corrupted, of the wrong types, with
//! absurd times or of someone else means signed out with a message; a storage that refuses writes
//! keeps the session in memory with a visible notice. Never a panic, never a blank page: every page
//! load is checked for uncaught errors and for the app's root having rendered.
//!
//! `auth.rs` has the first corrupted-session test (four values, message only); these mutate a real
//! stored session one member at a time, so that the mutation alone is what the app refuses.

use std::time::Duration;

use serde_json::{json, Value};

use crate::fixtures::{poll_until, report, Harness, DEMO_NAME, SESSION_KEY};

/// Runs before the app's scripts in each of its pages ([`crate::fixtures::AppServer::add_init_script`]): keeps the page's uncaught errors, unhandled
/// rejections and `console.error` lines in `window.__e2e_errors` (a Rust panic in the release build,
/// `panic = "abort"`, surfaces as an uncaught `RuntimeError: unreachable`; with a panic hook it would
/// print "panicked at"), and its `console.warn` lines in `window.__e2e_warnings`.
const WATCH_ERRORS: &str = r#"
window.__e2e_errors = [];
window.__e2e_warnings = [];
window.addEventListener('error', (e) => {
    window.__e2e_errors.push('error: ' + (e.error && e.error.stack || e.message));
});
window.addEventListener('unhandledrejection', (e) => {
    window.__e2e_errors.push('rejection: ' + String(e.reason && e.reason.stack || e.reason));
});
const originalError = console.error;
console.error = (...args) => {
    window.__e2e_errors.push('console.error: ' + args.map(String).join(' '));
    originalError.apply(console, args);
};
const originalWarn = console.warn;
console.warn = (...args) => {
    window.__e2e_warnings.push(args.map(String).join(' '));
    originalWarn.apply(console, args);
};
"#;

/// Runs before the app's scripts in each of its pages: `localStorage.setItem` throws a quota error,
/// as a full or write-protected storage does; `sessionStorage` (the login transaction) still works.
const SET_ITEM_THROWS: &str = r#"
if (location.origin === '__APP_ORIGIN__') {
    const setItem = Storage.prototype.setItem;
    Storage.prototype.setItem = function (key, value) {
        if (this === window.localStorage) {
            throw new DOMException("Failed to execute 'setItem' on 'Storage': the quota has been exceeded (injected)", 'QuotaExceededError');
        }
        return setItem.call(this, key, value);
    };
}
"#;

/// Fills the origin's localStorage to its quota with filler entries: ever smaller values until even
/// a few characters no longer fit. Returns the number of entries written.
const FILL_LOCAL_STORAGE: &str = r#"
let count = 0;
for (let size = 1 << 20; size >= 1; size >>= 1) {
    const value = 'x'.repeat(size);
    try {
        for (;;) { localStorage.setItem('__e2e_fill_' + count, value); count += 1; }
    } catch (_) {}
}
try { localStorage.setItem('__e2e_probe', 'xxxxxxxx'); return -1; } catch (_) { return count; }
"#;

/// The page did not fail: the app's root rendered (navigation, a page, footer), there is visible
/// text, and no uncaught error, rejection or `console.error` happened since the document loaded.
async fn assert_page_survived(h: &Harness, what: &str) {
    let page = h
        .browser
        .eval(
            "return {
                rendered: !!document.querySelector('#nav') && !!document.querySelector('main')
                          && !!document.querySelector('#footer'),
                text: document.body ? document.body.innerText.trim().length : 0,
                errors: window.__e2e_errors || null,
            }",
        )
        .await;
    assert_eq!(
        page["rendered"],
        json!(true),
        "{what}: the app did not render\n{}",
        h.browser.body_text().await
    );
    assert!(page["text"].as_u64() > Some(20), "{what}: blank page");
    let errors = page["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("{what}: the error watch is not installed: {page}"));
    assert!(errors.is_empty(), "{what}: errors in the page: {errors:?}");
}

async fn warnings(h: &Harness) -> Vec<String> {
    let list = h.browser.eval("return window.__e2e_warnings || []").await;
    list.as_array()
        .unwrap()
        .iter()
        .map(|warning| warning.as_str().unwrap_or_default().to_owned())
        .collect()
}

/// A harness whose pages report their errors, signed in through the provider; returns the stored
/// session it left in localStorage.
async fn signed_in() -> (Harness, String) {
    let h = Harness::start().await;
    h.app.add_init_script(WATCH_ERRORS);
    h.log_in().await;
    assert_page_survived(&h, "after sign-in").await;
    let stored = h
        .stored_session_text()
        .await
        .expect("a signed-in app keeps its session in localStorage");
    (h, stored)
}

/// Writes `value` as the stored session, reloads, and checks that the app refused it: signed out
/// with the stored-session message, the value removed, a console warning naming it, no error.
async fn assert_refused(h: &Harness, fault: &str, value: &str) {
    h.browser
        .eval_with(
            "localStorage.setItem(arguments[0], arguments[1])",
            vec![json!(SESSION_KEY), json!(value)],
        )
        .await;
    h.open("/").await;
    let (class, text) = h.settled_status().await;
    let shown = value.chars().take(200).collect::<String>();
    assert!(
        class.contains("signed-out") && text.contains("could not be read"),
        "{fault}: {shown}\nstatus `{class}`: {text}"
    );
    assert_eq!(
        h.stored_session_text().await,
        None,
        "{fault}: the refused value is removed"
    );
    let warnings = warnings(h).await;
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("ignoring the stored session")),
        "{fault}: {shown}: no warning: {warnings:?}"
    );
    assert_page_survived(h, &format!("{fault}: {shown}")).await;
}

/// The unchanged stored session still signs in on reload: the refusals above came from the mutations.
async fn assert_control_signs_in(h: &Harness, good: &str) {
    h.browser
        .eval_with(
            "localStorage.setItem(arguments[0], arguments[1])",
            vec![json!(SESSION_KEY), json!(good)],
        )
        .await;
    h.open("/").await;
    let (class, text) = h.settled_status().await;
    assert!(
        class.contains("signed-in") && text.contains(DEMO_NAME),
        "the unchanged session: `{class}`: {text}"
    );
    assert_page_survived(h, "the unchanged session").await;
}

/// `good` with the member at `path` set to `value` (`None`: removed).
fn mutated(good: &str, path: &[&str], value: Option<Value>) -> String {
    let mut session: Value = serde_json::from_str(good).expect("the stored session is JSON");
    let (last, parents) = path.split_last().unwrap();
    let mut slot = &mut session;
    for name in parents {
        slot = &mut slot[*name];
    }
    let object = slot.as_object_mut().expect("an object");
    match value {
        Some(value) => object.insert((*last).to_owned(), value),
        None => object.remove(*last),
    };
    session.to_string()
}

/// `good` with the member `name` holding `raw`, verbatim JSON text (numbers JSON allows but
/// `serde_json::Value` would round).
fn with_raw(good: &str, name: &str, raw: &str) -> String {
    let marker = "\"__raw__\"";
    mutated(good, &[name], Some(json!("__raw__"))).replacen(marker, raw, 1)
}

fn record(name: &str, fault: &str, outcome: &str, cases: usize) {
    report::record(
        "storage",
        name,
        json!({ "fault": fault, "outcome": outcome, "survived": true, "cases": cases }),
    );
}

#[tokio::test]
async fn corrupted_json_means_signed_out() {
    let (h, good) = signed_in().await;
    let cases = [
        String::new(),
        good[..good.len() / 2].to_owned(),
        good[..good.len() - 1].to_owned(),
        format!("{good}}}"),
        format!("{good}garbage"),
        good.replacen(':', ";", 1),
        good.replace('"', "'"),
        "{{{{{{{{".to_owned(),
        "undefined".to_owned(),
        "\u{0}\u{1}\u{7f}\u{fffd}".to_owned(),
        "x".repeat(100 * 1024),
    ];
    for value in &cases {
        assert_refused(&h, "corrupted JSON", value).await;
    }
    assert_control_signs_in(&h, &good).await;
    h.close().await;
    record(
        "corrupted_json",
        "corrupted JSON",
        "signed_out",
        cases.len(),
    );
}

#[tokio::test]
async fn wrong_types_and_missing_members_mean_signed_out() {
    let (h, good) = signed_in().await;
    let cases = [
        mutated(&good, &["access_token"], Some(json!(1))),
        mutated(&good, &["access_token"], None),
        mutated(&good, &["access_token"], Some(json!(""))),
        mutated(&good, &["access_token"], Some(json!("at\r\nX-Injected: 1"))),
        mutated(&good, &["id_token"], Some(json!([]))),
        mutated(&good, &["id_token"], Some(json!(null))),
        mutated(&good, &["expires_at_ms"], Some(json!("soon"))),
        mutated(&good, &["expires_at_ms"], None),
        mutated(&good, &["issued_at_ms"], Some(json!(null))),
        mutated(&good, &["issued_at_ms"], Some(json!({}))),
        mutated(&good, &["scope"], Some(json!(42))),
        mutated(&good, &["claims"], Some(json!("claims"))),
        mutated(&good, &["claims"], None),
        mutated(&good, &["claims", "sub"], Some(json!(7))),
        mutated(&good, &["claims", "sub"], None),
        mutated(&good, &["claims", "aud"], Some(json!({"aud": 1}))),
        mutated(&good, &["claims", "exp"], Some(json!("tomorrow"))),
        mutated(&good, &["claims", "email_verified"], Some(json!("yes"))),
        "[]".to_owned(),
        "42".to_owned(),
        "\"a string\"".to_owned(),
    ];
    for value in &cases {
        assert_refused(&h, "wrong types", value).await;
    }
    assert_control_signs_in(&h, &good).await;
    h.close().await;
    record(
        "wrong_types",
        "wrong types and missing members",
        "signed_out",
        cases.len(),
    );
}

#[tokio::test]
async fn absurd_or_negative_expiry_means_signed_out() {
    let (h, good) = signed_in().await;
    let session: Value = serde_json::from_str(&good).unwrap();
    let issued_at = session["issued_at_ms"].as_u64().unwrap();
    let year_3000_ms: u64 = 32_503_680_000_000;
    let mut cases: Vec<String> = [
        "18446744073709551615",
        "18446744073709551616",
        "1e300",
        "-1e300",
        "-1",
        "-0.5",
        "0",
        "1.5",
        "\"NaN\"",
        "\"Infinity\"",
        "null",
        "NaN",
        "Infinity",
    ]
    .iter()
    .map(|raw| with_raw(&good, "expires_at_ms", raw))
    .collect();
    cases.extend([
        // Far future: a lifetime of centuries.
        mutated(&good, &["expires_at_ms"], Some(json!(year_3000_ms))),
        // Ends before it starts.
        mutated(&good, &["issued_at_ms"], Some(json!(issued_at + 3_600_000))),
        // Issued and ending in the year 3000: starts in the future.
        mutated(
            &mutated(&good, &["issued_at_ms"], Some(json!(year_3000_ms - 1000))),
            &["expires_at_ms"],
            Some(json!(year_3000_ms)),
        ),
        with_raw(&good, "issued_at_ms", "-1"),
    ]);
    for value in &cases {
        assert_refused(&h, "absurd expires_at", value).await;
    }
    assert_control_signs_in(&h, &good).await;
    h.close().await;
    record(
        "absurd_expires_at",
        "absurd or negative expires_at",
        "signed_out",
        cases.len(),
    );
}

#[tokio::test]
async fn a_session_of_another_issuer_client_or_api_means_signed_out() {
    let (h, good) = signed_in().await;
    let cases = [
        mutated(
            &good,
            &["claims", "iss"],
            Some(json!("https://other-issuer.example")),
        ),
        mutated(&good, &["claims", "aud"], Some(json!(["another-client"]))),
        mutated(&good, &["claims", "azp"], Some(json!("another-client"))),
        mutated(&good, &["audience"], Some(json!("urn:another-api"))),
        mutated(&good, &["audience"], None),
    ];
    for value in &cases {
        assert_refused(&h, "another owner", value).await;
    }
    assert_control_signs_in(&h, &good).await;
    h.close().await;
    record(
        "another_owner",
        "session of another issuer, client or API",
        "signed_out",
        cases.len(),
    );
}

/// Signed in although localStorage refused the session: the notice says so, nothing is in
/// localStorage, the page survived.
async fn assert_kept_in_memory(h: &Harness, fault: &str) -> String {
    let notice = h
        .browser
        .wait_for_visible("#storage-notice")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        notice.contains("QuotaExceededError")
            && notice.contains("memory")
            && notice.contains("reloading the page signs you out"),
        "{fault}: notice: {notice}"
    );
    let (class, text) = h.settled_status().await;
    assert!(
        class.contains("signed-in") && text.contains(DEMO_NAME),
        "{fault}: `{class}`: {text}"
    );
    assert_eq!(
        h.stored_session_text().await,
        None,
        "{fault}: nothing stored"
    );
    let warnings = warnings(h).await;
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("cannot write to localStorage")),
        "{fault}: no console warning: {warnings:?}"
    );
    assert_page_survived(h, fault).await;
    notice
}

#[tokio::test]
async fn a_storage_that_throws_on_write_keeps_the_session_in_memory_with_a_notice() {
    const TTL_SECS: u64 = 12;
    let h = Harness::builder().token_ttl(TTL_SECS).start().await;
    let fault = SET_ITEM_THROWS.replace("__APP_ORIGIN__", &h.app.origin());
    for source in [WATCH_ERRORS, fault.as_str()] {
        h.app.add_init_script(source);
    }
    h.log_in().await;
    let fault = "setItem throws";
    assert_kept_in_memory(&h, fault).await;

    // Renewal works in memory too: the new session replaces the old one there.
    let renewed = poll_until(Duration::from_secs(3 * TTL_SECS), || async {
        let state = h
            .browser
            .eval(
                "return {count: Number(document.querySelector('#renewal-count')?.textContent),
                         last: document.querySelector('#last-renewal')?.textContent || ''}",
            )
            .await;
        (state["count"].as_u64() >= Some(1) && state["last"].as_str()?.starts_with("succeeded"))
            .then_some(state)
    })
    .await;
    assert!(
        renewed.is_some(),
        "no successful renewal in memory:\n{}",
        h.browser.body_text().await
    );
    assert_kept_in_memory(&h, "setItem throws, after a renewal").await;

    // As the notice says: a reload signs out (cleanly), and the notice is gone with the session.
    h.open("/").await;
    let (class, _) = h.settled_status().await;
    assert!(class.contains("signed-out"), "after reload: `{class}`");
    assert!(h.browser.find_all("#storage-notice").await.is_empty());
    assert_page_survived(&h, "reload after the fallback").await;
    h.close().await;
    record(
        "set_item_throws",
        "localStorage.setItem throws (QuotaExceededError, injected)",
        "memory_fallback",
        1,
    );
}

#[tokio::test]
async fn a_full_local_storage_keeps_the_session_in_memory_with_a_notice() {
    let h = Harness::start().await;
    h.app.add_init_script(WATCH_ERRORS);
    h.open("/").await;
    h.settled_status().await;
    let filled = h.browser.eval(FILL_LOCAL_STORAGE).await;
    assert!(
        filled.as_i64() > Some(0),
        "localStorage did not fill up: {filled}"
    );
    h.log_in().await;
    let fault = "localStorage full";
    assert_kept_in_memory(&h, fault).await;
    h.browser.click("a[href='/profile']").await;
    h.browser.wait_for("[data-page='profile']").await;
    assert_page_survived(&h, "profile page with the session in memory").await;

    h.open("/").await;
    let (class, _) = h.settled_status().await;
    assert!(class.contains("signed-out"), "after reload: `{class}`");
    assert_page_survived(&h, "reload with a full localStorage").await;
    h.close().await;
    record(
        "quota_full",
        "localStorage full (real QuotaExceededError)",
        "memory_fallback",
        1,
    );
}
