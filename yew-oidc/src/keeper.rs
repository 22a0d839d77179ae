//! The session keeper: decides when to renew (pure [`schedule`](super::protocol::schedule) math on the
//! wall clock), runs each renewal through the [`IframeRenewer`] under a cross-tab lock, classifies
//! failures, and keeps the other tabs in step.
//!
//! Rendered by [`AuthProvider`](super::AuthProvider) next to the app. Everything it schedules (timers,
//! wake-up listeners, the tab channel, the iframe) is dropped when it unmounts, and a signed-out state
//! schedules nothing: signing out unschedules renewal.

use crate::browser::tabs::{with_exclusive_lock, Subscription, TabChannel};
use crate::browser::wake::{on_wake, WakeGuard, WakeReason};
use crate::browser::{clock, random};
use crate::client::AuthClient;
use crate::provider::{AuthContext, AuthStore, StatusStore};
use crate::renewer::{IframeRenewer, IgnoredMessage, SilentOutcome, SilentRequest};
use futures_channel::oneshot;
use gloo::timers::callback::Timeout;
use oidc_renew_core::config::StorageKind;
use oidc_renew_core::renewal::{RenewalClass, RenewalError};
use oidc_renew_core::schedule::{decide, next_retry_at, renew_at, Decision, DEFAULT_LEAD_MS};
use oidc_renew_core::session::Session;
use oidc_renew_core::state::{AuthEvent, AuthFailure, AuthState, SignOutReason};
use oidc_renew_core::status::StatusNote;
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use yew::prelude::*;

/// How often the wall clock is looked at anyway (timers stop while a laptop sleeps and are
/// throttled in background tabs).
const WAKE_PERIOD_MS: u32 = 30_000;
/// How long a tab waits for another tab's renewal to finish before trying itself.
const LOCK_WAIT_MS: u32 = 20_000;

/// What tabs tell each other.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum TabMessage {
    /// A new session (a sign-in or a renewal), as stored.
    Session { session: String },
    /// The user signed out.
    SignedOut,
}

/// Tells the other tabs that the user signed out (called by `logout` before it leaves the page).
pub(crate) fn announce_sign_out(client: &AuthClient) {
    if let Ok(channel) = TabChannel::open(client.namespace()) {
        let _ = channel.post(&encode(&TabMessage::SignedOut));
    }
}

fn encode(message: &TabMessage) -> String {
    serde_json::to_string(message).unwrap_or_default()
}

/// Where the mounted keeper registers its "renew now" entry point ([`AuthHandle::renew_now`](super::AuthHandle::renew_now)).
#[derive(Clone, Default)]
pub(crate) struct RenewTrigger(Rc<RefCell<Option<Callback<()>>>>);

impl PartialEq for RenewTrigger {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

impl RenewTrigger {
    /// Asks the keeper, if one is mounted, for one renewal now (the borrow ends before the call).
    pub(crate) fn fire(&self) {
        let callback = self.0.borrow().clone();
        if let Some(callback) = callback {
            callback.emit(());
        }
    }

