//! Parsing of an authorization response (RFC 6749 §4.1.2, §4.2.2, §4.1.2.1; OpenID Connect Core §3.2.2.5;
//! RFC 9207 `iss`) from the parameter string of a callback URL.
//!
//! Everything here is hostile input: the string comes from a URL that any page can navigate to. The parser
//! accepts one well-formed response and gives every other input a typed error. It does not know the
//! expected `state` or issuer: comparing them is the caller's job.

use percent_encoding::percent_decode_str;
use std::borrow::Cow;

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

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
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

impl std::error::Error for ParseError {}

/// Picks the parameter string of a callback URL: the fragment when it has one (response_mode fragment, the
/// implicit flow), else the query (response_mode query, some providers' errors). Arguments are
/// `location.hash` and `location.search`, with or without their leading `#` / `?`.
pub fn select_params<'a>(hash: &'a str, search: &'a str) -> &'a str {
    let hash = hash.strip_prefix('#').unwrap_or(hash);
    if !hash.is_empty() {
        return hash;
    }
    search.strip_prefix('?').unwrap_or(search)
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
    let input = input.strip_prefix(['#', '?']).unwrap_or(input);
    if input.len() > MAX_INPUT_LEN {
        return Err(ParseError::TooLong);
    }
    let mut slots: [Option<String>; NAMES.len()] = Default::default();
    let mut count = 0;
    for pair in input.split('&').filter(|pair| !pair.is_empty()) {
        count += 1;
        if count > MAX_PARAMS {
            return Err(ParseError::TooManyParameters);
        }
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let name = decode(name)?;
        if name.is_empty() {
            return Err(ParseError::Malformed);
        }
        let Some(index) = NAMES.iter().position(|known| *known == name) else {
            continue;
        };
        if slots[index].is_some() {
            return Err(ParseError::Duplicate(NAMES[index]));
        }
        slots[index] = Some(decode(value)?.into_owned());
    }
    if count == 0 {
        return Err(ParseError::Empty);
    }
    build(slots)
}

fn build(mut slots: [Option<String>; NAMES.len()]) -> Result<Callback, ParseError> {
    for (index, value) in slots.iter().enumerate() {
        if let Some(value) = value {
            if !valid_value(index, value) {
                return Err(ParseError::Invalid(NAMES[index]));
            }
        }
    }
    let mut take = |index: usize| slots[index].take();
    let state = take(STATE);
    let iss = take(ISS);
    let code = take(CODE);
    let access_token = take(ACCESS_TOKEN);
    let id_token = take(ID_TOKEN);
    let error = take(ERROR);
    let token_type = take(TOKEN_TYPE);
    let expires_in = take(EXPIRES_IN);
    let scope = take(SCOPE).filter(|scope| !scope.is_empty());
    let description = take(ERROR_DESCRIPTION);
    let uri = take(ERROR_URI);

    let has_tokens = access_token.is_some() || id_token.is_some();
    let outcome = match (error, code) {
        (Some(_), Some(_)) => return Err(ParseError::Conflicting),
        (Some(_), None) if has_tokens => return Err(ParseError::Conflicting),
        (Some(error), None) => Outcome::Error {
            error,
            description,
            uri,
        },
        (None, Some(_)) if has_tokens => return Err(ParseError::Conflicting),
        (None, Some(code)) => Outcome::Code { code },
        (None, None) if has_tokens => {
            if access_token.is_some() && token_type.is_none() {
                return Err(ParseError::Missing("token_type"));
            }
            let expires_in = match expires_in {
                Some(text) => Some(
                    text.parse()
                        .map_err(|_| ParseError::Invalid("expires_in"))?,
                ),
                None => None,
            };
            Outcome::Tokens(Tokens {
                access_token,
                id_token,
                expires_in,
                scope,
            })
        }
        (None, None) => return Err(ParseError::NoResponse),
    };
    if state.is_none() && !matches!(outcome, Outcome::Error { .. }) {
        return Err(ParseError::Missing("state"));
    }
    Ok(Callback {
        state,
        iss,
        outcome,
    })
}

/// Percent-decodes a name or value of `application/x-www-form-urlencoded` text (`+` is a space), rejecting
/// bytes that do not decode to UTF-8 rather than replacing them.
fn decode(raw: &str) -> Result<Cow<'_, str>, ParseError> {
    if !raw.contains(['%', '+']) {
        return Ok(Cow::Borrowed(raw));
    }
    let spaced = raw.replace('+', " ");
    let decoded = percent_decode_str(&spaced)
        .decode_utf8()
        .map_err(|_| ParseError::Malformed)?;
    Ok(Cow::Owned(decoded.into_owned()))
}

/// The character set RFC 6749 Appendix A (and OpenID Connect for `id_token`) gives each known parameter.
fn valid_value(index: usize, value: &str) -> bool {
    let vschar = |c: char| (' '..='~').contains(&c);
    let nqschar = |c: char| vschar(c) && c != '"' && c != '\\';
    let non_empty_all =
        |allowed: &dyn Fn(char) -> bool| !value.is_empty() && value.chars().all(allowed);
    match index {
        CODE | STATE | ISS | ACCESS_TOKEN | ERROR_URI => non_empty_all(&vschar),
        ERROR => non_empty_all(&nqschar),
        // Some providers send `scope=` when the token carries no scope: read as absent.
        SCOPE => value.chars().all(nqschar),
        // Only bearer tokens are used by this client.
        TOKEN_TYPE => value.eq_ignore_ascii_case("bearer"),
        EXPIRES_IN => non_empty_all(&|c| c.is_ascii_digit()),
        // A compact JWS: base64url segments joined by dots.
        ID_TOKEN => non_empty_all(&|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')),
        // Free text for people: any characters but controls (some providers localize it).
        ERROR_DESCRIPTION => !value.chars().any(char::is_control),
        _ => true,
    }
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
}
