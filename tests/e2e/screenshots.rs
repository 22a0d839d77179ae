//! Screenshots of the signed-in app and its session panel for the README, taken after a sign-in and
//! a silent renewal with short tokens. Also the place where the Content Security Policy is watched:
//! every `securitypolicyviolation` in the app's documents (the page and its renewal frames) is
//! recorded through the whole flow; with `E2E_HOST=nginx` that is the deploy template's policy.
//!
//! The PNGs are always written to `<target>/e2e-screenshots/`; with `E2E_SCREENSHOTS=1` they are also
//! copied to `docs/screenshots/` (so that ordinary runs leave the tree clean):
//!
//! ```text
//! E2E_SCREENSHOTS=1 cargo test -p e2e screenshots
//! ```

use std::path::PathBuf;
use std::time::Duration;

use serde_json::json;

use crate::fixtures::server::Host;
use crate::fixtures::{needs_chromium, poll_until, report, workspace_root, Harness};

const TTL_SECS: u64 = 12;
const WIDTH: u32 = 1100;
const HEIGHT: u32 = 800;
const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

#[tokio::test]
async fn screenshots_of_the_signed_in_app_and_its_session_panel_after_a_renewal() {
    if needs_chromium(
        "Emulation.setDeviceMetricsOverride sets the viewport; Page.addScriptToEvaluateOnNewDocument records CSP violations",
    ) {
        return;
    }
    let h = Harness::builder().token_ttl(TTL_SECS).start().await;
    // The viewport itself (a window size would include the browser's frame).
    h.browser
        .cdp(
            "Emulation.setDeviceMetricsOverride",
            json!({ "width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": false }),
        )
        .await;
    h.browser.record_csp_violations().await;
    h.log_in().await;

    // At least one silent renewal, finished (not in flight) and successful.
    let renewed = poll_until(Duration::from_secs(3 * TTL_SECS), || async {
        let state = h
            .browser
            .eval(
                "return {count: Number(document.querySelector('#renewal-count')?.textContent),
                         last: document.querySelector('#last-renewal')?.textContent || '',
                         next: document.querySelector('#next-renewal')?.textContent || '',
                         frames: document.querySelectorAll('.silent-renewal-frame').length}",
            )
            .await;
        let done = state["count"].as_u64() >= Some(1)
            && state["last"].as_str()?.starts_with("succeeded")
            && state["next"].as_str()?.contains("(in ")
            && state["frames"] == 0;
        done.then_some(state)
    })
    .await;
    let Some(state) = renewed else {
        panic!(
            "no finished renewal within {}s: {}\n{}",
            3 * TTL_SECS,
            h.browser.body_text().await,
            h.provider.output()
        );
    };
    let kinds = h
        .browser
        .eval("return Array.from(document.querySelectorAll('#event-log li'), (li) => li.dataset.kind)")
        .await;
    assert!(
        kinds
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k == "renewal-succeeded"),
        "the event log shows the renewal: {kinds} ({state})"
    );

    // The policy refused nothing, in the page or in its renewal frames.
    let violations = h.browser.csp_violations().await;
    assert_eq!(
        violations,
        json!([]),
        "CSP violations ({:?} host)\n{}",
        h.app.host(),
        h.app.output()
    );
    if h.app.host() == Host::Nginx {
        let csp = crate::fixtures::http::get(&h.app.url("/"))
            .await
            .header("content-security-policy")
            .unwrap_or_default()
            .to_owned();
        let silent_csp = crate::fixtures::http::get(&h.app.url("/silent/"))
            .await
            .header("content-security-policy")
            .unwrap_or_default()
            .to_owned();
        report::record(
            "csp",
            "sign_in_and_renewal",
            json!({"violations": 0, "app_policy": csp, "silent_policy": silent_csp}),
        );
    }

    let page = h.browser.client().screenshot().await.expect("screenshot");
    let panel = h
        .browser
        .find("#session-panel")
        .await
        .screenshot()
        .await
        .expect("screenshot of #session-panel");
    for png in [&page, &panel] {
        assert!(png.starts_with(PNG_SIGNATURE), "not a PNG");
    }
    save("signed-in.png", &page);
    save("session-panel.png", &panel);
    h.close().await;
}

/// Writes `<target>/e2e-screenshots/<name>`, and `docs/screenshots/<name>` when `E2E_SCREENSHOTS=1`.
fn save(name: &str, png: &[u8]) {
    // A relative CARGO_TARGET_DIR is relative to where cargo ran: the workspace root here.
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(|dir| workspace_root().join(PathBuf::from(dir)))
        .unwrap_or_else(|| workspace_root().join("target"));
    let mut dirs = vec![target.join("e2e-screenshots")];
    if std::env::var("E2E_SCREENSHOTS").as_deref() == Ok("1") {
        dirs.push(workspace_root().join("docs/screenshots"));
    }
    for dir in dirs {
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
        let file = dir.join(name);
        std::fs::write(&file, png).unwrap_or_else(|e| panic!("write {}: {e}", file.display()));
        eprintln!("screenshot: {}", file.display());
    }
}
