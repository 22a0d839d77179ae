//! The sign-in client: runs the protocol steps in order, calling the pure protocol module for every
//! decision and the browser glue for every effect. No Yew here; the provider component drives it.

use super::browser::crypto::{sha256, verify_signature};
use super::browser::storage::{StorageArea, Store};
use super::browser::{clock, http, navigation, random};
use super::protocol::authorize::{authorize_url, AuthorizeRequest};
use super::protocol::callback::{check_callback, AuthorizationResponse};
use super::protocol::discovery::{discovery_url, parse_discovery, ProviderMetadata};
use super::protocol::id_token::{
    check_at_hash, validate_id_token, IdClaims, IdTokenError, IdTokenExpectations,
};
use super::protocol::jwks::{parse_jwks, select_key, Jwks, KeyLookup};
use super::protocol::jwt::decode_jwt;
use super::protocol::logout::{logout_request, LogoutMethod};
use super::protocol::pkce::{code_challenge, code_verifier, random_token};
use super::protocol::session::{Session, StoredSessionError};
use super::protocol::state::AuthFailure;
use super::protocol::token::{parse_token_response, token_request_body};
use super::protocol::transaction::{safe_return_to, Transaction};
use crate::config::{Config, Flow, StorageKind};
use std::cell::RefCell;
use std::rc::Rc;

const SESSION_KEY: &str = "session";
const TRANSACTION_KEY: &str = "transaction";

/// Runs sign-in, callback handling and sign-out for one configured client. Cheap to clone.
#[derive(Clone)]
pub struct AuthClient {
    inner: Rc<Inner>,
}

struct Inner {
    config: Rc<Config>,
    origin: String,
    /// Where the session lives (the configured storage area).
    sessions: Store,
    /// The login transaction: always sessionStorage (one tab, survives the redirect).
    transactions: Store,
    metadata: RefCell<Option<Rc<ProviderMetadata>>>,
    jwks: RefCell<Option<Rc<Jwks>>>,
}

impl PartialEq for AuthClient {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.inner, &other.inner)
    }
}

/// The namespace of this client's storage keys: one app can hold sessions of several clients.
fn namespace(config: &Config) -> String {
    format!("oidc-renew:{}", config.client_id)
}

impl AuthClient {
    /// A client for `config`, at the page's origin.
    pub fn new(config: Rc<Config>) -> AuthClient {
        let area = match config.storage {
            StorageKind::Local => StorageArea::Local,
            StorageKind::Session => StorageArea::Session,
            StorageKind::Memory => StorageArea::Memory,
        };
        let namespace = namespace(&config);
        let inner = Inner {
            sessions: Store::new(area, &namespace),
            transactions: Store::new(StorageArea::Session, &namespace),
            origin: navigation::origin(),
            config,
            metadata: RefCell::new(None),
            jwks: RefCell::new(None),
        };
        AuthClient {
            inner: Rc::new(inner),
        }
    }

    /// The configuration this client runs with.
    pub fn config(&self) -> &Rc<Config> {
        &self.inner.config
    }

    /// The stored session, if any. A corrupted or absurd stored value is removed and reported: the caller
    /// shows signed-out. Makes no request.
    pub fn restore(&self) -> Result<Option<Session>, StoredSessionError> {
        let Some(text) = self.inner.sessions.get(SESSION_KEY) else {
            return Ok(None);
        };
        match Session::from_stored(&text, clock::now_ms()) {
            Ok(session) => Ok(Some(session)),
            Err(error) => {
                self.inner.sessions.remove(SESSION_KEY);
                gloo::console::warn!(format!("ignoring the stored session: {error}"));
                Err(error)
            }
        }
    }

    /// Starts a sign-in: stores a fresh transaction and navigates to the provider. `return_to` is the app
    /// path to come back to. Returns only on failure (on success the page unloads).
    pub async fn login(&self, return_to: &str) -> Result<(), AuthFailure> {
        let config = &self.inner.config;
        let metadata = self.metadata().await?;
        let state = random_token(&random::random_bytes::<32>()?);
        let nonce = random_token(&random::random_bytes::<32>()?);
        let redirect_uri = format!("{}{}", self.inner.origin, config.redirect_path);
        let (verifier, challenge) = match config.flow {
            Flow::Code => {
                let verifier = code_verifier(&random::random_bytes::<32>()?);
                let challenge = code_challenge(&sha256(verifier.as_bytes()).await?);
                (Some(verifier), Some(challenge))
            }
            Flow::Implicit => (None, None),
        };
        let transaction = Transaction {
            state: state.clone(),
            nonce: nonce.clone(),
            code_verifier: verifier,
            redirect_uri: redirect_uri.clone(),
            return_to: safe_return_to(return_to),
            created_at_ms: clock::now_ms(),
        };
        self.inner
            .transactions
            .set(TRANSACTION_KEY, &transaction.to_json())?;
        let url = authorize_url(&AuthorizeRequest {
            authorization_endpoint: &metadata.authorization_endpoint,
            client_id: &config.client_id,
            redirect_uri: &redirect_uri,
            scope: &config.scope,
            audience: config.audience.as_deref(),
            state: &state,
            nonce: &nonce,
            code_challenge: challenge.as_deref(),
            prompt: None,
            response_mode: None,
        });
        navigation::assign(&url)?;
        Ok(())
    }

