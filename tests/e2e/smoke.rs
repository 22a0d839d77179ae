//! Smoke tests of the foundation: the app routes, the silent callback page, the provider's login.

use serde_json::{json, Value};

use crate::fixtures::{http, needs_chromium, poll_until, Harness};

/// RFC 7636 Appendix B: the S256 challenge of the verifier `dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk`
/// (which a token exchange would send; this test stops at the redirect).
const PKCE_CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

#[tokio::test]
async fn app_loads_with_the_nav_bar() {
    let h = Harness::start().await;
    h.open("/").await;
    h.browser.wait_for(r#"main[data-page="home"]"#).await;

    let links = h
        .browser
        .eval("return Array.from(document.querySelectorAll('nav#nav a'), (a) => a.href)")
        .await;
    for path in ["/", "/profile", "/api"] {
        let url = h.app.url(path);
        assert!(
            links.as_array().unwrap().contains(&json!(url)),
            "nav#nav has no link to {url}: {links}"
        );
    }
    h.close().await;
}

#[tokio::test]
async fn deep_links_unknown_paths_and_client_side_navigation() {
    let h = Harness::start().await;
    // A deep link to a protected page is the app's (the server falls back to index.html): it routes to
    // the profile page, whose guard sends the signed-out user to the provider's login.
    h.open("/profile").await;
    let issuer = h.provider.issuer().to_owned();
    h.browser
        .wait_for_url("the provider's login page", |url| url.starts_with(&issuer))
        .await;
    h.browser.wait_for("input#login").await;

    h.open("/no/such/page").await;
    h.browser.wait_for(r#"main[data-page="not-found"]"#).await;

    // A full reload would lose this marker, and would ask the server for / again.
    h.browser.eval("window.__e2eMarker = 'same-document'").await;
    let loads_of_root = h.app.requests("/");
    h.browser.click(r#"nav#nav a[href="/"]"#).await;
    h.browser.wait_for(r#"main[data-page="home"]"#).await;
    assert_eq!(h.browser.current_url().await, h.app.url("/"));
    assert_eq!(
        h.browser.eval("return window.__e2eMarker").await,
        "same-document",
        "the page was reloaded"
    );
    assert_eq!(
        h.app.requests("/"),
        loads_of_root,
        "the browser asked the server for /"
    );
    h.close().await;
}

/// Appends an iframe with `src = args[0]` to the page and resolves with its first message
/// (or null after 5 s).
const FRAME_FIRST_MESSAGE: &str = r#"
    const iframe = document.createElement('iframe');
    return await new Promise((resolve) => {
        const onMessage = (e) => {
            clearTimeout(timer);
            window.removeEventListener('message', onMessage);
            const data = e.data;
            resolve({
                origin: e.origin,
                data,
                fromFrame: e.source === iframe.contentWindow,
                hasParams: data !== null && typeof data === 'object' && 'params' in data,
            });
        };
        const timer = setTimeout(() => {
            window.removeEventListener('message', onMessage);
            resolve(null);
        }, 5000);
        window.addEventListener('message', onMessage);
        iframe.src = args[0];
        document.body.appendChild(iframe);
    });
"#;

#[tokio::test]
async fn silent_page_posts_the_parsed_callback_to_its_parent() {
    let h = Harness::start().await;
    h.open("/").await;
    h.browser.wait_for(r#"main[data-page="home"]"#).await;

    let issuer = h.provider.issuer();
    let src = format!("/silent/#code=abc123&state=st-1&iss={}", encode(issuer));
    let message = h
        .browser
        .eval_async_with(FRAME_FIRST_MESSAGE, vec![json!(src)])
        .await;
    assert!(
        !message.is_null(),
        "the silent page posted nothing within 5 s"
    );
    assert_eq!(message["origin"], h.app.origin(), "{message}");
    assert_eq!(message["fromFrame"], true, "{message}");
    let data = &message["data"];
    assert_eq!(data["type"], "oidc-silent-callback", "{message}");
    assert_eq!(
        param(&data["params"], "code").as_deref(),
        Some("abc123"),
        "{message}"
    );
    assert_eq!(
        param(&data["params"], "state").as_deref(),
        Some("st-1"),
        "{message}"
    );

    let message = h
        .browser
        .eval_async_with(FRAME_FIRST_MESSAGE, vec![json!("/silent/#garbage")])
        .await;
    assert!(
        !message.is_null(),
        "the silent page posted nothing for a garbage fragment within 5 s"
    );
    assert_eq!(message["origin"], h.app.origin(), "{message}");
    assert_eq!(message["fromFrame"], true, "{message}");
    assert_eq!(message["data"]["type"], "oidc-silent-callback", "{message}");
    let error = message["data"]["error"].as_str().unwrap_or_default();
    assert!(!error.is_empty(), "expected a non-empty `error`: {message}");
    assert_eq!(
        message["hasParams"], false,
        "an error message carries no params: {message}"
    );
    h.close().await;
}

/// Older Chrome (before about 115) refuses to compile more than 4 KB of wasm synchronously on the main
/// thread; the silent page's wasm is just over that. Such a browser, simulated: the page must still post.
const REFUSE_SYNC_COMPILE: &str = r#"
if (window !== top) {
    WebAssembly.Module = function () {
        top.__e2eSyncRefused = (top.__e2eSyncRefused || 0) + 1;
        throw new RangeError('WebAssembly.Compile is disallowed on the main thread, if the buffer size is larger than 4KB.');
    };
}
"#;

#[tokio::test]
async fn silent_page_posts_where_synchronous_compilation_is_refused() {
    if needs_chromium(
        "Page.addScriptToEvaluateOnNewDocument replaces WebAssembly.Module in the silent frame before its own script runs",
    ) {
        return;
    }
    let h = Harness::start().await;
    h.browser
        .cdp(
            "Page.addScriptToEvaluateOnNewDocument",
            json!({ "source": REFUSE_SYNC_COMPILE }),
        )
        .await;
    h.open("/").await;
    h.browser.wait_for(r#"main[data-page="home"]"#).await;
    let src = format!(
        "/silent/#code=abc123&state=st-2&iss={}",
        encode(h.provider.issuer())
    );
    let message = h
        .browser
        .eval_async_with(FRAME_FIRST_MESSAGE, vec![json!(src)])
        .await;
    assert!(
        !message.is_null(),
        "the silent page posted nothing within 5 s"
    );
    assert_eq!(message["origin"], h.app.origin(), "{message}");
    assert_eq!(
        param(&message["data"]["params"], "state").as_deref(),
        Some("st-2"),
        "{message}"
    );
    assert_eq!(
        h.browser.eval("return window.__e2eSyncRefused ?? 0").await,
        json!(1),
        "the synchronous compile was not attempted (and refused) exactly once"
    );
    h.close().await;
}

#[tokio::test]
async fn silent_page_opened_top_level_posts_nothing() {
    if needs_chromium(
        "Page.addScriptToEvaluateOnNewDocument records messages from before the silent page's own script runs",
    ) {
        return;
    }
    let h = Harness::start().await;
    // Records every message any new document of this tab receives, from before its own scripts run.
    h.browser
        .cdp(
            "Page.addScriptToEvaluateOnNewDocument",
            json!({ "source": "window.__e2eMessages = [];\
                window.addEventListener('message', (e) => window.__e2eMessages.push({ origin: e.origin, data: e.data }));" }),
        )
        .await;
    let fragment = format!(
        "#code=abc123&state=st-1&iss={}",
        encode(h.provider.issuer())
    );
    h.open(&format!("/silent/{fragment}")).await;
    h.browser.wait_for_visible("#standalone").await;
    h.browser
        .wait_until("loaded", "return document.readyState === 'complete'")
        .await;

    // Absence needs an observation window: give the page's wasm 500 ms, then post a sentinel to
    // ourselves; once it arrives, anything the page posted before it has been delivered too.
    let messages = h
        .browser
        .eval_async(
            r#"
            if (!Array.isArray(window.__e2eMessages)) throw new Error('message recorder not installed');
            await new Promise((resolve) => setTimeout(resolve, 500));
            window.postMessage('__e2e_sentinel', '*');
            while (!window.__e2eMessages.some((m) => m.data === '__e2e_sentinel')) {
                await new Promise((resolve) => setTimeout(resolve, 10));
            }
            return window.__e2eMessages.filter((m) => m.data !== '__e2e_sentinel');
            "#,
        )
        .await;
    assert_eq!(
        messages,
        json!([]),
        "the top-level silent page posted messages"
    );
    h.close().await;
}

#[tokio::test]
async fn provider_discovery_and_login_redirect_to_the_app() {
    let h = Harness::start().await;
    let issuer = h.provider.issuer();
    let discovery = http::get_json(&h.provider.url("/.well-known/openid-configuration")).await;
    assert_eq!(discovery["issuer"], issuer);
    let port = issuer
        .strip_prefix("http://localhost:")
        .expect("issuer on localhost");
    assert!(port.parse::<u16>().is_ok(), "issuer {issuer}");

    let state = format!("st-{}", unique());
    let redirect_uri = h.app.url("/callback");
    let endpoint = discovery["authorization_endpoint"]
        .as_str()
        .expect("authorization_endpoint");
    let mut authorize = url::Url::parse(endpoint).expect("authorization_endpoint is a URL");
    authorize
        .query_pairs_mut()
        .append_pair("client_id", "oidc-renew-demo")
        .append_pair("response_type", "code")
        .append_pair("redirect_uri", &redirect_uri)
        .append_pair("scope", "openid profile email")
        .append_pair("state", &state)
        .append_pair("nonce", &format!("n-{}", unique()))
        .append_pair("code_challenge", PKCE_CHALLENGE)
        .append_pair("code_challenge_method", "S256");

    h.browser.goto(authorize.as_str()).await;
    h.browser.fill("#login", "demo").await;
    h.browser.fill("#password", "demo").await;
    h.browser.click("button[type=submit]").await;

    // The server's log is the proof: the app may rewrite its URL as soon as it loads.
    let target = poll_until(crate::fixtures::browser::WAIT, || async {
        h.app
            .request_log()
            .into_iter()
            .find(|t| t.starts_with("/callback?"))
    })
    .await;
    let Some(target) = target else {
        panic!(
            "the browser never reached {redirect_uri}; it is at {}\n{}\n{}",
            h.browser.current_url().await,
            h.browser.body_text().await,
            h.provider.output()
        );
    };
    let query = target.split_once('?').unwrap().1;
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let get = |key: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    };
    assert!(
        get("code").is_some_and(|code| !code.is_empty()),
        "no code in {target}"
    );
    assert_eq!(get("state"), Some(state.as_str()), "{target}");
    assert_eq!(get("iss"), Some(issuer), "{target}");
    assert!(
        h.browser.current_url().await.starts_with(&h.app.origin()),
        "the browser left the app"
    );
    h.close().await;
}

/// `encodeURIComponent` for the characters an issuer URL has.
fn encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// One parameter of a posted callback, whether `params` is a query string, an object, or a list
/// of `[key, value]` pairs.
fn param(params: &Value, key: &str) -> Option<String> {
    match params {
        Value::String(query) => {
            url::form_urlencoded::parse(query.trim_start_matches(['?', '#']).as_bytes())
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.into_owned())
        }
        Value::Object(map) => map.get(key)?.as_str().map(str::to_owned),
        Value::Array(pairs) => pairs
            .iter()
            .find(|p| p[0] == key)
            .and_then(|p| p[1].as_str())
            .map(str::to_owned),
        _ => None,
    }
}

/// Different on every call in this process and across runs.
fn unique() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{nanos:x}-{}", COUNTER.fetch_add(1, Ordering::Relaxed))
}
