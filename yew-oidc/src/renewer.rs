//! `IframeRenewer`: one silent authorize request in a hidden iframe, and the one message that answers it.
//!
//! Implementation notes:
//! - A message is trusted only if all of these hold, checked in this order (RFC 9700 §4.17): its
//!   `origin` is the page's own origin exactly (the silent page is served by the app), its `source` is
//!   this component's own iframe (another same-origin frame, or the page itself, could post anything),
//!   it decodes with the one parser (`silent_callback::decode_message`), and its `state` is the pending
//!   request's. The first message that passes ends the request; every other one is reported as ignored.
//! - Fail-fast: the frame's `load` event tells whether it shows a same-origin document (our silent page:
//!   its message follows) or a cross-origin one (a provider login or error page, or a browser error page
//!   for a frame that was refused): reading `contentWindow.location.href` throws for the latter. Then only
//!   a short grace is left for a message instead of the whole timeout.
//! - The decisions are the pure functions `judge_message` and `classify_load`; the rest is glue.
//! - Everything one request holds (its frame, listeners and timers) lives in one `Attempt`; ending the
//!   request drops it at once, inside the event that ended it, so no later event can reach it.
//! - The attempt creates its iframe itself, inside a host element the component renders, and only after
//!   its listeners are attached: Yew may yield to the browser between a render and its effects, so a
//!   frame rendered by Yew could load, or even answer, before anyone listens. A new request gets a new
//!   frame (a new window), never a navigated old one.

use crate::browser::error::js_message;
use crate::browser::listener::Listener;
use crate::browser::navigation;
use gloo::timers::callback::Timeout;
use oidc_renew_core::schedule::timer_delay;
use oidc_renew_core::status::IgnoredMessage;
use silent_callback::{decode_message, Callback as SilentCallback, DecodeError, SilentMessage};
use std::cell::RefCell;
use std::rc::{Rc, Weak};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Element, Event, EventTarget, HtmlIFrameElement, MessageEvent};
use yew::prelude::*;

/// One silent authorize request: the iframe's URL and the state it must come back with.
#[derive(Debug, Clone, PartialEq)]
pub struct SilentRequest {
    /// Tells requests apart: each id gets at most one outcome, and a new id starts afresh.
    pub id: u64,
    /// The authorize URL (`prompt=none`, `redirect_uri` = the silent page).
    pub url: String,
    /// The `state` sent in `url`; the answer must carry it back.
    pub state: String,
}

/// How a silent request ended.
#[derive(Debug, Clone, PartialEq)]
pub enum SilentOutcome {
    /// The silent page posted a well-formed callback whose state matches (success, or an OAuth error
    /// such as `login_required`: the caller classifies).
    Callback(SilentCallback),
    /// The silent page loaded with parameters it could not parse (its error code).
    Unparsable(String),
    /// No answer within the timeout.
    Timeout,
    /// The frame finished loading a page that is not our silent page (a provider login or error page,
    /// or a page that refused framing) and no message followed within the grace period.
    FailFast,
}

/// Props of [`IframeRenewer`].
#[derive(Properties, PartialEq)]
pub struct IframeRenewerProps {
    /// The pending request; `None` = no iframe, no listener.
    pub request: Option<SilentRequest>,
    /// Called once per request id with its outcome. A request replaced or cleared before it ends
    /// reports nothing.
    pub on_outcome: Callback<(u64, SilentOutcome)>,
    /// Called for every ignored message.
    #[prop_or_default]
    pub on_ignored: Callback<IgnoredMessage>,
    /// How long a request may take, in milliseconds; read when the request starts.
    #[prop_or(10_000)]
    pub timeout_ms: u32,
    /// How long a message may take after the frame loaded a cross-origin page, in milliseconds; read
    /// when the request starts.
    #[prop_or(1_000)]
    pub fail_fast_grace_ms: u32,
}