    /// Completes a sign-in from the callback URL: strips it from the address bar, checks it against the
    /// single-use transaction, exchanges the code (code flow), validates the id_token and stores the
    /// session. Returns the session and the path to return to.
    pub async fn complete_login(&self) -> Result<(Session, String), AuthFailure> {
        let (hash, search) = navigation::location_params();
        navigation::strip_url_to_path()?;
        let callback =
            silent_callback::parse_callback(silent_callback::select_params(&hash, &search))?;
        let transaction = self.take_transaction()?;
        let metadata = self.metadata().await?;
        let response = check_callback(
            callback,
            &transaction.state,
            &self.inner.config.issuer,
            metadata.authorization_response_iss_parameter_supported,
        )?;
        let session = self
            .session_from_response(response, &transaction, None)
            .await?;
        self.store_session(&session)?;
        Ok((session, transaction.return_to))
    }

    /// Turns a checked authorization response into a validated session: the code exchange (code flow)
    /// and the full id_token validation. `expected_sub` is the current user's, for renewals.
    pub async fn session_from_response(
        &self,
        response: AuthorizationResponse,
        transaction: &Transaction,
        expected_sub: Option<&str>,
    ) -> Result<Session, AuthFailure> {
        let now_ms = clock::now_ms();
        let (access_token, id_token, expires_in, scope) = match response {
            AuthorizationResponse::Code(code) => {
                let metadata = self.metadata().await?;
                let token_endpoint = metadata.token_endpoint.as_deref().unwrap_or_default();
                let verifier = transaction.code_verifier.as_deref().unwrap_or_default();
                let body = token_request_body(
                    &code,
                    &transaction.redirect_uri,
                    &self.inner.config.client_id,
                    verifier,
                );
                let response = http::post_form(token_endpoint, &body).await?;
                let tokens = parse_token_response(response.status, &response.body)?;
                let id_token = tokens.id_token.ok_or(IdTokenError::Missing)?;
                (
                    tokens.access_token,
                    id_token,
                    tokens.expires_in,
                    tokens.scope,
                )
            }
            AuthorizationResponse::Tokens {
                access_token,
                id_token,
                expires_in,
                scope,
            } => (access_token, id_token, expires_in.map(u64::from), scope),
        };
        let (claims, at_hash) = self
            .validate_id_token(&id_token, &transaction.nonce, expected_sub)
            .await?;
        if transaction.code_verifier.is_none() {
            // Implicit flow: the access token came through the URL too; bind it to the signed id_token.
            check_at_hash(at_hash.as_deref(), &sha256(access_token.as_bytes()).await?)?;
        }
        Ok(Session::new(
            access_token,
            id_token,
            expires_in,
            scope,
            claims,
            now_ms,
        ))
    }

    /// Validates an id_token completely: claims (pure) and signature (WebCrypto), with one JWKS refetch
    /// when the key id is unknown (the provider rotated its keys). Returns the claims and `at_hash`.
    pub async fn validate_id_token(
        &self,
        id_token: &str,
        nonce: &str,
        expected_sub: Option<&str>,
    ) -> Result<(IdClaims, Option<String>), AuthFailure> {
        let jwt = decode_jwt(id_token)?;
        let expectations = IdTokenExpectations {
            issuer: &self.inner.config.issuer,
            client_id: &self.inner.config.client_id,
            nonce,
            now_secs: (clock::now_ms() / 1000) as i64,
            expected_sub,
        };
        let (alg, claims) = validate_id_token(&jwt, &expectations)?;
        let mut jwks = self.jwks(false).await?;
        let key_json = match select_key(&jwks, alg, jwt.header.kid.as_deref()) {
            KeyLookup::Found(key) => key.public_jwk_json(),
            KeyLookup::UnknownKid => {
                jwks = self.jwks(true).await?;
                match select_key(&jwks, alg, jwt.header.kid.as_deref()) {
                    KeyLookup::Found(key) => key.public_jwk_json(),
                    KeyLookup::UnknownKid => return Err(IdTokenError::UnknownKey.into()),
                }
            }
        };
        let valid = verify_signature(
            alg.name(),
            &key_json,
            jwt.signing_input.as_bytes(),
            &jwt.signature,
        )
        .await?;
        if !valid {
            return Err(IdTokenError::BadSignature.into());
        }
        let at_hash = jwt
            .claims
            .get("at_hash")
            .and_then(|value| value.as_str())
            .map(str::to_owned);
        Ok((claims, at_hash))
    }

