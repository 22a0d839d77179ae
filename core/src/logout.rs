//! Ending the session at the provider too: OpenID Connect RP-Initiated Logout 1.0 at the discovered
//! `end_session_endpoint` (Auth0's is `/oidc/logout`), or else Auth0's `/v2/logout`; and what the app says
//! when the browser comes back.
//!
//! # What goes in the request, and why
//!
//! By default the browser leaves for the endpoint with a top-level **GET** (`logout_method: "get"`):
//! §2 requires providers to take GET and POST, but not all take POST (oidc-provider 9 routes it only
//! with `enableHttpPostMethods`; Django OAuth Toolkit's logout view fails a cross-site POST on its CSRF
//! check), while every provider that implements the specification takes GET. The parameters:
//!
//! - `id_token_hint`, the session's id_token, whenever the app holds one. §2 RECOMMENDS it; providers
//!   use it to find the session to end and to trust `post_logout_redirect_uri`, and many end the
//!   session without asking only with it (Keycloak and Auth0's `/oidc/logout` ask the user to confirm
//!   without a hint; PingFederate too; Okta requires it). Its cost under GET: the id_token is in the
//!   URL, so it stays in this browser's history and in the provider's (and any proxy's) access logs,
//!   though TLS hides it on the wire. What that exposes is the user's identity claims (`sub`, name,
//!   email) and a signed statement, for this client, that they signed in: not a credential for an API
//!   (APIs must refuse id_tokens; the demo API checks `typ`), and one whose session is being ended.
//!   We take that cost for a logout that works without a prompt; `logout_method: "post"` sends the same
//!   parameters as a form instead, keeping the token out of URLs, for providers that take POST.
//! - `post_logout_redirect_uri`: `<origin><post_logout_redirect_path>`, registered at the provider.
//! - `client_id`: names the client when there is no hint (§2: then the provider needs it to check
//!   `post_logout_redirect_uri`; Keycloak refuses the redirect without hint or client id) or when the
//!   provider refuses an old hint; with both, the provider checks that they agree.
//! - `state`: 32 random bytes, kept in `sessionStorage` ([`PendingLogout`]). §3 has the provider return
//!   it to `post_logout_redirect_uri`; the app then knows that the provider handled the logout, and
//!   says "signed out" only. A return without it (the user went back from the provider's page, or the
//!   provider dropped it) is not taken as proof: the app says the provider session may still be open.
//! - not `logout_hint`: its value is provider-specific (Auth0 wants the `sid`, Entra ID its own
//!   `login_hint` claim), and `id_token_hint` already names the session.
//!
//! With `"provider": "auth0"` the app uses Auth0's RP-initiated logout, `/oidc/logout`, whenever the
//! tenant's discovery states it (by default for tenants created since November 2023), as above; for
//! tenants whose discovery does not, Auth0's own `/v2/logout`: a GET with `client_id` and `returnTo`, no
//! token and no `state`, so its return cannot be checked and is taken as is.
//!
//! When no request can be made (no `end_session_endpoint`, discovery failed, the provider unreachable),
//! the sign-out is local only; the app returns to its post-logout page and says so, with how to end the
//! provider session ([`SignOutReason::ProviderLogoutUnsupported`],
//! [`SignOutReason::ProviderUnreachable`]).

use super::discovery::ProviderMetadata;
use super::fields::{self, Members, Object, Unreadable};
use super::state::SignOutReason;
use super::urls::append_query;
use crate::config::ProviderKind;
// Defined with the configuration (whose field it is), so that config.rs imports nothing of this module.
pub use crate::config::LogoutMethod;
use serde::Serialize;

/// A logout at the provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogoutRequest {
    /// The endpoint, with its own query if it has one.
    pub endpoint: String,
    /// The parameters, in order.
    pub params: Vec<(&'static str, String)>,
    /// GET or form POST.
    pub method: LogoutMethod,
}

impl LogoutRequest {
    /// The endpoint with the parameters as its query (the GET form).
    pub fn url(&self) -> String {
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (name, value) in &self.params {
            query.append_pair(name, value);
        }
        append_query(&self.endpoint, &query.finish())
    }

    /// The `state` the provider must bring back, if one was sent.
    pub fn state(&self) -> Option<&str> {
        self.params
            .iter()
            .find(|(name, _)| *name == "state")
            .map(|(_, value)| value.as_str())
    }
}

