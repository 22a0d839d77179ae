//! Cross-tab glue: the exclusive lock (Web Locks and the localStorage lease) and the tab channel
//! (BroadcastChannel and `storage` events), each backend exercised on its own.
//!
//! Storage events never fire in the document that wrote, so the fallback bus is checked across documents
//! with a `blob:` iframe: a blob document made by this page has the page's origin, hence its localStorage.

use crate::browser::tabs::{
    has_broadcast_channel, has_web_locks, with_exclusive_lock, with_exclusive_lock_using, Backend,
    TabChannel, LEASE_MS,
};
use crate::browser::BrowserError;
use std::cell::RefCell;
use std::future::{pending, poll_fn, Future};
use std::pin::pin;
use std::rc::Rc;
use std::task::Poll;
use std::time::Duration;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::wasm_bindgen_test;
use web_sys::HtmlIFrameElement;
use yew::platform::pinned::oneshot;

/// A lock or channel name no other test uses.
fn name(test: &str) -> String {
    format!("oidc-renew-test:tabs:{test}")
}

async fn sleep_ms(ms: u64) {
    yew::platform::time::sleep(Duration::from_millis(ms)).await;
}

fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// A shared, ordered record of what happened.
#[derive(Clone, Default)]
struct Log(Rc<RefCell<Vec<String>>>);

impl Log {
    fn push(&self, entry: impl Into<String>) {
        self.0.borrow_mut().push(entry.into());
    }
    fn entries(&self) -> Vec<String> {
        self.0.borrow().clone()
    }
    fn has(&self, entry: &str) -> bool {
        self.0.borrow().iter().any(|e| e == entry)
    }
}

/// Waits (up to 2 s) until `done` holds.
async fn wait_until(what: &str, done: impl Fn() -> bool) {
    let start = now_ms();
    while !done() {
        assert!(now_ms() - start < 2_000.0, "timed out waiting until {what}");
        sleep_ms(5).await;
    }
}

/// Runs `future` as its own task; the returned future yields its output.
fn spawn<T: 'static>(future: impl Future<Output = T> + 'static) -> impl Future<Output = T> {
    let (sender, receiver) = oneshot::channel();
    yew::platform::spawn_local(async move {
        let _ = sender.send(future.await);
    });
    async move { receiver.await.expect("the spawned task finished") }
}

/// Polls `future` for `ms` milliseconds, then drops it if it has not finished.
async fn for_at_most<T>(ms: u64, future: impl Future<Output = T>) -> Option<T> {
    let mut future = pin!(future);
    let mut timer = pin!(sleep_ms(ms));
    poll_fn(|cx| {
        if let Poll::Ready(output) = future.as_mut().poll(cx) {
            Poll::Ready(Some(output))
        } else if timer.as_mut().poll(cx).is_ready() {
            Poll::Ready(None)
        } else {
            Poll::Pending
        }
    })
    .await
}

