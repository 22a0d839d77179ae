//! Coordination between the tabs of this origin: an exclusive lock, so that one tab renews while the
//! others wait, and a message bus, so that the others adopt its result instead of renewing too.
//!
//! Where the browser has them, the lock is a Web Lock and the bus a `BroadcastChannel`. Where it does not,
//! `localStorage` stands in: a lease for the lock, `storage` events for the bus. What goes under the lock
//! and over the bus is the caller's business; this file only moves strings and holds locks.
//!
//! Implementation notes:
//! - Web Locks are bound by hand (one method, below): web-sys has `LockManager` only behind
//!   `--cfg web_sys_unstable_apis`, a flag every build of the app would need.
//! - A Web Lock is released by the browser when its tab closes or crashes; a lease is not, so it is short
//!   ([`LEASE_MS`]), extended while its holder works, and ignored once expired.
//! - localStorage has no compare-and-swap: a lease is taken by writing it, waiting a moment and reading it
//!   back. That makes two holders unlikely, not impossible; the fallback is for old browsers only.

use super::clock::now_ms;
use super::error::{js_error, window, BrowserError};
use super::listener::Listener;
use super::random::random_bytes;
use super::storage::{StorageArea, Store};
use gloo::timers::callback::{Interval, Timeout};
use js_sys::{Array, Function, Object, Promise, Reflect};
use serde::Serialize;
use std::cell::{Cell, RefCell};
use std::future::Future;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, BroadcastChannel, MessageEvent, StorageEvent};

/// How long a lease lasts without being extended: a tab that crashed while holding the lock blocks the
/// others for at most this long.
pub const LEASE_MS: u32 = 30_000;
/// How often a lease holder extends its lease while its work runs.
const LEASE_EXTEND_MS: u32 = 10_000;
/// How often a tab waiting for a lease looks again.
const LEASE_POLL_MS: u32 = 50;
/// How long a tab waits after writing its lease before reading it back, so that a competing write made at
/// the same moment in another tab has landed.
const LEASE_SETTLE_MS: u32 = 25;

#[wasm_bindgen]
extern "C" {
    /// `navigator.locks`.
    type LockManager;

    /// `navigator.locks.request(name, options, callback)`: calls `callback` once the lock is granted and
    /// holds it until the promise `callback` returned settles.
    #[wasm_bindgen(method, catch, js_name = request)]
    fn request(
        this: &LockManager,
        name: &str,
        options: &Object,
        callback: &Function,
    ) -> Result<Promise, JsValue>;
}

/// Which mechanism carries a lock or a channel. Chosen by the browser's abilities in
/// [`with_exclusive_lock`] and [`TabChannel::open`]; exposed so tests can exercise the fallback in a
/// browser that has the native APIs.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Web Locks for the lock, `BroadcastChannel` for the bus.
    Native,
    /// A lease in localStorage for the lock, `storage` events on localStorage for the bus.
    LocalStorage,
}

/// Whether the Web Locks API (`navigator.locks`) is available. It is missing in insecure contexts and
/// in old browsers, where [`with_exclusive_lock`] uses a localStorage lease.
pub fn has_web_locks() -> bool {
    lock_manager().is_some()
}

/// Whether `BroadcastChannel` is available. Where it is missing, [`TabChannel`] uses `storage` events.
pub fn has_broadcast_channel() -> bool {
    web_sys::window()
        .and_then(|window| Reflect::get(&window, &JsValue::from_str("BroadcastChannel")).ok())
        .is_some_and(|constructor| constructor.is_function())
}

/// Runs `work` while holding the exclusive lock `name`, shared by every tab of this origin, and returns
/// its output.
///
/// The lock is a Web Lock (`navigator.locks.request(name, {mode: "exclusive"}, ..)`) or, where
/// `navigator.locks` is missing, a lease in localStorage under `"<name>:lease"` (`{owner, until_ms}`,
/// [`LEASE_MS`] long, extended while `work` runs, removed when it is done; an expired lease, left by a
/// tab that crashed, does not block).
///
/// Waiting for the lock lasts at most `max_wait_ms` (as measured by the browser's timers, which are
/// coarser in background tabs); 0 means "only if it is free now". Dropping the
/// returned future withdraws a pending request or releases the held lock, so an abandoned caller never
/// keeps the lock.
///
/// Errors: [`BrowserError::LockTimeout`] when the lock was not acquired in time (`work` did not run);
/// [`BrowserError::NoWindow`]; [`BrowserError::Js`] when the browser refuses the request (Web Lock names
/// starting with `-` are reserved); [`BrowserError::StorageWrite`] when the lease cannot be written.
///
/// ```ignore
/// use crate::browser::tabs::with_exclusive_lock;
///
/// # async fn renew() {}
/// # async fn example() -> Result<(), crate::browser::BrowserError> {
/// with_exclusive_lock("oidc-renew:my-client:renew", 5_000, renew()).await?;
/// # Ok(()) }
/// ```
pub fn with_exclusive_lock<T: 'static>(
    name: &str,
    max_wait_ms: u32,
    work: impl Future<Output = T> + 'static,
) -> impl Future<Output = Result<T, BrowserError>> + 'static {
    let backend = if has_web_locks() {
        Backend::Native
    } else {
        Backend::LocalStorage
    };
    with_exclusive_lock_using(backend, name, max_wait_ms, work)
}

