//! The client's configuration: [`AuthConfig`], built in code or read from JSON (an app's `config.json`
//! embeds it, so one build serves every environment). Pure: parsing and validation only.
//!
//! A wrong configuration is the most common setup problem, so every error names the field and the form
//! it expects.

use crate::fields::{self, WrongType};
use crate::urls::{check_endpoint, UrlProblem};
use serde::de::DeserializeOwned;
use serde::de::{Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::fmt;

/// Where the session is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StorageKind {
    /// `localStorage` (the seed's choice): survives reloads and is shared by tabs.
    Local,
    /// `sessionStorage`: one tab, survives reloads.
    Session,
    /// Memory only: a reload restores the session by silent renewal.
    Memory,
}

/// Which OAuth flow signs the user in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Flow {
    /// Authorization Code with PKCE (RFC 9700): the default.
    Code,
    /// Implicit `id_token token` (legacy, as in the seed): tokens in the URL fragment.
    Implicit,
}

/// How a session is renewed before its access token expires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RenewalMode {
    /// A silent authorize request (`prompt=none`) in a hidden iframe: needs the provider's session
    /// cookie inside the frame, which browsers blocking third-party cookies refuse when the provider
    /// is on another site than the app.
    Iframe,
    /// The refresh-token grant only (the provider must issue refresh tokens, e.g. for the
    /// `offline_access` scope); without one the session ends at expiry.
    RefreshToken,
    /// The refresh token while one is held, the iframe otherwise (none issued, or refused).
    Auto,
}

/// The `dpop` setting: whether tokens are bound to a key of this browser (DPoP, RFC 9449; see
/// [`crate::dpop`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DpopMode {
    /// On when the provider's discovery lists ES256 in `dpop_signing_alg_values_supported` (and the
    /// flow is the code flow); off otherwise.
    #[default]
    Auto,
    /// Always (the code flow only): a provider whose discovery lists DPoP algorithms without ES256
    /// is an error, and so is a `Bearer` answer.
    On,
    /// Never: bearer tokens.
    Off,
}

/// How the browser goes to the logout endpoint (`logout_method` in config.json).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(try_from = "String", rename_all = "lowercase")]
pub enum LogoutMethod {
    /// A top-level navigation to [`LogoutRequest::url`](crate::logout::LogoutRequest::url): what every
    /// provider takes (the default).
    #[default]
    Get,
    /// A top-level form POST of the parameters to the endpoint: the id_token in `id_token_hint` then
    /// stays out of URLs, history and server logs. Not every provider takes it.
    Post,
}

impl TryFrom<String> for LogoutMethod {
    type Error = String;

    fn try_from(value: String) -> Result<LogoutMethod, String> {
        match value.as_str() {
            "get" => Ok(LogoutMethod::Get),
            "post" => Ok(LogoutMethod::Post),
            other => Err(format!(
                "`logout_method` must be \"get\" (the default: a redirect, which every provider \
                 takes) or \"post\" (a form, for providers that take it), not {other:?}"
            )),
        }
    }
}

/// Which provider dialect to speak where providers differ (logout).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    /// Any OpenID Connect provider: everything from discovery.
    Generic,
    /// Auth0: `/v2/logout` with `client_id` and `returnTo`.
    Auth0,
}

