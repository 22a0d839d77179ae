//! The driver: carries out the session keeper's commands in the browser, and feeds it what happens.
//! The one place where a session's effects live: the timer, the cross-tab lock, renewals (through the
//! provider's `IframeRenewer`), storage, the tab channel, wake-ups, navigation, app notifications.
//!
//! Implementation notes:
//! - Every decision is the keeper's ([`Keeper::step`], pure and host-tested); this file only performs
//!   commands and turns browser events into inputs, each with the time it is fed.
//! - No `RefCell` borrow is held across a call out (a Yew setter, an app callback, a command): Yew may
//!   render at once, and a callback may feed the keeper again.
//! - Nothing here runs during a render: the provider publishes the keeper's view through a state
//!   setter, and its render reads only that snapshot.
//! - Timers, async tasks and listeners hold a [`Weak`] driver: when the provider unmounts and
//!   [`Driver::stop`] has run, they find nothing and do nothing.

use crate::browser::tabs::{with_exclusive_lock, Subscription, TabChannel};
use crate::browser::wake::{on_wake, WakeGuard, WakeReason};
use crate::browser::{clock, navigation, random, spawn};
use crate::client::AuthClient;
use crate::renewer::{SilentOutcome, SilentRequest};
use crate::small_map::SmallMap;
use futures_channel::oneshot;
use gloo::timers::callback::Timeout;
use oidc_renew_core::keeper::{Command, Input, Keeper, RenewalRequest, TabNote, Wake};
use oidc_renew_core::schedule::timer_delay;
use oidc_renew_core::state::AuthState;
use oidc_renew_core::status::{LogEntry, RenewalStatus};
use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};
use yew::Callback;

/// How often the wall clock is looked at anyway (timers stop while a laptop sleeps and are
/// throttled in background tabs).
const WAKE_PERIOD_MS: u32 = 30_000;
/// How long a tab waits for another tab's renewal to finish before trying itself.
const LOCK_WAIT_MS: u32 = 20_000;

/// What the provider renders from: a snapshot of the keeper's views.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct View {
    pub state: AuthState,
    pub status: RenewalStatus,
    /// The sign-in callback is being completed: the app waits.
    pub completing: bool,
}

impl View {
    fn of(keeper: &Keeper) -> View {
        View {
            state: keeper.state().clone(),
            status: keeper.status().clone(),
            completing: keeper.completing_sign_in(),
        }
    }

    /// Before the keeper has taken its first input.
    pub fn initial(on_callback: bool) -> View {
        View {
            state: if on_callback {
                AuthState::SigningIn
            } else {
                AuthState::Loading
            },
            status: RenewalStatus::default(),
            completing: on_callback,
        }
    }
}

/// Where the cross-tab lock stands in this page.
enum Lock {
    Idle,
    /// Asked for (request `generation`); dropping `release` releases it as soon as it is granted.
    Pending {
        generation: u64,
        release: oneshot::Sender<()>,
    },
    /// Held until `release` is sent or dropped.
    Held {
        _release: oneshot::Sender<()>,
    },
}

/// The setters the provider hands over on mount.
pub(crate) struct Outlets {
    /// Publishes a new view (re-renders the provider).
    pub view: Callback<Rc<View>>,
    /// Sets the renewer's pending request.
    pub request: Callback<Option<SilentRequest>>,
}

/// See the module documentation.
pub(crate) struct Driver {
    client: AuthClient,
    keeper: RefCell<Keeper>,
    outlets: RefCell<Option<Outlets>>,
    on_event: RefCell<Callback<LogEntry>>,
    timer: RefCell<Option<Timeout>>,
    lock: RefCell<Lock>,
    lock_generation: Cell<u64>,
    /// The renewals waiting for their frame's outcome, by id.
    waiters: RefCell<SmallMap<u64, oneshot::Sender<SilentOutcome>>>,
    channel: RefCell<Option<TabChannel>>,
    subscription: RefCell<Option<Subscription>>,
    wake: RefCell<Option<WakeGuard>>,
    stopped: Cell<bool>,
}

impl Driver {
    /// A driver for `client`'s sessions; nothing happens until [`Driver::start`].
    pub fn new(client: AuthClient) -> Rc<Driver> {
        let seed = random::random_bytes::<8>().map_or(0, u64::from_le_bytes);
        Rc::new(Driver {
            keeper: RefCell::new(Keeper::new(client.config(), seed)),
            client,
            outlets: RefCell::new(None),
            on_event: RefCell::new(Callback::noop()),
            timer: RefCell::new(None),
            lock: RefCell::new(Lock::Idle),
            lock_generation: Cell::new(0),
            waiters: RefCell::new(SmallMap::new()),
            channel: RefCell::new(None),
            subscription: RefCell::new(None),
            wake: RefCell::new(None),
            stopped: Cell::new(false),
        })
    }

