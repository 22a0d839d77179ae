//! Where the browser engines differ, end to end (README, Browsers): third-party cookies in a
//! cross-site frame, and what that does to silent renewal with a provider on another site.
//!
//! Each test states what every engine does and fails if an engine changes its behaviour, so a new
//! browser version that lets the provider's cookie through (or stops partitioning) shows up here.

use std::time::Duration;

use serde_json::{json, Value};

use crate::fixtures::hostile::HostileServer;
use crate::fixtures::{poll_until, Browser, Engine, Harness};

/// Sets two cookies as a first party: one `SameSite=None; Secure` (what providers send over https:
/// Chromium and Firefox keep it on http://localhost, WebKit drops a Secure cookie over http) and one
/// `SameSite=None` without Secure (which Chromium and Firefox refuse, WebKit keeps).
const SET_FIRST_PARTY: &str = "
document.cookie = 'first_secure=1; SameSite=None; Secure; Path=/';
document.cookie = 'first_plain=1; SameSite=None; Path=/';
return document.cookie;";

/// In the frame: the cookies it sees, and those it sees after setting two of its own.
const IN_FRAME: &str = "
const before = document.cookie;
document.cookie = 'framed_secure=1; SameSite=None; Secure; Path=/';
document.cookie = 'framed_plain=1; SameSite=None; Path=/';
return { before, after: document.cookie };";

fn names(cookies: &Value) -> Vec<String> {
    let mut names: Vec<String> = cookies
        .as_str()
        .unwrap_or_default()
        .split(';')
        .filter_map(|pair| pair.split('=').next())
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .collect();
    names.sort();
    names
}

/// A site's cookies inside a frame on another site: no engine hands the frame the cookies the site
/// set as a first party. Chromium (as tested: Debian's 156, headless, fresh profile) and WebKit
/// with ITP block the frame's cookies outright, so it cannot set any either; Firefox partitions them
/// (Total Cookie Protection): the frame gets a cookie jar of its own, keyed by the top-level site,
/// which the site never sees as a first party.
#[tokio::test]
async fn a_cross_site_frame_never_gets_the_first_party_cookies_and_only_firefox_lets_it_keep_its_own(
) {
    let engine = Engine::current();
    let site = HostileServer::start().await;
    let browser = Browser::start().await;
    // The site as a first party: `localhost`.
    browser.goto(&site.url("/first")).await;
    let first = names(&browser.eval(SET_FIRST_PARTY).await);
    let kept = match engine {
        Engine::WebKit => vec!["first_plain"],
        Engine::Chromium | Engine::Firefox => vec!["first_secure"],
    };
    assert_eq!(first, kept, "{engine:?} as a first party");

    // The same site framed by another one: `127.0.0.1` (a different site, same server).
    let top = site.url("/top").replace("localhost", "127.0.0.1");
    browser.goto(&top).await;
    browser
        .eval_async_with(
            "const f = document.createElement('iframe'); f.id = 'framed'; f.src = args[0]; \
             await new Promise((resolve) => { f.onload = resolve; document.body.append(f); });",
            vec![json!(site.url("/framed"))],
        )
        .await;
    let frame = browser.find("iframe#framed").await;
    frame.enter_frame().await.expect("switch to the frame");
    let framed = browser.eval(IN_FRAME).await;
    browser
        .client()
        .enter_parent_frame()
        .await
        .expect("back to the page");
    assert_eq!(
        names(&framed["before"]),
        Vec::<String>::new(),
        "{engine:?}: the frame saw the first-party cookies"
    );
    let own = match engine {
        // Partitioned: the frame keeps what it sets (what Firefox keeps as a first party, too).
        Engine::Firefox => vec!["framed_secure"],
        // Blocked: nothing set, nothing sent.
        Engine::Chromium | Engine::WebKit => vec![],
    };
    assert_eq!(names(&framed["after"]), own, "{engine:?}: the frame's own");

    // Back as a first party: the frame's cookies are not the site's (partitioned, or never set).
    browser.goto(&site.url("/first")).await;
    let again = names(&browser.eval("return document.cookie").await);
    assert_eq!(again, kept, "{engine:?}: first party, after the frame");
    browser.close().await;
}

