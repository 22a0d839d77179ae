//! Target `jwt`: `decode_jwt`, then `validate_id_token` on whatever decodes; and, on a generated
//! provider document, `parse_jwks` and `parse_token_response`.
//!
//! Tokens are three base64url segments of near-valid JSON (headers with `alg` of every type, `crit`,
//! claims of wrong types and absurd dates), other segment counts, padded or standard base64, stray
//! characters and huge tokens. Properties: no panic; a decoded token's signing input is exactly its
//! first two segments, its claims are the second segment's JSON and its header `alg` the first's; each
//! error names the part that is really broken; a well-formed generated token decodes to what was
//! generated and validates to its claims; a validated token's claims meet every expectation.

use crate::gen;
use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine as _;
use oidc_renew_core::jwks::{MAX_JWKS_LEN, MAX_KEYS};
use oidc_renew_core::jwt::{JwtPart, MAX_JWT_LEN};
use oidc_renew_core::token::{MAX_EXPIRES_IN_SECS, MAX_TOKEN_RESPONSE_LEN};
use oidc_renew_core::{
    decode_jwt, parse_jwks, parse_token_response, validate_id_token, IdTokenError,
    IdTokenExpectations, JwksError, JwtError, TokenError, CLOCK_TOLERANCE_SECS,
};
use proptest::prelude::*;
use serde_json::{json, Map, Value};

pub const ISSUER: &str = "https://id.example/";
pub const CLIENT: &str = "client-1";
pub const NONCE: &str = "n-0S6_WzA2Mj";
pub const NOW: i64 = 1_700_000_000;

pub fn expectations(now_secs: i64) -> IdTokenExpectations<'static> {
    IdTokenExpectations {
        issuer: ISSUER,
        client_id: CLIENT,
        nonce: oidc_renew_core::id_token::Nonce::Request(NONCE),
        now_secs,
        expected_sub: None,
    }
}

fn part_name(part: JwtPart) -> &'static str {
    match part {
        JwtPart::Header => "header",
        JwtPart::Claims => "claims",
        JwtPart::Signature => "signature",
    }
}

/// The verdict class of a decode: `ok`, or `err:<variant>[:<detail>]`.
pub fn verdict(result: &Result<(), JwtError>) -> String {
    match result {
        Ok(()) => "ok".into(),
        Err(JwtError::TooLarge) => "err:too_large".into(),
        Err(JwtError::SegmentCount(n)) => format!("err:segment_count:{n}"),
        Err(JwtError::Base64(part)) => format!("err:base64:{}", part_name(*part)),
        Err(JwtError::NotJson(part)) => format!("err:not_json:{}", part_name(*part)),
        Err(JwtError::NotAnObject(part)) => format!("err:not_an_object:{}", part_name(*part)),
        Err(JwtError::MissingAlg) => "err:missing_alg".into(),
        Err(JwtError::InvalidHeader(member)) => format!("err:invalid_header:{member}"),
        Err(JwtError::CriticalHeader) => "err:critical_header".into(),
    }
}

/// The verdict class of id_token validation: `ok` or the error variant in snake case.
pub fn id_token_verdict(result: &Result<(), IdTokenError>) -> String {
    let Err(error) = result else {
        return "ok".into();
    };
    let debug = format!("{error:?}");
    let name: String = debug
        .split(['(', ' ', '{'])
        .next()
        .unwrap_or_default()
        .chars()
        .flat_map(|c| {
            let lower = c.to_ascii_lowercase();
            if c.is_ascii_uppercase() {
                vec!['_', lower]
            } else {
                vec![c]
            }
        })
        .collect();
    let name = name.trim_start_matches('_');
    match error {
        IdTokenError::MissingClaim(claim) | IdTokenError::InvalidClaim(claim) => {
            format!("err:{name}:{claim}")
        }
        _ => format!("err:{name}"),
    }
}

fn segment(token: &str, index: usize) -> &str {
    token.split('.').nth(index).unwrap_or_default()
}