/// Runs the pending silent request in one hidden iframe and reports how it ended.
///
/// While `request` is pending it shows one hidden, unfocusable iframe (`class="silent-renewal-frame"`,
/// inside a hidden `div.silent-renewal`) at `request.url`, and listens for the silent page's message.
/// The request ends with the first acceptable message, the timeout, or fail-fast (see
/// [`SilentOutcome`]); then the iframe, listeners and timers are removed at once, even while the parent
/// still holds the request, and `on_outcome` is called once. Unmounting removes them too, reporting
/// nothing.
#[function_component(IframeRenewer)]
pub fn iframe_renewer(props: &IframeRenewerProps) -> Html {
    // The id of the request that ended last: it stays ended while the parent still holds it.
    let ended = use_state_eq(|| None::<u64>);
    let host = use_node_ref();
    // The latest callbacks, so a request started by an earlier render reports to the current parent.
    let handlers = use_mut_ref(Handlers::default);
    *handlers.borrow_mut() = Handlers {
        on_outcome: props.on_outcome.clone(),
        on_ignored: props.on_ignored.clone(),
    };
    let active = props
        .request
        .clone()
        .filter(|request| Some(request.id) != *ended);

    {
        let host = host.clone();
        let ended = ended.clone();
        let limits = Limits {
            timeout_ms: props.timeout_ms,
            grace_ms: props.fail_fast_grace_ms,
        };
        use_effect_with(active.clone(), move |active| {
            // Effects run after the render that inserted the host, so the node ref is set.
            let attempt = active.clone().map(|request| {
                let on_ended = Callback::from(move |id| ended.set(Some(id)));
                Attempt::start(request, host.cast(), handlers, on_ended, limits)
            });
            move || drop(attempt)
        });
    }

    match active {
        Some(_) => html! { <div ref={host} class="silent-renewal" hidden=true /> },
        None => Html::default(),
    }
}

/// Where a message came from, as read off the event.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sender<'a> {
    /// `event.origin`.
    pub origin: &'a str,
    /// Whether `event.source` is the renewer's own frame's window.
    pub from_frame: bool,
}

/// Decides about one message: the outcome it ends the request with, or why it is ignored. `decode` reads
/// the message's fields; it runs only for a message from the frame at the right origin.
pub(crate) fn judge_message(
    sender: Sender<'_>,
    own_origin: &str,
    expected_state: &str,
    decode: impl FnOnce() -> Result<SilentMessage, DecodeError>,
) -> Result<SilentOutcome, IgnoredMessage> {
    // An opaque origin ("null") is shared by every sandboxed or data: document: it identifies no one.
    if own_origin.is_empty() || own_origin == "null" || sender.origin != own_origin {
        return Err(IgnoredMessage::WrongOrigin);
    }
    if !sender.from_frame {
        return Err(IgnoredMessage::WrongSource);
    }
    match decode() {
        Ok(SilentMessage::Callback(callback)) => {
            if callback.state.as_deref() == Some(expected_state) {
                Ok(SilentOutcome::Callback(callback))
            } else {
                Err(IgnoredMessage::WrongState)
            }
        }
        // Our own frame at our origin: the silent page itself says the provider's answer was unusable.
        Ok(SilentMessage::Unparsable(code)) => Ok(SilentOutcome::Unparsable(code)),
        Err(DecodeError::Foreign) => Err(IgnoredMessage::Foreign),
        Err(DecodeError::Malformed | DecodeError::Params(_)) => Err(IgnoredMessage::Malformed),
    }
}

/// What a `load` event of the frame means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FrameLoad {
    /// The initial empty document: nothing has answered yet.
    Blank,
    /// A same-origin document (our silent page): its message follows, wait for it.
    SameOrigin,
    /// A cross-origin document (a provider page, or an error page): only the grace is left.
    CrossOrigin,
}

/// Classifies a frame `load` from `contentWindow.location.href`: `None` when reading it threw, which the
/// browser does for a cross-origin document.
pub(crate) fn classify_load(href: Option<&str>) -> FrameLoad {
    match href {
        None => FrameLoad::CrossOrigin,
        Some("about:blank") => FrameLoad::Blank,
        Some(_) => FrameLoad::SameOrigin,
    }
}

#[derive(Default)]
struct Handlers {
    on_outcome: Callback<(u64, SilentOutcome)>,
    on_ignored: Callback<IgnoredMessage>,
}