/// The consequence for silent renewal when the provider is on another site than the app (app on
/// `127.0.0.1`, provider on `localhost`): the sign-in (top-level redirects) works in every engine,
/// but the renewal frame reaches the provider without its session cookie, so the provider answers
/// `login_required`. The app stops renewing and asks the user to sign in again before the token
/// expires; the setup doctor's cross-site check is red: signed in, yet the probe got
/// `login_required`, so this browser keeps the provider's cookie out of the frame. The same in the
/// three engines as tested; what differs is why (blocked, or partitioned: see the test above).
///
/// The local provider's cookies are `SameSite=Lax`, which alone keeps them out of a cross-site
/// frame in every engine; real providers send `SameSite=None; Secure` over https, and the test
/// above shows that each engine keeps even those out.
#[tokio::test]
async fn with_a_cross_site_provider_renewal_gets_login_required_and_the_app_asks_to_sign_in_again()
{
    let engine = Engine::current();
    let h = Harness::builder().provider_cross_site().start().await;
    assert!(h.app.origin().starts_with("http://127.0.0.1:"));
    h.log_in().await;
    h.provider.reset_stats().await;
    h.renew_now().await;

    let banner = h
        .browser
        .wait_for_within("#session-banner", Duration::from_secs(20))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        banner.contains("sign in again"),
        "{engine:?} banner: {banner}"
    );
    let last = h.browser.find("#last-renewal").await.text().await.unwrap();
    assert!(last.contains("login_required"), "{engine:?}: {last}");
    // One prompt=none request reached the provider, without its cookie: no code, no token request.
    let stats = poll_until(Duration::from_secs(5), || async {
        let stats = h.provider.stats().await;
        (stats["authorize_prompt_none"].as_u64() >= Some(1)).then_some(stats)
    })
    .await
    .expect("the renewal's prompt=none request never reached the provider");
    assert_eq!(stats["token"], json!(0), "{engine:?}: {stats}");
    // Still signed in (the token is valid for minutes): the banner warns, nothing is lost yet.
    h.browser.wait_for("#auth-status.signed-in").await;

    // The doctor: the provider is cross-site (amber), and the silent probe came back with
    // login_required although the user is signed in.
    h.browser.click("footer#footer a[href='/doctor/']").await;
    h.browser
        .wait_for_within("#doctor[data-state=done]", Duration::from_secs(30))
        .await;
    let row = |check: &'static str| {
        let browser = &h.browser;
        async move {
            browser
                .eval_with(
                    "const li = document.querySelector(`li.check[data-check=\"${arguments[0]}\"]`); \
                     return [li.dataset.result, li.querySelector('.cause').textContent, \
                             li.querySelector('.fix')?.textContent ?? ''];",
                    vec![json!(check)],
                )
                .await
        }
    };
    let cross_site = row("cross-site").await;
    assert_eq!(cross_site[0], "red", "{engine:?}: {cross_site}");
    let cause = cross_site[1].as_str().unwrap();
    assert!(
        cause.contains("is on another site than this app (127.0.0.1)")
            && cause.contains("this browser keeps its cookies out of the hidden frame"),
        "{cross_site}"
    );
    assert!(
        cross_site[2].as_str().unwrap().contains("custom domain"),
        "{cross_site}"
    );
    let silent = row("silent-callback").await;
    assert!(
        silent[1].as_str().unwrap().contains("login_required")
            && silent[1]
                .as_str()
                .unwrap()
                .contains("did not see its cookie"),
        "{engine:?}: {silent}"
    );
    h.close().await;
}