/// Decodes (and, when it decodes, validates) one token; asserts the properties; returns the verdict
/// class of the decoding.
pub fn check(token: &str, now_secs: i64) -> String {
    let result = decode_jwt(token);
    let segments = token.split('.').count();
    assert_eq!(
        token.len() > MAX_JWT_LEN,
        result == Err(JwtError::TooLarge),
        "too_large iff longer than the bound"
    );
    let json_of = |index: usize| -> Option<Value> {
        let bytes = URL_SAFE_NO_PAD.decode(segment(token, index)).ok()?;
        serde_json::from_slice(&bytes).ok()
    };
    match &result {
        Ok(jwt) => {
            assert_eq!(segments, 3);
            let (input, signature) = token.rsplit_once('.').expect("three segments");
            assert_eq!(jwt.signing_input, input);
            assert_eq!(
                Ok(&jwt.signature),
                URL_SAFE_NO_PAD.decode(signature).as_ref()
            );
            let header = json_of(0).expect("the header decodes");
            assert_eq!(
                header.get("alg").and_then(Value::as_str),
                Some(&*jwt.header.alg)
            );
            assert_eq!(
                header.get("kid").and_then(Value::as_str),
                jwt.header.kid.as_deref()
            );
            assert!(header.get("crit").is_none());
            assert_eq!(json_of(1), Some(Value::Object(jwt.claims.clone())));
            assert!(!verdict(&Ok(())).is_empty());
            check_validation(jwt, now_secs);
        }
        Err(error) => {
            assert!(!error.to_string().is_empty());
            let part_segment = |part: &JwtPart| match part {
                JwtPart::Header => 0,
                JwtPart::Claims => 1,
                JwtPart::Signature => 2,
            };
            match error {
                JwtError::TooLarge => {}
                JwtError::SegmentCount(n) => {
                    assert_eq!(*n, segments);
                    assert_ne!(*n, 3);
                }
                JwtError::Base64(part) => assert!(URL_SAFE_NO_PAD
                    .decode(segment(token, part_segment(part)))
                    .is_err()),
                JwtError::NotJson(part) => {
                    assert_eq!(segments, 3);
                    assert!(json_of(part_segment(part)).is_none());
                }
                JwtError::NotAnObject(part) => {
                    assert!(json_of(part_segment(part)).is_some_and(|v| !v.is_object()));
                }
                JwtError::MissingAlg => {
                    let header = json_of(0).expect("a header");
                    assert!(header.get("alg").is_none_or(Value::is_null));
                }
                JwtError::InvalidHeader(member) => {
                    let header = json_of(0).expect("a header");
                    let value = header.get(*member).expect("the member");
                    assert!(!value.is_string() && !value.is_null());
                }
                JwtError::CriticalHeader => {
                    assert!(json_of(0).expect("a header").get("crit").is_some());
                }
            }
        }
    }
    verdict(&result.map(|_| ()))
}

/// A validated token meets every expectation.
fn check_validation(jwt: &oidc_renew_core::Jwt, now_secs: i64) {
    let result = validate_id_token(jwt, &expectations(now_secs));
    if let Ok((alg, claims)) = &result {
        assert_eq!(alg.name(), jwt.header.alg);
        assert_eq!(claims.iss, ISSUER);
        assert!(claims.aud.iter().any(|aud| aud == CLIENT));
        assert!(claims.aud.len() == 1 || claims.azp.as_deref() == Some(CLIENT));
        assert!(claims.exp > now_secs.saturating_sub(CLOCK_TOLERANCE_SECS));
        assert!(claims.iat <= now_secs.saturating_add(CLOCK_TOLERANCE_SECS));
        assert_eq!(claims.nonce.as_deref(), Some(NONCE));
        assert!(!claims.sub.is_empty());
    }
    if let Err(error) = &result {
        assert!(!error.to_string().is_empty());
    }
}

