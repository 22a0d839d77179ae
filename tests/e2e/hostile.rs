//! Hostile messages, end to end: look-alike silent-renewal messages posted to the running app from
//! another origin (a page that opens or frames the app), from other frames of the app's own origin,
//! replays of a captured good answer, and messages of every wrong shape, all while real renewals run.
//!
//! How each test counts:
//! - The renewer listens only while a renewal is pending (its hidden `.silent-renewal-frame` is in the
//!   document exactly as long as its `message` listener is attached), so only messages that arrive
//!   then can be rejected by it. A monitor installed in the app's window ([`MONITOR`]) sees every
//!   message first (a capturing listener) and sorts it: the real answer (from the renewal frame, at the
//!   app's origin, while the frame shows `/silent/`), a forged one the renewer hears (by the reason
//!   it must give), or one nobody listens for.
//! - Every forged message the renewer heard must show up in the panel's ignored counter (exactly: one
//!   accepted forgery would end a renewal, and the real answer that follows would go unheard), each
//!   renewal must be one real answer, one authorize and one token request at the provider (a forged
//!   code accepted would be one more token request), and the stored access token changes once per
//!   renewal and never between them.
//! - To widen the window in which the renewer listens, the tests hold up the renewal's requests: in
//!   Chromium with network latency (DevTools `Network.emulateNetworkConditions`), in Firefox and WebKit,
//!   which have no DevTools endpoint, by the provider holding its answers to `/auth` and `/token` (a
//!   `delay` fault). For messages that must reach the decoder, they post from the renewal frame's own
//!   initial `about:blank` document (same origin, the frame's own window) while its request to the
//!   provider is held up: in Chromium from an isolated world (DevTools), elsewhere through the
//!   document's own `eval`, called by the page (the in-process host has no CSP to forbid it).
//!
//! Hostile DPoP answers (#15, the last test): nonce challenges whose `DPoP-Nonce` is no nonce, that
//! never end, and refusals of the proof, from the token endpoint and the API (the provider's
//! `use_dpop_nonce` and `invalid_dpop_proof` faults): one retry at most, never with a hostile nonce.

use std::collections::BTreeMap;
use std::time::Duration;

use fantoccini::wd::WindowHandle;
use serde_json::{json, Value};

use crate::fixtures::hostile::HostileServer;
use crate::fixtures::server::Host;
use crate::fixtures::{needs_chromium, poll_until, report, Engine, Harness, SESSION_KEY};

/// Long enough that only the Renew-now button renews during a test.
const TTL_SECS: u64 = 300;
const TYPE: &str = "oidc-silent-callback";
/// Latency added to every request while renewals run: a renewal takes about a second, and the
/// renewer listens all that time.
const LATENCY_MS: u64 = 150;

/// Installed in the app's window (or frame): sorts every message before the renewer sees it. Run
/// through [`install_monitor`], which says whether the engine hands a message to a listener added
/// while that message is being dispatched.
///
/// A renewal can start while a message is being dispatched (its listener is added between the
/// capturing and the bubbling listeners of that very message). Firefox and WebKit then hand the
/// message to the renewer too; Chromium does not (`engines::a_listener_added_while_a_message_is_dispatched_gets_it_in_firefox_and_webkit`).
/// A second, bubbling listener of the monitor sees such a message (no frame when it was captured, a
/// frame now) and counts it as heard where the engine delivers it.
const MONITOR: &str = r#"
if (!window.__e2eHostile) {
  const m = window.__e2eHostile = { real: 0, captured: [], heard: {}, unheard: 0, startedDuring: 0 };
  const lateListenersHear = arguments[0];
  let captured = null;
  const sort = (event, frame) => {
    const own = frame !== null && event.source === frame.contentWindow;
    const key = event.origin !== self.origin ? 'WrongOrigin' : own ? 'own' : 'WrongSource';
    m.heard[key] = (m.heard[key] || 0) + 1;
  };
  window.addEventListener('message', (event) => {
    const frame = document.querySelector('.silent-renewal-frame');
    captured = { event, frame };
    const own = frame !== null && event.source === frame.contentWindow;
    let path = null;
    if (own) { try { path = frame.contentWindow.location.pathname; } catch (_) { path = null; } }
    if (own && event.origin === self.origin && path === '/silent/') {
      m.real += 1;
      m.captured.push(event.data);
      return;
    }
    if (frame === null) { m.unheard += 1; return; }
    sort(event, frame);
  }, true);
  window.addEventListener('message', (event) => {
    const frame = document.querySelector('.silent-renewal-frame');
    if (captured === null || captured.event !== event || captured.frame !== null || frame === null) return;
    m.startedDuring += 1;
    if (lateListenersHear) { m.unheard -= 1; sort(event, frame); }
  });
}
return true;
"#;

/// Installs [`MONITOR`] in the current document.
async fn install_monitor(h: &Harness) {
    let late_listeners_hear = h.browser.engine() != Engine::Chromium;
    h.browser
        .eval_with(MONITOR, vec![json!(late_listeners_hear)])
        .await;
}

/// Defines `window.__e2eForged(i)` in the realm it runs in: look-alikes of the silent page's
/// message, with forged codes and states.
const FORGED: &str = r#"
const T = 'oidc-silent-callback';
window.__e2eForged = (i) => [
  { type: T, params: `code=FORGED-${i}&state=FORGED-${i}` },
  { type: T, params: `code=FORGED-${i}` },
  { type: T, params: `state=FORGED-${i}&code=FORGED-${i}&iss=http%3A%2F%2Flocalhost` },
  { type: T, params: `error=login_required&state=FORGED-${i}` },
  { type: T, params: `access_token=FORGED-${i}&token_type=Bearer&state=FORGED-${i}` },
  { type: T, error: 'no_response' },
];
"#;

