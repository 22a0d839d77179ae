//! Wake-ups: the moments the renewal scheduler should look at the wall clock again.
//!
//! A timer alone cannot be trusted to fire on time: background tabs throttle or freeze timers, and a
//! sleeping laptop stops them altogether, so a renewal due during the sleep would be missed. The
//! scheduler therefore re-makes its decision from the wall clock when the page comes back (visible again,
//! restored from the back-forward cache, focused), when the network returns, and on a coarse interval.
//! This file only reports those moments; what to do is the scheduler's decision.
//!
//! It also holds `Listener`, the event listener removed on drop that the rest of the glue shares.

use super::listener::Listener;
use gloo::timers::callback::Interval;
use std::rc::Rc;
use web_sys::{Event, VisibilityState};

/// Why the scheduler should look at the wall clock again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WakeReason {
    /// The document became visible (`visibilitychange` to `visible`): the tab was brought to the front,
    /// or the laptop woke with the tab on screen.
    Visible,
    /// The page was shown (`pageshow`), e.g. restored from the back-forward cache, where no timer ran.
    PageShow,
    /// The browser is back online (`online`): a renewal that failed for lack of network can be retried.
    Online,
    /// The window received focus (`focus`).
    Focus,
    /// The coarse periodic check came round.
    Periodic,
}

/// Keeps the wake-up listeners and the interval of [`on_wake`] alive; dropping it removes them all.
#[must_use = "dropping the guard removes the listeners at once"]
pub struct WakeGuard {
    _listeners: Vec<Listener>,
    _interval: Option<Interval>,
}

impl std::fmt::Debug for WakeGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WakeGuard")
            .field("listeners", &self._listeners.len())
            .field("periodic", &self._interval.is_some())
            .finish()
    }
}

/// Calls `on_wake` on `visibilitychange` when the document becomes visible, on `pageshow`, `online`,
/// window `focus`, and every `period_ms` milliseconds (a coarse interval, e.g. 30 s: timers are throttled
/// or frozen in background tabs and stop while a laptop sleeps, so the decision is re-made from the wall
/// clock rather than trusted to a timer). A `period_ms` of 0 means no periodic check.
///
/// One real wake-up often raises several reasons in a row (a tab brought to the front is both visible
/// and focused): the scheduler's decision must be idempotent.
///
/// Dropping the returned guard removes every listener and the interval. Outside a browser page there is
/// nothing to listen to and the guard is empty.
///
/// ```ignore
/// use crate::browser::wake::{on_wake, WakeReason};
///
/// let guard = on_wake(30_000, |reason: WakeReason| {
///     // re-read the clock and reschedule
/// });
/// drop(guard); // on logout or unmount
/// ```
pub fn on_wake(period_ms: u32, on_wake: impl Fn(WakeReason) + 'static) -> WakeGuard {
    let on_wake: Rc<dyn Fn(WakeReason)> = Rc::new(on_wake);
    let mut listeners = Vec::new();
    if let Some(window) = web_sys::window() {
        let reason = |reason: WakeReason| {
            let on_wake = Rc::clone(&on_wake);
            move |_: Event| on_wake(reason)
        };
        if let Some(document) = window.document() {
            let on_wake = Rc::clone(&on_wake);
            let visible = document.clone();
            listeners.extend(
                Listener::new(&document, "visibilitychange", move |_| {
                    // Going hidden is no reason to look: only coming back is.
                    if visible.visibility_state() == VisibilityState::Visible {
                        on_wake(WakeReason::Visible);
                    }
                })
                .ok(),
            );
        }
        for (kind, wake) in [
            ("pageshow", WakeReason::PageShow),
            ("online", WakeReason::Online),
            ("focus", WakeReason::Focus),
        ] {
            listeners.extend(Listener::new(&window, kind, reason(wake)).ok());
        }
    }
    let interval = (period_ms > 0 && web_sys::window().is_some()).then(|| {
        let on_wake = Rc::clone(&on_wake);
        Interval::new(period_ms, move || on_wake(WakeReason::Periodic))
    });
    WakeGuard {
        _listeners: listeners,
        _interval: interval,
    }
}

/// Whether the browser reports being online (`navigator.onLine`). `true` outside a browser page, where
/// there is nothing to say otherwise: `false` is only a reason to wait for [`WakeReason::Online`].
///
/// `navigator.onLine` being `true` means only that some network interface is up, not that the provider
/// is reachable.
#[cfg_attr(not(all(test, target_arch = "wasm32")), allow(dead_code))]
pub fn is_online() -> bool {
    web_sys::window().is_none_or(|window| window.navigator().on_line())
}
