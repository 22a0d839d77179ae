//! Ending the session at the provider too: OpenID Connect RP-Initiated Logout 1.0 at the discovered
//! `end_session_endpoint`, or Auth0's `/v2/logout`.

use super::discovery::ProviderMetadata;
use super::urls::append_query;
use crate::config::ProviderKind;

/// How the browser goes to the logout endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogoutMethod {
    /// A top-level navigation to [`LogoutRequest::url`].
    Get,
    /// A top-level form POST of the parameters to the endpoint (RP-Initiated Logout §2 requires providers
    /// to accept it): the id_token in `id_token_hint` then stays out of URLs, history and server logs.
    Post,
}

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
}

/// The logout at the provider, or `None` when the provider offers no logout endpoint (generic provider
/// without `end_session_endpoint`, or metadata not loaded): then sign-out is local only and the caller
/// goes to `post_logout_redirect_uri` itself.
///
/// - generic: a form POST to `end_session_endpoint` with `id_token_hint` (when known),
///   `post_logout_redirect_uri` and `client_id` (which identifies the client when the hint is missing
///   or expired);
/// - Auth0: a GET of `<issuer>/v2/logout` with `client_id` and `returnTo` (no token is sent).
pub fn logout_request(
    provider: ProviderKind,
    metadata: Option<&ProviderMetadata>,
    issuer: &str,
    client_id: &str,
    id_token_hint: Option<&str>,
    post_logout_redirect_uri: &str,
) -> Option<LogoutRequest> {
    match provider {
        ProviderKind::Generic => {
            let endpoint = metadata?.end_session_endpoint.clone()?;
            let mut params = Vec::new();
            if let Some(hint) = id_token_hint {
                params.push(("id_token_hint", hint.to_owned()));
            }
            params.push((
                "post_logout_redirect_uri",
                post_logout_redirect_uri.to_owned(),
            ));
            params.push(("client_id", client_id.to_owned()));
            Some(LogoutRequest {
                endpoint,
                params,
                method: LogoutMethod::Post,
            })
        }
        ProviderKind::Auth0 => Some(LogoutRequest {
            endpoint: format!("{}/v2/logout", issuer.trim_end_matches('/')),
            params: vec![
                ("client_id", client_id.to_owned()),
                ("returnTo", post_logout_redirect_uri.to_owned()),
            ],
            method: LogoutMethod::Get,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOME: &str = "http://localhost:8080/";

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
        }
    }

    fn check(
        provider: ProviderKind,
        metadata: Option<&ProviderMetadata>,
        issuer: &str,
        hint: Option<&str>,
        expected: Option<&str>,
    ) {
        let request = logout_request(provider, metadata, issuer, "oidc-renew-demo", hint, HOME);
        let method = match provider {
            ProviderKind::Generic => LogoutMethod::Post,
            ProviderKind::Auth0 => LogoutMethod::Get,
        };
        if let Some(request) = &request {
            assert_eq!(request.method, method, "{provider:?}");
        }
        let actual = request.map(|request| request.url());
        assert_eq!(
            actual.as_deref(),
            expected,
            "{provider:?} {issuer} {hint:?}"
        );
    }

    #[test]
    fn generic_provider() {
        let local = metadata(Some("http://localhost:4000/session/end"));
        check(
            ProviderKind::Generic,
            Some(&local),
            "http://localhost:4000",
            Some("a.b.c"),
            Some(
                "http://localhost:4000/session/end?id_token_hint=a.b.c\
                 &post_logout_redirect_uri=http%3A%2F%2Flocalhost%3A8080%2F\
                 &client_id=oidc-renew-demo",
            ),
        );
        check(
            ProviderKind::Generic,
            Some(&local),
            "http://localhost:4000",
            None,
            Some(
                "http://localhost:4000/session/end\
                 ?post_logout_redirect_uri=http%3A%2F%2Flocalhost%3A8080%2F\
                 &client_id=oidc-renew-demo",
            ),
        );
        let with_query = metadata(Some("https://id.example.com/logout?tenant=t1"));
        check(
            ProviderKind::Generic,
            Some(&with_query),
            "https://id.example.com",
            None,
            Some(
                "https://id.example.com/logout?tenant=t1\
                 &post_logout_redirect_uri=http%3A%2F%2Flocalhost%3A8080%2F\
                 &client_id=oidc-renew-demo",
            ),
        );
        // No end_session_endpoint, or no metadata: local sign-out only.
        check(
            ProviderKind::Generic,
            Some(&metadata(None)),
            "http://localhost:4000",
            Some("a.b.c"),
            None,
        );
        check(
            ProviderKind::Generic,
            None,
            "http://localhost:4000",
            Some("a.b.c"),
            None,
        );
    }

    #[test]
    fn auth0() {
        let expected = Some(
            "https://example.eu.auth0.com/v2/logout?client_id=oidc-renew-demo\
             &returnTo=http%3A%2F%2Flocalhost%3A8080%2F",
        );
        for issuer in [
            "https://example.eu.auth0.com/",
            "https://example.eu.auth0.com",
            "https://example.eu.auth0.com//",
        ] {
            check(ProviderKind::Auth0, None, issuer, Some("a.b.c"), expected);
            // Auth0's dialect does not depend on discovery.
            check(
                ProviderKind::Auth0,
                Some(&metadata(Some("https://x/end"))),
                issuer,
                None,
                expected,
            );
        }
    }
}
