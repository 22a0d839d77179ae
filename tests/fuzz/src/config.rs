//! Target `config`: `Config::from_json`, the parser of `config.json`.
//!
//! The generator writes JSON objects member by member, each member absent, right, of a wrong type, or
//! of the right type with a bad value (URLs with credentials, fragments, plain http to a remote host,
//! relative or protocol-relative paths, scopes without `openid`, controls), plus unknown and duplicated
//! members, garbage text and oversized files; it labels what it wrote. Properties: no panic; all members
//! right means `Ok` with exactly those values (defaults for the absent ones); a member of a wrong type,
//! an unknown or duplicated member, or a missing required one means a JSON error naming no field; a
//! field-level error names a member the generator did not write as right.

use crate::gen;
use oidc_renew::config::AppConfig as Config;
use oidc_renew_core::config::{
    AuthConfig, ConfigError, DpopMode, Flow, LogoutMethod, ProviderKind, RenewalMode, StorageKind,
    MAX_CONFIG_LEN,
};
use proptest::prelude::*;
use serde_json::{json, Value};

/// What the generator knows about a member it wrote.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Label {
    /// Right type and an acceptable value.
    Valid,
    /// Right type, a value validation must refuse.
    Invalid,
    /// A type (or enum variant) the JSON reader must refuse.
    WrongType,
    /// Right type, a value the generator does not judge.
    Unknown,
}

/// The verdict class: `ok`, `err:json` (not a configuration: syntax, types, members), `err:too_large`,
/// or `err:<field>`.
pub fn verdict(result: &Result<Config, ConfigError>) -> String {
    match result {
        Ok(_) => "ok".into(),
        Err(ConfigError {
            field: Some(field), ..
        }) => format!("err:{field}"),
        Err(error) if error.message.contains("larger than") => "err:too_large".into(),
        Err(_) => "err:json".into(),
    }
}

/// Parses one text; asserts the generic properties; returns the result and its verdict class.
pub fn check(text: &str) -> (Result<Config, ConfigError>, String) {
    let result = Config::from_json(text);
    match &result {
        Ok(config) => {
            assert!(text.len() <= MAX_CONFIG_LEN);
            let config = &config.auth;
            assert!(config.issuer.starts_with("https://") || config.issuer.starts_with("http://"));
            assert!(!config.issuer.contains(['#', ' ', '@']));
            assert!(config.scope.split(' ').any(|s| s == "openid"));
            for path in [
                &config.redirect_path,
                &config.silent_redirect_path,
                &config.post_logout_redirect_path,
            ] {
                assert!(path.starts_with('/') && !path.starts_with("//"), "{path}");
            }
            assert!(!config.client_id.trim().is_empty());
        }
        Err(error) => {
            let shown = error.to_string();
            if let Some(field) = error.field {
                assert!(shown.starts_with(&format!("`{field}` ")), "{shown}");
            }
            assert!(!error.message.is_empty());
            assert_eq!(
                text.len() > MAX_CONFIG_LEN,
                verdict(&result) == "err:too_large"
            );
        }
    }
    let verdict = verdict(&result);
    (result, verdict)
}

fn pick(values: &'static [&'static str], label: Label) -> BoxedStrategy<(Value, Label)> {
    prop::sample::select(values)
        .prop_map(move |v| (json!(v), label))
        .boxed()
}

fn wrong_type(allow_null: bool) -> BoxedStrategy<(Value, Label)> {
    gen::json_value()
        .prop_map(move |value| match value {
            Value::String(text) => (json!([text]), Label::WrongType),
            Value::Null if allow_null => (Value::Null, Label::Valid),
            other => (other, Label::WrongType),
        })
        .boxed()
}

fn unjudged() -> BoxedStrategy<(Value, Label)> {
    gen::text().prop_map(|t| (json!(t), Label::Unknown)).boxed()
}

const GOOD_URLS: &[&str] = &[
    "https://id.example.com/",
    "https://id.example.com",
    "https://tenant.eu.auth0.com/",
    "https://id.example.com/realms/demo",
    "https://id.example.com:8443/x?y=1",
    "http://localhost:4000",
    "http://127.0.0.1:4000/",
    "http://[::1]:4000",
    "https://[2001:db8::1]/",
    "https://bücher.example/",
];

