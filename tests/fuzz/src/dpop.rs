//! Target `dpop`: how the app reads a server's answer to a request that carried a DPoP proof
//! (`oidc_renew_core::dpop`): the `WWW-Authenticate` challenges, the `DPoP-Nonce` header, the token
//! endpoint's error body, and the one-retry rule; and the token type a token response must have.
//!
//! The generator makes answers of both servers with statuses, bodies and headers of every kind:
//! well-formed challenges (several schemes, quoted values with escapes, token68), and hostile text.
//! Properties: no panic; a retry happens only for a challenge of the answering server's form, with a
//! valid nonce taken from the `DPoP-Nonce` header, never for a retry, never with the nonce just sent;
//! a remembered nonce is always a valid one; a header over the limit yields no challenge; a
//! well-formed header parses back to the schemes and `error`s it was made of; a token response is
//! taken exactly when its type is the one asked for.

use crate::gen;
use oidc_renew_core::dpop::{
    dpop_challenge, fresh_nonce, nonce_challenge, parse_challenges, retry_nonce, valid_nonce,
    Answer, Server, TokenType, MAX_CHALLENGE_LEN,
};
use oidc_renew_core::token::{parse_token_response_as, TokenError};
use proptest::prelude::*;
use serde_json::{json, Value};

/// One answer, and how the request that got it was sent.
#[derive(Debug, Clone)]
pub struct Case {
    pub server: Server,
    pub status: u16,
    pub body: String,
    pub dpop_nonce: Option<String>,
    pub www_authenticate: Option<String>,
    /// The nonce the request's proof carried.
    pub sent_nonce: Option<String>,
    /// Whether the request was already the retry.
    pub retried: bool,
    /// A header made of these challenges, when the generator built it well-formed.
    pub made_of: Option<Vec<Made>>,
    /// A `token_type` for the token-response property, and the type asked for.
    pub token_type: String,
    pub asked: TokenType,
}

/// One challenge of a generated header: its scheme and its `error`.
pub type Made = (String, Option<String>);

/// The verdict class: `retry:<nonce>` or `done`, then `fresh:<nonce>` or `fresh:-`, then the DPoP
/// challenge's error (`dpop:<error>`, `dpop:none` for a challenge without one, `dpop:-` for none).
pub fn verdict(case: &Case) -> String {
    let answer = answer(case);
    let retry = match retry_nonce(
        case.server,
        &answer,
        case.sent_nonce.as_deref(),
        case.retried,
    ) {
        Some(nonce) => format!("retry:{}", short(&nonce)),
        None => "done".to_owned(),
    };
    let fresh = fresh_nonce(&answer).map_or("-".to_owned(), short);
    let challenge = match case.www_authenticate.as_deref().and_then(dpop_challenge) {
        Some(challenge) => challenge.error.map_or("none".to_owned(), |e| short(&e)),
        None => "-".to_owned(),
    };
    format!("{retry};fresh:{fresh};dpop:{challenge}")
}

fn short(text: &str) -> String {
    text.chars().take(40).collect()
}

fn answer(case: &Case) -> Answer<'_> {
    Answer {
        status: case.status,
        body: &case.body,
        dpop_nonce: case.dpop_nonce.as_deref(),
        www_authenticate: case.www_authenticate.as_deref(),
    }
}

/// Reads a corpus input: `{"server": "authorization"|"resource", "status", "body", "dpop_nonce",
/// "www_authenticate", "sent_nonce", "retried"}` (absent members: none, empty, false).
pub fn case_of(input: &Value) -> Result<Case, String> {
    let text = |name: &str| input[name].as_str().map(str::to_owned);
    let server = match input["server"].as_str() {
        Some("authorization") => Server::Authorization,
        Some("resource") => Server::Resource,
        other => return Err(format!("server {other:?}")),
    };
    Ok(Case {
        server,
        status: input["status"]
            .as_u64()
            .and_then(|s| u16::try_from(s).ok())
            .ok_or("status")?,
        body: text("body").unwrap_or_default(),
        dpop_nonce: text("dpop_nonce"),
        www_authenticate: text("www_authenticate"),
        sent_nonce: text("sent_nonce"),
        retried: input["retried"].as_bool().unwrap_or(false),
        made_of: None,
        token_type: "DPoP".into(),
        asked: TokenType::DPoP,
    })
}

