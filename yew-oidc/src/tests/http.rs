//! Fetch glue: bodies, the size cap and network failures, against `data:` and `blob:` URLs (no server).

use crate::browser::http::{
    get, get_with_bearer, post_form, reachable, HttpError, HttpResponse, MAX_BODY_BYTES,
};
use wasm_bindgen_test::wasm_bindgen_test;

/// A `data:` URL serving `body` (ASCII) as text; data URLs send no `Content-Length`, so the streamed count
/// is what enforces the cap.
fn data_url(body: &str) -> String {
    format!("data:text/plain,{body}")
}

/// A `blob:` URL serving `len` bytes; blob responses declare their `Content-Length`.
fn blob_url(len: usize) -> String {
    js_sys::eval(&format!(
        "URL.createObjectURL(new Blob(['b'.repeat({len})]))"
    ))
    .unwrap()
    .as_string()
    .unwrap()
}

#[wasm_bindgen_test]
async fn get_returns_status_and_body() {
    assert_eq!(
        get(&data_url("%7B%22ok%22%3Atrue%7D")).await,
        Ok(HttpResponse {
            status: 200,
            body: r#"{"ok":true}"#.to_owned()
        })
    );
    let response = get_with_bearer(&data_url("pong"), "eyJhbGciOi.payload.sig").await;
    assert_eq!(response.map(|r| r.body), Ok("pong".to_owned()));
}

#[wasm_bindgen_test]
async fn bodies_up_to_one_mib_are_read_and_larger_ones_refused() {
    let body = "a".repeat(MAX_BODY_BYTES);
    let response = get(&data_url(&body)).await.unwrap();
    assert_eq!(response.body.len(), MAX_BODY_BYTES);
    assert_eq!(
        get(&data_url(&format!("{body}a"))).await,
        Err(HttpError::TooLarge)
    );
    assert_eq!(
        get(&blob_url(MAX_BODY_BYTES)).await.map(|r| r.body.len()),
        Ok(MAX_BODY_BYTES)
    );
    assert_eq!(
        get(&blob_url(MAX_BODY_BYTES + 1)).await,
        Err(HttpError::TooLarge)
    );
}

#[wasm_bindgen_test]
async fn invalid_utf8_is_replaced_not_a_panic() {
    assert_eq!(
        get("data:text/plain,a%FF%FEb").await.map(|r| r.body),
        Ok("a\u{fffd}\u{fffd}b".to_owned())
    );
}

#[wasm_bindgen_test]
async fn unreachable_servers_and_bad_urls_are_network_errors() {
    for url in [
        "http://127.0.0.1:9/nothing",
        "http://exa mple.com/",
        "ftp://127.0.0.1/",
    ] {
        let result = get(url).await;
        assert!(
            matches!(result, Err(HttpError::Network(_))),
            "{url}: {result:?}"
        );
    }
}

#[wasm_bindgen_test]
async fn a_token_that_is_not_a_header_value_is_an_error_that_does_not_echo_it() {
    let result = get_with_bearer(&data_url("x"), "secret\nvalue").await;
    let error = result.unwrap_err();
    assert!(matches!(error, HttpError::Network(_)));
    assert!(!error.to_string().contains("secret"), "{error}");
}

/// Replaces `window.fetch` with a spy that records the `Request` it gets and answers `200 ok`, until
/// [`FetchSpy::restore`]. Restore before asserting: a failed assertion aborts the test without unwinding,
/// so a guard's `Drop` would never run and the spy would break the tests after it.
struct FetchSpy;

impl FetchSpy {
    fn install() -> FetchSpy {
        js_sys::eval(
            "window.__realFetch = window.fetch; \
             window.fetch = (request) => { window.__seen = request; \
                                           return Promise.resolve(new Response('ok')); };",
        )
        .unwrap();
        FetchSpy
    }

    /// `expression` evaluated with `r` bound to the last recorded request (e.g. `r.method`).
    async fn seen(&self, expression: &str) -> String {
        let value = js_sys::eval(&format!("(async (r) => {expression})(window.__seen)")).unwrap();
        wasm_bindgen_futures::JsFuture::from(js_sys::Promise::from(value))
            .await
            .unwrap()
            .as_string()
            .unwrap()
    }

    fn restore(self) {
        js_sys::eval("window.fetch = window.__realFetch; delete window.__seen;").unwrap();
    }
}

#[wasm_bindgen_test]
async fn requests_carry_no_cookies_no_referrer_and_skip_the_cache() {
    let body = "grant_type=authorization_code&code=abc&code_verifier=xyz";
    let spy = FetchSpy::install();
    let posted = post_form("https://op.example/token", body).await;
    let post_seen = spy
        .seen(
            "[r.method, r.url, r.headers.get('content-type'), r.credentials, r.cache, \
              r.referrerPolicy, await r.text()].join(' | ')",
        )
        .await;
    let bearer = get_with_bearer("https://api.example/ping", "eyJ.a.b").await;
    let bearer_seen = spy
        .seen("[r.method, r.headers.get('authorization'), r.credentials, r.cache].join(' | ')")
        .await;
    let got = get("https://op.example/.well-known/openid-configuration").await;
    let get_seen = spy
        .seen("[r.method, String(r.headers.get('authorization')), r.credentials].join(' | ')")
        .await;
    spy.restore();

    let ok = HttpResponse {
        status: 200,
        body: "ok".to_owned(),
    };
    assert_eq!(posted.as_ref(), Ok(&ok));
    assert_eq!(
        post_seen,
        format!(
            "POST | https://op.example/token | application/x-www-form-urlencoded | omit | no-store \
             | no-referrer | {body}"
        )
    );
    assert_eq!(bearer.as_ref(), Ok(&ok));
    assert_eq!(bearer_seen, "GET | Bearer eyJ.a.b | omit | no-store");
    assert_eq!(got.as_ref(), Ok(&ok));
    assert_eq!(get_seen, "GET | null | omit");
}

#[wasm_bindgen_test]
async fn reachable_is_a_no_cors_get_that_only_the_network_can_fail() {
    let refused = reachable("http://127.0.0.1:9/nothing").await;
    assert!(matches!(refused, Err(HttpError::Network(_))), "{refused:?}");

    let spy = FetchSpy::install();
    let answered = reachable("https://op.example/.well-known/openid-configuration").await;
    let seen = spy
        .seen("[r.method, r.mode, r.credentials, r.cache, r.referrerPolicy].join(' | ')")
        .await;
    // Offline: no request at all.
    js_sys::eval(
        "delete window.__seen; \
         Object.defineProperty(navigator, 'onLine', { get: () => false, configurable: true });",
    )
    .unwrap();
    let offline = reachable("https://op.example/.well-known/openid-configuration").await;
    let requested = js_sys::eval("String(window.__seen !== undefined)")
        .unwrap()
        .as_string()
        .unwrap();
    js_sys::eval("delete navigator.onLine;").unwrap();
    spy.restore();

    assert_eq!(answered, Ok(()));
    assert_eq!(seen, "GET | no-cors | omit | no-store | no-referrer");
    assert_eq!(
        offline,
        Err(HttpError::Network("the browser is offline".to_owned()))
    );
    assert_eq!(requested, "false", "a request was made while offline");
}