/// Starts posting in the realm it runs in: every 5 ms, each message of `make(i)` to `target()` with
/// each target origin of `origins`. `window.__e2eFlood` counts what was posted.
const FLOOD: &str = r#"
window.__e2eStartFlood = (target, make, origins) => {
  const flood = window.__e2eFlood = { sent: 0, failed: 0, i: 0 };
  flood.timer = setInterval(() => {
    flood.i += 1;
    for (const message of make(flood.i)) {
      for (const origin of origins) {
        try { target().postMessage(message, origin); flood.sent += 1; } catch (_) { flood.failed += 1; }
      }
    }
  }, 5);
};
window.__e2eStopFlood = () => {
  const flood = window.__e2eFlood;
  if (!flood) return 0;
  clearInterval(flood.timer);
  return flood.sent;
};
"#;

/// What the monitor counted.
#[derive(Debug, Default)]
struct Monitor {
    real: u64,
    /// By the reason the renewer must give (`WrongOrigin`, `WrongSource`), or `own` (the renewal
    /// frame's own window at the app's origin: decoded, then rejected by shape or state).
    heard: BTreeMap<String, u64>,
}

impl Monitor {
    fn heard_total(&self) -> u64 {
        self.heard.values().sum()
    }

    fn heard(&self, key: &str) -> u64 {
        self.heard.get(key).copied().unwrap_or(0)
    }
}

async fn start() -> Harness {
    Harness::builder().token_ttl(TTL_SECS).start().await
}

async fn eval_in(h: &Harness, js: &str) -> Value {
    h.browser.eval(js).await
}

async fn monitor(h: &Harness) -> Monitor {
    let m = eval_in(
        h,
        "const m = window.__e2eHostile; return { real: m.real, heard: m.heard };",
    )
    .await;
    Monitor {
        real: m["real"].as_u64().unwrap(),
        heard: serde_json::from_value(m["heard"].clone()).unwrap(),
    }
}

async fn stored_token(h: &Harness) -> String {
    let stored = eval_in(h, &format!("return localStorage.getItem('{SESSION_KEY}')")).await;
    let stored: Value = serde_json::from_str(stored.as_str().expect("a stored session")).unwrap();
    stored["access_token"].as_str().unwrap().to_owned()
}

/// The renewal counter once it has passed `before` and no renewal frame is left (within 15 s), or
/// `None`.
async fn renewed_after(h: &Harness, before: u64) -> Option<u64> {
    poll_until(Duration::from_secs(15), || async {
        let count = number(h, "#renewal-count").await;
        let idle = h.browser.find_all(".silent-renewal-frame").await.is_empty();
        (count > before && idle).then_some(count)
    })
    .await
}

async fn number(h: &Harness, css: &str) -> u64 {
    let text = h.browser.find(css).await.text().await.unwrap();
    text.trim()
        .parse()
        .unwrap_or_else(|_| panic!("`{css}` is not a number: {text:?}"))
}

/// Holds up the renewal's requests by `ms` (0: not at all). Chromium: network latency for every
/// request of the current window's page. Elsewhere: the provider holds its answers to the renewal's
/// requests, `/auth` (the frame's navigation) and `/token`.
async fn latency(h: &Harness, ms: u64) {
    if h.browser.engine() == Engine::Chromium {
        h.browser.cdp("Network.enable", json!({})).await;
        h.browser
            .cdp(
                "Network.emulateNetworkConditions",
                json!({"offline": false, "latency": ms, "downloadThroughput": -1, "uploadThroughput": -1}),
            )
            .await;
        return;
    }
    h.provider.clear_faults().await;
    if ms > 0 {
        for path in ["/auth", "/token"] {
            h.provider
                .inject(json!({"path": path, "kind": "delay", "delay_ms": ms}))
                .await;
        }
    }
}

/// Outside Chromium, the nginx host's CSP (no `eval`) and its refusal to be framed are observed with
/// DevTools only: those tests return at once there (`true`), with the reason printed.
fn needs_chromium_on_nginx(what: &str) -> bool {
    Host::from_env() == Host::Nginx && needs_chromium(what)
}

/// The panel's texts, for failure messages.
async fn panel(h: &Harness) -> String {
    let text = eval_in(
        h,
        "const p = document.querySelector('#session-panel'); return p ? p.innerText : document.body.innerText",
    )
    .await;
    text.as_str().unwrap_or_default().to_owned()
}

/// Presses Renew now `times` times, each after the last renewal succeeded; checks that the stored
/// token was left alone between renewals and changed by each. Returns the last token.
async fn renew(h: &Harness, times: u64, mut token: String) -> String {
    for _ in 0..times {
        assert_eq!(
            stored_token(h).await,
            token,
            "the session changed without a renewal"
        );
        let before = number(h, "#renewal-count").await;
        h.renew_now().await;
        assert_eq!(
            renewed_after(h, before).await,
            Some(before + 1),
            "renewal {} did not succeed; panel:\n{}\n{}",
            before + 1,
            panel(h).await,
            h.provider.output()
        );
        let renewed = stored_token(h).await;
        assert_ne!(renewed, token, "a renewal kept the old token");
        token = renewed;
    }
    token
}

