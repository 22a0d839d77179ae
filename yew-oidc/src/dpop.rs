//! DPoP for one client: its key pairs, the proofs they sign, and requests that carry them (RFC 9449).
//! The decisions are core's ([`oidc_renew_core::dpop`]); the primitives are the browser glue's
//! ([`crate::browser::dpop_keys`]).
//!
//! Implementation notes:
//! - A key is known by its thumbprint (`jkt`), which the session records: any tab finds the key its
//!   stored session's tokens are bound to. With `storage` `local` or `session` the keys live in
//!   IndexedDB (and a reload keeps them); with `memory`, in this page only, except a sign-in's key
//!   while the browser is away at the provider: a full-page redirect would lose it, so it waits in
//!   IndexedDB and moves to memory when the callback takes it.
//! - Requests carry one proof each; a nonce challenge is answered by exactly one more request
//!   ([`oidc_renew_core::dpop::retry_nonce`]), with no loop to get wrong. The latest nonce of each server (its kind and
//!   origin) is remembered for its next request.
//! - Nothing here logs a proof, a token or a key.
//! - Without the `dpop` feature, [`Dpop`] is a stand-in that holds no key: [`DpopKey`] cannot be
//!   built, so every path that would sign a proof is dead code the compiler drops (about 16 KB gzip).

use crate::browser::http::HttpError;
use crate::browser::BrowserError;
use oidc_renew_core::dpop::DpopError;

#[cfg(all(test, target_arch = "wasm32", feature = "dpop"))]
pub(crate) use keys::PROOF_MEASURE;
#[cfg(feature = "dpop")]
pub(crate) use keys::{Dpop, DpopKey};
#[cfg(not(feature = "dpop"))]
pub(crate) use stand_in::{Dpop, DpopKey};

/// Why a DPoP request or key operation failed.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum DpopFailure {
    /// WebCrypto, IndexedDB or the random source refused.
    Browser(BrowserError),
    /// A key, a URL or a signature that cannot go into a proof; or the key is gone.
    Dpop(DpopError),
    /// No response from `url`.
    #[cfg_attr(not(feature = "dpop"), allow(dead_code))]
    Http { url: String, error: HttpError },
}

impl From<BrowserError> for DpopFailure {
    fn from(error: BrowserError) -> DpopFailure {
        DpopFailure::Browser(error)
    }
}

impl From<DpopError> for DpopFailure {
    fn from(error: DpopError) -> DpopFailure {
        DpopFailure::Dpop(error)
    }
}

impl std::fmt::Display for DpopFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DpopFailure::Browser(error) => write!(f, "{error}"),
            DpopFailure::Dpop(error) => write!(f, "{error}"),
            DpopFailure::Http { error, .. } => write!(f, "{error}"),
        }
    }
}

#[cfg(feature = "dpop")]
mod keys {
    use super::DpopFailure;
    use crate::browser::crypto::sha256;
    use crate::browser::dpop_keys::{self, KeyPair};
    use crate::browser::http::{self, HttpResponse};
    use crate::browser::{clock, random};
    use crate::small_map::SmallMap;
    use oidc_renew_core::config::StorageKind;
    use oidc_renew_core::dpop::{
        ath, compact, fresh_nonce, htu, jti, retry_nonce, server_of, signing_input, thumbprint,
        Answer, ProofClaims, PublicKey, Server,
    };
    use std::cell::RefCell;
    use std::rc::Rc;
    use wasm_bindgen::JsCast;

    /// A user-timing measure of every proof made (`performance.getEntriesByName`), for the
    /// benchmark; at most [`MAX_MEASURES`] are kept.
    pub const PROOF_MEASURE: &str = "oidc-renew:dpop-proof";
    const MAX_MEASURES: u32 = 32;

    /// A key pair with its public key read and its thumbprint computed.
    pub(crate) struct DpopKey {
        pair: KeyPair,
        public: PublicKey,
        /// The RFC 7638 thumbprint: `dpop_jkt`, and what a session records.
        pub jkt: String,
    }