/// What the client needs to know: the provider, this app's client id, and how to run.
///
/// Build it in code with [`AuthConfig::new`] and the builder methods, or read it from JSON with
/// [`AuthConfig::from_json`] (the field names below; unknown fields are errors, so a typo cannot pass
/// silently). Either way, [`AuthConfig::validate`] says what is wrong, naming the field.
///
/// ```
/// use oidc_renew_core::config::{AuthConfig, StorageKind};
///
/// let config = AuthConfig::new("https://example.eu.auth0.com/", "my-client-id")
///     .audience("https://api.example.com")
///     .storage(StorageKind::Session);
/// assert!(config.validate().is_ok());
///
/// let same = AuthConfig::from_json(r#"{
///     "issuer": "https://example.eu.auth0.com/",
///     "client_id": "my-client-id",
///     "audience": "https://api.example.com",
///     "storage": "session"
/// }"#).unwrap();
/// assert_eq!(config, same);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct AuthConfig {
    /// The OpenID provider's issuer identifier, exactly as its discovery document states it.
    pub issuer: String,
    /// This app's client id at the provider.
    pub client_id: String,
    /// The API the access token is for: sent as Auth0's `audience` parameter (and accepted by providers
    /// that read it); `None` for the provider's default.
    pub audience: Option<String>,
    /// Space-separated scopes; must include `openid`. Default `openid profile email`.
    pub scope: String,
    /// Sign-in flow. Default [`Flow::Code`].
    pub flow: Flow,
    /// Where the session is kept. Default [`StorageKind::Local`].
    pub storage: StorageKind,
    /// Path of the sign-in callback (the provider redirects here after sign-in; the provider component
    /// completes the sign-in there). Default `/callback`.
    pub redirect_path: String,
    /// Path of the silent page (where silent renewal lands, in the hidden iframe). Default `/silent/`.
    pub silent_redirect_path: String,
    /// Path the provider returns to after logout. Default `/`.
    pub post_logout_redirect_path: String,
    /// Provider dialect. Default [`ProviderKind::Generic`].
    pub provider: ProviderKind,
    /// How renewal runs. Default [`RenewalMode::Auto`]. Refresh tokens need the provider to issue
    /// them to this client (Auth0: "Allow Offline Access" on the API and Refresh Token Rotation, and
    /// `offline_access` in `scope`).
    pub renewal: RenewalMode,
    /// How the browser goes to the provider's logout endpoint: a GET redirect (the default) or a form
    /// POST (see [`crate::logout`] for what each puts where).
    pub logout_method: LogoutMethod,
    /// Whether tokens are bound to a key of this browser (DPoP, RFC 9449). Default
    /// [`DpopMode::Auto`]: when the provider's discovery lists ES256 DPoP proofs.
    pub dpop: DpopMode,
}

/// A configuration that cannot be used, with what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The offending field, when one is to blame.
    pub field: Option<&'static str>,
    /// What is wrong and the expected form; with a field, it reads after the field's name.
    pub message: String,
}

