//! Target `callback`: `silent_callback::parse_callback` and `select_params`.
//!
//! Properties: no panic; a success returns exactly the decoded values of the input's parameters (checked
//! against an independent decoder, `percent-encoding`); each error names something the input really
//! has (a duplicated name occurs twice, an invalid one occurs, a missing one does not); a well-formed
//! generated response, written in any escaping style and order among unknown parameters, parses back to
//! what was generated.

use crate::gen::{self, Alphabet, Escape};
use proptest::prelude::*;
use silent_callback::parse::{MAX_INPUT_LEN, MAX_PARAMS};
use silent_callback::{parse_callback, select_params, Callback, Outcome, ParseError, Tokens};

const KNOWN: [&str; 11] = [
    "code",
    "state",
    "iss",
    "access_token",
    "token_type",
    "expires_in",
    "id_token",
    "scope",
    "error",
    "error_description",
    "error_uri",
];

/// The verdict class of a parse: `ok:<kind>` or `err:<code>[:<parameter>]`.
pub fn verdict(result: &Result<Callback, ParseError>) -> String {
    match result {
        Ok(callback) => match callback.outcome {
            Outcome::Code { .. } => "ok:code".into(),
            Outcome::Tokens(_) => "ok:tokens".into(),
            Outcome::Error { .. } => "ok:error".into(),
        },
        Err(error) => error_verdict(error),
    }
}

pub fn error_verdict(error: &ParseError) -> String {
    match error {
        ParseError::Duplicate(name) | ParseError::Missing(name) | ParseError::Invalid(name) => {
            format!("err:{}:{name}", error.code())
        }
        _ => format!("err:{}", error.code()),
    }
}

/// The reference decoding of form text: `+` is a space, then percent-decoding, then strict UTF-8.
fn reference_decode(raw: &str) -> Option<String> {
    percent_encoding::percent_decode_str(&raw.replace('+', " "))
        .decode_utf8()
        .ok()
        .map(|text| text.into_owned())
}

/// The input's parameters as the reference reads them: (decoded name, decoded value), `None` where
/// not UTF-8.
fn reference_pairs(input: &str) -> Vec<(Option<String>, Option<String>)> {
    let input = input
        .strip_prefix('#')
        .or_else(|| input.strip_prefix('?'))
        .unwrap_or(input);
    input
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (reference_decode(name), reference_decode(value))
        })
        .collect()
}

