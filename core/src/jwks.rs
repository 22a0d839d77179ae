//! The provider's signing keys (JWK Set, RFC 7517), the algorithms this app verifies, and the
//! choice of the key for a token. The key is then imported and used by WebCrypto in the glue, from
//! [`Jwk::public_jwk_json`].

use crate::fields;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;

/// Largest JWK Set accepted. Real ones are a few KiB (more with certificate chains).
pub const MAX_JWKS_LEN: usize = 256 * 1024;

/// Most keys read from a set; the rest are ignored. Providers publish two or three.
pub const MAX_KEYS: usize = 64;

/// The id_token signature algorithms this app verifies. Never `none` (no signature) and never
/// `HS*` (a shared secret, which a public client does not have: anyone could forge with it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Alg {
    /// RSASSA-PKCS1-v1_5 with SHA-256, on an RSA key (OpenID Connect's default).
    Rs256,
    /// ECDSA with P-256 and SHA-256.
    Es256,
}

impl Alg {
    /// The algorithm for a JOSE `alg` name; exact match, and only `RS256` and `ES256`.
    pub fn from_name(name: &str) -> Option<Alg> {
        match name {
            "RS256" => Some(Alg::Rs256),
            "ES256" => Some(Alg::Es256),
            _ => None,
        }
    }

    /// The JOSE name.
    pub fn name(self) -> &'static str {
        match self {
            Alg::Rs256 => "RS256",
            Alg::Es256 => "ES256",
        }
    }

    fn suits(self, key: &Jwk) -> bool {
        let present = |member: &Option<String>| member.as_deref().is_some_and(|v| !v.is_empty());
        match self {
            Alg::Rs256 => key.kty == "RSA" && present(&key.n) && present(&key.e),
            Alg::Es256 => {
                key.kty == "EC"
                    && key.crv.as_deref() == Some("P-256")
                    && present(&key.x)
                    && present(&key.y)
            }
        }
    }
}

/// A public key from the set: the members this app reads. Other members are ignored, and never
/// passed on (see [`Jwk::public_jwk_json`]).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Jwk {
    /// Key type: `RSA` or `EC` here.
    pub kty: String,
    /// Key id, matched against the token header's `kid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    /// Intended use (`use`): `sig` for signing keys, `enc` for encryption keys.
    #[serde(rename = "use", default, skip_serializing_if = "Option::is_none")]
    pub key_use: Option<String>,
    /// The algorithm the key is for, if stated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    /// RSA modulus (base64url).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<String>,
    /// RSA public exponent (base64url).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub e: Option<String>,
    /// EC curve, `P-256` here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crv: Option<String>,
    /// EC x coordinate (base64url).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    /// EC y coordinate (base64url).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
}

impl Jwk {
    /// One member of a key set's `keys`: an object with a string `kty` and string (or null, or
    /// absent) optional members; `None` for anything else, which the set skips.
    fn from_member(entry: &Value) -> Option<Jwk> {
        let object = entry.as_object()?;
        let string = |name| {
            fields::string(object, name)
                .ok()
                .map(|v| v.map(str::to_owned))
        };
        Some(Jwk {
            kty: string("kty")??,
            kid: string("kid")?,
            key_use: string("use")?,
            alg: string("alg")?,
            n: string("n")?,
            e: string("e")?,
            crv: string("crv")?,
            x: string("x")?,
            y: string("y")?,
        })
    }

    /// The public members only, as JSON for WebCrypto's `importKey("jwk", ...)`: `kty` with `n`,
    /// `e` (RSA) or `crv`, `x`, `y` (EC), plus `alg` and `use` when the set states them (WebCrypto
    /// checks them against the import). Private members a broken set might carry never pass.
    pub fn public_jwk_json(&self) -> String {
        let public = PublicJwk {
            alg: self.alg.as_deref(),
            crv: self.crv.as_deref(),
            e: self.e.as_deref(),
            kty: &self.kty,
            n: self.n.as_deref(),
            key_use: self.key_use.as_deref(),
            x: self.x.as_deref(),
            y: self.y.as_deref(),
        };
        // Strings only: serializing cannot fail.
        serde_json::to_string(&public).unwrap_or_default()
    }
}

/// A key's public members, in lexicographic order (as a JSON object of them was). Typed rather than a
/// JSON value: only strings, so no number formatting is compiled in.
#[derive(Serialize)]
struct PublicJwk<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    alg: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    crv: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    e: Option<&'a str>,
    kty: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    n: Option<&'a str>,
    #[serde(rename = "use", skip_serializing_if = "Option::is_none")]
    key_use: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    x: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    y: Option<&'a str>,
}

