//! An event listener that is removed when dropped: no callback outlives its owner.

use super::error::{js_error, BrowserError};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{Event, EventTarget};

/// An event listener that is removed when dropped, so no callback outlives its owner.
pub(crate) struct Listener {
    target: EventTarget,
    kind: &'static str,
    callback: Closure<dyn FnMut(Event)>,
}

impl Listener {
    /// Adds `callback` as a listener of `kind` events on `target`.
    ///
    /// Errors: [`BrowserError::Js`] when the target throws (it does not for windows, documents and
    /// channels).
    pub(crate) fn new(
        target: &EventTarget,
        kind: &'static str,
        callback: impl FnMut(Event) + 'static,
    ) -> Result<Listener, BrowserError> {
        let callback = Closure::<dyn FnMut(Event)>::new(callback);
        target
            .add_event_listener_with_callback(kind, callback.as_ref().unchecked_ref())
            .map_err(js_error)?;
        Ok(Listener {
            target: target.clone(),
            kind,
            callback,
        })
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        // Removing a listener that is running (its owner dropped from inside the callback) is fine: the
        // closure is freed by wasm-bindgen only once that call returns.
        let _ = self
            .target
            .remove_event_listener_with_callback(self.kind, self.callback.as_ref().unchecked_ref());
    }
}
