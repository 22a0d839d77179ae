//! The session timeline: bars and marks for a given event list, and the live view of a restored
//! session.

use crate::common::{mount_point, settle};
use oidc_renew::pages::{SessionTimeline, Timeline, TimelineProps};
use std::rc::Rc;
use wasm_bindgen_test::wasm_bindgen_test;
use web_sys::Element;
use yew::prelude::*;
use yew_oidc::{AuthConfig, AuthProvider, LogEntry, LogKind, RenewalClass, StorageKind, TokenSpan};

const MINUTE: u64 = 60_000;
const T0: u64 = 1_800_000_000_000;

fn entry(at_ms: u64, kind: LogKind, class: Option<RenewalClass>, detail: &str) -> LogEntry {
    LogEntry {
        at_ms,
        kind,
        detail: detail.to_owned(),
        class,
        count: 1,
    }
}

fn span(issued_at_ms: u64, expires_at_ms: u64) -> TokenSpan {
    TokenSpan {
        issued_at_ms,
        expires_at_ms,
    }
}

/// The element matching `selector` under `root`, which must exist (an SVG element is no
/// `HtmlElement`, hence not `common::find`).
fn find(root: &Element, selector: &str) -> Element {
    root.query_selector(selector)
        .unwrap()
        .unwrap_or_else(|| panic!("no element matches {selector}: {}", root.inner_html()))
}

fn count(root: &Element, selector: &str) -> u32 {
    root.query_selector_all(selector).unwrap().length()
}

fn attributes(root: &Element, selector: &str, name: &str) -> Vec<String> {
    let list = root.query_selector_all(selector).unwrap();
    (0..list.length())
        .map(|i| {
            let element: Element = wasm_bindgen::JsCast::dyn_into(list.item(i).unwrap()).unwrap();
            element.get_attribute(name).unwrap_or_default()
        })
        .collect()
}

/// A sign-in, two renewals (the second after a timeout and a retry), a token adopted from another
/// tab, and a renewal the provider refused: four tokens, three renewal marks, two failures.
fn history() -> TimelineProps {
    use LogKind::*;
    let transient = Some(RenewalClass::Transient);
    let interaction = Some(RenewalClass::InteractionRequired);
    TimelineProps {
        sessions: vec![
            span(T0, T0 + 5 * MINUTE),
            span(T0 + 4 * MINUTE, T0 + 9 * MINUTE),
            span(T0 + 9 * MINUTE, T0 + 14 * MINUTE),
            span(T0 + 12 * MINUTE, T0 + 17 * MINUTE),
        ],
        log: vec![
            entry(T0, SignedIn, None, ""),
            entry(T0 + 4 * MINUTE, RenewalStarted, None, ""),
            entry(T0 + 4 * MINUTE + 80, RenewalSucceeded, None, "in 80 ms"),
            entry(T0 + 8 * MINUTE, RenewalStarted, None, ""),
            entry(
                T0 + 8 * MINUTE + 10_000,
                RenewalFailed,
                transient,
                "timeout (transient): the provider did not answer in time",
            ),
            entry(T0 + 8 * MINUTE + 12_000, RenewalStarted, None, ""),
            entry(T0 + 9 * MINUTE, RenewalSucceeded, None, "in 90 ms"),
            entry(T0 + 9 * MINUTE + 5, MessageIgnored, None, "WrongSource"),
            entry(T0 + 12 * MINUTE, Adopted, None, ""),
            entry(T0 + 16 * MINUTE, RenewalStarted, None, ""),
            entry(
                T0 + 16 * MINUTE + 100,
                RenewalFailed,
                interaction,
                "login_required (interaction required): the provider answered login_required",
            ),
        ],
        now_ms: T0 + 16 * MINUTE + 30_000,
        next_at_ms: None,
    }
}