/// A provider's key set.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct Jwks {
    /// The readable keys, in the set's order.
    pub keys: Vec<Jwk>,
}

/// Why a key set cannot be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JwksError {
    /// Larger than [`MAX_JWKS_LEN`].
    TooLarge,
    /// Not a JSON object.
    NotJson,
    /// No `keys` array.
    MissingKeys,
    /// No key in the set can verify RS256 or ES256.
    NoUsableKeys,
}

impl fmt::Display for JwksError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JwksError::TooLarge => write!(
                f,
                "the provider's key set is larger than {} KiB: check the provider's jwks_uri",
                MAX_JWKS_LEN / 1024
            ),
            JwksError::NotJson | JwksError::MissingKeys => f.write_str(
                "the provider's key set is not a JWK Set: check the provider's jwks_uri",
            ),
            JwksError::NoUsableKeys => f.write_str(
                "the provider publishes no RS256 or ES256 signing key: set the client's signing \
                 algorithm to RS256 or ES256 at the provider",
            ),
        }
    }
}

impl std::error::Error for JwksError {}

/// Parses a JWK Set. Keys this app cannot read (missing `kty`, members of the wrong type) are
/// skipped, as RFC 7517 §5 recommends; a set without one key suited to RS256 or ES256 is an error.
pub fn parse_jwks(json: &str) -> Result<Jwks, JwksError> {
    if json.len() > MAX_JWKS_LEN {
        return Err(JwksError::TooLarge);
    }
    let Ok(Value::Object(mut set)) = serde_json::from_str::<Value>(json) else {
        return Err(JwksError::NotJson);
    };
    let Some(Value::Array(entries)) = set.remove("keys") else {
        return Err(JwksError::MissingKeys);
    };
    let keys: Vec<Jwk> = entries
        .into_iter()
        .take(MAX_KEYS)
        .filter_map(|entry| Jwk::from_member(&entry))
        .collect();
    let usable = keys
        .iter()
        .any(|key| [Alg::Rs256, Alg::Es256].iter().any(|alg| alg.suits(key)));
    if !usable {
        return Err(JwksError::NoUsableKeys);
    }
    Ok(Jwks { keys })
}

/// The result of a key search.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyLookup<'a> {
    /// The key to verify with.
    Found(&'a Jwk),
    /// No suitable key: with a `kid`, none has it (the provider may have rotated its keys: fetch
    /// the set once more); without, there is not exactly one suitable key to pick.
    UnknownKid,
}

