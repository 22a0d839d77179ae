//! The signed-in session: the tokens, their lifetime and the validated claims, and its stored form.
//!
//! A stored session is read on every page load from storage that other code, other versions of
//! this app, or a crash mid-write may have touched; reading it checks its shape and its times, and
//! any failure means "signed out" — never a panic or a blank page.

use super::dpop::{is_thumbprint, TokenType};
use super::fields::{self, Members, Unreadable};
use super::id_token::IdClaims;
use serde::Serialize;
use std::fmt;

/// Longest session lifetime kept, in milliseconds (24 hours). Longer `expires_in` values are
/// clamped, and stored sessions claiming more are refused: no provider issues such browser tokens,
/// and a huge value would keep a stolen copy alive.
pub const MAX_SESSION_LIFETIME_MS: u64 = 24 * 60 * 60 * 1000;

/// How far in the future a stored session's issue time may lie (clock corrections), in ms.
pub const ISSUED_AT_LEEWAY_MS: u64 = 60 * 1000;

/// Largest stored session accepted: two tokens and some claims.
pub const MAX_STORED_SESSION_LEN: usize = 64 * 1024;

/// A refresh token: a credential that outlives the access token, so it never shows in a log
/// (`Debug` prints its length only) and is sent only in a token or revocation request's body.
#[derive(Serialize, Clone, PartialEq, Eq)]
#[serde(transparent)]
pub struct RefreshToken(String);

impl RefreshToken {
    /// A refresh token as the token endpoint issued it.
    pub fn new(token: String) -> RefreshToken {
        RefreshToken(token)
    }

    /// The token itself, for the request body that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for RefreshToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RefreshToken({} bytes)", self.0.len())
    }
}

/// A signed-in session. Times in milliseconds since the Unix epoch. Its `Debug` form shows no token.
#[derive(Serialize, Clone, PartialEq, Eq)]
pub struct Session {
    /// The bearer token for API calls.
    pub access_token: String,
    /// The id_token (kept as the logout `id_token_hint`).
    pub id_token: String,
    /// When the access token expires.
    pub expires_at_ms: u64,
    /// When the session was created (sign-in or last renewal).
    pub issued_at_ms: u64,
    /// The granted scope, when the provider stated it.
    pub scope: Option<String>,
    /// The validated id_token claims.
    pub claims: IdClaims,
    /// The API audience the access token was requested for (the configured `audience`). Absent in
    /// sessions stored without one.
    pub audience: Option<String>,
    /// The refresh token, when the provider issued one (renewal then uses it instead of the iframe,
    /// by the configured `renewal`). Stored where the session is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<RefreshToken>,
    /// How the access token is sent: `Bearer`, or `DPoP` with a proof signed by the key whose
    /// thumbprint is [`dpop_jkt`](Self::dpop_jkt) (its refresh token is bound to that key too).
    /// Absent in stored sessions of bearer tokens.
    #[serde(skip_serializing_if = "TokenType::is_bearer")]
    pub token_type: TokenType,
    /// The RFC 7638 thumbprint of the DPoP key the tokens are bound to (never the key itself: that
    /// stays in the browser's key store); present exactly when `token_type` is `DPoP`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dpop_jkt: Option<String>,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field(
                "access_token",
                &format_args!("{} bytes", self.access_token.len()),
            )
            .field("id_token", &format_args!("{} bytes", self.id_token.len()))
            .field("expires_at_ms", &self.expires_at_ms)
            .field("issued_at_ms", &self.issued_at_ms)
            .field("scope", &self.scope)
            .field("sub", &self.claims.sub)
            .field("audience", &self.audience)
            .field("refresh_token", &self.refresh_token)
            .field("token_type", &self.token_type)
            .field("dpop_jkt", &self.dpop_jkt)
            .finish()
    }
}

/// Whom a stored session must belong to: the configured provider, client and API. Keys are
/// namespaced by client, but a changed `config.json` (new issuer or audience, same client id) or
/// another script can leave a session of someone else under ours.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionOwner<'a> {
    /// The configured issuer: the id_token's `iss` must equal it.
    pub issuer: &'a str,
    /// The configured client id: the id_token's `aud` must hold it (and `azp`, when present, be it).
    pub client_id: &'a str,
    /// The configured API audience: the session's `audience` must equal it.
    pub audience: Option<&'a str>,
}