/// [`with_exclusive_lock`] with the given backend. [`Backend::Native`] where Web Locks are missing is an
/// error.
#[doc(hidden)]
pub fn with_exclusive_lock_using<T: 'static>(
    backend: Backend,
    name: &str,
    max_wait_ms: u32,
    work: impl Future<Output = T> + 'static,
) -> impl Future<Output = Result<T, BrowserError>> + 'static {
    let name = name.to_owned();
    async move {
        match backend {
            Backend::Native => {
                let _lock = web_lock(&name, max_wait_ms).await?;
                Ok(work.await)
            }
            Backend::LocalStorage => {
                let _lease = lease(&name, max_wait_ms).await?;
                Ok(work.await)
            }
        }
    }
}

fn lock_manager() -> Option<LockManager> {
    let navigator = web_sys::window()?.navigator();
    let locks = Reflect::get(&navigator, &JsValue::from_str("locks")).ok()?;
    (!locks.is_undefined() && !locks.is_null()).then(|| locks.unchecked_into())
}

/// A Web Lock request, queued or granted. Dropping it withdraws the request or releases the lock.
struct WebLock {
    /// Aborts the queued request (`None` for an `ifAvailable` request, which is never queued).
    controller: Option<AbortController>,
    /// Resolves the promise the lock callback returned, which releases a granted lock.
    release: Rc<RefCell<Option<Function>>>,
    /// Set once nobody waits for the lock any more: a grant arriving after that is released at once.
    abandoned: Rc<Cell<bool>>,
    /// Aborts the request when the wait is over; dropped once the outcome is known.
    timeout: Option<Timeout>,
}

impl Drop for WebLock {
    fn drop(&mut self) {
        self.abandoned.set(true);
        self.timeout = None;
        if let Some(release) = self.release.borrow_mut().take() {
            let _ = release.call0(&JsValue::UNDEFINED);
        }
        // No effect on a granted or settled request; withdraws a queued one.
        if let Some(controller) = &self.controller {
            controller.abort();
        }
    }
}

async fn web_lock(name: &str, max_wait_ms: u32) -> Result<WebLock, BrowserError> {
    let locks =
        lock_manager().ok_or_else(|| BrowserError::Js("navigator.locks is unavailable".into()))?;
    let release = Rc::new(RefCell::new(None::<Function>));
    let abandoned = Rc::new(Cell::new(false));

    // `granted` resolves to true when the lock is granted, to false when an `ifAvailable` request finds
    // it taken.
    let mut grant = None;
    let granted = Promise::new(&mut |resolve, _reject| grant = Some(resolve));
    let grant = grant.ok_or_else(|| BrowserError::Js("promise executor did not run".into()))?;
    let callback = {
        let release = Rc::clone(&release);
        let abandoned = Rc::clone(&abandoned);
        Closure::<dyn FnMut(JsValue) -> JsValue>::once(move |lock: JsValue| {
            if lock.is_null() {
                let _ = grant.call1(&JsValue::UNDEFINED, &JsValue::FALSE);
                return JsValue::UNDEFINED;
            }
            if abandoned.get() {
                // Returning a non-promise releases the lock at once.
                return JsValue::UNDEFINED;
            }
            let held = Promise::new(&mut |resolve, _reject| *release.borrow_mut() = Some(resolve));
            let _ = grant.call1(&JsValue::UNDEFINED, &JsValue::TRUE);
            held.into()
        })
    };

    let options = Object::new();
    set(&options, "mode", &JsValue::from_str("exclusive"))?;
    // `signal` and `ifAvailable` cannot be combined: a zero wait is a single `ifAvailable` attempt.
    let controller = if max_wait_ms == 0 {
        set(&options, "ifAvailable", &JsValue::TRUE)?;
        None
    } else {
        let controller = AbortController::new().map_err(js_error)?;
        set(&options, "signal", &controller.signal())?;
        Some(controller)
    };
    let timeout = controller
        .clone()
        .map(|controller| Timeout::new(max_wait_ms, move || controller.abort()));
    let mut lock = WebLock {
        controller,
        release,
        abandoned,
        timeout,
    };

    let request = locks
        .request(name, &options, callback.as_ref().unchecked_ref())
        .map_err(js_error)?;
    // The browser may call `callback` until the request settles (even after this future is dropped,
    // should the abort come too late): it lives exactly that long.
    let settled = request.clone();
    super::spawn(async move {
        let _ = JsFuture::from(settled).await;
        drop(callback);
    });

    // `request` rejects (AbortError) when the wait is over before the grant; once granted it stays
    // pending until released, so `granted` wins the race.
    let outcome = JsFuture::from(Promise::race(&Array::of2(&granted, &request))).await;
    lock.timeout = None;
    match outcome {
        Ok(granted) if granted.as_bool() == Some(true) => Ok(lock),
        Ok(_) => Err(BrowserError::LockTimeout),
        Err(error) if is_abort_error(&error) => Err(BrowserError::LockTimeout),
        Err(error) => Err(js_error(error)),
    }
}

