//! The session keeper: the one state machine of a client's session, without I/O.
//!
//! It decides everything that happens to a session after sign-in starts: restoring it at start-up,
//! finishing a sign-in callback, when to renew, what a failed renewal means, when to give up, what
//! another tab's news means, signing out. It performs no effect and reads no clock (STYLE 2b, after
//! quinn-proto): the browser side feeds it each [`Input`] with the time it happened,
//! [`Keeper::step`]`(now_ms, input)`, and carries out the [`Command`]s it returns — timers, the cross-tab
//! lock, renewals, storage, the tab channel, navigation — feeding their results back as inputs.
//!
//! The sign-in state ([`AuthState`], changed only through [`reduce`]) and the renewal status with its
//! event log ([`RenewalStatus`]) are both changed here, by the same input, so they cannot disagree; every
//! log entry added is also returned as a [`Command::Notify`] for app code.
//!
//! The policy:
//! - A session renews at [`schedule::renew_at`] (a lead before expiry, this tab's jitter), and the
//!   decision is re-made from `now` at every [`Input::Wake`]: a timer that fired late or never (sleep,
//!   throttled tabs) only delays the decision, never breaks it.
//! - A session is never presented as signed in past its expiry: the first input that sees it expired
//!   turns it [`AuthState::Expired`] ("restoring"), and renewal tries to bring it back.
//! - A renewal runs under the cross-tab lock: [`Command::AcquireLock`], then [`Input::LockAcquired`]
//!   with the stored session as it is then; a newer one another tab stored meanwhile is adopted
//!   instead of renewing again. The lock is released after the new session is stored.
//! - Failures by class ([`RenewalClass`]): transient ones retry with jittered exponential backoff
//!   ([`schedule::backoff_delay`]), never later than expiry while signed in, and at once when the
//!   browser is back online; restoring an expired session keeps trying for [`RESTORE_PATIENCE_MS`];
//!   interaction required stops renewal and the session ends at expiry; fatal ones end it now, in
//!   every tab.
//! - The channel: the refresh token while the session holds one (renewal `auto` or `refresh_token`),
//!   the iframe otherwise (`auto` or `iframe`). A refused refresh token is dropped, and `auto` renews in
//!   the iframe at once — once: the iframe's answer decides. A refresh token is never sent by two tabs:
//!   renewals run under the lock, a newer session another tab stored is adopted first, and one this
//!   tab cannot see (per-tab storage, its message not arrived) is waited for, never raced.
//! - Memory storage keeps nothing across reloads: at start-up the session is restored by one silent
//!   renewal, but only when this browser signed in before (a marker, no token, kept by the storage
//!   glue): a visitor who never signed in costs the provider nothing.

use crate::config::{AuthConfig, RenewalMode, StorageKind};
use crate::fields::Members;
use crate::id_token::IdTokenError;
use crate::renewal::{Channel, RenewalClass, RenewalError};
use crate::schedule::{self, renew_at, DEFAULT_LEAD_MS};
use crate::session::{RefreshToken, Session, SessionOwner, StoredSessionError};
use crate::state::{reduce, AuthEvent, AuthFailure, AuthState, SignOutReason};
use crate::status::{IgnoredMessage, LogEntry, RenewalStatus, StatusNote, Then, TokenSpan};
use serde::Serialize;
use serde_json::Value;

/// How long restoring an expired session keeps retrying through transient failures (an outage, a
/// laptop waking without network) before the user is signed out.
pub const RESTORE_PATIENCE_MS: u64 = 5 * 60 * 1000;

/// What happened, as the browser side tells the keeper.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// Start-up (not on the sign-in callback): the stored session as read, and whether this browser
    /// signed in before (memory storage restores by silent renewal only then).
    Loaded {
        /// The stored session, none, or why the stored value cannot be used.
        stored: Result<Option<Session>, StoredSessionError>,
        /// The sign-in marker is present.
        signed_in_before: bool,
        /// The page is where a logout's navigation ended: how it went (the user signed out; the
        /// provider's session may be open still). No silent restore follows a logout.
        after_logout: Option<SignOutReason>,
    },
    /// Start-up on the sign-in callback URL: the provider sent the user back.
    CallbackDetected,
    /// The sign-in callback was checked and its tokens validated.
    LoginCompleted {
        /// The new session.
        session: Session,
        /// The app path the user set off from.
        return_to: String,
    },
    /// The app asked to sign in, coming back to `return_to`.
    LoginRequested {
        /// An app path.
        return_to: String,
    },
    /// Starting or completing a sign-in failed.
    LoginFailed(AuthFailure),
    /// The app asked to sign out.
    LogoutRequested,
    /// A moment to look at the clock again.
    Wake(Wake),
    /// The app asked for one renewal now, whatever the schedule says.
    RenewNow,
    /// The cross-tab renewal lock is held now; what storage says under it.
    LockAcquired {
        /// The session in storage (another tab may have renewed it), if readable.
        stored: Option<Session>,
        /// The `issued_at_ms` of the newest session any tab stored (a shared marker, no token): with
        /// per-tab storage, tells that another tab holds a newer session (and refresh token).
        newest: Option<u64>,
    },
    /// The lock could not be had (another tab held it too long, or the browser refused).
    LockFailed(String),
    /// A renewal started by [`Command::Renew`] ended.
    RenewalFinished {
        /// The renewal's id.
        id: u64,
        /// The new session, validated, or why there is none.
        result: Result<Session, RenewalError>,
    },
    /// The renewer ignored a message.
    MessageIgnored(IgnoredMessage),
    /// Another tab's news.
    FromTab(TabNote),
}

/// Why the keeper is woken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wake {
    /// The timer of [`Command::SetTimer`] fired.
    Timer,
    /// The browser is back online: a pending retry runs now.
    Online,
    /// Any other moment (visible again, shown, focused, the periodic check).
    Other,
}

/// What tabs of one client tell each other.
// A few messages a session: boxing the session would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum TabNote {
    /// A new session (a sign-in or a renewal).
    Session(Session),
    /// The user signed out.
    SignedOut,
}

/// Externally tagged (`{"session":{"session":"…"}}`, `"signed_out"`), as serde writes it;
/// [`TabNote::decode`] reads it by hand.
#[derive(Serialize)]
#[serde(rename_all = "snake_case")]
enum TabWire {
    Session { session: String },
    SignedOut,
}

impl TabNote {
    /// The message text sent on the tab channel.
    pub fn encode(&self) -> String {
        let wire = match self {
            TabNote::Session(session) => TabWire::Session {
                session: session.to_stored(),
            },
            TabNote::SignedOut => TabWire::SignedOut,
        };
        serde_json::to_string(&wire).unwrap_or_default()
    }

    /// Reads a message from another tab at `now_ms`. `None` for anything that is not a message of
    /// ours, or a session that is not `owner`'s or cannot be used (the channel is open to every
    /// script of the origin).
    pub fn decode(text: &str, now_ms: u64, owner: &SessionOwner<'_>) -> Option<TabNote> {
        // A string, or an object of one member (read by hand: see `fields::Members`).
        match serde_json::from_str::<Value>(text).ok()? {
            Value::String(note) if note == "signed_out" => Some(TabNote::SignedOut),
            Value::Object(wire) if wire.len() == 1 => {
                let session = Members(&wire)
                    .object("session")
                    .ok()?
                    .text("session")
                    .ok()??;
                Session::from_stored(&session, now_ms, owner)
                    .ok()
                    .map(TabNote::Session)
            }
            _ => None,
        }
    }
}

/// What the browser side must do, in the order given.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Wake the keeper ([`Wake::Timer`]) at this time (replacing the previous timer), or never.
    SetTimer(Option<u64>),
    /// Take the cross-tab renewal lock (or keep it, if this page holds it), then feed
    /// [`Input::LockAcquired`] with the stored session, or [`Input::LockFailed`].
    AcquireLock,
    /// Release the renewal lock, if held.
    ReleaseLock,
    /// Run renewal `id`; feed [`Input::RenewalFinished`].
    Renew {
        /// Tells renewals apart: only the current one's result counts.
        id: u64,
        /// How.
        request: RenewalRequest,
    },
    /// Store this session (and the sign-in marker).
    Store(Session),
    /// Forget the stored session, the marker and any pending login transaction.
    Forget,
    /// Tell the other tabs.
    Broadcast(TabNote),
    /// Start a sign-in at the provider; feed [`Input::LoginFailed`] if it cannot start.
    Login {
        /// The app path to come back to.
        return_to: String,
    },
    /// Complete the sign-in from the callback URL; feed [`Input::LoginCompleted`] or
    /// [`Input::LoginFailed`].
    CompleteLogin,
    /// Show this app path in the address bar (after a sign-in callback), without reloading.
    ReturnTo(String),
    /// Revoke the refresh token (RFC 7009), then end the session at the provider too (RP-initiated
    /// logout): leaves the page.
    Logout {
        /// The id_token, to tell the provider whose session ends.
        id_token_hint: Option<String>,
        /// The refresh token to revoke first.
        refresh_token: Option<RefreshToken>,
    },
    /// Tell app code about this event-log entry.
    Notify(LogEntry),
}

