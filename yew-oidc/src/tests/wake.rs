//! Wake-ups: each event and the interval report their reason; a hidden document is no wake-up; dropping
//! the guard (also from inside the callback) stops them all.

use crate::browser::wake::{is_online, on_wake, WakeGuard, WakeReason};
use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::wasm_bindgen_test;
use web_sys::{Event, EventTarget};

async fn sleep_ms(ms: u64) {
    yew::platform::time::sleep(Duration::from_millis(ms)).await;
}

/// The reasons reported so far, in order.
#[derive(Clone, Default)]
struct Reasons(Rc<RefCell<Vec<WakeReason>>>);

impl Reasons {
    fn recorder(&self) -> impl Fn(WakeReason) + 'static {
        let reasons = self.0.clone();
        move |reason| reasons.borrow_mut().push(reason)
    }
    /// The reasons reported since the last call.
    fn take(&self) -> Vec<WakeReason> {
        std::mem::take(&mut *self.0.borrow_mut())
    }
}

fn window() -> EventTarget {
    gloo::utils::window().into()
}

fn document() -> EventTarget {
    gloo::utils::document().into()
}

/// Dispatches a plain `kind` event on `target`; listeners run before this returns.
fn dispatch(target: &EventTarget, kind: &str) {
    target.dispatch_event(&Event::new(kind).unwrap()).unwrap();
}

/// Every event on which the scheduler must look again, in order.
fn dispatch_all() {
    dispatch(&window(), "online");
    dispatch(&window(), "focus");
    dispatch(&window(), "pageshow");
    dispatch(&document(), "visibilitychange");
}

/// Makes `document.visibilityState` read `state` (`None`: the browser's own value again).
fn fake_visibility(state: Option<&str>) {
    let script = match state {
        Some(state) => format!(
            "Object.defineProperty(document, 'visibilityState', {{ configurable: true, get: () => {state:?} }})"
        ),
        None => "delete document.visibilityState".to_owned(),
    };
    js_sys::eval(&script).unwrap();
}

#[wasm_bindgen_test]
fn each_event_wakes_with_its_reason() {
    assert_eq!(
        gloo::utils::document().visibility_state(),
        web_sys::VisibilityState::Visible
    );
    let reasons = Reasons::default();
    let _guard = on_wake(0, reasons.recorder());
    dispatch_all();
    assert_eq!(
        reasons.take(),
        [
            WakeReason::Online,
            WakeReason::Focus,
            WakeReason::PageShow,
            WakeReason::Visible
        ]
    );
}

#[wasm_bindgen_test]
fn becoming_hidden_is_no_wake() {
    let reasons = Reasons::default();
    let _guard = on_wake(0, reasons.recorder());
    fake_visibility(Some("hidden"));
    dispatch(&document(), "visibilitychange");
    fake_visibility(None);
    assert_eq!(reasons.take(), []);
    dispatch(&document(), "visibilitychange");
    assert_eq!(reasons.take(), [WakeReason::Visible]);
}

#[wasm_bindgen_test]
async fn the_interval_wakes_periodically_until_dropped() {
    let reasons = Reasons::default();
    let guard = on_wake(50, reasons.recorder());
    sleep_ms(280).await;
    let periodic = reasons.take();
    // Five periods fit; timers may run late on a loaded machine, never early.
    assert!(
        (3..=5).contains(&periodic.len()),
        "{} periodic wakes in 280 ms",
        periodic.len()
    );
    assert!(periodic
        .iter()
        .all(|reason| *reason == WakeReason::Periodic));
    drop(guard);
    sleep_ms(150).await;
    assert_eq!(reasons.take(), []);
}

#[wasm_bindgen_test]
async fn dropping_the_guard_stops_every_wake() {
    let reasons = Reasons::default();
    let guard = on_wake(30, reasons.recorder());
    drop(guard);
    dispatch_all();
    sleep_ms(120).await;
    assert_eq!(reasons.take(), []);
}

#[wasm_bindgen_test]
fn the_guard_can_be_dropped_from_its_own_callback() {
    // What a scheduler that stops on logout does: the wake-up that signs out drops the listeners.
    let slot: Rc<RefCell<Option<WakeGuard>>> = Rc::default();
    let reasons = Reasons::default();
    let guard = on_wake(0, {
        let slot = slot.clone();
        let record = reasons.recorder();
        move |reason| {
            record(reason);
            drop(slot.borrow_mut().take());
        }
    });
    *slot.borrow_mut() = Some(guard);
    dispatch(&window(), "online");
    dispatch(&window(), "online");
    dispatch(&window(), "focus");
    assert_eq!(reasons.take(), [WakeReason::Online]);
    assert!(slot.borrow().is_none());
}

#[wasm_bindgen_test]
fn online_follows_the_browser() {
    let browser = js_sys::Reflect::get(
        &gloo::utils::window().navigator(),
        &JsValue::from_str("onLine"),
    )
    .unwrap()
    .as_bool()
    .unwrap();
    assert_eq!(is_online(), browser);
    assert!(is_online(), "the test browser is online");
}
