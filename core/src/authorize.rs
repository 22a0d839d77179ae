//! The authorization request URL (RFC 6749 §4.1.1, OpenID Connect Core §3.1.2.1 and §3.2.2.1):
//! Authorization Code with PKCE S256 (RFC 9700) by default, the implicit `id_token token` response
//! as the legacy mode.

use super::urls::append_query;

/// What goes into an authorization request. Borrowed: the caller owns the values (the transaction,
/// the config, the metadata).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthorizeRequest<'a> {
    /// The provider's `authorization_endpoint` (from discovery).
    pub authorization_endpoint: &'a str,
    /// This app's client id.
    pub client_id: &'a str,
    /// Where the provider sends the response: the callback route or the silent page.
    pub redirect_uri: &'a str,
    /// Space-separated scopes; includes `openid`.
    pub scope: &'a str,
    /// Auth0-style API identifier the access token is for; `None` leaves it out.
    pub audience: Option<&'a str>,
    /// Fresh random value bound to this request (CSRF defence), kept in the login transaction.
    pub state: &'a str,
    /// Fresh random value the id_token must repeat (replay defence), kept in the transaction.
    pub nonce: &'a str,
    /// The PKCE S256 challenge. `Some` selects the code flow, `None` the implicit flow.
    pub code_challenge: Option<&'a str>,
    /// `prompt`, e.g. `none` for silent renewal or `login` to force the login form.
    pub prompt: Option<&'a str>,
    /// `response_mode`, e.g. `fragment` so the silent page reads the answer from its hash.
    pub response_mode: Option<&'a str>,
    /// The RFC 7638 thumbprint of the DPoP key the tokens will be bound to (RFC 9449 §10): the code
    /// can then be redeemed only with a proof signed by that key. `None` without DPoP.
    pub dpop_jkt: Option<&'a str>,
}

impl AuthorizeRequest<'_> {
    /// The `response_type` this request asks for: `code`, or `id_token token` without a challenge.
    pub fn response_type(&self) -> &'static str {
        match self.code_challenge {
            Some(_) => "code",
            None => "id_token token",
        }
    }
}

