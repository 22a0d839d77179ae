//! Parsing of an authorization response (RFC 6749 §4.1.2, §4.2.2, §4.1.2.1; OpenID Connect Core §3.2.2.5;
//! RFC 9207 `iss`) from the parameter string of a callback URL.
//!
//! Everything here is hostile input: the string comes from a URL that any page can navigate to. The parser
//! accepts one well-formed response and gives every other input a typed error. It does not know the
//! expected `state` or issuer: comparing them is the caller's job.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

/// Longest parameter string accepted. An implicit response carries an access token and an id_token, a few
/// KB each; anything far larger is not a response from a provider.
pub const MAX_INPUT_LEN: usize = 32 * 1024;

/// Most `&`-separated parameters accepted (providers add a few of their own, such as `session_state`).
pub const MAX_PARAMS: usize = 32;

/// A parsed authorization response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Callback {
    /// The `state` sent with the request. Present on every success; an error response may lack it.
    pub state: Option<String>,
    /// RFC 9207 issuer identifier, when the provider sends one.
    pub iss: Option<String>,
    /// What the provider answered.
    pub outcome: Outcome,
}

/// The provider's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Authorization code flow: a code to exchange at the token endpoint.
    Code { code: String },
    /// Implicit flow (legacy): tokens straight from the authorization endpoint.
    Tokens(Tokens),
    /// An OAuth error response, such as `login_required` after `prompt=none`.
    Error {
        /// The error code, e.g. `login_required`.
        error: String,
        /// Human-readable text from the provider; display it escaped.
        description: Option<String>,
        /// A page about the error.
        uri: Option<String>,
    },
}

/// Tokens of an implicit response (`id_token token` or `id_token`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tokens {
    /// Bearer access token; `token_type` was checked to be `Bearer`.
    pub access_token: Option<String>,
    /// The id_token as a compact JWS; not yet validated.
    pub id_token: Option<String>,
    /// Access token lifetime in seconds, as the provider states it.
    pub expires_in: Option<u32>,
    /// Granted scope, when it differs from the requested one.
    pub scope: Option<String>,
}