#[derive(Clone, Copy)]
struct Limits {
    timeout_ms: u32,
    grace_ms: u32,
}

/// One pending request and everything it holds. Dropping it removes its frame and listeners and
/// cancels its timers. Its callbacks hold only a [`Weak`] to it: the effect that owns it decides its
/// lifetime.
struct Attempt {
    request: SilentRequest,
    own_origin: String,
    frame: Option<HtmlIFrameElement>,
    handlers: Rc<RefCell<Handlers>>,
    on_ended: Callback<u64>,
    grace_ms: u32,
    grace: Option<Timeout>,
    // Held to be dropped with the attempt: removes the listeners, cancels the timer.
    _listeners: Vec<Listener>,
    _timeout: Timeout,
}

type Slot = Rc<RefCell<Option<Attempt>>>;

impl Attempt {
    fn start(
        request: SilentRequest,
        host: Option<Element>,
        handlers: Rc<RefCell<Handlers>>,
        on_ended: Callback<u64>,
        limits: Limits,
    ) -> Slot {
        let slot: Slot = Rc::new(RefCell::new(None));
        let weak = Rc::downgrade(&slot);
        let url = request.url.clone();
        // The timer comes first: whatever else fails to start, the request still ends.
        let timeout = {
            let weak = weak.clone();
            Timeout::new(timer_delay(limits.timeout_ms.into()), move || {
                finish(&weak, SilentOutcome::Timeout)
            })
        };
        let mut listeners = Vec::new();
        if let Ok(window) = crate::browser::error::window() {
            let weak = weak.clone();
            let on_message = move |event: Event| {
                if let Some(event) = event.dyn_ref::<MessageEvent>() {
                    on_message(&weak, event);
                }
            };
            listeners.extend(listen(&window, "message", on_message));
        }
        let frame = new_frame();
        if let Some(frame) = &frame {
            let weak = weak.clone();
            listeners.extend(listen(frame, "load", move |_| on_load(&weak)));
        }
        *slot.borrow_mut() = Some(Attempt {
            request,
            own_origin: navigation::origin(),
            frame: frame.clone(),
            handlers,
            on_ended,
            grace_ms: limits.grace_ms,
            grace: None,
            _listeners: listeners,
            _timeout: timeout,
        });
        // Listening already: now the frame may load.
        if let (Some(frame), Some(host)) = (frame, host) {
            frame.set_src(&url);
            if let Err(error) = host.append_child(&frame) {
                gloo::console::warn!(format!(
                    "silent renewal: cannot add the frame: {}",
                    js_message(&error)
                ));
            }
        }
        slot
    }

    /// Whether `event.source` is this request's frame's window.
    fn is_from_frame(&self, event: &MessageEvent) -> bool {
        let window = self.frame.as_ref().and_then(|frame| frame.content_window());
        match (event.source(), window) {
            (Some(source), Some(window)) => JsValue::from(source) == JsValue::from(window),
            _ => false,
        }
    }
}

fn on_message(weak: &Weak<RefCell<Option<Attempt>>>, event: &MessageEvent) {
    let Some(slot) = weak.upgrade() else { return };
    let (verdict, on_ignored) = {
        let Ok(attempt) = slot.try_borrow() else {
            return;
        };
        let Some(attempt) = attempt.as_ref() else {
            return;
        };
        let origin = event.origin();
        let sender = Sender {
            origin: &origin,
            from_frame: attempt.is_from_frame(event),
        };
        let verdict = judge_message(sender, &attempt.own_origin, &attempt.request.state, || {
            read_message(&event.data())
        });
        let on_ignored = attempt.handlers.borrow().on_ignored.clone();
        (verdict, on_ignored)
    };
    match verdict {
        Ok(outcome) => finish(weak, outcome),
        Err(reason) => on_ignored.emit(reason),
    }
}

/// Decodes `event.data`: the string properties `type`, `params` and `error` of an object. Anything else
/// (a string, a number, `null`) has no type, so it is foreign.
fn read_message(data: &JsValue) -> Result<SilentMessage, DecodeError> {
    if !data.is_object() {
        return Err(DecodeError::Foreign);
    }
    let field = |name: &str| {
        js_sys::Reflect::get(data, &JsValue::from_str(name))
            .ok()
            .and_then(|value| value.as_string())
    };
    let (kind, params, error) = (field("type"), field("params"), field("error"));
    decode_message(kind.as_deref(), params.as_deref(), error.as_deref())
}