impl ConfigError {
    fn whole(message: String) -> ConfigError {
        ConfigError {
            field: None,
            message,
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.field {
            Some(field) => write!(f, "`{field}` {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for ConfigError {}

/// Longest configuration text accepted: it is a handful of short fields.
pub const MAX_CONFIG_LEN: usize = 64 * 1024;

impl AuthConfig {
    /// A configuration for `client_id` at `issuer`, every other field at its default. Not validated
    /// yet: see [`AuthConfig::validate`].
    pub fn new(issuer: impl Into<String>, client_id: impl Into<String>) -> AuthConfig {
        AuthConfig {
            issuer: issuer.into(),
            client_id: client_id.into(),
            audience: None,
            scope: "openid profile email".into(),
            flow: Flow::Code,
            storage: StorageKind::Local,
            redirect_path: "/callback".into(),
            silent_redirect_path: "/silent/".into(),
            post_logout_redirect_path: "/".into(),
            provider: ProviderKind::Generic,
            renewal: RenewalMode::Auto,
            logout_method: LogoutMethod::Get,
            dpop: DpopMode::Auto,
        }
    }

    /// Sets [`audience`](Self::audience).
    pub fn audience(mut self, audience: impl Into<String>) -> AuthConfig {
        self.audience = Some(audience.into());
        self
    }

    /// Sets [`scope`](Self::scope).
    pub fn scope(mut self, scope: impl Into<String>) -> AuthConfig {
        self.scope = scope.into();
        self
    }

    /// Sets [`flow`](Self::flow).
    pub fn flow(mut self, flow: Flow) -> AuthConfig {
        self.flow = flow;
        self
    }

    /// Sets [`storage`](Self::storage).
    pub fn storage(mut self, storage: StorageKind) -> AuthConfig {
        self.storage = storage;
        self
    }

    /// Sets [`redirect_path`](Self::redirect_path).
    pub fn redirect_path(mut self, path: impl Into<String>) -> AuthConfig {
        self.redirect_path = path.into();
        self
    }

    /// Sets [`silent_redirect_path`](Self::silent_redirect_path).
    pub fn silent_redirect_path(mut self, path: impl Into<String>) -> AuthConfig {
        self.silent_redirect_path = path.into();
        self
    }

    /// Sets [`post_logout_redirect_path`](Self::post_logout_redirect_path).
    pub fn post_logout_redirect_path(mut self, path: impl Into<String>) -> AuthConfig {
        self.post_logout_redirect_path = path.into();
        self
    }

    /// Sets [`provider`](Self::provider).
    pub fn provider(mut self, provider: ProviderKind) -> AuthConfig {
        self.provider = provider;
        self
    }

    /// Sets [`renewal`](Self::renewal).
    pub fn renewal(mut self, renewal: RenewalMode) -> AuthConfig {
        self.renewal = renewal;
        self
    }

    /// Sets [`logout_method`](Self::logout_method).
    pub fn logout_method(mut self, method: LogoutMethod) -> AuthConfig {
        self.logout_method = method;
        self
    }

    /// Sets [`dpop`](Self::dpop).
    pub fn dpop(mut self, dpop: DpopMode) -> AuthConfig {
        self.dpop = dpop;
        self
    }

    /// Parses and validates a JSON object of the fields above.
    pub fn from_json(text: &str) -> Result<AuthConfig, ConfigError> {
        AuthConfig::from_members(&read_object(text)?)
    }

    /// Parses a JSON object that holds this configuration's fields and the app's own fields named in
    /// `extras` (an app's `config.json`), and validates this configuration: returns it and the app's
    /// members read as `T`, whose values the app validates itself. Any other member, one given twice, or
    /// a value of the wrong type (the app's included) is an error of the whole text, reported before
    /// any field's value is judged.
    pub fn from_json_with_extras<T: DeserializeOwned>(
        text: &str,
        extras: &[&str],
    ) -> Result<(AuthConfig, T), ConfigError> {
        let (members, app) = split_extras(text, extras)?;
        let app = T::deserialize(Value::Object(app)).map_err(not_valid)?;
        Ok((AuthConfig::from_members(&members)?, app))
    }

    /// Like [`AuthConfig::from_json_with_extras`], with the app's members (those of `extras` that
    /// are present) as JSON values, as they came: the app judges their types and values itself, once
    /// this configuration is read and validated (its errors come first). Lighter in the app's bundle
    /// than a `Deserialize` of its own (no serde deserializer of JSON values is compiled in).
    pub fn from_json_with_members(
        text: &str,
        extras: &[&str],
    ) -> Result<(AuthConfig, Map<String, Value>), ConfigError> {
        let (members, app) = split_extras(text, extras)?;
        Ok((AuthConfig::from_members(&members)?, app))
    }

    /// Reads the fields from a JSON object's members, each of its type (`null` only for `audience`),
    /// the absent ones at their defaults; any other member is an error. Then validates the values
    /// ([`AuthConfig::validate`]): type errors come first. Read by hand rather than by a derived
    /// `Deserialize`: that visitor, for this and its six enums, weighed about 3 KB gzip in every app.
    fn from_members(members: &Map<String, Value>) -> Result<AuthConfig, ConfigError> {
        if let Some(name) = members.keys().find(|name| !FIELDS.contains(&name.as_str())) {
            let known = FIELDS.map(|field| format!("`{field}`")).join(", ");
            return Err(not_valid(format_args!(
                "unknown field `{name}`, expected one of {known}"
            )));
        }
        // `null` is a wrong type but for `audience`, the one member that may be none.
        let text = |field: &'static str| {
            let null = members.get(field).is_some_and(Value::is_null) && field != "audience";
            let value = if null {
                Err(WrongType)
            } else {
                fields::string(members, field)
            };
            value
                .map(|value| value.map(str::to_owned))
                .map_err(|WrongType| {
                    not_valid(format_args!(
                        "invalid type for `{field}`, expected a string"
                    ))
                })
        };
        let required =
            |field| text(field)?.ok_or_else(|| not_valid(format_args!("missing field `{field}`")));
        // The index of the member's value in `names`.
        let choice = |field: &'static str, names: &[&str]| -> Result<Option<usize>, ConfigError> {
            let Some(value) = text(field)? else {
                return Ok(None);
            };
            match names.iter().position(|name| *name == value) {
                Some(index) => Ok(Some(index)),
                // Its message, as when the method is read on its own.
                None if field == "logout_method" => Err(ConfigError::whole(
                    LogoutMethod::try_from(value).err().unwrap_or_default(),
                )),
                None => {
                    let expected = names
                        .iter()
                        .map(|name| format!("`{name}`"))
                        .collect::<Vec<_>>();
                    Err(not_valid(format_args!(
                        "unknown variant `{value}` for `{field}`, expected {}",
                        expected.join(" or ")
                    )))
                }
            }
        };
        let mut config = AuthConfig::new(required("issuer")?, required("client_id")?);
        config.audience = text("audience")?;
        if let Some(scope) = text("scope")? {
            config.scope = scope;
        }
        if let Some(path) = text("redirect_path")? {
            config.redirect_path = path;
        }
        if let Some(path) = text("silent_redirect_path")? {
            config.silent_redirect_path = path;
        }
        if let Some(path) = text("post_logout_redirect_path")? {
            config.post_logout_redirect_path = path;
        }
        if let Some(i) = choice("flow", &["code", "implicit"])? {
            config.flow = [Flow::Code, Flow::Implicit][i];
        }
        if let Some(i) = choice("storage", &["local", "session", "memory"])? {
            config.storage = [
                StorageKind::Local,
                StorageKind::Session,
                StorageKind::Memory,
            ][i];
        }
        if let Some(i) = choice("provider", &["generic", "auth0"])? {
            config.provider = [ProviderKind::Generic, ProviderKind::Auth0][i];
        }
        if let Some(i) = choice("renewal", &["iframe", "refresh_token", "auto"])? {
            config.renewal = [
                RenewalMode::Iframe,
                RenewalMode::RefreshToken,
                RenewalMode::Auto,
            ][i];
        }
        if let Some(i) = choice("logout_method", &["get", "post"])? {
            config.logout_method = [LogoutMethod::Get, LogoutMethod::Post][i];
        }
        if let Some(i) = choice("dpop", &["auto", "on", "off"])? {
            config.dpop = [DpopMode::Auto, DpopMode::On, DpopMode::Off][i];
        }
        config.validate()?;
        Ok(config)
    }

    /// Checks every field: the first wrong one is named in the error.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let fail = |field, message: &str| {
            Err(ConfigError {
                field: Some(field),
                message: message.into(),
            })
        };
        if let Err(why) = check_url(&self.issuer) {
            return fail(
                "issuer",
                &format!("{why}, e.g. \"https://example.eu.auth0.com/\""),
            );
        }
        if self.client_id.trim().is_empty()
            || self.client_id.chars().any(|c| !(' '..='~').contains(&c))
        {
            return fail(
                "client_id",
                "must be the client id of this app at the provider (printable ASCII)",
            );
        }
        if let Some(audience) = &self.audience {
            if audience.trim().is_empty() || audience.chars().any(char::is_control) {
                return fail(
                    "audience",
                    "must be the API identifier, e.g. \"https://api.example.com\", or be left out",
                );
            }
        }
        if !self.scope.split(' ').any(|scope| scope == "openid") {
            return fail(
                "scope",
                "must include \"openid\", e.g. \"openid profile email\"",
            );
        }
        for (field, path) in [
            ("redirect_path", &self.redirect_path),
            ("silent_redirect_path", &self.silent_redirect_path),
            ("post_logout_redirect_path", &self.post_logout_redirect_path),
        ] {
            if !is_path(path) {
                return fail(
                    field,
                    "must be an absolute path on this site, e.g. \"/callback\"",
                );
            }
        }
        if self.provider == ProviderKind::Auth0 && self.logout_method == LogoutMethod::Post {
            return fail(
                "logout_method",
                "must be \"get\" (or be left out) with \"provider\": \"auth0\": Auth0 documents \
                 its logout endpoints, /oidc/logout and /v2/logout, as GET",
            );
        }
        if self.dpop == DpopMode::On && self.flow == Flow::Implicit {
            return fail(
                "dpop",
                "must be \"auto\" or \"off\" with \"flow\": \"implicit\": tokens that come \
                 through the URL cannot be bound to a key",
            );
        }
        Ok(())
    }
}

/// A JSON object whose members are all distinct (`serde_json::Map` would keep the last of two).
///
/// Read with `deserialize_any`, every kind of value answered here: a text that is not an object is
/// refused by the kind of value it is (serde's own "invalid type" error would quote the value).
struct UniqueObject(Map<String, Value>);

impl<'de> Deserialize<'de> for UniqueObject {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<UniqueObject, D::Error> {
        struct UniqueVisitor;
        fn not_an_object<T, E: serde::de::Error>(found: &str) -> Result<T, E> {
            Err(E::custom(format_args!(
                "expected a JSON object, found {found}"
            )))
        }
        impl<'de> Visitor<'de> for UniqueVisitor {
            type Value = UniqueObject;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<UniqueObject, A::Error> {
                let mut members = Map::new();
                while let Some((name, value)) = map.next_entry::<String, Value>()? {
                    if members.contains_key(&name) {
                        return Err(serde::de::Error::custom(format_args!(
                            "duplicate field `{name}`"
                        )));
                    }
                    members.insert(name, value);
                }
                Ok(UniqueObject(members))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                _: A,
            ) -> Result<UniqueObject, A::Error> {
                not_an_object("an array")
            }
            fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<UniqueObject, E> {
                not_an_object("a string")
            }
            fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<UniqueObject, E> {
                not_an_object("a boolean")
            }
            fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<UniqueObject, E> {
                not_an_object("a number")
            }
            fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<UniqueObject, E> {
                not_an_object("a number")
            }
            fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<UniqueObject, E> {
                not_an_object("a number")
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<UniqueObject, E> {
                not_an_object("null")
            }
        }
        deserializer.deserialize_any(UniqueVisitor)
    }
}

/// The fields of [`AuthConfig`] in JSON, as it serializes them.
const FIELDS: [&str; 13] = [
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
];

/// The members of a configuration text: one JSON object, each member once, of a sane size.
fn read_object(text: &str) -> Result<Map<String, Value>, ConfigError> {
    if text.len() > MAX_CONFIG_LEN {
        return Err(ConfigError::whole(format!(
            "the configuration is larger than {MAX_CONFIG_LEN} bytes"
        )));
    }
    let UniqueObject(members) = serde_json::from_str(text).map_err(not_valid)?;
    Ok(members)
}

/// A JSON object's members, by name.
type JsonObject = Map<String, Value>;

/// A configuration text's members: the library's, and the app's own (those named in `extras`).
fn split_extras(text: &str, extras: &[&str]) -> Result<(JsonObject, JsonObject), ConfigError> {
    let mut members = read_object(text)?;
    let mut app = Map::new();
    for name in extras {
        if let Some(value) = members.remove(*name) {
            app.insert((*name).to_owned(), value);
        }
    }
    Ok((members, app))
}

/// An error of the whole text (its JSON, its members' names or types).
fn not_valid(why: impl fmt::Display) -> ConfigError {
    ConfigError::whole(format!("the configuration is not valid: {why}"))
}

/// An app's own configuration type may embed an [`AuthConfig`]: it is read (and validated) as by
/// [`AuthConfig::from_json`].
impl<'de> Deserialize<'de> for AuthConfig {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<AuthConfig, D::Error> {
        let UniqueObject(members) = UniqueObject::deserialize(deserializer)?;
        AuthConfig::from_members(&members).map_err(serde::de::Error::custom)
    }
}

/// Checks a URL the app will call: https, or http on the loopback host (a local provider); no fragment,
/// no credentials: the rule every provider endpoint follows too. The error reads after a field name.
pub fn check_url(url: &str) -> Result<(), &'static str> {
    check_endpoint(url).map_err(|problem| match problem {
        UrlProblem::NotAUrl => {
            "must be an https URL with a host (http only on localhost), no fragment, no credentials"
        }
        UrlProblem::InsecureHttp => "must use https (http is allowed only on localhost)",
    })
}

fn is_path(path: &str) -> bool {
    path.starts_with('/')
        && !path.starts_with("//")
        && !path.contains(['\\', '#', '?'])
        && !path.chars().any(char::is_control)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHIPPED: &str = r#"{
        "issuer": "http://localhost:4000",
        "client_id": "oidc-renew-demo",
        "audience": "urn:oidc-renew:demo-api",
        "storage": "local"
    }"#;