    fn set(&self, callback: Option<Callback<()>>) {
        *self.0.borrow_mut() = callback;
    }
}

/// What a renewal run ended with.
enum Renewed {
    /// A new session from the provider, and how long it took.
    New(Session, u64),
    /// A newer session another tab stored while we waited for the lock.
    Adopted(Session),
    /// Nothing to do any more (another tab's session arrived by message meanwhile).
    Fresh,
}

/// The keeper's mutable state, shared by its callbacks.
struct Shared {
    /// The auth state of the last render (callbacks run later and need the current one).
    state: AuthState,
    timer: Option<Timeout>,
    in_flight: bool,
    /// When the running (or last) renewal created its iframe.
    started_at: Option<u64>,
    /// A transient failure scheduled a retry at this time.
    retry_at: Option<u64>,
    failures_in_row: u32,
    /// The provider needs the user: no more renewals for this session.
    stopped: bool,
    /// The one silent attempt to restore an expired (or, in memory mode, missing) session was made.
    restore_tried: bool,
    /// The next renewal was asked for (`renew_now`): run it even if the session is not due.
    forced: bool,
    next_id: u64,
    waiters: HashMap<u64, oneshot::Sender<SilentOutcome>>,
    /// This tab's place in `[0, 1)`, spreading the tabs' renewal times.
    jitter: f64,
    channel: Option<TabChannel>,
    /// The access token last sent to or received from other tabs (not echoed back).
    shared_token: Option<String>,
    _subscription: Option<Subscription>,
    _wake: Option<WakeGuard>,
}

#[derive(Clone)]
struct Keeper {
    client: AuthClient,
    store: UseReducerHandle<AuthStore>,
    status: UseReducerHandle<StatusStore>,
    pending: UseStateHandle<Option<SilentRequest>>,
    shared: Rc<RefCell<Shared>>,
    trigger: RenewTrigger,
}

fn random_unit() -> f64 {
    random::random_bytes::<4>().map_or(0.5, |bytes| {
        f64::from(u32::from_le_bytes(bytes)) / 4_294_967_296.0
    })
}

impl Keeper {
    fn note(&self, note: StatusNote) {
        self.status.dispatch(note);
    }

    /// Looks at the wall clock and acts: schedules the next look, or renews.
    ///
    /// No `RefCell` borrow is held across a dispatch or a state setter: Yew may render at once,
    /// and the render borrows too.
    fn tick(&self) {
        let now = clock::now_ms();
        let (state, stopped, retry_at, jitter, restore_tried) = {
            let mut shared = self.shared.borrow_mut();
            shared.timer = None;
            if shared.in_flight {
                return;
            }
            (
                shared.state.clone(),
                shared.stopped,
                shared.retry_at,
                shared.jitter,
                shared.restore_tried,
            )
        };
        match state {
            // Memory storage keeps nothing across reloads: restore by one silent renewal.
            AuthState::Loading if self.client.config().storage == StorageKind::Memory => {
                if !restore_tried {
                    self.shared.borrow_mut().restore_tried = true;
                    self.renew(None);
                }
            }
            // The provider needs the user: nothing to schedule; the expiry watch ends the session.
            AuthState::SignedIn(_) if stopped => self.note(StatusNote::Scheduled(None)),
            AuthState::SignedIn(session) => {
                let target = retry_at.unwrap_or_else(|| {
                    renew_at(
                        session.issued_at_ms,
                        session.expires_at_ms,
                        DEFAULT_LEAD_MS,
                        jitter,
                    )
                });
                match decide(now, target, session.expires_at_ms) {
                    Decision::Wait { delay_ms } => {
                        let keeper = self.clone();
                        let timer = Timeout::new(delay_ms, move || keeper.tick());
                        self.shared.borrow_mut().timer = Some(timer);
                        self.note(StatusNote::Scheduled(Some(target)));
                    }
                    Decision::RenewNow | Decision::Expired => self.renew(Some(session.claims.sub)),
                }
            }
            // One silent attempt before showing signed-out, unless the provider already said it
            // needs the user.
            AuthState::Expired(_) if stopped || restore_tried => self.sign_out_expired(),
            AuthState::Expired(session) => {
                self.shared.borrow_mut().restore_tried = true;
                self.renew(Some(session.claims.sub));
            }
            _ => self.note(StatusNote::Scheduled(None)),
        }
    }

    fn sign_out_expired(&self) {
        self.client.forget_session();
        self.store
            .dispatch(AuthEvent::SignedOut(SignOutReason::SessionExpired));
        let detail = SignOutReason::SessionExpired.message().to_owned();
        self.note(StatusNote::SignedOut {
            at_ms: clock::now_ms(),
            detail,
        });
    }

    /// One renewal now, whatever the schedule says: nothing while one runs or when not signed in.
    fn renew_now(&self) {
        let sub = {
            let mut shared = self.shared.borrow_mut();
            let sub = match &shared.state {
                AuthState::SignedIn(session) if !shared.in_flight => session.claims.sub.clone(),
                _ => return,
            };
            shared.timer = None;
            shared.forced = true;
            sub
        };
        self.renew(Some(sub));
    }