/// Why a stored session cannot be used. Every variant means: signed out (and a console warning).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoredSessionError {
    /// Longer than [`MAX_STORED_SESSION_LEN`].
    TooLarge,
    /// Not JSON.
    Corrupted,
    /// The JSON ends early: a half-written value.
    Truncated,
    /// A member is absent or of the wrong type (also negative or fractional times); holds the
    /// parser's description.
    WrongShape(String),
    /// A token or the subject is empty; names it.
    EmptyField(&'static str),
    /// A token holds a character no token has (outside RFC 6749's VSCHAR, `%x20-7E`: it could not
    /// even be sent in a header); names it.
    InvalidToken(&'static str),
    /// `expires_at_ms` lies before `issued_at_ms`.
    EndsBeforeIssued,
    /// `expires_at_ms` lies more than [`MAX_SESSION_LIFETIME_MS`] after `issued_at_ms`.
    LifetimeTooLong,
    /// `issued_at_ms` lies in the future, beyond [`ISSUED_AT_LEEWAY_MS`].
    IssuedInFuture,
    /// The id_token was issued by another provider than the configured one.
    OtherIssuer,
    /// The id_token was issued to another client.
    OtherClient,
    /// The access token was requested for another API audience.
    OtherAudience,
}

impl fmt::Display for StoredSessionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StoredSessionError::TooLarge => "the stored session is too large: sign in again",
            StoredSessionError::Corrupted => "the stored session is not readable: sign in again",
            StoredSessionError::Truncated => "the stored session is incomplete: sign in again",
            StoredSessionError::WrongShape(_) => {
                "the stored session has an unexpected form: sign in again"
            }
            StoredSessionError::EmptyField(_) => "the stored session lacks a token: sign in again",
            StoredSessionError::InvalidToken(_) => {
                "the stored session holds a damaged token: sign in again"
            }
            StoredSessionError::EndsBeforeIssued | StoredSessionError::LifetimeTooLong => {
                "the stored session has impossible times: sign in again"
            }
            StoredSessionError::IssuedInFuture => {
                "the stored session starts in the future (has the clock changed?): sign in again"
            }
            StoredSessionError::OtherIssuer
            | StoredSessionError::OtherClient
            | StoredSessionError::OtherAudience => {
                "the stored session belongs to another provider, client or API: sign in again"
            }
        })
    }
}

impl std::error::Error for StoredSessionError {}

impl Session {
    /// A session created at `now_ms` from validated tokens. The lifetime is `expires_in_secs`, or
    /// without it the id_token's `exp - iat`; either is clamped to [`MAX_SESSION_LIFETIME_MS`].
    ///
    /// Both are durations, counted from `now_ms` on this browser's clock: the provider's clock
    /// never enters, so renewal happens before expiry however far apart the two clocks are
    /// (`id_token::MAX_CLOCK_SKEW_SECS`).
    pub fn new(
        access_token: String,
        id_token: String,
        expires_in_secs: Option<u64>,
        scope: Option<String>,
        claims: IdClaims,
        now_ms: u64,
    ) -> Session {
        let lifetime_ms = match expires_in_secs {
            Some(secs) => secs.saturating_mul(1000),
            None => u64::try_from(claims.exp.saturating_sub(claims.iat))
                .unwrap_or(0)
                .saturating_mul(1000),
        };
        Session {
            access_token,
            id_token,
            expires_at_ms: now_ms.saturating_add(lifetime_ms.min(MAX_SESSION_LIFETIME_MS)),
            issued_at_ms: now_ms,
            scope,
            claims,
            audience: None,
            refresh_token: None,
            token_type: TokenType::Bearer,
            dpop_jkt: None,
        }
    }

    /// This session, its tokens bound to the DPoP key of thumbprint `jkt` (`DPoP` tokens), or bearer
    /// tokens for `None`.
    pub fn with_dpop(self, jkt: Option<String>) -> Session {
        Session {
            token_type: if jkt.is_some() {
                TokenType::DPoP
            } else {
                TokenType::Bearer
            },
            dpop_jkt: jkt,
            ..self
        }
    }

    /// This session, holding `refresh_token` when one was issued.
    pub fn with_refresh_token(self, refresh_token: Option<String>) -> Session {
        Session {
            refresh_token: refresh_token.map(RefreshToken::new),
            ..self
        }
    }

    /// The session after a refresh at `now_ms`: the new access token and its lifetime, the rotated
    /// refresh token (or the same one, for a provider that does not rotate), and the new id_token
    /// with its claims when the provider sent one (already validated against this session's).
    pub fn refreshed(
        &self,
        access_token: String,
        expires_in_secs: Option<u64>,
        refresh_token: Option<String>,
        id_token: Option<(String, IdClaims)>,
        now_ms: u64,
    ) -> Session {
        let keep_lifetime = expires_in_secs.is_none() && id_token.is_none();
        let (id_token, claims) =
            id_token.unwrap_or_else(|| (self.id_token.clone(), self.claims.clone()));
        let mut next = Session::new(
            access_token,
            id_token,
            expires_in_secs,
            self.scope.clone(),
            claims,
            now_ms,
        );
        if keep_lifetime {
            // Neither `expires_in` nor a new id_token: the old lifetime is the best guess.
            let lifetime = self.expires_at_ms.saturating_sub(self.issued_at_ms);
            next.expires_at_ms = now_ms.saturating_add(lifetime);
        }
        Session {
            audience: self.audience.clone(),
            refresh_token: refresh_token
                .map(RefreshToken::new)
                .or_else(|| self.refresh_token.clone()),
            // A refresh keeps the binding: its proof was signed with the session's key.
            token_type: self.token_type,
            dpop_jkt: self.dpop_jkt.clone(),
            ..next
        }
    }

