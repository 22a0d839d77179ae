//! The sign-in client: runs the protocol steps in order, calling the pure protocol module for every
//! decision and the browser glue for every effect. No Yew here; the provider component drives it.

use crate::browser::crypto::{sha256, verify_signature};
use crate::browser::storage::{StorageArea, Store};
use crate::browser::{clock, http, navigation, random, BrowserError};
use crate::dpop::{Dpop, DpopFailure, DpopKey};
use crate::renewer::{SilentOutcome, SilentRequest};
use oidc_renew_core::authorize::{authorize_url, AuthorizeRequest};
use oidc_renew_core::callback::{check_callback, AuthorizationResponse, CallbackError};
use oidc_renew_core::config::{AuthConfig as Config, Flow, RenewalMode, StorageKind};
use oidc_renew_core::discovery::{
    discovery_url, parse_discovery, DiscoveryError, ProviderMetadata,
};
use oidc_renew_core::dpop::{self as dpop_rules, DpopError, Server, TokenType};
use oidc_renew_core::id_token::{
    check_at_hash, validate_id_token, IdClaims, IdTokenError, IdTokenExpectations, Nonce,
};
use oidc_renew_core::jwks::{parse_jwks, select_key, Jwks, JwksError, KeyLookup};
use oidc_renew_core::jwt::{decode_jwt, JwtError};
use oidc_renew_core::logout::{
    logout_outcome, logout_request, Landing, LocalOnly, LogoutMethod, LogoutParams, PendingLogout,
};
use oidc_renew_core::pkce::{code_challenge, code_verifier, random_token};
use oidc_renew_core::renewal::{fail_fast_error, RenewalError};
use oidc_renew_core::session::{RefreshToken, Session, SessionOwner, StoredSessionError};
use oidc_renew_core::state::{AuthFailure, SignOutReason};
use oidc_renew_core::token::{
    parse_token_response_as, refresh_request_body, revocation_request_body, token_request_body,
    TokenError,
};
use oidc_renew_core::transaction::{safe_return_to, Transaction, TransactionError};
use std::cell::RefCell;
use std::rc::Rc;

const SESSION_KEY: &str = "session";
const TRANSACTION_KEY: &str = "transaction";
/// Memory storage only: "this browser signed in" (no token), so that a reload restores the session by
/// silent renewal and a visitor who never signed in costs the provider nothing.
const SIGNED_IN_KEY: &str = "signed-in";
/// The `issued_at_ms` of the newest session any tab stored (a number, no token), shared through
/// localStorage whatever the session storage: a tab with per-tab storage learns under the renewal lock
/// that another tab renewed, so it never sends the refresh token that renewal spent.
const NEWEST_KEY: &str = "newest";
/// The pending logout (sessionStorage): what the page after the logout's navigation says.
const LOGOUT_KEY: &str = "logout";

/// Runs sign-in, renewal and sign-out for one configured client. Cheap to clone.
#[derive(Clone)]
pub struct AuthClient {
    inner: Rc<Inner>,
}

struct Inner {
    config: Rc<Config>,
    origin: String,
    namespace: String,
    /// Where the session lives (the configured storage area).
    sessions: Store,
    /// The login transaction: always sessionStorage (one tab, survives the redirect).
    transactions: Store,
    /// The signed-in marker of memory storage: localStorage, strict (no marker rather than one only
    /// this page sees).
    markers: Option<Store>,
    /// The newest-session marker: localStorage, strict.
    shared: Store,
    metadata: RefCell<Option<Rc<ProviderMetadata>>>,
    jwks: RefCell<Option<Rc<Jwks>>>,
    /// The DPoP keys and server nonces.
    dpop: Rc<Dpop>,
}

impl PartialEq for AuthClient {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.inner, &other.inner)
    }
}

/// A silent renewal in progress: what the iframe loads, and what its answer is checked against.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingRenewal {
    /// What the hidden iframe loads, and the state it must come back with.
    pub request: SilentRequest,
    nonce: String,
    code_verifier: Option<String>,
    redirect_uri: String,
    /// When the iframe was created.
    pub started_at_ms: u64,
    /// The DPoP key the request's `dpop_jkt` named, which the code exchange proves.
    dpop: Option<Rc<DpopKey>>,
}

/// Why a step of sign-in or renewal failed, typed so that sign-in can explain it and renewal can
/// classify it.
#[derive(Debug)]
enum StepError {
    Unreachable { url: String, why: String },
    Browser(BrowserError),
    Discovery(DiscoveryError),
    Jwks(JwksError),
    Callback(CallbackError),
    Token(TokenError),
    IdToken(IdTokenError),
    Transaction(TransactionError),
    NoTransaction,
    Dpop(DpopError),
}