/// What a logout at the provider is made of, besides the provider's metadata.
#[derive(Debug, Clone, Copy)]
pub struct LogoutParams<'a> {
    /// The configured issuer (Auth0's `/v2/logout` is under it).
    pub issuer: &'a str,
    /// This app's client id.
    pub client_id: &'a str,
    /// The session's id_token, when one is held.
    pub id_token_hint: Option<&'a str>,
    /// Where the provider sends the browser back.
    pub post_logout_redirect_uri: &'a str,
    /// A fresh random value for `state`.
    pub state: &'a str,
    /// GET or POST, from config.json.
    pub method: LogoutMethod,
}

/// The logout at the provider, or `None` when the provider offers no logout endpoint (generic provider
/// without `end_session_endpoint`, or metadata not loaded): then sign-out is local only and the caller
/// goes to `post_logout_redirect_uri` itself.
///
/// - the discovered `end_session_endpoint` with `id_token_hint` (when known), `post_logout_redirect_uri`,
///   `client_id` and `state`, by `method` (see the module documentation for why each);
/// - Auth0 without one: a GET of `<issuer>/v2/logout` with `client_id` and `returnTo` (no token, no
///   state).
pub fn logout_request(
    provider: ProviderKind,
    metadata: Option<&ProviderMetadata>,
    params: &LogoutParams<'_>,
) -> Option<LogoutRequest> {
    let end_session = metadata.and_then(|metadata| metadata.end_session_endpoint.clone());
    match (provider, end_session) {
        (_, Some(endpoint)) => {
            let mut list = Vec::new();
            if let Some(hint) = params.id_token_hint {
                list.push(("id_token_hint", hint.to_owned()));
            }
            list.push((
                "post_logout_redirect_uri",
                params.post_logout_redirect_uri.to_owned(),
            ));
            list.push(("client_id", params.client_id.to_owned()));
            list.push(("state", params.state.to_owned()));
            Some(LogoutRequest {
                endpoint,
                params: list,
                method: params.method,
            })
        }
        (ProviderKind::Generic, None) => None,
        (ProviderKind::Auth0, None) => Some(LogoutRequest {
            endpoint: format!("{}/v2/logout", params.issuer.trim_end_matches('/')),
            params: vec![
                ("client_id", params.client_id.to_owned()),
                ("returnTo", params.post_logout_redirect_uri.to_owned()),
            ],
            method: LogoutMethod::Get,
        }),
    }
}

/// How long a logout may take at the provider (a confirmation page, a slow network) before its
/// return is no longer recognised: as long as a sign-in may.
pub const LOGOUT_TTL_MS: u64 = super::transaction::TRANSACTION_TTL_MS;

/// Largest stored record accepted: a few short strings.
const MAX_PENDING_LEN: usize = 1024;

/// Why the sign-out stayed local.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LocalOnly {
    /// The provider states no `end_session_endpoint` (and the dialect is not Auth0's).
    Unsupported,
    /// Discovery failed, or the provider did not answer a reachability check.
    Unreachable,
}

/// What the app remembers across the logout's navigation (in `sessionStorage`, single-use), so that the
/// page it lands on can say how the logout went. Externally tagged (`{"at_provider":{…}}`), as serde
/// writes it; read back by hand (`PendingLogout::read`, see `fields::Members`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PendingLogout {
    /// Sent to the provider, which must come back with `state` (`None`: Auth0's `/v2/logout`, which
    /// returns none).
    AtProvider {
        /// The `state` sent.
        state: Option<String>,
        /// When the app left for the provider, in milliseconds since the Unix epoch.
        created_at_ms: u64,
    },
    /// Signed out here only.
    LocalOnly {
        /// Why.
        reason: LocalOnly,
        /// When, in milliseconds since the Unix epoch.
        created_at_ms: u64,
    },
}

impl PendingLogout {
    /// The stored form: JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The stored form read back (see [`Members`]): one member, the variant, holding its fields.
    fn read(stored: &Object) -> Result<PendingLogout, Unreadable> {
        let created_at = |fields: &Members<'_>| {
            Members::required("created_at_ms", fields.whole("created_at_ms")?)
        };
        let stored = Members(stored);
        if stored.0.len() != 1 {
            return Err(Unreadable::WrongShape("one member: the variant".into()));
        }
        if let Ok(fields) = stored.object("at_provider") {
            return Ok(PendingLogout::AtProvider {
                state: fields.text("state")?,
                created_at_ms: created_at(&fields)?,
            });
        }
        let fields = stored.object("local_only")?;
        let reason = fields.choice("reason", &["unsupported", "unreachable"])?;
        Ok(PendingLogout::LocalOnly {
            reason: match Members::required("reason", reason)? {
                0 => LocalOnly::Unsupported,
                _ => LocalOnly::Unreachable,
            },
            created_at_ms: created_at(&fields)?,
        })
    }
}

