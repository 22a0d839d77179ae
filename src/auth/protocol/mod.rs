//! Pure OpenID Connect: every protocol decision of sign-in, and no effect.
//!
//! This module computes; the browser glue (`auth::browser`) and the client do the input and output.
//! The clock and randomness are parameters (`now_ms`: milliseconds since the Unix epoch as `u64`;
//! `now_secs`: seconds, the unit of JWT claims; random bytes as arrays), and raw strings go in as
//! the provider sent them. That is why everything here is tested on the host against spec vectors,
//! and why a CI check rejects any import of browser or UI crates under this directory.
//!
//! The other rules the code keeps:
//! - Every input is hostile: documents, tokens and stored values are size-bounded, and no input
//!   panics; each failure is a typed error whose `Display` is a short lowercase sentence saying
//!   what to do.
//! - Signatures are checked by the glue (WebCrypto); this module decides which key and algorithm to
//!   use ([`jwks::select_key`], [`jwt::Jwt::signing_input`]) and validates everything else.
//! - Callback parameters are parsed only by `silent_callback::parse_callback`, the project's one
//!   parser; [`callback::check_callback`] compares the parsed response with the login transaction.
//!
//! Modules, in the order of a sign-in:
//! [`discovery`], [`pkce`], [`transaction`], [`authorize`], [`callback`], [`token`], [`jwt`],
//! [`jwks`], [`id_token`], [`session`], [`state`], [`logout`]; then, for silent renewal, [`schedule`]
//! (when to renew) and [`renewal`] (what a failure means); [`doctor`] judges the setup checks.

pub mod authorize;
pub mod callback;
pub mod discovery;
pub mod doctor;
pub mod id_token;
pub mod jwks;
pub mod jwt;
pub mod logout;
pub mod pkce;
pub mod renewal;
pub mod schedule;
pub mod session;
pub mod state;
pub mod token;
pub mod transaction;

mod fields;
pub(crate) mod urls;

#[cfg(test)]
mod test_support;

pub use authorize::{authorize_url, AuthorizeRequest};
pub use callback::{check_callback, AuthorizationResponse, CallbackError};
pub use discovery::{discovery_url, parse_discovery, DiscoveryError, ProviderMetadata};
pub use id_token::{
    check_at_hash, validate_id_token, IdClaims, IdTokenError, IdTokenExpectations,
    CLOCK_TOLERANCE_SECS, LEEWAY_SECS, MAX_CLOCK_SKEW_SECS,
};
pub use jwks::{parse_jwks, select_key, Alg, Jwk, Jwks, JwksError, KeyLookup};
pub use jwt::{decode_jwt, Jwt, JwtError, JwtHeader};
pub use logout::{logout_request, LogoutMethod, LogoutRequest};
pub use pkce::{code_challenge, code_verifier, random_token};
pub use renewal::{RenewalClass, RenewalError};
pub use schedule::{decide, renew_at, Decision};
pub use session::{Session, SessionOwner, StoredSessionError};
pub use state::{reduce, AuthEvent, AuthFailure, AuthState, SignOutReason};
pub use token::{parse_token_response, token_request_body, TokenError, TokenResponse};
pub use transaction::{safe_return_to, Transaction, TransactionError, TRANSACTION_TTL_MS};