fn on_load(weak: &Weak<RefCell<Option<Attempt>>>) {
    let Some(slot) = weak.upgrade() else { return };
    let Ok(mut attempt) = slot.try_borrow_mut() else {
        return;
    };
    let Some(attempt) = attempt.as_mut() else {
        return;
    };
    let Some(window) = attempt
        .frame
        .as_ref()
        .and_then(|frame| frame.content_window())
    else {
        return;
    };
    let href = window.location().href().ok();
    match classify_load(href.as_deref()) {
        FrameLoad::Blank => {}
        // A provider page that passed us on to the silent page: the full timeout applies again.
        FrameLoad::SameOrigin => attempt.grace = None,
        FrameLoad::CrossOrigin => {
            let weak = weak.clone();
            attempt.grace = Some(Timeout::new(
                timer_delay(attempt.grace_ms.into()),
                move || finish(&weak, SilentOutcome::FailFast),
            ));
        }
    }
}

/// Ends the request: drops everything it holds, then reports. Only the first call does anything.
fn finish(weak: &Weak<RefCell<Option<Attempt>>>, outcome: SilentOutcome) {
    let Some(slot) = weak.upgrade() else { return };
    let taken = slot
        .try_borrow_mut()
        .ok()
        .and_then(|mut attempt| attempt.take());
    let Some(attempt) = taken else { return };
    let id = attempt.request.id;
    let on_outcome = attempt.handlers.borrow().on_outcome.clone();
    let on_ended = attempt.on_ended.clone();
    // Removes the frame and the listeners and cancels the timers now; the listener or timer running
    // this call is freed by wasm-bindgen once it returns.
    drop(attempt);
    on_ended.emit(id);
    on_outcome.emit((id, outcome));
}

impl Drop for Attempt {
    fn drop(&mut self) {
        if let Some(frame) = &self.frame {
            frame.remove();
        }
    }
}

/// Adds a listener; without it the request can still end by its timeout, so a failure is only logged.
fn listen(
    target: &EventTarget,
    kind: &'static str,
    callback: impl FnMut(Event) + 'static,
) -> Option<Listener> {
    Listener::new(target, kind, callback)
        .map_err(|error| {
            gloo::console::warn!(format!("silent renewal: cannot listen to {kind}: {error}"))
        })
        .ok()
}

/// A new renewal frame, not yet in the document and without a URL: hidden, out of the tab order and
/// of the accessibility tree, zero-sized.
fn new_frame() -> Option<HtmlIFrameElement> {
    let document = crate::browser::error::window().ok()?.document()?;
    let frame: HtmlIFrameElement = document.create_element("iframe").ok()?.dyn_into().ok()?;
    frame.set_class_name("silent-renewal-frame");
    frame.set_title("Silent session renewal");
    frame.set_hidden(true);
    frame.set_tab_index(-1);
    frame.set_width("0");
    frame.set_height("0");
    frame.set_attribute("aria-hidden", "true").ok()?;
    // Through the CSSOM, not a `style` attribute: a strict CSP (no 'unsafe-inline' styles) blocks the
    // attribute but not this.
    let style = frame.style();
    for (property, value) in [
        ("position", "absolute"),
        ("width", "0"),
        ("height", "0"),
        ("border", "0"),
    ] {
        style.set_property(property, value).ok()?;
    }
    Some(frame)
}

#[cfg(test)]
mod tests {
    use super::*;
    use silent_callback::{parse_callback, Outcome, ParseError};

    const ORIGIN: &str = "https://app.example";

    fn check(
        origin: &str,
        from_frame: bool,
        message: Result<SilentMessage, DecodeError>,
        expected: Result<SilentOutcome, IgnoredMessage>,
    ) {
        let sender = Sender { origin, from_frame };
        let shown = format!("{origin} {from_frame} {message:?}");
        assert_eq!(
            judge_message(sender, ORIGIN, "S1", || message),
            expected,
            "{shown}"
        );
    }

