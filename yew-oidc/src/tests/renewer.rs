//! `IframeRenewer` in a real browser: which messages it trusts, its timeout and fail-fast, and that it
//! leaves no frame, listener or timer behind.
//!
//! Test frames are `blob:` documents made by this page, which have the page's origin (genuine
//! same-origin frames, like the silent page), and `data:` documents, which have an opaque origin (like a
//! provider's page). They post with `self.origin`, as the silent page does.

use super::common::{mount_point, settle};
use crate::renewer::{IframeRenewer, SilentOutcome, SilentRequest};
use oidc_renew_core::status::IgnoredMessage;
use silent_callback::{Callback as SilentCallback, Outcome};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::wasm_bindgen_test;
use web_sys::{Blob, BlobPropertyBag, Element, HtmlIFrameElement, Url};
use yew::prelude::*;
use yew::AppHandle;

const FRAME: &str = ".silent-renewal-frame";

/// What the renewer reported, and the parent's request setter.
#[derive(Default)]
struct Probe {
    outcomes: RefCell<Vec<(u64, SilentOutcome)>>,
    ignored: RefCell<Vec<IgnoredMessage>>,
    /// How many renewal frames the document held when each outcome was reported.
    frames_at_outcome: RefCell<Vec<u32>>,
    request: RefCell<Option<UseStateHandle<Option<SilentRequest>>>>,
}

#[derive(Properties)]
struct HarnessProps {
    probe: Rc<Probe>,
    timeout_ms: u32,
    grace_ms: u32,
}

impl PartialEq for HarnessProps {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.probe, &other.probe)
            && (self.timeout_ms, self.grace_ms) == (other.timeout_ms, other.grace_ms)
    }
}

/// A parent holding the request in its state, as the scheduler will. It never clears the request
/// itself: the renewer must end it on its own.
#[function_component(Harness)]
fn harness(props: &HarnessProps) -> Html {
    let request = use_state(|| None::<SilentRequest>);
    *props.probe.request.borrow_mut() = Some(request.clone());
    let on_outcome = {
        let probe = props.probe.clone();
        Callback::from(move |outcome| {
            let frames = gloo::utils::document().query_selector_all(FRAME).unwrap();
            probe.frames_at_outcome.borrow_mut().push(frames.length());
            probe.outcomes.borrow_mut().push(outcome);
        })
    };
    let on_ignored = {
        let probe = props.probe.clone();
        Callback::from(move |reason| probe.ignored.borrow_mut().push(reason))
    };
    html! {
        <IframeRenewer
            request={(*request).clone()}
            {on_outcome}
            {on_ignored}
            timeout_ms={props.timeout_ms}
            fail_fast_grace_ms={props.grace_ms}
        />
    }
}

/// A mounted harness.
struct Fixture {
    root: Element,
    probe: Rc<Probe>,
    app: Option<AppHandle<Harness>>,
}

impl Fixture {
    async fn new(timeout_ms: u32, grace_ms: u32) -> Self {
        let root = mount_point();
        let probe = Rc::new(Probe::default());
        let props = HarnessProps {
            probe: probe.clone(),
            timeout_ms,
            grace_ms,
        };
        let app = yew::Renderer::<Harness>::with_root_and_props(root.clone(), props).render();
        settle().await;
        Self {
            root,
            probe,
            app: Some(app),
        }
    }

    async fn request(&self, id: u64, url: &str, state: &str) {
        let setter = self
            .probe
            .request
            .borrow()
            .clone()
            .expect("harness rendered");
        setter.set(Some(SilentRequest {
            id,
            url: url.to_owned(),
            state: state.to_owned(),
        }));
        settle().await;
    }

    fn outcomes(&self) -> Vec<(u64, SilentOutcome)> {
        self.probe.outcomes.borrow().clone()
    }

    fn ignored(&self) -> Vec<IgnoredMessage> {
        self.probe.ignored.borrow().clone()
    }

    fn frames(&self) -> Vec<HtmlIFrameElement> {
        let nodes = self.root.query_selector_all(FRAME).unwrap();
        (0..nodes.length())
            .map(|i| nodes.item(i).unwrap().dyn_into().unwrap())
            .collect()
    }

    /// The one renewal frame, once it is there (the renewer adds it from an effect, which Yew may run a
    /// task after the render).
    async fn frame(&self) -> HtmlIFrameElement {
        wait_until("the frame", || !self.frames().is_empty()).await;
        let frames = self.frames();
        assert_eq!(frames.len(), 1, "{}", self.root.inner_html());
        frames.into_iter().next().unwrap()
    }