/// What a renewal does.
// One per renewal: boxing the session would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum RenewalRequest {
    /// A silent authorize request in the hidden iframe; the new id_token must name `expected_sub`
    /// when given (the user stays the same).
    Iframe {
        /// The current user's `sub`, when there is a session.
        expected_sub: Option<String>,
    },
    /// The refresh-token grant for `session` (which holds the refresh token); the new id_token, if
    /// any, is checked against the session's claims (OpenID Connect Core §12.2).
    Refresh {
        /// The session to refresh.
        session: Session,
    },
}

impl RenewalRequest {
    /// The channel this request renews by.
    pub fn channel(&self) -> Channel {
        match self {
            RenewalRequest::Iframe { .. } => Channel::Iframe,
            RenewalRequest::Refresh { .. } => Channel::RefreshToken,
        }
    }
}

/// How many times a refresh waits (a second each) for another tab's newer session to arrive before
/// renewal stops (renewal `refresh_token` with per-tab storage).
const STALE_WAITS: u32 = 3;

/// Where renewal stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Renewal {
    Idle,
    /// Waiting for the cross-tab lock; `forced` by [`Input::RenewNow`].
    Locking {
        forced: bool,
    },
    Running {
        id: u64,
        started_at_ms: u64,
        channel: Channel,
    },
}

/// The session keeper of one client in one page. See the module documentation.
#[derive(Debug, Clone)]
pub struct Keeper {
    /// Memory storage: a session is restored by silent renewal.
    restore_by_renewal: bool,
    mode: RenewalMode,
    /// Refreshes held back in a row because another tab holds a newer session.
    stale_waits: u32,
    /// This tab's place in `[0, 1)`, spreading the tabs' renewal times.
    jitter: f64,
    /// State of the backoff jitter's generator (xorshift64*).
    random: u64,
    auth: AuthState,
    status: RenewalStatus,
    renewal: Renewal,
    /// A transient failure scheduled the next attempt at this time.
    retry_at: Option<u64>,
    /// Restoring (an expired session, or memory storage's missing one) began at this time.
    restoring_since: Option<u64>,
    /// On the sign-in callback, until it completes or fails.
    completing_sign_in: bool,
    next_id: u64,
    /// The timer last asked for.
    timer: Option<u64>,
    /// Counts changes of what [`Keeper::state`], [`Keeper::status`] and
    /// [`Keeper::completing_sign_in`] show.
    revision: u64,
}

impl Keeper {
    /// A keeper at start-up ([`AuthState::Loading`]) for `config` (its `storage` and `renewal`);
    /// `seed`: random bits for this tab's jitter and the backoff's.
    pub fn new(config: &AuthConfig, seed: u64) -> Keeper {
        let mut keeper = Keeper {
            restore_by_renewal: config.storage == StorageKind::Memory,
            mode: config.renewal,
            stale_waits: 0,
            jitter: 0.0,
            random: splitmix64(seed),
            auth: AuthState::Loading,
            status: RenewalStatus::default(),
            renewal: Renewal::Idle,
            retry_at: None,
            restoring_since: None,
            completing_sign_in: false,
            next_id: 0,
            timer: None,
            revision: 0,
        };
        keeper.jitter = keeper.next_random();
        keeper
    }

    /// The sign-in state.
    pub fn state(&self) -> &AuthState {
        &self.auth
    }

    /// The renewal status and event log.
    pub fn status(&self) -> &RenewalStatus {
        &self.status
    }

    /// Whether the sign-in callback is being completed (the app should wait before it renders).
    pub fn completing_sign_in(&self) -> bool {
        self.completing_sign_in
    }

    /// Changes whenever what the three views above show changes.
    pub fn revision(&self) -> u64 {
        self.revision
    }

    /// Takes `input`, which happened at `now_ms`; returns what to do, in order.
    pub fn step(&mut self, now_ms: u64, input: Input) -> Vec<Command> {
        let mut out = Vec::new();
        let mut step = Step {
            keeper: self,
            now: now_ms,
            out: &mut out,
        };
        step.take(input);
        out
    }

