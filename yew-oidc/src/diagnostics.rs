//! Setup checks, for a setup doctor page: each probe asks the provider what sign-in and renewal would
//! ask, fresh (never from a cache), and keeps nothing. The verdicts (what a finding means, what to fix)
//! are the app's.
//!
//! ```no_run
//! # async fn doctor() {
//! use yew_oidc::diagnostics::Diagnostics;
//! use yew_oidc::AuthConfig;
//! use std::rc::Rc;
//!
//! let config = Rc::new(AuthConfig::new("https://example.eu.auth0.com/", "my-client-id"));
//! let diagnostics = Diagnostics::new(config);
//! match diagnostics.discovery().await {
//!     Ok(metadata) => println!("token endpoint: {:?}", metadata.token_endpoint),
//!     Err(error) => println!("discovery failed: {error:?}"),
//! }
//! # }
//! ```

use crate::browser::http;
use crate::browser::tabs::with_exclusive_lock;
use crate::client::AuthClient;
use crate::renewer::SilentRequest;
use oidc_renew_core::config::AuthConfig;
use oidc_renew_core::discovery::{
    discovery_url, parse_discovery, DiscoveryError, ProviderMetadata,
};
use oidc_renew_core::jwks::{parse_jwks, Jwks, JwksError};
use oidc_renew_core::token::{parse_token_response, token_request_body, TokenError};
use std::future::Future;
use std::rc::Rc;

/// Why a document from the provider (discovery, JWKS) could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeError {
    /// No response: offline, DNS, refused connection, or a CORS refusal (the browser does not say
    /// which).
    Unreachable {
        /// What was requested.
        url: String,
        /// The browser's description.
        why: String,
    },
    /// A response with another status than 200.
    Status {
        /// What was requested.
        url: String,
        /// The HTTP status.
        status: u16,
    },
    /// The discovery document fails the checks sign-in makes.
    Discovery(DiscoveryError),
    /// The key set fails the checks sign-in makes.
    Jwks(JwksError),
}

/// What a POST of a code that cannot exist to the token endpoint brought back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenProbe {
    /// A response the page could read: CORS let it through.
    Answered {
        /// The HTTP status (400 expected).
        status: u16,
        /// The OAuth error code, if the body had one (`invalid_grant` expected).
        error: Option<String>,
    },
    /// The browser gave no response (a `TypeError`): CORS refused, or the server is unreachable.
    Refused(String),
}

/// The setup probes of one configured client.
#[derive(Clone)]
pub struct Diagnostics {
    client: AuthClient,
}

impl Diagnostics {
    /// Probes for `config`, at the page's origin.
    pub fn new(config: Rc<AuthConfig>) -> Diagnostics {
        Diagnostics {
            client: AuthClient::new(config),
        }
    }

    /// fetches the discovery document afresh (never the cached one) and checks it as
    /// sign-in does. Keeps nothing.
    pub async fn discovery(&self) -> Result<ProviderMetadata, ProbeError> {
        let config = self.client.config();
        let body = fetch_document(&discovery_url(&config.issuer)).await?;
        parse_discovery(&body, &config.issuer, config.flow).map_err(ProbeError::Discovery)
    }

    /// fetches the key set at `jwks_uri` afresh and checks it as sign-in does.
    pub async fn jwks(&self, jwks_uri: &str) -> Result<Jwks, ProbeError> {
        parse_jwks(&fetch_document(jwks_uri).await?).map_err(ProbeError::Jwks)
    }

    /// posts a code that cannot exist (with this client's id and redirect URI) to
    /// `token_endpoint`, to learn whether the browser lets this origin read the answer (CORS) and
    /// whether the provider knows the client. No token can come of it.
    pub async fn token_endpoint(&self, token_endpoint: &str) -> TokenProbe {
        let config = self.client.config();
        let redirect_uri = format!("{}{}", self.client.origin(), config.redirect_path);
        // A well-formed PKCE verifier (43 unreserved characters) that matches no challenge.
        let verifier = "0".repeat(43);
        let body = token_request_body("doctor-probe", &redirect_uri, &config.client_id, &verifier);
        match http::post_form(token_endpoint, &body).await {
            Ok(response) => TokenProbe::Answered {
                status: response.status,
                error: match parse_token_response(response.status, &response.body) {
                    Err(TokenError::Provider { error, .. }) => Some(error),
                    _ => None,
                },
            },
            Err(http::HttpError::Network(why)) => TokenProbe::Refused(why),
            Err(error) => TokenProbe::Refused(error.to_string()),
        }
    }

    /// A `prompt=none` request exactly as a silent renewal makes it, for an
    /// [`IframeRenewer`](crate::IframeRenewer) to run; its code, if one comes back, is never redeemed.
    pub async fn silent_request(&self, id: u64) -> Result<SilentRequest, String> {
        self.client
            .begin_renewal(id)
            .await
            .map(|pending| pending.request)
            .map_err(|error| error.to_string())
    }

    /// Runs `work` holding the cross-tab renewal lock, so that no renewal (in any tab) runs a silent
    /// request at the same time. Waits at most `wait_ms` for the lock.
    pub async fn under_renewal_lock<T: 'static>(
        &self,
        wait_ms: u32,
        work: impl Future<Output = T> + 'static,
    ) -> Result<T, String> {
        with_exclusive_lock(&self.client.renewal_lock_name(), wait_ms, work)
            .await
            .map_err(|error| error.to_string())
    }
}

/// The body of a `GET url` that answered 200, for the setup doctor's probes.
async fn fetch_document(url: &str) -> Result<String, ProbeError> {
    let response = http::get(url)
        .await
        .map_err(|error| ProbeError::Unreachable {
            url: url.to_owned(),
            why: match error {
                http::HttpError::Network(why) => why,
                error => error.to_string(),
            },
        })?;
    if response.status != 200 {
        return Err(ProbeError::Status {
            url: url.to_owned(),
            status: response.status,
        });
    }
    Ok(response.body)
}