const BAD_URLS: &[&str] = &[
    "",
    "http://id.example.com",
    "http://localhost.evil.example",
    "http://127.0.0.1.evil.example/",
    "ftp://localhost",
    "https://",
    "https:///path",
    "https://:443",
    "https://u:p@id.example.com",
    "https://id.example.com@evil.example",
    "https://id.example.com/#x",
    "https://id.example.com/ path",
    "https://id.example.com\\@evil",
    "https://id.example.com/\u{0}",
    "https://id.example.com/\n",
    "javascript:alert(1)",
    " https://id.example.com",
    "HTTPS://ID.EXAMPLE.COM",
    "https:id.example.com",
    "//id.example.com",
    "https://[]/",
    // Passed before the port check (urls.rs): no browser accepts them.
    "https://[::1",
    "http://[::1]evil.example",
    "https://id.example.com:notaport/",
    "https://id.example.com:99999/",
    "https://id.example.com:4:4/",
];

/// Strange URLs whose verdict the generator leaves open.
const ODD_URLS: &[&str] = &["https://%00/", "https://id.example.com?", "https://."];

fn url() -> BoxedStrategy<(Value, Label)> {
    prop_oneof![
        5 => pick(GOOD_URLS, Label::Valid),
        4 => pick(BAD_URLS, Label::Invalid),
        1 => pick(ODD_URLS, Label::Unknown),
        1 => ("https://[a-z0-9.-]{1,20}(:[0-9]{1,4})?(/[a-z0-9/._-]{0,20})?")
            .prop_map(|u| (json!(u), Label::Valid)),
        1 => unjudged(),
    ]
    .boxed()
}

fn path() -> BoxedStrategy<(Value, Label)> {
    prop_oneof![
        4 => pick(&["/callback", "/", "/silent/", "/a/b/c", "/é", "/a%20b", "/a;b"], Label::Valid),
        4 => pick(
            &["callback", "", "//evil.example/", "/a?b=1", "/a#b", "/a\\b", "/a\nb", "/\u{0}", "https://evil.example/", " /x"],
            Label::Invalid
        ),
        1 => "/[a-z0-9/_.-]{0,20}".prop_map(|p| {
            let label = if p.starts_with("//") { Label::Invalid } else { Label::Valid };
            (json!(p), label)
        }),
        1 => unjudged(),
    ]
    .boxed()
}

/// Each member's generator, by name, and whether it is required.
fn member(name: &'static str) -> BoxedStrategy<(Value, Label)> {
    let value = match name {
        "issuer" | "api_url" => url(),
        "client_id" => prop_oneof![
            4 => pick(&["oidc-renew-demo", "abc", "a b", "~!@#", "x"], Label::Valid),
            2 => pick(&["", " ", "   ", "é", "a\tb", "\u{0}", "a\u{7F}"], Label::Invalid),
            1 => unjudged(),
        ]
        .boxed(),
        "audience" => prop_oneof![
            4 => pick(&["https://api.example.com", "urn:oidc-renew:demo-api", "é", "a b"], Label::Valid),
            2 => pick(&["", " ", "a\nb", "\u{0}"], Label::Invalid),
            1 => unjudged(),
        ]
        .boxed(),
        "scope" => prop_oneof![
            4 => pick(&["openid", "openid profile email", "profile openid", "openid  offline_access", " openid"], Label::Valid),
            3 => pick(&["", "profile", "OPENID", "openid,profile", "openid\tprofile", "openidprofile"], Label::Invalid),
            1 => unjudged(),
        ]
        .boxed(),
        "flow" => prop_oneof![
            8 => pick(&["code", "implicit"], Label::Valid),
            1 => pick(&["hybrid", "Code", "", "code "], Label::WrongType),
        ]
        .boxed(),
        "storage" => prop_oneof![
            8 => pick(&["local", "session", "memory"], Label::Valid),
            1 => pick(&["cookie", "Local", ""], Label::WrongType),
        ]
        .boxed(),
        "provider" => prop_oneof![
            8 => pick(&["generic", "auth0"], Label::Valid),
            1 => pick(&["keycloak", "Auth0", ""], Label::WrongType),
        ]
        .boxed(),
        "logout_method" => prop_oneof![
            8 => pick(&["get", "post"], Label::Valid),
            1 => pick(&["GET", "put", "", "get "], Label::WrongType),
        ]
        .boxed(),
        "renewal" => prop_oneof![
            8 => pick(&["iframe", "refresh_token", "auto"], Label::Valid),
            1 => pick(&["refresh", "Auto", "", "refresh-token"], Label::WrongType),
        ]
        .boxed(),
        "dpop" => prop_oneof![
            8 => pick(&["auto", "on", "off"], Label::Valid),
            1 => pick(&["true", "On", "", "yes"], Label::WrongType),
        ]
        .boxed(),
        _ => path(),
    };
    // `null` reads as absent only for the optional members of type Option.
    let nullable = matches!(name, "audience" | "api_url");
    prop_oneof![30 => value, 1 => wrong_type(nullable)].boxed()
}