/// Why a parameter string is not an authorization response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseError {
    /// No parameters at all.
    Empty,
    /// Longer than [`MAX_INPUT_LEN`].
    TooLong,
    /// More than [`MAX_PARAMS`] parameters.
    TooManyParameters,
    /// A name or value is not valid percent-encoded UTF-8, or a name is empty.
    Malformed,
    /// None of `code`, `access_token`, `id_token` or `error` is present.
    NoResponse,
    /// A response parameter appears more than once (RFC 6749 §3.1 forbids it).
    Duplicate(&'static str),
    /// A parameter this kind of response requires is absent.
    Missing(&'static str),
    /// A parameter's value has characters or a form its definition does not allow.
    Invalid(&'static str),
    /// Parameters of different responses together, such as `code` with `error` (or a hybrid-flow response,
    /// which this client never requests).
    Conflicting,
}

impl ParseError {
    /// A short stable code, for messages and logs.
    pub fn code(&self) -> &'static str {
        match self {
            ParseError::Empty => "empty",
            ParseError::TooLong => "too_long",
            ParseError::TooManyParameters => "too_many_parameters",
            ParseError::Malformed => "malformed",
            ParseError::NoResponse => "no_response",
            ParseError::Duplicate(_) => "duplicate_parameter",
            ParseError::Missing(_) => "missing_parameter",
            ParseError::Invalid(_) => "invalid_parameter",
            ParseError::Conflicting => "conflicting_parameters",
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::Empty => f.write_str("the callback URL carries no parameters"),
            ParseError::TooLong => write!(
                f,
                "the callback parameters are longer than {MAX_INPUT_LEN} bytes"
            ),
            ParseError::TooManyParameters => {
                write!(f, "the callback has more than {MAX_PARAMS} parameters")
            }
            ParseError::Malformed => {
                f.write_str("the callback parameters are not valid percent-encoded UTF-8")
            }
            ParseError::NoResponse => f.write_str("the callback carries no authorization response"),
            ParseError::Duplicate(name) => write!(f, "the callback repeats the parameter `{name}`"),
            ParseError::Missing(name) => write!(f, "the callback lacks the parameter `{name}`"),
            ParseError::Invalid(name) => write!(f, "the callback's `{name}` is not well-formed"),
            ParseError::Conflicting => {
                f.write_str("the callback mixes parameters of different responses")
            }
        }
    }
}

impl core::error::Error for ParseError {}

/// Picks the parameter string of a callback URL: the fragment when it has one (response_mode fragment, the
/// implicit flow), else the query (response_mode query, some providers' errors). Arguments are
/// `location.hash` and `location.search`, with or without their leading `#` / `?`.
pub fn select_params<'a>(hash: &'a str, search: &'a str) -> &'a str {
    let hash = strip_prefix(hash, b'#');
    if !hash.is_empty() {
        return hash;
    }
    strip_prefix(search, b'?')
}

/// `text` without its first byte when that is `prefix` (ASCII). Not `str::strip_prefix`, whose generic
/// pattern machinery costs the page a few hundred bytes.
fn strip_prefix(text: &str, prefix: u8) -> &str {
    match text.as_bytes() {
        [first, ..] if *first == prefix => text.get(1..).unwrap_or(text),
        _ => text,
    }
}

// Known parameters, and the slot each is collected into.
const CODE: usize = 0;
const STATE: usize = 1;
const ISS: usize = 2;
const ACCESS_TOKEN: usize = 3;
const TOKEN_TYPE: usize = 4;
const EXPIRES_IN: usize = 5;
const ID_TOKEN: usize = 6;
const SCOPE: usize = 7;
const ERROR: usize = 8;
const ERROR_DESCRIPTION: usize = 9;
const ERROR_URI: usize = 10;
const NAMES: [&str; 11] = [
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

/// Parses the parameter string of a callback (`a=1&b=2`; one leading `#` or `?` is ignored).
/// Unknown parameters are skipped; known ones are validated by their RFC character sets.
pub fn parse_callback(input: &str) -> Result<Callback, ParseError> {
    let checked = validate(input)?;
    let text = |index: usize| checked.slots[index].map(decode).transpose();
    let outcome = match checked.kind {
        Kind::Code(code) => Outcome::Code {
            code: decode(code)?,
        },
        Kind::Tokens { expires_in } => Outcome::Tokens(Tokens {
            access_token: text(ACCESS_TOKEN)?,
            id_token: text(ID_TOKEN)?,
            expires_in,
            scope: text(SCOPE)?.filter(|scope| !scope.is_empty()),
        }),
        Kind::Error(error) => Outcome::Error {
            error: decode(error)?,
            description: text(ERROR_DESCRIPTION)?,
            uri: text(ERROR_URI)?,
        },
    };
    Ok(Callback {
        state: text(STATE)?,
        iss: text(ISS)?,
        outcome,
    })
}

/// A parameter string that passed every check of [`parse_callback`]: the raw (still form-encoded) value of
/// each known parameter present, by slot, and the kind of response.
pub(crate) struct Checked<'a> {
    slots: [Option<&'a [u8]>; NAMES.len()],
    kind: Kind<'a>,
}

/// The kind of a checked response, with the raw values that make it one.
enum Kind<'a> {
    Code(&'a [u8]),
    Tokens { expires_in: Option<u32> },
    Error(&'a [u8]),
}

/// Every check of [`parse_callback`], in its order, without allocating: values are validated as they decode
/// and nothing is copied out. The silent page posts on this verdict; [`parse_callback`] then decodes.
pub(crate) fn validate(input: &str) -> Result<Checked<'_>, ParseError> {
    let input = match input.as_bytes() {
        [b'#' | b'?', rest @ ..] => rest,
        input => input,
    };
    if input.len() > MAX_INPUT_LEN {
        return Err(ParseError::TooLong);
    }
    let mut slots: [Option<&[u8]>; NAMES.len()] = [None; NAMES.len()];
    let mut count = 0;
    for pair in input.split(|&b| b == b'&').filter(|pair| !pair.is_empty()) {
        count += 1;
        if count > MAX_PARAMS {
            return Err(ParseError::TooManyParameters);
        }
        let (name, value) = match pair.iter().position(|&b| b == b'=') {
            Some(at) => {
                let (name, rest) = pair.split_at(at);
                (name, rest.get(1..).unwrap_or_default())
            }
            None => (pair, &[][..]),
        };
        if name.is_empty() || !is_utf8(name) {
            return Err(ParseError::Malformed);
        }
        let Some(index) = NAMES
            .iter()
            .position(|known| Decoded(name).eq(known.bytes()))
        else {
            continue;
        };
        let (Some(slot), Some(&known)) = (slots.get_mut(index), NAMES.get(index)) else {
            continue;
        };
        if slot.is_some() {
            return Err(ParseError::Duplicate(known));
        }
        if !is_utf8(value) {
            return Err(ParseError::Malformed);
        }
        *slot = Some(value);
    }
    if count == 0 {
        return Err(ParseError::Empty);
    }
    for ((index, value), name) in slots.iter().enumerate().zip(NAMES) {
        if let Some(value) = value {
            if !valid_value(index, value) {
                return Err(ParseError::Invalid(name));
            }
        }
    }
    let [code, state, _, access_token, token_type, expires_in, id_token, _, error, _, _] = slots;
    let has_tokens = access_token.is_some() || id_token.is_some();
    let kind = match (error, code) {
        (Some(_), Some(_)) => return Err(ParseError::Conflicting),
        (Some(_), None) if has_tokens => return Err(ParseError::Conflicting),
        (Some(error), None) => Kind::Error(error),
        (None, Some(_)) if has_tokens => return Err(ParseError::Conflicting),
        (None, Some(code)) => Kind::Code(code),
        (None, None) if has_tokens => {
            if access_token.is_some() && token_type.is_none() {
                return Err(ParseError::Missing("token_type"));
            }
            let expires_in = match expires_in {
                Some(raw) => Some(decimal(raw).ok_or(ParseError::Invalid("expires_in"))?),
                None => None,
            };
            Kind::Tokens { expires_in }
        }
        (None, None) => return Err(ParseError::NoResponse),
    };
    if state.is_none() && !matches!(kind, Kind::Error(_)) {
        return Err(ParseError::Missing("state"));
    }
    Ok(Checked { slots, kind })
}

/// The bytes a name or value of `application/x-www-form-urlencoded` text stands for: `+` is a space, `%`
/// and two hex digits the byte they spell; any other byte, a `%` not followed by two hex digits included,
/// is itself.
struct Decoded<'a>(&'a [u8]);

impl Iterator for Decoded<'_> {
    type Item = u8;

    fn next(&mut self) -> Option<u8> {
        let (&first, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(match first {
            b'+' => b' ',
            b'%' => match rest {
                [high, low, rest @ ..] => match (hex(*high), hex(*low)) {
                    (Some(high), Some(low)) => {
                        self.0 = rest;
                        high << 4 | low
                    }
                    _ => b'%',
                },
                _ => b'%',
            },
            byte => byte,
        })
    }
}

fn hex(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}

/// The characters of bytes read strictly as UTF-8 (those of a decoded name or value, or plain ones): an item
/// is `None` where the bytes are not UTF-8 (a stray continuation byte, a truncated or overlong sequence, a
/// surrogate, beyond U+10FFFF). Accepts exactly what `core::str::from_utf8` accepts (host-tested), in a
/// fraction of its code.
struct Chars<I>(I);

impl<I: Iterator<Item = u8>> Iterator for Chars<I> {
    type Item = Option<char>;

    fn next(&mut self) -> Option<Option<char>> {
        let first = self.0.next()?;
        // Continuation bytes after the first, the payload bits of the first, the least scalar value.
        let (more, bits, least) = match first {
            0x00..=0x7F => return Some(Some(char::from(first))),
            0xC2..=0xDF => (1, first & 0x1F, 0x80),
            0xE0..=0xEF => (2, first & 0x0F, 0x800),
            0xF0..=0xF4 => (3, first & 0x07, 0x1_0000),
            _ => return Some(None),
        };
        let mut scalar = u32::from(bits);
        for _ in 0..more {
            match self.0.next() {
                Some(byte) if byte & 0xC0 == 0x80 => scalar = scalar << 6 | u32::from(byte & 0x3F),
                _ => return Some(None),
            }
        }
        // `from_u32` refuses surrogates and values beyond U+10FFFF.
        Some(char::from_u32(scalar).filter(|_| scalar >= least))
    }
}

/// The characters of a form-encoded name or value.
fn chars(raw: &[u8]) -> Chars<Decoded<'_>> {
    Chars(Decoded(raw))
}