    /// Waits for the `n`th outcome and returns it.
    async fn outcome(&self, n: usize) -> (u64, SilentOutcome) {
        wait_until("an outcome", || self.probe.outcomes.borrow().len() >= n).await;
        self.outcomes()[n - 1].clone()
    }

    /// Asserts that the frame was gone when each outcome was reported, and that nothing is rendered
    /// once the renderer has caught up, although the parent still holds the request.
    async fn assert_cleared(&self) {
        let frames = self.probe.frames_at_outcome.borrow().clone();
        assert!(
            frames.iter().all(|&n| n == 0),
            "frames at outcomes: {frames:?}"
        );
        settle().await;
        let rendered = self.root.child_element_count();
        assert_eq!(rendered, 0, "{}", self.root.inner_html());
    }

    fn unmount(&mut self) {
        if let Some(app) = self.app.take() {
            app.destroy();
        }
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        self.unmount();
        self.root.remove();
    }
}

/// Polls `done` every 10 ms, for at most 5 s.
async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..500 {
        if done() {
            return;
        }
        sleep_ms(10).await;
    }
    panic!("timed out waiting for {what}");
}

async fn sleep_ms(ms: u64) {
    yew::platform::time::sleep(Duration::from_millis(ms)).await;
}

fn origin() -> String {
    gloo::utils::window().location().origin().unwrap()
}

/// A `blob:` URL of an HTML page running `script`: a same-origin document.
fn blob_page(script: &str) -> String {
    let html = format!("<!doctype html><title>test frame</title><script>{script}</script>");
    let parts = js_sys::Array::of1(&JsValue::from_str(&html));
    let options = BlobPropertyBag::new();
    options.set_type("text/html");
    let blob = Blob::new_with_str_sequence_and_options(&parts, &options).unwrap();
    Url::create_object_url_with_blob(&blob).unwrap()
}

/// A `data:` URL of an HTML page running `script`: a document of an opaque origin.
fn data_page(script: &str) -> String {
    let html = format!("<!doctype html><title>test frame</title><script>{script}</script>");
    format!(
        "data:text/html,{}",
        String::from(js_sys::encode_uri_component(&html))
    )
}

/// JavaScript posting `message` (a JS expression) to the parent at the frame's own origin.
fn post_js(message: &str) -> String {
    format!("parent.postMessage({message}, self.origin);")
}