/// Provider documents: the JWKS and the token response parsers, on the same text.
pub fn check_document(text: &str, status: u16) -> (String, String) {
    let jwks = parse_jwks(text);
    assert_eq!(text.len() > MAX_JWKS_LEN, jwks == Err(JwksError::TooLarge));
    if let Ok(set) = &jwks {
        assert!((1..=MAX_KEYS).contains(&set.keys.len()));
        let doc: Value = serde_json::from_str(text).expect("a parsed set is JSON");
        let entries = doc["keys"].as_array().expect("keys");
        assert!(set.keys.len() <= entries.len());
        for key in &set.keys {
            // The public JWK handed to WebCrypto is JSON with the same kty.
            let public: Value = serde_json::from_str(&key.public_jwk_json()).expect("JSON");
            assert_eq!(public["kty"], json!(key.kty));
        }
    }
    let token = parse_token_response(status, text);
    if text.len() > MAX_TOKEN_RESPONSE_LEN {
        assert_eq!(token, Err(TokenError::TooLarge));
    } else if (500..=599).contains(&status) {
        assert_eq!(token, Err(TokenError::Server(status)));
    }
    match &token {
        Ok(response) => {
            assert_eq!(status, 200);
            let doc: Value = serde_json::from_str(text).expect("JSON");
            assert_eq!(doc["access_token"].as_str(), Some(&*response.access_token));
            assert!(!response.access_token.is_empty());
            assert!(response.token_type.eq_ignore_ascii_case("bearer"));
            assert!(response
                .expires_in
                .is_none_or(|s| (1..=MAX_EXPIRES_IN_SECS).contains(&s)));
            assert_ne!(response.id_token.as_deref(), Some(""));
            // A refresh token (rotation) is what the document says, and a token's characters only.
            assert_eq!(
                doc["refresh_token"].as_str(),
                response.refresh_token.as_deref()
            );
            if let Some(refresh_token) = &response.refresh_token {
                assert!(!refresh_token.is_empty());
                assert!(refresh_token.bytes().all(|b| (0x20..=0x7e).contains(&b)));
            }
        }
        Err(error) => {
            assert!(!error.to_string().is_empty());
            if let TokenError::Provider { .. } = error {
                assert!((400..=499).contains(&status));
            }
        }
    }
    let jwks_verdict = match jwks {
        Ok(_) => "ok".to_owned(),
        Err(error) => format!("err:{error:?}"),
    };
    let token_verdict = match token {
        Ok(_) => "ok".to_owned(),
        Err(error) => format!("err:{error:?}")
            .split(['(', ' ', '{'])
            .next()
            .unwrap_or_default()
            .to_owned(),
    };
    (jwks_verdict, token_verdict)
}

/// A claim value: right type, wrong type, or absurd.
fn date() -> impl Strategy<Value = Value> {
    prop_oneof![
        12 => (-100_000i64..100_000).prop_map(|d| json!(NOW + d)),
        1 => prop::sample::select(vec![
            json!(0), json!(-1), json!(i64::MAX), json!(i64::MIN), json!(u64::MAX), json!(9007199254740993i64),
            json!(1.5e300), json!(-1.5e300), json!(1_700_000_000.9), json!("1700000000"), json!(null), json!(true),
            json!([1]), json!({}),
        ]),
        1 => gen::json_value(),
    ]
}

fn claim_string(right: &'static str) -> impl Strategy<Value = Value> {
    prop_oneof![
        16 => Just(json!(right)),
        2 => gen::text().prop_map(Value::String),
        1 => gen::json_value(),
    ]
}