/// Runs one input through the parser, asserts the properties, returns the verdict class.
pub fn check(input: &str) -> String {
    let result = parse_callback(input);
    let pairs = reference_pairs(input);
    let body_len = match input.as_bytes().first() {
        Some(b'#' | b'?') => input.len() - 1,
        _ => input.len(),
    };
    let named = |name: &str| {
        pairs
            .iter()
            .filter(|(n, _)| n.as_deref() == Some(name))
            .count()
    };
    let value = |name: &str| -> Option<String> {
        pairs
            .iter()
            .find(|(n, _)| n.as_deref() == Some(name))
            .map(|(_, v)| v.clone().expect("a parsed value is UTF-8"))
    };
    assert_eq!(
        body_len > MAX_INPUT_LEN,
        result == Err(ParseError::TooLong),
        "too_long iff longer than the bound"
    );
    match &result {
        Ok(callback) => {
            assert!((1..=MAX_PARAMS).contains(&pairs.len()));
            for (name, _) in &pairs {
                let name = name.as_deref().expect("names of a success are UTF-8");
                assert!(!name.is_empty());
            }
            for known in KNOWN {
                assert!(named(known) <= 1, "{known} repeated in a success");
            }
            assert_eq!(callback.state, value("state"), "state");
            assert_eq!(callback.iss, value("iss"), "iss");
            match &callback.outcome {
                Outcome::Code { code } => {
                    assert_eq!(Some(code), value("code").as_ref());
                    for other in ["error", "access_token", "id_token"] {
                        assert_eq!(named(other), 0, "{other} beside code");
                    }
                    assert!(callback.state.is_some());
                }
                Outcome::Tokens(tokens) => {
                    assert_eq!(tokens.access_token, value("access_token"));
                    assert_eq!(tokens.id_token, value("id_token"));
                    assert!(tokens.access_token.is_some() || tokens.id_token.is_some());
                    if tokens.access_token.is_some() {
                        let token_type = value("token_type").expect("token_type with a token");
                        assert!(token_type.eq_ignore_ascii_case("bearer"));
                    }
                    assert_eq!(
                        tokens.expires_in,
                        value("expires_in").map(|v| v.parse::<u32>().expect("expires_in u32"))
                    );
                    assert_eq!(tokens.scope, value("scope").filter(|s| !s.is_empty()));
                    assert_eq!(named("code") + named("error"), 0);
                    assert!(callback.state.is_some());
                }
                Outcome::Error {
                    error,
                    description,
                    uri,
                } => {
                    assert_eq!(Some(error), value("error").as_ref());
                    assert_eq!(*description, value("error_description"));
                    assert_eq!(*uri, value("error_uri"));
                    assert_eq!(named("code") + named("access_token") + named("id_token"), 0);
                }
            }
        }
        Err(error) => {
            assert!(!error.to_string().is_empty());
            match error {
                ParseError::TooLong => {}
                ParseError::Empty => assert!(pairs.is_empty(), "empty, but {pairs:?}"),
                ParseError::TooManyParameters => assert!(pairs.len() > MAX_PARAMS),
                ParseError::Malformed => assert!(
                    pairs.iter().take(MAX_PARAMS).any(|(name, value)| {
                        match name.as_deref() {
                            None | Some("") => true,
                            Some(name) => KNOWN.contains(&name) && value.is_none(),
                        }
                    }),
                    "malformed, but every name and known value decodes"
                ),
                ParseError::NoResponse => {
                    for response in ["code", "access_token", "id_token", "error"] {
                        assert_eq!(named(response), 0, "no_response, but {response}");
                    }
                }
                ParseError::Duplicate(name) => assert!(named(name) >= 2, "duplicate {name}"),
                ParseError::Missing(name) => assert_eq!(named(name), 0, "missing {name}"),
                ParseError::Invalid(name) => assert_eq!(named(name), 1, "invalid {name}"),
                ParseError::Conflicting => {
                    let kinds = [
                        named("code"),
                        named("error"),
                        named("access_token") + named("id_token"),
                    ];
                    assert!(kinds.iter().filter(|&&n| n > 0).count() >= 2, "conflicting");
                }
            }
        }
    }
    // One leading `#` or `?` is ignored, so adding one changes nothing (unless the input has one).
    if !input.starts_with(['#', '?']) {
        assert_eq!(parse_callback(&format!("#{input}")), result, "with #");
    }
    verdict(&result)
}

/// `select_params` returns the hash or the query, less its marker.
pub fn check_select(hash: &str, search: &str) {
    let params = select_params(hash, search);
    let hash_body = hash.strip_prefix('#').unwrap_or(hash);
    let search_body = search.strip_prefix('?').unwrap_or(search);
    if hash_body.is_empty() {
        assert_eq!(params, search_body);
    } else {
        assert_eq!(params, hash_body);
    }
}

/// Names: the known ones (some escaped or in another case), look-alikes, and hostile text.
fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => prop::sample::select(&KNOWN[..]).prop_map(str::to_owned),
        2 => (prop::sample::select(&KNOWN[..]), gen::escape())
            .prop_map(|(name, style)| gen::form_encode(name, style)),
        1 => prop::sample::select(&KNOWN[..]).prop_map(str::to_uppercase),
        1 => prop::sample::select(&KNOWN[..]).prop_map(|name| format!("{name} ")),
        2 => gen::fast_text(Alphabet::Token, 12),
        1 => gen::text(),
    ]
}