/// The JS expression of a well-formed silent-page message.
fn answer_js(params: &str) -> String {
    format!(r#"{{type: "oidc-silent-callback", params: "{params}"}}"#)
}

/// JavaScript answering with `params` when the test posts `"go"` to the frame.
fn on_go_js(params: &str) -> String {
    format!(
        r#"addEventListener("message", function (e) {{ if (e.data === "go") {{ {} }} }});"#,
        post_js(&answer_js(params))
    )
}

/// Waits until the frame shows its blob page, loaded (not the initial `about:blank`, which is complete
/// at once).
async fn page_loaded(frame: &HtmlIFrameElement) {
    wait_until("the frame's page", || {
        frame.content_document().is_some_and(|document| {
            document.url().is_ok_and(|url| url.starts_with("blob:"))
                && document.ready_state() == "complete"
        })
    })
    .await;
}

/// Tells a page made with [`on_go_js`] to answer.
fn go(frame: &HtmlIFrameElement) {
    let window = frame.content_window().expect("frame attached");
    window.post_message(&"go".into(), &origin()).unwrap();
}

fn code_callback(code: &str, state: &str) -> SilentOutcome {
    SilentOutcome::Callback(SilentCallback {
        state: Some(state.to_owned()),
        iss: None,
        outcome: Outcome::Code {
            code: code.to_owned(),
        },
    })
}

/// The silent page's message as a JS object, built by this page.
fn message_object(params: &str) -> JsValue {
    let object = js_sys::Object::new();
    js_sys::Reflect::set(&object, &"type".into(), &"oidc-silent-callback".into()).unwrap();
    js_sys::Reflect::set(&object, &"params".into(), &params.into()).unwrap();
    object.into()
}

/// An iframe outside the renewer, removed when dropped.
struct Stranger(HtmlIFrameElement);

impl Stranger {
    fn new(set_up: impl FnOnce(&HtmlIFrameElement)) -> Self {
        let frame: HtmlIFrameElement = gloo::utils::document()
            .create_element("iframe")
            .unwrap()
            .unchecked_into();
        set_up(&frame);
        gloo::utils::body().append_child(&frame).unwrap();
        Self(frame)
    }
}

impl Drop for Stranger {
    fn drop(&mut self) {
        self.0.remove();
    }
}

/// Counts the `message` events the page receives, through a listener of its own.
struct MessageCounter {
    count: Rc<Cell<u32>>,
    listener: Closure<dyn FnMut(web_sys::Event)>,
}

impl MessageCounter {
    fn new() -> Self {
        let count = Rc::new(Cell::new(0));
        let listener = {
            let count = count.clone();
            Closure::<dyn FnMut(web_sys::Event)>::new(move |_| count.set(count.get() + 1))
        };
        gloo::utils::window()
            .add_event_listener_with_callback("message", listener.as_ref().unchecked_ref())
            .unwrap();
        Self { count, listener }
    }

    /// Posts a message the renewer would have trusted from its frame, from this page, and waits until
    /// it has been dispatched to every listener of the page.
    async fn post_and_deliver(&self, params: &str) {
        let before = self.count.get();
        gloo::utils::window()
            .post_message(&message_object(params), &origin())
            .unwrap();
        wait_until("the message", || self.count.get() > before).await;
    }
}

impl Drop for MessageCounter {
    fn drop(&mut self) {
        let _ = gloo::utils::window()
            .remove_event_listener_with_callback("message", self.listener.as_ref().unchecked_ref());
    }
}

#[wasm_bindgen(inline_js = r#"
export class ListenerWatch {
  constructor(types) {
    const proto = EventTarget.prototype;
    const add = proto.addEventListener;
    const remove = proto.removeEventListener;
    const entries = [];
    const find = (target, type, listener) =>
      entries.findIndex((e) => e[0] === target && e[1] === type && e[2] === listener);
    this.entries = entries;
    this.most = 0;
    const watch = this;
    proto.addEventListener = function (type, listener, options) {
      if (types.includes(type) && find(this, type, listener) < 0) {
        entries.push([this, type, listener]);
        watch.most = Math.max(watch.most, entries.length);
      }
      return add.call(this, type, listener, options);
    };
    proto.removeEventListener = function (type, listener, options) {
      const i = find(this, type, listener);
      if (i >= 0) entries.splice(i, 1);
      return remove.call(this, type, listener, options);
    };
    this.restore = () => {
      proto.addEventListener = add;
      proto.removeEventListener = remove;
    };
  }
  live() { return this.entries.length; }
  peak() { return this.most; }
  stop() { this.restore(); }
}
"#)]
extern "C" {
    /// Counts the listeners of some event types added (and not yet removed) on any target, by
    /// wrapping `EventTarget.prototype` until stopped.
    type ListenerWatch;
    #[wasm_bindgen(constructor)]
    fn new(types: Vec<String>) -> ListenerWatch;
    #[wasm_bindgen(method)]
    fn live(this: &ListenerWatch) -> u32;
    #[wasm_bindgen(method)]
    fn peak(this: &ListenerWatch) -> u32;
    #[wasm_bindgen(method)]
    fn stop(this: &ListenerWatch);
}

/// A [`ListenerWatch`] of `message` and `load` listeners, stopped when dropped.
struct Watch(ListenerWatch);

impl Watch {
    fn new() -> Self {
        Self(ListenerWatch::new(vec!["message".into(), "load".into()]))
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.0.stop();
    }
}

fn sorted(mut reasons: Vec<IgnoredMessage>) -> Vec<IgnoredMessage> {
    reasons.sort_by_key(|reason| *reason as u8);
    reasons
}

#[wasm_bindgen_test]
async fn accepts_the_real_message_and_removes_the_frame() {
    let fixture = Fixture::new(10_000, 1_000).await;
    assert!(fixture.frames().is_empty(), "no request, no frame");
    fixture
        .request(
            1,
            &blob_page(&post_js(&answer_js("code=c1&state=S1"))),
            "S1",
        )
        .await;
    assert_eq!(fixture.outcome(1).await, (1, code_callback("c1", "S1")));
    fixture.assert_cleared().await;
    assert!(fixture.ignored().is_empty(), "{:?}", fixture.ignored());
}

#[wasm_bindgen_test]
async fn renders_one_hidden_unfocusable_frame_while_pending() {
    let fixture = Fixture::new(10_000, 1_000).await;
    let url = blob_page(&on_go_js("code=c1&state=S1"));
    fixture.request(7, &url, "S1").await;
    let frame = fixture.frame().await;
    assert_eq!(frame.src(), url);
    assert!(frame.hidden());
    assert_eq!(frame.get_attribute("aria-hidden").as_deref(), Some("true"));
    assert_eq!(frame.get_attribute("tabindex").as_deref(), Some("-1"));
    assert!(!frame.title().is_empty());
    assert_eq!(frame.offset_width(), 0);
    assert_eq!(frame.offset_height(), 0);
    // Nothing answers until the page is told to.
    page_loaded(&frame).await;
    assert!(fixture.outcomes().is_empty());
    go(&frame);
    assert_eq!(fixture.outcome(1).await, (7, code_callback("c1", "S1")));
}

#[wasm_bindgen_test]
async fn ignores_messages_from_other_origins_and_windows() {
    let fixture = Fixture::new(10_000, 1_000).await;
    fixture
        .request(1, &blob_page(&on_go_js("code=c1&state=S1")), "S1")
        .await;
    let forged = answer_js("code=forged&state=S1");
    // (a) Right shape and state, from an opaque origin (it can only post to "*").
    let _opaque = Stranger::new(|frame| {
        frame.set_src(&data_page(&format!("parent.postMessage({forged}, \"*\");")))
    });
    // (b) Right origin, but other frames: a blob page and a srcdoc page.
    let _blob = Stranger::new(|frame| frame.set_src(&blob_page(&post_js(&forged))));
    let _srcdoc = Stranger::new(|frame| {
        let html = format!("<script>{}</script>", post_js(&forged));
        frame.set_attribute("srcdoc", &html).unwrap()
    });
    // (c) The page itself.
    gloo::utils::window()
        .post_message(&message_object("code=forged&state=S1"), &origin())
        .unwrap();

    wait_until("four forged messages", || fixture.ignored().len() >= 4).await;
    assert!(fixture.outcomes().is_empty(), "{:?}", fixture.outcomes());
    let frame = fixture.frame().await;
    page_loaded(&frame).await;
    go(&frame);
    assert_eq!(fixture.outcome(1).await, (1, code_callback("c1", "S1")));
    use IgnoredMessage::*;
    assert_eq!(
        sorted(fixture.ignored()),
        [WrongOrigin, WrongSource, WrongSource, WrongSource]
    );
}

#[wasm_bindgen_test]
async fn ignores_wrong_shapes_and_states_from_its_own_frame() {
    let fixture = Fixture::new(10_000, 1_000).await;
    // Request 1 ends with its real answer; its message is replayed during request 2.
    let first = answer_js("code=c1&state=S1");
    fixture.request(1, &blob_page(&post_js(&first)), "S1").await;
    assert_eq!(fixture.outcome(1).await, (1, code_callback("c1", "S1")));

    let bad = [
        // Foreign: not our message at all.
        r#""a string""#.to_owned(),
        "42".to_owned(),
        "null".to_owned(),
        r#"{params: "code=c2&state=S2"}"#.to_owned(),
        // Malformed: our type, wrong shape or garbage parameters.
        r#"{type: "oidc-silent-callback"}"#.to_owned(),
        r#"{type: "oidc-silent-callback", params: 42}"#.to_owned(),
        answer_js("code=c2&state=S2&code=c3"),
        // WrongState: another request's state, and the replay of request 1's answer.
        answer_js("code=c2&state=S3"),
        first,
    ];
    let script: String = bad.iter().map(|message| post_js(message)).collect();
    let url = blob_page(&format!("{}{script}", on_go_js("code=c2&state=S2")));
    fixture.request(2, &url, "S2").await;

    wait_until("nine bad messages", || fixture.ignored().len() >= 9).await;
    assert_eq!(fixture.outcomes().len(), 1, "{:?}", fixture.outcomes());
    go(&fixture.frame().await);
    assert_eq!(fixture.outcome(2).await, (2, code_callback("c2", "S2")));
    use IgnoredMessage::*;
    assert_eq!(
        fixture.ignored(),
        [
            Foreign, Foreign, Foreign, Foreign, Malformed, Malformed, Malformed, WrongState,
            WrongState
        ]
    );
    fixture.assert_cleared().await;
}

#[wasm_bindgen_test]
async fn reports_an_unparsable_answer_of_its_own_frame() {
    let fixture = Fixture::new(10_000, 1_000).await;
    let message = r#"{type: "oidc-silent-callback", error: "no_response"}"#;
    fixture
        .request(3, &blob_page(&post_js(message)), "S1")
        .await;
    assert_eq!(
        fixture.outcome(1).await,
        (3, SilentOutcome::Unparsable("no_response".into()))
    );
}

#[wasm_bindgen_test]
async fn times_out_when_its_page_never_answers() {
    // A same-origin page that stays silent: not fail-fast (that is for pages that are not ours), so the
    // whole timeout runs, although the grace is much shorter.
    let fixture = Fixture::new(400, 50).await;
    let started = js_sys::Date::now();
    fixture.request(1, &blob_page(""), "S1").await;
    assert_eq!(fixture.outcome(1).await, (1, SilentOutcome::Timeout));
    let elapsed = js_sys::Date::now() - started;
    assert!(elapsed >= 390.0, "timed out after {elapsed} ms");
    fixture.assert_cleared().await;
}

#[wasm_bindgen_test]
async fn fails_fast_on_a_cross_origin_page() {
    let fixture = Fixture::new(10_000, 200).await;
    let started = js_sys::Date::now();
    // Like a provider's login page: another origin, no message.
    let provider_page = data_page("document.title = 'Sign in';");
    fixture.request(1, &provider_page, "S1").await;
    assert_eq!(fixture.outcome(1).await, (1, SilentOutcome::FailFast));
    let elapsed = js_sys::Date::now() - started;
    assert!(
        (200.0..2_000.0).contains(&elapsed),
        "failed after {elapsed} ms"
    );
    fixture.assert_cleared().await;
}

#[wasm_bindgen_test]
async fn a_new_request_gets_a_new_frame() {
    let fixture = Fixture::new(10_000, 1_000).await;
    fixture
        .request(1, &blob_page(&on_go_js("code=c1&state=S1")), "S1")
        .await;
    let first = fixture.frame().await;
    fixture
        .request(2, &blob_page(&on_go_js("code=c2&state=S2")), "S2")
        .await;
    wait_until("the first frame's removal", || !first.is_connected()).await;
    let second = fixture.frame().await;
    assert_ne!(second, first);
    page_loaded(&second).await;
    go(&second);
    // The replaced request reports nothing; the new one its answer.
    assert_eq!(fixture.outcome(1).await, (2, code_callback("c2", "S2")));
    assert_eq!(fixture.outcomes().len(), 1);
}

#[wasm_bindgen_test]
async fn leaves_no_listener_or_timer_after_an_outcome() {
    let fixture = Fixture::new(400, 1_000).await;
    let watch = Watch::new();
    fixture
        .request(
            1,
            &blob_page(&post_js(&answer_js("code=c1&state=S1"))),
            "S1",
        )
        .await;
    assert_eq!(fixture.outcome(1).await, (1, code_callback("c1", "S1")));
    // Its window `message` and frame `load` listeners, removed with the answer.
    assert_eq!((watch.0.peak(), watch.0.live()), (2, 0));
    drop(watch);
    // The parent still holds request 1: it stays ended.
    fixture.assert_cleared().await;

    // A message every listener of the page receives: the renewer's would have reported it.
    let counter = MessageCounter::new();
    counter.post_and_deliver("code=c1&state=S1").await;
    assert!(fixture.ignored().is_empty(), "{:?}", fixture.ignored());
    // Past the timeout: it was cancelled.
    sleep_ms(600).await;
    assert_eq!(fixture.outcomes().len(), 1, "{:?}", fixture.outcomes());
    assert_eq!(fixture.root.child_element_count(), 0);
}

#[wasm_bindgen_test]
async fn unmounting_mid_request_removes_everything() {
    let mut fixture = Fixture::new(300, 1_000).await;
    let watch = Watch::new();
    fixture
        .request(1, &blob_page(&on_go_js("code=c1&state=S1")), "S1")
        .await;
    fixture.frame().await;
    assert_eq!(watch.0.live(), 2);
    fixture.unmount();
    settle().await;
    assert_eq!(watch.0.live(), 0);
    drop(watch);
    let frames = gloo::utils::document().query_selector_all(FRAME).unwrap();
    assert_eq!(frames.length(), 0);

    let counter = MessageCounter::new();
    counter.post_and_deliver("code=c1&state=S1").await;
    assert!(fixture.ignored().is_empty(), "{:?}", fixture.ignored());
    sleep_ms(500).await;
    assert!(fixture.outcomes().is_empty(), "{:?}", fixture.outcomes());
}