/// Near-valid id_token claims: each member right, wrong, or absent.
fn claims() -> BoxedStrategy<Value> {
    let aud = prop_oneof![
        4 => Just(json!(CLIENT)),
        2 => Just(json!([CLIENT, "other"])),
        1 => Just(json!([])),
        1 => Just(json!([CLIENT, 5])),
        1 => gen::json_value(),
    ];
    let members = (
        proptest::option::weighted(0.9, claim_string("demo")),
        proptest::option::weighted(0.9, claim_string(ISSUER)),
        proptest::option::weighted(0.9, aud),
        proptest::option::weighted(0.9, date()),
        proptest::option::weighted(0.9, date()),
        proptest::option::weighted(0.3, date()),
        proptest::option::weighted(0.9, claim_string(NONCE)),
        proptest::option::weighted(0.3, claim_string(CLIENT)),
        proptest::option::weighted(0.3, gen::json_value()),
        proptest::option::weighted(0.3, gen::json_value()),
    );
    members
        .prop_map(
            |(sub, iss, aud, exp, iat, nbf, nonce, azp, email_verified, name)| {
                let mut object = Map::new();
                for (key, value) in [
                    ("sub", sub),
                    ("iss", iss),
                    ("aud", aud),
                    ("exp", exp),
                    ("iat", iat),
                    ("nbf", nbf),
                    ("nonce", nonce),
                    ("azp", azp),
                    ("email_verified", email_verified),
                    ("name", name),
                ] {
                    if let Some(value) = value {
                        object.insert(key.into(), value);
                    }
                }
                Value::Object(object)
            },
        )
        .boxed()
}

/// Near-valid JOSE headers.
fn header() -> BoxedStrategy<Value> {
    let alg = prop_oneof![
        6 => prop::sample::select(&["RS256", "ES256"][..]).prop_map(|a| json!(a)),
        3 => prop::sample::select(&["none", "NONE", "None", "HS256", "HS512", "PS256", "RS384", "ES512", "rs256", "", "RS256\0"][..])
            .prop_map(|a| json!(a)),
        1 => gen::json_value(),
    ];
    (
        proptest::option::weighted(0.95, alg),
        proptest::option::weighted(0.6, claim_string("k1")),
        proptest::option::weighted(0.5, claim_string("JWT")),
        proptest::option::weighted(0.05, gen::json_value()),
    )
        .prop_map(|(alg, kid, typ, crit)| {
            let mut object = Map::new();
            for (key, value) in [("alg", alg), ("kid", kid), ("typ", typ), ("crit", crit)] {
                if let Some(value) = value {
                    object.insert(key.into(), value);
                }
            }
            Value::Object(object)
        })
        .boxed()
}

/// A segment: JSON text in one of several base64 dialects, or not base64 at all.
fn encode_segment(bytes: &[u8], dialect: u8) -> String {
    match dialect {
        0..=19 => URL_SAFE_NO_PAD.encode(bytes),
        20 => URL_SAFE.encode(bytes),
        21 => STANDARD.encode(bytes),
        22 => format!("{} ", URL_SAFE_NO_PAD.encode(bytes)),
        _ => {
            // A trailing character that leaves a dangling 6 bits, or non-zero padding bits.
            let mut text = URL_SAFE_NO_PAD.encode(bytes);
            text.push(if dialect.is_multiple_of(2) { 'A' } else { '_' });
            text
        }
    }
}

fn json_text() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        24 => Just(None),
        1 => gen::json_value().prop_map(|v| Some(v.to_string().into_bytes())),
        1 => gen::broken_json().prop_map(|t| Some(t.into_bytes())),
        1 => prop::collection::vec(any::<u8>(), 0..40).prop_map(Some),
    ]
    .prop_map(|bytes| bytes.unwrap_or_default())
}

