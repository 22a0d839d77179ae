//! The URL that ends the session at the provider too: OpenID Connect RP-Initiated Logout 1.0 at the
//! discovered `end_session_endpoint`, or Auth0's `/v2/logout`.

use super::discovery::ProviderMetadata;
use super::urls::append_query;
use crate::config::ProviderKind;

/// Where to send the browser to log out at the provider, or `None` when the provider offers no
/// logout endpoint (generic provider without `end_session_endpoint`, or metadata not loaded):
/// then sign-out is local only and the caller goes to `post_logout_redirect_uri` itself.
///
/// - generic: `end_session_endpoint` with `id_token_hint` (when known), `post_logout_redirect_uri`
///   and `client_id` (which identifies the client when the hint is missing or expired);
/// - Auth0: `<issuer>/v2/logout` with `client_id` and `returnTo` (the issuer ends with one `/`).
pub fn logout_url(
    provider: ProviderKind,
    metadata: Option<&ProviderMetadata>,
    issuer: &str,
    client_id: &str,
    id_token_hint: Option<&str>,
    post_logout_redirect_uri: &str,
) -> Option<String> {
    let mut query = form_urlencoded::Serializer::new(String::new());
    match provider {
        ProviderKind::Generic => {
            let endpoint = metadata?.end_session_endpoint.as_deref()?;
            if let Some(hint) = id_token_hint {
                query.append_pair("id_token_hint", hint);
            }
            query
                .append_pair("post_logout_redirect_uri", post_logout_redirect_uri)
                .append_pair("client_id", client_id);
            Some(append_query(endpoint, &query.finish()))
        }
        ProviderKind::Auth0 => {
            let base = issuer.trim_end_matches('/');
            query
                .append_pair("client_id", client_id)
                .append_pair("returnTo", post_logout_redirect_uri);
            Some(format!("{base}/v2/logout?{}", query.finish()))
        }
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
        let actual = logout_url(provider, metadata, issuer, "oidc-renew-demo", hint, HOME);
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
