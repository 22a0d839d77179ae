//! `AuthProvider` with its keeper and driver in a real browser: a stored session that is due is
//! renewed at once, the renewal runs (it fails: no provider listens at the issuer) and is logged,
//! a retry is scheduled, and app code hears every log entry through `on_event`.

use super::common::{mount_point, restore_fetch, settle, stand_in_fetch};
use crate::{
    use_auth, AuthConfig, AuthProvider, AuthState, LogEntry, LogKind, RenewalClass, StorageKind,
};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen_test::wasm_bindgen_test;
use yew::prelude::*;

const CLIENT: &str = "browser-tests-provider";
/// Nothing listens on the discard port of loopback: discovery fails at once (connection refused).
const ISSUER: &str = "http://127.0.0.1:9";

thread_local! {
    static HEARD: RefCell<Vec<LogEntry>> = const { RefCell::new(Vec::new()) };
    static SEEN: RefCell<Option<(String, Option<u64>, usize)>> = const { RefCell::new(None) };
}

/// Records what a component below the provider sees: the state's name, the next renewal, the
/// log's length.
#[function_component(Watcher)]
fn watcher() -> Html {
    let auth = use_auth();
    let state = format!("{:?}", auth.state());
    let name = state
        .split(['(', ' ', '{'])
        .next()
        .unwrap_or_default()
        .to_owned();
    let status = auth.status();
    SEEN.with(|seen| *seen.borrow_mut() = Some((name, status.next_at_ms, status.log.len())));
    html! { <p id="watched">{ status.log.len() }</p> }
}

#[function_component(Provided)]
fn provided() -> Html {
    let config = Rc::new(AuthConfig::new(ISSUER, CLIENT).storage(StorageKind::Session));
    let on_event =
        Callback::from(|entry: LogEntry| HEARD.with(|heard| heard.borrow_mut().push(entry)));
    html! { <AuthProvider {config} {on_event}><Watcher /></AuthProvider> }
}

/// A stored session as the client writes it (the tokens are not verified on restore).
fn stored_session(issued_at_ms: u64, expires_at_ms: u64) -> String {
    serde_json::json!({
        "access_token": "at",
        "id_token": "it",
        "expires_at_ms": expires_at_ms,
        "issued_at_ms": issued_at_ms,
        "scope": null,
        "claims": {
            "sub": "u1", "iss": ISSUER, "aud": CLIENT,
            "exp": expires_at_ms / 1000, "iat": issued_at_ms / 1000
        }
    })
    .to_string()
}

#[wasm_bindgen_test]
async fn a_due_session_is_renewed_and_every_step_is_logged_and_heard() {
    let now = js_sys::Date::now() as u64;
    let storage = gloo::utils::window().session_storage().unwrap().unwrap();
    let key = format!("oidc-renew:{CLIENT}:session");
    // Ten minutes old with half a minute left: past its renewal time.
    storage
        .set_item(&key, &stored_session(now - 600_000, now + 30_000))
        .unwrap();
    let root = mount_point();
    yew::Renderer::<Provided>::with_root(root.clone()).render();
    let mut failed = None;
    for _ in 0..400 {
        yew::platform::time::sleep(std::time::Duration::from_millis(10)).await;
        settle().await;
        failed = HEARD.with(|heard| {
            heard
                .borrow()
                .iter()
                .find(|entry| entry.kind == LogKind::RenewalFailed)
                .cloned()
        });
        if failed.is_some() {
            break;
        }
    }
    storage.remove_item(&key).unwrap();
    let failed = failed.expect("the renewal ran and failed within 4 s");
    assert_eq!(failed.class, Some(RenewalClass::Transient), "{failed:?}");
    assert!(failed.detail.starts_with("network"), "{failed:?}");
    let kinds: Vec<LogKind> = HEARD.with(|heard| heard.borrow().iter().map(|e| e.kind).collect());
    assert_eq!(kinds, [LogKind::RenewalStarted, LogKind::RenewalFailed]);
    settle().await;
    let (state, next, logged) = SEEN.with(|seen| seen.borrow().clone()).unwrap();
    // Still signed in (the token has not expired), with a retry scheduled soon, and the same log
    // as app code heard.
    assert_eq!(state, "SignedIn");
    let next = next.expect("a retry is scheduled");
    assert!(
        next > now && next <= now + 30_000,
        "retry in {} ms",
        next - now
    );
    assert_eq!(logged, 2);
}

thread_local! {
    static INVALID_SEEN: RefCell<Option<AuthState>> = const { RefCell::new(None) };
}

#[function_component(InvalidWatcher)]
fn invalid_watcher() -> Html {
    let auth = use_auth();
    INVALID_SEEN.with(|seen| *seen.borrow_mut() = Some(auth.state().clone()));
    html! { <p id="invalid-watched">{ "the app" }</p> }
}

#[function_component(InvalidProvided)]
fn invalid_provided() -> Html {
    // Not an absolute http(s) URL: the configuration fails validation.
    let config = Rc::new(AuthConfig::new("ftp://id.example.com", CLIENT));
    html! { <AuthProvider {config}><InvalidWatcher /></AuthProvider> }
}

#[wasm_bindgen_test]
async fn an_invalid_configuration_renders_the_app_with_the_failure_and_runs_nothing() {
    let record = stand_in_fetch(r#"[[200, "{}", {}]]"#);
    let root = mount_point();
    yew::Renderer::<InvalidProvided>::with_root(root.clone()).render();
    for _ in 0..10 {
        settle().await;
    }
    restore_fetch();
    assert_eq!(root.text_content().as_deref(), Some("the app"));
    match INVALID_SEEN.with(|seen| seen.borrow().clone()) {
        Some(AuthState::Failed(failure)) => {
            assert!(
                failure
                    .message
                    .starts_with("The sign-in configuration is not valid")
                    && failure.message.contains("issuer"),
                "{failure:?}"
            );
        }
        other => panic!("state: {other:?}"),
    }
    assert_eq!(record.length(), 0, "no request is made");
}
