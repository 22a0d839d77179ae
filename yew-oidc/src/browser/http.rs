//! `fetch` for discovery, JWKS, the token endpoint and the protected API, with a bounded response body.
//!
//! Every request to them is sent without cookies (`credentials: omit`: the tokens are the only
//! credentials), without a `Referer` (the app's URL may still hold a callback), and past the HTTP cache
//! (`no-store`: a rotated JWKS is seen at once). Any status is a response: the caller reads OAuth error
//! bodies of 4xx. The app's own files (its `config.json`) are fetched as the browser fetches a page's
//! resources instead ([`get_app_file`]): one HTTP client for the library and the app.

use super::error::js_message;
use js_sys::Uint8Array;
use std::fmt;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    Headers, ReadableStreamDefaultReader, ReadableStreamReadResult, ReferrerPolicy, Request,
    RequestCache, RequestCredentials, RequestInit, RequestMode, Response,
};

/// The largest response body accepted, in bytes (1 MiB): discovery documents, JWKS and token responses
/// are a few KiB.
pub const MAX_BODY_BYTES: usize = 1 << 20;

/// A response of any status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// The HTTP status code (0 never occurs: opaque responses are not requested).
    pub status: u16,
    /// The body, decoded as UTF-8 (invalid sequences become U+FFFD, as `Response.text()` does).
    pub body: String,
}

/// Why a request got no usable response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpError {
    /// The request failed before a response arrived, or while its body was read: offline, DNS, refused
    /// connection, TLS. A CORS refusal looks exactly the same: the browser reports it as a network
    /// `TypeError` ("Failed to fetch") and tells only the console why, so when the server is up, check that
    /// it allows this app's origin. Also: no `window`, or a URL that `fetch` refuses.
    Network(String),
    /// The response body exceeds [`MAX_BODY_BYTES`]; it was not read further.
    TooLarge,
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Network(message) => write!(f, "network error (or CORS refusal): {message}"),
            Self::TooLarge => write!(f, "response larger than {} KiB", MAX_BODY_BYTES / 1024),
        }
    }
}

impl std::error::Error for HttpError {}

fn network(error: JsValue) -> HttpError {
    HttpError::Network(js_message(&error))
}

/// `GET url`.
pub async fn get(url: &str) -> Result<HttpResponse, HttpError> {
    send(url, "GET", Headers::new().map_err(network)?, None).await
}

/// `GET url` of a file on the app's own origin (its `config.json`), sent as a
/// `<link rel="preload" as="fetch" crossorigin>` of it is, so that such a preload answers it: CORS
/// mode, same-origin credentials, the HTTP cache as usual, the page's referrer policy.
pub async fn get_app_file(url: &str) -> Result<HttpResponse, HttpError> {
    fetch(url, &RequestInit::new(), &[])
        .await
        .map(|(response, _)| response)
}

/// `GET url` with `Authorization: Bearer <token>` (the protected API, userinfo).
///
/// The token never appears in an error: a token that is not a valid header value gives a fixed message.
pub async fn get_with_bearer(url: &str, token: &str) -> Result<HttpResponse, HttpError> {
    let headers = Headers::new().map_err(network)?;
    headers
        .set("Authorization", &format!("Bearer {token}"))
        .map_err(|_| {
            HttpError::Network("the access token is not a valid header value".to_owned())
        })?;
    send(url, "GET", headers, None).await
}

/// `POST url` with an `application/x-www-form-urlencoded` body (the token endpoint). `body` must already
/// be encoded; it is never echoed in an error.
pub async fn post_form(url: &str, body: &str) -> Result<HttpResponse, HttpError> {
    let headers = Headers::new().map_err(network)?;
    headers
        .set("Content-Type", "application/x-www-form-urlencoded")
        .map_err(network)?;
    send(url, "POST", headers, Some(body)).await
}

/// `method url` with `headers` (name, value) and an optional body, reading the response headers named
/// in `read` (their values in that order; cross-origin, only those the server exposes by CORS are
/// visible: `None` as for a header that is absent). For requests that carry a DPoP proof and read the
/// server's `DPoP-Nonce` and `WWW-Authenticate`. Header values are never echoed in an error.
#[cfg(feature = "dpop")]
pub async fn request(
    url: &str,
    method: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
    read: &[&str],
) -> Result<(HttpResponse, Vec<Option<String>>), HttpError> {
    let all = Headers::new().map_err(network)?;
    for (name, value) in headers {
        all.set(name, value).map_err(|_| {
            HttpError::Network(format!(
                "the {name} header value is not a valid header value"
            ))
        })?;
    }
    send_reading(url, method, all, body, read).await
}

