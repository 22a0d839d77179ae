//! Shared helpers: a fresh mount point per test, and waiting for Yew to render.

use js_sys::Array;
use wasm_bindgen::JsValue;
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

/// Replaces `window.fetch` by a stand-in answering each call with the next of `answers` (`[status,
/// body, headers]`), recording each request's `DPoP` and `Authorization` headers; returns the record.
pub fn stand_in_fetch(answers: &str) -> Array {
    let record = Array::new();
    let install = js_sys::Function::new_with_args(
        "record, answers",
        r#"
        const real = window.__realFetch || (window.__realFetch = window.fetch);
        let i = 0;
        window.fetch = async (request) => {
            record.push({ dpop: request.headers.get("DPoP"), auth: request.headers.get("Authorization"),
                          method: request.method, body: request.method === "GET" ? null : await request.text() });
            const [status, body, headers] = answers[Math.min(i++, answers.length - 1)];
            return new Response(body, { status, headers });
        };
        "#,
    );
    let answers = js_sys::JSON::parse(answers).unwrap();
    install.call2(&JsValue::NULL, &record, &answers).unwrap();
    record
}

pub fn restore_fetch() {
    let _ = js_sys::eval("if (window.__realFetch) window.fetch = window.__realFetch;");
}
