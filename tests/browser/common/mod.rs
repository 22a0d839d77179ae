//! Shared helpers: a fresh mount point per test, and waiting for Yew to render.

use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlElement};

/// A new, empty `<div>` attached to the document, for one test to render into.
pub fn mount_point() -> Element {
    let document = gloo::utils::document();
    let div = document.create_element("div").unwrap();
    document.body().unwrap().append_child(&div).unwrap();
    div
}

/// Lets Yew's scheduler run the pending renders.
pub async fn settle() {
    yew::platform::time::sleep(std::time::Duration::ZERO).await;
}

/// The element matching `selector` under `root`, which must exist.
pub fn find(root: &Element, selector: &str) -> HtmlElement {
    root.query_selector(selector)
        .unwrap()
        .unwrap_or_else(|| panic!("no element matches {selector}: {}", root.inner_html()))
        .dyn_into()
        .unwrap()
}