/// Whether `url`'s server answers at all: `Ok` for any response, `Err` when the browser is offline
/// (`navigator.onLine` false: no request is made) or the request fails at the network level
/// (connection refused, DNS, TLS). A `no-cors` GET: the answer is opaque and never read, so CORS
/// cannot refuse it, and only the network can fail it. The CSP's `connect-src` must allow `url`.
pub async fn reachable(url: &str) -> Result<(), HttpError> {
    let window =
        web_sys::window().ok_or_else(|| HttpError::Network("no browser window".to_owned()))?;
    if !window.navigator().on_line() {
        return Err(HttpError::Network("the browser is offline".to_owned()));
    }
    let init = RequestInit::new();
    init.set_method("GET");
    init.set_mode(RequestMode::NoCors);
    init.set_credentials(RequestCredentials::Omit);
    init.set_cache(RequestCache::NoStore);
    init.set_referrer_policy(ReferrerPolicy::NoReferrer);
    let request = Request::new_with_str_and_init(url, &init).map_err(network)?;
    JsFuture::from(window.fetch_with_request(&request))
        .await
        .map_err(network)?;
    Ok(())
}

async fn send(
    url: &str,
    method: &str,
    headers: Headers,
    body: Option<&str>,
) -> Result<HttpResponse, HttpError> {
    send_reading(url, method, headers, body, &[])
        .await
        .map(|(response, _)| response)
}

async fn send_reading(
    url: &str,
    method: &str,
    headers: Headers,
    body: Option<&str>,
    read: &[&str],
) -> Result<(HttpResponse, Vec<Option<String>>), HttpError> {
    let init = RequestInit::new();
    init.set_method(method);
    init.set_headers(&headers);
    init.set_credentials(RequestCredentials::Omit);
    init.set_cache(RequestCache::NoStore);
    init.set_referrer_policy(ReferrerPolicy::NoReferrer);
    if let Some(body) = body {
        init.set_body(&JsValue::from_str(body));
    }
    fetch(url, &init, read).await
}

/// `fetch(url, init)`, its body read (bounded), and the values of the response headers named in `read`.
async fn fetch(
    url: &str,
    init: &RequestInit,
    read: &[&str],
) -> Result<(HttpResponse, Vec<Option<String>>), HttpError> {
    let window =
        web_sys::window().ok_or_else(|| HttpError::Network("no browser window".to_owned()))?;
    let request = Request::new_with_str_and_init(url, init).map_err(network)?;
    let response: Response = JsFuture::from(window.fetch_with_request(&request))
        .await
        .map_err(network)?
        .dyn_into()
        .map_err(|_| HttpError::Network("fetch did not return a response".to_owned()))?;
    let status = response.status();
    let values = read
        .iter()
        .map(|name| response.headers().get(name).ok().flatten())
        .collect();
    let body = read_body(&response).await?;
    Ok((
        HttpResponse {
            status,
            body: String::from_utf8_lossy(&body).into_owned(),
        },
        values,
    ))
}

/// Reads the body chunk by chunk and stops (cancelling the stream) as soon as it passes the limit, so a
/// hostile server cannot make the page buffer an unbounded body.
async fn read_body(response: &Response) -> Result<Vec<u8>, HttpError> {
    let Some(stream) = response.body() else {
        return Ok(Vec::new());
    };
    // A declared length (readable cross-origin: it is CORS-safelisted) refuses early; the count below is
    // what holds, since the header may be absent, or the compressed size.
    let declared = response
        .headers()
        .get("Content-Length")
        .ok()
        .flatten()
        .and_then(|length| length.trim().parse::<u64>().ok());
    if declared.is_some_and(|length| length > MAX_BODY_BYTES as u64) {
        let _ = stream.cancel();
        return Err(HttpError::TooLarge);
    }
    let reader: ReadableStreamDefaultReader = stream.get_reader().unchecked_into();
    let mut bytes = Vec::new();
    loop {
        let result: ReadableStreamReadResult = JsFuture::from(reader.read())
            .await
            .map_err(network)?
            .unchecked_into();
        if result.get_done().unwrap_or(true) {
            return Ok(bytes);
        }
        let chunk: Uint8Array = result
            .get_value()
            .dyn_into()
            .map_err(|_| HttpError::Network("response body chunk is not bytes".to_owned()))?;
        let start = bytes.len();
        let end = start + chunk.length() as usize;
        if end > MAX_BODY_BYTES {
            let _ = reader.cancel();
            return Err(HttpError::TooLarge);
        }
        bytes.resize(end, 0);
        chunk.copy_to(&mut bytes[start..]);
    }
}