/// Whether a form-encoded name or value decodes to UTF-8.
fn is_utf8(raw: &[u8]) -> bool {
    chars(raw).all(|c| c.is_some())
}

/// Whether plain bytes are UTF-8. The silent page checks the text it copies out of the browser with it.
#[cfg(any(feature = "bundle", test))]
pub(crate) fn is_utf8_bytes(bytes: &[u8]) -> bool {
    Chars(bytes.iter().copied()).all(|c| c.is_some())
}

/// Decodes a checked name or value.
fn decode(raw: &[u8]) -> Result<String, ParseError> {
    String::from_utf8(Decoded(raw).collect::<Vec<u8>>()).map_err(|_| ParseError::Malformed)
}

/// The number a checked run of decimal digits spells, unless it exceeds `u32`.
fn decimal(raw: &[u8]) -> Option<u32> {
    Decoded(raw).try_fold(0u32, |number, digit| {
        number
            .checked_mul(10)?
            .checked_add(char::from(digit).to_digit(10)?)
    })
}

// Character classes of values, as bits: RFC 6749 Appendix A's VSCHAR (%x20-7E) and NQSCHAR (VSCHAR but `"`
// and `\`), a decimal digit, a character of a compact JWS (base64url and `.`), anything but a control.
const VSCHAR: u8 = 1;
const NQSCHAR: u8 = 2;
const DIGIT: u8 = 4;
const JWS: u8 = 8;
const TEXT: u8 = 16;
/// Not a class: the value must not be empty.
const NON_EMPTY: u8 = 128;

