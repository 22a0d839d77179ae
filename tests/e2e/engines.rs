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