/// Where the browser is when the app starts after a logout.
#[derive(Debug, Clone, Copy)]
pub struct Landing<'a> {
    /// Whether the page is the post-logout page (`post_logout_redirect_path`).
    pub at_post_logout_path: bool,
    /// The page's query (`location.search`, with or without its `?`).
    pub query: &'a str,
}

/// What to tell the user when the app starts with a pending logout record `stored` (read and removed
/// by the caller): `None` when there is nothing to say (no usable record, or one older than
/// [`LOGOUT_TTL_MS`]). A damaged record is ignored: the session is gone either way.
///
/// - signed out locally: why, and that the provider session may still be open;
/// - back from the provider on the post-logout page with the `state` sent (or from Auth0's
///   `/v2/logout`, which sends none): signed out;
/// - anything else (another page, no or another `state`): the provider did not confirm the logout.
pub fn logout_outcome(stored: &str, now_ms: u64, landing: Landing<'_>) -> Option<SignOutReason> {
    if stored.len() > MAX_PENDING_LEN {
        return None;
    }
    let pending = PendingLogout::read(&fields::stored_object(stored).ok()?).ok()?;
    let created_at_ms = match &pending {
        PendingLogout::AtProvider { created_at_ms, .. }
        | PendingLogout::LocalOnly { created_at_ms, .. } => *created_at_ms,
    };
    let age = now_ms.checked_sub(created_at_ms)?;
    if age > LOGOUT_TTL_MS {
        return None;
    }
    Some(match pending {
        PendingLogout::LocalOnly {
            reason: LocalOnly::Unsupported,
            ..
        } => SignOutReason::ProviderLogoutUnsupported,
        PendingLogout::LocalOnly {
            reason: LocalOnly::Unreachable,
            ..
        } => SignOutReason::ProviderUnreachable,
        PendingLogout::AtProvider { state, .. } => {
            let confirmed = landing.at_post_logout_path
                && match state {
                    Some(sent) => returned_state(landing.query).as_deref() == Some(sent.as_str()),
                    None => true,
                };
            if confirmed {
                SignOutReason::UserLoggedOut
            } else {
                SignOutReason::ProviderLogoutUnconfirmed
            }
        }
    })
}

