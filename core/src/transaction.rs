//! The login transaction: what the app must remember between sending the browser to the provider
//! and handling the callback (state, nonce, PKCE verifier, where to return). The glue keeps it in
//! `sessionStorage` (one tab, survives the redirect) and removes it when read: it is single-use.
//!
//! A stored value is hostile input like any other (another script, an old version, a crash while
//! writing), so reading it checks its shape, its age and its sizes.

use super::dpop::is_thumbprint;
use super::fields::{self, Members, Unreadable};
use super::pkce::is_valid_verifier;
use serde::Serialize;
use std::fmt;

/// How long a sign-in may take at the provider: after this the transaction is refused and the
/// user signs in again. Ten minutes covers a slow login form with a second factor.
pub const TRANSACTION_TTL_MS: u64 = 10 * 60 * 1000;

/// How far in the future a transaction's creation time may lie: clock corrections happen.
pub const FUTURE_LEEWAY_MS: u64 = 60 * 1000;

/// Largest stored transaction accepted: a few short strings.
pub const MAX_TRANSACTION_LEN: usize = 8 * 1024;

/// Longest `state` or `nonce` accepted (the app writes 43 characters).
const MAX_RANDOM_LEN: usize = 512;

/// Longest `redirect_uri` or `return_to` kept.
const MAX_URL_LEN: usize = 2048;

/// A pending sign-in.
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
pub struct Transaction {
    /// The `state` sent with the request; the callback must carry it back exactly.
    pub state: String,
    /// The `nonce` sent with the request; the id_token must carry it back exactly.
    pub nonce: String,
    /// The PKCE verifier (code flow); `None` for the implicit flow.
    pub code_verifier: Option<String>,
    /// The `redirect_uri` of the request, repeated in the code exchange (RFC 6749 §4.1.3).
    pub redirect_uri: String,
    /// The app path to show after sign-in; always a same-site path (see [`safe_return_to`]).
    pub return_to: String,
    /// When the sign-in started, in milliseconds since the Unix epoch.
    pub created_at_ms: u64,
    /// The thumbprint of the DPoP key the request's `dpop_jkt` named: the code exchange must prove
    /// possession of that key. `None` without DPoP.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dpop_jkt: Option<String>,
}

/// Why a stored transaction cannot be used. Every variant means: start the sign-in again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TransactionError {
    /// The stored text is longer than [`MAX_TRANSACTION_LEN`].
    TooLarge,
    /// The stored text is not JSON.
    Corrupted,
    /// The stored text ends early: a half-written value.
    Truncated,
    /// The JSON lacks a member or has one of the wrong type; holds the parser's description.
    WrongShape(String),
    /// A member has an impossible value (empty, too long, not a PKCE verifier); names it.
    InvalidField(&'static str),
    /// The sign-in started more than [`TRANSACTION_TTL_MS`] ago.
    Expired,
    /// The sign-in claims to start later than now plus [`FUTURE_LEEWAY_MS`].
    FromTheFuture,
}

impl fmt::Display for TransactionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TransactionError::TooLarge
            | TransactionError::Corrupted
            | TransactionError::Truncated
            | TransactionError::WrongShape(_) => {
                f.write_str("the pending sign-in stored in this tab is damaged: sign in again")
            }
            TransactionError::InvalidField(field) => write!(
                f,
                "the pending sign-in stored in this tab has an invalid `{field}`: sign in again"
            ),
            TransactionError::Expired => write!(
                f,
                "the sign-in took longer than {} minutes: sign in again",
                TRANSACTION_TTL_MS / 60_000
            ),
            TransactionError::FromTheFuture => f.write_str(
                "the pending sign-in was started in the future (has the clock changed?): sign in \
                 again",
            ),
        }
    }
}

impl std::error::Error for TransactionError {}

impl Transaction {
    /// A transaction started at `now_ms`; `return_to` is made safe with [`safe_return_to`].
    pub fn new(
        state: String,
        nonce: String,
        code_verifier: Option<String>,
        redirect_uri: String,
        return_to: &str,
        now_ms: u64,
    ) -> Transaction {
        Transaction {
            state,
            nonce,
            code_verifier,
            redirect_uri,
            return_to: safe_return_to(return_to),
            created_at_ms: now_ms,
            dpop_jkt: None,
        }
    }