    /// Starts: listens to other tabs and to wake-ups, then feeds the start-up input (the sign-in
    /// callback, or the stored session).
    pub fn start(self: &Rc<Self>, outlets: Outlets, on_callback: bool) {
        *self.outlets.borrow_mut() = Some(outlets);
        let channel = TabChannel::open(self.client.namespace()).ok();
        let subscription = channel.as_ref().map(|channel| {
            let weak = Rc::downgrade(self);
            channel.subscribe(move |text| {
                if let Some(driver) = weak.upgrade() {
                    driver.tab_message(&text);
                }
            })
        });
        *self.channel.borrow_mut() = channel;
        *self.subscription.borrow_mut() = subscription;
        let weak = Rc::downgrade(self);
        let wake = on_wake(WAKE_PERIOD_MS, move |reason| {
            if let Some(driver) = weak.upgrade() {
                driver.feed(Input::Wake(match reason {
                    WakeReason::Online => Wake::Online,
                    _ => Wake::Other,
                }));
            }
        });
        *self.wake.borrow_mut() = Some(wake);
        if on_callback {
            self.feed(Input::CallbackDetected);
        } else {
            let stored = self.client.restore();
            let signed_in_before = self.client.signed_in_before();
            let after_logout = self.client.take_logout_outcome();
            self.feed(Input::Loaded {
                stored,
                signed_in_before,
                after_logout,
            });
        }
    }

    /// Stops everything (the provider unmounts): timers, listeners, the lock, waiting renewals.
    pub fn stop(&self) {
        self.stopped.set(true);
        self.timer.borrow_mut().take();
        self.wake.borrow_mut().take();
        self.subscription.borrow_mut().take();
        self.channel.borrow_mut().take();
        self.waiters.borrow_mut().clear();
        *self.lock.borrow_mut() = Lock::Idle;
        self.outlets.borrow_mut().take();
    }

    /// The app's event callback (the latest props).
    pub fn set_on_event(&self, on_event: Callback<LogEntry>) {
        *self.on_event.borrow_mut() = on_event;
    }

    pub fn client(&self) -> &AuthClient {
        &self.client
    }

    /// Feeds `input`, now; publishes the new view if it changed, then carries out the commands.
    pub fn feed(self: &Rc<Self>, input: Input) {
        if self.stopped.get() {
            return;
        }
        let (commands, view) = {
            let mut keeper = self.keeper.borrow_mut();
            let before = keeper.revision();
            let commands = keeper.step(clock::now_ms(), input);
            let view = (keeper.revision() != before).then(|| Rc::new(View::of(&keeper)));
            (commands, view)
        };
        if let Some(view) = view {
            let publish = self.outlets.borrow().as_ref().map(|o| o.view.clone());
            if let Some(publish) = publish {
                publish.emit(view);
            }
        }
        for command in commands {
            self.execute(command);
        }
    }

    /// The renewer's outcome for request `id`.
    pub fn outcome(&self, id: u64, outcome: SilentOutcome) {
        let waiter = self.waiters.borrow_mut().remove(&id);
        if let Some(waiter) = waiter {
            let _ = waiter.send(outcome);
        }
    }

    fn execute(self: &Rc<Self>, command: Command) {
        match command {
            Command::SetTimer(at) => {
                let timeout = at.map(|at| {
                    let weak = Rc::downgrade(self);
                    let delay = timer_delay(at.saturating_sub(clock::now_ms()));
                    Timeout::new(delay, move || feed(&weak, Input::Wake(Wake::Timer)))
                });
                // The old timer is dropped (cancelled) outside the borrow.
                let old = std::mem::replace(&mut *self.timer.borrow_mut(), timeout);
                drop(old);
            }
            Command::AcquireLock => self.acquire_lock(),
            Command::ReleaseLock => {
                let old = std::mem::replace(&mut *self.lock.borrow_mut(), Lock::Idle);
                drop(old);
            }
            Command::Renew { id, request } => {
                let (weak, client) = (Rc::downgrade(self), self.client.clone());
                spawn(async move {
                    let result = match request {
                        RenewalRequest::Iframe { expected_sub } => {
                            renew_in_iframe(&weak, id, expected_sub).await
                        }
                        RenewalRequest::Refresh { session } => Some(client.refresh(&session).await),
                    };
                    if let Some(result) = result {
                        feed(&weak, Input::RenewalFinished { id, result });
                    }
                });
            }
            Command::Store(session) => {
                if let Err(error) = self.client.store_session(&session) {
                    gloo::console::warn!(format!("the session could not be stored: {error}"));
                }
            }
            Command::Forget => self.client.forget_session(),
            Command::Broadcast(note) => {
                if let Some(channel) = self.channel.borrow().as_ref() {
                    let _ = channel.post(&note.encode());
                }
            }
            Command::Login { return_to } => {
                let (weak, client) = (Rc::downgrade(self), self.client.clone());
                spawn(async move {
                    if let Err(failure) = client.login(&return_to).await {
                        feed(&weak, Input::LoginFailed(failure));
                    }
                });
            }
            Command::CompleteLogin => {
                let (weak, client) = (Rc::downgrade(self), self.client.clone());
                spawn(async move {
                    let input = match client.complete_login().await {
                        Ok((session, return_to)) => Input::LoginCompleted { session, return_to },
                        Err(failure) => Input::LoginFailed(failure),
                    };
                    feed(&weak, input);
                });
            }
            Command::ReturnTo(path) => {
                if let Err(error) = navigation::replace_path(&path) {
                    gloo::console::warn!(format!("cannot show {path}: {error}"));
                }
            }
            Command::Logout {
                id_token_hint,
                refresh_token,
            } => {
                let client = self.client.clone();
                spawn(async move {
                    // Revoked first: the page leaves with the logout navigation.
                    if let Some(refresh_token) = refresh_token {
                        client.revoke(&refresh_token).await;
                    }
                    client.logout(id_token_hint.as_deref()).await
                });
            }
            Command::Notify(entry) => {
                let on_event = self.on_event.borrow().clone();
                on_event.emit(entry);
            }
        }
    }