/// A `message` listener added to the window while a message is being dispatched (by a capturing
/// listener of that message, or by anything its microtasks run, such as a renewal starting): Firefox
/// and WebKit hand it that message too (the DOM spec's separate capture and bubble passes at the
/// target), Chromium does not. The renewer judges such a message like any other (it is not from
/// its frame, which did not exist when it was sent); the hostile tests' monitor counts it per engine.
#[tokio::test]
async fn a_listener_added_while_a_message_is_dispatched_gets_it_in_firefox_and_webkit() {
    let engine = Engine::current();
    let site = HostileServer::start().await;
    let browser = Browser::start().await;
    browser.goto(&site.url("/")).await;
    let log = browser
        .eval_async(
            "const log = [];
             addEventListener('message', (e) => {
               log.push('captured ' + e.data);
               addEventListener('message', (late) => log.push('late listener got ' + late.data));
             }, { capture: true, once: true });
             postMessage('first', '*');
             await new Promise((resolve) => setTimeout(resolve, 50));
             postMessage('second', '*');
             await new Promise((resolve) => addEventListener('message', resolve, { once: true }));
             return log;",
        )
        .await;
    let log: Vec<String> = serde_json::from_value(log).unwrap();
    let expected: &[&str] = match engine {
        Engine::Chromium => &["captured first", "late listener got second"],
        Engine::Firefox | Engine::WebKit => &[
            "captured first",
            "late listener got first",
            "late listener got second",
        ],
    };
    assert_eq!(log, expected, "{engine:?}");
    browser.close().await;
}

/// localStorage of a frame from another origin of the same site (`localhost:<a>` framed by
/// `localhost:<b>`): Chromium and Firefox key storage by the top-level site, so the frame shares the
/// origin's first-party storage; WebKit keeps it apart by the top-level origin. An app framed by
/// another origin (the hostile tests' framed app) starts signed out in WebKit.
#[tokio::test]
async fn a_same_site_frame_shares_first_party_storage_except_in_webkit() {
    let engine = Engine::current();
    let (framed, top) = (HostileServer::start().await, HostileServer::start().await);
    let browser = Browser::start().await;
    browser.goto(&framed.url("/first")).await;
    browser
        .eval("localStorage.setItem('e2e-key', 'first party'); return true")
        .await;
    browser.goto(&top.url("/top")).await;
    browser
        .eval_async_with(
            "const f = document.createElement('iframe'); f.id = 'framed'; f.src = args[0]; \
             await new Promise((resolve) => { f.onload = resolve; document.body.append(f); });",
            vec![json!(framed.url("/framed"))],
        )
        .await;
    browser
        .find("iframe#framed")
        .await
        .enter_frame()
        .await
        .expect("switch to the frame");
    let seen = browser.eval("return localStorage.getItem('e2e-key')").await;
    let expected = match engine {
        Engine::Chromium | Engine::Firefox => json!("first party"),
        Engine::WebKit => Value::Null,
    };
    assert_eq!(seen, expected, "{engine:?}");
    browser.close().await;
}

/// A frame whose navigation is refused (nothing listens on the port, as when the provider is down):
/// Chromium shows its error page and fires the frame's `load` (the renewer then fails fast and the
/// client names a network failure); Firefox and WebKit fire no `load`, so the renewal ends by its
/// 10 s timeout there (`faults::provider_down_then_back_recovers_by_itself`). Both retry and recover.
#[tokio::test]
async fn a_refused_frame_fires_load_only_in_chromium() {
    let engine = Engine::current();
    let site = HostileServer::start().await;
    let closed = {
        let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).expect("bind");
        listener.local_addr().expect("address").port()
    };
    let browser = Browser::start().await;
    browser.goto(&site.url("/")).await;
    // The refused frame's `load`, or its absence: observed until 2 s after a sentinel frame (same
    // page, a server that answers) has loaded, which shows load events do fire.
    let events = browser
        .eval_async_with(
            "const seen = [];
             let sentinelAt = null;
             const frame = (src, name) => {
               const f = document.createElement('iframe'); f.src = src;
               f.addEventListener('load', () => {
                 seen.push(name);
                 if (name === 'sentinel') sentinelAt = performance.now();
               });
               document.body.append(f);
             };
             frame(args[0], 'refused');
             frame('/sentinel', 'sentinel');
             while (!(seen.includes('refused') && sentinelAt !== null)
                    && !(sentinelAt !== null && performance.now() - sentinelAt > 2000)) {
               await new Promise((resolve) => setTimeout(resolve, 50));
             }
             return seen.sort();",
            vec![json!(format!("http://localhost:{closed}/auth"))],
        )
        .await;
    let expected = match engine {
        Engine::Chromium => json!(["refused", "sentinel"]),
        Engine::Firefox | Engine::WebKit => json!(["sentinel"]),
    };
    assert_eq!(events, expected, "{engine:?}");
    browser.close().await;
}
