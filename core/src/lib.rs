//! Pure OpenID Connect for browser apps: every protocol and session decision of sign-in and silent
//! renewal, and no effect. The engine of `yew-oidc`, usable by any Rust frontend.
//!
//! This crate computes; the caller (`yew-oidc`'s browser glue and client) does the input and output. It
//! depends on no browser or UI crate at all (its `Cargo.toml` says so, and a CI check keeps it so).
//! The clock and randomness are parameters (`now_ms`: milliseconds since the Unix epoch as `u64`;
//! `now_secs`: seconds, the unit of JWT claims; random bytes as arrays), and raw strings go in as
//! the provider sent them. That is why everything here is tested on the host against spec vectors,
//! and why it is tested on the host.
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
//! (when to renew) and [`renewal`] (what a failure means); [`dpop`] binds the tokens to a key of the
//! browser (RFC 9449). [`config`] is the client's configuration; [`status`] the renewal status and
//! event log an app shows.

pub mod authorize;
pub mod callback;
pub mod config;
pub mod discovery;
pub mod dpop;
pub mod id_token;
pub mod jwks;
pub mod jwt;
pub mod keeper;
pub mod logout;
pub mod pkce;
pub mod renewal;
pub mod schedule;
pub mod session;
pub mod state;
pub mod status;
pub mod token;
pub mod transaction;

mod base64url;
mod fields;
mod urls;

/// The one callback parser (shared with the silent page), whose types the callback checks take.
pub use silent_callback;

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

// The README's examples are compiled and run as doctests, so the quick start cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