/// The classes `c` belongs to.
fn classes(c: char) -> u8 {
    let mut bits = 0;
    if (' '..='~').contains(&c) {
        bits |= VSCHAR;
        if c != '"' && c != '\\' {
            bits |= NQSCHAR;
        }
    }
    if c.is_ascii_digit() {
        bits |= DIGIT;
    }
    if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
        bits |= JWS;
    }
    if !c.is_control() {
        bits |= TEXT;
    }
    bits
}

/// The character set RFC 6749 Appendix A (and OpenID Connect for `id_token`) gives each known parameter.
fn valid_value(index: usize, raw: &[u8]) -> bool {
    let rule = match index {
        CODE | STATE | ISS | ACCESS_TOKEN | ERROR_URI => VSCHAR | NON_EMPTY,
        ERROR => NQSCHAR | NON_EMPTY,
        // Some providers send `scope=` when the token carries no scope: read as absent.
        SCOPE => NQSCHAR,
        // Only bearer tokens are used by this client.
        TOKEN_TYPE => return Decoded(raw).map(|b| b.to_ascii_lowercase()).eq(*b"bearer"),
        EXPIRES_IN => DIGIT | NON_EMPTY,
        // A compact JWS: base64url segments joined by dots.
        ID_TOKEN => JWS | NON_EMPTY,
        // Free text for people: any characters but controls (some providers localize it).
        ERROR_DESCRIPTION => TEXT,
        _ => return true,
    };
    // A raw value is empty exactly when its decoded value is.
    let class = rule & !NON_EMPTY;
    (rule & NON_EMPTY == 0 || !raw.is_empty())
        && chars(raw).all(|c| c.is_some_and(|c| classes(c) & class != 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(code: &str, state: &str, iss: Option<&str>) -> Callback {
        Callback {
            state: Some(state.into()),
            iss: iss.map(Into::into),
            outcome: Outcome::Code { code: code.into() },
        }
    }

    fn check(input: &str, expected: Result<Callback, ParseError>) {
        assert_eq!(parse_callback(input), expected, "input: {input:?}");
    }

    #[test]
    fn code_responses() {
        check("code=abc&state=xyz", Ok(code("abc", "xyz", None)));
        check("#code=abc&state=xyz", Ok(code("abc", "xyz", None)));
        check("?state=xyz&code=abc", Ok(code("abc", "xyz", None)));
        check(
            "code=abc&state=xyz&iss=http%3A%2F%2Flocalhost%3A4000",
            Ok(code("abc", "xyz", Some("http://localhost:4000"))),
        );
        // Unknown parameters (session_state and the like) are skipped, empty pairs too.
        check(
            "code=abc&&state=xyz&session_state=s.1&",
            Ok(code("abc", "xyz", None)),
        );
        // `+` is a space in form encoding, and `%2B` a plus.
        check("code=a%2Bb&state=x+y", Ok(code("a+b", "x y", None)));
    }

    #[test]
    fn implicit_responses() {
        let input = "access_token=at.1&token_type=Bearer&expires_in=300&id_token=aa.bb.cc&state=s&scope=openid+profile";
        let expected = Callback {
            state: Some("s".into()),
            iss: None,
            outcome: Outcome::Tokens(Tokens {
                access_token: Some("at.1".into()),
                id_token: Some("aa.bb.cc".into()),
                expires_in: Some(300),
                scope: Some("openid profile".into()),
            }),
        };
        check(input, Ok(expected));
        // `response_type=id_token` alone.
        let expected = Callback {
            state: Some("s".into()),
            iss: None,
            outcome: Outcome::Tokens(Tokens {
                access_token: None,
                id_token: Some("a.b.c".into()),
                expires_in: None,
                scope: None,
            }),
        };
        check("id_token=a.b.c&state=s", Ok(expected.clone()));
        // An empty scope (a token without scope) reads as no scope.
        check("id_token=a.b.c&state=s&scope=", Ok(expected));
        check(
            "access_token=at&token_type=bearer&state=s",
            Ok(parse_callback("access_token=at&token_type=BEARER&state=s").unwrap()),
        );
    }

    #[test]
    fn error_responses() {
        let error = |error: &str, description: Option<&str>, state: Option<&str>| Callback {
            state: state.map(Into::into),
            iss: None,
            outcome: Outcome::Error {
                error: error.into(),
                description: description.map(Into::into),
                uri: None,
            },
        };
        check(
            "error=login_required&state=s",
            Ok(error("login_required", None, Some("s"))),
        );
        check(
            "error=access_denied&error_description=User%20did%20not%20consent&state=s",
            Ok(error(
                "access_denied",
                Some("User did not consent"),
                Some("s"),
            )),
        );
        // Providers may drop state on errors; the caller then cannot match it to a request.
        check(
            "error=invalid_request",
            Ok(error("invalid_request", None, None)),
        );
        // Localized descriptions pass; controls do not.
        check(
            "error=x&error_description=D%C3%A9j%C3%A0",
            Ok(error("x", Some("Déjà"), None)),
        );
        check(
            "error=x&error_description=a%0Ab",
            Err(ParseError::Invalid("error_description")),
        );
    }

    #[test]
    fn hostile_inputs() {
        let long = format!("code={}&state=s", "a".repeat(MAX_INPUT_LEN));
        let many = "x=1&".repeat(MAX_PARAMS + 1);
        let table: &[(&str, ParseError)] = &[
            ("", ParseError::Empty),
            ("#", ParseError::Empty),
            ("&&&", ParseError::Empty),
            (&long, ParseError::TooLong),
            (&many, ParseError::TooManyParameters),
            ("garbage", ParseError::NoResponse),
            ("foo=bar&state=s", ParseError::NoResponse),
            ("=abc&code=1&state=s", ParseError::Malformed),
            ("code=%FF&state=s", ParseError::Malformed),
            ("code=%C3&state=s", ParseError::Malformed),
            ("co%64e=1&code=2&state=s", ParseError::Duplicate("code")),
            ("code=1&state=a&state=b", ParseError::Duplicate("state")),
            ("code=abc", ParseError::Missing("state")),
            ("id_token=a.b.c", ParseError::Missing("state")),
            ("access_token=at&state=s", ParseError::Missing("token_type")),
            ("code=&state=s", ParseError::Invalid("code")),
            ("code=a%00b&state=s", ParseError::Invalid("code")),
            ("code=caf%C3%A9&state=s", ParseError::Invalid("code")),
            ("code=1&state=%0A", ParseError::Invalid("state")),
            (
                "access_token=at&token_type=mac&state=s",
                ParseError::Invalid("token_type"),
            ),
            (
                "access_token=at&token_type=Bearer&expires_in=-5&state=s",
                ParseError::Invalid("expires_in"),
            ),
            (
                "access_token=at&token_type=Bearer&expires_in=%2B5&state=s",
                ParseError::Invalid("expires_in"),
            ),
            (
                "access_token=at&token_type=Bearer&expires_in=99999999999&state=s",
                ParseError::Invalid("expires_in"),
            ),
            ("id_token=a.b%20c&state=s", ParseError::Invalid("id_token")),
            ("error=a%22b", ParseError::Invalid("error")),
            ("error=", ParseError::Invalid("error")),
            (
                "code=1&error=login_required&state=s",
                ParseError::Conflicting,
            ),
            (
                "error=x&access_token=at&token_type=Bearer",
                ParseError::Conflicting,
            ),
            ("code=1&id_token=a.b.c&state=s", ParseError::Conflicting),
        ];
        for (input, error) in table {
            check(input, Err(*error));
        }
    }

    #[test]
    fn every_error_has_a_distinct_code_and_a_message() {
        let errors = [
            ParseError::Empty,
            ParseError::TooLong,
            ParseError::TooManyParameters,
            ParseError::Malformed,
            ParseError::NoResponse,
            ParseError::Duplicate("code"),
            ParseError::Missing("state"),
            ParseError::Invalid("code"),
            ParseError::Conflicting,
        ];
        let mut codes: Vec<_> = errors.iter().map(ParseError::code).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), errors.len());
        assert!(ParseError::Duplicate("state")
            .to_string()
            .contains("`state`"));
    }

    #[test]
    fn selects_the_fragment_before_the_query() {
        assert_eq!(select_params("#a=1", "?b=2"), "a=1");
        assert_eq!(select_params("", "?b=2"), "b=2");
        assert_eq!(select_params("#", "?b=2"), "b=2");
        assert_eq!(select_params("", ""), "");
    }

    /// The decoding before the allocation-free rewrite: `+` to a space, then `percent_decode_str`, then
    /// strict UTF-8.
    fn reference_decode(raw: &str) -> Option<String> {
        percent_encoding::percent_decode_str(&raw.replace('+', " "))
            .decode_utf8()
            .ok()
            .map(std::borrow::Cow::into_owned)
    }

    fn check_decodes_like_the_reference(raw: &str) {
        let expected = reference_decode(raw);
        let bytes = raw.as_bytes();
        assert_eq!(decode(bytes).ok(), expected, "decode {raw:?}");
        assert_eq!(is_utf8(bytes), expected.is_some(), "is_utf8 {raw:?}");
        if let Some(expected) = expected {
            let streamed: Option<String> = chars(bytes).collect();
            assert_eq!(streamed.as_ref(), Some(&expected), "chars {raw:?}");
        }
    }

    #[test]
    fn decodes_form_text_like_the_reference() {
        // Separated by spaces; the empty piece too.
        let pieces: Vec<&str> =
            " a Z + % %% %2 %2B %2b %20 %g0 %0g %+4 %4+1 %00 %7F %80 %BF %C0%80 \
            %C2%80 %C3 %A9 %c3%a9 é %E0%A0%80 %E0%9F%BF %ED%9F%BF %ED%A0%80 %EF%BF%BF %F0%90%80%80 \
            %F0%8F%BF%BF %F4%8F%BF%BF %F4%90%80%80 %F5%80%80%80 %FF = &"
                .split(' ')
                .collect();
        for a in &pieces {
            for b in &pieces {
                for c in &pieces {
                    check_decodes_like_the_reference(&format!("{a}{b}{c}"));
                }
            }
        }
    }

    /// Strict UTF-8, as `core::str::from_utf8` defines it, on every sequence of up to two bytes and on the
    /// boundary cases of longer ones.
    #[test]
    fn decodes_utf8_like_core() {
        let encoded =
            |bytes: &[u8]| -> String { bytes.iter().map(|b| format!("%{b:02X}")).collect() };
        let check = |bytes: &[u8]| {
            let expected = std::str::from_utf8(bytes).ok();
            let raw = encoded(bytes);
            assert_eq!(
                decode(raw.as_bytes()).ok().as_deref(),
                expected,
                "{bytes:02X?}"
            );
            assert_eq!(is_utf8(raw.as_bytes()), expected.is_some(), "{bytes:02X?}");
        };
        let edges = [
            0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF, 0xE0,
            0xED, 0xEF, 0xF0, 0xF4, 0xF5, 0xFF,
        ];
        for first in 0..=255u8 {
            check(&[first]);
            for second in 0..=255u8 {
                check(&[first, second]);
                for third in edges {
                    check(&[first, second, third]);
                    if first >= 0xF0 {
                        for fourth in edges {
                            check(&[first, second, third, fourth]);
                        }
                    }
                }
            }
        }
    }

    /// The page turns browser text into `&str` on this check alone, so it must accept exactly what
    /// `core::str::from_utf8` accepts: every sequence of up to three bytes, and four-byte ones around every
    /// boundary.
    #[test]
    fn plain_bytes_are_utf8_like_core() {
        let check = |bytes: &[u8]| {
            assert_eq!(
                is_utf8_bytes(bytes),
                std::str::from_utf8(bytes).is_ok(),
                "{bytes:02X?}"
            );
        };
        let edges = [
            0x00, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xF4, 0xFF,
        ];
        for first in 0..=255u8 {
            check(&[first]);
            for second in 0..=255u8 {
                check(&[first, second]);
                for third in 0..=255u8 {
                    check(&[first, second, third]);
                    if first >= 0xF0 && edges.contains(&third) {
                        for fourth in edges {
                            check(&[first, second, third, fourth]);
                        }
                    }
                }
            }
        }
        check("aé€😀".as_bytes());
    }

    #[test]
    fn validate_agrees_with_parse_callback() {
        for input in [
            "code=abc&state=xyz",
            "garbage",
            "error=login_required",
            "id_token=a.b.c&state=s",
            "code=%FF&state=s",
            "",
        ] {
            assert_eq!(
                validate(input).map(|_| ()),
                parse_callback(input).map(|_| ()),
                "{input:?}"
            );
        }
    }
}
