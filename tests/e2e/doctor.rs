//! The setup doctor (`/doctor/`, a page of its own) against the local provider: all green in the
//! working setup, and the matching check red, with its fix, for each broken one (a provider started without the
//! silent callback URL or without CORS for the app, a config.json with a wrong client id, a wrong
//! issuer, or an invalid field). And the home page's timeline, drawing renewals as they happen.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{json, Value};

use crate::fixtures::{poll_until, Harness};

/// A run makes a handful of local requests and one hidden-frame request (10 s timeout at most).
const RUN_TIMEOUT: Duration = Duration::from_secs(30);

const CHECKS: [&str; 10] = [
    "config",
    "discovery",
    "jwks",
    "cors",
    "silent-callback",
    "cross-site",
    "renewal-channel",
    "dpop",
    "logout",
    "clock-skew",
];

#[derive(Debug)]
struct Finding {
    result: String,
    cause: String,
    fix: String,
}

/// Waits for the doctor's run to end and reads every check, by name.
async fn findings(h: &Harness) -> BTreeMap<String, Finding> {
    h.browser
        .wait_for_within("#doctor[data-state=done]", RUN_TIMEOUT)
        .await;
    let rows = h
        .browser
        .eval(
            "return Array.from(document.querySelectorAll('li.check'), (li) => ({ \
               check: li.dataset.check, result: li.dataset.result, \
               cause: li.querySelector('.cause')?.textContent ?? '', \
               fix: li.querySelector('.fix')?.textContent ?? '' }))",
        )
        .await;
    let rows = rows.as_array().cloned().unwrap_or_default();
    let text = |row: &Value, key: &str| row[key].as_str().unwrap_or_default().to_owned();
    let findings: BTreeMap<String, Finding> = rows
        .iter()
        .map(|row| {
            let finding = Finding {
                result: text(row, "result"),
                cause: text(row, "cause"),
                fix: text(row, "fix"),
            };
            (text(row, "check"), finding)
        })
        .collect();
    let mut names: Vec<&str> = findings.keys().map(String::as_str).collect();
    let mut expected = CHECKS.to_vec();
    names.sort_unstable();
    expected.sort_unstable();
    assert_eq!(names, expected, "{findings:#?}");
    findings
}

/// Opens `/doctor/` and returns its findings.
async fn run_doctor(h: &Harness) -> BTreeMap<String, Finding> {
    h.open("/doctor/").await;
    findings(h).await
}

fn assert_result(findings: &BTreeMap<String, Finding>, check: &str, result: &str) {
    assert_eq!(
        findings[check].result, result,
        "{check} is not {result}: {findings:#?}"
    );
}

/// `check` is red, its cause says `cause` and its fix says `fix`.
fn assert_red(findings: &BTreeMap<String, Finding>, check: &str, cause: &str, fix: &str) {
    assert_result(findings, check, "red");
    let finding = &findings[check];
    assert!(
        finding.cause.contains(cause),
        "{check} cause lacks {cause:?}: {finding:#?}"
    );
    assert!(
        finding.fix.contains(fix),
        "{check} fix lacks {fix:?}: {finding:#?}"
    );
}