    /// Runs one renewal in the background: single-flight across tabs, then [`Keeper::finish`].
    fn renew(&self, expected_sub: Option<String>) {
        self.shared.borrow_mut().in_flight = true;
        let keeper = self.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let lock = keeper.client.renewal_lock_name();
            let work = {
                let keeper = keeper.clone();
                async move { keeper.renew_locked(expected_sub).await }
            };
            let result = match with_exclusive_lock(&lock, LOCK_WAIT_MS, work).await {
                Ok(result) => result,
                Err(error) => Err(RenewalError::Browser(error.to_string())),
            };
            keeper.finish(result);
        });
    }

    async fn renew_locked(&self, expected_sub: Option<String>) -> Result<Renewed, RenewalError> {
        let now = clock::now_ms();
        let forced = {
            let mut shared = self.shared.borrow_mut();
            // A retry continues a renewal that already failed: it runs even when the session is
            // not due (the failed one may have been forced). Without this, a retry of a forced
            // renewal found the session fresh, and rescheduled itself at once, forever.
            std::mem::take(&mut shared.forced) || shared.retry_at.is_some()
        };
        let current = self.shared.borrow().state.session().cloned();
        // Another tab may have renewed while this one waited for the lock: take its session.
        if let (Some(current), Ok(Some(stored))) = (&current, self.client.restore()) {
            if stored.expires_at_ms > current.expires_at_ms && !is_due(&stored, now) {
                return Ok(Renewed::Adopted(stored));
            }
        }
        if !forced
            && matches!(self.shared.borrow().state, AuthState::SignedIn(ref session) if !is_due(session, now))
        {
            return Ok(Renewed::Fresh);
        }
        let id = {
            let mut shared = self.shared.borrow_mut();
            shared.next_id += 1;
            shared.next_id
        };
        let pending = self.client.begin_renewal(id).await?;
        self.shared.borrow_mut().started_at = Some(pending.started_at_ms);
        self.note(StatusNote::Started {
            at_ms: pending.started_at_ms,
        });
        let (sender, receiver) = oneshot::channel();
        self.shared.borrow_mut().waiters.insert(id, sender);
        self.pending.set(Some(pending.request.clone()));
        // A dropped sender means the renewer went away (unmount): as good as no answer.
        let outcome = receiver.await.unwrap_or(SilentOutcome::Timeout);
        self.pending.set(None);
        let session = self
            .client
            .finish_renewal(&pending, outcome, expected_sub.as_deref())
            .await?;
        let duration = clock::now_ms().saturating_sub(pending.started_at_ms);
        Ok(Renewed::New(session, duration))
    }

    fn finish(&self, result: Result<Renewed, RenewalError>) {
        let now = clock::now_ms();
        let restoring = {
            let mut shared = self.shared.borrow_mut();
            shared.in_flight = false;
            matches!(shared.state, AuthState::Loading | AuthState::Expired(_))
        };
        match result {
            Ok(Renewed::New(session, duration_ms)) => {
                self.reset_failures();
                self.note(StatusNote::Succeeded {
                    at_ms: now,
                    duration_ms,
                });
                self.share(&session);
                self.store.dispatch(AuthEvent::Renewed(session));
            }
            Ok(Renewed::Adopted(session)) => {
                self.reset_failures();
                self.shared.borrow_mut().shared_token = Some(session.access_token.clone());
                self.note(StatusNote::Adopted { at_ms: now });
                self.store.dispatch(AuthEvent::Renewed(session));
            }
            Ok(Renewed::Fresh) => self.tick(),
            Err(error) => self.failed(error, now, restoring),
        }
    }

    fn reset_failures(&self) {
        let mut shared = self.shared.borrow_mut();
        shared.retry_at = None;
        shared.failures_in_row = 0;
        shared.stopped = false;
    }

    fn failed(&self, error: RenewalError, now: u64, restoring: bool) {
        let class = error.class();
        let started = self.shared.borrow().started_at.unwrap_or(now);
        self.note(StatusNote::Failed {
            at_ms: now,
            duration_ms: now.saturating_sub(started),
            error: error.clone(),
        });
        if restoring {
            // The one attempt to restore a session failed: the visitor is signed out.
            self.client.forget_session();
            let reason = match self.shared.borrow().state {
                AuthState::Expired(_) => Some(SignOutReason::SessionExpired),
                _ => None,
            };
            self.store.dispatch(match reason {
                Some(reason) => AuthEvent::SignedOut(reason),
                None => AuthEvent::Restored(None),
            });
            return;
        }
        match class {
            RenewalClass::InteractionRequired => self.shared.borrow_mut().stopped = true,
            RenewalClass::Transient => {
                let mut shared = self.shared.borrow_mut();
                shared.failures_in_row += 1;
                let expires = shared
                    .state
                    .session()
                    .map_or(now, |session| session.expires_at_ms);
                shared.retry_at =
                    next_retry_at(now, shared.failures_in_row, expires, random_unit());
            }
            RenewalClass::Fatal => {
                // The answer cannot be trusted, or the grant is gone: end the session everywhere.
                self.client.forget_session();
                announce_sign_out(&self.client);
                self.store.dispatch(AuthEvent::Failed(AuthFailure::new(
                    error.fatal_message(),
                    error.to_string(),
                )));
                return;
            }
        }
        self.tick();
    }

    /// Sends a new session to the other tabs, once.
    fn share(&self, session: &Session) {
        let mut shared = self.shared.borrow_mut();
        if shared.shared_token.as_deref() == Some(session.access_token.as_str()) {
            return;
        }
        shared.shared_token = Some(session.access_token.clone());
        if let Some(channel) = &shared.channel {
            let _ = channel.post(&encode(&TabMessage::Session {
                session: session.to_stored(),
            }));
        }
    }

    /// A message from another tab.
    fn on_tab_message(&self, text: String) {
        let Ok(message) = serde_json::from_str::<TabMessage>(&text) else {
            return;
        };
        let now = clock::now_ms();
        let state = self.shared.borrow().state.clone();
        match message {
            TabMessage::Session { session } => {
                let Ok(session) = Session::from_stored(&session, now, &self.client.session_owner())
                else {
                    return;
                };
                if session.is_expired(now) {
                    return;
                }
                self.shared.borrow_mut().shared_token = Some(session.access_token.clone());
                // This tab's storage area may be its own (sessionStorage): keep the new session there too.
                let _ = self.client.store_session(&session);
                match state.session() {
                    Some(current) if current.expires_at_ms >= session.expires_at_ms => {}
                    Some(_) => {
                        self.reset_failures();
                        self.note(StatusNote::Adopted { at_ms: now });
                        self.store.dispatch(AuthEvent::Renewed(session));
                    }
                    None => {
                        self.reset_failures();
                        self.note(StatusNote::SignedIn {
                            at_ms: now,
                            detail: "in another tab".into(),
                        });
                        self.store.dispatch(AuthEvent::SignedIn(session));
                    }
                }
            }
            TabMessage::SignedOut => {
                if state.session().is_some() || matches!(state, AuthState::Loading) {
                    self.client.forget_session();
                    let detail = SignOutReason::OtherTab.message().to_owned();
                    self.note(StatusNote::SignedOut { at_ms: now, detail });
                    self.store
                        .dispatch(AuthEvent::SignedOut(SignOutReason::OtherTab));
                }
            }
        }
    }

    fn on_outcome(&self, id: u64, outcome: SilentOutcome) {
        let sender = self.shared.borrow_mut().waiters.remove(&id);
        if let Some(sender) = sender {
            let _ = sender.send(outcome);
        }
    }

    fn on_wake(&self, reason: WakeReason) {
        if reason == WakeReason::Online {
            // Back online: retry now rather than at the end of the backoff.
            self.shared.borrow_mut().retry_at = None;
        }
        self.tick();
    }
}