/// Tokens of every shape: three segments of near-valid JSON (most), other counts, raw text.
pub fn token() -> BoxedStrategy<String> {
    let three = (
        header(),
        json_text(),
        claims(),
        json_text(),
        prop::collection::vec(any::<u8>(), 0..80),
        (0u8..24, 0u8..24, 0u8..24),
    )
        .prop_map(
            |(header, header_raw, claims, claims_raw, signature, (dh, dc, ds))| {
                // An empty replacement keeps the structured JSON.
                let header = if header_raw.is_empty() {
                    header.to_string().into_bytes()
                } else {
                    header_raw
                };
                let claims = if claims_raw.is_empty() {
                    claims.to_string().into_bytes()
                } else {
                    claims_raw
                };
                format!(
                    "{}.{}.{}",
                    encode_segment(&header, dh),
                    encode_segment(&claims, dc),
                    encode_segment(&signature, ds)
                )
            },
        );
    prop_oneof![
        12 => three,
        1 => prop::collection::vec(gen::fast_text(gen::Alphabet::Token, 12), 0..7).prop_map(|segments| segments.join(".")),
        1 => (wellformed(), 0usize..3).prop_map(|((token, _), extra)| format!("{token}{}", ".x".repeat(extra))),
        1 => gen::text(),
        1 => (1usize..3).prop_map(|n| {
            // Larger than the bound, but well-formed otherwise.
            let claims = json!({"pad": "a".repeat(n * MAX_JWT_LEN)}).to_string();
            format!("eyJhbGciOiJSUzI1NiJ9.{}.c2ln", URL_SAFE_NO_PAD.encode(claims))
        }),
    ]
    .boxed()
}

/// A valid id_token for [`expectations`] at [`NOW`] (the signature is not checked here) and its `sub`.
pub fn wellformed() -> impl Strategy<Value = (String, String)> {
    (
        prop::sample::select(&["RS256", "ES256"][..]),
        proptest::option::of(gen::fast_text(gen::Alphabet::Printable, 12)),
        gen::class_text(gen::Alphabet::Any, 1, 20, |c| !c.is_control()),
        any::<bool>(),
        1i64..100_000,
        0i64..1_000,
        prop::collection::vec(any::<u8>(), 0..300),
    )
        .prop_map(|(alg, kid, sub, many, ttl, age, signature)| {
            let mut header = json!({"alg": alg, "typ": "JWT"});
            if let Some(kid) = kid {
                header["kid"] = json!(kid);
            }
            let mut claims = json!({
                "iss": ISSUER, "sub": sub, "nonce": NONCE,
                "exp": NOW + ttl, "iat": NOW - age, "auth_time": NOW - age,
            });
            if many {
                claims["aud"] = json!([CLIENT, "api"]);
                claims["azp"] = json!(CLIENT);
            } else {
                claims["aud"] = json!(CLIENT);
            }
            let token = format!(
                "{}.{}.{}",
                URL_SAFE_NO_PAD.encode(header.to_string()),
                URL_SAFE_NO_PAD.encode(claims.to_string()),
                URL_SAFE_NO_PAD.encode(signature)
            );
            (token, sub)
        })
}