/// Work that records its entry, holds for `hold_ms`, records its exit and returns `id`.
fn work(log: &Log, id: &'static str, hold_ms: u64) -> impl Future<Output = &'static str> {
    let log = log.clone();
    async move {
        log.push(format!("{id} enters"));
        sleep_ms(hold_ms).await;
        log.push(format!("{id} exits"));
        id
    }
}

fn local_storage() -> web_sys::Storage {
    gloo::utils::window().local_storage().unwrap().unwrap()
}

/// `navigator.locks.query()`: the names of the held and of the pending Web Locks.
async fn web_locks_snapshot() -> (Vec<String>, Vec<String>) {
    let snapshot = JsFuture::from(
        js_sys::eval("navigator.locks.query()")
            .unwrap()
            .unchecked_into::<js_sys::Promise>(),
    )
    .await
    .unwrap();
    let names = |list: &str| -> Vec<String> {
        js_sys::Array::from(&js_sys::Reflect::get(&snapshot, &list.into()).unwrap())
            .iter()
            .map(|info| {
                js_sys::Reflect::get(&info, &"name".into())
                    .unwrap()
                    .as_string()
                    .unwrap()
            })
            .collect()
    };
    (names("held"), names("pending"))
}

#[wasm_bindgen_test]
fn chromium_has_the_native_apis() {
    // Otherwise the `Native` tests below would silently test nothing native.
    assert!(has_web_locks());
    assert!(has_broadcast_channel());
}

// --- the lock ------------------------------------------------------------------------------------

/// Two holders of one name: the second enters only after the first exits.
async fn check_one_after_the_other(backend: Backend, name: &str) {
    let log = Log::default();
    let first = spawn(with_exclusive_lock_using(
        backend,
        name,
        1_000,
        work(&log, "first", 150),
    ));
    wait_until("the first holder entered", || log.has("first enters")).await;
    let second = with_exclusive_lock_using(backend, name, 2_000, work(&log, "second", 0)).await;
    assert_eq!(first.await, Ok("first"));
    assert_eq!(second, Ok("second"));
    assert_eq!(
        log.entries(),
        [
            "first enters",
            "first exits",
            "second enters",
            "second exits"
        ]
    );
}

#[wasm_bindgen_test]
async fn web_lock_holders_run_one_after_the_other() {
    check_one_after_the_other(Backend::Native, &name("serial-web-lock")).await;
}

#[wasm_bindgen_test]
async fn lease_holders_run_one_after_the_other() {
    check_one_after_the_other(Backend::LocalStorage, &name("serial-lease")).await;
}

/// Holders of two names do not wait for each other.
async fn check_names_independent(backend: Backend, test: &str) {
    let log = Log::default();
    let first = spawn(with_exclusive_lock_using(
        backend,
        &name(&format!("{test}-a")),
        1_000,
        work(&log, "a", 300),
    ));
    wait_until("a entered", || log.has("a enters")).await;
    let other = with_exclusive_lock_using(
        backend,
        &name(&format!("{test}-b")),
        100,
        work(&log, "b", 0),
    )
    .await;
    assert_eq!(other, Ok("b"));
    assert_eq!(first.await, Ok("a"));
    assert_eq!(
        log.entries(),
        ["a enters", "b enters", "b exits", "a exits"]
    );
}

#[wasm_bindgen_test]
async fn web_locks_of_different_names_run_concurrently() {
    check_names_independent(Backend::Native, "names-web-lock").await;
}

#[wasm_bindgen_test]
async fn leases_of_different_names_run_concurrently() {
    check_names_independent(Backend::LocalStorage, "names-lease").await;
}

/// While the lock is held, a bounded wait ends in `LockTimeout` on time without running the work, a zero
/// wait at once; the lock is free again once the holder is done.
async fn check_bounded_wait(backend: Backend, name: &str) {
    let log = Log::default();
    let holder = spawn(with_exclusive_lock_using(
        backend,
        name,
        1_000,
        work(&log, "holder", 400),
    ));
    wait_until("the holder entered", || log.has("holder enters")).await;

    let start = now_ms();
    let waited = with_exclusive_lock_using(backend, name, 80, work(&log, "waiter", 0)).await;
    let elapsed = now_ms() - start;
    assert_eq!(waited, Err(BrowserError::LockTimeout));
    assert!(
        (70.0..300.0).contains(&elapsed),
        "gave up after {elapsed} ms, expected about 80"
    );
    let start = now_ms();
    let tried = with_exclusive_lock_using(backend, name, 0, work(&log, "zero wait", 0)).await;
    assert_eq!(tried, Err(BrowserError::LockTimeout));
    assert!(now_ms() - start < 150.0, "a zero wait waited");

    assert_eq!(holder.await, Ok("holder"));
    assert_eq!(log.entries(), ["holder enters", "holder exits"]);
    // Neither refused request took the lock later on.
    sleep_ms(50).await;
    let after = with_exclusive_lock_using(backend, name, 0, work(&log, "after", 0)).await;
    assert_eq!(after, Ok("after"));
}

#[wasm_bindgen_test]
async fn web_lock_wait_is_bounded() {
    check_bounded_wait(Backend::Native, &name("bounded-web-lock")).await;
}

#[wasm_bindgen_test]
async fn lease_wait_is_bounded() {
    check_bounded_wait(Backend::LocalStorage, &name("bounded-lease")).await;
}

/// Dropping the future, while it waits or while its work runs, leaves the lock free and the work unrun.
async fn check_dropped_requests_let_go(backend: Backend, name: &str) {
    let log = Log::default();
    // Dropped while holding: its work never finishes.
    let dropped = for_at_most(
        100,
        with_exclusive_lock_using(backend, name, 1_000, pending::<()>()),
    )
    .await;
    assert_eq!(dropped, None);
    let next = with_exclusive_lock_using(backend, name, 500, work(&log, "next", 0)).await;
    assert_eq!(next, Ok("next"), "a dropped holder kept the lock");

    // Dropped while waiting behind a holder: it never runs, and does not keep the lock afterwards.
    let holder = spawn(with_exclusive_lock_using(
        backend,
        name,
        1_000,
        work(&log, "holder", 400),
    ));
    wait_until("the holder entered", || log.has("holder enters")).await;
    let dropped = for_at_most(
        50,
        with_exclusive_lock_using(backend, name, 5_000, work(&log, "dropped", 0)),
    )
    .await;
    assert_eq!(dropped, None);
    if backend == Backend::Native {
        // Withdrawn from the queue, not left there to be granted and released later.
        let start = now_ms();
        while web_locks_snapshot().await.1.contains(&name.to_owned()) {
            assert!(
                now_ms() - start < 150.0,
                "the dropped request is still queued"
            );
            sleep_ms(5).await;
        }
    }
    assert_eq!(holder.await, Ok("holder"));
    sleep_ms(50).await;
    let last = with_exclusive_lock_using(backend, name, 500, work(&log, "last", 0)).await;
    assert_eq!(last, Ok("last"));
    assert!(!log.has("dropped enters"), "{:?}", log.entries());
}

#[wasm_bindgen_test]
async fn dropped_web_lock_requests_let_go() {
    check_dropped_requests_let_go(Backend::Native, &name("dropped-web-lock")).await;
}

#[wasm_bindgen_test]
async fn dropped_lease_requests_let_go() {
    let name = name("dropped-lease");
    check_dropped_requests_let_go(Backend::LocalStorage, &name).await;
    assert_eq!(local_storage().get_item(&format!("{name}:lease")), Ok(None));
}

#[wasm_bindgen_test]
async fn the_lock_is_a_web_lock_in_chromium() {
    let name = name("is-web-lock");
    let inside = with_exclusive_lock(&name, 1_000, web_locks_snapshot())
        .await
        .unwrap();
    assert!(inside.0.contains(&name), "held: {:?}", inside.0);
    // Released once the work is done (the browser releases asynchronously).
    let start = now_ms();
    while web_locks_snapshot().await.0.contains(&name) {
        assert!(now_ms() - start < 1_000.0, "still held after the work");
        sleep_ms(5).await;
    }
    // No lease was written.
    assert_eq!(local_storage().get_item(&format!("{name}:lease")), Ok(None));
}

#[wasm_bindgen_test]
async fn a_web_lock_name_the_browser_refuses_is_an_error() {
    // Names starting with "-" are reserved by the Web Locks spec.
    let refused = with_exclusive_lock_using(Backend::Native, "-reserved", 100, async {}).await;
    assert!(
        matches!(&refused, Err(BrowserError::Js(message)) if message.contains("NotSupportedError")),
        "{refused:?}"
    );
}

#[wasm_bindgen_test]
async fn the_lease_is_stored_while_held_and_removed_after() {
    let name = name("lease-record");
    let key = format!("{name}:lease");
    let before = now_ms();
    let read = {
        let key = key.clone();
        async move { local_storage().get_item(&key).unwrap() }
    };
    let stored = with_exclusive_lock_using(Backend::LocalStorage, &name, 100, read)
        .await
        .unwrap()
        .expect("a lease while held");
    let lease: serde_json::Value = serde_json::from_str(&stored).unwrap();
    assert!(lease["owner"]
        .as_str()
        .is_some_and(|owner| owner.len() >= 16));
    let until = lease["until_ms"].as_f64().unwrap();
    assert!(
        until >= before + f64::from(LEASE_MS) && until <= now_ms() + f64::from(LEASE_MS),
        "until_ms {until}"
    );
    assert_eq!(local_storage().get_item(&key), Ok(None));
}

/// Whether a lease stored as `value` (built from now) blocks the lock.
async fn check_left_lease(test: &str, value: impl Fn(f64) -> String, blocks: bool) {
    let name = name(&format!("left-lease-{test}"));
    let key = format!("{name}:lease");
    let stored = value(now_ms().floor());
    local_storage().set_item(&key, &stored).unwrap();
    let acquired =
        with_exclusive_lock_using(Backend::LocalStorage, &name, 150, async { "ran" }).await;
    if blocks {
        assert_eq!(acquired, Err(BrowserError::LockTimeout), "{test}");
        // Another tab's live lease is left alone.
        assert_eq!(local_storage().get_item(&key), Ok(Some(stored)), "{test}");
        local_storage().remove_item(&key).unwrap();
    } else {
        assert_eq!(acquired, Ok("ran"), "{test}");
        assert_eq!(local_storage().get_item(&key), Ok(None), "{test}");
    }
}

#[wasm_bindgen_test]
async fn only_a_live_lease_blocks() {
    let lease = |owner: &'static str, offset: f64| {
        move |now: f64| format!(r#"{{"owner":"{owner}","until_ms":{}}}"#, now + offset)
    };
    // A tab that crashed while holding the lock.
    check_left_lease("expired", lease("crashed-tab", -1_000.0), false).await;
    // Unreadable values, and a lease longer than any this code writes (clock set back, or forged).
    check_left_lease("garbage", |_| "{not json".to_owned(), false).await;
    check_left_lease("wrong-shape", |_| r#"{"owner":5}"#.to_owned(), false).await;
    check_left_lease("absurd", lease("forged", 86_400_000.0), false).await;
    // Another tab holding it now.
    check_left_lease("live", lease("other-tab", 10_000.0), true).await;
}

// --- the channel ---------------------------------------------------------------------------------

/// A message received by a subscriber: (subscriber, message).
fn recorder(log: &Log, who: &'static str) -> impl Fn(String) + 'static {
    let log = log.clone();
    move |message| log.push(format!("{who}: {message}"))
}

/// Two channels of one name in the page hear each other, not themselves; another name hears nothing;
/// messages arrive in order.
async fn check_channels_in_page(backend: Backend, test: &str) {
    let log = Log::default();
    let a = TabChannel::open_using(backend, &name(test)).unwrap();
    let b = TabChannel::open_using(backend, &name(test)).unwrap();
    let other = TabChannel::open_using(backend, &name(&format!("{test}-other"))).unwrap();
    let _a = a.subscribe(recorder(&log, "a"));
    let _b = b.subscribe(recorder(&log, "b"));
    let _other = other.subscribe(recorder(&log, "other"));

    for message in ["one", "two", "three"] {
        a.post(message).unwrap();
    }
    wait_until("b heard a", || log.has("b: three")).await;
    b.post("reply").unwrap();
    wait_until("a heard b", || log.has("a: reply")).await;
    sleep_ms(50).await;
    assert_eq!(
        log.entries(),
        ["b: one", "b: two", "b: three", "a: reply"],
        "{test}"
    );
}

#[wasm_bindgen_test]
async fn broadcast_channels_reach_the_others_only() {
    check_channels_in_page(Backend::Native, "page-broadcast").await;
}

#[wasm_bindgen_test]
async fn storage_channels_reach_the_others_only() {
    check_channels_in_page(Backend::LocalStorage, "page-storage").await;
}

/// Nothing arrives after the subscription, or the receiving channel, is dropped.
async fn check_unsubscribe(backend: Backend, test: &str) {
    let log = Log::default();
    let sender = TabChannel::open_using(backend, &name(test)).unwrap();
    let receiver = TabChannel::open_using(backend, &name(test)).unwrap();
    let kept = receiver.subscribe(recorder(&log, "kept"));
    let dropped = receiver.subscribe(recorder(&log, "dropped"));
    sender.post("first").unwrap();
    wait_until("both heard it", || {
        log.has("kept: first") && log.has("dropped: first")
    })
    .await;

    drop(dropped);
    sender.post("second").unwrap();
    wait_until("kept heard it", || log.has("kept: second")).await;
    drop(receiver);
    sender.post("third").unwrap();
    sleep_ms(100).await;
    drop(kept);
    let mut entries = log.entries();
    entries[..2].sort();
    assert_eq!(
        entries,
        ["dropped: first", "kept: first", "kept: second"],
        "{test}"
    );
}

#[wasm_bindgen_test]
async fn broadcast_subscriptions_end_on_drop() {
    check_unsubscribe(Backend::Native, "unsubscribe-broadcast").await;
}

#[wasm_bindgen_test]
async fn storage_subscriptions_end_on_drop() {
    check_unsubscribe(Backend::LocalStorage, "unsubscribe-storage").await;
}

/// A `blob:` iframe running `script` (same origin as this page), once loaded. Removed on drop.
struct Frame(HtmlIFrameElement);

impl Frame {
    async fn new(script: &str) -> Frame {
        let load = js_sys::Function::new_with_args(
            "script",
            "const html = '<!doctype html><script>' + script + '</' + 'script>';
             const frame = document.createElement('iframe');
             frame.src = URL.createObjectURL(new Blob([html], { type: 'text/html' }));
             const loaded = new Promise((resolve) => frame.addEventListener('load', () => resolve(frame)));
             document.body.appendChild(frame);
             return loaded;",
        )
        .call1(&JsValue::NULL, &script.into())
        .unwrap();
        Frame(
            JsFuture::from(load.unchecked_into::<js_sys::Promise>())
                .await
                .unwrap()
                .unchecked_into(),
        )
    }

    /// The frame's global `name`.
    fn global(&self, name: &str) -> JsValue {
        js_sys::Reflect::get(&self.0.content_window().unwrap(), &name.into()).unwrap()
    }
}

impl Drop for Frame {
    fn drop(&mut self) {
        self.0.remove();
    }
}

#[wasm_bindgen_test]
async fn storage_channel_hears_another_document() {
    let name = name("from-frame");
    let channel = TabChannel::open_using(Backend::LocalStorage, &name).unwrap();
    let log = Log::default();
    let _subscription = channel.subscribe(recorder(&log, "page"));
    // Garbage on the bus is ignored; only the well-formed message arrives.
    let _frame = Frame::new(&format!(
        r#"const key = {key:?};
           for (const value of ['not json', '{{"nonce":"1","message":5}}',
                                JSON.stringify({{nonce: "2", message: "from the frame"}})]) {{
             localStorage.setItem(key, value);
             localStorage.removeItem(key);
           }}"#,
        key = format!("{name}:bus"),
    ))
    .await;
    wait_until("the page heard the frame", || {
        log.has("page: from the frame")
    })
    .await;
    sleep_ms(50).await;
    assert_eq!(log.entries(), ["page: from the frame"]);
}

#[wasm_bindgen_test]
async fn storage_channel_reaches_another_document() {
    let name = name("to-frame");
    let key = format!("{name}:bus");
    // The frame reads the bus as any other tab's script would: the wire format is {nonce, message}.
    let frame = Frame::new(&format!(
        r#"window.received = [];
           addEventListener('storage', (event) => {{
             if (event.key === {key:?} && event.newValue !== null) {{
               window.received.push(JSON.parse(event.newValue).message);
             }}
           }});"#
    ))
    .await;
    let channel = TabChannel::open_using(Backend::LocalStorage, &name).unwrap();
    channel.post("hello frame").unwrap();
    channel.post("hello frame").unwrap();
    let received = || -> Vec<String> {
        js_sys::Array::from(&frame.global("received"))
            .iter()
            .filter_map(|message| message.as_string())
            .collect()
    };
    wait_until("the frame heard both", || received().len() == 2).await;
    assert_eq!(received(), ["hello frame", "hello frame"]);
    // The message does not stay in storage.
    assert_eq!(local_storage().get_item(&key), Ok(None));
}

#[wasm_bindgen_test]
async fn broadcast_channel_hears_another_document() {
    let name = name("broadcast-frame");
    let channel = TabChannel::open(&name).unwrap();
    let log = Log::default();
    let _subscription = channel.subscribe(recorder(&log, "page"));
    let _frame = Frame::new(&format!(
        r#"const channel = new BroadcastChannel({name:?});
           channel.postMessage({{not: "a string"}});
           channel.postMessage("from the frame");"#
    ))
    .await;
    wait_until("the page heard the frame", || {
        log.has("page: from the frame")
    })
    .await;
    sleep_ms(50).await;
    assert_eq!(log.entries(), ["page: from the frame"]);
}