/// After the floods stopped and the last renewal ended: the renewer rejected exactly what it heard,
/// every renewal was one real answer and one code exchange, and the app still works.
async fn check_rejected(h: &Harness, heard: &Monitor, renewals: u64) -> u64 {
    let ignored = poll_until(Duration::from_secs(5), || async {
        let shown = number(h, "#ignored-count").await;
        (shown == heard.heard_total()).then_some(shown)
    })
    .await;
    assert_eq!(
        ignored,
        Some(heard.heard_total()),
        "ignored messages shown vs forged messages heard ({heard:?}); panel:\n{}",
        panel(h).await
    );
    assert_eq!(heard.real, renewals, "real answers vs renewals: {heard:?}");
    assert_eq!(number(h, "#renewal-count").await, renewals);
    let last = h.browser.find("#last-renewal").await.text().await.unwrap();
    assert!(last.starts_with("succeeded"), "last renewal: {last}");
    let stats = h.provider.stats().await;
    assert_eq!(
        (
            stats["token"].as_u64(),
            stats["authorize_prompt_none"].as_u64()
        ),
        (Some(renewals), Some(renewals)),
        "token and silent authorize requests vs renewals: {stats}"
    );
    ignored.unwrap()
}

/// The reasons in the visible event log's ignored entries (the newest 20 entries).
async fn logged_reasons(h: &Harness) -> Vec<String> {
    let reasons = eval_in(
        h,
        "return Array.from(document.querySelectorAll('#event-log li[data-kind=\"message-ignored\"]'), \
         (li) => li.textContent.replace(li.querySelector('.repeat')?.textContent ?? '', '') \
         .split(' — ').pop())",
    )
    .await;
    serde_json::from_value(reasons).unwrap()
}

/// The API accepts the session: the app keeps working.
async fn api_works(h: &Harness) {
    assert_eq!(h.call_api().await, "HTTP 200");
}

async fn signed_in(h: &Harness) {
    h.browser.wait_for("#auth-status.signed-in").await;
    h.browser.wait_for("#session-panel").await;
}

/// Where the app runs in the cross-origin test.
#[derive(Clone)]
enum AppAt {
    /// A window the hostile page opened.
    Popup(WindowHandle),
    /// An iframe of the hostile page (its window handle).
    Frame(WindowHandle),
}

impl AppAt {
    /// Points WebDriver at the app's document.
    async fn enter(&self, h: &Harness) {
        let client = h.browser.client();
        match self {
            AppAt::Popup(window) => client.switch_to_window(window.clone()).await.unwrap(),
            AppAt::Frame(window) => {
                client.switch_to_window(window.clone()).await.unwrap();
                h.browser
                    .find("iframe#app")
                    .await
                    .enter_frame()
                    .await
                    .unwrap();
            }
        }
    }

    fn name(&self) -> &'static str {
        match self {
            AppAt::Popup(_) => "popup",
            AppAt::Frame(_) => "frame",
        }
    }
}