/// Runs one case, asserts the properties, returns the verdict class.
pub fn check(case: &Case) -> String {
    let answer = answer(case);
    let header = case.www_authenticate.as_deref();
    let challenges = header.map(parse_challenges).unwrap_or_default();
    for challenge in &challenges {
        assert!(
            !challenge.scheme.is_empty()
                && challenge
                    .scheme
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)),
            "scheme {:?}",
            challenge.scheme
        );
    }
    if header.is_some_and(|h| h.len() > MAX_CHALLENGE_LEN) {
        assert!(challenges.is_empty());
    }
    if let (Some(made_of), Some(header)) = (&case.made_of, header) {
        let read: Vec<Made> = parse_challenges(header)
            .into_iter()
            .map(|c| (c.scheme, c.error))
            .collect();
        assert_eq!(&read, made_of, "{header}");
    }

    // A nonce remembered is a nonce.
    let fresh = fresh_nonce(&answer);
    if let Some(nonce) = fresh {
        assert!(valid_nonce(nonce));
        assert_eq!(Some(nonce), case.dpop_nonce.as_deref().map(str::trim));
    }
    assert_eq!(
        fresh.is_some(),
        case.dpop_nonce
            .as_deref()
            .is_some_and(|n| valid_nonce(n.trim()))
    );

    // A challenge only in its server's form, only with a valid nonce from the header.
    let challenge = nonce_challenge(case.server, &answer);
    if let Some(nonce) = &challenge {
        assert_eq!(Some(nonce.as_str()), fresh);
        match case.server {
            Server::Authorization => {
                assert_eq!(case.status, 400);
                let body: Value = serde_json::from_str(&case.body).expect("a JSON error body");
                assert_eq!(body["error"], "use_dpop_nonce");
            }
            Server::Resource => {
                assert_eq!(case.status, 401);
                let header = header.expect("a challenge header");
                assert!(header.contains("use_dpop_nonce"), "{header}");
                assert_eq!(
                    dpop_challenge(header).and_then(|c| c.error).as_deref(),
                    Some("use_dpop_nonce")
                );
            }
        }
    }

    // One retry at most, never with the nonce just refused.
    let retry = retry_nonce(
        case.server,
        &answer,
        case.sent_nonce.as_deref(),
        case.retried,
    );
    if case.retried {
        assert_eq!(retry, None);
    }
    if let Some(nonce) = &retry {
        assert_eq!(Some(nonce), challenge.as_ref());
        assert_ne!(Some(nonce.as_str()), case.sent_nonce.as_deref());
    } else if !case.retried && challenge.is_some() {
        assert_eq!(challenge.as_deref(), case.sent_nonce.as_deref());
    }
    // A retry's own answer, whatever it is, asks for nothing more.
    assert_eq!(
        retry_nonce(case.server, &answer, retry.as_deref(), true),
        None
    );

    check_token_type(&case.token_type, case.asked);
    verdict(case)
}

/// A token response is taken exactly when its `token_type` is the type asked for (any case); the other
/// known type is a mismatch, anything else unsupported: never a downgrade.
fn check_token_type(token_type: &str, asked: TokenType) {
    let body = json!({"access_token": "at", "token_type": token_type}).to_string();
    let result = parse_token_response_as(200, &body, asked);
    match TokenType::from_name(token_type) {
        Some(issued) if issued == asked => {
            assert_eq!(result.map(|r| r.token_type), Ok(token_type.to_owned()))
        }
        Some(_) => assert!(
            matches!(&result, Err(TokenError::TokenTypeMismatch { asked: a, got }) if *a == asked && got == token_type),
            "{result:?}"
        ),
        None => assert_eq!(
            result,
            Err(TokenError::UnsupportedTokenType(token_type.to_owned()))
        ),
    }
}

const NONCE: &str = "[!#-\\[\\]-~]{1,64}";

fn nonce_header() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        6 => NONCE.prop_map(Some),
        1 => Just(None),
        1 => (NONCE, NONCE).prop_map(|(a, b)| Some(format!("{a}, {b}"))),
        1 => NONCE.prop_map(|n| Some(format!(" {n}\t"))),
        2 => gen::text().prop_map(Some),
        1 => (1000usize..1100).prop_map(|n| Some("n".repeat(n))),
    ]
}

fn body() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => Just(r#"{"error":"use_dpop_nonce","error_description":"Authorization server requires nonce in DPoP proof"}"#.to_owned()),
        2 => prop::sample::select(&["invalid_dpop_proof", "invalid_grant", "USE_DPOP_NONCE", "use_dpop_nonce ", ""][..])
            .prop_map(|e| json!({"error": e}).to_string()),
        1 => Just(r#"{"error":["use_dpop_nonce"]}"#.to_owned()),
        1 => Just("<html>use_dpop_nonce</html>".to_owned()),
        2 => gen::text(),
        1 => gen::broken_json(),
    ]
}

