//! Target `message`: `silent_callback::decode_message`, the pure part of the renewer's message handling.
//!
//! The renewer (`src/auth/renewer.rs`) reads the posted value's `type`, `params` and `error` properties,
//! each kept only when it is a string, and passes them here. The generator makes both the three fields
//! directly and whole JSON values (objects with members of every type, arrays, scalars), read the same
//! way. Properties: no panic; another `type` is `Foreign`; `params` alone decodes exactly as
//! `parse_callback` does; `error` alone is `Unparsable` exactly for a parser error code's form; any other
//! shape is `Malformed`; every real error code of the parser round-trips.

use crate::{callback, gen};
use proptest::prelude::*;
use serde_json::{Map, Value};
use silent_callback::{
    decode_message, parse_callback, DecodeError, ParseError, SilentMessage, MESSAGE_TYPE,
};

/// The three fields a received message is read as.
pub type Fields = (Option<String>, Option<String>, Option<String>);

/// The verdict class: `ok:callback:<kind>`, `ok:unparsable`, `err:foreign`, `err:malformed` or
/// `err:params:<callback error>`.
pub fn verdict(result: &Result<SilentMessage, DecodeError>) -> String {
    match result {
        Ok(SilentMessage::Callback(callback)) => {
            format!(
                "ok:callback:{}",
                &callback::verdict(&Ok(callback.clone()))[3..]
            )
        }
        Ok(SilentMessage::Unparsable(_)) => "ok:unparsable".into(),
        Err(DecodeError::Foreign) => "err:foreign".into(),
        Err(DecodeError::Malformed) => "err:malformed".into(),
        Err(DecodeError::Params(error)) => {
            format!("err:params:{}", &callback::error_verdict(error)[4..])
        }
    }
}

/// How the renewer reads a posted value: a property counts only when the value is an object and the
/// property a string.
pub fn fields_of(data: &Value) -> Fields {
    let field = |name: &str| match data {
        Value::Object(object) => object.get(name).and_then(Value::as_str).map(str::to_owned),
        _ => None,
    };
    (field("type"), field("params"), field("error"))
}

fn is_error_code(code: &str) -> bool {
    (1..=64).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
}

/// Decodes one message, asserts the properties, returns the verdict class.
pub fn check((kind, params, error): &Fields) -> String {
    let result = decode_message(kind.as_deref(), params.as_deref(), error.as_deref());
    if let Err(error) = &result {
        assert!(!error.to_string().is_empty());
    }
    if kind.as_deref() != Some(MESSAGE_TYPE) {
        assert_eq!(result, Err(DecodeError::Foreign));
        return verdict(&result);
    }
    match (params, error) {
        (Some(params), None) => {
            callback::check(params);
            let expected = parse_callback(params)
                .map(SilentMessage::Callback)
                .map_err(DecodeError::Params);
            assert_eq!(result, expected);
        }
        (None, Some(code)) if is_error_code(code) => {
            assert_eq!(result, Ok(SilentMessage::Unparsable(code.clone())));
        }
        _ => assert_eq!(result, Err(DecodeError::Malformed)),
    }
    verdict(&result)
}

const CODES: &[&str] = &[
    "empty",
    "too_long",
    "too_many_parameters",
    "malformed",
    "no_response",
    "duplicate_parameter",
    "missing_parameter",
    "invalid_parameter",
    "conflicting_parameters",
];

/// Every parse error (one of each kind): their codes are what the page posts.
const PARSE_ERRORS: [ParseError; 9] = [
    ParseError::Empty,
    ParseError::TooLong,
    ParseError::TooManyParameters,
    ParseError::Malformed,
    ParseError::NoResponse,
    ParseError::Duplicate("state"),
    ParseError::Missing("state"),
    ParseError::Invalid("code"),
    ParseError::Conflicting,
];

fn kind() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        16 => Just(Some(MESSAGE_TYPE.to_owned())),
        1 => Just(None),
        2 => prop::sample::select(
            &["oidc-silent-callback ", "OIDC-SILENT-CALLBACK", "oidc-silent-callbac", " oidc-silent-callback",
              "oidc-silent-callback\0", "oidc_silent_callback", "webpackHotUpdate", "", "authorization_response"][..]
        )
        .prop_map(|k| Some(k.to_owned())),
        1 => gen::text().prop_map(Some),
    ]
}

fn error() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        3 => Just(None),
        3 => prop::sample::select(CODES).prop_map(|c| Some(c.to_owned())),
        2 => (0usize..70).prop_map(|n| Some("no_response_".repeat(6).chars().take(n).collect())),
        1 => prop::sample::select(&["Empty", "no_response ", "too-long", "é", "<script>"][..])
            .prop_map(|c| Some(c.to_owned())),
        1 => gen::text().prop_map(Some),
    ]
}

fn params() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        2 => Just(None),
        5 => callback::input().prop_map(Some),
    ]
}

/// A JSON member of any type, or the right one.
fn member(right: impl Strategy<Value = Option<String>>) -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        3 => right.prop_map(|value| value.map(Value::String)),
        1 => gen::json_value().prop_map(Some),
    ]
}

/// A posted value: an object with the three members (each maybe of a wrong type), extra members, or
/// not an object at all.
fn posted() -> impl Strategy<Value = Value> {
    prop_oneof![
        5 => (member(kind()), member(params()), member(error()), prop::collection::vec((gen::fast_text(gen::Alphabet::Token, 6), gen::json_value()), 0..3))
            .prop_map(|(kind, params, error, extra)| {
                let mut object: Map<String, Value> = extra.into_iter().collect();
                for (name, value) in [("type", kind), ("params", params), ("error", error)] {
                    if let Some(value) = value {
                        object.insert(name.into(), value);
                    }
                }
                Value::Object(object)
            }),
        1 => gen::json_value(),
    ]
}

/// Every message the target is fed, as fields.
pub fn input() -> impl Strategy<Value = Fields> {
    prop_oneof![
        1 => (kind(), params(), error()),
        1 => posted().prop_map(|data| fields_of(&data)),
    ]
}

/// One case: a generated message, the page's own success message for a well-formed response, and its
/// error message for a real parse error.
pub fn case(
    (fields, (params, expected), code): (Fields, (String, silent_callback::Callback), String),
) {
    check(&fields);
    let ours = Some(MESSAGE_TYPE);
    assert_eq!(
        decode_message(ours, Some(&params), None),
        Ok(SilentMessage::Callback(expected))
    );
    assert_eq!(
        decode_message(ours, None, Some(&code)),
        Ok(SilentMessage::Unparsable(code.clone()))
    );
}

pub fn strategy() -> impl Strategy<Value = (Fields, (String, silent_callback::Callback), String)> {
    (
        input(),
        callback::encoded(),
        // The codes the page really posts: those of parse errors.
        prop::sample::select(&PARSE_ERRORS[..]).prop_map(|error| error.code().to_owned()),
    )
}
