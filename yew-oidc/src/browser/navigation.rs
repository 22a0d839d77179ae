//! The page's URL: reading it, removing a callback from it, and leaving for the provider.
//!
//! The readers cannot fail in a browser page; outside one they return the documented fallback rather
//! than an error, since there is no page to come back to anyway.

use super::error::{js_error, window, BrowserError};
use wasm_bindgen::{JsCast, JsValue};

fn location() -> Option<web_sys::Location> {
    web_sys::window().map(|window| window.location())
}

/// Path, query and fragment of the current URL (`/profile?tab=1#top`), to return to after signing in.
/// `"/"` when unreadable.
pub fn current_path() -> String {
    location()
        .and_then(|location| {
            Some(format!(
                "{}{}{}",
                location.pathname().ok()?,
                location.search().ok()?,
                location.hash().ok()?
            ))
        })
        .unwrap_or_else(|| "/".to_owned())
}

/// The page's origin (`https://app.example`), to build redirect URIs. Empty when unreadable.
pub fn origin() -> String {
    location()
        .and_then(|location| location.origin().ok())
        .unwrap_or_default()
}

/// `(location.hash, location.search)`, each with its leading `#` / `?` when not empty, as
/// `silent_callback::select_params` takes them. Empty strings when unreadable.
pub fn location_params() -> (String, String) {
    location()
        .map(|location| {
            (
                location.hash().unwrap_or_default(),
                location.search().unwrap_or_default(),
            )
        })
        .unwrap_or_default()
}

/// Top-level navigation to `url` (the provider's authorize or logout endpoint). The page unloads after
/// the current task.
///
/// Errors: [`BrowserError::NoWindow`]; [`BrowserError::Js`] when the browser refuses the URL.
pub fn assign(url: &str) -> Result<(), BrowserError> {
    window()?.location().assign(url).map_err(js_error)
}

/// Leaves the page with a top-level form POST of `fields` to `action` (for requests whose parameters
/// must not be in a URL, such as a logout's `id_token_hint`). The form is added to the document,
/// hidden, and submitted.
///
/// Errors: [`BrowserError::NoWindow`]; [`BrowserError::Js`] when the document refuses an element.
pub fn submit_form(action: &str, fields: &[(&str, String)]) -> Result<(), BrowserError> {
    let document = window()?.document().ok_or(BrowserError::NoWindow)?;
    let form: web_sys::HtmlFormElement = document
        .create_element("form")
        .map_err(js_error)?
        .unchecked_into();
    form.set_method("post");
    form.set_action(action);
    form.set_hidden(true);
    for (name, value) in fields {
        let input: web_sys::HtmlInputElement = document
            .create_element("input")
            .map_err(js_error)?
            .unchecked_into();
        input.set_type("hidden");
        input.set_name(name);
        input.set_value(value);
        form.append_child(&input).map_err(js_error)?;
    }
    document
        .body()
        .ok_or(BrowserError::NoWindow)?
        .append_child(&form)
        .map_err(js_error)?;
    form.submit().map_err(js_error)
}

/// Replaces the current history entry's URL with the bare pathname (`history.replaceState`), so the code,
/// state or tokens of a callback leave the address bar, the history and later `Referer`s. The entry's
/// state is kept (the router may store its own there); no navigation or `popstate` happens.
///
/// Errors: [`BrowserError::NoWindow`]; [`BrowserError::Js`] when the browser throws.
pub fn strip_url_to_path() -> Result<(), BrowserError> {
    let window = window()?;
    let path = window.location().pathname().map_err(js_error)?;
    let history = window.history().map_err(js_error)?;
    let state = history.state().unwrap_or(JsValue::NULL);
    history
        .replace_state_with_url(&state, "", Some(&path))
        .map_err(js_error)
}

/// Replaces the current history entry's URL with `path` (an app path, with its query and fragment),
/// without a navigation: where a finished sign-in returns to. The entry's state is kept.
///
/// Errors: [`BrowserError::NoWindow`]; [`BrowserError::Js`] when the browser throws (another origin).
pub fn replace_path(path: &str) -> Result<(), BrowserError> {
    let history = window()?.history().map_err(js_error)?;
    let state = history.state().unwrap_or(JsValue::NULL);
    history
        .replace_state_with_url(&state, "", Some(path))
        .map_err(js_error)
}

/// Whether the page is at `path` (query and fragment aside).
pub fn is_at_path(path: &str) -> bool {
    location()
        .and_then(|location| location.pathname().ok())
        .is_some_and(|pathname| pathname == path)
}