/// The one `state` parameter of a post-logout return's query; `None` when absent or repeated. (Not a
/// callback: the app compares it with what it sent, and reads nothing else from it.)
fn returned_state(query: &str) -> Option<String> {
    let query = query.strip_prefix('?').unwrap_or(query);
    if query.len() > MAX_PENDING_LEN {
        return None;
    }
    let mut states = form_urlencoded::parse(query.as_bytes())
        .filter(|(name, _)| name == "state")
        .map(|(_, value)| value.into_owned());
    let state = states.next()?;
    states.next().is_none().then_some(state)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOME: &str = "http://localhost:8080/";
    const NOW: u64 = 1_700_000_000_000;

    fn metadata(end_session_endpoint: Option<&str>) -> ProviderMetadata {
        ProviderMetadata {
            issuer: "http://localhost:4000".into(),
            authorization_endpoint: "http://localhost:4000/auth".into(),
            token_endpoint: Some("http://localhost:4000/token".into()),
            userinfo_endpoint: None,
            jwks_uri: "http://localhost:4000/jwks".into(),
            end_session_endpoint: end_session_endpoint.map(Into::into),
            revocation_endpoint: None,
            id_token_signing_alg_values_supported: vec!["RS256".into()],
            response_types_supported: vec!["code".into()],
            code_challenge_methods_supported: vec!["S256".into()],
            authorization_response_iss_parameter_supported: true,
            dpop_signing_alg_values_supported: vec![],
        }
    }

    fn params<'a>(
        issuer: &'a str,
        hint: Option<&'a str>,
        method: LogoutMethod,
    ) -> LogoutParams<'a> {
        LogoutParams {
            issuer,
            client_id: "oidc-renew-demo",
            id_token_hint: hint,
            post_logout_redirect_uri: HOME,
            state: "S1",
            method,
        }
    }

    fn check(
        provider: ProviderKind,
        metadata: Option<&ProviderMetadata>,
        params: LogoutParams<'_>,
        expected: Option<(&str, LogoutMethod)>,
    ) {
        let request = logout_request(provider, metadata, &params);
        let actual = request
            .as_ref()
            .map(|request| (request.url(), request.method));
        assert_eq!(
            actual.as_ref().map(|(url, method)| (url.as_str(), *method)),
            expected,
            "{provider:?} {params:?}"
        );
    }

    #[test]
    fn generic_provider_by_get_by_default() {
        assert_eq!(LogoutMethod::default(), LogoutMethod::Get);
        let local = metadata(Some("http://localhost:4000/session/end"));
        let issuer = "http://localhost:4000";
        check(
            ProviderKind::Generic,
            Some(&local),
            params(issuer, Some("a.b.c"), LogoutMethod::Get),
            Some((
                "http://localhost:4000/session/end?id_token_hint=a.b.c\
                 &post_logout_redirect_uri=http%3A%2F%2Flocalhost%3A8080%2F\
                 &client_id=oidc-renew-demo&state=S1",
                LogoutMethod::Get,
            )),
        );
        // No id_token held: the client id names the client.
        check(
            ProviderKind::Generic,
            Some(&local),
            params(issuer, None, LogoutMethod::Get),
            Some((
                "http://localhost:4000/session/end\
                 ?post_logout_redirect_uri=http%3A%2F%2Flocalhost%3A8080%2F\
                 &client_id=oidc-renew-demo&state=S1",
                LogoutMethod::Get,
            )),
        );
        let with_query = metadata(Some("https://id.example.com/logout?tenant=t1"));
        check(
            ProviderKind::Generic,
            Some(&with_query),
            params("https://id.example.com", None, LogoutMethod::Get),
            Some((
                "https://id.example.com/logout?tenant=t1\
                 &post_logout_redirect_uri=http%3A%2F%2Flocalhost%3A8080%2F\
                 &client_id=oidc-renew-demo&state=S1",
                LogoutMethod::Get,
            )),
        );
        // No end_session_endpoint, or no metadata: local sign-out only.
        for metadata in [Some(&metadata(None)), None] {
            check(
                ProviderKind::Generic,
                metadata,
                params(issuer, Some("a.b.c"), LogoutMethod::Get),
                None,
            );
        }
    }

    #[test]
    fn post_sends_the_same_parameters_as_a_form() {
        let local = metadata(Some("http://localhost:4000/session/end"));
        let request = logout_request(
            ProviderKind::Generic,
            Some(&local),
            &params("http://localhost:4000", Some("a.b.c"), LogoutMethod::Post),
        )
        .unwrap();
        assert_eq!(request.method, LogoutMethod::Post);
        assert_eq!(request.endpoint, "http://localhost:4000/session/end");
        let names: Vec<&str> = request.params.iter().map(|(name, _)| *name).collect();
        assert_eq!(
            names,
            [
                "id_token_hint",
                "post_logout_redirect_uri",
                "client_id",
                "state"
            ]
        );
        assert_eq!(request.state(), Some("S1"));
    }

    #[test]
    fn auth0_prefers_its_rp_initiated_logout_and_falls_back_to_v2_logout() {
        let expected = Some((
            "https://example.eu.auth0.com/v2/logout?client_id=oidc-renew-demo\
             &returnTo=http%3A%2F%2Flocalhost%3A8080%2F",
            LogoutMethod::Get,
        ));
        for issuer in [
            "https://example.eu.auth0.com/",
            "https://example.eu.auth0.com",
            "https://example.eu.auth0.com//",
        ] {
            // Discovery without end_session_endpoint (or not loaded): /v2/logout, GET only.
            check(
                ProviderKind::Auth0,
                None,
                params(issuer, Some("a.b.c"), LogoutMethod::Get),
                expected,
            );
            check(
                ProviderKind::Auth0,
                Some(&metadata(None)),
                params(issuer, None, LogoutMethod::Post),
                expected,
            );
        }
        let request = logout_request(
            ProviderKind::Auth0,
            None,
            &params("https://example.eu.auth0.com/", None, LogoutMethod::Get),
        )
        .unwrap();
        assert_eq!(request.state(), None, "/v2/logout returns no state");
        // Discovery states /oidc/logout: the standard request, with the hint and a state.
        let oidc = metadata(Some("https://example.eu.auth0.com/oidc/logout"));
        check(
            ProviderKind::Auth0,
            Some(&oidc),
            params(
                "https://example.eu.auth0.com/",
                Some("a.b.c"),
                LogoutMethod::Get,
            ),
            Some((
                "https://example.eu.auth0.com/oidc/logout?id_token_hint=a.b.c\
                 &post_logout_redirect_uri=http%3A%2F%2Flocalhost%3A8080%2F\
                 &client_id=oidc-renew-demo&state=S1",
                LogoutMethod::Get,
            )),
        );
    }

    #[test]
    fn logout_method_names_the_field_when_wrong() {
        let parse = |text: &str| serde_json::from_str::<LogoutMethod>(text);
        assert_eq!(parse(r#""get""#).unwrap(), LogoutMethod::Get);
        assert_eq!(parse(r#""post""#).unwrap(), LogoutMethod::Post);
        for wrong in [r#""GET""#, r#""put""#, r#""""#] {
            let error = parse(wrong).unwrap_err().to_string();
            assert!(
                error.contains("`logout_method` must be \"get\""),
                "{wrong}: {error}"
            );
        }
        assert!(parse("1").is_err());
    }

    fn at_provider(state: Option<&str>, created_at_ms: u64) -> String {
        PendingLogout::AtProvider {
            state: state.map(Into::into),
            created_at_ms,
        }
        .to_json()
    }

    fn home(query: &str) -> Landing<'_> {
        Landing {
            at_post_logout_path: true,
            query,
        }
    }

    #[test]
    fn the_return_says_what_is_known() {
        use SignOutReason::*;
        let sent = at_provider(Some("S1"), NOW);
        let cases: Vec<(&str, Landing<'_>, Option<SignOutReason>)> = vec![
            // The provider came back with the state sent.
            (&sent, home("?state=S1"), Some(UserLoggedOut)),
            (&sent, home("state=S1"), Some(UserLoggedOut)),
            (&sent, home("?x=1&state=S1"), Some(UserLoggedOut)),
            // Back without it, with another, or twice: not confirmed.
            (&sent, home(""), Some(ProviderLogoutUnconfirmed)),
            (&sent, home("?state=S2"), Some(ProviderLogoutUnconfirmed)),
            (&sent, home("?state=s1"), Some(ProviderLogoutUnconfirmed)),
            (
                &sent,
                home("?state=S1&state=S1"),
                Some(ProviderLogoutUnconfirmed),
            ),
            (
                &sent,
                Landing {
                    at_post_logout_path: false,
                    query: "?state=S1",
                },
                Some(ProviderLogoutUnconfirmed),
            ),
        ];
        for (stored, landing, expected) in cases {
            assert_eq!(
                logout_outcome(stored, NOW + 1_000, landing),
                expected,
                "{stored} {landing:?}"
            );
        }
        // Auth0's /v2/logout returns no state: its return is taken as is.
        assert_eq!(
            logout_outcome(&at_provider(None, NOW), NOW, home("")),
            Some(UserLoggedOut)
        );
        for (reason, expected) in [
            (LocalOnly::Unsupported, ProviderLogoutUnsupported),
            (LocalOnly::Unreachable, ProviderUnreachable),
        ] {
            let stored = PendingLogout::LocalOnly {
                reason,
                created_at_ms: NOW,
            }
            .to_json();
            assert_eq!(
                logout_outcome(&stored, NOW, home("")),
                Some(expected),
                "{stored}"
            );
        }
    }

    #[test]
    fn old_damaged_or_future_records_say_nothing() {
        let sent = at_provider(Some("S1"), NOW);
        assert_eq!(
            logout_outcome(&sent, NOW + LOGOUT_TTL_MS + 1, home("?state=S1")),
            None
        );
        assert!(logout_outcome(&sent, NOW + LOGOUT_TTL_MS, home("?state=S1")).is_some());
        assert_eq!(logout_outcome(&sent, NOW - 1, home("?state=S1")), None);
        for damaged in ["", "{", "null", r#"{"kind":"elsewhere"}"#, "[1]"] {
            assert_eq!(logout_outcome(damaged, NOW, home("")), None, "{damaged}");
        }
        let huge = at_provider(Some(&"x".repeat(MAX_PENDING_LEN)), NOW);
        assert_eq!(logout_outcome(&huge, NOW, home("")), None);
    }
}