fn set(object: &Object, key: &str, value: &JsValue) -> Result<(), BrowserError> {
    Reflect::set(object, &JsValue::from_str(key), value)
        .map(drop)
        .map_err(js_error)
}

fn is_abort_error(error: &JsValue) -> bool {
    Reflect::get(error, &JsValue::from_str("name"))
        .ok()
        .and_then(|name| name.as_string())
        .is_some_and(|name| name == "AbortError")
}

/// The lease stored under `"<name>:lease"`.
#[derive(Debug, Serialize)]
struct Lease {
    /// Random id of the holding request.
    owner: String,
    /// Wall-clock time (ms since the epoch) the lease ends, unless extended.
    until_ms: u64,
}

/// A lease request, waiting or holding. Dropping it removes the lease if it is ours.
struct LeaseHold {
    store: Store,
    owner: Rc<str>,
    /// Extends the lease while it is held.
    extend: Option<Interval>,
}

impl Drop for LeaseHold {
    fn drop(&mut self) {
        self.extend = None;
        if lease_is(&self.store, &self.owner) {
            self.store.remove("lease");
        }
    }
}

/// The lease in `store` unless it is free: missing, unreadable, expired, or longer than a lease can be
/// (written before the clock went back, or by someone else), none of which may block the lock for good.
fn live_lease(store: &Store, now: u64) -> Option<Lease> {
    // Read as a `Value`, like everything stored (no derived reader per type in the bundle).
    let stored: serde_json::Value = serde_json::from_str(&store.get("lease")?).ok()?;
    let lease = Lease {
        owner: stored.get("owner")?.as_str()?.to_owned(),
        until_ms: stored.get("until_ms")?.as_u64()?,
    };
    (lease.until_ms > now && lease.until_ms <= now + u64::from(LEASE_MS)).then_some(lease)
}

fn lease_is(store: &Store, owner: &str) -> bool {
    live_lease(store, now_ms()).is_some_and(|lease| *lease.owner == *owner)
}

fn write_lease(store: &Store, owner: &str) -> Result<(), BrowserError> {
    let lease = Lease {
        owner: owner.to_owned(),
        until_ms: now_ms() + u64::from(LEASE_MS),
    };
    let json =
        serde_json::to_string(&lease).map_err(|error| BrowserError::Js(error.to_string()))?;
    store.set("lease", &json)
}

async fn lease(name: &str, max_wait_ms: u32) -> Result<LeaseHold, BrowserError> {
    window()?;
    let owner: String = random_bytes::<12>()?
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    // Created before the first write, so that dropping this future mid-wait removes a lease it wrote.
    let mut hold = LeaseHold {
        store: Store::strict(StorageArea::Local, name),
        owner: owner.into(),
        extend: None,
    };
    let deadline = now_ms() + u64::from(max_wait_ms);
    loop {
        if live_lease(&hold.store, now_ms()).is_none() {
            write_lease(&hold.store, &hold.owner)?;
            sleep(LEASE_SETTLE_MS).await?;
            if lease_is(&hold.store, &hold.owner) {
                let store = hold.store.clone();
                let owner = Rc::clone(&hold.owner);
                hold.extend = Some(Interval::new(LEASE_EXTEND_MS, move || {
                    // A tab frozen past its lease has lost it: it must not take it back from the new holder.
                    if lease_is(&store, &owner) {
                        let _ = write_lease(&store, &owner);
                    }
                }));
                return Ok(hold);
            }
        }
        let now = now_ms();
        if now >= deadline {
            return Err(BrowserError::LockTimeout);
        }
        let left = u32::try_from(deadline - now).unwrap_or(u32::MAX);
        sleep(left.min(LEASE_POLL_MS)).await?;
    }
}