#[tokio::test]
async fn every_check_is_green_with_the_working_setup() {
    let h = Harness::start().await;
    h.log_in().await;
    // From the footer, as a user would (the doctor is a page of its own: a page load).
    h.browser.click("footer#footer a[href='/doctor/']").await;
    let findings = findings(&h).await;
    for check in CHECKS {
        assert_result(&findings, check, "green");
    }
    assert!(
        findings["silent-callback"].cause.contains("with a code"),
        "{findings:#?}"
    );
    assert!(
        findings["cors"].cause.contains("invalid_grant"),
        "{findings:#?}"
    );
    assert!(
        findings["jwks"]
            .cause
            .contains("RS256, the algorithm of your id_token"),
        "{findings:#?}"
    );
    assert!(
        findings["clock-skew"]
            .cause
            .contains("This device's clock "),
        "{findings:#?}"
    );
    let progress = h
        .browser
        .find("#doctor-progress")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        findings["logout"]
            .cause
            .contains("/session/end by a redirect (GET)"),
        "{findings:#?}"
    );
    // Signed in with the local provider (it offers ES256 DPoP proofs): the tokens are bound.
    assert!(
        findings["dpop"]
            .cause
            .contains("DPoP is in use: this session's tokens are bound"),
        "{findings:#?}"
    );
    assert_eq!(progress, "Done: 10 green, 0 amber, 0 red.");
    // The probe's frame is gone, and the session was left as it was.
    assert!(h.browser.find_all("iframe").await.is_empty());
    h.open("/").await;
    h.browser.wait_for("#auth-status.signed-in").await;
    h.close().await;
}

#[tokio::test]
async fn an_unregistered_silent_url_is_red_and_names_the_url_to_add() {
    let h = Harness::builder()
        .provider_env("SILENT_REDIRECT", "0")
        .start()
        .await;
    let findings = run_doctor(&h).await;
    let silent_url = h.app.url("/silent/");
    assert_red(
        &findings,
        "silent-callback",
        "not registered",
        &format!("Register {silent_url} as a redirect URI of client \"oidc-renew-demo\""),
    );
    for check in ["config", "discovery", "jwks", "cors", "cross-site"] {
        assert_result(&findings, check, "green");
    }
    // Signed out: the skew is unknown.
    assert_result(&findings, "clock-skew", "amber");
    h.close().await;
}

#[tokio::test]
async fn a_provider_without_end_session_is_amber_at_the_logout_check() {
    let h = Harness::builder()
        .provider_env("END_SESSION", "0")
        .start()
        .await;
    let findings = run_doctor(&h).await;
    assert_result(&findings, "logout", "amber");
    let logout = &findings["logout"];
    assert!(
        logout.cause.contains("no end_session_endpoint") && logout.cause.contains("stays open"),
        "{findings:#?}"
    );
    for check in ["config", "discovery", "jwks", "cors", "silent-callback"] {
        assert_result(&findings, check, "green");
    }
    h.close().await;
}

#[tokio::test]
async fn a_wrong_client_id_is_red_and_says_to_fix_client_id() {
    let h = Harness::start().await;
    let mut config = h.app.config().unwrap();
    config["client_id"] = json!("not-this-app");
    h.app.set_config(config);
    let findings = run_doctor(&h).await;
    assert_red(
        &findings,
        "cors",
        "does not know client \"not-this-app\" (invalid_client)",
        "Set `client_id` in config.json",
    );
    assert_red(
        &findings,
        "silent-callback",
        "client \"not-this-app\" is unknown",
        "Set `client_id` in config.json",
    );
    for check in ["config", "discovery", "jwks"] {
        assert_result(&findings, check, "green");
    }
    h.close().await;
}

#[tokio::test]
async fn a_wrong_issuer_is_red_and_gives_the_exact_issuer() {
    let h = Harness::start().await;
    let mut config = h.app.config().unwrap();
    // The commonest mistake: a trailing slash the provider's issuer does not have. Discovery is
    // found at the same URL, but names another issuer.
    let issuer = h.provider.issuer().to_owned();
    config["issuer"] = json!(format!("{issuer}/"));
    h.app.set_config(config);
    let findings = run_doctor(&h).await;
    assert_red(
        &findings,
        "discovery",
        &format!("The provider's issuer is \"{issuer}\" but config.json says \"{issuer}/\""),
        &format!("Set `issuer` in config.json to \"{issuer}\" exactly"),
    );
    for check in ["jwks", "cors", "silent-callback"] {
        assert_result(&findings, check, "amber");
        assert!(
            findings[check].cause.contains("Not checked"),
            "{findings:#?}"
        );
    }
    assert_result(&findings, "config", "green");
    h.close().await;
}