/// The app opened (`window.open`) or framed by a page on another origin that posts look-alike messages
/// to it the whole time (`targetOrigin` `*` and the app's origin) while it renews three times.
#[tokio::test]
async fn another_origin_posting_look_alikes_is_ignored_while_the_app_renews() {
    if needs_chromium_on_nginx("Page.getFrameTree shows the error page of the frame nginx refused")
    {
        return;
    }
    let h = start().await;
    h.log_in().await;
    let mut token = stored_token(&h).await;
    let hostile = HostileServer::start().await;
    let client = h.browser.client();
    let hostile_window = client.window().await.unwrap();
    h.browser.goto(&hostile.url("/")).await;
    h.browser.wait_for("#hostile").await;
    let app_url = h.app.url("/");
    let app_origin = h.app.origin();
    let mut figures = json!({});

    // 1. A popup.
    let before: Vec<WindowHandle> = client.windows().await.unwrap();
    // WebKit, like Safari, blocks a popup that a script opens on its own: there it is opened from a
    // click (a user gesture). A window of its own (`width`, `height`), not a tab: Firefox throttles
    // the timers of a background tab to one a second, and the flood below would all but stop.
    if h.browser.engine() == Engine::WebKit {
        h.browser
            .eval_with(
                "const b = document.createElement('button'); b.id = 'open-app'; b.textContent = 'Open'; \
                 b.onclick = () => { window.__app = window.open(arguments[0], 'app', 'width=800,height=600'); }; \
                 document.body.append(b); return true",
                vec![json!(app_url)],
            )
            .await;
        h.browser.click("button#open-app").await;
    } else {
        h.browser
            .eval_with(
                "window.__app = window.open(arguments[0], 'app', 'width=800,height=600'); return window.__app !== null",
                vec![json!(app_url)],
            )
            .await;
    }
    let popup = poll_until(Duration::from_secs(5), || async {
        let windows = client.windows().await.ok()?;
        windows.into_iter().find(|w| !before.contains(w))
    })
    .await
    .expect("window.open opened no window");
    let mut places = vec![AppAt::Popup(popup)];

    // 2. A frame: allowed by the in-process server, refused by nginx (`frame-ancestors 'none'`).
    client
        .switch_to_window(hostile_window.clone())
        .await
        .unwrap();
    h.browser
        .eval_with(
            "const f = document.createElement('iframe'); f.id = 'app'; f.src = arguments[0]; \
             f.width = 800; f.height = 600; document.body.append(f); return true",
            vec![json!(app_url)],
        )
        .await;
    match h.app.host() {
        Host::InProcess => places.push(AppAt::Frame(hostile_window.clone())),
        Host::Nginx => {
            // The frame's document is not the app: Chromium shows its error page instead.
            let tree = poll_until(Duration::from_secs(5), || async {
                let tree = h.browser.cdp("Page.getFrameTree", json!({})).await;
                let child = tree["frameTree"]["childFrames"][0]["frame"].clone();
                child["unreachableUrl"].is_string().then_some(child)
            })
            .await;
            let child = tree.expect("nginx let the app be framed by another origin");
            assert!(
                child["unreachableUrl"]
                    .as_str()
                    .unwrap()
                    .starts_with(&app_origin),
                "{child}"
            );
            figures["framing_refused"] = json!(true);
        }
    }

    let mut total_sent = 0;
    let mut total_heard = Monitor::default();
    let mut total_rejected = 0;
    h.provider.reset_stats().await;
    for place in &places {
        // WebKit keeps a frame's storage apart by the top-level origin, even on the same site
        // (`engines::` shows it): the framed app starts signed out. It gets the session the app
        // holds as a first party (the popup, where WebDriver still is), as if the user had signed in
        // there too.
        let seed = if matches!(place, AppAt::Frame(_)) && h.browser.engine() == Engine::WebKit {
            let session = h.stored_session_text().await;
            Some(json!(session.expect("no session in the popup")))
        } else {
            None
        };
        place.enter(&h).await;
        if let Some(session) = seed {
            h.browser
                .eval_with(
                    "localStorage.setItem(arguments[0], arguments[1]); location.reload(); return true",
                    vec![json!(SESSION_KEY), session],
                )
                .await;
        }
        signed_in(&h).await;
        install_monitor(&h).await;
        // The renewals of the earlier place count at the provider too.
        latency(&h, LATENCY_MS).await;

        client
            .switch_to_window(hostile_window.clone())
            .await
            .unwrap();
        let target = match place {
            AppAt::Popup(_) => "() => window.__app",
            AppAt::Frame(_) => "() => document.querySelector('iframe#app').contentWindow",
        };
        eval_in(&h, FORGED).await;
        eval_in(&h, FLOOD).await;
        h.browser
            .eval_with(
                &format!(
                    "window.__e2eStartFlood({target}, window.__e2eForged, ['*', arguments[0]]); return true"
                ),
                vec![json!(app_origin)],
            )
            .await;

        place.enter(&h).await;
        token = renew(&h, 3, token).await;

        client
            .switch_to_window(hostile_window.clone())
            .await
            .unwrap();
        let sent = eval_in(&h, "return window.__e2eStopFlood()")
            .await
            .as_u64()
            .unwrap();
        place.enter(&h).await;
        let heard = monitor(&h).await;
        assert_eq!(
            heard.heard_total(),
            heard.heard("WrongOrigin"),
            "every message the {} heard came from another origin: {heard:?}",
            place.name()
        );
        assert!(
            heard.heard_total() >= 3,
            "the {} heard too few forged messages to tell: {heard:?} of {sent} sent",
            place.name()
        );
        let rejected = check_rejected(&h, &heard, 3).await;
        let reasons = logged_reasons(&h).await;
        assert!(
            !reasons.is_empty() && reasons.iter().all(|r| r == "WrongOrigin"),
            "{reasons:?}"
        );
        api_works(&h).await;
        figures[place.name()] = json!({
            "forged_sent": sent,
            "forged_heard": heard.heard_total(),
            "forged_rejected": rejected,
            "renewals": 3,
        });
        total_sent += sent;
        total_rejected += rejected;
        for (key, n) in heard.heard {
            *total_heard.heard.entry(key).or_default() += n;
        }
        // The popup's counters start again in the frame (another page).
        h.provider.reset_stats().await;
    }
    figures["forged_sent"] = json!(total_sent);
    figures["forged_rejected"] = json!(total_rejected);
    figures["accepted"] = json!(0);
    figures["host"] = json!(format!("{:?}", h.app.host()));
    report::record(
        "hostile",
        "another_origin_posting_look_alikes_is_ignored_while_the_app_renews",
        figures,
    );
    h.close().await;
}

/// The panel's ignored counts by reason (`#ignored-reasons`).
async fn ignored_by_reason(h: &Harness) -> BTreeMap<String, u64> {
    let shown = eval_in(
        h,
        "const out = {}; for (const s of document.querySelectorAll('#ignored-reasons .ignored-reason')) \
         { out[s.dataset.reason] = Number(s.textContent.trim().split(' ').pop()); } return out;",
    )
    .await;
    serde_json::from_value(shown).unwrap()
}

/// Adds a named same-origin iframe to the app's page: `about:blank`, a `srcdoc` document, or the silent
/// page without parameters (it posts its own `no_response` message when it loads).
async fn add_frame(h: &Harness, name: &str, kind: &str) {
    h.browser
        .eval_with(
            "const f = document.createElement('iframe'); f.name = arguments[0]; \
             if (arguments[1] === 'srcdoc') f.srcdoc = '<p>another frame</p>'; \
             if (arguments[1] === 'silent') f.src = '/silent/'; \
             document.body.append(f); return true",
            vec![json!(name), json!(kind)],
        )
        .await;
    h.browser
        .wait_until(
            "the extra frame loaded",
            &format!(
                "const f = document.querySelector('iframe[name=\"{name}\"]'); \
                 return f !== null && f.contentDocument !== null && f.contentDocument.readyState === 'complete' \
                 && (f.getAttribute('src') === null || f.contentWindow.location.pathname === '/silent/')"
            ),
        )
        .await;
}

/// Runs `js` inside the named frame of the app's page (its own realm: what it posts comes from it).
async fn in_frame(h: &Harness, name: &str, js: &str) -> Value {
    h.browser
        .find(&format!("iframe[name=\"{name}\"]"))
        .await
        .enter_frame()
        .await
        .unwrap();
    let value = h.browser.eval(js).await;
    h.browser.client().enter_parent_frame().await.unwrap();
    value
}

