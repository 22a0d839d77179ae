//! The silent page's browser glue: read the callback from the URL, remove it, post it to the parent.
//!
//! Kept to the few calls it needs: every import is bytes in a page that loads on each renewal.

use crate::message::MESSAGE_TYPE;
use crate::parse::{parse_callback, select_params};
use js_sys::{Object, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsValue;

#[wasm_bindgen(start)]
fn start() {
    // Nothing here can be reported to anyone but the parent: a failure leaves the parent to time out.
    let _ = run();
}

fn run() -> Result<(), JsValue> {
    let window = web_sys::window().ok_or(JsValue::NULL)?;
    let location = window.location();
    let hash = location.hash()?;
    let search = location.search()?;
    let params = select_params(&hash, &search);
    if !params.is_empty() {
        // Codes and tokens must not linger in the frame's URL (history, referrers, screenshots of devtools).
        let path = location.pathname()?;
        window
            .history()?
            .replace_state_with_url(&JsValue::NULL, "", Some(&path))?;
    }

    let parent = window.parent()?.ok_or(JsValue::NULL)?;
    if JsValue::from(parent.clone()) == JsValue::from(window.clone()) {
        // Opened top-level: there is nobody to tell; explain the page instead.
        if let Some(note) = window
            .document()
            .and_then(|document| document.get_element_by_id("standalone"))
        {
            note.remove_attribute("hidden")?;
        }
        return Ok(());
    }

    let message = Object::new();
    Reflect::set(&message, &"type".into(), &MESSAGE_TYPE.into())?;
    match parse_callback(params) {
        Ok(_) => Reflect::set(&message, &"params".into(), &params.into())?,
        Err(error) => Reflect::set(&message, &"error".into(), &error.code().into())?,
    };
    // The app and its silent page share one origin, so the parent must be at our own origin: a page of any
    // other origin that frames us receives nothing (RFC 9700 §4.17: never "*").
    parent.post_message(&message, &location.origin()?)
}