impl From<DpopError> for StepError {
    fn from(error: DpopError) -> StepError {
        StepError::Dpop(error)
    }
}

impl From<DpopFailure> for StepError {
    fn from(failure: DpopFailure) -> StepError {
        match failure {
            DpopFailure::Browser(error) => StepError::Browser(error),
            DpopFailure::Dpop(error) => StepError::Dpop(error),
            DpopFailure::Http { url, error } => unreachable(&url, error),
        }
    }
}

impl From<BrowserError> for StepError {
    fn from(error: BrowserError) -> StepError {
        StepError::Browser(error)
    }
}
impl From<CallbackError> for StepError {
    fn from(error: CallbackError) -> StepError {
        StepError::Callback(error)
    }
}
impl From<TokenError> for StepError {
    fn from(error: TokenError) -> StepError {
        StepError::Token(error)
    }
}
impl From<IdTokenError> for StepError {
    fn from(error: IdTokenError) -> StepError {
        StepError::IdToken(error)
    }
}
impl From<JwtError> for StepError {
    fn from(error: JwtError) -> StepError {
        StepError::IdToken(IdTokenError::Malformed(error))
    }
}

impl From<StepError> for AuthFailure {
    fn from(error: StepError) -> AuthFailure {
        match error {
            StepError::Unreachable { url, why } => AuthFailure::new(
                format!(
                    "Cannot reach the sign-in provider at {url}. Check `issuer` in config.json, that \
                     the provider is running, and that it allows this origin (CORS)."
                ),
                why,
            ),
            StepError::Browser(error) => {
                AuthFailure::new("The browser refused an operation sign-in needs.", error.to_string())
            }
            StepError::NoTransaction => AuthFailure::new(
                "This sign-in response was not started here, or was already used. Sign in again.",
                "no login transaction in sessionStorage",
            ),
            StepError::Discovery(error) => error.into(),
            StepError::Jwks(error) => error.into(),
            StepError::Callback(error) => error.into(),
            StepError::Token(error) => error.into(),
            StepError::IdToken(error) => error.into(),
            StepError::Transaction(error) => error.into(),
            StepError::Dpop(error) => error.into(),
        }
    }
}

impl From<StepError> for RenewalError {
    fn from(error: StepError) -> RenewalError {
        match error {
            StepError::Unreachable { url, why } => RenewalError::Network(format!("{url}: {why}")),
            StepError::Browser(error) => RenewalError::Browser(error.to_string()),
            StepError::Discovery(error) => RenewalError::Discovery(error),
            StepError::Jwks(error) => RenewalError::Jwks(error),
            StepError::Callback(error) => error.into(),
            StepError::Token(error) => error.into(),
            StepError::IdToken(error) => error.into(),
            StepError::Transaction(error) => RenewalError::Browser(error.to_string()),
            StepError::NoTransaction => RenewalError::Browser("no pending renewal".into()),
            StepError::Dpop(error) => error.into(),
        }
    }
}

fn unreachable(url: &str, why: impl ToString) -> StepError {
    StepError::Unreachable {
        url: url.to_owned(),
        why: why.to_string(),
    }
}

impl AuthClient {
    /// A client for `config`, at the page's origin.
    pub fn new(config: Rc<Config>) -> AuthClient {
        let area = match config.storage {
            StorageKind::Local => StorageArea::Local,
            StorageKind::Session => StorageArea::Session,
            StorageKind::Memory => StorageArea::Memory,
        };
        // One app can hold sessions of several clients: every key is namespaced by client.
        let namespace = format!("oidc-renew:{}", config.client_id);
        let inner = Inner {
            sessions: Store::new(area, &namespace),
            transactions: Store::new(StorageArea::Session, &namespace),
            markers: (area == StorageArea::Memory)
                .then(|| Store::strict(StorageArea::Local, &namespace)),
            shared: Store::strict(StorageArea::Local, &namespace),
            dpop: Rc::new(Dpop::new(&namespace, config.storage)),
            origin: navigation::origin(),
            namespace,
            config,
            metadata: RefCell::new(None),
            jwks: RefCell::new(None),
        };
        AuthClient {
            inner: Rc::new(inner),
        }
    }

    /// The DPoP keys and nonces, for the API calls of app code.
    pub(crate) fn dpop(&self) -> &Rc<Dpop> {
        &self.inner.dpop
    }