const EXTRA_FRAMES: [(&str, &str); 3] = [
    ("e2e-blank", "blank"),
    ("e2e-srcdoc", "srcdoc"),
    ("e2e-silent", "silent"),
];

/// Frames of the app's own origin (and the page itself) post look-alikes with forged, missing or
/// wrong state while the app renews three times: all rejected as coming from another window.
#[tokio::test]
async fn same_origin_frames_posting_wrong_or_missing_state_are_ignored() {
    let h = start().await;
    h.log_in().await;
    let token = stored_token(&h).await;
    install_monitor(&h).await;
    for (name, kind) in EXTRA_FRAMES {
        add_frame(&h, name, kind).await;
    }
    latency(&h, LATENCY_MS).await;
    h.provider.reset_stats().await;
    let start_flood = format!(
        "{FORGED}{FLOOD}window.__e2eStartFlood(() => parent, window.__e2eForged, ['*', self.origin]); return true"
    );
    for (name, _) in EXTRA_FRAMES {
        in_frame(&h, name, &start_flood).await;
    }
    // The page itself (`parent` is the page's own window at the top).
    eval_in(&h, &start_flood).await;

    renew(&h, 3, token).await;

    let mut sent = 0;
    for (name, _) in EXTRA_FRAMES {
        sent += in_frame(&h, name, "return window.__e2eStopFlood()")
            .await
            .as_u64()
            .unwrap();
    }
    sent += eval_in(&h, "return window.__e2eStopFlood()")
        .await
        .as_u64()
        .unwrap();
    let heard = monitor(&h).await;
    assert_eq!(
        heard.heard_total(),
        heard.heard("WrongSource"),
        "every forged message came from another window of the app's origin: {heard:?}"
    );
    assert!(heard.heard_total() >= 3, "too few heard: {heard:?}");
    let rejected = check_rejected(&h, &heard, 3).await;
    let by_reason = ignored_by_reason(&h).await;
    assert_eq!(
        by_reason,
        BTreeMap::from([("WrongSource".to_owned(), rejected)]),
        "panel: {}",
        panel(&h).await
    );
    api_works(&h).await;
    report::record(
        "hostile",
        "same_origin_frames_posting_wrong_or_missing_state_are_ignored",
        json!({
            "forged_sent": sent,
            "forged_heard": heard.heard_total(),
            "forged_rejected": rejected,
            "accepted": 0,
            "renewals": 3,
            "frames": EXTRA_FRAMES.len() + 1,
            "host": format!("{:?}", h.app.host()),
        }),
    );
    h.close().await;
}

/// Latency long enough to act while the renewal frame's request to the provider is held up.
const HOLD_MS: u64 = 2_000;

/// Presses Renew now with the network held up, runs `js` (an expression) in the renewal frame's own
/// initial `about:blank` document (same origin, the frame's own window: what it posts reaches the
/// renewer's decoder), then lets the renewal finish. Returns what `js` evaluated to.
async fn from_the_renewal_frame(h: &Harness, js: &str) -> Value {
    let before = number(h, "#renewal-count").await;
    latency(h, HOLD_MS).await;
    h.renew_now().await;
    h.browser.wait_for(".silent-renewal-frame").await;
    let value = in_frame_document(h, js).await;
    latency(h, LATENCY_MS).await;
    assert_eq!(
        renewed_after(h, before).await,
        Some(before + 1),
        "the renewal did not succeed; panel:\n{}",
        panel(h).await
    );
    value
}

