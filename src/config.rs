//! The demo app's runtime configuration: `config.json`, served next to `index.html`, so that one build
//! serves every environment. It is the library's [`AuthConfig`] (its fields at the top level) plus the
//! app's own `api_url`. Pure: parsing and validation only; fetching it is the app's job.

use serde_json::Value;
use yew_oidc::core::config::check_url;
use yew_oidc::{AuthConfig, ConfigError};

/// `config.json`, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppConfig {
    /// The sign-in configuration.
    pub auth: AuthConfig,
    /// The protected API the API page calls with the access token.
    pub api_url: Option<String>,
}

/// The members of `config.json` that are the app's, not the library's.
const APP_FIELDS: &[&str] = &["api_url"];

impl AppConfig {
    /// Parses and validates the text of `config.json`: errors name the field and its expected form.
    pub fn from_json(text: &str) -> Result<AppConfig, ConfigError> {
        let (auth, app) = AuthConfig::from_json_with_members(text, APP_FIELDS)?;
        let api_url = match app.get("api_url") {
            None | Some(Value::Null) => None,
            Some(Value::String(url)) => Some(url.clone()),
            Some(_) => {
                return Err(ConfigError {
                    field: Some("api_url"),
                    message: "must be a string, e.g. \"https://api.example.com/ping\"".into(),
                })
            }
        };
        if let Some(url) = &api_url {
            check_url(url).map_err(|why| ConfigError {
                field: Some("api_url"),
                message: format!("{why}, e.g. \"https://api.example.com/ping\""),
            })?;
        }
        Ok(AppConfig { auth, api_url })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHIPPED: &str = include_str!("../assets/config.json");

    fn with(field: &str, value: Value) -> String {
        let mut json: Value = serde_json::from_str(SHIPPED).unwrap();
        json[field] = value;
        json.to_string()
    }

    #[test]
    fn the_shipped_config_points_at_the_local_provider() {
        let config = AppConfig::from_json(SHIPPED).unwrap();
        assert_eq!(config.auth.issuer, "http://localhost:4000");
        assert_eq!(config.auth.client_id, "oidc-renew-demo");
        assert_eq!(config.auth.silent_redirect_path, "/silent/");
        assert_eq!(
            config.api_url.as_deref(),
            Some("http://localhost:4000/api/ping")
        );
    }

    #[test]
    fn the_api_url_is_checked_like_every_url() {
        let check = |value: Value, expected: Result<Option<&str>, &str>| {
            let result = AppConfig::from_json(&with("api_url", value.clone()));
            match (result, expected) {
                (Ok(config), Ok(url)) => assert_eq!(config.api_url.as_deref(), url, "{value}"),
                (Err(error), Err(part)) => {
                    assert!(error.to_string().contains(part), "{value}: {error}");
                }
                (result, expected) => panic!("{value}: {result:?}, expected {expected:?}"),
            }
        };
        check(Value::Null, Ok(None));
        check(
            "https://api.example.com/ping".into(),
            Ok(Some("https://api.example.com/ping")),
        );
        check("javascript:alert(1)".into(), Err("https"));
        check("http://api.example.com".into(), Err("https"));
        check(4.into(), Err("must be a string"));
        check(
            serde_json::json!(["https://api.example.com"]),
            Err("must be a string"),
        );
    }

    #[test]
    fn library_errors_pass_through() {
        let error = AppConfig::from_json(&with("isuer", "x".into())).unwrap_err();
        assert!(
            error.to_string().contains("unknown field `isuer`"),
            "{error}"
        );
        let error = AppConfig::from_json(&with("client_id", " ".into())).unwrap_err();
        assert_eq!(error.field, Some("client_id"));
    }
}