    impl std::fmt::Debug for DpopKey {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "DpopKey({})", self.jkt)
        }
    }

    impl PartialEq for DpopKey {
        fn eq(&self, other: &Self) -> bool {
            self.jkt == other.jkt
        }
    }

    impl DpopKey {
        async fn of(pair: KeyPair) -> Result<DpopKey, DpopFailure> {
            let public = PublicKey::from_jwk(pair.public_jwk())?;
            let jkt = thumbprint(&sha256(public.thumbprint_input().as_bytes()).await?);
            Ok(DpopKey { pair, public, jkt })
        }

        /// A proof for `method url`: with `ath` of `access_token` when one goes with the request, and the
        /// server's `nonce` when it asked for one.
        pub async fn proof(
            &self,
            method: &str,
            url: &str,
            access_token: Option<&str>,
            nonce: Option<&str>,
        ) -> Result<String, DpopFailure> {
            let started = now();
            let htu = htu(url)?;
            let ath = match access_token {
                Some(token) => Some(ath(&sha256(token.as_bytes()).await?)),
                None => None,
            };
            let claims = ProofClaims {
                jti: jti(&random::random_bytes::<16>()?),
                htm: method.to_owned(),
                htu,
                iat: i64::try_from(clock::now_ms() / 1000).unwrap_or(i64::MAX),
                ath,
                nonce: nonce.map(str::to_owned),
            };
            let input = signing_input(&self.public, &claims);
            let signature = self.pair.sign(input.as_bytes()).await?;
            let proof = compact(&input, &signature)?;
            measure(started);
            Ok(proof)
        }
    }

    /// `performance.now()`, or 0 without `performance`.
    fn now() -> f64 {
        web_sys::window()
            .and_then(|window| window.performance())
            .map_or(0.0, |performance| performance.now())
    }

    /// Records the proof's cost as a user-timing measure (best effort: a browser without it loses only
    /// the figure).
    fn measure(started: f64) {
        let Some(performance) = web_sys::window().and_then(|window| window.performance()) else {
            return;
        };
        if performance.get_entries_by_name(PROOF_MEASURE).length() >= MAX_MEASURES {
            performance.clear_measures_with_measure_name(PROOF_MEASURE);
        }
        // `measure(name, { start })` (User Timing Level 3), which web-sys has behind its unstable APIs.
        let options = js_sys::Object::new();
        let measure = js_sys::Reflect::set(&options, &"start".into(), &started.into())
            .and_then(|_| js_sys::Reflect::get(&performance, &"measure".into()));
        if let Ok(measure) = measure.and_then(|m| m.dyn_into::<js_sys::Function>()) {
            let _ = measure.call2(&performance, &PROOF_MEASURE.into(), &options);
        }
    }

    /// The DPoP keys and server nonces of one client. Cheap to share (`Rc`).
    pub(crate) struct Dpop {
        namespace: String,
        /// Keys outlive the page (IndexedDB): storage `local` or `session`.
        persistent: bool,
        keys: RefCell<SmallMap<String, Rc<DpopKey>>>,
        nonces: RefCell<SmallMap<String, String>>,
    }

    impl Dpop {
        pub fn new(namespace: &str, storage: StorageKind) -> Dpop {
            Dpop {
                namespace: namespace.to_owned(),
                persistent: storage != StorageKind::Memory,
                keys: RefCell::new(SmallMap::new()),
                nonces: RefCell::new(SmallMap::new()),
            }
        }

        /// A new key, kept under its thumbprint: in IndexedDB when keys outlive the page, or when
        /// `redirect` (a sign-in's key, which must outlive the trip to the provider). When IndexedDB
        /// refuses, the key stays in this page only, and `Err` is returned for a redirect (the sign-in
        /// then goes without `dpop_jkt`, and its callback makes the key).
        pub async fn create(&self, redirect: bool) -> Result<Rc<DpopKey>, DpopFailure> {
            let key = Rc::new(DpopKey::of(KeyPair::generate().await?).await?);
            if self.persistent || redirect {
                let saved =
                    dpop_keys::save(&self.namespace, &key.jkt, &key.pair, clock::now_ms()).await;
                if let Err(error) = saved {
                    gloo::console::warn!(format!(
                        "the DPoP key is kept in this page only (a reload signs out): {error}"
                    ));
                    if redirect {
                        return Err(error.into());
                    }
                }
            }
            self.keys.borrow_mut().insert(key.jkt.clone(), key.clone());
            Ok(key)
        }

        /// The key of thumbprint `jkt`: this page's, or the one kept in IndexedDB. `None` when this browser
        /// no longer has it.
        pub async fn key(&self, jkt: &str) -> Result<Option<Rc<DpopKey>>, DpopFailure> {
            if let Some(key) = self.keys.borrow().get(jkt).cloned() {
                return Ok(Some(key));
            }
            if !self.persistent {
                return Ok(None);
            }
            self.load(jkt).await
        }

        /// The key of a sign-in that just came back from the provider. With memory storage it moves from
        /// IndexedDB (where it waited) into this page.
        pub async fn key_after_redirect(
            &self,
            jkt: &str,
        ) -> Result<Option<Rc<DpopKey>>, DpopFailure> {
            if self.persistent {
                return self.key(jkt).await;
            }
            let key = self.load(jkt).await?;
            if key.is_some() {
                dpop_keys::delete(&self.namespace, Some(jkt), None).await?;
            }
            Ok(key)
        }

        async fn load(&self, jkt: &str) -> Result<Option<Rc<DpopKey>>, DpopFailure> {
            let Some(pair) = dpop_keys::load(&self.namespace, jkt).await? else {
                return Ok(None);
            };
            let key = Rc::new(DpopKey::of(pair).await?);
            if key.jkt != jkt {
                // Not the key its record says: someone else's record, as good as none.
                return Ok(None);
            }
            self.keys.borrow_mut().insert(key.jkt.clone(), key.clone());
            Ok(Some(key))
        }

        /// Deletes the key of thumbprint `jkt` (this page's and IndexedDB's).
        pub async fn forget(&self, jkt: &str) {
            self.keys.borrow_mut().remove(jkt);
            if let Err(error) = dpop_keys::delete(&self.namespace, Some(jkt), None).await {
                gloo::console::warn!(format!("the DPoP key could not be deleted: {error}"));
            }
        }

        /// Deletes every key of this client but `keep`'s (a sign-in replaced them; a logout keeps none),
        /// and the remembered nonces.
        pub async fn forget_all(&self, keep: Option<&str>) {
            self.keys
                .borrow_mut()
                .retain(|jkt, _| Some(jkt.as_str()) == keep);
            if keep.is_none() {
                self.nonces.borrow_mut().clear();
            }
            if let Err(error) = dpop_keys::delete(&self.namespace, None, keep).await {
                gloo::console::warn!(format!("the DPoP keys could not be deleted: {error}"));
            }
        }

        /// `method url` with a proof signed by `key` (and `Authorization: DPoP <access_token>` when one is
        /// given, for a protected resource), answering a nonce challenge of `server` with one retry.
        #[allow(clippy::too_many_arguments)]
        pub async fn send(
            &self,
            key: &DpopKey,
            server: Server,
            method: &str,
            url: &str,
            headers: &[(&str, &str)],
            body: Option<&str>,
            access_token: Option<&str>,
        ) -> Result<HttpResponse, DpopFailure> {
            // By kind and origin: an authorization server and an API on one origin have nonces of their
            // own (RFC 9449 §8 and §9), and one's must not overwrite the other's.
            let origin = format!("{server:?} {}", server_of(url));
            let remembered = self.nonces.borrow().get(&origin).cloned();
            let request = Request {
                key,
                method,
                url,
                headers,
                body,
                access_token,
                origin: &origin,
            };
            let (response, nonce_header, challenge) =
                self.attempt(&request, remembered.as_deref()).await?;
            let answer = Answer {
                status: response.status,
                body: &response.body,
                dpop_nonce: nonce_header.as_deref(),
                www_authenticate: challenge.as_deref(),
            };
            match retry_nonce(server, &answer, remembered.as_deref(), false) {
                None => Ok(response),
                Some(nonce) => Ok(self.attempt(&request, Some(&nonce)).await?.0),
            }
        }

        /// One request with a fresh proof; remembers a nonce the answer brings.
        async fn attempt(
            &self,
            request: &Request<'_>,
            nonce: Option<&str>,
        ) -> Result<(HttpResponse, Option<String>, Option<String>), DpopFailure> {
            let proof = request
                .key
                .proof(request.method, request.url, request.access_token, nonce)
                .await?;
            let authorization = request.access_token.map(|token| format!("DPoP {token}"));
            let mut headers = request.headers.to_vec();
            headers.push(("DPoP", &proof));
            if let Some(authorization) = &authorization {
                headers.push(("Authorization", authorization));
            }
            let (response, mut read) = http::request(
                request.url,
                request.method,
                &headers,
                request.body,
                &["DPoP-Nonce", "WWW-Authenticate"],
            )
            .await
            .map_err(|error| DpopFailure::Http {
                url: request.url.to_owned(),
                error,
            })?;
            let challenge = read.pop().flatten();
            let nonce_header = read.pop().flatten();
            let answer = Answer {
                status: response.status,
                body: "",
                dpop_nonce: nonce_header.as_deref(),
                www_authenticate: None,
            };
            if let Some(fresh) = fresh_nonce(&answer) {
                self.nonces
                    .borrow_mut()
                    .insert(request.origin.to_owned(), fresh.to_owned());
            }
            Ok((response, nonce_header, challenge))
        }
    }

    struct Request<'a> {
        key: &'a DpopKey,
        method: &'a str,
        url: &'a str,
        headers: &'a [(&'a str, &'a str)],
        body: Option<&'a str>,
        access_token: Option<&'a str>,
        origin: &'a str,
    }
}