/// Values: well-formed tokens, numbers at the edges, escapes of random bytes, hostile text.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => gen::fast_text(Alphabet::Printable, 32).prop_map(|v| gen::form_encode(&v, Escape::Minimal)),
        3 => gen::fast_text(Alphabet::Token, 60),
        2 => prop::sample::select(&["Bearer", "bearer", "BEARER", "mac", "Bearer ", ""][..])
            .prop_map(str::to_owned),
        2 => prop::sample::select(
            &["0", "1", "300", "4294967295", "4294967296", "99999999999", "-5", "%2B5", "3e2", "0x10", " 1"][..]
        )
        .prop_map(str::to_owned),
        2 => prop::collection::vec(any::<u8>(), 0..12)
            .prop_map(|bytes| bytes.iter().map(|b| format!("%{b:02X}")).collect()),
        2 => (gen::text(), gen::escape()).prop_map(|(text, style)| gen::form_encode(&text, style)),
        2 => gen::text(),
    ]
}

/// Parameter strings built from hostile names and values.
fn hostile() -> impl Strategy<Value = String> {
    let pair = prop_oneof![
        8 => (name(), value()).prop_map(|(n, v)| format!("{n}={v}")),
        1 => name(),
        1 => value().prop_map(|v| format!("={v}")),
        1 => (name(), value()).prop_map(|(n, v)| format!("{n}=={v}")),
    ];
    // Mostly a handful of parameters; now and then past MAX_PARAMS (the pairs repeated).
    (
        prop::sample::select(&["", "#", "?", "##", "?#", "#?"][..]),
        prop::collection::vec(pair, 0..8),
        prop::sample::select(&["&", "&", "&", "&&", ";", "&amp;"][..]),
        prop_oneof![12 => Just(1usize), 1 => 2usize..12],
    )
        .prop_map(|(prefix, pairs, separator, times)| {
            let all: Vec<&String> = pairs.iter().cycle().take(pairs.len() * times).collect();
            let all: Vec<&str> = all.into_iter().map(String::as_str).collect();
            format!("{prefix}{}", all.join(separator))
        })
}

/// A well-formed response (values in their RFC character sets) and unknown parameters around it.
pub fn wellformed() -> impl Strategy<Value = (Callback, Vec<(String, String)>)> {
    let vschar = || gen::class_text(Alphabet::Printable, 1, 40, |_| true);
    let nqschar = |min| gen::class_text(Alphabet::Printable, min, 30, |c| c != '"' && c != '\\');
    let outcome = prop_oneof![
        vschar().prop_map(|code| Outcome::Code { code }),
        (
            0u8..3,
            vschar(),
            gen::class_text(Alphabet::Token, 1, 60, |_| true),
            proptest::option::of(any::<u32>()),
            proptest::option::of(nqschar(0)),
        )
            .prop_map(|(which, access_token, id_token, expires_in, scope)| {
                // An access token, an id_token, or both: never neither.
                Outcome::Tokens(Tokens {
                    access_token: (which != 1).then_some(access_token),
                    id_token: (which != 0).then_some(id_token),
                    expires_in,
                    scope,
                })
            }),
        (
            nqschar(1),
            proptest::option::of(gen::class_text(Alphabet::Any, 0, 30, |c| !c.is_control())),
            proptest::option::of(vschar()),
        )
            .prop_map(|(error, description, uri)| Outcome::Error {
                error,
                description,
                uri,
            }),
    ];
    let extra = ("x_[a-z_]{0,8}|session_state", gen::short_text());
    (
        proptest::option::of(vschar()),
        proptest::option::of(vschar()),
        outcome,
        prop::collection::vec(extra, 0..6),
    )
        .prop_map(|(state, iss, outcome, extra)| {
            let state = match outcome {
                Outcome::Error { .. } => state,
                _ => Some(state.unwrap_or_else(|| "s".into())),
            };
            (
                Callback {
                    state,
                    iss,
                    outcome,
                },
                extra,
            )
        })
}