/// Whether a session is due for renewal now (by the schedule, without this tab's jitter).
fn is_due(session: &Session, now: u64) -> bool {
    let at = renew_at(
        session.issued_at_ms,
        session.expires_at_ms,
        DEFAULT_LEAD_MS,
        0.0,
    );
    !matches!(
        decide(now, at, session.expires_at_ms),
        Decision::Wait { .. }
    )
}

/// Renders the hidden renewal iframe while a renewal runs; schedules renewals while signed in.
#[function_component(SessionKeeper)]
pub(crate) fn session_keeper() -> Html {
    let context = use_context::<AuthContext>().expect("SessionKeeper is rendered by AuthProvider");
    let pending = use_state(|| None::<SilentRequest>);
    let shared = use_mut_ref(|| Shared {
        state: AuthState::Loading,
        timer: None,
        in_flight: false,
        started_at: None,
        retry_at: None,
        failures_in_row: 0,
        stopped: false,
        restore_tried: false,
        forced: false,
        next_id: 0,
        waiters: HashMap::new(),
        jitter: random_unit(),
        channel: None,
        shared_token: None,
        _subscription: None,
        _wake: None,
    });
    let keeper = Keeper {
        client: context.client.clone(),
        store: context.store.clone(),
        status: context.status.clone(),
        pending: pending.clone(),
        shared: shared.clone(),
        trigger: context.renew.clone(),
    };
    let state = context.store.0.clone();
    {
        let mut shared = shared.borrow_mut();
        // A new session (sign-in, renewal, another tab) starts with a clean slate.
        if state.session().map(|s| &s.access_token)
            != shared.state.session().map(|s| &s.access_token)
        {
            shared.retry_at = None;
            shared.failures_in_row = 0;
            if matches!(state, AuthState::SignedIn(_)) {
                shared.stopped = false;
                shared.restore_tried = false;
            }
        }
        shared.state = state.clone();
    }

    // Wake-ups and the tab channel live as long as the keeper.
    {
        let keeper = keeper.clone();
        use_effect_with((), move |_| {
            let on_wake_keeper = keeper.clone();
            let wake = on_wake(WAKE_PERIOD_MS, move |reason| on_wake_keeper.on_wake(reason));
            let channel = TabChannel::open(keeper.client.namespace()).ok();
            let subscription = channel.as_ref().map(|channel| {
                let keeper = keeper.clone();
                channel.subscribe(move |text| keeper.on_tab_message(text))
            });
            {
                let mut shared = keeper.shared.borrow_mut();
                shared._wake = Some(wake);
                shared.channel = channel;
                shared._subscription = subscription;
            }
            let trigger = keeper.trigger.clone();
            trigger.set(Some({
                let keeper = keeper.clone();
                Callback::from(move |()| keeper.renew_now())
            }));
            move || {
                trigger.set(None);
                let mut shared = keeper.shared.borrow_mut();
                shared.timer = None;
                shared._wake = None;
                shared._subscription = None;
                shared.channel = None;
                shared.waiters.clear();
            }
        });
    }

    // Re-decide whenever the session or the state changes; share a sign-in made in this tab.
    {
        let keeper = keeper.clone();
        let key = (
            std::mem::discriminant(&state),
            state.session().map(|s| s.access_token.clone()),
        );
        use_effect_with(key, move |_| {
            let state = keeper.shared.borrow().state.clone();
            if let AuthState::SignedIn(session) = &state {
                keeper.share(session);
            }
            keeper.tick();
        });
    }

    let on_outcome = {
        let keeper = keeper.clone();
        Callback::from(move |(id, outcome)| keeper.on_outcome(id, outcome))
    };
    let on_ignored = {
        let keeper = keeper.clone();
        Callback::from(move |reason: IgnoredMessage| {
            keeper.note(StatusNote::Ignored {
                at_ms: clock::now_ms(),
                reason: format!("{reason:?}"),
            })
        })
    };
    html! {
        <IframeRenewer request={(*pending).clone()} {on_outcome} {on_ignored} />
    }
}