/// Picks the key for a token signed with `alg`, with the header's `kid` if any.
///
/// A key is suitable when its type (and curve) fits `alg`, its `use`, if stated, is `sig`, and its
/// `alg`, if stated, is `alg`. With a `kid`: the first suitable key with that id. Without one: the
/// only suitable key, if there is exactly one (guessing among several would be unsafe).
pub fn select_key<'a>(jwks: &'a Jwks, alg: Alg, kid: Option<&str>) -> KeyLookup<'a> {
    let mut suitable = jwks.keys.iter().filter(|key| {
        alg.suits(key)
            && key
                .key_use
                .as_deref()
                .is_none_or(|key_use| key_use == "sig")
            && key
                .alg
                .as_deref()
                .is_none_or(|key_alg| key_alg == alg.name())
    });
    let found = match kid {
        Some(kid) => suitable.find(|key| key.kid.as_deref() == Some(kid)),
        None => match (suitable.next(), suitable.next()) {
            (Some(only), None) => Some(only),
            _ => None,
        },
    };
    found.map_or(KeyLookup::UnknownKid, KeyLookup::Found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const RFC7517_RSA_N: &str = concat!(
        "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1",
        "L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4",
        "QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbO",
        "pbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csF",
        "Cur-kEgU8awapJzKnqDKgw",
    );

    /// RFC 7517 Appendix A.1: an EC P-256 key and an RSA key.
    fn rfc7517_set() -> Value {
        json!({"keys": [
            {"kty": "EC", "crv": "P-256",
             "x": "MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4",
             "y": "4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM",
             "use": "enc", "kid": "1"},
            {"kty": "RSA", "n": RFC7517_RSA_N,
             "e": "AQAB", "alg": "RS256", "kid": "2011-04-29"},
        ]})
    }

    fn key(value: Value) -> Jwk {
        serde_json::from_value(value).unwrap()
    }

    fn rsa(kid: Option<&str>) -> Jwk {
        Jwk {
            kty: "RSA".into(),
            kid: kid.map(Into::into),
            key_use: None,
            alg: None,
            n: Some("n".into()),
            e: Some("AQAB".into()),
            crv: None,
            x: None,
            y: None,
        }
    }

    fn ec(kid: Option<&str>) -> Jwk {
        Jwk {
            kty: "EC".into(),
            kid: kid.map(Into::into),
            key_use: None,
            alg: None,
            n: None,
            e: None,
            crv: Some("P-256".into()),
            x: Some("x".into()),
            y: Some("y".into()),
        }
    }

    /// Checks which key (by index in `keys`) is selected, if any.
    fn check(keys: Vec<Jwk>, alg: Alg, kid: Option<&str>, expected: Option<usize>) {
        let jwks = Jwks { keys };
        let expected = match expected {
            Some(index) => KeyLookup::Found(&jwks.keys[index]),
            None => KeyLookup::UnknownKid,
        };
        assert_eq!(
            select_key(&jwks, alg, kid),
            expected,
            "{alg:?} {kid:?} in {:?}",
            jwks.keys
        );
    }

    #[test]
    fn algorithms() {
        for (name, alg) in [("RS256", Some(Alg::Rs256)), ("ES256", Some(Alg::Es256))] {
            assert_eq!(Alg::from_name(name), alg);
            assert_eq!(alg.map(Alg::name), Some(name));
        }
        for refused in [
            "none", "None", "HS256", "HS384", "HS512", "rs256", "PS256", "ES384", "EdDSA", "",
        ] {
            assert_eq!(Alg::from_name(refused), None, "{refused}");
        }
    }

    #[test]
    fn parses_the_rfc7517_example() {
        let jwks = parse_jwks(&rfc7517_set().to_string()).unwrap();
        assert_eq!(jwks.keys.len(), 2);
        assert_eq!(jwks.keys[0].key_use.as_deref(), Some("enc"));
        assert_eq!(jwks.keys[1].kid.as_deref(), Some("2011-04-29"));
        // The EC key is for encryption: not a signing key.
        assert_eq!(
            select_key(&jwks, Alg::Es256, Some("1")),
            KeyLookup::UnknownKid
        );
        assert_eq!(
            select_key(&jwks, Alg::Rs256, Some("2011-04-29")),
            KeyLookup::Found(&jwks.keys[1])
        );
        assert_eq!(
            select_key(&jwks, Alg::Rs256, None),
            KeyLookup::Found(&jwks.keys[1])
        );
    }

    #[test]
    fn parse_table() {
        let check = |json: &str, expected: Result<usize, JwksError>| {
            assert_eq!(
                parse_jwks(json).map(|jwks| jwks.keys.len()),
                expected,
                "{json}"
            );
        };
        check(r#"{"keys":[{"kty":"RSA","n":"n","e":"AQAB"}]}"#, Ok(1));
        // Unreadable keys are skipped (no `kty`, a member of the wrong type), unknown members
        // ignored, null members absent, unknown key types kept but unused.
        check(
            r#"{"keys":[{"n":"no kty"},{"kty":5},"x",{"kty":"RSA","n":"n","e":"AQAB","x5c":["MII"]},
                {"kty":"OKP","crv":"Ed25519","x":"x"},{"kty":"RSA","n":"n","e":"AQAB","kid":7},
                {"kty":"RSA","n":"n","e":"AQAB","kid":null},{"kty":null,"n":"n","e":"AQAB"}]}"#,
            Ok(3),
        );
        check("", Err(JwksError::NotJson));
        check("<html></html>", Err(JwksError::NotJson));
        check("[]", Err(JwksError::NotJson));
        check("{}", Err(JwksError::MissingKeys));
        check(r#"{"keys":{}}"#, Err(JwksError::MissingKeys));
        check(r#"{"keys":[]}"#, Err(JwksError::NoUsableKeys));
        check(
            r#"{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}"#,
            Err(JwksError::NoUsableKeys),
        );
        check(
            r#"{"keys":[{"kty":"RSA","e":"AQAB"}]}"#,
            Err(JwksError::NoUsableKeys),
        );
        check(
            r#"{"keys":[{"kty":"EC","crv":"P-384","x":"x","y":"y"}]}"#,
            Err(JwksError::NoUsableKeys),
        );
        let huge = format!(r#"{{"keys":[],"pad":"{}"}}"#, "a".repeat(MAX_JWKS_LEN));
        check(&huge, Err(JwksError::TooLarge));
        let many: Vec<Value> = (0..MAX_KEYS + 10)
            .map(|i| json!({"kty": "RSA", "kid": i.to_string(), "n": "n", "e": "AQAB"}))
            .collect();
        check(&json!({ "keys": many }).to_string(), Ok(MAX_KEYS));
    }

    #[test]
    fn selection_table() {
        let sig = |mut key: Jwk| {
            key.key_use = Some("sig".into());
            key
        };
        let with_alg = |mut key: Jwk, alg: &str| {
            key.alg = Some(alg.into());
            key
        };
        let enc = |mut key: Jwk| {
            key.key_use = Some("enc".into());
            key
        };
        let r1 = rsa(Some("r1"));
        let r2 = rsa(Some("r2"));
        let e1 = ec(Some("e1"));
        let mut p384 = ec(Some("p384"));
        p384.crv = Some("P-384".into());

        // By kid.
        check(
            vec![r1.clone(), r2.clone()],
            Alg::Rs256,
            Some("r2"),
            Some(1),
        );
        check(
            vec![r1.clone(), e1.clone()],
            Alg::Es256,
            Some("e1"),
            Some(1),
        );
        check(vec![r1.clone()], Alg::Rs256, Some("rotated"), None);
        // The kid's key must fit the algorithm: an ES256 token cannot name an RSA key.
        check(vec![r1.clone(), e1.clone()], Alg::Es256, Some("r1"), None);
        check(vec![p384.clone()], Alg::Es256, Some("p384"), None);
        // `use` and `alg`, when stated, must agree.
        check(vec![sig(r1.clone())], Alg::Rs256, Some("r1"), Some(0));
        check(vec![enc(r1.clone())], Alg::Rs256, Some("r1"), None);
        check(
            vec![with_alg(r1.clone(), "RS256")],
            Alg::Rs256,
            Some("r1"),
            Some(0),
        );
        check(
            vec![with_alg(r1.clone(), "PS256")],
            Alg::Rs256,
            Some("r1"),
            None,
        );
        check(
            vec![with_alg(e1.clone(), "ES256")],
            Alg::Es256,
            Some("e1"),
            Some(0),
        );
        // A later suitable key with the same kid is found past an unsuitable one.
        check(
            vec![enc(r1.clone()), r1.clone()],
            Alg::Rs256,
            Some("r1"),
            Some(1),
        );
        // Without kid: only when exactly one key suits.
        check(vec![r1.clone()], Alg::Rs256, None, Some(0));
        check(vec![rsa(None)], Alg::Rs256, None, Some(0));
        check(vec![r1.clone(), e1.clone()], Alg::Rs256, None, Some(0));
        check(vec![r1.clone(), e1.clone()], Alg::Es256, None, Some(1));
        check(vec![r1.clone(), r2.clone()], Alg::Rs256, None, None);
        check(vec![enc(r1.clone()), r2.clone()], Alg::Rs256, None, Some(1));
        check(vec![], Alg::Rs256, None, None);
        check(vec![e1], Alg::Rs256, None, None);
    }

    #[test]
    fn public_jwk_json_has_public_members_only() {
        let check = |jwk: Value, expected: Value| {
            let json = key(jwk).public_jwk_json();
            assert_eq!(
                serde_json::from_str::<Value>(&json).unwrap(),
                expected,
                "{json}"
            );
        };
        check(
            json!({"kty": "RSA", "kid": "k", "use": "sig", "alg": "RS256", "n": "n", "e": "AQAB",
                   "d": "private", "p": "private", "x5c": ["MII"]}),
            json!({"kty": "RSA", "use": "sig", "alg": "RS256", "n": "n", "e": "AQAB"}),
        );
        check(
            json!({"kty": "EC", "crv": "P-256", "x": "x", "y": "y", "d": "private"}),
            json!({"kty": "EC", "crv": "P-256", "x": "x", "y": "y"}),
        );
        assert_eq!(
            rsa(Some("k")).public_jwk_json(),
            r#"{"e":"AQAB","kty":"RSA","n":"n"}"#
        );
    }

    #[test]
    fn messages() {
        assert!(JwksError::NoUsableKeys
            .to_string()
            .contains("RS256 or ES256"));
    }
}