/// Resolves after `ms` milliseconds (`setTimeout`).
async fn sleep(ms: u32) -> Result<(), BrowserError> {
    let window = window()?;
    let mut scheduled = Ok(0);
    let promise = Promise::new(&mut |resolve, _reject| {
        scheduled = window.set_timeout_with_callback_and_timeout_and_arguments_0(
            &resolve,
            i32::try_from(ms).unwrap_or(i32::MAX),
        );
    });
    scheduled.map_err(js_error)?;
    JsFuture::from(promise).await.map(drop).map_err(js_error)
}

/// What the storage fallback writes under `"<name>:bus"`.
#[derive(Serialize)]
struct Envelope {
    /// Makes every write a change, so that each fires a `storage` event.
    nonce: String,
    message: String,
}

/// A subscriber's callback.
type OnMessage = Rc<dyn Fn(String)>;

/// A subscriber of a storage-fallback channel in this page. `storage` events do not fire in the document
/// that wrote, so the page's other channels of the same name are served from this list.
struct LocalSubscriber {
    id: u64,
    channel: u64,
    name: Rc<str>,
    on_message: OnMessage,
}

thread_local! {
    static LOCAL_SUBSCRIBERS: RefCell<Vec<LocalSubscriber>> = const { RefCell::new(Vec::new()) };
    static NEXT_ID: Cell<u64> = const { Cell::new(0) };
}

fn next_id() -> u64 {
    NEXT_ID.with(|next| {
        let id = next.get();
        next.set(id + 1);
        id
    })
}

/// A same-origin message bus between tabs: messages posted on it reach the subscribers of every other
/// `TabChannel` of the same name, in this origin's other tabs and in this page, but not its own.
///
/// A `BroadcastChannel`, or where it is missing, `storage` events on the localStorage key
/// `"<name>:bus"` (each message is written there as JSON `{nonce, message}`, then removed). Messages are
/// delivered asynchronously, in the order posted, and only to subscribers present on delivery. Dropping
/// the channel closes it: its subscriptions receive nothing more.
///
/// Messages come from other tabs of the origin, any script of which may post on the channel: the
/// receiver parses and checks them.
///
/// ```ignore
/// use crate::browser::tabs::TabChannel;
///
/// let channel = TabChannel::open("oidc-renew:my-client")?;
/// let subscription = channel.subscribe(|message| { /* adopt the session in `message` */ });
/// channel.post(r#"{"type":"renewed"}"#)?;
/// # Ok::<(), crate::browser::BrowserError>(())
/// ```
#[derive(Debug)]
pub struct TabChannel {
    name: Rc<str>,
    transport: Transport,
}

#[derive(Debug)]
enum Transport {
    Broadcast(BroadcastChannel),
    Storage {
        store: Store,
        id: u64,
        closed: Rc<Cell<bool>>,
    },
}

impl TabChannel {
    /// Opens the channel `name`: a `BroadcastChannel` of that name, or the storage fallback.
    ///
    /// Errors: [`BrowserError::NoWindow`]; [`BrowserError::Js`] when the browser refuses the channel.
    pub fn open(name: &str) -> Result<TabChannel, BrowserError> {
        let backend = if has_broadcast_channel() {
            Backend::Native
        } else {
            Backend::LocalStorage
        };
        TabChannel::open_using(backend, name)
    }

    /// [`TabChannel::open`] with the given backend.
    #[doc(hidden)]
    pub fn open_using(backend: Backend, name: &str) -> Result<TabChannel, BrowserError> {
        window()?;
        let transport = match backend {
            Backend::Native => Transport::Broadcast(BroadcastChannel::new(name).map_err(js_error)?),
            Backend::LocalStorage => Transport::Storage {
                store: Store::strict(StorageArea::Local, name),
                id: next_id(),
                closed: Rc::new(Cell::new(false)),
            },
        };
        Ok(TabChannel {
            name: name.into(),
            transport,
        })
    }