/// JWK Sets and token responses, near-valid or not.
pub fn document() -> BoxedStrategy<String> {
    let kty = prop_oneof![
        8 => prop::sample::select(&["RSA", "RSA", "EC", "EC", "oct", "OKP", "rsa", ""][..]).prop_map(|k| json!(k)),
        1 => gen::json_value(),
    ];
    let b64 = prop_oneof![
        8 => gen::class_text(gen::Alphabet::Token, 0, 40, |c| c != '.').prop_map(|s| json!(s)),
        1 => gen::json_value(),
    ];
    let key = (
        proptest::option::weighted(0.95, kty),
        proptest::option::weighted(0.8, b64.clone()),
        proptest::option::weighted(0.8, b64.clone()),
        proptest::option::weighted(0.8, prop_oneof![4 => Just(json!("P-256")), 1 => Just(json!("P-384")), 1 => gen::json_value()]),
        proptest::option::weighted(0.8, b64.clone()),
        proptest::option::weighted(0.8, b64),
        proptest::option::of(claim_string("k1")),
        proptest::option::of(claim_string("sig")),
    )
        .prop_map(|(kty, n, e, crv, x, y, kid, key_use)| {
            let mut object = Map::new();
            for (name, value) in [("kty", kty), ("n", n), ("e", e), ("crv", crv), ("x", x), ("y", y), ("kid", kid), ("use", key_use)] {
                if let Some(value) = value {
                    object.insert(name.into(), value);
                }
            }
            Value::Object(object)
        });
    let jwks = (
        prop::collection::vec(key, 0..8),
        0usize..80,
        proptest::option::weighted(0.1, gen::json_value()),
    )
        .prop_map(|(keys, repeat, replace)| {
            let mut keys = keys;
            // Past MAX_KEYS now and then: the usable key last.
            if repeat > 70 && !keys.is_empty() {
                let last = keys.pop().unwrap_or_default();
                keys = std::iter::repeat_n(json!({"kty": "oct"}), MAX_KEYS)
                    .chain([last])
                    .collect();
            }
            replace.unwrap_or(json!({ "keys": keys })).to_string()
        });
    let token_response = (
        proptest::option::weighted(0.9, claim_string("at-1")),
        proptest::option::weighted(
            0.9,
            prop_oneof![
                Just(json!("Bearer")),
                Just(json!("bearer")),
                Just(json!("DPoP")),
                gen::json_value()
            ],
        ),
        proptest::option::weighted(
            0.7,
            prop_oneof![
                (0u64..100_000).prop_map(|n| json!(n)),
                Just(json!("300")),
                Just(json!(-1)),
                Just(json!(0)),
                Just(json!(1.5)),
                Just(json!(u64::MAX)),
                Just(json!(MAX_EXPIRES_IN_SECS + 1)),
                Just(json!("")),
                gen::json_value(),
            ],
        ),
        proptest::option::weighted(
            0.5,
            prop_oneof![
                wellformed().prop_map(|(t, _)| json!(t)),
                Just(json!("")),
                gen::json_value()
            ],
        ),
        proptest::option::weighted(0.2, claim_string("invalid_grant")),
        proptest::option::weighted(0.2, gen::json_value()),
        // A refresh grant's answer: a rotated refresh token, well-formed or not.
        proptest::option::weighted(
            0.4,
            prop_oneof![
                3 => claim_string("rt-2"),
                1 => Just(json!("")),
                1 => Just(json!("rt\n2")),
                1 => gen::json_value(),
            ],
        ),
    )
        .prop_map(|(at, tt, ei, id, error, description, rt)| {
            let mut object = Map::new();
            for (name, value) in [
                ("access_token", at),
                ("token_type", tt),
                ("expires_in", ei),
                ("id_token", id),
                ("error", error),
                ("error_description", description),
                ("refresh_token", rt),
            ] {
                if let Some(value) = value {
                    object.insert(name.into(), value);
                }
            }
            Value::Object(object).to_string()
        });
    prop_oneof![
        3 => jwks,
        3 => token_response,
        1 => gen::broken_json(),
        // Text and JSON members are now and then huge: this case is rarely needed on its own.
        1 => prop_oneof![29 => Just(String::new()), 1 => Just(format!("{{\"keys\":[],\"pad\":\"{}\"}}", "a".repeat(MAX_JWKS_LEN)))],
    ]
    .boxed()
}

fn status() -> impl Strategy<Value = u16> {
    prop_oneof![
        6 => Just(200u16),
        2 => prop::sample::select(&[400u16, 401, 403, 404][..]),
        1 => prop::sample::select(&[500u16, 502, 503, 599][..]),
        1 => any::<u16>(),
    ]
}

/// The input of one case.
pub type Case = (String, i64, (String, String), String, u16);

pub fn strategy() -> impl Strategy<Value = Case> {
    (
        token(),
        prop_oneof![Just(NOW), NOW - 1_000..NOW + 1_000, any::<i64>()],
        wellformed(),
        document(),
        status(),
    )
}

/// One case: a generated token, a well-formed one (must decode and validate), a document.
pub fn case((token, now, (good, sub), document, status): Case) {
    check(&token, now);
    assert_eq!(check(&good, NOW), "ok", "{good}");
    let decoded = decode_jwt(&good).expect("a well-formed token decodes");
    let (_, claims) = validate_id_token(&decoded, &expectations(NOW))
        .unwrap_or_else(|error| panic!("{good}: {error}"));
    assert_eq!(claims.sub, sub);
    check_document(&document, status);
}