/// Without the `dpop` feature: no key exists, nothing is kept, and no request carries a proof.
#[cfg(not(feature = "dpop"))]
mod stand_in {
    use super::DpopFailure;
    use crate::browser::http::HttpResponse;
    use oidc_renew_core::config::StorageKind;
    use oidc_renew_core::dpop::{DpopError, Server};
    use std::rc::Rc;

    /// A key that cannot be built: its `never` field has no value.
    #[derive(Debug, PartialEq)]
    pub(crate) struct DpopKey {
        pub jkt: String,
        never: Never,
    }

    #[derive(Debug, PartialEq)]
    enum Never {}

    /// The same calls as the real one's; none of them reaches a browser API.
    pub(crate) struct Dpop;

    impl Dpop {
        pub fn new(_namespace: &str, _storage: StorageKind) -> Dpop {
            Dpop
        }

        /// Refused: the app signs in without DPoP (the client asks only when DPoP is in use, which
        /// it never is in this build).
        pub async fn create(&self, _redirect: bool) -> Result<Rc<DpopKey>, DpopFailure> {
            Err(DpopFailure::Dpop(DpopError::NotBuilt))
        }

        /// No key: a session bound to one (stored by a build with DPoP) cannot be used and ends
        /// with "the key is gone", as when the browser lost it.
        pub async fn key(&self, _jkt: &str) -> Result<Option<Rc<DpopKey>>, DpopFailure> {
            Ok(None)
        }

        pub async fn key_after_redirect(
            &self,
            _jkt: &str,
        ) -> Result<Option<Rc<DpopKey>>, DpopFailure> {
            Ok(None)
        }

        pub async fn forget(&self, _jkt: &str) {}

        pub async fn forget_all(&self, _keep: Option<&str>) {}

        #[allow(clippy::too_many_arguments)]
        pub async fn send(
            &self,
            key: &DpopKey,
            _server: Server,
            _method: &str,
            _url: &str,
            _headers: &[(&str, &str)],
            _body: Option<&str>,
            _access_token: Option<&str>,
        ) -> Result<HttpResponse, DpopFailure> {
            match key.never {}
        }
    }
}