#[tokio::test]
async fn a_token_endpoint_without_cors_for_the_app_is_red() {
    let h = Harness::builder()
        .provider_env("CORS_ORIGINS", "none")
        .start()
        .await;
    let findings = run_doctor(&h).await;
    let origin = h.app.origin();
    assert_red(
        &findings,
        "cors",
        &format!("while discovery on the same server answered: CORS does not allow {origin}"),
        &format!("Allow the origin {origin} for CORS"),
    );
    // The hidden frame needs no CORS: the silent URL still checks out.
    for check in [
        "config",
        "discovery",
        "jwks",
        "silent-callback",
        "cross-site",
    ] {
        assert_result(&findings, check, "green");
    }
    h.close().await;
}

#[tokio::test]
async fn the_doctor_runs_when_config_json_is_invalid() {
    let h = Harness::start().await;
    h.app
        .set_config(json!({"issuer": "ftp://localhost", "client_id": "oidc-renew-demo"}));
    h.open("/").await;
    h.browser.wait_for("#config-error").await;
    h.browser.click("a#config-error-doctor").await;
    let findings = findings(&h).await;
    assert_red(
        &findings,
        "config",
        "`issuer` must be an https URL",
        "Set `issuer` in config.json",
    );
    for check in CHECKS.iter().skip(1) {
        assert_result(&findings, check, "amber");
    }
    assert_eq!(
        h.browser.current_url().await,
        h.app.url("/doctor/"),
        "the doctor is the page, not the config error"
    );
    h.close().await;
}

#[tokio::test]
async fn leaving_the_doctor_mid_probe_frees_the_renewal_lock() {
    // Without the silent URL the probe lasts its fail-fast grace (1 s): time to leave mid-probe.
    let h = Harness::builder()
        .provider_env("SILENT_REDIRECT", "0")
        .start()
        .await;
    h.open("/doctor/").await;
    h.browser
        .wait_for("li.check[data-check=silent-callback][data-result=running]")
        .await;
    // Back to the app (the doctor's page goes, and the probe's frame with it).
    h.browser.click("main[data-page=doctor] a[href='/']").await;
    h.browser.wait_for("main[data-page=home]").await;
    let held = poll_until(Duration::from_secs(5), || async {
        let held = h
            .browser
            .eval_async("return (await navigator.locks.query()).held.length")
            .await;
        (held.as_u64() == Some(0)).then_some(())
    })
    .await;
    assert!(
        held.is_some(),
        "the renewal lock is still held after leaving the doctor"
    );
    assert!(h.browser.find_all("iframe").await.is_empty());
    h.close().await;
}

#[tokio::test]
async fn the_home_timeline_draws_each_renewal_as_it_happens() {
    // Renewal at two thirds of a 9 s token: every 6 s.
    let h = Harness::builder().token_ttl(9).start().await;
    h.log_in().await;
    h.browser.wait_for("svg#timeline rect.token.current").await;
    let count = |css: &'static str| {
        let browser = &h.browser;
        async move {
            let js = format!("return document.querySelectorAll('svg#timeline {css}').length");
            browser.eval(&js).await.as_u64().unwrap_or_default()
        }
    };
    // A bar for the first token and one per renewal, a renewal mark each, no failure.
    let drawn = poll_until(Duration::from_secs(30), || async {
        let (bars, renewals) = (count("rect.token").await, count(".renewal").await);
        (renewals >= 2 && bars == renewals + 1).then_some((bars, renewals))
    })
    .await;
    assert!(
        drawn.is_some(),
        "no two renewals drawn within 30 s: {}",
        h.browser
            .eval("return document.querySelector('svg#timeline')?.outerHTML ?? 'no timeline'")
            .await
    );
    assert_eq!(count(".failure").await, 0);
    h.close().await;
}
