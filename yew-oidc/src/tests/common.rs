//! Shared helpers: a fresh mount point per test, and waiting for Yew to render.

use web_sys::Element;

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