/// The parameters that write `callback`, with the `token_type` an access token needs.
pub fn params_of(callback: &Callback) -> Vec<(String, String)> {
    let mut params = Vec::new();
    let mut put = |name: &str, value: &Option<String>| {
        if let Some(value) = value {
            params.push((name.to_owned(), value.clone()));
        }
    };
    put("state", &callback.state);
    put("iss", &callback.iss);
    match &callback.outcome {
        Outcome::Code { code } => put("code", &Some(code.clone())),
        Outcome::Tokens(tokens) => {
            put("access_token", &tokens.access_token);
            if tokens.access_token.is_some() {
                put("token_type", &Some("Bearer".into()));
            }
            put("id_token", &tokens.id_token);
            put("expires_in", &tokens.expires_in.map(|n| n.to_string()));
            put("scope", &tokens.scope);
        }
        Outcome::Error {
            error,
            description,
            uri,
        } => {
            put("error", &Some(error.clone()));
            put("error_description", description);
            put("error_uri", uri);
        }
    }
    params
}

/// A well-formed response written out: the text, and what it must parse to.
pub fn encoded() -> impl Strategy<Value = (String, Callback)> {
    (
        wellformed(),
        gen::escape(),
        any::<prop::sample::Index>(),
        prop::sample::select(&["", "#", "?"][..]),
        any::<bool>(),
    )
        .prop_map(|((callback, extra), style, rotate, prefix, doubled)| {
            let mut params = params_of(&callback);
            params.extend(extra);
            let turn = rotate.index(params.len());
            params.rotate_left(turn);
            let separator = if doubled { "&&" } else { "&" };
            let text = params
                .iter()
                .map(|(n, v)| {
                    format!(
                        "{}={}",
                        gen::form_encode(n, style),
                        gen::form_encode(v, style)
                    )
                })
                .collect::<Vec<_>>()
                .join(separator);
            let mut expected = callback;
            if let Outcome::Tokens(tokens) = &mut expected.outcome {
                tokens.scope = tokens.scope.take().filter(|s| !s.is_empty());
            }
            (format!("{prefix}{text}"), expected)
        })
}

/// A well-formed response with a few edits: a character inserted, removed or replaced, a cut.
fn near_valid() -> impl Strategy<Value = String> {
    (
        encoded(),
        prop::collection::vec(
            (
                any::<prop::sample::Index>(),
                0u8..4,
                prop::sample::select(
                    &["&", "=", "%", "%0", "+", "#", "\0", "é", "state=x", "code="][..],
                ),
            ),
            1..4,
        ),
    )
        .prop_map(|((text, _), edits)| {
            let mut chars: Vec<char> = text.chars().collect();
            for (at, op, piece) in edits {
                let at = at.index(chars.len() + 1);
                match op {
                    0 => chars.splice(at..at, piece.chars()).for_each(drop),
                    1 if at < chars.len() => drop(chars.remove(at)),
                    2 => chars.truncate(at),
                    _ if at < chars.len() => chars.splice(at..=at, piece.chars()).for_each(drop),
                    _ => {}
                }
            }
            chars.into_iter().collect()
        })
}

/// Every input the target is fed.
pub fn input() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => hostile(),
        3 => encoded().prop_map(|(text, _)| text),
        3 => near_valid(),
        1 => gen::text(),
    ]
}

/// One case: the properties of a generated input and of a well-formed round trip.
pub fn case((input, (text, expected), hash, search): (String, (String, Callback), String, String)) {
    check(&input);
    assert_eq!(
        parse_callback(&text),
        Ok(expected),
        "round trip of {text:?}"
    );
    check_select(&hash, &search);
}

pub fn strategy() -> impl Strategy<Value = (String, (String, Callback), String, String)> {
    (input(), encoded(), gen::text(), gen::text())
}