#[wasm_bindgen_test]
async fn bars_and_marks_match_the_event_list() {
    let root = mount_point();
    yew::Renderer::<Timeline>::with_root_and_props(root.clone(), history()).render();
    settle().await;
    let svg = find(&root, "svg#timeline");
    assert_eq!(count(&svg, "rect.token"), 4, "{}", svg.outer_html());
    assert_eq!(count(&svg, "rect.token.current"), 1);
    assert_eq!(count(&svg, ".renewal"), 3, "two renewals and one adoption");
    assert_eq!(count(&svg, ".retry"), 1);
    assert_eq!(count(&svg, ".failure"), 2);
    assert_eq!(
        attributes(&svg, ".failure", "data-class"),
        ["transient", "interaction-required"]
    );
    assert_eq!(count(&svg, ".sign"), 1);
    assert_eq!(count(&svg, "line.now"), 1);
    // Every bar and mark explains itself in a tooltip.
    assert_eq!(count(&svg, "rect.token > title"), 4);
    assert_eq!(count(&svg, "g.mark > title"), 7);
    let failure = find(&svg, ".failure[data-class=interaction-required] > title");
    let text = failure.text_content().unwrap();
    assert!(
        text.starts_with("renewal failed at ") && text.contains("login_required"),
        "{text}"
    );
}

#[wasm_bindgen_test]
async fn overlapping_tokens_share_two_lanes_and_stay_inside_the_picture() {
    let root = mount_point();
    yew::Renderer::<Timeline>::with_root_and_props(root.clone(), history()).render();
    settle().await;
    let svg = find(&root, "svg#timeline");
    let ys: Vec<String> = attributes(&svg, "rect.token", "y");
    assert_eq!(ys[0], ys[2], "{ys:?}");
    assert_eq!(ys[1], ys[3], "{ys:?}");
    assert_ne!(ys[0], ys[1], "{ys:?}");
    for x in attributes(&svg, "rect.token", "x") {
        let x: f64 = x.parse().unwrap();
        assert!((0.0..=640.0).contains(&x), "{x}");
    }
}

#[wasm_bindgen_test]
async fn an_empty_history_draws_no_bar() {
    let root = mount_point();
    let props = TimelineProps {
        sessions: Vec::new(),
        log: Vec::new(),
        now_ms: T0,
        next_at_ms: Some(T0 + MINUTE),
    };
    yew::Renderer::<Timeline>::with_root_and_props(root.clone(), props).render();
    settle().await;
    let svg = find(&root, "svg#timeline");
    assert_eq!(count(&svg, "rect.token"), 0);
    assert_eq!(count(&svg, ".mark"), 0);
    assert_eq!(count(&svg, "line.next"), 1);
}

const CLIENT: &str = "browser-tests-timeline";

#[function_component(Restored)]
fn restored() -> Html {
    let config =
        Rc::new(AuthConfig::new("https://id.example.com", CLIENT).storage(StorageKind::Session));
    html! {
        <AuthProvider {config}>
            <SessionTimeline />
        </AuthProvider>
    }
}

/// A stored session as the app writes it (its tokens are never verified on restore).
fn stored_session(issued_at_ms: u64, expires_at_ms: u64) -> String {
    serde_json::json!({
        "access_token": "at",
        "id_token": "it",
        "expires_at_ms": expires_at_ms,
        "issued_at_ms": issued_at_ms,
        "scope": null,
        "claims": {
            "sub": "u1", "iss": "https://id.example.com", "aud": CLIENT,
            "exp": expires_at_ms / 1000, "iat": issued_at_ms / 1000
        }
    })
    .to_string()
}

#[wasm_bindgen_test]
async fn the_live_timeline_draws_the_restored_session() {
    let now = js_sys::Date::now() as u64;
    let storage = gloo::utils::window().session_storage().unwrap().unwrap();
    let key = format!("oidc-renew:{CLIENT}:session");
    // Far from renewal, so the keeper only schedules.
    storage
        .set_item(&key, &stored_session(now - MINUTE, now + 60 * MINUTE))
        .unwrap();
    let root = mount_point();
    yew::Renderer::<Restored>::with_root(root.clone()).render();
    for _ in 0..20 {
        settle().await;
        if count(&root, "svg#timeline rect.token") > 0 && count(&root, "svg#timeline line.next") > 0
        {
            break;
        }
    }
    storage.remove_item(&key).unwrap();
    let svg = find(&root, "section#session-timeline svg#timeline");
    assert_eq!(count(&svg, "rect.token.current"), 1, "{}", svg.outer_html());
    assert_eq!(
        count(&svg, "line.next"),
        1,
        "the scheduled renewal is drawn"
    );
}
