//! Runtime configuration: `config.json`, served next to `index.html`, so that one build serves every
//! environment. Pure: parsing and validation only; fetching it is the app's job.
//!
//! A wrong configuration is the most common setup problem, so every error names the field and the form it
//! expects.

use crate::auth::protocol::logout::LogoutMethod;
use crate::auth::protocol::urls::{check_endpoint, UrlProblem};
use serde::Deserialize;

/// Where the session is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Flow {
    /// Authorization Code with PKCE (RFC 9700): the default.
    Code,
    /// Implicit `id_token token` (legacy, as in the seed): tokens in the URL fragment.
    Implicit,
}

/// Which provider dialect to speak where providers differ (logout).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    /// Any OpenID Connect provider: everything from discovery.
    Generic,
    /// Auth0: `/v2/logout` with `client_id` and `returnTo`.
    Auth0,
}

/// The app's configuration, validated.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The OpenID provider's issuer identifier, exactly as its discovery document states it.
    pub issuer: String,
    /// This app's client id at the provider.
    pub client_id: String,
    /// Auth0-style API identifier the access token is for (RFC 8707 resource elsewhere).
    #[serde(default)]
    pub audience: Option<String>,
    /// Space-separated scopes; must include `openid`.
    #[serde(default = "default_scope")]
    pub scope: String,
    /// Sign-in flow.
    #[serde(default = "default_flow")]
    pub flow: Flow,
    /// Session storage.
    #[serde(default = "default_storage")]
    pub storage: StorageKind,
    /// Path of the sign-in callback route.
    #[serde(default = "default_redirect_path")]
    pub redirect_path: String,
    /// Path of the silent page.
    #[serde(default = "default_silent_redirect_path")]
    pub silent_redirect_path: String,
    /// Path the provider returns to after logout.
    #[serde(default = "default_post_logout_redirect_path")]
    pub post_logout_redirect_path: String,
    /// Provider dialect.
    #[serde(default = "default_provider")]
    pub provider: ProviderKind,
    /// How the browser goes to the provider's logout endpoint: a GET redirect (the default) or a form
    /// POST (see `auth::protocol::logout` for what each puts where).
    #[serde(default)]
    pub logout_method: LogoutMethod,
    /// The protected API the API page calls with the access token.
    #[serde(default)]
    pub api_url: Option<String>,
}

fn default_scope() -> String {
    "openid profile email".into()
}
fn default_flow() -> Flow {
    Flow::Code
}
fn default_storage() -> StorageKind {
    StorageKind::Local
}
fn default_redirect_path() -> String {
    "/callback".into()
}
fn default_silent_redirect_path() -> String {
    "/silent/".into()
}
fn default_post_logout_redirect_path() -> String {
    "/".into()
}
fn default_provider() -> ProviderKind {
    ProviderKind::Generic
}

/// A configuration that cannot be used, with what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The offending field, when one is to blame.
    pub field: Option<&'static str>,
    /// What is wrong and the expected form.
    pub message: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.field {
            Some(field) => write!(f, "config.json: `{field}` {}", self.message),
            None => write!(f, "config.json: {}", self.message),
        }
    }
}

impl std::error::Error for ConfigError {}

/// Longest `config.json` accepted: it is a handful of short fields.
pub const MAX_CONFIG_LEN: usize = 64 * 1024;

impl Config {
    /// Parses and validates the text of `config.json`.
    pub fn from_json(text: &str) -> Result<Config, ConfigError> {
        if text.len() > MAX_CONFIG_LEN {
            return Err(ConfigError {
                field: None,
                message: format!("is larger than {MAX_CONFIG_LEN} bytes"),
            });
        }
        let config: Config = serde_json::from_str(text).map_err(|error| ConfigError {
            field: None,
            message: format!("is not a valid configuration: {error}"),
        })?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
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
        if let Some(api_url) = &self.api_url {
            if let Err(why) = check_url(api_url) {
                return fail(
                    "api_url",
                    &format!("{why}, e.g. \"https://api.example.com/ping\""),
                );
            }
        }
        Ok(())
    }
}

/// An `https` URL, or `http` on the loopback host (the local provider); no fragment: the rule every
/// provider endpoint follows too.
fn check_url(url: &str) -> Result<(), &'static str> {
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

    const SHIPPED: &str = include_str!("../assets/config.json");

    fn with(field: &str, value: serde_json::Value) -> String {
        let mut json: serde_json::Value = serde_json::from_str(SHIPPED).unwrap();
        json[field] = value;
        json.to_string()
    }

    fn check_error(text: &str, field: Option<&str>, message_part: &str) {
        let error = Config::from_json(text).expect_err(text);
        assert_eq!(error.field, field, "{text}: {error}");
        assert!(error.to_string().contains(message_part), "{text}: {error}");
    }

    #[test]
    fn the_shipped_config_points_at_the_local_provider() {
        let config = Config::from_json(SHIPPED).unwrap();
        assert_eq!(config.issuer, "http://localhost:4000");
        assert_eq!(config.flow, Flow::Code);
        assert_eq!(config.storage, StorageKind::Local);
        assert_eq!(config.silent_redirect_path, "/silent/");
    }

    #[test]
    fn defaults_fill_optional_fields() {
        let config =
            Config::from_json(r#"{"issuer":"https://id.example.com/","client_id":"abc"}"#).unwrap();
        assert_eq!(config.scope, "openid profile email");
        assert_eq!(config.redirect_path, "/callback");
        assert_eq!(config.provider, ProviderKind::Generic);
        assert_eq!(config.audience, None);
        assert_eq!(config.logout_method, LogoutMethod::Get);
    }

    #[test]
    fn logout_method_is_get_or_post() {
        let config = Config::from_json(&with("logout_method", "post".into())).unwrap();
        assert_eq!(config.logout_method, LogoutMethod::Post);
        check_error(
            &with("logout_method", "put".into()),
            None,
            "`logout_method` must be \"get\"",
        );
        let mut auth0: serde_json::Value =
            serde_json::from_str(&with("provider", "auth0".into())).unwrap();
        auth0["logout_method"] = "post".into();
        check_error(&auth0.to_string(), Some("logout_method"), "as GET");
    }

    #[test]
    fn errors_name_the_field_and_the_fix() {
        check_error("", None, "not a valid configuration");
        check_error("[]", None, "not a valid configuration");
        check_error(r#"{"client_id":"abc"}"#, None, "missing field `issuer`");
        check_error(&with("isuer", "x".into()), None, "unknown field `isuer`");
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
            &with("redirect_path", "callback".into()),
            Some("redirect_path"),
            "absolute path",
        );
        check_error(
            &with("silent_redirect_path", "//evil.example/".into()),
            Some("silent_redirect_path"),
            "absolute path",
        );
        check_error(
            &with("api_url", "javascript:alert(1)".into()),
            Some("api_url"),
            "https",
        );
        check_error(&"x".repeat(MAX_CONFIG_LEN + 1), None, "larger than");
    }

    #[test]
    fn loopback_may_use_http() {
        for issuer in [
            "http://localhost:4000",
            "http://127.0.0.1:4000/",
            "http://[::1]:4000",
        ] {
            assert!(
                Config::from_json(&with("issuer", issuer.into())).is_ok(),
                "{issuer}"
            );
        }
        assert!(
            Config::from_json(&with("issuer", "http://localhost.evil.example".into())).is_err()
        );
    }
}
