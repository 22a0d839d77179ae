//! Navigation glue: reading the URL and removing a callback from it.

use crate::browser::navigation::{current_path, location_params, origin, strip_url_to_path};
use wasm_bindgen::JsValue;
use wasm_bindgen_test::wasm_bindgen_test;

#[wasm_bindgen_test]
fn reads_and_strips_a_callback_url() {
    let window = gloo::utils::window();
    let location = window.location();
    let history = window.history().unwrap();
    let original = location.href().unwrap();

    let state = JsValue::from_str("router-state");
    history
        .push_state_with_url(&state, "", Some("/callback?code=abc&state=xyz#id_token=t"))
        .unwrap();
    assert_eq!(current_path(), "/callback?code=abc&state=xyz#id_token=t");
    assert_eq!(
        location_params(),
        ("#id_token=t".to_owned(), "?code=abc&state=xyz".to_owned())
    );

    let length = history.length().unwrap();
    strip_url_to_path().unwrap();
    assert_eq!(location.href().unwrap(), format!("{}/callback", origin()));
    assert_eq!(location_params(), (String::new(), String::new()));
    assert_eq!(current_path(), "/callback");
    // Replaced, not pushed: the callback URL is not left behind in the history; the state is kept.
    assert_eq!(history.length().unwrap(), length);
    assert_eq!(history.state().unwrap(), state);

    // Leave the runner's page at its own URL for the other tests.
    history
        .replace_state_with_url(&JsValue::NULL, "", Some(&original))
        .unwrap();
}

#[wasm_bindgen_test]
fn origin_is_the_pages_origin() {
    let expected = gloo::utils::window().location().origin().unwrap();
    assert_eq!(origin(), expected);
    assert!(origin().starts_with("http://"), "{}", origin());
}