    /// Asks for the cross-tab lock; once granted, feeds the stored session as it is then.
    fn acquire_lock(self: &Rc<Self>) {
        match &*self.lock.borrow() {
            Lock::Held { .. } => {
                let weak = Rc::downgrade(self);
                spawn(async move {
                    if let Some(driver) = weak.upgrade() {
                        driver.lock_granted();
                    }
                });
                return;
            }
            Lock::Pending { .. } => return,
            Lock::Idle => {}
        }
        let generation = self.lock_generation.get() + 1;
        self.lock_generation.set(generation);
        let (granted_tx, granted_rx) = oneshot::channel::<()>();
        let (release_tx, release_rx) = oneshot::channel::<()>();
        *self.lock.borrow_mut() = Lock::Pending {
            generation,
            release: release_tx,
        };
        let name = self.client.renewal_lock_name();
        let weak = Rc::downgrade(self);
        spawn(async move {
            let held = with_exclusive_lock(&name, LOCK_WAIT_MS, async move {
                let _ = granted_tx.send(());
                // Held until the release sender is used or dropped.
                let _ = release_rx.await;
            });
            if let Err(error) = held.await {
                if let Some(driver) = weak.upgrade() {
                    driver.lock_refused(generation, error.to_string());
                }
            }
        });
        let weak = Rc::downgrade(self);
        spawn(async move {
            if granted_rx.await.is_ok() {
                if let Some(driver) = weak.upgrade() {
                    driver.lock_granted_for(generation);
                }
            }
        });
    }

    fn lock_granted_for(self: &Rc<Self>, generation: u64) {
        let pending = std::mem::replace(&mut *self.lock.borrow_mut(), Lock::Idle);
        match pending {
            Lock::Pending {
                generation: current,
                release,
            } if current == generation => {
                *self.lock.borrow_mut() = Lock::Held { _release: release };
                self.lock_granted();
            }
            // Not wanted any more: restore whatever stands (the grant is released with its sender).
            other => *self.lock.borrow_mut() = other,
        }
    }

    fn lock_granted(self: &Rc<Self>) {
        let stored = self.client.restore().ok().flatten();
        let newest = self.client.newest_session();
        self.feed(Input::LockAcquired { stored, newest });
    }

    fn lock_refused(self: &Rc<Self>, generation: u64, why: String) {
        let current =
            matches!(&*self.lock.borrow(), Lock::Pending { generation: g, .. } if *g == generation);
        if current {
            *self.lock.borrow_mut() = Lock::Idle;
            self.feed(Input::LockFailed(why));
        }
    }

    fn tab_message(self: &Rc<Self>, text: &str) {
        let note = TabNote::decode(text, clock::now_ms(), &self.client.session_owner());
        if let Some(note) = note {
            self.feed(Input::FromTab(note));
        }
    }

    fn set_request(&self, request: Option<SilentRequest>) {
        let outlet = self.outlets.borrow().as_ref().map(|o| o.request.clone());
        if let Some(outlet) = outlet {
            outlet.emit(request);
        }
    }
}

fn feed(driver: &Weak<Driver>, input: Input) {
    if let Some(driver) = driver.upgrade() {
        driver.feed(input);
    }
}

/// One silent renewal in the iframe: the request, the hidden frame's outcome, the checks and the code
/// exchange. `None` when the driver went away meanwhile.
async fn renew_in_iframe(
    weak: &Weak<Driver>,
    id: u64,
    expected_sub: Option<String>,
) -> Option<Result<oidc_renew_core::session::Session, oidc_renew_core::renewal::RenewalError>> {
    let client = weak.upgrade()?.client.clone();
    let pending = match client.begin_renewal(id).await {
        Ok(pending) => pending,
        Err(error) => return Some(Err(error)),
    };
    let (sender, receiver) = oneshot::channel();
    {
        let driver = weak.upgrade()?;
        driver.waiters.borrow_mut().insert(id, sender);
        driver.set_request(Some(pending.request.clone()));
    }
    // A dropped sender means the renewer went away (unmount): as good as no answer.
    let outcome = receiver.await.unwrap_or(SilentOutcome::Timeout);
    weak.upgrade()?.set_request(None);
    Some(
        client
            .finish_renewal(&pending, outcome, expected_sub.as_deref())
            .await,
    )
}