const MEMBERS: [&str; 14] = [
    "issuer",
    "client_id",
    "audience",
    "scope",
    "flow",
    "storage",
    "redirect_path",
    "silent_redirect_path",
    "post_logout_redirect_path",
    "provider",
    "renewal",
    "logout_method",
    "dpop",
    "api_url",
];

/// A generated `config.json`: its text, and the labelled members it holds (`None` for garbage text).
#[derive(Clone, Debug)]
pub struct Generated {
    pub text: String,
    pub members: Option<Vec<(&'static str, Value, Label)>>,
    /// Unknown or repeated members were written.
    pub extra: bool,
}

fn object() -> impl Strategy<Value = Generated> {
    let members = MEMBERS.map(|name| {
        proptest::option::weighted(
            if matches!(name, "issuer" | "client_id") {
                0.95
            } else {
                0.5
            },
            member(name),
        )
    });
    (
        members,
        proptest::option::weighted(0.05, "[a-z_]{1,12}"),
        proptest::option::weighted(0.05, any::<prop::sample::Index>()),
        any::<prop::sample::Index>(),
        prop::sample::select(&["", " ", "\n  ", "\t"][..]),
    )
        .prop_map(|(members, unknown, repeat, rotate, space)| {
            let mut written: Vec<(&'static str, Value, Label)> = MEMBERS
                .iter()
                .zip(members)
                .filter_map(|(name, member)| member.map(|(value, label)| (*name, value, label)))
                .collect();
            // Rules across members: Auth0 documents its logout endpoints as GET, so "post" is invalid
            // there; tokens of the implicit flow (through the URL) cannot be bound, so DPoP "on" is too.
            let has = |written: &[(&str, Value, Label)], member: &str, wanted: &str| {
                written
                    .iter()
                    .any(|(name, value, _)| *name == member && value == wanted)
            };
            let (auth0, implicit) = (
                has(&written, "provider", "auth0"),
                has(&written, "flow", "implicit"),
            );
            for (name, value, label) in &mut written {
                if (auth0 && *name == "logout_method" && value == "post")
                    || (implicit && *name == "dpop" && value == "on")
                {
                    *label = Label::Invalid;
                }
            }
            let mut entries: Vec<String> = written
                .iter()
                .map(|(name, value, _)| format!("{}:{space}{value}", json!(name)))
                .collect();
            let mut extra = false;
            if let Some(unknown) = unknown.filter(|u| !MEMBERS.contains(&u.as_str())) {
                entries.push(format!("{}: 1", json!(unknown)));
                extra = true;
            }
            if let (Some(repeat), false) = (repeat, entries.is_empty()) {
                let again = entries[repeat.index(entries.len())].clone();
                entries.push(again);
                extra = true;
            }
            let turn = rotate.index(entries.len() + 1) % entries.len().max(1);
            entries.rotate_left(turn);
            written.sort_by_key(|(name, _, _)| *name);
            Generated {
                text: format!("{{{space}{}{space}}}", entries.join(&format!(",{space}"))),
                members: Some(written),
                extra,
            }
        })
}

pub fn strategy() -> impl Strategy<Value = Generated> {
    prop_oneof![
        40 => object(),
        4 => gen::broken_json().prop_map(|text| Generated { text, members: None, extra: false }),
        1 => (1usize..3).prop_map(|n| Generated {
            text: format!("{{\"issuer\":\"https://id.example.com\",\"client_id\":\"{}\"}}", "a".repeat(n * MAX_CONFIG_LEN)),
            members: None,
            extra: false,
        }),
    ]
}

/// The configuration an all-valid generated object must give.
fn expected(members: &[(&'static str, Value, Label)]) -> Config {
    let get = |name: &str| {
        members
            .iter()
            .find(|(n, _, _)| *n == name)
            .and_then(|(_, v, _)| v.as_str().map(str::to_owned))
    };
    let mut auth = AuthConfig::new(
        get("issuer").unwrap_or_default(),
        get("client_id").unwrap_or_default(),
    )
    .flow(match get("flow").as_deref() {
        Some("implicit") => Flow::Implicit,
        _ => Flow::Code,
    })
    .storage(match get("storage").as_deref() {
        Some("session") => StorageKind::Session,
        Some("memory") => StorageKind::Memory,
        _ => StorageKind::Local,
    })
    .provider(match get("provider").as_deref() {
        Some("auth0") => ProviderKind::Auth0,
        _ => ProviderKind::Generic,
    })
    .logout_method(match get("logout_method").as_deref() {
        Some("post") => LogoutMethod::Post,
        _ => LogoutMethod::Get,
    })
    .renewal(match get("renewal").as_deref() {
        Some("iframe") => RenewalMode::Iframe,
        Some("refresh_token") => RenewalMode::RefreshToken,
        _ => RenewalMode::Auto,
    })
    .dpop(match get("dpop").as_deref() {
        Some("on") => DpopMode::On,
        Some("off") => DpopMode::Off,
        _ => DpopMode::Auto,
    });
    if let Some(audience) = get("audience") {
        auth = auth.audience(audience);
    }
    for (name, set) in [
        (
            "scope",
            AuthConfig::scope as fn(AuthConfig, String) -> AuthConfig,
        ),
        ("redirect_path", AuthConfig::redirect_path),
        ("silent_redirect_path", AuthConfig::silent_redirect_path),
        (
            "post_logout_redirect_path",
            AuthConfig::post_logout_redirect_path,
        ),
    ] {
        if let Some(value) = get(name) {
            auth = set(auth, value);
        }
    }
    Config {
        auth,
        api_url: get("api_url"),
    }
}

/// One case: the generic properties, then those the labels allow.
pub fn case(generated: Generated) {
    let (result, _) = check(&generated.text);
    let Some(members) = &generated.members else {
        return;
    };
    if generated.text.len() > MAX_CONFIG_LEN {
        return;
    }
    // The app's own member (`api_url`) is read by the app once the library's are read and judged
    // (`AuthConfig::from_json_with_members`): a wrong type there is that field's error, like a bad
    // value.
    let labels: Vec<(&str, Label)> = members
        .iter()
        .map(|(name, _, label)| match (*name, *label) {
            ("api_url", Label::WrongType) => (*name, Label::Invalid),
            _ => (*name, *label),
        })
        .collect();
    let has = |name: &str| labels.iter().any(|(n, _)| *n == name);
    let json_problem = generated.extra
        || !has("issuer")
        || !has("client_id")
        || labels.iter().any(|(_, label)| *label == Label::WrongType);
    let all_valid = labels.iter().all(|(_, label)| *label == Label::Valid);
    match &result {
        Ok(config) => {
            assert!(!json_problem, "accepted a JSON problem: {}", generated.text);
            assert!(
                labels.iter().all(|(_, label)| *label != Label::Invalid),
                "accepted an invalid member: {}",
                generated.text
            );
            if all_valid {
                assert_eq!(*config, expected(members), "{}", generated.text);
            }
        }
        Err(error) => {
            assert!(
                !all_valid || json_problem,
                "refused a valid config: {} ({error})",
                generated.text
            );
            match error.field {
                Some(field) => {
                    assert!(!json_problem, "{}: {error}", generated.text);
                    let label = labels.iter().find(|(n, _)| *n == field).map(|(_, l)| *l);
                    assert!(
                        matches!(label, Some(Label::Invalid | Label::Unknown)),
                        "blamed `{field}` ({label:?}): {}",
                        generated.text
                    );
                }
                None => assert!(
                    json_problem,
                    "a JSON error without a JSON problem: {} ({error})",
                    generated.text
                ),
            }
        }
    }
}