    /// The page's origin, as redirect URIs start.
    pub fn origin(&self) -> &str {
        &self.inner.origin
    }

    /// The configuration this client runs with.
    pub fn config(&self) -> &Rc<Config> {
        &self.inner.config
    }

    /// The prefix of this client's storage keys, lock and channel names.
    pub fn namespace(&self) -> &str {
        &self.inner.namespace
    }

    /// The cross-tab lock every silent request of this client holds: one per client and audience, so
    /// that tokens for different APIs renew independently but one API's renew once.
    pub fn renewal_lock_name(&self) -> String {
        let audience = self.inner.config.audience.as_deref().unwrap_or_default();
        format!("{}:renew:{audience}", self.inner.namespace)
    }

    /// Whom a stored or shared session must belong to: the configured issuer, client and audience.
    pub fn session_owner(&self) -> SessionOwner<'_> {
        let config = &self.inner.config;
        SessionOwner {
            issuer: &config.issuer,
            client_id: &config.client_id,
            audience: config.audience.as_deref(),
        }
    }

    /// Why the session is kept in this page's memory although the configuration asks for
    /// `localStorage` or `sessionStorage`: the browser storage was unavailable or refused a read or
    /// write. `None` while it works.
    pub fn storage_fallback(&self) -> Option<BrowserError> {
        self.inner.sessions.fallback()
    }

    /// The stored session, if any. A corrupted or absurd stored value, or one of another issuer,
    /// client or audience, is removed and reported: the caller shows signed-out. Makes no request.
    pub fn restore(&self) -> Result<Option<Session>, StoredSessionError> {
        let Some(text) = self.inner.sessions.get(SESSION_KEY) else {
            return Ok(None);
        };
        match Session::from_stored(&text, clock::now_ms(), &self.session_owner()) {
            Ok(session) => Ok(Some(session)),
            Err(error) => {
                self.inner.sessions.remove(SESSION_KEY);
                gloo::console::warn!(format!("ignoring the stored session: {error}"));
                Err(error)
            }
        }
    }

    /// Starts a sign-in: stores a fresh transaction and navigates to the provider. `return_to` is the
    /// app path to come back to. Returns only on failure (on success the page unloads).
    pub async fn login(&self, return_to: &str) -> Result<(), AuthFailure> {
        let config = &self.inner.config;
        let redirect_uri = format!("{}{}", self.inner.origin, config.redirect_path);
        // A new key for every sign-in. Kept in IndexedDB across the trip to the provider; where that
        // fails, the sign-in goes without `dpop_jkt` and its callback makes the key.
        let dpop = match self.dpop_in_use().await? {
            true => self.inner.dpop.create(true).await.ok(),
            false => None,
        };
        let dpop_jkt = dpop.as_ref().map(|key| key.jkt.clone());
        let (request, secrets) = self
            .authorize_request(&redirect_uri, None, dpop_jkt.as_deref())
            .await?;
        let transaction = Transaction {
            state: request.state,
            nonce: secrets.nonce,
            code_verifier: secrets.code_verifier,
            redirect_uri,
            return_to: safe_return_to(return_to),
            created_at_ms: clock::now_ms(),
            dpop_jkt,
        };
        self.inner
            .transactions
            .set(TRANSACTION_KEY, &transaction.to_json())
            .map_err(StepError::from)?;
        navigation::assign(&request.url).map_err(StepError::from)?;
        Ok(())
    }

    /// Whether this browser signed in before (memory storage's marker; always `false` otherwise).
    pub fn signed_in_before(&self) -> bool {
        self.inner
            .markers
            .as_ref()
            .is_some_and(|markers| markers.get(SIGNED_IN_KEY).is_some())
    }

    /// Completes a sign-in from the callback URL: strips it from the address bar, checks it against
    /// the single-use transaction, exchanges the code (code flow) and validates the id_token. Returns
    /// the session and the path to return to; storing it is the keeper's command.
    pub async fn complete_login(&self) -> Result<(Session, String), AuthFailure> {
        let (hash, search) = navigation::location_params();
        navigation::strip_url_to_path().map_err(StepError::from)?;
        let params = silent_callback::select_params(&hash, &search);
        let callback = silent_callback::parse_callback(params).map_err(CallbackError::from)?;
        let text = self
            .inner
            .transactions
            .take(TRANSACTION_KEY)
            .ok_or(StepError::NoTransaction)?;
        let transaction =
            Transaction::from_json(&text, clock::now_ms()).map_err(StepError::Transaction)?;
        let metadata = self.metadata().await?;
        let response = check_callback(
            callback,
            &transaction.state,
            &self.inner.config.issuer,
            metadata.authorization_response_iss_parameter_supported,
            self.inner.config.flow,
        )
        .map_err(StepError::from)?;
        let dpop = match &transaction.dpop_jkt {
            Some(jkt) => Some(
                self.inner
                    .dpop
                    .key_after_redirect(jkt)
                    .await
                    .map_err(StepError::from)?
                    .ok_or(StepError::Dpop(DpopError::KeyMissing))?,
            ),
            None if self.dpop_in_use().await? => Some(
                self.inner
                    .dpop
                    .create(false)
                    .await
                    .map_err(StepError::from)?,
            ),
            None => None,
        };
        let previous = self.stored_dpop_jkt();
        let session = self
            .session_from_response(
                response,
                &transaction.nonce,
                transaction.code_verifier.as_deref(),
                &transaction.redirect_uri,
                None,
                dpop.as_ref(),
            )
            .await?;
        // The new sign-in's key replaces the old ones: every key of the client with shared storage,
        // this tab's previous one with per-tab storage (other tabs' sessions keep theirs).
        let keep = session.dpop_jkt.as_deref();
        match self.inner.config.storage {
            StorageKind::Local => self.inner.dpop.forget_all(keep).await,
            StorageKind::Session | StorageKind::Memory => {
                if let Some(previous) = previous.filter(|p| Some(p.as_str()) != keep) {
                    self.inner.dpop.forget(&previous).await;
                }
            }
        }
        Ok((session, transaction.return_to))
    }

    /// Prepares a silent renewal: a fresh state, nonce and PKCE verifier, and the `prompt=none`
    /// authorize URL with the silent page as redirect_uri.
    pub async fn begin_renewal(&self, id: u64) -> Result<PendingRenewal, RenewalError> {
        let config = &self.inner.config;
        let redirect_uri = format!("{}{}", self.inner.origin, config.silent_redirect_path);
        let dpop = self.renewal_key().await?;
        let (mut request, secrets) = self
            .authorize_request(
                &redirect_uri,
                Some("none"),
                dpop.as_ref().map(|key| key.jkt.as_str()),
            )
            .await?;
        request.id = id;
        Ok(PendingRenewal {
            request,
            nonce: secrets.nonce,
            code_verifier: secrets.code_verifier,
            redirect_uri,
            started_at_ms: clock::now_ms(),
            dpop,
        })
    }

    /// Whether a new grant (a sign-in, an iframe renewal) binds its tokens to a DPoP key: the `dpop`
    /// setting and what discovery lists.
    async fn dpop_in_use(&self) -> Result<bool, StepError> {
        let metadata = self.metadata().await?;
        let config = &self.inner.config;
        Ok(dpop_rules::in_use(
            config.dpop,
            config.flow,
            &metadata.dpop_signing_alg_values_supported,
            crate::DPOP_BUILT,
        )?)
    }

    /// The key an iframe renewal binds its tokens to: the stored session's while this browser holds
    /// it, a new one otherwise (none held yet, or lost). `None` without DPoP.
    async fn renewal_key(&self) -> Result<Option<Rc<DpopKey>>, StepError> {
        if !self.dpop_in_use().await? {
            return Ok(None);
        }
        if let Some(jkt) = self.stored_dpop_jkt() {
            if let Some(key) = self.inner.dpop.key(&jkt).await? {
                return Ok(Some(key));
            }
        }
        Ok(Some(self.inner.dpop.create(false).await?))
    }

    /// The thumbprint the stored session's tokens are bound to, read without judging the session
    /// (the keeper does that).
    fn stored_dpop_jkt(&self) -> Option<String> {
        let text = self.inner.sessions.get(SESSION_KEY)?;
        let stored: serde_json::Value = serde_json::from_str(&text).ok()?;
        stored["dpop_jkt"]
            .as_str()
            .filter(|jkt| dpop_rules::is_thumbprint(jkt))
            .map(str::to_owned)
    }

    /// Finishes a silent renewal from the hidden frame's outcome: checks the callback, exchanges the
    /// code, and validates the new id_token in full (and that it names `expected_sub`, the current
    /// user, when given). Storing the session is the keeper's command.
    pub async fn finish_renewal(
        &self,
        pending: &PendingRenewal,
        outcome: SilentOutcome,
        expected_sub: Option<&str>,
    ) -> Result<Session, RenewalError> {
        let callback = match outcome {
            SilentOutcome::Callback(callback) => callback,
            SilentOutcome::Unparsable(code) => return Err(RenewalError::Unparsable(code)),
            SilentOutcome::Timeout => return Err(RenewalError::Timeout),
            // A page that is not ours: the provider's, or the browser's own network error page. The
            // frame's document cannot be read cross-origin; whether the provider answers now can.
            SilentOutcome::FailFast => {
                return Err(fail_fast_error(self.provider_reachable().await))
            }
        };
        let metadata = self.metadata().await?;
        let response = check_callback(
            callback,
            &pending.request.state,
            &self.inner.config.issuer,
            metadata.authorization_response_iss_parameter_supported,
            self.inner.config.flow,
        )?;
        let session = self
            .session_from_response(
                response,
                &pending.nonce,
                pending.code_verifier.as_deref(),
                &pending.redirect_uri,
                expected_sub,
                pending.dpop.as_ref(),
            )
            .await?;
        Ok(session)
    }

    /// Stores a session in the configured area (and memory storage's signed-in marker, and the
    /// newest-session marker).
    pub fn store_session(&self, session: &Session) -> Result<(), BrowserError> {
        if let Some(markers) = &self.inner.markers {
            // Without the marker a reload shows signed out instead of restoring: not worth failing for.
            let _ = markers.set(SIGNED_IN_KEY, "1");
        }
        let newest = self.newest_session().unwrap_or(0);
        if session.issued_at_ms > newest {
            // Without localStorage tabs cannot share this; the lock and the tab channel still do.
            let _ = self
                .inner
                .shared
                .set(NEWEST_KEY, &session.issued_at_ms.to_string());
        }
        self.inner.sessions.set(SESSION_KEY, &session.to_stored())
    }

    /// When the newest session any tab stored was issued (see `NEWEST_KEY`); `None` when unknown.
    pub fn newest_session(&self) -> Option<u64> {
        self.inner.shared.get(NEWEST_KEY)?.parse().ok()
    }

    /// Forgets the stored session (and the DPoP key its tokens are bound to), the signed-in marker
    /// and any pending login transaction.
    pub fn forget_session(&self) {
        if let Some(jkt) = self.stored_dpop_jkt() {
            let dpop = self.inner.dpop.clone();
            crate::browser::spawn(async move { dpop.forget(&jkt).await });
        }
        self.inner.sessions.remove(SESSION_KEY);
        self.inner.transactions.remove(TRANSACTION_KEY);
        if let Some(markers) = &self.inner.markers {
            markers.remove(SIGNED_IN_KEY);
        }
    }

    /// Renews by the refresh-token grant (RFC 6749 §6): sends `session`'s refresh token, checks the
    /// answer, validates a new id_token against the session's (OpenID Connect Core §12.2: same user,
    /// no nonce or the original's), and returns the refreshed session with the rotated refresh token.
    /// A refused refresh token (`invalid_grant`) is [`RenewalError::RefreshTokenRefused`].
    pub async fn refresh(&self, session: &Session) -> Result<Session, RenewalError> {
        let refresh_token = session
            .refresh_token
            .as_ref()
            .ok_or(RenewalError::NoRefreshToken)?;
        let metadata = self.metadata().await?;
        let token_endpoint = metadata.token_endpoint.as_deref().unwrap_or_default();
        let body = refresh_request_body(refresh_token.expose(), &self.inner.config.client_id);
        // A DPoP session's refresh token is bound to its key: the proof must be signed with it.
        let dpop = match &session.dpop_jkt {
            Some(jkt) => Some(
                self.inner
                    .dpop
                    .key(jkt)
                    .await
                    .map_err(StepError::from)?
                    .ok_or(RenewalError::DpopKeyMissing)?,
            ),
            None => None,
        };
        let response = self
            .token_request(token_endpoint, &body, dpop.as_deref())
            .await?;
        let tokens =
            match parse_token_response_as(response.status, &response.body, session.token_type) {
                Err(error) if error.is_invalid_grant() => {
                    return Err(RenewalError::RefreshTokenRefused(error))
                }
                result => result?,
            };
        let now_ms = clock::now_ms();
        let id_token = match tokens.id_token {
            Some(id_token) => {
                let nonce = Nonce::Refresh {
                    original: session.claims.nonce.as_deref(),
                    auth_time: session.claims.auth_time,
                };
                let (claims, _) = self
                    .validate_id_token(&id_token, nonce, Some(&session.claims.sub))
                    .await?;
                Some((id_token, claims))
            }
            None => None,
        };
        Ok(session.refreshed(
            tokens.access_token,
            tokens.expires_in,
            tokens.refresh_token,
            id_token,
            now_ms,
        ))
    }

    /// Revokes a refresh token at the provider's revocation endpoint (RFC 7009), so that a copy of it
    /// is worth nothing after sign-out. Best effort: without the endpoint, or when the request fails,
    /// the token lives until the provider expires it (a console warning says so).
    pub async fn revoke(&self, refresh_token: &RefreshToken) {
        let endpoint = match self.metadata().await {
            Ok(metadata) => metadata.revocation_endpoint.clone(),
            Err(_) => None,
        };
        let Some(endpoint) = endpoint else {
            gloo::console::warn!("sign-out: the provider offers no token revocation; the refresh token expires on its own");
            return;
        };
        let body = revocation_request_body(refresh_token.expose(), &self.inner.config.client_id);
        match http::post_form(&endpoint, &body).await {
            Ok(response) if response.status == 200 => {}
            Ok(response) => gloo::console::warn!(format!(
                "sign-out: revoking the refresh token answered HTTP {}",
                response.status
            )),
            Err(error) => gloo::console::warn!(format!(
                "sign-out: the refresh token could not be revoked: {error}"
            )),
        }
    }

    /// Ends the provider session too (RP-initiated logout, by `logout_method`) when the provider
    /// supports it and answers; otherwise returns to the app's post-logout page, which then says that
    /// the sign-out was local only ([`AuthClient::take_logout_outcome`]). Forgetting the session here
    /// is the keeper's command, carried out before.
    pub async fn logout(&self, id_token_hint: Option<&str>) {
        let config = &self.inner.config;
        let post_logout = format!("{}{}", self.inner.origin, config.post_logout_redirect_path);
        // Discovered earlier in this page: the provider may have gone since, and a top-level
        // navigation to it would strand the user on the browser's error page. Fetched now: it answered.
        let cached = self.inner.metadata.borrow().is_some();
        let metadata = self.metadata().await.ok();
        let reachable = match &metadata {
            Some(_) if cached => self.provider_reachable().await.is_ok(),
            Some(_) => true,
            None => false,
        };
        let state = random::random_bytes::<32>()
            .map(|bytes| random_token(&bytes))
            .unwrap_or_default();
        let request = logout_request(
            config.provider,
            metadata.as_deref(),
            &LogoutParams {
                issuer: &config.issuer,
                client_id: &config.client_id,
                id_token_hint,
                post_logout_redirect_uri: &post_logout,
                state: &state,
                method: config.logout_method,
            },
        )
        .filter(|_| reachable);
        let created_at_ms = clock::now_ms();
        let pending = match &request {
            Some(request) => PendingLogout::AtProvider {
                state: request.state().map(str::to_owned),
                created_at_ms,
            },
            None => PendingLogout::LocalOnly {
                reason: if reachable {
                    LocalOnly::Unsupported
                } else {
                    LocalOnly::Unreachable
                },
                created_at_ms,
            },
        };
        if let Err(error) = self.inner.transactions.set(LOGOUT_KEY, &pending.to_json()) {
            gloo::console::warn!(format!("cannot keep the logout's state: {error}"));
        }
        // Every tab signs out: no key of this client is needed any more.
        self.inner.dpop.forget_all(None).await;
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

    /// At start-up, after a logout's navigation: how the logout went, from the pending logout record
    /// (read once, then removed) and the page the browser landed on. On the post-logout page the
    /// provider's `state` leaves the address bar first. `None` when no logout is pending.
    pub fn take_logout_outcome(&self) -> Option<SignOutReason> {
        let stored = self.inner.transactions.take(LOGOUT_KEY)?;
        let config = &self.inner.config;
        let path = navigation::current_path();
        let pathname = path.split(['?', '#']).next().unwrap_or_default();
        let at_post_logout_path = pathname == config.post_logout_redirect_path;
        let (_, query) = navigation::location_params();
        if at_post_logout_path && !query.is_empty() {
            if let Err(error) = navigation::strip_url_to_path() {
                gloo::console::warn!(format!("cannot clean the address bar: {error}"));
            }
        }
        let landing = Landing {
            at_post_logout_path,
            query: &query,
        };
        logout_outcome(&stored, clock::now_ms(), landing)
    }

    /// Whether the provider answers at all: `Err` with the browser's words when it is offline or a
    /// request to the provider's discovery document fails at the network level (see
    /// [`http::reachable`]).
    async fn provider_reachable(&self) -> Result<(), String> {
        // A `no-cors` request cannot be refused by CORS: the browser's words are the whole story.
        http::reachable(&discovery_url(&self.inner.config.issuer))
            .await
            .map_err(|error| match error {
                http::HttpError::Network(why) => why,
                error => error.to_string(),
            })
    }

    /// The authorize request for this client's flow, with fresh secrets.
    async fn authorize_request(
        &self,
        redirect_uri: &str,
        prompt: Option<&str>,
        dpop_jkt: Option<&str>,
    ) -> Result<(SilentRequest, Secrets), StepError> {
        let config = &self.inner.config;
        let metadata = self.metadata().await?;
        let state = random_token(&random::random_bytes::<32>()?);
        let nonce = random_token(&random::random_bytes::<32>()?);
        let (code_verifier, challenge) = match config.flow {
            Flow::Code => {
                let verifier = code_verifier(&random::random_bytes::<32>()?);
                let challenge = code_challenge(&sha256(verifier.as_bytes()).await?);
                (Some(verifier), Some(challenge))
            }
            Flow::Implicit => (None, None),
        };
        let url = authorize_url(&AuthorizeRequest {
            authorization_endpoint: &metadata.authorization_endpoint,
            client_id: &config.client_id,
            redirect_uri,
            scope: &config.scope,
            audience: config.audience.as_deref(),
            state: &state,
            nonce: &nonce,
            code_challenge: challenge.as_deref(),
            prompt,
            // The silent page reads the fragment; the sign-in callback reads either.
            response_mode: prompt.map(|_| "fragment"),
            dpop_jkt,
        });
        Ok((
            SilentRequest { id: 0, url, state },
            Secrets {
                nonce,
                code_verifier,
            },
        ))
    }

    /// Turns a checked authorization response into a validated session: the code exchange (code
    /// flow) and the full id_token validation.
    async fn session_from_response(
        &self,
        response: AuthorizationResponse,
        nonce: &str,
        code_verifier: Option<&str>,
        redirect_uri: &str,
        expected_sub: Option<&str>,
        dpop: Option<&Rc<DpopKey>>,
    ) -> Result<Session, StepError> {
        let now_ms = clock::now_ms();
        // Which flow answered decides how its tokens are bound to this request: PKCE at the token
        // endpoint, or `at_hash` (and the nonce) for tokens that came through the URL.
        let (access_token, id_token, expires_in, scope, refresh_token, implicit) =
            match (response, code_verifier) {
                (AuthorizationResponse::Code(code), Some(verifier)) => {
                    let metadata = self.metadata().await?;
                    let token_endpoint = metadata.token_endpoint.as_deref().unwrap_or_default();
                    let body = token_request_body(
                        &code,
                        redirect_uri,
                        &self.inner.config.client_id,
                        verifier,
                    );
                    let response = self
                        .token_request(token_endpoint, &body, dpop.map(|key| &**key))
                        .await?;
                    let asked = match dpop {
                        Some(_) => TokenType::DPoP,
                        None => TokenType::Bearer,
                    };
                    let tokens = parse_token_response_as(response.status, &response.body, asked)?;
                    let id_token = tokens.id_token.ok_or(IdTokenError::Missing)?;
                    (
                        tokens.access_token,
                        id_token,
                        tokens.expires_in,
                        tokens.scope,
                        tokens.refresh_token,
                        false,
                    )
                }
                // A code without a verifier: the request was implicit.
                (AuthorizationResponse::Code(_), None) => {
                    return Err(CallbackError::WrongFlow {
                        expected: Flow::Implicit,
                    }
                    .into())
                }
                (
                    AuthorizationResponse::Tokens {
                        access_token,
                        id_token,
                        expires_in,
                        scope,
                    },
                    _,
                ) => (
                    access_token,
                    id_token,
                    expires_in.map(u64::from),
                    scope,
                    None,
                    true,
                ),
            };
        let (claims, at_hash) = self
            .validate_id_token(&id_token, Nonce::Request(nonce), expected_sub)
            .await?;
        if implicit {
            // The access token came through the URL too: bind it to the id_token.
            check_at_hash(at_hash.as_deref(), &sha256(access_token.as_bytes()).await?)?;
        }
        // A refresh token renewal will never use is not kept: nothing to steal.
        let refresh_token =
            refresh_token.filter(|_| self.inner.config.renewal != RenewalMode::Iframe);
        // Tokens that came through the URL (implicit) are never bound.
        let jkt = dpop.filter(|_| !implicit).map(|key| key.jkt.clone());
        Ok(
            Session::new(access_token, id_token, expires_in, scope, claims, now_ms)
                .with_audience(self.inner.config.audience.clone())
                .with_refresh_token(refresh_token)
                .with_dpop(jkt),
        )
    }

    /// A POST of `body` to the token endpoint: with a proof signed by `dpop` (the one retry of a
    /// nonce challenge included), or as a plain form without.
    async fn token_request(
        &self,
        token_endpoint: &str,
        body: &str,
        dpop: Option<&DpopKey>,
    ) -> Result<http::HttpResponse, StepError> {
        match dpop {
            Some(key) => Ok(self
                .inner
                .dpop
                .send(
                    key,
                    Server::Authorization,
                    "POST",
                    token_endpoint,
                    &[("Content-Type", "application/x-www-form-urlencoded")],
                    Some(body),
                    None,
                )
                .await?),
            None => http::post_form(token_endpoint, body)
                .await
                .map_err(|error| unreachable(token_endpoint, error)),
        }
    }

    /// Validates an id_token completely: claims (pure) and signature (WebCrypto), with one JWKS
    /// refetch when the key id is unknown (the provider rotated its keys). Returns the claims and
    /// `at_hash`.
    async fn validate_id_token(
        &self,
        id_token: &str,
        nonce: Nonce<'_>,
        expected_sub: Option<&str>,
    ) -> Result<(IdClaims, Option<String>), StepError> {
        let jwt = decode_jwt(id_token)?;
        let expectations = IdTokenExpectations {
            issuer: &self.inner.config.issuer,
            client_id: &self.inner.config.client_id,
            nonce,
            now_secs: i64::try_from(clock::now_ms() / 1000).unwrap_or(i64::MAX),
            expected_sub,
        };
        let (alg, claims) = validate_id_token(&jwt, &expectations)?;
        let kid = jwt.header.kid.as_deref();
        let mut jwks = self.jwks(false).await?;
        if matches!(select_key(&jwks, alg, kid), KeyLookup::UnknownKid) {
            jwks = self.jwks(true).await?;
        }
        let KeyLookup::Found(key) = select_key(&jwks, alg, kid) else {
            return Err(IdTokenError::UnknownKey.into());
        };
        let signing_input = jwt.signing_input.as_bytes();
        let valid = verify_signature(
            alg.name(),
            &key.public_jwk_json(),
            signing_input,
            &jwt.signature,
        )
        .await?;
        if !valid {
            return Err(IdTokenError::BadSignature.into());
        }
        Ok((claims, jwt.claim_str("at_hash").map(str::to_owned)))
    }

    /// The provider's metadata, fetched once per page load (lazily: a reload with a stored session
    /// makes no request to the provider).
    async fn metadata(&self) -> Result<Rc<ProviderMetadata>, StepError> {
        if let Some(metadata) = self.inner.metadata.borrow().clone() {
            return Ok(metadata);
        }
        let config = &self.inner.config;
        let url = discovery_url(&config.issuer);
        let response = http::get(&url)
            .await
            .map_err(|error| unreachable(&url, error))?;
        if response.status != 200 {
            return Err(unreachable(&url, format!("HTTP {}", response.status)));
        }
        let metadata = parse_discovery(&response.body, &config.issuer, config.flow)
            .map_err(StepError::Discovery)?;
        let metadata = Rc::new(metadata);
        *self.inner.metadata.borrow_mut() = Some(metadata.clone());
        Ok(metadata)
    }

    async fn jwks(&self, refresh: bool) -> Result<Rc<Jwks>, StepError> {
        if !refresh {
            if let Some(jwks) = self.inner.jwks.borrow().clone() {
                return Ok(jwks);
            }
        }
        let metadata = self.metadata().await?;
        let url = &metadata.jwks_uri;
        let response = http::get(url)
            .await
            .map_err(|error| unreachable(url, error))?;
        if response.status != 200 {
            return Err(unreachable(url, format!("HTTP {}", response.status)));
        }
        let jwks = Rc::new(parse_jwks(&response.body).map_err(StepError::Jwks)?);
        *self.inner.jwks.borrow_mut() = Some(jwks.clone());
        Ok(jwks)
    }
}

/// The secrets of one authorize request, kept until its answer arrives.
struct Secrets {
    nonce: String,
    code_verifier: Option<String>,
}
