//! The message the silent page posts to its parent, and its decoding on the receiving side.
//!
//! The page posts a plain object `{ type: "oidc-silent-callback", params }` holding the raw parameter
//! string it parsed successfully, or `{ type: "oidc-silent-callback", error }` holding the parser's error
//! code. The receiver parses `params` again with the same parser: a message event is as hostile as a URL,
//! since any same-origin script can post one.

use crate::parse::{parse_callback, Callback, ParseError};
use alloc::string::String;
use core::fmt;

/// The `type` field that marks a message as the silent page's.
pub const MESSAGE_TYPE: &str = "oidc-silent-callback";

/// What a silent-page message said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SilentMessage {
    /// The page found a well-formed authorization response.
    Callback(Callback),
    /// The page was loaded with parameters it could not parse; the code says why.
    Unparsable(String),
}

/// Why a message is not a usable silent-page message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// Not a silent-page message at all (another type, or not an object): ignore it.
    Foreign,
    /// Has our type but not the shape the page posts.
    Malformed,
    /// Has our shape, but its parameters do not parse.
    Params(ParseError),
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Foreign => f.write_str("not a silent-renewal message"),
            DecodeError::Malformed => f.write_str("a silent-renewal message of the wrong shape"),
            DecodeError::Params(error) => {
                write!(f, "a silent-renewal message with a bad callback: {error}")
            }
        }
    }
}

impl core::error::Error for DecodeError {}

/// Decodes the fields of a received message object: its `type`, `params` and `error` properties, each
/// `None` when absent or not a string.
pub fn decode_message(
    kind: Option<&str>,
    params: Option<&str>,
    error: Option<&str>,
) -> Result<SilentMessage, DecodeError> {
    if kind != Some(MESSAGE_TYPE) {
        return Err(DecodeError::Foreign);
    }
    match (params, error) {
        (Some(params), None) => parse_callback(params)
            .map(SilentMessage::Callback)
            .map_err(DecodeError::Params),
        (None, Some(code)) if is_error_code(code) => Ok(SilentMessage::Unparsable(code.into())),
        _ => Err(DecodeError::Malformed),
    }
}

fn is_error_code(code: &str) -> bool {
    (1..=64).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::Outcome;

    #[test]
    fn decodes_what_the_page_posts() {
        let message = decode_message(Some(MESSAGE_TYPE), Some("code=c&state=s"), None).unwrap();
        let SilentMessage::Callback(callback) = message else {
            panic!("expected a callback: {message:?}")
        };
        assert_eq!(callback.outcome, Outcome::Code { code: "c".into() });
        assert_eq!(
            decode_message(
                Some(MESSAGE_TYPE),
                None,
                Some(ParseError::NoResponse.code())
            ),
            Ok(SilentMessage::Unparsable("no_response".into()))
        );
    }

    fn check_rejected(
        kind: Option<&str>,
        params: Option<&str>,
        error: Option<&str>,
        expected: DecodeError,
    ) {
        let result = decode_message(kind, params, error);
        assert_eq!(result, Err(expected), "{kind:?} {params:?} {error:?}");
    }

    #[test]
    fn rejects_everything_else() {
        let ours = Some(MESSAGE_TYPE);
        let good = Some("code=c&state=s");
        check_rejected(None, good, None, DecodeError::Foreign);
        check_rejected(
            Some("oidc-silent-callback "),
            good,
            None,
            DecodeError::Foreign,
        );
        check_rejected(Some("webpackHotUpdate"), None, None, DecodeError::Foreign);
        check_rejected(ours, None, None, DecodeError::Malformed);
        check_rejected(ours, good, Some("empty"), DecodeError::Malformed);
        check_rejected(ours, None, Some("<script>"), DecodeError::Malformed);
        check_rejected(ours, None, Some(""), DecodeError::Malformed);
        let missing_state = DecodeError::Params(ParseError::Missing("state"));
        check_rejected(ours, Some("code=c"), None, missing_state);
        check_rejected(ours, Some(""), None, DecodeError::Params(ParseError::Empty));
    }
}