    fn with(field: &str, value: Value) -> String {
        let mut json: Value = serde_json::from_str(SHIPPED).unwrap();
        json[field] = value;
        json.to_string()
    }

    fn check_error(text: &str, field: Option<&str>, message_part: &str) {
        let error = AuthConfig::from_json(text).expect_err(text);
        assert_eq!(error.field, field, "{text}: {error}");
        assert!(error.to_string().contains(message_part), "{text}: {error}");
    }

    #[test]
    fn json_and_builder_agree() {
        let config = AuthConfig::from_json(SHIPPED).unwrap();
        let built = AuthConfig::new("http://localhost:4000", "oidc-renew-demo")
            .audience("urn:oidc-renew:demo-api");
        assert_eq!(config, built);
        assert_eq!(config.flow, Flow::Code);
        assert_eq!(config.silent_redirect_path, "/silent/");
        // What it serializes to reads back as the same configuration.
        let text = serde_json::to_string(&built).unwrap();
        assert_eq!(AuthConfig::from_json(&text).unwrap(), built);
    }

    #[test]
    fn defaults_fill_optional_fields() {
        let config =
            AuthConfig::from_json(r#"{"issuer":"https://id.example.com/","client_id":"abc"}"#)
                .unwrap();
        assert_eq!(config.scope, "openid profile email");
        assert_eq!(config.redirect_path, "/callback");
        assert_eq!(config.provider, ProviderKind::Generic);
        assert_eq!(config.storage, StorageKind::Local);
        assert_eq!(config.audience, None);
        assert_eq!(config.renewal, RenewalMode::Auto);
        let config = AuthConfig::from_json(
            r#"{"issuer":"https://id.example.com/","client_id":"abc","renewal":"refresh_token"}"#,
        )
        .unwrap();
        assert_eq!(config.renewal, RenewalMode::RefreshToken);
    }

    #[test]
    fn errors_name_the_field_and_the_fix() {
        check_error("", None, "not valid");
        check_error("[]", None, "expected a JSON object, found an array");
        check_error("1.5", None, "expected a JSON object, found a number");
        check_error("\"x\"", None, "expected a JSON object, found a string");
        check_error("null", None, "expected a JSON object, found null");
        check_error(r#"{"client_id":"abc"}"#, None, "missing field `issuer`");
        check_error(&with("isuer", "x".into()), None, "unknown field `isuer`");
        check_error(
            r#"{"issuer":"https://a.example","client_id":"a","client_id":"b"}"#,
            None,
            "duplicate field `client_id`",
        );
        check_error(
            &with("issuer", "http://id.example.com".into()),
            Some("issuer"),
            "https",
        );
        check_error(
            &with("issuer", "ftp://localhost".into()),
            Some("issuer"),
            "https URL",
        );
        check_error(&with("issuer", "https://".into()), Some("issuer"), "host");
        check_error(
            &with("issuer", "https://u:p@id.example.com".into()),
            Some("issuer"),
            "credentials",
        );
        check_error(
            &with("issuer", "https://id.example.com/#x".into()),
            Some("issuer"),
            "fragment",
        );
        check_error(&with("issuer", 4.into()), None, "invalid type");
        check_error(
            &with("client_id", " ".into()),
            Some("client_id"),
            "client id",
        );
        check_error(
            &with("scope", "profile email".into()),
            Some("scope"),
            "openid",
        );
        check_error(
            &with("flow", "hybrid".into()),
            None,
            "unknown variant `hybrid`",
        );
        check_error(
            &with("storage", "cookie".into()),
            None,
            "unknown variant `cookie`",
        );
        check_error(
            &with("renewal", "refresh".into()),
            None,
            "unknown variant `refresh`",
        );
        check_error(
            &with("redirect_path", "callback".into()),
            Some("redirect_path"),
            "absolute path",
        );
        check_error(
            &with("silent_redirect_path", "//evil.example/".into()),
            Some("silent_redirect_path"),
            "absolute path",
        );
        check_error(&"x".repeat(MAX_CONFIG_LEN + 1), None, "larger than");
        // The builder's values are checked the same way.
        let error = AuthConfig::new("https://id.example.com", "abc")
            .redirect_path("callback")
            .validate()
            .unwrap_err();
        assert_eq!(error.field, Some("redirect_path"));
    }

    #[test]
    fn every_field_and_value_reads_back_as_it_serializes() {
        // Each enum value, and every field away from its default, in two configurations.
        let one = AuthConfig::new("https://id.example.com/", "a")
            .audience("urn:api")
            .scope("openid offline_access")
            .flow(Flow::Implicit)
            .storage(StorageKind::Memory)
            .redirect_path("/in")
            .silent_redirect_path("/quiet/")
            .post_logout_redirect_path("/bye")
            .provider(ProviderKind::Auth0)
            .renewal(RenewalMode::Iframe)
            .dpop(DpopMode::Off);
        let two = AuthConfig::new("https://id.example.com/", "b")
            .storage(StorageKind::Session)
            .renewal(RenewalMode::RefreshToken)
            .logout_method(LogoutMethod::Post)
            .dpop(DpopMode::On);
        for config in [one, two, AuthConfig::new("https://id.example.com/", "c")] {
            let text = serde_json::to_string(&config).unwrap();
            assert_eq!(AuthConfig::from_json(&text).as_ref(), Ok(&config), "{text}");
        }
        // `null` is a wrong type, but for `audience`, which may be none.
        let config = AuthConfig::from_json(&with("audience", Value::Null)).unwrap();
        assert_eq!(config.audience, None);
        check_error(
            &with("scope", Value::Null),
            None,
            "invalid type for `scope`",
        );
        check_error(
            &with("client_id", Value::Null),
            None,
            "invalid type for `client_id`",
        );
        check_error(
            &with("flow", serde_json::json!(["code"])),
            None,
            "invalid type for `flow`",
        );
    }

    #[test]
    fn an_app_type_may_embed_the_configuration() {
        #[derive(Debug, Deserialize)]
        struct App {
            #[allow(dead_code)]
            auth: AuthConfig,
        }
        let read = |auth: &str| serde_json::from_str::<App>(&format!(r#"{{"auth": {auth}}}"#));
        assert_eq!(
            read(SHIPPED).unwrap().auth,
            AuthConfig::from_json(SHIPPED).unwrap()
        );
        // Refused as by `from_json`: unknown members, wrong types, wrong values.
        let error = read(&with("isuer", "x".into())).unwrap_err().to_string();
        assert!(error.contains("unknown field `isuer`"), "{error}");
        let error = read(&with("scope", "profile".into()))
            .unwrap_err()
            .to_string();
        assert!(error.contains("`scope` must include \"openid\""), "{error}");
    }

    #[test]
    fn logout_method_is_get_or_post() {
        assert_eq!(
            AuthConfig::from_json(SHIPPED).unwrap().logout_method,
            LogoutMethod::Get
        );
        let config = AuthConfig::from_json(&with("logout_method", "post".into())).unwrap();
        assert_eq!(config.logout_method, LogoutMethod::Post);
        check_error(
            &with("logout_method", "put".into()),
            None,
            "`logout_method` must be \"get\"",
        );
        let mut auth0: Value = serde_json::from_str(&with("provider", "auth0".into())).unwrap();
        auth0["logout_method"] = "post".into();
        check_error(&auth0.to_string(), Some("logout_method"), "as GET");
        // Serialized as it reads.
        let text = serde_json::to_string(&config).unwrap();
        assert!(text.contains(r#""logout_method":"post""#), "{text}");
    }

    #[test]
    fn dpop_is_auto_on_or_off() {
        assert_eq!(AuthConfig::from_json(SHIPPED).unwrap().dpop, DpopMode::Auto);
        for (text, mode) in [
            ("on", DpopMode::On),
            ("off", DpopMode::Off),
            ("auto", DpopMode::Auto),
        ] {
            let config = AuthConfig::from_json(&with("dpop", text.into())).unwrap();
            assert_eq!(config.dpop, mode);
            assert_eq!(
                config,
                AuthConfig::new("http://localhost:4000", "oidc-renew-demo")
                    .audience("urn:oidc-renew:demo-api")
                    .dpop(mode)
            );
        }
        check_error(&with("dpop", "true".into()), None, "unknown variant `true`");
        check_error(&with("dpop", true.into()), None, "invalid type");
        let mut implicit: Value = serde_json::from_str(&with("flow", "implicit".into())).unwrap();
        implicit["dpop"] = "on".into();
        check_error(&implicit.to_string(), Some("dpop"), "cannot be bound");
        implicit["dpop"] = "auto".into();
        assert!(AuthConfig::from_json(&implicit.to_string()).is_ok());
    }

    #[test]
    fn an_app_keeps_its_own_fields() {
        let text = with("api_url", "https://api.example.com/ping".into());
        #[derive(Deserialize)]
        struct App {
            api_url: Option<String>,
        }
        let (config, app) = AuthConfig::from_json_with_extras::<App>(&text, &["api_url"]).unwrap();
        assert_eq!(config.client_id, "oidc-renew-demo");
        assert_eq!(app.api_url.as_deref(), Some("https://api.example.com/ping"));
        // Not named by the app: an unknown field.
        check_error(&text, None, "unknown field `api_url`");
        // Named but absent: its default.
        let (_, app) = AuthConfig::from_json_with_extras::<App>(SHIPPED, &["api_url"]).unwrap();
        assert_eq!(app.api_url, None);
        // The app's type errors come before any field's value is judged.
        let text = with("api_url", 4.into()).replace("oidc-renew-demo", " ");
        let error = AuthConfig::from_json_with_extras::<App>(&text, &["api_url"])
            .err()
            .unwrap();
        assert_eq!(error.field, None, "{error}");
        assert!(error.message.contains("invalid type"), "{error}");
    }

    #[test]
    fn an_app_may_read_its_own_members_as_json() {
        let text = with("api_url", 4.into());
        let (config, app) = AuthConfig::from_json_with_members(&text, &["api_url", "x"]).unwrap();
        assert_eq!(config.client_id, "oidc-renew-demo");
        // As they came, for the app to judge; absent ones are absent.
        assert_eq!(app.get("api_url"), Some(&Value::from(4)));
        assert_eq!(app.len(), 1);
        let (_, app) = AuthConfig::from_json_with_members(SHIPPED, &["api_url"]).unwrap();
        assert!(app.is_empty());
        // The library's members are read and validated as by from_json.
        let text = text.replace("oidc-renew-demo", " ");
        let error = AuthConfig::from_json_with_members(&text, &["api_url"]).unwrap_err();
        assert_eq!(error.field, Some("client_id"), "{error}");
        check_error(&with("api_url", 4.into()), None, "unknown field `api_url`");
    }

    #[test]
    fn loopback_may_use_http() {
        for issuer in [
            "http://localhost:4000",
            "http://127.0.0.1:4000/",
            "http://[::1]:4000",
        ] {
            assert!(
                AuthConfig::from_json(&with("issuer", issuer.into())).is_ok(),
                "{issuer}"
            );
        }
        assert!(
            AuthConfig::from_json(&with("issuer", "http://localhost.evil.example".into())).is_err()
        );
    }
}