    /// Stores a session in the configured area.
    pub fn store_session(&self, session: &Session) -> Result<(), AuthFailure> {
        self.inner.sessions.set(SESSION_KEY, &session.to_stored())?;
        Ok(())
    }

    /// Signs out: forgets the session and any pending transaction, then ends the provider session too
    /// (RP-initiated logout) when the provider supports it; otherwise returns to the app's home.
    pub async fn logout(&self, id_token_hint: Option<&str>) {
        self.inner.sessions.remove(SESSION_KEY);
        self.inner.transactions.remove(TRANSACTION_KEY);
        let config = &self.inner.config;
        let post_logout = format!("{}{}", self.inner.origin, config.post_logout_redirect_path);
        // Without discovery there is no end_session endpoint to call: the local sign-out still stands.
        let metadata = self.metadata().await.ok();
        let request = logout_request(
            config.provider,
            metadata.as_deref(),
            &config.issuer,
            &config.client_id,
            id_token_hint,
            &post_logout,
        );
        let navigated = match &request {
            Some(request) if request.method == LogoutMethod::Post => {
                navigation::submit_form(&request.endpoint, &request.params)
            }
            Some(request) => navigation::assign(&request.url()),
            None => navigation::assign(&post_logout),
        };
        if let Err(error) = navigated {
            gloo::console::warn!(format!("sign-out navigation failed: {error}"));
        }
    }

    /// The provider's metadata, fetched once per page load (lazily: a reload with a stored session makes
    /// no request to the provider).
    pub async fn metadata(&self) -> Result<Rc<ProviderMetadata>, AuthFailure> {
        if let Some(metadata) = self.inner.metadata.borrow().clone() {
            return Ok(metadata);
        }
        let config = &self.inner.config;
        let url = discovery_url(&config.issuer);
        let response = http::get(&url)
            .await
            .map_err(|error| AuthFailure::unreachable(&url, &error.to_string()))?;
        if response.status != 200 {
            return Err(AuthFailure::unreachable(
                &url,
                &format!("HTTP {}", response.status),
            ));
        }
        let metadata = Rc::new(parse_discovery(
            &response.body,
            &config.issuer,
            config.flow,
        )?);
        *self.inner.metadata.borrow_mut() = Some(metadata.clone());
        Ok(metadata)
    }

    async fn jwks(&self, refresh: bool) -> Result<Rc<Jwks>, AuthFailure> {
        if !refresh {
            if let Some(jwks) = self.inner.jwks.borrow().clone() {
                return Ok(jwks);
            }
        }
        let metadata = self.metadata().await?;
        let response = http::get(&metadata.jwks_uri)
            .await
            .map_err(|error| AuthFailure::unreachable(&metadata.jwks_uri, &error.to_string()))?;
        if response.status != 200 {
            return Err(AuthFailure::unreachable(
                &metadata.jwks_uri,
                &format!("HTTP {}", response.status),
            ));
        }
        let jwks = Rc::new(parse_jwks(&response.body)?);
        *self.inner.jwks.borrow_mut() = Some(jwks.clone());
        Ok(jwks)
    }

    fn take_transaction(&self) -> Result<Transaction, AuthFailure> {
        let text = self
            .inner
            .transactions
            .take(TRANSACTION_KEY)
            .ok_or_else(AuthFailure::no_transaction)?;
        Ok(Transaction::from_json(&text, clock::now_ms())?)
    }
}

impl AuthFailure {
    /// The provider (or one of its endpoints) could not be reached or answered an error status.
    pub fn unreachable(url: &str, why: &str) -> AuthFailure {
        AuthFailure {
            message: format!(
                "Cannot reach the sign-in provider at {url}. Check `issuer` in config.json and that the \
                 provider is running and allows this origin (CORS)."
            ),
            detail: why.to_owned(),
        }
    }

    /// A callback arrived without a login transaction in this tab (already used, expired or never started).
    pub fn no_transaction() -> AuthFailure {
        AuthFailure {
            message:
                "This sign-in response was not started here, or was already used. Sign in again."
                    .into(),
            detail: "no login transaction in sessionStorage".into(),
        }
    }
}

impl From<super::browser::BrowserError> for AuthFailure {
    fn from(error: super::browser::BrowserError) -> AuthFailure {
        AuthFailure {
            message: "The browser refused an operation sign-in needs.".into(),
            detail: error.to_string(),
        }
    }
}

impl From<http::HttpError> for AuthFailure {
    fn from(error: http::HttpError) -> AuthFailure {
        AuthFailure::unreachable("the token endpoint", &error.to_string())
    }
}

impl From<silent_callback::ParseError> for AuthFailure {
    fn from(error: silent_callback::ParseError) -> AuthFailure {
        AuthFailure {
            message: "This page's URL is not a valid sign-in response. Sign in again.".into(),
            detail: error.to_string(),
        }
    }
}