/// A parameter value: a token, or a quoted string with escapes.
fn value() -> impl Strategy<Value = (String, String)> {
    prop_oneof![
        3 => "[A-Za-z0-9_.~+-]{1,20}".prop_map(|v| (v.clone(), v)),
        3 => "[ -~\t]{0,30}".prop_map(|v| {
            let quoted = format!("\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\""));
            (quoted, v)
        }),
    ]
}

/// A well-formed header and the (scheme, error) pairs it holds.
fn challenges() -> impl Strategy<Value = (String, Vec<Made>)> {
    let scheme = prop_oneof![
        4 => prop::sample::select(&["DPoP", "dpop", "Bearer", "Basic", "Negotiate"][..]).prop_map(str::to_owned),
        1 => "[A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]{0,8}",
    ];
    let name = prop_oneof![
        3 => prop::sample::select(&["error", "ERROR", "error_description", "algs", "realm"][..]).prop_map(str::to_owned),
        1 => "[a-z]{1,8}",
    ];
    let params = prop::collection::vec((name, value()), 0..4);
    let one = prop_oneof![
        4 => (scheme.clone(), params).prop_map(|(scheme, params)| {
            let error = params
                .iter()
                .rev()
                .find(|(name, _)| name.eq_ignore_ascii_case("error"))
                .map(|(_, (_, value))| value.clone());
            let list: Vec<String> = params
                .iter()
                .map(|(name, (wire, _))| format!("{name}={wire}"))
                .collect();
            let text = if list.is_empty() {
                scheme.clone()
            } else {
                format!("{scheme} {}", list.join(", "))
            };
            (text, (scheme, error))
        }),
        1 => (scheme, "[A-Za-z0-9+/]{4,20}={0,2}").prop_map(|(scheme, t68)| {
            (format!("{scheme} {t68}"), (scheme, None))
        }),
    ];
    prop::collection::vec(one, 1..4).prop_map(|list| {
        let header = list
            .iter()
            .map(|(text, _)| text.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        (header, list.into_iter().map(|(_, made)| made).collect())
    })
}

fn header() -> impl Strategy<Value = (Option<String>, Option<Vec<Made>>)> {
    prop_oneof![
        6 => challenges().prop_map(|(h, made)| (Some(h), Some(made))),
        3 => Just((Some(r#"DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof""#.to_owned()), None)),
        1 => Just((None, None)),
        2 => gen::text().prop_map(|t| (Some(t), None)),
        1 => (MAX_CHALLENGE_LEN - 40..MAX_CHALLENGE_LEN + 40)
            .prop_map(|n| (Some(format!("DPoP error=\"use_dpop_nonce\", x=\"{}\"", "a".repeat(n))), None)),
    ]
}

fn token_type() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(&["DPoP", "dpop", "DPOP", "Bearer", "bearer", "BEARER"][..]).prop_map(str::to_owned),
        1 => prop::sample::select(&["DPoP ", " Bearer", "mac", "N_A", "", "Dpop\0"][..]).prop_map(str::to_owned),
        1 => gen::short_text(),
    ]
}

/// The generator: answers of both servers, statuses near the ones that matter, and the request's
/// side (the nonce it sent, whether it was the retry).
pub fn strategy() -> impl Strategy<Value = Case> {
    let server = prop_oneof![Just(Server::Authorization), Just(Server::Resource)];
    let status = prop_oneof![
        4 => Just(400u16),
        4 => Just(401u16),
        1 => prop::sample::select(&[200u16, 403, 429, 500][..]),
        1 => 0u16..1000,
    ];
    (
        server,
        status,
        body(),
        nonce_header(),
        header(),
        proptest::option::of(NONCE),
        proptest::bool::weighted(0.2),
        token_type(),
        prop_oneof![Just(TokenType::DPoP), Just(TokenType::Bearer)],
    )
        .prop_map(
            |(
                server,
                status,
                body,
                dpop_nonce,
                (www_authenticate, made_of),
                sent,
                retried,
                token_type,
                asked,
            )| {
                // Now and then the request sent exactly the nonce the answer brings.
                let sent_nonce = match (&sent, &dpop_nonce) {
                    (Some(s), Some(n)) if s.len() % 5 == 0 => Some(n.trim().to_owned()),
                    _ => sent,
                };
                Case {
                    server,
                    status,
                    body,
                    dpop_nonce,
                    www_authenticate,
                    sent_nonce,
                    retried,
                    made_of,
                    token_type,
                    asked,
                }
            },
        )
}

/// One generated case.
pub fn case(case: Case) {
    check(&case);
}