    /// The stored form: JSON.
    pub fn to_json(&self) -> String {
        // Serializing strings and integers cannot fail; the fallback only keeps this panic-free,
        // and an empty value reads back as `Truncated`.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Reads a stored transaction at `now_ms`, checking its shape, sizes and age. An unsafe
    /// `return_to` is replaced by `/` rather than refused: it is only a convenience.
    pub fn from_json(text: &str, now_ms: u64) -> Result<Transaction, TransactionError> {
        if text.len() > MAX_TRANSACTION_LEN {
            return Err(TransactionError::TooLarge);
        }
        let mut transaction = fields::stored_object(text)
            .and_then(|stored| Transaction::read(&Members(&stored)))
            .map_err(|error| match error {
                Unreadable::Truncated => TransactionError::Truncated,
                Unreadable::Corrupted => TransactionError::Corrupted,
                Unreadable::WrongShape(why) => TransactionError::WrongShape(why),
            })?;
        let random_ok = |value: &str| {
            !value.is_empty()
                && value.len() <= MAX_RANDOM_LEN
                && value.bytes().all(|b| b.is_ascii_graphic())
        };
        if !random_ok(&transaction.state) {
            return Err(TransactionError::InvalidField("state"));
        }
        if !random_ok(&transaction.nonce) {
            return Err(TransactionError::InvalidField("nonce"));
        }
        if let Some(verifier) = &transaction.code_verifier {
            if !is_valid_verifier(verifier) {
                return Err(TransactionError::InvalidField("code_verifier"));
            }
        }
        if let Some(jkt) = &transaction.dpop_jkt {
            if !is_thumbprint(jkt) {
                return Err(TransactionError::InvalidField("dpop_jkt"));
            }
        }
        let redirect_uri = &transaction.redirect_uri;
        if redirect_uri.is_empty()
            || redirect_uri.len() > MAX_URL_LEN
            || redirect_uri.chars().any(char::is_control)
        {
            return Err(TransactionError::InvalidField("redirect_uri"));
        }
        if transaction.created_at_ms > now_ms.saturating_add(FUTURE_LEEWAY_MS) {
            return Err(TransactionError::FromTheFuture);
        }
        if now_ms.saturating_sub(transaction.created_at_ms) > TRANSACTION_TTL_MS {
            return Err(TransactionError::Expired);
        }
        transaction.return_to = safe_return_to(&transaction.return_to);
        Ok(transaction)
    }

    /// Whether this is a code-flow transaction (it holds a PKCE verifier).
    /// The members of a stored transaction, as [`Transaction::to_json`] writes them (see
    /// [`Members`]).
    fn read(stored: &Members<'_>) -> Result<Transaction, Unreadable> {
        let required = |name| Members::required(name, stored.text(name)?);
        Ok(Transaction {
            state: required("state")?,
            nonce: required("nonce")?,
            code_verifier: stored.text("code_verifier")?,
            redirect_uri: required("redirect_uri")?,
            return_to: required("return_to")?,
            created_at_ms: Members::required("created_at_ms", stored.whole("created_at_ms")?)?,
            dpop_jkt: stored.text("dpop_jkt")?,
        })
    }

    pub fn is_code_flow(&self) -> bool {
        self.code_verifier.is_some()
    }
}

/// `path` if it is a same-site absolute path, else `/`: the open-redirect defence for "return to
/// where you were". Same-site means it starts with one `/` (not `//`, a protocol-relative URL to
/// another host), holds no backslash (browsers read `/\` as `//`) and no control character
/// (browsers drop tabs and newlines, so `/\t/evil` becomes `//evil`), and is not absurdly long.
pub fn safe_return_to(path: &str) -> String {
    let safe = path.starts_with('/')
        && !path.starts_with("//")
        && !path.contains('\\')
        && !path.chars().any(char::is_control)
        && path.len() <= MAX_URL_LEN;
    if safe {
        path.to_owned()
    } else {
        "/".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: u64 = 1_700_000_000_000;
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

    fn transaction() -> Transaction {
        Transaction::new(
            "state-1".into(),
            "nonce-1".into(),
            Some(VERIFIER.into()),
            "http://localhost:8080/callback".into(),
            "/profile?tab=1",
            NOW,
        )
    }

    fn stored_with(field: &str, value: serde_json::Value) -> String {
        let mut stored: serde_json::Value = serde_json::from_str(&transaction().to_json()).unwrap();
        stored[field] = value;
        stored.to_string()
    }

    fn check(text: &str, now_ms: u64, expected: Result<Transaction, TransactionError>) {
        assert_eq!(Transaction::from_json(text, now_ms), expected, "{text}");
    }

    #[test]
    fn round_trips() {
        check(&transaction().to_json(), NOW, Ok(transaction()));
        let implicit = Transaction {
            code_verifier: None,
            ..transaction()
        };
        assert!(!implicit.is_code_flow());
        check(&implicit.to_json(), NOW, Ok(implicit.clone()));
        let dpop = Transaction {
            dpop_jkt: Some("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs".into()),
            ..transaction()
        };
        check(&dpop.to_json(), NOW, Ok(dpop.clone()));
        check(
            &stored_with("dpop_jkt", json!("NzbLsXh8")),
            NOW,
            Err(TransactionError::InvalidField("dpop_jkt")),
        );
        assert!(matches!(
            Transaction::from_json(&stored_with("dpop_jkt", json!(7)), NOW),
            Err(TransactionError::WrongShape(_))
        ));
        // Within the time-to-live, and a little clock skew backwards.
        check(
            &transaction().to_json(),
            NOW + TRANSACTION_TTL_MS,
            Ok(transaction()),
        );
        check(
            &transaction().to_json(),
            NOW - FUTURE_LEEWAY_MS,
            Ok(transaction()),
        );
    }

    #[test]
    fn rejects_damaged_or_stale_values() {
        let full = transaction().to_json();
        let half = &full[..full.len() / 2];
        let table: Vec<(String, u64, TransactionError)> = vec![
            ("".into(), NOW, TransactionError::Truncated),
            (half.into(), NOW, TransactionError::Truncated),
            ("{\"state\":\"x\"".into(), NOW, TransactionError::Truncated),
            ("garbage".into(), NOW, TransactionError::Corrupted),
            ("{\"state\" 1}".into(), NOW, TransactionError::Corrupted),
            (
                "x".repeat(MAX_TRANSACTION_LEN + 1),
                NOW,
                TransactionError::TooLarge,
            ),
            (
                stored_with("state", json!("")),
                NOW,
                TransactionError::InvalidField("state"),
            ),
            (
                stored_with("state", json!("a".repeat(MAX_RANDOM_LEN + 1))),
                NOW,
                TransactionError::InvalidField("state"),
            ),
            (
                stored_with("nonce", json!("a b")),
                NOW,
                TransactionError::InvalidField("nonce"),
            ),
            (
                stored_with("code_verifier", json!("short")),
                NOW,
                TransactionError::InvalidField("code_verifier"),
            ),
            (
                stored_with("redirect_uri", json!("")),
                NOW,
                TransactionError::InvalidField("redirect_uri"),
            ),
            (
                transaction().to_json(),
                NOW + TRANSACTION_TTL_MS + 1,
                TransactionError::Expired,
            ),
            (
                transaction().to_json(),
                NOW - FUTURE_LEEWAY_MS - 1,
                TransactionError::FromTheFuture,
            ),
            (
                stored_with("created_at_ms", json!(u64::MAX)),
                NOW,
                TransactionError::FromTheFuture,
            ),
        ];
        for (text, now_ms, expected) in table {
            check(&text, now_ms, Err(expected));
        }
    }

    #[test]
    fn rejects_wrong_types() {
        let table = [
            stored_with("state", json!(5)),
            stored_with("code_verifier", json!(true)),
            stored_with("created_at_ms", json!(-1)),
            stored_with("created_at_ms", json!("1700000000000")),
            stored_with("created_at_ms", json!(1.5)),
            "[]".to_owned(),
            "{}".to_owned(),
        ];
        for text in table {
            let result = Transaction::from_json(&text, NOW);
            assert!(
                matches!(result, Err(TransactionError::WrongShape(_))),
                "{text}: {result:?}"
            );
        }
    }

    /// The stored transaction with `field` holding `raw`, verbatim JSON text.
    fn stored_with_raw(field: &str, raw: &str) -> String {
        const MARKER: &str = "\"__raw_value__\"";
        let text = stored_with(field, json!("__raw_value__"));
        assert_eq!(text.matches(MARKER).count(), 1, "{text}");
        text.replace(MARKER, raw)
    }

    #[test]
    fn rejects_every_missing_or_mistyped_member() {
        let wrong_shape = |text: &str| {
            let result = Transaction::from_json(text, NOW);
            assert!(
                matches!(result, Err(TransactionError::WrongShape(_))),
                "{text}: {result:?}"
            );
        };
        for field in [
            "state",
            "nonce",
            "redirect_uri",
            "return_to",
            "created_at_ms",
        ] {
            let mut stored: serde_json::Value =
                serde_json::from_str(&transaction().to_json()).unwrap();
            stored.as_object_mut().unwrap().remove(field).unwrap();
            wrong_shape(&stored.to_string());
        }
        let not_text = ["null", "true", "1", "1.5", "[]", "{}"];
        for field in ["state", "nonce", "redirect_uri", "return_to"] {
            for raw in not_text {
                wrong_shape(&stored_with_raw(field, raw));
            }
        }
        for raw in ["true", "1", "[]", "{}"] {
            wrong_shape(&stored_with_raw("code_verifier", raw));
        }
        for raw in [
            "null",
            "true",
            "-1",
            "1.5",
            "1e300",
            "1e3",
            "18446744073709551616",
            "\"NaN\"",
            "\"\"",
            "[]",
            "{}",
        ] {
            wrong_shape(&stored_with_raw("created_at_ms", raw));
        }
        for raw in ["NaN", "Infinity", "-Infinity", "01"] {
            check(
                &stored_with_raw("created_at_ms", raw),
                NOW,
                Err(TransactionError::Corrupted),
            );
        }
    }

    #[test]
    fn rejects_absurd_times_and_sizes() {
        let year_3000_ms: u64 = 32_503_680_000_000;
        let table = [
            (json!(0), TransactionError::Expired),
            (json!(1), TransactionError::Expired),
            (json!(year_3000_ms), TransactionError::FromTheFuture),
            (
                json!(NOW + FUTURE_LEEWAY_MS + 1),
                TransactionError::FromTheFuture,
            ),
        ];
        for (created_at, expected) in table {
            check(
                &stored_with("created_at_ms", created_at),
                NOW,
                Err(expected),
            );
        }
        // Whatever the clock says, nothing overflows.
        for now_ms in [0, u64::MAX] {
            let result = Transaction::from_json(&transaction().to_json(), now_ms);
            assert!(result.is_err(), "{now_ms}: {result:?}");
        }
        check(
            &stored_with("redirect_uri", json!("x".repeat(MAX_URL_LEN + 1))),
            NOW,
            Err(TransactionError::InvalidField("redirect_uri")),
        );
        check(
            &stored_with("redirect_uri", json!("http://localhost:8080/\ncallback")),
            NOW,
            Err(TransactionError::InvalidField("redirect_uri")),
        );
        check(
            &stored_with("nonce", json!("")),
            NOW,
            Err(TransactionError::InvalidField("nonce")),
        );
        check(
            &stored_with("state", json!("st\u{e9}te")),
            NOW,
            Err(TransactionError::InvalidField("state")),
        );
        // A huge return_to is not refused: it only becomes the home page.
        check(
            &stored_with("return_to", json!(format!("/{}", "a".repeat(4000)))),
            NOW,
            Ok(Transaction {
                return_to: "/".into(),
                ..transaction()
            }),
        );
    }

    #[test]
    fn unsafe_return_to_becomes_the_home_page() {
        check(
            &stored_with("return_to", json!("https://evil.example/")),
            NOW,
            Ok(Transaction {
                return_to: "/".into(),
                ..transaction()
            }),
        );
        let made = Transaction::new(
            "s".into(),
            "n".into(),
            None,
            "http://localhost:8080/callback".into(),
            "//evil.example",
            NOW,
        );
        assert_eq!(made.return_to, "/");
    }

    #[test]
    fn safe_return_to_keeps_only_same_site_paths() {
        let check =
            |path: &str, expected: &str| assert_eq!(safe_return_to(path), expected, "{path}");
        check("/", "/");
        check("/profile", "/profile");
        check("/api?x=1#top", "/api?x=1#top");
        check("/a//b", "/a//b");
        check("", "/");
        check("profile", "/");
        check("//evil.example", "/");
        check("/\\evil.example", "/");
        check("/\t/evil.example", "/");
        check("/\n/evil.example", "/");
        check("https://evil.example/", "/");
        check("javascript:alert(1)", "/");
        check(&format!("/{}", "a".repeat(MAX_URL_LEN)), "/");
    }

    #[test]
    fn messages_say_what_to_do() {
        for error in [
            TransactionError::Corrupted,
            TransactionError::Expired,
            TransactionError::InvalidField("state"),
            TransactionError::FromTheFuture,
        ] {
            let message = error.to_string();
            assert!(message.ends_with("sign in again"), "{message}");
        }
    }
}