/// The URL to send the browser to: the endpoint with the request's parameters, form-urlencoded
/// and appended with `?`, or `&` when the endpoint already has a query. Optional parameters that
/// are `None` are left out.
pub fn authorize_url(request: &AuthorizeRequest) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    query
        .append_pair("response_type", request.response_type())
        .append_pair("client_id", request.client_id)
        .append_pair("redirect_uri", request.redirect_uri)
        .append_pair("scope", request.scope)
        .append_pair("state", request.state)
        .append_pair("nonce", request.nonce);
    if let Some(challenge) = request.code_challenge {
        query
            .append_pair("code_challenge", challenge)
            .append_pair("code_challenge_method", "S256");
    }
    let optional = [
        ("audience", request.audience),
        ("prompt", request.prompt),
        ("response_mode", request.response_mode),
        ("dpop_jkt", request.dpop_jkt),
    ];
    for (name, value) in optional {
        if let Some(value) = value {
            query.append_pair(name, value);
        }
    }
    append_query(request.authorization_endpoint, &query.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    const CODE: AuthorizeRequest<'static> = AuthorizeRequest {
        authorization_endpoint: "http://localhost:4000/auth",
        client_id: "oidc-renew-demo",
        redirect_uri: "http://localhost:8080/callback",
        scope: "openid profile email",
        audience: None,
        state: "af0ifjsldkj",
        nonce: "n-0S6_WzA2Mj",
        code_challenge: Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"),
        prompt: None,
        response_mode: None,
        dpop_jkt: None,
    };

    const IMPLICIT: AuthorizeRequest<'static> = AuthorizeRequest {
        code_challenge: None,
        ..CODE
    };

    fn check(request: AuthorizeRequest, expected: &str) {
        assert_eq!(authorize_url(&request), expected, "{request:?}");
    }

    #[test]
    fn code_flow_with_pkce() {
        check(
            CODE,
            "http://localhost:4000/auth?response_type=code&client_id=oidc-renew-demo\
             &redirect_uri=http%3A%2F%2Flocalhost%3A8080%2Fcallback&scope=openid+profile+email\
             &state=af0ifjsldkj&nonce=n-0S6_WzA2Mj\
             &code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM\
             &code_challenge_method=S256",
        );
    }

    #[test]
    fn implicit_legacy_mode() {
        check(
            IMPLICIT,
            "http://localhost:4000/auth?response_type=id_token+token&client_id=oidc-renew-demo\
             &redirect_uri=http%3A%2F%2Flocalhost%3A8080%2Fcallback&scope=openid+profile+email\
             &state=af0ifjsldkj&nonce=n-0S6_WzA2Mj",
        );
    }

    #[test]
    fn optional_parameters() {
        // Silent renewal: prompt=none, the silent page, the fragment, an audience.
        check(
            AuthorizeRequest {
                redirect_uri: "http://localhost:8080/silent/",
                audience: Some("urn:oidc-renew:demo-api"),
                prompt: Some("none"),
                response_mode: Some("fragment"),
                ..CODE
            },
            "http://localhost:4000/auth?response_type=code&client_id=oidc-renew-demo\
             &redirect_uri=http%3A%2F%2Flocalhost%3A8080%2Fsilent%2F&scope=openid+profile+email\
             &state=af0ifjsldkj&nonce=n-0S6_WzA2Mj\
             &code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM\
             &code_challenge_method=S256&audience=urn%3Aoidc-renew%3Ademo-api&prompt=none\
             &response_mode=fragment",
        );
        check(
            AuthorizeRequest {
                audience: Some("https://api.example.com/"),
                prompt: Some("login"),
                ..IMPLICIT
            },
            "http://localhost:4000/auth?response_type=id_token+token&client_id=oidc-renew-demo\
             &redirect_uri=http%3A%2F%2Flocalhost%3A8080%2Fcallback&scope=openid+profile+email\
             &state=af0ifjsldkj&nonce=n-0S6_WzA2Mj&audience=https%3A%2F%2Fapi.example.com%2F\
             &prompt=login",
        );
    }

    #[test]
    fn dpop_binds_the_code_to_the_key() {
        // RFC 9449 §10's example thumbprint, on a sign-in and on a silent renewal alike.
        let jkt = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";
        check(
            AuthorizeRequest {
                dpop_jkt: Some(jkt),
                ..CODE
            },
            "http://localhost:4000/auth?response_type=code&client_id=oidc-renew-demo\
             &redirect_uri=http%3A%2F%2Flocalhost%3A8080%2Fcallback&scope=openid+profile+email\
             &state=af0ifjsldkj&nonce=n-0S6_WzA2Mj\
             &code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM\
             &code_challenge_method=S256\
             &dpop_jkt=NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs",
        );
        let silent = authorize_url(&AuthorizeRequest {
            prompt: Some("none"),
            response_mode: Some("fragment"),
            dpop_jkt: Some(jkt),
            ..CODE
        });
        assert!(
            silent.ends_with("&prompt=none&response_mode=fragment&dpop_jkt=NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"),
            "{silent}"
        );
    }

    #[test]
    fn endpoints_with_a_query_or_odd_values() {
        check(
            AuthorizeRequest {
                authorization_endpoint: "https://login.example.com/oauth2/authorize?p=B2C_1_signin",
                client_id: "a&b=c",
                scope: "openid",
                code_challenge: None,
                ..CODE
            },
            "https://login.example.com/oauth2/authorize?p=B2C_1_signin\
             &response_type=id_token+token&client_id=a%26b%3Dc\
             &redirect_uri=http%3A%2F%2Flocalhost%3A8080%2Fcallback&scope=openid\
             &state=af0ifjsldkj&nonce=n-0S6_WzA2Mj",
        );
    }

    #[test]
    fn the_url_reads_back_as_the_request() {
        let url = authorize_url(&CODE);
        let (_, query) = url.split_once('?').unwrap();
        let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        let get = |name: &str| {
            pairs
                .iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.as_str())
        };
        assert_eq!(get("redirect_uri"), Some(CODE.redirect_uri));
        assert_eq!(get("scope"), Some(CODE.scope));
        assert_eq!(get("code_challenge"), CODE.code_challenge);
        assert_eq!(get("audience"), None);
    }
}