    /// This session without its refresh token (the provider refused it).
    pub fn without_refresh_token(&self) -> Session {
        Session {
            refresh_token: None,
            ..self.clone()
        }
    }

    /// This session, recorded as requested for the API `audience` (see [`SessionOwner`]).
    pub fn with_audience(self, audience: Option<String>) -> Session {
        Session { audience, ..self }
    }

    /// Whether the access token has expired at `now_ms`.
    pub fn is_expired(&self, now_ms: u64) -> bool {
        now_ms >= self.expires_at_ms
    }

    /// Milliseconds left until expiry at `now_ms`; 0 once expired.
    pub fn expires_in_ms(&self, now_ms: u64) -> u64 {
        self.expires_at_ms.saturating_sub(now_ms)
    }

    /// The user's stable id (`sub`).
    pub fn subject(&self) -> &str {
        &self.claims.sub
    }

    /// The stored form: JSON.
    pub fn to_stored(&self) -> String {
        // Strings, integers and options cannot fail to serialize; the fallback only keeps this
        // panic-free, and an empty value reads back as `Truncated`.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Reads a stored session at `now_ms`, checking its shape, its times and that it belongs to
    /// `owner`. An expired session is returned as it is: the caller decides between renewal and
    /// sign-out.
    pub fn from_stored(
        text: &str,
        now_ms: u64,
        owner: &SessionOwner<'_>,
    ) -> Result<Session, StoredSessionError> {
        if text.len() > MAX_STORED_SESSION_LEN {
            return Err(StoredSessionError::TooLarge);
        }
        let session = fields::stored_object(text)
            .and_then(|stored| read_stored(&Members(&stored)))
            .map_err(|error| match error {
                Unreadable::Truncated => StoredSessionError::Truncated,
                Unreadable::Corrupted => StoredSessionError::Corrupted,
                Unreadable::WrongShape(why) => StoredSessionError::WrongShape(why),
            })?;
        for (name, value) in [
            ("access_token", &session.access_token),
            ("id_token", &session.id_token),
            ("claims.sub", &session.claims.sub),
        ] {
            if value.is_empty() {
                return Err(StoredSessionError::EmptyField(name));
            }
        }
        let mut tokens = vec![
            ("access_token", session.access_token.as_str()),
            ("id_token", session.id_token.as_str()),
        ];
        if let Some(refresh) = &session.refresh_token {
            tokens.push(("refresh_token", refresh.expose()));
        }
        for (name, token) in tokens {
            if token.is_empty() {
                return Err(StoredSessionError::EmptyField(name));
            }
            if !token.bytes().all(|byte| (0x20..=0x7e).contains(&byte)) {
                return Err(StoredSessionError::InvalidToken(name));
            }
        }
        let bound = match (&session.token_type, &session.dpop_jkt) {
            (TokenType::DPoP, Some(jkt)) => is_thumbprint(jkt),
            (TokenType::Bearer, None) => true,
            _ => false,
        };
        if !bound {
            return Err(StoredSessionError::WrongShape(
                "`token_type` DPoP goes with a key thumbprint in `dpop_jkt`, Bearer with none"
                    .into(),
            ));
        }
        if session.expires_at_ms < session.issued_at_ms {
            return Err(StoredSessionError::EndsBeforeIssued);
        }
        if session.expires_at_ms - session.issued_at_ms > MAX_SESSION_LIFETIME_MS {
            return Err(StoredSessionError::LifetimeTooLong);
        }
        if session.issued_at_ms > now_ms.saturating_add(ISSUED_AT_LEEWAY_MS) {
            return Err(StoredSessionError::IssuedInFuture);
        }
        if session.claims.iss != owner.issuer {
            return Err(StoredSessionError::OtherIssuer);
        }
        let claims = &session.claims;
        if !claims.aud.iter().any(|aud| aud == owner.client_id)
            || claims
                .azp
                .as_deref()
                .is_some_and(|azp| azp != owner.client_id)
        {
            return Err(StoredSessionError::OtherClient);
        }
        if session.audience.as_deref() != owner.audience {
            return Err(StoredSessionError::OtherAudience);
        }
        Ok(session)
    }
}

/// The members of a stored session, as [`Session::to_stored`] writes them (see [`Members`]).
fn read_stored(session: &Members<'_>) -> Result<Session, Unreadable> {
    let claims = session.object("claims")?;
    let token_type = match session.choice("token_type", &["Bearer", "DPoP"])? {
        None | Some(0) => TokenType::Bearer,
        Some(_) => TokenType::DPoP,
    };
    Ok(Session {
        access_token: Members::required("access_token", session.text("access_token")?)?,
        id_token: Members::required("id_token", session.text("id_token")?)?,
        expires_at_ms: Members::required("expires_at_ms", session.whole("expires_at_ms")?)?,
        issued_at_ms: Members::required("issued_at_ms", session.whole("issued_at_ms")?)?,
        scope: session.text("scope")?,
        claims: IdClaims {
            sub: Members::required("sub", claims.text("sub")?)?,
            iss: Members::required("iss", claims.text("iss")?)?,
            aud: Members::required("aud", claims.one_or_many("aud")?)?,
            exp: Members::required("exp", claims.integer("exp")?)?,
            iat: Members::required("iat", claims.integer("iat")?)?,
            auth_time: claims.integer("auth_time")?,
            nonce: claims.text("nonce")?,
            azp: claims.text("azp")?,
            name: claims.text("name")?,
            email: claims.text("email")?,
            email_verified: claims.boolean("email_verified")?,
            preferred_username: claims.text("preferred_username")?,
            picture: claims.text("picture")?,
        },
        audience: session.text("audience")?,
        refresh_token: session.text("refresh_token")?.map(RefreshToken),
        token_type,
        dpop_jkt: session.text("dpop_jkt")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support;
    use serde_json::{json, Value};

    const NOW_MS: u64 = 1_700_000_000_000;
    const NOW_SECS: i64 = 1_700_000_000;
    const AUDIENCE: &str = "urn:oidc-renew:demo-api";
    /// Whom [`session`] belongs to (the claims of `test_support::claims`).
    const OWNER: SessionOwner<'static> = SessionOwner {
        issuer: "http://localhost:4000",
        client_id: "oidc-renew-demo",
        audience: Some(AUDIENCE),
    };

    fn session() -> Session {
        Session::new(
            "at".into(),
            "a.b.c".into(),
            Some(300),
            Some("openid profile".into()),
            test_support::claims(NOW_SECS),
            NOW_MS,
        )
        .with_audience(Some(AUDIENCE.into()))
    }

    #[test]
    fn dpop_sessions_record_their_token_type_and_key() {
        const JKT: &str = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I";
        let bound = session()
            .with_refresh_token(Some("rt-1".into()))
            .with_dpop(Some(JKT.into()));
        assert_eq!(bound.token_type, TokenType::DPoP);
        let stored = bound.to_stored();
        assert!(stored.contains(r#""token_type":"DPoP""#), "{stored}");
        assert!(stored.contains(JKT), "{stored}");
        assert_eq!(
            Session::from_stored(&stored, NOW_MS, &OWNER),
            Ok(bound.clone())
        );
        assert!(format!("{bound:?}").contains("DPoP"));
        // A refresh keeps the binding (its proof was signed with the same key).
        let refreshed =
            bound.refreshed("at-2".into(), Some(300), Some("rt-2".into()), None, NOW_MS);
        assert_eq!(refreshed.token_type, TokenType::DPoP);
        assert_eq!(refreshed.dpop_jkt.as_deref(), Some(JKT));
        // Bearer sessions are stored as they always were, and read back as Bearer.
        let bearer = session().to_stored();
        assert!(
            !bearer.contains("token_type") && !bearer.contains("dpop_jkt"),
            "{bearer}"
        );
        assert_eq!(
            Session::from_stored(&bearer, NOW_MS, &OWNER).map(|s| s.token_type),
            Ok(TokenType::Bearer)
        );
        assert_eq!(session().with_dpop(None), session());
        // The type and the key go together.
        for (token_type, jkt) in [
            (json!("DPoP"), Value::Null),
            (json!("DPoP"), json!("not-a-thumbprint")),
            (json!("Bearer"), json!(JKT)),
        ] {
            let mut value: Value = serde_json::from_str(&stored).unwrap();
            value["token_type"] = token_type;
            value["dpop_jkt"] = jkt;
            assert_wrong_shape(&value.to_string());
        }
        for token_type in [json!("dpop"), json!("mac")] {
            assert_wrong_shape(&stored_with(&["token_type"], token_type));
        }
    }

    #[test]
    fn refresh_tokens_are_kept_rotated_and_never_shown() {
        let held = session().with_refresh_token(Some("rt-1".into()));
        // Stored and read back with it; a damaged one is refused like any token.
        let stored = held.to_stored();
        assert_eq!(
            Session::from_stored(&stored, NOW_MS, &OWNER),
            Ok(held.clone())
        );
        let mut damaged: Value = serde_json::from_str(&stored).unwrap();
        damaged["refresh_token"] = json!("rt\u{7}");
        assert_eq!(
            Session::from_stored(&damaged.to_string(), NOW_MS, &OWNER),
            Err(StoredSessionError::InvalidToken("refresh_token"))
        );
        damaged["refresh_token"] = json!("");
        assert_eq!(
            Session::from_stored(&damaged.to_string(), NOW_MS, &OWNER),
            Err(StoredSessionError::EmptyField("refresh_token"))
        );
        // Sessions stored before refresh tokens existed still read.
        assert_eq!(
            Session::from_stored(&session().to_stored(), NOW_MS, &OWNER).map(|s| s.refresh_token),
            Ok(None)
        );
        // Rotation: a new refresh token replaces the old; without one the old one stays.
        let later = NOW_MS + 240_000;
        let rotated = held.refreshed("at-2".into(), Some(300), Some("rt-2".into()), None, later);
        assert_eq!(
            rotated.refresh_token.as_ref().map(RefreshToken::expose),
            Some("rt-2")
        );
        assert_eq!(
            (rotated.issued_at_ms, rotated.expires_at_ms),
            (later, later + 300_000)
        );
        assert_eq!(
            (rotated.id_token.as_str(), &rotated.claims),
            ("a.b.c", &held.claims)
        );
        assert_eq!(rotated.audience.as_deref(), Some(AUDIENCE));
        let same = held.refreshed("at-2".into(), None, None, None, later);
        assert_eq!(
            same.refresh_token.as_ref().map(RefreshToken::expose),
            Some("rt-1")
        );
        assert_eq!(
            same.expires_at_ms,
            later + 300_000,
            "the old lifetime, without expires_in"
        );
        assert_eq!(held.without_refresh_token().refresh_token, None);
        // No token in the Debug form.
        let shown = format!("{rotated:?}");
        for secret in ["at-2", "rt-2", "a.b.c"] {
            assert!(!shown.contains(secret), "{shown}");
        }
    }

    fn stored_with(path: &[&str], value: Value) -> String {
        let mut stored: Value = serde_json::from_str(&session().to_stored()).unwrap();
        let mut slot = &mut stored;
        for name in path {
            slot = &mut slot[*name];
        }
        *slot = value;
        stored.to_string()
    }

    #[test]
    fn lifetime() {
        let check = |expires_in: Option<u64>, exp: i64, expected_lifetime_ms: u64| {
            let mut claims = test_support::claims(NOW_SECS);
            claims.exp = exp;
            let session = Session::new(
                "at".into(),
                "a.b.c".into(),
                expires_in,
                None,
                claims,
                NOW_MS,
            );
            assert_eq!(session.issued_at_ms, NOW_MS);
            assert_eq!(
                session.expires_at_ms - NOW_MS,
                expected_lifetime_ms,
                "{expires_in:?} {exp}"
            );
        };
        check(Some(300), NOW_SECS + 60, 300_000);
        // Without expires_in: the id_token's exp - iat (iat is NOW_SECS here).
        check(None, NOW_SECS + 120, 120_000);
        check(None, NOW_SECS - 5, 0);
        check(None, -1, 0);
        // Absurd lifetimes are clamped to a day.
        check(Some(10 * 24 * 3600), NOW_SECS, MAX_SESSION_LIFETIME_MS);
        check(Some(u64::MAX), NOW_SECS, MAX_SESSION_LIFETIME_MS);
        check(None, i64::MAX, MAX_SESSION_LIFETIME_MS);
    }

    #[test]
    fn the_lifetime_does_not_depend_on_the_providers_clock() {
        // Without expires_in, a 120 s token from a provider five minutes ahead or behind still
        // lives 120 s here.
        for skew in [-300, 0, 300] {
            let mut claims = test_support::claims(NOW_SECS + skew);
            claims.exp = NOW_SECS + skew + 120;
            let session = Session::new("at".into(), "a.b.c".into(), None, None, claims, NOW_MS);
            assert_eq!(session.expires_at_ms, NOW_MS + 120_000, "skew {skew}");
        }
    }

    #[test]
    fn expiry() {
        let session = session();
        let check = |now_ms: u64, expired: bool, left_ms: u64| {
            assert_eq!(session.is_expired(now_ms), expired, "{now_ms}");
            assert_eq!(session.expires_in_ms(now_ms), left_ms, "{now_ms}");
        };
        check(NOW_MS, false, 300_000);
        check(NOW_MS + 299_999, false, 1);
        check(NOW_MS + 300_000, true, 0);
        check(u64::MAX, true, 0);
        check(0, false, NOW_MS + 300_000);
        assert_eq!(session.subject(), "demo");
    }

    fn check(text: &str, now_ms: u64, expected: Result<Session, StoredSessionError>) {
        assert_eq!(
            Session::from_stored(text, now_ms, &OWNER),
            expected,
            "{text}"
        );
    }

    #[test]
    fn stored_round_trip() {
        check(&session().to_stored(), NOW_MS, Ok(session()));
        // Expired sessions come back as they are; the caller decides.
        check(&session().to_stored(), NOW_MS + 3_600_000, Ok(session()));
        // A little clock skew backwards is fine.
        check(
            &session().to_stored(),
            NOW_MS - ISSUED_AT_LEEWAY_MS,
            Ok(session()),
        );
    }

    #[test]
    fn stored_members_read_as_written_and_as_other_writers_may() {
        // Every optional member present (the claims' display members, auth_time, a refresh token).
        let mut claims = test_support::claims(NOW_SECS);
        claims.auth_time = Some(NOW_SECS - 5);
        claims.azp = Some(OWNER.client_id.into());
        claims.preferred_username = Some("ada".into());
        claims.picture = Some("https://pictures.example/ada.png".into());
        let full = Session {
            claims,
            ..session().with_refresh_token(Some("rt".into()))
        };
        check(&full.to_stored(), NOW_MS, Ok(full.clone()));
        // One audience as a string, as an id_token may state it; unknown members ignored.
        let mut one = session();
        one.claims.aud = vec![OWNER.client_id.into()];
        let text = stored_with(&["claims", "aud"], json!(OWNER.client_id));
        check(&text, NOW_MS, Ok(one));
        check(
            &stored_with(&["extra"], json!({"x": 1})),
            NOW_MS,
            Ok(session()),
        );
        // The token type is one of two names, as written.
        for raw in ["\"dpop\"", "\"Basic\"", "1"] {
            assert_wrong_shape(&stored_with_raw(&["token_type"], raw));
        }
        let Err(StoredSessionError::WrongShape(why)) =
            Session::from_stored(&stored_with(&["issued_at_ms"], json!(1.5)), NOW_MS, &OWNER)
        else {
            panic!("a fractional time is a wrong shape");
        };
        assert!(why.contains("`issued_at_ms`"), "{why}");
    }

    #[test]
    fn stored_table() {
        let full = session().to_stored();
        let table: Vec<(String, StoredSessionError)> = vec![
            ("".into(), StoredSessionError::Truncated),
            (
                r#"{"access_token":"x""#.into(),
                StoredSessionError::Truncated,
            ),
            (full[..full.len() - 1].into(), StoredSessionError::Truncated),
            ("garbage".into(), StoredSessionError::Corrupted),
            ("{access_token: x}".into(), StoredSessionError::Corrupted),
            (format!("{full}x"), StoredSessionError::Corrupted),
            (
                "x".repeat(MAX_STORED_SESSION_LEN + 1),
                StoredSessionError::TooLarge,
            ),
            (
                stored_with(&["access_token"], json!("")),
                StoredSessionError::EmptyField("access_token"),
            ),
            (
                stored_with(&["id_token"], json!("")),
                StoredSessionError::EmptyField("id_token"),
            ),
            (
                stored_with(&["claims", "sub"], json!("")),
                StoredSessionError::EmptyField("claims.sub"),
            ),
            (
                stored_with(&["expires_at_ms"], json!(NOW_MS - 1)),
                StoredSessionError::EndsBeforeIssued,
            ),
            (
                stored_with(&["expires_at_ms"], json!(0)),
                StoredSessionError::EndsBeforeIssued,
            ),
            (
                stored_with(
                    &["expires_at_ms"],
                    json!(NOW_MS + MAX_SESSION_LIFETIME_MS + 1),
                ),
                StoredSessionError::LifetimeTooLong,
            ),
            (
                stored_with(&["expires_at_ms"], json!(u64::MAX)),
                StoredSessionError::LifetimeTooLong,
            ),
        ];
        for (text, expected) in table {
            check(&text, NOW_MS, Err(expected));
        }
        check(
            &session().to_stored(),
            NOW_MS - ISSUED_AT_LEEWAY_MS - 1,
            Err(StoredSessionError::IssuedInFuture),
        );
    }

    #[test]
    fn stored_wrong_types() {
        let table = [
            "[]".to_owned(),
            "{}".to_owned(),
            "null".to_owned(),
            "42".to_owned(),
            r#"{"access_token":"x"}"#.to_owned(),
            stored_with(&["access_token"], json!(1)),
            stored_with(&["expires_at_ms"], json!(-5)),
            stored_with(&["expires_at_ms"], json!("1700000300000")),
            stored_with(&["expires_at_ms"], json!(1.5)),
            stored_with(&["issued_at_ms"], json!(null)),
            stored_with(&["claims"], json!("x")),
            stored_with(&["claims", "exp"], json!("soon")),
            stored_with(&["claims", "aud"], json!(7)),
        ];
        for text in table {
            let result = Session::from_stored(&text, NOW_MS, &OWNER);
            assert!(
                matches!(result, Err(StoredSessionError::WrongShape(_))),
                "{text}: {result:?}"
            );
        }
    }

    /// The stored session with the member at `path` removed.
    fn stored_without(path: &[&str]) -> String {
        let mut stored: Value = serde_json::from_str(&session().to_stored()).unwrap();
        let (last, parents) = path.split_last().unwrap();
        let mut slot = &mut stored;
        for name in parents {
            slot = &mut slot[*name];
        }
        slot.as_object_mut().unwrap().remove(*last).unwrap();
        stored.to_string()
    }

    /// The stored session with the member at `path` holding `raw`, verbatim JSON text (for numbers
    /// `serde_json::Value` cannot hold, and for text that is not JSON).
    fn stored_with_raw(path: &[&str], raw: &str) -> String {
        const MARKER: &str = "\"__raw_value__\"";
        let text = stored_with(path, json!("__raw_value__"));
        assert_eq!(text.matches(MARKER).count(), 1, "{text}");
        text.replace(MARKER, raw)
    }

    fn assert_wrong_shape(text: &str) {
        let result = Session::from_stored(text, NOW_MS, &OWNER);
        assert!(
            matches!(result, Err(StoredSessionError::WrongShape(_))),
            "{text}: {result:?}"
        );
    }

    #[test]
    fn stored_without_a_required_member() {
        for path in [
            &["access_token"][..],
            &["id_token"],
            &["expires_at_ms"],
            &["issued_at_ms"],
            &["claims"],
            &["claims", "sub"],
            &["claims", "iss"],
            &["claims", "aud"],
            &["claims", "exp"],
            &["claims", "iat"],
        ] {
            assert_wrong_shape(&stored_without(path));
        }
        // Optional members may be absent; without `audience` the session is of another API.
        let no_scope = Session {
            scope: None,
            ..session()
        };
        check(&stored_without(&["scope"]), NOW_MS, Ok(no_scope));
        check(
            &stored_without(&["audience"]),
            NOW_MS,
            Err(StoredSessionError::OtherAudience),
        );
    }

    #[test]
    fn stored_member_of_every_wrong_type() {
        let text = ["access_token", "id_token"].map(|name| vec![name]);
        let claims_text = ["sub", "iss"].map(|name| vec!["claims", name]);
        let optional_text = [
            vec!["scope"],
            vec!["audience"],
            vec!["claims", "nonce"],
            vec!["claims", "azp"],
            vec!["claims", "name"],
            vec!["claims", "email"],
        ];
        let mut table: Vec<(Vec<&str>, Vec<&str>)> = Vec::new();
        let not_text = vec!["null", "true", "1", "-1", "1.5", "[]", "{}", "[\"at\"]"];
        for path in text.iter().chain(&claims_text) {
            table.push((path.clone(), not_text.clone()));
        }
        for path in optional_text {
            table.push((path, vec!["true", "1", "[]", "{}"]));
        }
        let not_time = vec![
            "null",
            "true",
            "\"1700000300000\"",
            "-1",
            "-1700000300000",
            "1.5",
            "1700000300000.5",
            "1e300",
            "-1e300",
            "1e3",
            "18446744073709551616",
            "\"NaN\"",
            "\"Infinity\"",
            "\"-Infinity\"",
            "\"\"",
            "[]",
            "{}",
        ];
        table.push((vec!["expires_at_ms"], not_time.clone()));
        table.push((vec!["issued_at_ms"], not_time));
        for path in [vec!["claims", "exp"], vec!["claims", "iat"]] {
            table.push((path, vec!["null", "\"soon\"", "1.5", "1e300", "true", "[]"]));
        }
        table.push((vec!["claims", "auth_time"], vec!["\"x\"", "1.5", "{}"]));
        table.push((vec!["claims", "email_verified"], vec!["\"yes\"", "1", "[]"]));
        table.push((
            vec!["claims", "aud"],
            vec!["null", "1", "true", "{}", "[1]", "[null]"],
        ));
        table.push((vec!["claims"], vec!["null", "\"x\"", "1", "[]", "true"]));
        for (path, values) in table {
            for raw in values {
                assert_wrong_shape(&stored_with_raw(&path, raw));
            }
        }
    }

    #[test]
    fn stored_times_that_cannot_be() {
        let year_3000_ms: u64 = 32_503_680_000_000;
        let times = |expires_at: u64, issued_at: u64| {
            let mut stored: Value = serde_json::from_str(&session().to_stored()).unwrap();
            stored["expires_at_ms"] = json!(expires_at);
            stored["issued_at_ms"] = json!(issued_at);
            stored.to_string()
        };
        let table = [
            (times(u64::MAX, NOW_MS), StoredSessionError::LifetimeTooLong),
            (
                times(year_3000_ms, NOW_MS),
                StoredSessionError::LifetimeTooLong,
            ),
            (
                times(year_3000_ms, year_3000_ms - 1),
                StoredSessionError::IssuedInFuture,
            ),
            (
                times(u64::MAX, u64::MAX),
                StoredSessionError::IssuedInFuture,
            ),
            (times(0, NOW_MS), StoredSessionError::EndsBeforeIssued),
            (
                times(NOW_MS, NOW_MS + 1),
                StoredSessionError::EndsBeforeIssued,
            ),
            (times(0, u64::MAX), StoredSessionError::EndsBeforeIssued),
        ];
        for (text, expected) in table {
            check(&text, NOW_MS, Err(expected));
        }
        // Not JSON at all: bare NaN and Infinity.
        for raw in ["NaN", "Infinity", "-Infinity", "0x10", "01", "+1", "1_000"] {
            check(
                &stored_with_raw(&["expires_at_ms"], raw),
                NOW_MS,
                Err(StoredSessionError::Corrupted),
            );
        }
        // Possible, only long past: an expired session, returned for the caller to renew or end.
        let ancient = Session::from_stored(&times(1_000, 0), NOW_MS, &OWNER).unwrap();
        assert!(ancient.is_expired(NOW_MS));
        assert_eq!(ancient.expires_in_ms(NOW_MS), 0);
        // The clock itself may be absurd: nothing overflows.
        for now_ms in [0, u64::MAX] {
            let result = Session::from_stored(&session().to_stored(), now_ms, &OWNER);
            assert!(
                result.is_ok() == (now_ms == u64::MAX),
                "{now_ms}: {result:?}"
            );
        }
    }

    #[test]
    fn stored_tokens_empty_huge_or_damaged() {
        let with_token = |access_token: String| {
            Session {
                access_token,
                ..session()
            }
            .to_stored()
        };
        // A big token is fine up to the size limit; one byte more is refused before parsing.
        let base = with_token(String::new()).len();
        let fits = "a".repeat(MAX_STORED_SESSION_LEN - base);
        let fits_text = with_token(fits.clone());
        assert_eq!(fits_text.len(), MAX_STORED_SESSION_LEN);
        check(
            &fits_text,
            NOW_MS,
            Ok(Session {
                access_token: fits,
                ..session()
            }),
        );
        check(
            &with_token("a".repeat(MAX_STORED_SESSION_LEN - base + 1)),
            NOW_MS,
            Err(StoredSessionError::TooLarge),
        );
        for (name, damaged) in [
            ("access_token", "at\r\nX-Evil: 1"),
            ("access_token", "at\u{0}"),
            ("access_token", "at\u{7f}"),
            ("access_token", "jeton-\u{e9}"),
            ("id_token", "a.b.c\u{202e}"),
            ("id_token", "a.b\tc"),
        ] {
            check(
                &stored_with(&[name], json!(damaged)),
                NOW_MS,
                Err(StoredSessionError::InvalidToken(name)),
            );
        }
        // Spaces and every other visible ASCII character are token characters.
        let visible: String = (0x20u8..=0x7e).map(char::from).collect();
        assert!(Session::from_stored(
            &stored_with(&["access_token"], json!(visible)),
            NOW_MS,
            &OWNER
        )
        .is_ok());
    }

    #[test]
    fn stored_session_of_someone_else() {
        let table = [
            (
                stored_with(&["claims", "iss"], json!("https://evil.example")),
                StoredSessionError::OtherIssuer,
            ),
            (
                stored_with(&["claims", "iss"], json!("http://localhost:4000/")),
                StoredSessionError::OtherIssuer,
            ),
            (
                stored_with(&["claims", "aud"], json!("another-client")),
                StoredSessionError::OtherClient,
            ),
            (
                stored_with(&["claims", "aud"], json!([])),
                StoredSessionError::OtherClient,
            ),
            (
                stored_with(&["claims", "azp"], json!("another-client")),
                StoredSessionError::OtherClient,
            ),
            (
                stored_with(&["audience"], json!("urn:another-api")),
                StoredSessionError::OtherAudience,
            ),
            (
                stored_with(&["audience"], json!(null)),
                StoredSessionError::OtherAudience,
            ),
        ];
        for (text, expected) in table {
            check(&text, NOW_MS, Err(expected));
        }
        // Several audiences holding ours, and `azp` naming us, are ours.
        let several = stored_with(&["claims", "aud"], json!(["api", "oidc-renew-demo"]));
        assert!(Session::from_stored(&several, NOW_MS, &OWNER).is_ok());
        let azp = stored_with(&["claims", "azp"], json!("oidc-renew-demo"));
        assert!(Session::from_stored(&azp, NOW_MS, &OWNER).is_ok());
        // Without a configured audience, only a session without one is ours.
        let no_audience = SessionOwner {
            audience: None,
            ..OWNER
        };
        assert_eq!(
            Session::from_stored(&session().to_stored(), NOW_MS, &no_audience),
            Err(StoredSessionError::OtherAudience)
        );
        let plain = session().with_audience(None);
        assert_eq!(
            Session::from_stored(&plain.to_stored(), NOW_MS, &no_audience),
            Ok(plain)
        );
    }

    #[test]
    fn messages_say_what_to_do() {
        for error in [
            StoredSessionError::TooLarge,
            StoredSessionError::Corrupted,
            StoredSessionError::Truncated,
            StoredSessionError::WrongShape("x".into()),
            StoredSessionError::EmptyField("access_token"),
            StoredSessionError::InvalidToken("id_token"),
            StoredSessionError::EndsBeforeIssued,
            StoredSessionError::LifetimeTooLong,
            StoredSessionError::IssuedInFuture,
            StoredSessionError::OtherIssuer,
            StoredSessionError::OtherClient,
            StoredSessionError::OtherAudience,
        ] {
            assert!(error.to_string().ends_with("sign in again"), "{error}");
        }
    }
}