/// Runs `js` in the renewal frame's initial document (which must still be `about:blank`).
async fn in_frame_document(h: &Harness, js: &str) -> Value {
    if h.browser.engine() != Engine::Chromium {
        // The frame's initial document has the page's origin: the page runs `js` in the frame's own
        // realm through the frame's `eval` (WebKitWebDriver cannot switch to a frame whose first
        // navigation is still pending).
        return h
            .browser
            .eval_with(
                "const frame = document.querySelector('.silent-renewal-frame').contentWindow; \
                 if (frame.location.href !== 'about:blank') { \
                   throw new Error('the renewal frame left its initial document already: ' + frame.location.href); } \
                 return frame.eval(arguments[0]);",
                vec![json!(js)],
            )
            .await;
    }
    let tree = h.browser.cdp("Page.getFrameTree", json!({})).await;
    let frames = tree["frameTree"]["childFrames"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let renewal: Vec<&Value> = frames
        .iter()
        .map(|child| &child["frame"])
        .filter(|frame| frame["name"].as_str().unwrap_or_default().is_empty())
        .collect();
    assert_eq!(renewal.len(), 1, "one renewal frame: {tree}");
    // The initial empty document reports no URL; `about:blank` is the same document.
    let url = renewal[0]["url"].as_str().unwrap_or_default();
    assert!(
        url.is_empty() || url == "about:blank",
        "the renewal frame left its initial document already (the latency did not hold it): {tree}"
    );
    let world = h
        .browser
        .cdp(
            "Page.createIsolatedWorld",
            json!({"frameId": renewal[0]["id"], "worldName": "e2e-hostile"}),
        )
        .await;
    let result = h
        .browser
        .cdp(
            "Runtime.evaluate",
            json!({
                "expression": js,
                "contextId": world["executionContextId"],
                "returnByValue": true,
            }),
        )
        .await;
    assert!(result.get("exceptionDetails").is_none(), "{result}");
    result["result"]["value"].clone()
}

/// A captured good answer of one renewal, posted again during the next one: from the page itself, from
/// another same-origin frame, and through the new renewal frame's own window (right origin, right
/// window, stale state). All rejected; the next renewal succeeds with its own answer.
#[tokio::test]
async fn a_replayed_good_answer_is_ignored() {
    if needs_chromium_on_nginx("Runtime.evaluate in an isolated world posts from the renewal frame's initial document under the deploy CSP") {
        return;
    }
    let h = start().await;
    h.log_in().await;
    let token = stored_token(&h).await;
    install_monitor(&h).await;
    add_frame(&h, "e2e-replay", "blank").await;
    latency(&h, LATENCY_MS).await;
    h.provider.reset_stats().await;
    renew(&h, 1, token).await;
    let captured = eval_in(&h, "return window.__e2eHostile.captured[0]").await;
    assert_eq!(captured["type"], TYPE, "captured: {captured}");
    let params = captured["params"].as_str().unwrap_or_default();
    assert!(
        params.contains("code=") && params.contains("state="),
        "captured: {captured}"
    );

    // Replays from the page and from the other frame, every 5 ms.
    let replay = |target: &str| {
        format!(
            "{FLOOD}const good = arguments[0]; \
             window.__e2eStartFlood(() => {target}, () => [good], ['*', self.origin]); return true"
        )
    };
    h.browser
        .eval_with(&replay("window"), vec![captured.clone()])
        .await;
    h.browser
        .find("iframe[name=\"e2e-replay\"]")
        .await
        .enter_frame()
        .await
        .unwrap();
    h.browser
        .eval_with(&replay("parent"), vec![captured.clone()])
        .await;
    h.browser.client().enter_parent_frame().await.unwrap();

    // The next renewal, with the captured answer posted through its own frame too.
    const OWN: u64 = 5;
    let own_js = format!(
        "(() => {{ const good = {captured}; for (let i = 0; i < {OWN}; i++) parent.postMessage(good, '*'); return {OWN}; }})()"
    );
    let posted_own = from_the_renewal_frame(&h, &own_js).await.as_u64().unwrap();

    let mut sent = posted_own;
    sent += eval_in(&h, "return window.__e2eStopFlood()")
        .await
        .as_u64()
        .unwrap();
    sent += in_frame(&h, "e2e-replay", "return window.__e2eStopFlood()")
        .await
        .as_u64()
        .unwrap();
    let heard = monitor(&h).await;
    assert_eq!(heard.heard("own"), posted_own, "{heard:?}");
    assert_eq!(heard.heard("WrongOrigin"), 0, "{heard:?}");
    assert!(heard.heard("WrongSource") >= 1, "{heard:?}");
    let rejected = check_rejected(&h, &heard, 2).await;
    let by_reason = ignored_by_reason(&h).await;
    assert_eq!(
        by_reason,
        BTreeMap::from([
            ("WrongSource".to_owned(), heard.heard("WrongSource")),
            ("WrongState".to_owned(), posted_own),
        ]),
        "panel: {}",
        panel(&h).await
    );
    api_works(&h).await;
    report::record(
        "hostile",
        "a_replayed_good_answer_is_ignored",
        json!({
            "forged_sent": sent,
            "forged_heard": heard.heard_total(),
            "forged_rejected": rejected,
            "accepted": 0,
            "replayed_through_own_frame": posted_own,
            "renewals": 2,
            "host": format!("{:?}", h.app.host()),
        }),
    );
    h.close().await;
}

/// Defines `SHAPES`: `[expected reason, message]` pairs of every wrong shape, as the renewer must
/// judge them when they come from its own frame at the app's origin.
const SHAPES: &str = r#"
const T = 'oidc-silent-callback';
const deep = (n) => { let o = { leaf: 'x' }; for (let i = 0; i < n; i++) o = { o, a: [o, i] }; return o; };
const big = 'A'.repeat(1 << 20);
const SHAPES = [
  ['Foreign', null], ['Foreign', undefined], ['Foreign', 0], ['Foreign', 42.5], ['Foreign', true],
  ['Foreign', ''], ['Foreign', T], ['Foreign', 'code=x&state=s'], ['Foreign', big],
  ['Foreign', []], ['Foreign', [T, 'code=x&state=s']], ['Foreign', {}], ['Foreign', { type: 'other' }],
  ['Foreign', { type: [T], params: 'code=x&state=s' }], ['Foreign', { type: T.toUpperCase(), params: 'code=x&state=s' }],
  ['Foreign', { type: T + ' ', params: 'code=x&state=s' }], ['Foreign', { type: null, params: 'code=x&state=s' }],
  ['Foreign', { params: 'code=x&state=s' }], ['Foreign', new Date(0)], ['Foreign', new ArrayBuffer(1 << 16)],
  ['Foreign', new Map([['type', T], ['params', 'code=x&state=s']])], ['Foreign', { type: new String(T), params: 'code=x&state=s' }],
  ['Foreign', deep(300)], ['Foreign', { type: 42, params: big }],
  ['Malformed', { type: T }], ['Malformed', { type: T, params: 42 }], ['Malformed', { type: T, params: null }],
  ['Malformed', { type: T, params: { code: 'x', state: 's' } }], ['Malformed', { type: T, params: ['code=x&state=s'] }],
  ['Malformed', { type: T, params: new String('code=x&state=s') }], ['Malformed', { type: T, params: '' }],
  ['Malformed', { type: T, params: 'foo=bar' }], ['Malformed', { type: T, params: 'code=x' }],
  ['Malformed', { type: T, params: 'code=%FF&state=s' }], ['Malformed', { type: T, params: 'code=x&error=e&state=s' }],
  ['Malformed', { type: T, params: 'code=a&code=b&state=s' }], ['Malformed', { type: T, params: 'code=' + big + '&state=s' }],
  ['Malformed', { type: T, params: 'a=1&'.repeat(40) + 'code=x&state=s' }], ['Malformed', { type: T, params: '\u0000\uFFFF\uD800' }],
  ['Malformed', { type: T, error: 'NOT_A_CODE' }], ['Malformed', { type: T, error: '' }], ['Malformed', { type: T, error: 'x'.repeat(65) }],
  ['Malformed', { type: T, error: 42 }], ['Malformed', { type: T, error: big }],
  ['Malformed', { type: T, params: 'code=x&state=s', error: 'no_response' }], ['Malformed', { type: T, params: deep(50) }],
  ['WrongState', { type: T, params: 'code=x&state=s' }], ['WrongState', { type: T, params: 'error=login_required' }],
  ['WrongState', { type: T, params: 'error=login_required&state=forged' }], ['WrongState', { type: T, params: '#code=x&state=s' }],
  ['WrongState', { type: T, params: 'code=x&state=s', extra: 'junk', nested: deep(100) }],
  ['WrongState', { type: T, params: 'state=' + 'S'.repeat(30000) + '&code=x' }],
  ['WrongState', { type: T, params: 'code=x&state=s&unknown=' + 'u'.repeat(1000) }],
];
"#;

/// Messages of every wrong shape, posted through the renewal frame's own window (so the renewer
/// decodes them) and from the page itself: each rejected with its reason, and the renewal succeeds.
#[tokio::test]
async fn messages_of_every_wrong_shape_are_ignored() {
    if needs_chromium_on_nginx("Runtime.evaluate in an isolated world posts from the renewal frame's initial document under the deploy CSP") {
        return;
    }
    let h = start().await;
    h.log_in().await;
    let token = stored_token(&h).await;
    install_monitor(&h).await;
    h.provider.reset_stats().await;
    let post = "(() => { const counts = {}; \
         for (const [reason, message] of SHAPES) { parent.postMessage(message, '*'); counts[reason] = (counts[reason] || 0) + 1; } \
         return counts; })()";
    let own: BTreeMap<String, u64> =
        serde_json::from_value(from_the_renewal_frame(&h, &format!("{SHAPES}{post}")).await)
            .unwrap();
    let posted_own: u64 = own.values().sum();
    let renewed = stored_token(&h).await;
    assert_ne!(renewed, token, "the renewal kept the old token");
    // The same shapes from the page itself, during the next renewal.
    let page_js = format!(
        "{SHAPES}window.__e2eShapesSent = 0; \
         window.__e2eShapes = setInterval(() => {{ for (const [, m] of SHAPES) {{ window.postMessage(m, self.origin); window.__e2eShapesSent += 1; }} }}, 20); \
         return true"
    );
    eval_in(&h, &page_js).await;
    latency(&h, LATENCY_MS).await;
    renew(&h, 2, renewed).await;
    let posted_page = eval_in(
        &h,
        "clearInterval(window.__e2eShapes); return window.__e2eShapesSent",
    )
    .await
    .as_u64()
    .unwrap();

    let heard = monitor(&h).await;
    assert_eq!(heard.heard("own"), posted_own, "{heard:?}");
    assert_eq!(heard.heard("WrongOrigin"), 0, "{heard:?}");
    assert!(heard.heard("WrongSource") >= 1, "{heard:?}");
    let rejected = check_rejected(&h, &heard, 3).await;
    let mut expected = own.clone();
    expected.insert("WrongSource".to_owned(), heard.heard("WrongSource"));
    assert_eq!(
        ignored_by_reason(&h).await,
        expected,
        "panel: {}",
        panel(&h).await
    );
    api_works(&h).await;
    report::record(
        "hostile",
        "messages_of_every_wrong_shape_are_ignored",
        json!({
            "forged_sent": posted_own + posted_page,
            "forged_heard": heard.heard_total(),
            "forged_rejected": rejected,
            "accepted": 0,
            "shapes": posted_own,
            "decoded_by_reason": own,
            "renewals": 3,
            "host": format!("{:?}", h.app.host()),
        }),
    );
    h.close().await;
}

/// The claims of the DPoP proofs the provider received at `path`, oldest first.
async fn proofs_at(h: &Harness, path: &str) -> Vec<Value> {
    use base64::Engine as _;
    let proofs = crate::fixtures::http::get_json(&h.provider.url("/__test/dpop-proofs")).await;
    proofs[path]
        .as_array()
        .map(|list| {
            list.iter()
                .filter_map(|proof| proof.as_str()?.split('.').nth(1).map(str::to_owned))
                .filter_map(|claims| {
                    base64::engine::general_purpose::URL_SAFE_NO_PAD
                        .decode(claims)
                        .ok()
                })
                .filter_map(|bytes| serde_json::from_slice(&bytes).ok())
                .collect()
        })
        .unwrap_or_default()
}

/// One call from the API page, back on the home page: the status shown.
async fn api_status(h: &Harness) -> String {
    let status = h.call_api().await;
    h.browser.click(r#"nav#nav a[href="/"]"#).await;
    signed_in(h).await;
    status
}

/// Renews once by the panel's button and waits until it succeeded; returns how many attempts
/// failed first (the event log's failures since the last success).
async fn renew_through(h: &Harness) -> usize {
    let before = number(h, "#renewal-count").await;
    h.renew_now().await;
    let count = poll_until(Duration::from_secs(20), || async {
        let count = number(h, "#renewal-count").await;
        (count > before).then_some(count)
    })
    .await;
    assert_eq!(
        count,
        Some(before + 1),
        "no renewal; panel:\n{}",
        panel(h).await
    );
    let failed = eval_in(
        h,
        "const kinds = Array.from(document.querySelectorAll('#event-log li'), (li) => li.dataset.kind); \
         const rest = kinds.slice(kinds.indexOf('renewal-succeeded') + 1); \
         const previous = rest.indexOf('renewal-succeeded'); \
         return (previous === -1 ? rest : rest.slice(0, previous)) \
           .filter((kind) => kind === 'renewal-failed').length;",
    )
    .await;
    failed.as_u64().unwrap_or(0) as usize
}

#[tokio::test]
async fn hostile_dpop_nonces_and_dpop_errors_get_one_retry_at_most() {
    let h = start().await;
    h.log_in().await;
    signed_in(&h).await;
    let long = "n".repeat(2000);
    let hostile_nonces = [
        Some("a, b"),
        Some("a\"b"),
        Some(long.as_str()),
        Some(" "),
        None,
    ];
    let mut answers = 0;
    let mut extra_requests = 0;

    // The API: a challenge with a valid nonce that never ends gets exactly one retry, with that
    // nonce; challenges with no usable nonce and refused proofs get none.
    let mut cases: Vec<(&str, Option<&str>, u64)> = vec![("use_dpop_nonce", Some("n-valid-1"), 2)];
    cases.extend(
        hostile_nonces
            .iter()
            .map(|nonce| ("use_dpop_nonce", *nonce, 1)),
    );
    cases.push(("invalid_dpop_proof", Some("n-valid-2"), 1));
    for (kind, nonce, requests) in &cases {
        let mut rule = json!({"path": "/api/ping", "kind": kind});
        if let Some(nonce) = nonce {
            rule["nonce"] = json!(nonce);
        }
        h.provider.inject(rule).await;
        h.provider.reset_stats().await;
        let before = proofs_at(&h, "/api/ping").await.len();
        assert_eq!(api_status(&h).await, "HTTP 401", "{kind} {nonce:?}");
        let stats = h.provider.stats().await;
        assert_eq!(
            stats["api"].as_u64(),
            Some(*requests),
            "{kind} {nonce:?}: {stats}"
        );
        let sent = proofs_at(&h, "/api/ping").await;
        let sent = &sent[before.min(sent.len())..];
        for claims in sent {
            // The only nonce ever sent is the valid one the first case brought.
            let used = claims.get("nonce").and_then(Value::as_str);
            assert!(
                matches!(used, None | Some("n-valid-1")),
                "{kind} {nonce:?}: {claims}"
            );
        }
        if *requests == 2 {
            assert_eq!(sent.last().unwrap()["nonce"], "n-valid-1", "{sent:?}");
        }
        h.provider.clear_faults().await;
        answers += 1;
        extra_requests += requests - 1;
    }
    // The real API then asks for its own nonce (ours is unknown to it): one retry, accepted.
    h.provider.reset_stats().await;
    assert_eq!(api_status(&h).await, "HTTP 200");
    let stats = h.provider.stats().await;
    assert_eq!(
        (stats["api"].as_u64(), stats["api_dpop_nonce"].as_u64()),
        (Some(2), Some(1)),
        "{stats}"
    );

    // The token endpoint, during renewals: each hostile answer fails one attempt (transient: the
    // next one, a second or two later, succeeds), with no retry inside it.
    for nonce in hostile_nonces {
        let mut rule = json!({"path": "/token", "kind": "use_dpop_nonce", "count": 1});
        if let Some(nonce) = nonce {
            rule["nonce"] = json!(nonce);
        }
        h.provider.inject(rule).await;
        h.provider.reset_stats().await;
        assert_eq!(
            renew_through(&h).await,
            1,
            "{nonce:?}; panel:\n{}",
            panel(&h).await
        );
        let stats = h.provider.stats().await;
        assert_eq!(stats["token"].as_u64(), Some(2), "{nonce:?}: {stats}");
        answers += 1;
    }
    // A challenge that does not end: two requests (one retry) fail the attempt; the next attempt
    // sends that nonce, which the real provider does not know: its own challenge, one retry, done.
    h.provider
        .inject(
            json!({"path": "/token", "kind": "use_dpop_nonce", "nonce": "n-valid-3", "count": 2}),
        )
        .await;
    h.provider.reset_stats().await;
    assert_eq!(renew_through(&h).await, 1, "panel:\n{}", panel(&h).await);
    let stats = h.provider.stats().await;
    assert_eq!(stats["token"].as_u64(), Some(4), "{stats}");
    assert_eq!(
        stats["dpop_nonce"].as_u64(),
        Some(1),
        "the real provider's one challenge: {stats}"
    );
    answers += 2;
    extra_requests += 2;
    // A refused proof: the attempt fails, the next one signs a new proof.
    h.provider
        .inject(json!({"path": "/token", "kind": "invalid_dpop_proof", "count": 1}))
        .await;
    h.provider.reset_stats().await;
    assert_eq!(renew_through(&h).await, 1);
    assert_eq!(h.provider.stats().await["token"].as_u64(), Some(2));
    answers += 1;

    signed_in(&h).await;
    let injected = h.provider.faults().await["injected"].clone();
    report::record(
        "hostile",
        "hostile_dpop_nonces_and_dpop_errors_get_one_retry_at_most",
        json!({
            "forged_sent": answers,
            "forged_rejected": answers,
            "accepted": 0,
            "retries_beyond_the_first_request": extra_requests,
            "injected": injected,
            "host": format!("{:?}", h.app.host()),
        }),
    );
    h.close().await;
}