    /// A number in `[0, 1)` (xorshift64*: plenty for jitter).
    fn next_random(&mut self) -> f64 {
        let mut x = self.random;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.random = x;
        (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// One step: the keeper, the time, and the commands so far.
struct Step<'a> {
    keeper: &'a mut Keeper,
    now: u64,
    out: &'a mut Vec<Command>,
}

impl Step<'_> {
    fn take(&mut self, input: Input) {
        match input {
            Input::Loaded {
                stored,
                signed_in_before,
                after_logout,
            } => self.loaded(stored, signed_in_before, after_logout),
            Input::CallbackDetected => {
                self.keeper.completing_sign_in = true;
                self.auth(AuthEvent::LoginStarted);
                self.out.push(Command::CompleteLogin);
            }
            Input::LoginCompleted { session, return_to } => {
                self.keeper.completing_sign_in = false;
                self.out.push(Command::ReturnTo(return_to));
                self.out.push(Command::Store(session.clone()));
                self.out
                    .push(Command::Broadcast(TabNote::Session(session.clone())));
                self.new_session(session, "in this tab");
            }
            Input::LoginRequested { return_to } => {
                self.cancel_renewal();
                self.auth(AuthEvent::LoginStarted);
                self.set_timer(None);
                self.out.push(Command::Login { return_to });
            }
            Input::LoginFailed(failure) => {
                if std::mem::take(&mut self.keeper.completing_sign_in) {
                    self.out.push(Command::ReturnTo("/".to_owned()));
                }
                self.auth(AuthEvent::Failed(failure));
            }
            Input::LogoutRequested => {
                let session = self.keeper.auth.session();
                let id_token_hint = session.map(|s| s.id_token.clone());
                let refresh_token = session.and_then(|s| s.refresh_token.clone());
                self.sign_out(AuthEvent::SignedOut(SignOutReason::UserLoggedOut), true);
                self.out.push(Command::Logout {
                    id_token_hint,
                    refresh_token,
                });
            }
            Input::Wake(wake) => {
                if wake == Wake::Timer {
                    self.keeper.timer = None;
                }
                // Back online: a pending retry runs now, not at the end of its backoff (also the retry
                // of a forced renewal, before the session is due).
                if wake == Wake::Online && self.keeper.retry_at.is_some() {
                    self.keeper.retry_at = Some(self.now);
                }
                self.decide();
            }
            Input::RenewNow => {
                if matches!(self.keeper.auth, AuthState::SignedIn(_)) {
                    self.start_renewal(true);
                }
            }
            Input::LockAcquired { stored, newest } => self.lock_acquired(stored, newest),
            Input::LockFailed(why) => {
                if matches!(self.keeper.renewal, Renewal::Locking { .. }) {
                    self.keeper.renewal = Renewal::Idle;
                    let channel = self.channel().unwrap_or(Channel::Iframe);
                    self.failed(
                        RenewalError::Browser(format!("renewal lock: {why}")),
                        0,
                        channel,
                    );
                }
            }
            Input::RenewalFinished { id, result } => self.finished(id, result),
            Input::MessageIgnored(reason) => self.note(StatusNote::Ignored {
                at_ms: self.now,
                reason,
            }),
            Input::FromTab(TabNote::Session(session)) => self.tab_session(session),
            Input::FromTab(TabNote::SignedOut) => {
                if matches!(
                    self.keeper.auth,
                    AuthState::SignedIn(_) | AuthState::Expired(_) | AuthState::Loading
                ) {
                    self.sign_out(AuthEvent::SignedOut(SignOutReason::OtherTab), false);
                }
            }
        }
    }

    fn loaded(
        &mut self,
        stored: Result<Option<Session>, StoredSessionError>,
        before: bool,
        after_logout: Option<SignOutReason>,
    ) {
        if let (Ok(None), Some(reason)) = (&stored, after_logout) {
            self.auth(AuthEvent::SignedOut(reason));
            self.note(StatusNote::SignedOut {
                at_ms: self.now,
                detail: reason.message().to_owned(),
            });
            return;
        }
        match stored {
            Ok(Some(session)) => {
                self.record_span(&session);
                self.auth(AuthEvent::Restored(Some(session)));
                self.decide();
            }
            Ok(None) if self.keeper.restore_by_renewal && before => {
                self.keeper.restoring_since = Some(self.now);
                self.decide();
            }
            Ok(None) => self.auth(AuthEvent::Restored(None)),
            Err(error) => {
                self.out.push(Command::Forget);
                let reason = SignOutReason::StoredSessionInvalid;
                self.auth(AuthEvent::SignedOut(reason));
                self.note(StatusNote::SignedOut {
                    at_ms: self.now,
                    detail: format!("{} ({error})", reason.message()),
                });
            }
        }
    }

    /// Re-decides from the clock: expire, renew, or sleep until the next moment to look.
    fn decide(&mut self) {
        let now = self.now;
        if let AuthState::SignedIn(session) = &self.keeper.auth {
            if session.is_expired(now) {
                if self.keeper.status.stopped.is_some() {
                    // The provider wants the user: the session ends at its expiry.
                    return self
                        .sign_out(AuthEvent::SignedOut(SignOutReason::SessionExpired), false);
                }
                // Slept past expiry, or renewal failed until now: never shown as signed in again
                // until a renewal succeeds.
                self.keeper.restoring_since = Some(now);
                self.auth(AuthEvent::TimePassed { now_ms: now });
            }
        }
        match &self.keeper.auth {
            AuthState::SignedIn(session) => {
                let expires = session.expires_at_ms;
                if self.keeper.status.stopped.is_some() {
                    self.schedule(None, Some(expires));
                    return;
                }
                let target = self.keeper.retry_at.unwrap_or_else(|| {
                    renew_at(
                        session.issued_at_ms,
                        expires,
                        DEFAULT_LEAD_MS,
                        self.keeper.jitter,
                    )
                });
                if now >= target {
                    self.start_renewal(false);
                } else {
                    self.schedule(Some(target), Some(target.min(expires)));
                }
            }
            AuthState::Expired(_) | AuthState::Loading if self.keeper.restoring_since.is_some() => {
                if self.keeper.renewal != Renewal::Idle {
                    return;
                }
                match self.keeper.retry_at {
                    Some(at) if now < at => self.schedule(Some(at), Some(at)),
                    _ if self.restore_exhausted() => self.give_up_restoring(),
                    _ => self.start_renewal(false),
                }
            }
            _ => self.schedule(None, None),
        }
    }

    fn restore_exhausted(&self) -> bool {
        self.keeper.status.failures_in_row > 0
            && self
                .keeper
                .restoring_since
                .is_some_and(|since| self.now.saturating_sub(since) >= RESTORE_PATIENCE_MS)
    }

    /// Restoring failed: an expired session ends; a visitor without one (memory storage) is signed
    /// out without a message.
    fn give_up_restoring(&mut self) {
        match self.keeper.auth {
            AuthState::Expired(_) => {
                self.sign_out(AuthEvent::SignedOut(SignOutReason::SessionExpired), false)
            }
            _ => {
                self.out.push(Command::Forget);
                self.keeper.restoring_since = None;
                self.keeper.retry_at = None;
                self.auth(AuthEvent::Restored(None));
                self.schedule(None, None);
            }
        }
    }

    fn start_renewal(&mut self, forced: bool) {
        match self.keeper.renewal {
            Renewal::Idle => {
                self.keeper.renewal = Renewal::Locking { forced };
                self.out.push(Command::AcquireLock);
            }
            Renewal::Locking { forced: was } => {
                self.keeper.renewal = Renewal::Locking {
                    forced: was || forced,
                }
            }
            Renewal::Running { .. } => {}
        }
    }

    /// The channel the next renewal takes, by the mode and whether the session holds a refresh
    /// token; `None` when it cannot renew at all (refresh tokens only, and none held).
    fn channel(&self) -> Option<Channel> {
        let held = self
            .keeper
            .auth
            .session()
            .is_some_and(|s| s.refresh_token.is_some());
        match (self.keeper.mode, held) {
            (RenewalMode::Iframe, _) | (RenewalMode::Auto, false) => Some(Channel::Iframe),
            (_, true) => Some(Channel::RefreshToken),
            (RenewalMode::RefreshToken, false) => None,
        }
    }

    fn lock_acquired(&mut self, stored: Option<Session>, newest: Option<u64>) {
        let Renewal::Locking { forced } = self.keeper.renewal else {
            // Nothing waits for it any more (signed out meanwhile).
            self.out.push(Command::ReleaseLock);
            return;
        };
        let now = self.now;
        self.keeper.renewal = Renewal::Idle;
        // Another tab renewed while this one waited for the lock: take its session (and its refresh
        // token: ours was spent by that renewal), then decide again.
        if let (Some(current), Some(stored)) = (self.keeper.auth.session(), stored) {
            if stored.expires_at_ms > current.expires_at_ms && !stored.is_expired(now) {
                self.out.push(Command::ReleaseLock);
                self.new_session(stored, "");
                return;
            }
        }
        // A retry continues a renewal that already failed: it runs even when the session is not due
        // (the failed one may have been forced).
        let retry = self.keeper.status.failures_in_row > 0;
        if !forced
            && !retry
            && matches!(&self.keeper.auth, AuthState::SignedIn(s) if !is_due(s, now, self.keeper.jitter))
        {
            // Fresh after all (another tab's session arrived by message meanwhile).
            self.out.push(Command::ReleaseLock);
            self.decide();
            return;
        }
        let Some(mut channel) = self.channel() else {
            self.out.push(Command::ReleaseLock);
            return self.failed(RenewalError::NoRefreshToken, 0, Channel::RefreshToken);
        };
        let session = self.keeper.auth.session().cloned();
        let stale = session
            .as_ref()
            .zip(newest)
            .is_some_and(|(session, newest)| newest > session.issued_at_ms);
        if channel == Channel::RefreshToken && stale {
            // Another tab holds a newer session, which this tab cannot read yet: its refresh token
            // replaced ours, and ours must not be sent again (reuse ends the grant for every tab).
            if self.keeper.mode == RenewalMode::Auto {
                channel = Channel::Iframe;
            } else if self.keeper.stale_waits < STALE_WAITS {
                self.keeper.stale_waits += 1;
                self.out.push(Command::ReleaseLock);
                self.keeper.retry_at = Some(now.saturating_add(1_000));
                self.decide();
                return;
            } else {
                self.out.push(Command::ReleaseLock);
                return self.failed(
                    RenewalError::RefreshTokenElsewhere,
                    0,
                    Channel::RefreshToken,
                );
            }
        }
        self.keeper.next_id += 1;
        let id = self.keeper.next_id;
        self.keeper.renewal = Renewal::Running {
            id,
            started_at_ms: now,
            channel,
        };
        self.note(StatusNote::Started {
            at_ms: now,
            channel,
        });
        let request = match (channel, session) {
            (Channel::RefreshToken, Some(session)) => RenewalRequest::Refresh { session },
            (_, session) => RenewalRequest::Iframe {
                expected_sub: session.map(|s| s.claims.sub),
            },
        };
        self.out.push(Command::Renew { id, request });
    }

    fn finished(&mut self, id: u64, result: Result<Session, RenewalError>) {
        let Renewal::Running {
            id: running,
            started_at_ms,
            channel,
        } = self.keeper.renewal
        else {
            return;
        };
        if id != running {
            return;
        }
        self.keeper.renewal = Renewal::Idle;
        let duration_ms = self.now.saturating_sub(started_at_ms);
        match result {
            Ok(session) => {
                self.note(StatusNote::Succeeded {
                    at_ms: self.now,
                    duration_ms,
                    channel,
                });
                // Stored and announced before the lock is released: a tab waiting for it finds the
                // new session (and refresh token) instead of spending the old one.
                self.out.push(Command::Store(session.clone()));
                self.out
                    .push(Command::Broadcast(TabNote::Session(session.clone())));
                self.out.push(Command::ReleaseLock);
                self.settle(session, AuthEvent::Renewed);
            }
            Err(error) => {
                self.out.push(Command::ReleaseLock);
                self.failed(error, duration_ms, channel);
            }
        }
    }

    fn failed(&mut self, error: RenewalError, duration_ms: u64, channel: Channel) {
        let restoring = self.keeper.restoring_since.is_some();
        if let RenewalError::RefreshTokenRefused(_) | RenewalError::DpopKeyMissing = error {
            // Dropped, here and in storage: it will never be sent again (nor can it be, without
            // the key it is bound to).
            if let Some(session) = self.keeper.auth.session() {
                let without = session.without_refresh_token();
                self.out.push(Command::Store(without.clone()));
                self.replace_session(without);
            }
            if self.keeper.mode == RenewalMode::Auto {
                self.note_failure(error, duration_ms, channel, Then::FallBack);
                return self.start_renewal(true);
            }
        }
        let then = match error.class() {
            RenewalClass::Fatal => Then::End,
            RenewalClass::InteractionRequired if restoring => Then::End,
            RenewalClass::InteractionRequired => Then::Stop,
            RenewalClass::Transient => Then::Retry,
        };
        self.note_failure(error.clone(), duration_ms, channel, then);
        match error.class() {
            RenewalClass::Fatal => self.end_fatally(&error),
            RenewalClass::InteractionRequired if restoring => self.give_up_restoring(),
            // The status now says `stopped`: no more renewals; the session ends at expiry.
            RenewalClass::InteractionRequired => self.decide(),
            RenewalClass::Transient => {
                let delay =
                    schedule::backoff_delay(self.keeper.status.failures_in_row, self.random());
                let mut at = self.now.saturating_add(delay);
                if let (false, Some(session)) = (restoring, self.keeper.auth.session()) {
                    // Never later than expiry: from there on, restoring retries.
                    at = at.min(session.expires_at_ms);
                }
                self.keeper.retry_at = Some(at);
                self.decide();
            }
        }
    }

    fn note_failure(
        &mut self,
        error: RenewalError,
        duration_ms: u64,
        channel: Channel,
        then: Then,
    ) {
        self.note(StatusNote::Failed {
            at_ms: self.now,
            duration_ms,
            error,
            channel,
            then,
        });
    }

    /// The same state with `session` in place of the one held (its refresh token dropped).
    fn replace_session(&mut self, session: Session) {
        self.keeper.auth = match &self.keeper.auth {
            AuthState::SignedIn(_) => AuthState::SignedIn(session),
            AuthState::Expired(_) => AuthState::Expired(session),
            other => other.clone(),
        };
        self.keeper.revision += 1;
    }

    /// The answer could not be trusted, or the grant is gone: the session ends here and in every tab.
    fn end_fatally(&mut self, error: &RenewalError) {
        let failure = AuthFailure::new(error.fatal_message(), error.to_string());
        let detail = failure.message.clone();
        self.end(AuthEvent::Failed(failure), detail, true);
    }

    /// A session from another tab: taken when newer than ours.
    fn tab_session(&mut self, session: Session) {
        if session.is_expired(self.now) {
            return;
        }
        if let Some(current) = self.keeper.auth.session() {
            if current.expires_at_ms >= session.expires_at_ms {
                return;
            }
        }
        // This tab's storage area may be its own (sessionStorage): keep the new session there too.
        self.out.push(Command::Store(session.clone()));
        self.new_session(session, "in another tab");
    }

    /// A session this tab did not renew itself: adopted from another tab when one is held (the same
    /// user), else a sign-in (`detail` says where).
    fn new_session(&mut self, session: Session, detail: &str) {
        if self.keeper.auth.session().is_some() {
            self.note(StatusNote::Adopted { at_ms: self.now });
            self.settle(session, AuthEvent::Renewed);
        } else {
            self.note(StatusNote::SignedIn {
                at_ms: self.now,
                detail: detail.to_owned(),
            });
            self.settle(session, AuthEvent::SignedIn);
        }
    }

    /// Holds `session` from now on: a clean slate for renewal, then the next decision.
    fn settle(&mut self, session: Session, event: fn(Session) -> AuthEvent) {
        self.keeper.retry_at = None;
        self.keeper.restoring_since = None;
        self.keeper.stale_waits = 0;
        self.record_span(&session);
        self.auth(event(session));
        if let AuthState::Failed(_) = self.keeper.auth {
            // Another user's session where ours was (the reducer refuses it): end it everywhere.
            let error = RenewalError::IdToken(IdTokenError::SubjectChanged);
            self.out.push(Command::Forget);
            self.out.push(Command::Broadcast(TabNote::SignedOut));
            self.note(StatusNote::SignedOut {
                at_ms: self.now,
                detail: error.fatal_message().to_owned(),
            });
            self.schedule(None, None);
            return;
        }
        self.decide();
    }

    /// Signs out with `event` (a [`AuthEvent::SignedOut`]); tells the other tabs when `broadcast`.
    fn sign_out(&mut self, event: AuthEvent, broadcast: bool) {
        let detail = match &event {
            AuthEvent::SignedOut(reason) => reason.message().to_owned(),
            _ => String::new(),
        };
        self.end(event, detail, broadcast);
    }

    fn end(&mut self, event: AuthEvent, detail: String, broadcast: bool) {
        self.cancel_renewal();
        self.keeper.retry_at = None;
        self.keeper.restoring_since = None;
        self.out.push(Command::Forget);
        if broadcast {
            self.out.push(Command::Broadcast(TabNote::SignedOut));
        }
        self.auth(event);
        self.note(StatusNote::SignedOut {
            at_ms: self.now,
            detail,
        });
        self.schedule(None, None);
    }

    fn cancel_renewal(&mut self) {
        if self.keeper.renewal != Renewal::Idle {
            self.keeper.renewal = Renewal::Idle;
            self.out.push(Command::ReleaseLock);
        }
    }

    /// Shows `next` as the next renewal, and asks to be woken at `wake`.
    fn schedule(&mut self, next: Option<u64>, wake: Option<u64>) {
        if self.keeper.status.next_at_ms != next {
            self.note(StatusNote::Scheduled(next));
        }
        self.set_timer(wake);
    }

    fn set_timer(&mut self, at: Option<u64>) {
        if self.keeper.timer != at {
            self.keeper.timer = at;
            self.out.push(Command::SetTimer(at));
        }
    }

    fn record_span(&mut self, session: &Session) {
        self.note(StatusNote::Session(TokenSpan {
            issued_at_ms: session.issued_at_ms,
            expires_at_ms: session.expires_at_ms,
        }));
    }

    fn auth(&mut self, event: AuthEvent) {
        let next = reduce(&self.keeper.auth, event);
        if next != self.keeper.auth {
            self.keeper.auth = next;
            self.keeper.revision += 1;
        }
    }

    fn note(&mut self, note: StatusNote) {
        self.keeper.revision += 1;
        if let Some(entry) = self.keeper.status.note(note) {
            self.out.push(Command::Notify(entry));
        }
    }

    fn random(&mut self) -> f64 {
        self.keeper.next_random()
    }
}

/// Whether a session is due for renewal at `now_ms` by this tab's schedule.
fn is_due(session: &Session, now_ms: u64, jitter: f64) -> bool {
    now_ms
        >= renew_at(
            session.issued_at_ms,
            session.expires_at_ms,
            DEFAULT_LEAD_MS,
            jitter,
        )
}

/// Spreads a seed over all 64 bits, never zero (xorshift's one fixed point).
fn splitmix64(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    (z ^ (z >> 31)).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support;

    const T0: u64 = 1_700_000_000_000;
    const SEC: u64 = 1_000;
    const MIN: u64 = 60 * SEC;
    /// Lifetime of the test sessions: an hour, so renewal is due at 60-65 s before expiry.
    const LIFE: u64 = 60 * MIN;

    fn session_for(sub: &str, token: &str, issued_at_ms: u64, lifetime_ms: u64) -> Session {
        let mut claims = test_support::claims((issued_at_ms / 1000) as i64);
        claims.sub = sub.into();
        Session::new(
            token.into(),
            "h.p.s".into(),
            Some(lifetime_ms / 1000),
            None,
            claims,
            issued_at_ms,
        )
    }

    fn session(token: &str, issued_at_ms: u64) -> Session {
        session_for("demo", token, issued_at_ms, LIFE)
    }

    /// A keeper driven through a scripted time line, keeping every command it returned.
    struct Sim {
        keeper: Keeper,
        now: u64,
        /// The commands of the last step.
        out: Vec<Command>,
        /// Every command so far.
        all: Vec<Command>,
    }

    impl Sim {
        fn new(memory: bool) -> Sim {
            let storage = if memory {
                StorageKind::Memory
            } else {
                StorageKind::Local
            };
            Sim::with(AuthConfig::new("http://localhost:4000", "oidc-renew-demo").storage(storage))
        }

        fn with(config: AuthConfig) -> Sim {
            Sim {
                keeper: Keeper::new(&config, 42),
                now: T0,
                out: Vec::new(),
                all: Vec::new(),
            }
        }

        /// Signed in with a fresh session at T0 (stored, restored at start-up).
        fn signed_in() -> Sim {
            let mut sim = Sim::new(false);
            sim.feed(Input::Loaded {
                stored: Ok(Some(session("at-0", T0))),
                signed_in_before: true,
                after_logout: None,
            });
            sim
        }

        fn feed(&mut self, input: Input) -> &[Command] {
            self.out = self.keeper.step(self.now, input);
            self.all.extend(self.out.iter().cloned());
            &self.out
        }

        fn at(&mut self, now: u64) -> &mut Sim {
            self.now = now;
            self
        }

        fn wake(&mut self, now: u64, wake: Wake) -> &[Command] {
            self.now = now;
            self.feed(Input::Wake(wake))
        }

        fn state(&self) -> &AuthState {
            self.keeper.state()
        }

        fn timer(&self) -> Option<u64> {
            self.keeper.timer
        }

        fn renew_id(&self) -> Option<u64> {
            self.out.iter().find_map(|command| match command {
                Command::Renew { id, .. } => Some(*id),
                _ => None,
            })
        }

        fn renew_request(&self) -> Option<&RenewalRequest> {
            self.out.iter().find_map(|command| match command {
                Command::Renew { request, .. } => Some(request),
                _ => None,
            })
        }

        fn has(&self, expected: &Command) -> bool {
            self.out.contains(expected)
        }

        /// Grants the lock (nothing newer stored) and returns the renewal's id.
        fn grant_lock(&mut self) -> u64 {
            assert!(
                self.has(&Command::AcquireLock),
                "no lock asked for: {:?}",
                self.out
            );
            self.feed(Input::LockAcquired {
                stored: None,
                newest: None,
            });
            self.renew_id()
                .unwrap_or_else(|| panic!("no renewal started: {:?}", self.out))
        }

        fn finish(&mut self, id: u64, result: Result<Session, RenewalError>) -> &[Command] {
            self.feed(Input::RenewalFinished { id, result })
        }

        fn log_kinds(&self) -> Vec<crate::status::LogKind> {
            self.keeper
                .status()
                .log
                .iter()
                .map(|entry| entry.kind)
                .collect()
        }
    }

    fn network() -> RenewalError {
        RenewalError::Network("offline".into())
    }

    fn login_required() -> RenewalError {
        RenewalError::Provider {
            error: "login_required".into(),
            description: None,
        }
    }

    /// Renewal time of a T0 session in the test keeper (its jitter is fixed by the seed).
    fn due_at(sim: &Sim) -> u64 {
        renew_at(T0, T0 + LIFE, DEFAULT_LEAD_MS, sim.keeper.jitter)
    }

    #[test]
    fn a_fresh_session_sleeps_until_it_is_due_then_renews_under_the_lock() {
        let mut sim = Sim::signed_in();
        let due = due_at(&sim);
        assert!(matches!(sim.state(), AuthState::SignedIn(_)));
        assert_eq!(sim.timer(), Some(due));
        assert!(T0 + LIFE - due >= DEFAULT_LEAD_MS && T0 + LIFE - due <= DEFAULT_LEAD_MS + 5 * SEC);
        // An early wake (focus, the periodic check) only sleeps again.
        assert_eq!(sim.wake(due - 1, Wake::Other), &[]);
        assert_eq!(sim.wake(due, Wake::Timer), &[Command::AcquireLock]);
        let id = sim.grant_lock();
        assert_eq!(
            sim.out,
            [
                Command::Notify(sim.keeper.status().log.back().unwrap().clone()),
                Command::Renew {
                    id,
                    request: RenewalRequest::Iframe {
                        expected_sub: Some("demo".into())
                    }
                }
            ]
        );
        let renewed = session("at-1", sim.now);
        sim.at(due + 40).finish(id, Ok(renewed.clone()));
        // Stored before the lock is released; then the other tabs hear of it.
        let order: Vec<_> = sim
            .out
            .iter()
            .filter(|c| !matches!(c, Command::Notify(_)))
            .cloned()
            .collect();
        assert_eq!(
            order,
            [
                Command::Store(renewed.clone()),
                Command::Broadcast(TabNote::Session(renewed.clone())),
                Command::ReleaseLock,
                Command::SetTimer(Some(renew_at(
                    due,
                    due + LIFE,
                    DEFAULT_LEAD_MS,
                    sim.keeper.jitter
                ))),
            ]
        );
        assert_eq!(sim.state(), &AuthState::SignedIn(renewed));
        let status = sim.keeper.status();
        assert_eq!((status.renewals, status.in_flight), (1, false));
        assert_eq!(status.last.as_ref().map(|l| l.duration_ms), Some(40));
    }

    #[test]
    fn jitter_spreads_tabs_and_stays_within_five_seconds() {
        let dues: Vec<u64> = (1..50)
            .map(|seed| {
                let keeper = Keeper::new(&AuthConfig::new("https://id.example.com", "c"), seed);
                renew_at(T0, T0 + LIFE, DEFAULT_LEAD_MS, keeper.jitter)
            })
            .collect();
        assert!(dues
            .iter()
            .all(|due| T0 + LIFE - due <= DEFAULT_LEAD_MS + 5 * SEC));
        let distinct: std::collections::BTreeSet<_> = dues.iter().collect();
        assert!(distinct.len() > 40, "{dues:?}");
    }

    #[test]
    fn a_sleep_past_expiry_is_never_shown_as_signed_in_and_retries_follow_the_backoff_offline() {
        let mut sim = Sim::signed_in();
        // The laptop wakes two hours later, offline.
        let wake = T0 + 2 * LIFE;
        sim.wake(wake, Wake::Other);
        assert!(
            matches!(sim.state(), AuthState::Expired(_)),
            "restoring, not signed in: {:?}",
            sim.state()
        );
        assert_eq!(sim.state().access_token(), None);
        let mut attempts = vec![sim.now];
        let mut id = sim.grant_lock();
        // Offline for two minutes: every attempt fails; wake-ups come often (periodic, focus).
        while sim.now < wake + 2 * MIN {
            sim.at(sim.now + 50).finish(id, Err(network()));
            assert!(matches!(sim.state(), AuthState::Expired(_)));
            let retry = sim.keeper.retry_at.expect("a retry is scheduled");
            assert_eq!(sim.timer(), Some(retry));
            // Wake-ups before the retry do nothing.
            let mut t = sim.now;
            while t + 700 < retry {
                t += 700;
                assert_eq!(sim.wake(t, Wake::Other), &[], "woken at {t} before {retry}");
            }
            sim.wake(retry, Wake::Timer);
            attempts.push(sim.now);
            id = sim.grant_lock();
        }
        // 2 s, 4 s, 8 s ... (each between half and all of its step): few attempts, growing gaps.
        let gaps: Vec<u64> = attempts.windows(2).map(|w| w[1] - w[0]).collect();
        assert!(attempts.len() <= 8, "{} attempts: {gaps:?}", attempts.len());
        for (n, gap) in gaps.iter().enumerate() {
            let step = ((2 * SEC) << n).min(60 * SEC);
            assert!(
                *gap >= step / 2 && *gap <= step + 100,
                "gap {n}: {gap} ({gaps:?})"
            );
        }
        // The network comes back: the renewal succeeds, signed in again.
        let back = session("at-2", sim.now);
        sim.at(sim.now + 30).finish(id, Ok(back.clone()));
        assert_eq!(sim.state(), &AuthState::SignedIn(back));
        assert_eq!(sim.keeper.status().failures_in_row, 0);
    }

    #[test]
    fn back_online_retries_at_once() {
        let mut sim = Sim::signed_in();
        sim.wake(T0 + LIFE + MIN, Wake::Other);
        let id = sim.grant_lock();
        sim.at(sim.now + 10).finish(id, Err(network()));
        sim.at(sim.now + 10).finish(id, Err(network()));
        let retry = sim.keeper.retry_at.unwrap();
        assert!(retry > sim.now + SEC);
        assert_eq!(
            sim.wake(sim.now + 100, Wake::Online),
            &[Command::AcquireLock]
        );

        // The retry of a "Renew now" that failed long before the session is due runs too.
        let mut sim = Sim::signed_in();
        sim.at(T0 + MIN).feed(Input::RenewNow);
        let id = sim.grant_lock();
        sim.at(T0 + MIN + 10).finish(id, Err(network()));
        assert!(sim.keeper.retry_at.is_some());
        assert!(sim
            .wake(T0 + MIN + 500, Wake::Online)
            .contains(&Command::AcquireLock));
        sim.grant_lock();
    }

    #[test]
    fn restoring_gives_up_after_its_patience_with_the_reason() {
        let mut sim = Sim::signed_in();
        sim.wake(T0 + 2 * LIFE, Wake::Other);
        let since = sim.now;
        let mut id = sim.grant_lock();
        loop {
            sim.at(sim.now + 10).finish(id, Err(network()));
            let retry = sim.keeper.retry_at.unwrap();
            sim.wake(retry, Wake::Timer);
            if !sim.has(&Command::AcquireLock) {
                break;
            }
            id = sim.grant_lock();
        }
        assert!(sim.now - since >= RESTORE_PATIENCE_MS);
        assert_eq!(
            sim.state(),
            &AuthState::SignedOut {
                reason: Some(SignOutReason::SessionExpired)
            }
        );
        assert!(sim.has(&Command::Forget));
        assert_eq!(
            sim.log_kinds().last(),
            Some(&crate::status::LogKind::SignedOut)
        );
    }

    #[test]
    fn a_transient_failure_retries_with_backoff_but_never_after_expiry() {
        let mut sim = Sim::signed_in();
        let due = due_at(&sim);
        sim.wake(due, Wake::Timer);
        let id = sim.grant_lock();
        sim.at(due + 100).finish(id, Err(RenewalError::Timeout));
        assert!(
            matches!(sim.state(), AuthState::SignedIn(_)),
            "still signed in before expiry"
        );
        let retry = sim.keeper.retry_at.unwrap();
        assert!(
            (due + 1_100..=due + 2_100).contains(&retry),
            "{}",
            retry - due
        );
        assert_eq!(sim.timer(), Some(retry));
        // A retry runs although the session is (still) due anyway; then succeeds.
        sim.wake(retry, Wake::Timer);
        let id = sim.grant_lock();
        sim.finish(id, Ok(session("at-1", sim.now)));
        assert_eq!(sim.keeper.status().failures_in_row, 0);
        assert_eq!(sim.keeper.retry_at, None);

        // Failing close to expiry: the next attempt is at expiry at the latest, where restoring
        // takes over.
        let mut sim = Sim::signed_in();
        let expires = T0 + LIFE;
        sim.wake(expires - 3 * SEC, Wake::Other);
        let mut id = sim.grant_lock();
        loop {
            sim.at(sim.now + 10).finish(id, Err(network()));
            assert!(matches!(sim.state(), AuthState::SignedIn(_)));
            let retry = sim.keeper.retry_at.unwrap();
            assert!(retry <= expires, "{}", retry - expires);
            sim.wake(retry, Wake::Timer);
            id = sim.grant_lock();
            if retry == expires {
                break;
            }
        }
        // At expiry: restoring (not signed in), and its attempt is running.
        assert!(matches!(sim.state(), AuthState::Expired(_)));
    }

    #[test]
    fn interaction_required_stops_renewal_and_the_session_ends_at_expiry() {
        let mut sim = Sim::signed_in();
        let due = due_at(&sim);
        sim.wake(due, Wake::Timer);
        let id = sim.grant_lock();
        sim.finish(id, Err(login_required()));
        assert!(
            matches!(sim.state(), AuthState::SignedIn(_)),
            "kept until it expires"
        );
        assert_eq!(sim.keeper.status().stopped, Some(login_required()));
        assert_eq!(sim.timer(), Some(T0 + LIFE));
        // No more renewals: wake-ups before expiry do nothing.
        assert_eq!(sim.wake(T0 + LIFE - 1, Wake::Online), &[]);
        sim.wake(T0 + LIFE, Wake::Timer);
        assert_eq!(
            sim.state(),
            &AuthState::SignedOut {
                reason: Some(SignOutReason::SessionExpired)
            }
        );
        assert!(sim.has(&Command::Forget));
        let entry = sim.keeper.status().log.back().unwrap();
        assert_eq!(entry.kind, crate::status::LogKind::SignedOut);
        assert!(
            sim.has(&Command::Notify(entry.clone())),
            "app code hears of it"
        );
    }

    #[test]
    fn a_fatal_failure_ends_the_session_in_every_tab() {
        for error in [
            RenewalError::IdToken(IdTokenError::BadSignature),
            RenewalError::Callback(crate::callback::CallbackError::StateMismatch),
        ] {
            let mut sim = Sim::signed_in();
            sim.wake(due_at(&sim), Wake::Timer);
            let id = sim.grant_lock();
            sim.finish(id, Err(error.clone()));
            assert!(matches!(sim.state(), AuthState::Failed(_)), "{error:?}");
            for command in [
                Command::ReleaseLock,
                Command::Forget,
                Command::Broadcast(TabNote::SignedOut),
            ] {
                assert!(
                    sim.has(&command),
                    "{command:?} after {error:?}: {:?}",
                    sim.out
                );
            }
            assert_eq!(sim.timer(), None);
            assert_eq!(
                sim.log_kinds().last(),
                Some(&crate::status::LogKind::SignedOut)
            );
        }
    }

    #[test]
    fn renew_now_runs_even_when_not_due_and_a_retry_of_it_too() {
        let mut sim = Sim::signed_in();
        sim.at(T0 + MIN);
        assert_eq!(sim.feed(Input::RenewNow), &[Command::AcquireLock]);
        let id = sim.grant_lock();
        sim.at(T0 + MIN + 10).finish(id, Err(RenewalError::Timeout));
        let retry = sim.keeper.retry_at.unwrap();
        assert!(retry < T0 + 2 * MIN);
        // The retry runs though the session is far from due (it once spun forever instead).
        sim.wake(retry, Wake::Timer);
        let id = sim.grant_lock();
        sim.finish(id, Ok(session("at-1", sim.now)));
        assert_eq!(sim.keeper.status().renewals, 1);
        // Not signed in: nothing.
        let mut out = Sim::new(false);
        out.feed(Input::Loaded {
            stored: Ok(None),
            signed_in_before: false,
            after_logout: None,
        });
        assert_eq!(out.feed(Input::RenewNow), &[]);
    }

    #[test]
    fn an_unforced_renewal_that_finds_the_session_fresh_under_the_lock_stands_down() {
        let mut sim = Sim::signed_in();
        let due = due_at(&sim);
        sim.wake(due, Wake::Timer);
        // Another tab's renewal arrived by message while this one waited for the lock.
        let newer = session("at-tab", due);
        sim.feed(Input::FromTab(TabNote::Session(newer.clone())));
        assert_eq!(sim.state(), &AuthState::SignedIn(newer));
        sim.feed(Input::LockAcquired {
            stored: None,
            newest: None,
        });
        assert!(sim.has(&Command::ReleaseLock));
        assert_eq!(sim.renew_id(), None);
    }

    #[test]
    fn another_tabs_renewal_is_adopted_under_the_lock_instead_of_renewing_again() {
        let mut sim = Sim::signed_in();
        let due = due_at(&sim);
        sim.wake(due, Wake::Timer);
        let stored = session("at-tab", due - 1_000);
        sim.feed(Input::LockAcquired {
            stored: Some(stored.clone()),
            newest: None,
        });
        assert_eq!(sim.renew_id(), None);
        assert!(sim.has(&Command::ReleaseLock));
        assert!(!sim
            .out
            .iter()
            .any(|c| matches!(c, Command::Store(_) | Command::Broadcast(_))));
        assert_eq!(sim.state(), &AuthState::SignedIn(stored));
        assert_eq!(
            sim.log_kinds().last(),
            Some(&crate::status::LogKind::Adopted)
        );
        // An older or equal stored session is not adopted: renew.
        let mut sim = Sim::signed_in();
        sim.wake(due_at(&sim), Wake::Timer);
        sim.feed(Input::LockAcquired {
            stored: Some(session("at-0", T0)),
            newest: None,
        });
        assert!(sim.renew_id().is_some());
    }

    #[test]
    fn sessions_from_other_tabs() {
        let mut sim = Sim::new(false);
        sim.feed(Input::Loaded {
            stored: Ok(None),
            signed_in_before: false,
            after_logout: None,
        });
        // Signed in in another tab: signed in here too, stored in this tab's area.
        let theirs = session("at-tab", T0);
        sim.feed(Input::FromTab(TabNote::Session(theirs.clone())));
        assert_eq!(sim.state(), &AuthState::SignedIn(theirs.clone()));
        assert!(sim.has(&Command::Store(theirs.clone())));
        assert_eq!(sim.log_kinds(), [crate::status::LogKind::SignedIn]);
        // An older one, or an expired one, is ignored.
        assert_eq!(
            sim.feed(Input::FromTab(TabNote::Session(session("old", T0 - SEC)))),
            &[]
        );
        sim.at(T0 + 3 * LIFE);
        assert_eq!(
            sim.feed(Input::FromTab(TabNote::Session(session("late", T0 + SEC)))),
            &[]
        );
    }

    #[test]
    fn logout_in_another_tab_signs_out_here_and_stops_renewal() {
        let mut sim = Sim::signed_in();
        sim.wake(due_at(&sim), Wake::Timer);
        let id = sim.grant_lock();
        sim.feed(Input::FromTab(TabNote::SignedOut));
        assert_eq!(
            sim.state(),
            &AuthState::SignedOut {
                reason: Some(SignOutReason::OtherTab)
            }
        );
        for command in [Command::ReleaseLock, Command::Forget] {
            assert!(sim.has(&command), "{command:?}: {:?}", sim.out);
        }
        assert_eq!(sim.timer(), None);
        assert!(!sim.has(&Command::Broadcast(TabNote::SignedOut)), "no echo");
        // The renewal that was running finishes later: it must not sign the user back in.
        sim.finish(id, Ok(session("at-1", sim.now)));
        assert!(sim.out.is_empty());
        assert!(matches!(sim.state(), AuthState::SignedOut { .. }));
    }

    #[test]
    fn logout_here() {
        let mut sim = Sim::signed_in();
        sim.feed(Input::LogoutRequested);
        assert_eq!(
            sim.state(),
            &AuthState::SignedOut {
                reason: Some(SignOutReason::UserLoggedOut)
            }
        );
        assert!(sim.has(&Command::Broadcast(TabNote::SignedOut)));
        assert!(sim.has(&Command::Logout {
            id_token_hint: Some("h.p.s".into()),
            refresh_token: None,
        }));
        assert_eq!(
            sim.log_kinds().last(),
            Some(&crate::status::LogKind::SignedOut)
        );
    }

    #[test]
    fn memory_storage_restores_by_one_silent_renewal_only_after_a_sign_in() {
        // Never signed in in this browser: no request to the provider.
        let mut sim = Sim::new(true);
        sim.feed(Input::Loaded {
            stored: Ok(None),
            signed_in_before: false,
            after_logout: None,
        });
        assert_eq!(sim.state(), &AuthState::SignedOut { reason: None });
        assert!(!sim.all.contains(&Command::AcquireLock));

        // Signed in before: restoring (Loading) until the silent renewal answers.
        let mut sim = Sim::new(true);
        sim.feed(Input::Loaded {
            stored: Ok(None),
            signed_in_before: true,
            after_logout: None,
        });
        assert_eq!(sim.state(), &AuthState::Loading);
        let id = sim.grant_lock();
        assert!(sim.has(&Command::Renew {
            id,
            request: RenewalRequest::Iframe { expected_sub: None }
        }));
        let restored = session("at-1", T0);
        sim.finish(id, Ok(restored.clone()));
        assert_eq!(sim.state(), &AuthState::SignedIn(restored));

        // The provider session is gone: signed out quietly, the marker forgotten.
        let mut sim = Sim::new(true);
        sim.feed(Input::Loaded {
            stored: Ok(None),
            signed_in_before: true,
            after_logout: None,
        });
        let id = sim.grant_lock();
        sim.finish(id, Err(login_required()));
        assert_eq!(sim.state(), &AuthState::SignedOut { reason: None });
        assert!(sim.has(&Command::Forget));
    }

    #[test]
    fn start_up() {
        // An expired stored session: restoring, not signed in.
        let mut sim = Sim::new(false);
        sim.at(T0 + 2 * LIFE).feed(Input::Loaded {
            stored: Ok(Some(session("at-0", T0))),
            signed_in_before: true,
            after_logout: None,
        });
        assert!(matches!(sim.state(), AuthState::Expired(_)));
        assert!(sim.has(&Command::AcquireLock));
        // A stored value that cannot be used: removed, signed out with the reason, logged.
        let mut sim = Sim::new(false);
        sim.feed(Input::Loaded {
            stored: Err(StoredSessionError::Corrupted),
            signed_in_before: true,
            after_logout: None,
        });
        assert_eq!(
            sim.state(),
            &AuthState::SignedOut {
                reason: Some(SignOutReason::StoredSessionInvalid)
            }
        );
        assert!(sim.has(&Command::Forget));
        let entry = sim.keeper.status().log.back().unwrap();
        assert!(entry.detail.contains("not readable"), "{entry:?}");
        assert!(sim.has(&Command::Notify(entry.clone())));
    }

    #[test]
    fn back_from_a_logout_no_silent_restore_runs_and_the_page_says_how_it_went() {
        for reason in [
            SignOutReason::UserLoggedOut,
            SignOutReason::ProviderLogoutUnconfirmed,
        ] {
            let mut sim = Sim::new(true);
            sim.feed(Input::Loaded {
                stored: Ok(None),
                signed_in_before: true,
                after_logout: Some(reason),
            });
            assert_eq!(
                sim.state(),
                &AuthState::SignedOut {
                    reason: Some(reason)
                }
            );
            assert!(!sim.all.contains(&Command::AcquireLock), "{reason:?}");
            assert_eq!(sim.log_kinds(), [crate::status::LogKind::SignedOut]);
        }
    }

    #[test]
    fn the_sign_in_callback() {
        let mut sim = Sim::new(true);
        assert_eq!(sim.feed(Input::CallbackDetected), &[Command::CompleteLogin]);
        assert!(sim.keeper.completing_sign_in());
        assert_eq!(sim.state(), &AuthState::SigningIn);
        let new = session("at-1", T0);
        sim.feed(Input::LoginCompleted {
            session: new.clone(),
            return_to: "/profile".into(),
        });
        assert!(!sim.keeper.completing_sign_in());
        assert_eq!(sim.state(), &AuthState::SignedIn(new.clone()));
        for command in [
            Command::ReturnTo("/profile".into()),
            Command::Store(new.clone()),
            Command::Broadcast(TabNote::Session(new.clone())),
        ] {
            assert!(sim.has(&command), "{command:?}");
        }
        // Memory storage: no restore attempt on the callback, no renewal beside the code exchange.
        assert!(!sim.all.contains(&Command::AcquireLock));
        let entry = sim.keeper.status().log.back().unwrap();
        assert_eq!(
            (entry.kind, entry.detail.as_str()),
            (crate::status::LogKind::SignedIn, "in this tab")
        );

        let mut sim = Sim::new(false);
        sim.feed(Input::CallbackDetected);
        let failure = AuthFailure::new("Sign-in failed.", "test");
        sim.feed(Input::LoginFailed(failure.clone()));
        assert_eq!(sim.state(), &AuthState::Failed(failure));
        assert!(sim.has(&Command::ReturnTo("/".into())));
        assert!(!sim.keeper.completing_sign_in());
    }

    #[test]
    fn a_renewal_naming_another_user_ends_the_session() {
        let mut sim = Sim::signed_in();
        sim.wake(due_at(&sim), Wake::Timer);
        let id = sim.grant_lock();
        sim.finish(id, Ok(session_for("mallory", "at-x", sim.now, LIFE)));
        assert!(matches!(sim.state(), AuthState::Failed(_)));
        assert!(sim.has(&Command::Forget) && sim.has(&Command::Broadcast(TabNote::SignedOut)));
    }

    #[test]
    fn tab_messages_round_trip_and_refuse_strangers() {
        let owner = SessionOwner {
            issuer: "http://localhost:4000",
            client_id: "oidc-renew-demo",
            audience: None,
        };
        let ours = session("at-1", T0);
        for note in [TabNote::Session(ours.clone()), TabNote::SignedOut] {
            assert_eq!(TabNote::decode(&note.encode(), T0, &owner), Some(note));
        }
        let other = SessionOwner {
            issuer: "https://evil.example",
            ..owner
        };
        assert_eq!(
            TabNote::decode(&TabNote::Session(ours).encode(), T0, &other),
            None
        );
        for text in [
            "",
            "null",
            "{}",
            r#"{"session":{"session":"{}"}}"#,
            r#"{"session":"{}"}"#,
            r#""x""#,
            r#"{"kind":"signed_out"}"#,
            r#"{"signed_out":null}"#,
            r#"["signed_out"]"#,
        ] {
            assert_eq!(TabNote::decode(text, T0, &owner), None, "{text}");
        }
        // Our message with a member more is not ours.
        let mut wire: Value =
            serde_json::from_str(&TabNote::Session(session("at-1", T0)).encode()).unwrap();
        wire["extra"] = Value::Bool(true);
        let text = wire.to_string();
        assert_eq!(TabNote::decode(&text, T0, &owner), None, "{text}");
    }

    #[test]
    fn a_lock_that_comes_after_logout_is_released_at_once() {
        let mut sim = Sim::signed_in();
        sim.wake(due_at(&sim), Wake::Timer);
        sim.feed(Input::LogoutRequested);
        assert_eq!(
            sim.feed(Input::LockAcquired {
                stored: None,
                newest: None
            }),
            &[Command::ReleaseLock]
        );
    }

    // ---- the refresh-token channel ----

    fn with_rt(token: &str, rt: &str, issued_at_ms: u64) -> Session {
        session(token, issued_at_ms).with_refresh_token(Some(rt.into()))
    }

    /// Signed in with a refresh token, renewal `mode`, local storage.
    fn signed_in_with_rt(mode: RenewalMode) -> Sim {
        let mut sim =
            Sim::with(AuthConfig::new("http://localhost:4000", "oidc-renew-demo").renewal(mode));
        sim.feed(Input::Loaded {
            stored: Ok(Some(with_rt("at-0", "rt-0", T0))),
            signed_in_before: true,
            after_logout: None,
        });
        sim
    }

    fn refused() -> RenewalError {
        RenewalError::RefreshTokenRefused(crate::token::TokenError::Provider {
            error: "invalid_grant".into(),
            description: None,
        })
    }

    fn refresh_of(sim: &Sim) -> Option<String> {
        match sim.renew_request() {
            Some(RenewalRequest::Refresh { session }) => session
                .refresh_token
                .as_ref()
                .map(|rt| rt.expose().to_owned()),
            _ => None,
        }
    }

    #[test]
    fn the_channel_by_mode_and_refresh_token() {
        for (mode, has_rt, expected) in [
            (RenewalMode::Auto, true, Some(Channel::RefreshToken)),
            (RenewalMode::Auto, false, Some(Channel::Iframe)),
            (RenewalMode::RefreshToken, true, Some(Channel::RefreshToken)),
            (RenewalMode::RefreshToken, false, None),
            (RenewalMode::Iframe, true, Some(Channel::Iframe)),
            (RenewalMode::Iframe, false, Some(Channel::Iframe)),
        ] {
            let mut sim = Sim::with(
                AuthConfig::new("http://localhost:4000", "oidc-renew-demo").renewal(mode),
            );
            let held = if has_rt {
                with_rt("at-0", "rt-0", T0)
            } else {
                session("at-0", T0)
            };
            sim.feed(Input::Loaded {
                stored: Ok(Some(held)),
                signed_in_before: true,
                after_logout: None,
            });
            sim.wake(due_at(&sim), Wake::Timer);
            sim.feed(Input::LockAcquired {
                stored: None,
                newest: None,
            });
            let channel = sim.renew_request().map(RenewalRequest::channel);
            assert_eq!(channel, expected, "{mode:?} with a refresh token: {has_rt}");
            if expected.is_none() {
                // Nothing to renew with: stopped, the banner asks to sign in; the session stays.
                assert_eq!(
                    sim.keeper.status().stopped,
                    Some(RenewalError::NoRefreshToken)
                );
                assert!(matches!(sim.state(), AuthState::SignedIn(_)));
            }
        }
    }

    #[test]
    fn a_refresh_rotates_the_token_and_announces_it_before_the_lock_is_released() {
        let mut sim = signed_in_with_rt(RenewalMode::Auto);
        sim.wake(due_at(&sim), Wake::Timer);
        let id = sim.grant_lock();
        assert_eq!(refresh_of(&sim).as_deref(), Some("rt-0"));
        let renewed = with_rt("at-1", "rt-1", sim.now);
        sim.finish(id, Ok(renewed.clone()));
        let effects: Vec<_> = sim
            .out
            .iter()
            .filter(|c| {
                matches!(
                    c,
                    Command::Store(_) | Command::Broadcast(_) | Command::ReleaseLock
                )
            })
            .cloned()
            .collect();
        assert_eq!(
            effects,
            [
                Command::Store(renewed.clone()),
                Command::Broadcast(TabNote::Session(renewed.clone())),
                Command::ReleaseLock
            ]
        );
        let last = sim.keeper.status().last.clone().unwrap();
        assert_eq!(last.channel, Channel::RefreshToken);
        assert!(sim
            .keeper
            .status()
            .log
            .back()
            .unwrap()
            .detail
            .ends_with("by refresh token"));
        // The next renewal sends the new token, never the old one.
        sim.wake(
            renew_at(sim.now, sim.now + LIFE, DEFAULT_LEAD_MS, sim.keeper.jitter),
            Wake::Timer,
        );
        sim.grant_lock();
        assert_eq!(refresh_of(&sim).as_deref(), Some("rt-1"));
    }

    #[test]
    fn a_refused_refresh_token_is_dropped_and_auto_falls_back_to_the_iframe_once() {
        let mut sim = signed_in_with_rt(RenewalMode::Auto);
        sim.wake(due_at(&sim), Wake::Timer);
        let id = sim.grant_lock();
        sim.finish(id, Err(refused()));
        // Dropped here and in storage; the iframe is asked for at once, without backoff.
        let dropped = session("at-0", T0);
        assert!(sim.has(&Command::Store(dropped.clone())), "{:?}", sim.out);
        assert_eq!(sim.state(), &AuthState::SignedIn(dropped));
        assert!(sim.has(&Command::AcquireLock));
        assert_eq!(sim.keeper.status().stopped, None);
        let entry = sim.keeper.status().log.back().unwrap();
        assert!(
            entry.detail.contains("renewing in the iframe instead"),
            "{entry:?}"
        );
        let id = sim.grant_lock();
        assert_eq!(
            sim.renew_request().map(RenewalRequest::channel),
            Some(Channel::Iframe)
        );
        // The iframe needs the user too: stopped, no more attempts by either channel.
        sim.finish(id, Err(login_required()));
        assert_eq!(sim.keeper.status().stopped, Some(login_required()));
        assert_eq!(sim.wake(T0 + LIFE - 1, Wake::Online), &[]);
    }

    #[test]
    fn a_lost_dpop_key_drops_its_refresh_token_and_auto_renews_in_the_iframe() {
        // The refresh token is bound to a key this browser no longer holds: as good as refused.
        let mut sim = signed_in_with_rt(RenewalMode::Auto);
        sim.wake(due_at(&sim), Wake::Timer);
        let id = sim.grant_lock();
        sim.finish(id, Err(RenewalError::DpopKeyMissing));
        let dropped = session("at-0", T0);
        assert!(sim.has(&Command::Store(dropped.clone())), "{:?}", sim.out);
        assert!(sim.has(&Command::AcquireLock));
        sim.grant_lock();
        assert_eq!(
            sim.renew_request().map(RenewalRequest::channel),
            Some(Channel::Iframe)
        );
        // With refresh tokens only, renewal stops and the session ends at expiry.
        let mut sim = signed_in_with_rt(RenewalMode::RefreshToken);
        sim.wake(due_at(&sim), Wake::Timer);
        let id = sim.grant_lock();
        sim.finish(id, Err(RenewalError::DpopKeyMissing));
        assert_eq!(
            sim.keeper.status().stopped,
            Some(RenewalError::DpopKeyMissing)
        );
        assert!(!sim.has(&Command::AcquireLock));
    }

    #[test]
    fn refresh_tokens_only_stop_when_refused_and_never_touch_the_iframe() {
        let mut sim = signed_in_with_rt(RenewalMode::RefreshToken);
        sim.wake(due_at(&sim), Wake::Timer);
        let id = sim.grant_lock();
        sim.finish(id, Err(refused()));
        assert_eq!(sim.keeper.status().stopped, Some(refused()));
        assert!(!sim.has(&Command::AcquireLock));
        assert!(matches!(sim.state(), AuthState::SignedIn(s) if s.refresh_token.is_none()));
        // Memory storage with refresh tokens only: a reload cannot restore (nothing to refresh with).
        let mut sim = Sim::with(
            AuthConfig::new("http://localhost:4000", "oidc-renew-demo")
                .storage(StorageKind::Memory)
                .renewal(RenewalMode::RefreshToken),
        );
        sim.feed(Input::Loaded {
            stored: Ok(None),
            signed_in_before: true,
            after_logout: None,
        });
        sim.feed(Input::LockAcquired {
            stored: None,
            newest: None,
        });
        assert_eq!(sim.state(), &AuthState::SignedOut { reason: None });
        assert!(!sim.all.iter().any(|c| matches!(c, Command::Renew { .. })));
    }

    #[test]
    fn a_transient_refresh_failure_retries_by_refresh_token() {
        let mut sim = signed_in_with_rt(RenewalMode::Auto);
        sim.wake(due_at(&sim), Wake::Timer);
        let id = sim.grant_lock();
        sim.finish(id, Err(RenewalError::Network("offline".into())));
        assert_eq!(sim.keeper.status().failures_in_row, 1);
        let retry = sim.keeper.retry_at.unwrap();
        sim.wake(retry, Wake::Timer);
        sim.grant_lock();
        assert_eq!(refresh_of(&sim).as_deref(), Some("rt-0"));
    }

    #[test]
    fn a_refresh_token_is_never_sent_by_two_tabs() {
        // Shared storage: the other tab's renewal is stored before the lock comes here; it is adopted
        // (with its refresh token) even when it is due too, and renewal goes on with that one.
        let mut sim = signed_in_with_rt(RenewalMode::Auto);
        // Late (a throttled tab): the other tab's session, 10 ms younger, is due by now too.
        sim.wake(due_at(&sim) + 1_000, Wake::Timer);
        let theirs = with_rt("at-tab", "rt-tab", T0 + 10);
        sim.feed(Input::LockAcquired {
            stored: Some(theirs.clone()),
            newest: Some(T0 + 10),
        });
        assert_eq!(sim.renew_request(), None, "rt-0 was spent by the other tab");
        assert_eq!(sim.state(), &AuthState::SignedIn(theirs));
        assert!(
            sim.has(&Command::AcquireLock),
            "still due: renews again, with rt-tab"
        );
        sim.feed(Input::LockAcquired {
            stored: None,
            newest: Some(T0 + 10),
        });
        assert_eq!(refresh_of(&sim).as_deref(), Some("rt-tab"));

        // Per-tab storage: another tab stored a newer session this tab has not heard of yet. Auto
        // renews in the iframe instead of sending the spent token.
        let mut sim = signed_in_with_rt(RenewalMode::Auto);
        sim.wake(due_at(&sim), Wake::Timer);
        sim.feed(Input::LockAcquired {
            stored: None,
            newest: Some(T0 + 10),
        });
        assert_eq!(
            sim.renew_request().map(RenewalRequest::channel),
            Some(Channel::Iframe)
        );
        // Refresh tokens only: wait for the other tab's session (it is on its way)...
        let mut sim = signed_in_with_rt(RenewalMode::RefreshToken);
        sim.wake(due_at(&sim), Wake::Timer);
        sim.feed(Input::LockAcquired {
            stored: None,
            newest: Some(T0 + 10),
        });
        assert_eq!(sim.renew_request(), None);
        assert!(sim.has(&Command::ReleaseLock));
        // ...which arrives: adopted, nothing was sent twice.
        let theirs = with_rt("at-tab", "rt-tab", T0 + 10);
        sim.feed(Input::FromTab(TabNote::Session(theirs.clone())));
        assert_eq!(sim.state(), &AuthState::SignedIn(theirs));
        // If it never arrives, renewal stops after a few tries rather than reuse the token.
        let mut sim = signed_in_with_rt(RenewalMode::RefreshToken);
        for _ in 0..=STALE_WAITS {
            sim.wake(sim.keeper.retry_at.unwrap_or(due_at(&sim)), Wake::Timer);
            sim.feed(Input::LockAcquired {
                stored: None,
                newest: Some(T0 + 10),
            });
            assert_eq!(sim.renew_request(), None);
        }
        assert!(sim.keeper.status().stopped.is_some());
        assert!(!sim.all.iter().any(|c| matches!(c, Command::Renew { .. })));
    }

    #[test]
    fn logout_hands_over_the_refresh_token_for_revocation() {
        let mut sim = signed_in_with_rt(RenewalMode::Auto);
        sim.feed(Input::LogoutRequested);
        let logout = sim.out.iter().find_map(|c| match c {
            Command::Logout { refresh_token, .. } => Some(refresh_token.clone()),
            _ => None,
        });
        assert_eq!(logout, Some(Some(RefreshToken::new("rt-0".into()))));
        assert!(sim.has(&Command::Forget));
    }
}