    /// Sends `message` to every other `TabChannel` of this name: in other tabs of the origin, and in
    /// this page.
    ///
    /// Errors: [`BrowserError::Js`] when the browser refuses the message; with the storage fallback,
    /// [`BrowserError::StorageWrite`] when localStorage refuses it (this page's other channels still
    /// receive it).
    pub fn post(&self, message: &str) -> Result<(), BrowserError> {
        match &self.transport {
            Transport::Broadcast(channel) => channel
                .post_message(&JsValue::from_str(message))
                .map_err(js_error),
            Transport::Storage { store, id, .. } => {
                deliver_in_page(Rc::clone(&self.name), *id, message.to_owned());
                let envelope = Envelope {
                    nonce: format!("{}-{}", now_ms(), js_sys::Math::random()),
                    message: message.to_owned(),
                };
                let json = serde_json::to_string(&envelope)
                    .map_err(|error| BrowserError::Js(error.to_string()))?;
                store.set("bus", &json)?;
                // Removing it at once keeps the message out of storage; the removal's own event carries no
                // value and is ignored.
                store.remove("bus");
                Ok(())
            }
        }
    }

    /// Calls `on_message` with every message other channels post, until the subscription is dropped (or
    /// this channel is). Messages that are not strings (another script posting on the same
    /// `BroadcastChannel` name) and unreadable storage values are ignored.
    #[must_use = "dropping the subscription unsubscribes at once"]
    pub fn subscribe(&self, on_message: impl Fn(String) + 'static) -> Subscription {
        match &self.transport {
            Transport::Broadcast(channel) => {
                let listener = Listener::new(channel, "message", move |event| {
                    if let Some(message) = event
                        .dyn_ref::<MessageEvent>()
                        .and_then(|event| event.data().as_string())
                    {
                        on_message(message);
                    }
                });
                Subscription {
                    _listener: listener.ok(),
                    local: None,
                }
            }
            Transport::Storage { id, closed, .. } => {
                let on_message: OnMessage = Rc::new(on_message);
                let subscriber = next_id();
                LOCAL_SUBSCRIBERS.with(|subscribers| {
                    subscribers.borrow_mut().push(LocalSubscriber {
                        id: subscriber,
                        channel: *id,
                        name: Rc::clone(&self.name),
                        on_message: Rc::clone(&on_message),
                    })
                });
                let key = format!("{}:bus", self.name);
                let closed = Rc::clone(closed);
                let listener = window().and_then(|window| {
                    Listener::new(&window, "storage", move |event| {
                        let Some(event) = event.dyn_ref::<StorageEvent>() else {
                            return;
                        };
                        if closed.get() || event.key().as_deref() != Some(key.as_str()) {
                            return;
                        }
                        let envelope = event.new_value().and_then(|value| {
                            serde_json::from_str::<serde_json::Value>(&value).ok()
                        });
                        let message = envelope.as_ref().and_then(|e| e.get("message")?.as_str());
                        if let Some(message) = message {
                            on_message(message.to_owned());
                        }
                    })
                });
                Subscription {
                    _listener: listener.ok(),
                    local: Some(subscriber),
                }
            }
        }
    }
}

impl Drop for TabChannel {
    fn drop(&mut self) {
        match &self.transport {
            Transport::Broadcast(channel) => channel.close(),
            Transport::Storage { id, closed, .. } => {
                closed.set(true);
                LOCAL_SUBSCRIBERS.with(|subscribers| {
                    subscribers
                        .borrow_mut()
                        .retain(|subscriber| subscriber.channel != *id)
                });
            }
        }
    }
}

/// Delivers a storage-fallback message to the page's other channels of `name`, in a later task as a
/// `BroadcastChannel` would.
fn deliver_in_page(name: Rc<str>, from: u64, message: String) {
    super::spawn(async move {
        let targets: Vec<(u64, OnMessage)> = LOCAL_SUBSCRIBERS.with(|subscribers| {
            subscribers
                .borrow()
                .iter()
                .filter(|subscriber| subscriber.name == name && subscriber.channel != from)
                .map(|subscriber| (subscriber.id, Rc::clone(&subscriber.on_message)))
                .collect()
        });
        for (id, on_message) in targets {
            // An earlier subscriber may have dropped this one.
            let present = LOCAL_SUBSCRIBERS
                .with(|subscribers| subscribers.borrow().iter().any(|other| other.id == id));
            if present {
                on_message(message.clone());
            }
        }
    });
}

/// A subscription to a [`TabChannel`]; dropping it removes the listener.
#[must_use = "dropping the subscription unsubscribes at once"]
pub struct Subscription {
    _listener: Option<Listener>,
    /// Its entry in the page's list of storage-fallback subscribers.
    local: Option<u64>,
}

impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription").finish_non_exhaustive()
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if let Some(id) = self.local {
            LOCAL_SUBSCRIBERS.with(|subscribers| {
                subscribers
                    .borrow_mut()
                    .retain(|subscriber| subscriber.id != id)
            });
        }
    }
}
