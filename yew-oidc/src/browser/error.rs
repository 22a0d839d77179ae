//! [`BrowserError`]: what a browser call can fail with.

use std::fmt;
use wasm_bindgen::{JsCast, JsValue};

/// A failure of the browser glue. `Display` is short and lowercase, fit for a console line or an error page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BrowserError {
    /// There is no `window`: the code runs outside a browser page (a worker, or a host build).
    NoWindow,
    /// `crypto` or `crypto.subtle` is missing. WebCrypto exists only in secure contexts: serve the app over
    /// https, or from `localhost`.
    CryptoUnavailable,
    /// The JWS algorithm is not one this app verifies (RS256 and ES256 only). Holds the algorithm name,
    /// cut to a few characters (it comes from a token header, which is hostile input).
    UnsupportedAlgorithm(String),
    /// A signature whose length cannot be right for its algorithm (ES256 signatures are exactly 64 bytes,
    /// the raw `r || s` of JWS; a DER-encoded signature is refused here).
    SignatureLength {
        /// The length the algorithm requires, in bytes.
        expected: usize,
        /// The length received, in bytes.
        actual: usize,
    },
    /// The public key could not be imported: not JSON, not a JWK object, or refused by WebCrypto (e.g. an
    /// RSA key for ES256, a key whose `alg`, `use` or `key_ops` forbid verifying with this algorithm).
    KeyImport(String),
    /// The storage area cannot be used (disabled by the user or the browser, or throws on access). Holds
    /// the area's name (see [`storage_area_name`](super::storage::storage_area_name)).
    StorageUnavailable(&'static str),
    /// The storage area threw on a read (storage disabled after the page loaded, a broken profile).
    StorageRead {
        /// The area's name.
        area: &'static str,
        /// The browser's reason.
        reason: String,
    },
    /// The storage area refused a write or a removal: usually its quota is exceeded.
    StorageWrite {
        /// The area's name.
        area: &'static str,
        /// The browser's reason (e.g. `QuotaExceededError: ...`).
        reason: String,
    },
    /// A cross-tab lock was not acquired within the wait allowed: another tab (or task) held it all along.
    /// The work meant to run under the lock did not run.
    LockTimeout,
    /// A browser API threw or rejected; holds the exception's name and message.
    Js(String),
}

impl fmt::Display for BrowserError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoWindow => f.write_str("no browser window"),
            Self::CryptoUnavailable => f.write_str(
                "web crypto unavailable (the app must be served over https or from localhost)",
            ),
            Self::UnsupportedAlgorithm(alg) => write!(f, "unsupported signature algorithm {alg:?}"),
            Self::SignatureLength { expected, actual } => {
                write!(f, "signature is {actual} bytes, expected {expected}")
            }
            Self::KeyImport(reason) => write!(f, "unusable public key: {reason}"),
            Self::StorageUnavailable(area) => write!(f, "{area} is unavailable"),
            Self::StorageRead { area, reason } => write!(f, "cannot read {area}: {reason}"),
            Self::StorageWrite { area, reason } => write!(f, "cannot write to {area}: {reason}"),
            Self::LockTimeout => f.write_str("timed out waiting for the cross-tab lock"),
            Self::Js(message) => write!(f, "browser error: {message}"),
        }
    }
}

impl std::error::Error for BrowserError {}

/// The `window`, or [`BrowserError::NoWindow`].
pub(crate) fn window() -> Result<web_sys::Window, BrowserError> {
    web_sys::window().ok_or(BrowserError::NoWindow)
}

/// A thrown JavaScript value as one line, `Name: message` for errors and `DOMException`s.
pub(crate) fn js_message(value: &JsValue) -> String {
    if let Some(error) = value.dyn_ref::<js_sys::Error>() {
        let name = String::from(error.name());
        let message = String::from(error.message());
        if message.is_empty() {
            name
        } else {
            format!("{name}: {message}")
        }
    } else if let Some(text) = value.as_string() {
        text
    } else {
        "unknown exception".to_owned()
    }
}

/// [`BrowserError::Js`] from a thrown value.
pub(crate) fn js_error(value: JsValue) -> BrowserError {
    BrowserError::Js(js_message(&value))
}

/// `text` cut to at most `max` characters, for echoing hostile input in a message.
pub(crate) fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}
