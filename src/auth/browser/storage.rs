//! A namespaced string key-value store over `localStorage`, `sessionStorage` or page memory.
//!
//! Values are returned exactly as stored: another tab, an extension or the user may have written anything
//! there, so the caller parses and validates what it reads.

use super::error::{js_message, window, BrowserError};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

/// Where a [`Store`] keeps its values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StorageArea {
    /// `localStorage`: survives reloads, shared by the origin's tabs.
    Local,
    /// `sessionStorage`: survives reloads, private to one tab.
    Session,
    /// A map in this page's memory: gone on reload, shared by every [`Store`] of the page.
    Memory,
}

/// The area's name as a developer knows it (`localStorage`, `sessionStorage`, `memory`), for messages.
pub fn storage_area_name(area: StorageArea) -> &'static str {
    match area {
        StorageArea::Local => "localStorage",
        StorageArea::Session => "sessionStorage",
        StorageArea::Memory => "memory",
    }
}

thread_local! {
    /// The memory area: one map for the page (wasm is single-threaded), keys already namespaced.
    static MEMORY: RefCell<HashMap<String, String>> = RefCell::new(HashMap::new());
    /// Whether the fallback warning was logged, for `localStorage` and `sessionStorage`.
    static WARNED: Cell<[bool; 2]> = const { Cell::new([false; 2]) };
}

/// A store of string values under `"<namespace>:<key>"` in one [`StorageArea`]. Cheap to clone.
///
/// ```no_run
/// use oidc_renew::auth::browser::storage::{StorageArea, Store};
///
/// let store = Store::new(StorageArea::Session, "oidc-renew:my-client");
/// store.set("transaction", "{...}")?; // sessionStorage["oidc-renew:my-client:transaction"]
/// let once = store.take("transaction"); // read and removed: single use
/// # Ok::<(), oidc_renew::auth::browser::BrowserError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Store {
    backend: Backend,
    namespace: Rc<str>,
}

#[derive(Debug, Clone, PartialEq)]
enum Backend {
    Web {
        storage: web_sys::Storage,
        area: StorageArea,
    },
    Memory,
}

impl Store {
    /// A store in `area` whose keys are prefixed with `"<namespace>:"`.
    ///
    /// When `localStorage` or `sessionStorage` cannot be used (disabled, or throwing on access as in some
    /// privacy modes), the store falls back to the memory area and logs one `console.warn` per area and
    /// page; [`Store::area`] then says [`StorageArea::Memory`].
    pub fn new(area: StorageArea, namespace: &str) -> Store {
        let backend = match web_storage(area) {
            Ok(Some(storage)) => Backend::Web { storage, area },
            Ok(None) => Backend::Memory,
            Err(error) => {
                warn_fallback(area, &error);
                Backend::Memory
            }
        };
        Store {
            backend,
            namespace: namespace.into(),
        }
    }

    /// The area actually in use (memory after a fallback).
    pub fn area(&self) -> StorageArea {
        match &self.backend {
            Backend::Web { area, .. } => *area,
            Backend::Memory => StorageArea::Memory,
        }
    }

    /// The namespace given to [`Store::new`].
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// The value under `key`, as stored (possibly corrupted or absurd), or `None` when there is none or
    /// the storage throws on reading.
    pub fn get(&self, key: &str) -> Option<String> {
        let key = self.full_key(key);
        match &self.backend {
            Backend::Web { storage, .. } => storage.get_item(&key).ok().flatten(),
            Backend::Memory => MEMORY.with(|memory| memory.borrow().get(&key).cloned()),
        }
    }

    /// Stores `value` under `key`.
    ///
    /// Errors: [`BrowserError::StorageWrite`] when the area refuses the write (quota exceeded, storage
    /// disabled); the previous value, if any, is then left as it was.
    pub fn set(&self, key: &str, value: &str) -> Result<(), BrowserError> {
        let key = self.full_key(key);
        match &self.backend {
            Backend::Web { storage, area } => {
                storage
                    .set_item(&key, value)
                    .map_err(|error| BrowserError::StorageWrite {
                        area: storage_area_name(*area),
                        reason: js_message(&error),
                    })
            }
            Backend::Memory => {
                MEMORY.with(|memory| memory.borrow_mut().insert(key, value.to_owned()));
                Ok(())
            }
        }
    }

    /// Removes `key`; a storage that throws on removal is ignored (there is nothing left to do).
    pub fn remove(&self, key: &str) {
        let key = self.full_key(key);
        match &self.backend {
            Backend::Web { storage, .. } => {
                let _ = storage.remove_item(&key);
            }
            Backend::Memory => {
                MEMORY.with(|memory| memory.borrow_mut().remove(&key));
            }
        }
    }

    /// Reads and removes `key`: for single-use values such as the login transaction.
    pub fn take(&self, key: &str) -> Option<String> {
        let value = self.get(key);
        if value.is_some() {
            self.remove(key);
        }
        value
    }

    fn full_key(&self, key: &str) -> String {
        format!("{}:{key}", self.namespace)
    }
}

/// The browser storage of `area`; `Ok(None)` for the memory area.
fn web_storage(area: StorageArea) -> Result<Option<web_sys::Storage>, BrowserError> {
    let accessed = match area {
        StorageArea::Local => window()?.local_storage(),
        StorageArea::Session => window()?.session_storage(),
        StorageArea::Memory => return Ok(None),
    };
    match accessed {
        Ok(Some(storage)) => Ok(Some(storage)),
        _ => Err(BrowserError::StorageUnavailable(storage_area_name(area))),
    }
}

fn warn_fallback(area: StorageArea, error: &BrowserError) {
    let slot = match area {
        StorageArea::Local => 0,
        StorageArea::Session => 1,
        StorageArea::Memory => return,
    };
    let mut warned = WARNED.with(Cell::get);
    if warned[slot] {
        return;
    }
    warned[slot] = true;
    WARNED.with(|cell| cell.set(warned));
    gloo::console::warn!(format!(
        "oidc-renew: {error}; keeping the session in memory (lost on reload)"
    ));
}