    fn callback(params: &str) -> SilentMessage {
        SilentMessage::Callback(parse_callback(params).unwrap())
    }

    #[test]
    fn accepts_a_matching_callback_from_its_frame_at_its_origin() {
        let good = callback("code=c1&state=S1");
        let SilentMessage::Callback(expected) = good.clone() else {
            unreachable!()
        };
        assert_eq!(expected.outcome, Outcome::Code { code: "c1".into() });
        check(
            ORIGIN,
            true,
            Ok(good),
            Ok(SilentOutcome::Callback(expected)),
        );
        // An OAuth error is an answer too: the caller classifies it.
        let refused = callback("error=login_required&state=S1");
        let SilentMessage::Callback(expected) = refused.clone() else {
            unreachable!()
        };
        check(
            ORIGIN,
            true,
            Ok(refused),
            Ok(SilentOutcome::Callback(expected)),
        );
        check(
            ORIGIN,
            true,
            Ok(SilentMessage::Unparsable("no_response".into())),
            Ok(SilentOutcome::Unparsable("no_response".into())),
        );
    }

    #[test]
    fn ignores_everything_else_with_its_reason() {
        let good = || Ok(callback("code=c1&state=S1"));
        use IgnoredMessage::*;
        check("https://evil.example", true, good(), Err(WrongOrigin));
        check("https://app.example:443", true, good(), Err(WrongOrigin));
        check("https://app.example.evil", true, good(), Err(WrongOrigin));
        check("http://app.example", true, good(), Err(WrongOrigin));
        check("null", true, good(), Err(WrongOrigin));
        check("", true, good(), Err(WrongOrigin));
        check(ORIGIN, false, good(), Err(WrongSource));
        check(ORIGIN, true, Err(DecodeError::Foreign), Err(Foreign));
        check(ORIGIN, true, Err(DecodeError::Malformed), Err(Malformed));
        let garbage = Err(DecodeError::Params(ParseError::Malformed));
        check(ORIGIN, true, garbage, Err(Malformed));
        check(
            ORIGIN,
            true,
            Ok(callback("code=c&state=S2")),
            Err(WrongState),
        );
        check(
            ORIGIN,
            true,
            Ok(callback("code=c&state=s1")),
            Err(WrongState),
        );
        check(
            ORIGIN,
            true,
            Ok(callback("error=login_required")),
            Err(WrongState),
        );
    }

    #[test]
    fn an_opaque_own_origin_trusts_nobody() {
        for own in ["null", ""] {
            let sender = Sender {
                origin: own,
                from_frame: true,
            };
            let verdict = judge_message(sender, own, "S1", || Ok(callback("code=c&state=S1")));
            assert_eq!(verdict, Err(IgnoredMessage::WrongOrigin), "{own:?}");
        }
    }

    #[test]
    fn decodes_only_after_origin_and_source_pass() {
        let sender = Sender {
            origin: "https://evil.example",
            from_frame: true,
        };
        let _ = judge_message(sender, ORIGIN, "S1", || panic!("decoded a foreign message"));
        let sender = Sender {
            origin: ORIGIN,
            from_frame: false,
        };
        let _ = judge_message(sender, ORIGIN, "S1", || {
            panic!("decoded another window's message")
        });
    }

    #[test]
    fn classifies_frame_loads() {
        assert_eq!(classify_load(None), FrameLoad::CrossOrigin);
        assert_eq!(classify_load(Some("about:blank")), FrameLoad::Blank);
        let silent = Some("https://app.example/silent/");
        assert_eq!(classify_load(silent), FrameLoad::SameOrigin);
        let blob = Some("blob:https://app.example/0b6f");
        assert_eq!(classify_load(blob), FrameLoad::SameOrigin);
    }

    #[test]
    fn timer_delays_fit_set_timeout() {
        assert_eq!(timer_delay(0), 0);
        assert_eq!(timer_delay(10_000), 10_000);
        assert_eq!(timer_delay(u32::MAX.into()), i32::MAX as u32);
    }
}
