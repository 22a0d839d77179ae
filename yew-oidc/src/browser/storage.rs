//! A namespaced string key-value store over `localStorage`, `sessionStorage` or page memory.
//!
//! Values are returned exactly as stored: another tab, an extension or the user may have written anything
//! there, so the caller parses and validates what it reads.

use super::error::{js_message, window, BrowserError};
use crate::small_map::SmallMap;
use std::cell::{Cell, RefCell};
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
    static MEMORY: RefCell<SmallMap<String, String>> = const { RefCell::new(SmallMap::new()) };
    /// Whether the fallback warning was logged, for `localStorage` and `sessionStorage`.
    static WARNED: Cell<[bool; 2]> = const { Cell::new([false; 2]) };
}

/// A store of string values under `"<namespace>:<key>"` in one [`StorageArea`]. Cheap to clone; clones
/// share their fallback.
///
/// ```ignore
/// use crate::browser::storage::{StorageArea, Store};
///
/// let store = Store::new(StorageArea::Session, "oidc-renew:my-client");
/// store.set("transaction", "{...}")?; // sessionStorage["oidc-renew:my-client:transaction"]
/// let once = store.take("transaction"); // read and removed: single use
/// # Ok::<(), crate::browser::BrowserError>(())
/// ```
///
/// # Memory fallback
///
/// A [`Store::new`] keeps working when its browser storage does not: when `localStorage` or
/// `sessionStorage` cannot be reached, or later throws on a write (quota exceeded), a read or a removal
/// (storage disabled), the store moves to the memory area for the rest of the page's life. From then on
/// [`Store::area`] says [`StorageArea::Memory`] and [`Store::fallback`] says why; one `console.warn` is
/// logged per area and page. Values then live in this page only: they are gone on reload. A
/// [`Store::strict`] store instead reports the failures (for cross-tab coordination, where a value only
/// this page can see would be wrong).
#[derive(Debug, Clone, PartialEq)]
pub struct Store {
    backend: Backend,
    namespace: Rc<str>,
    /// Why this store (and its clones) moved to memory; `None` while the browser storage works.
    fallback: Rc<RefCell<Option<BrowserError>>>,
    strict: bool,
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
    /// A store in `area` whose keys are prefixed with `"<namespace>:"`, falling back to memory when the
    /// area fails (see [Memory fallback](Store#memory-fallback)).
    pub fn new(area: StorageArea, namespace: &str) -> Store {
        let (backend, fallback) = match web_storage(area) {
            Ok(Some(storage)) => (Backend::Web { storage, area }, None),
            Ok(None) => (Backend::Memory, None),
            Err(error) => {
                warn_fallback(area, &error);
                (Backend::Memory, Some(error))
            }
        };
        Store {
            backend,
            namespace: namespace.into(),
            fallback: Rc::new(RefCell::new(fallback)),
            strict: false,
        }
    }

    /// Like [`Store::new`] (memory when the area cannot be reached at all), but a write the area refuses
    /// is an error, a read that throws is `None` and a removal that throws is ignored: the store never
    /// moves to memory after it was created.
    pub fn strict(area: StorageArea, namespace: &str) -> Store {
        Store {
            strict: true,
            ..Store::new(area, namespace)
        }
    }

    /// The area actually in use (memory after a fallback).
    #[cfg(all(test, target_arch = "wasm32"))]
    pub fn area(&self) -> StorageArea {
        match self.web() {
            Some((_, area)) => area,
            None => StorageArea::Memory,
        }
    }

    /// Why the store keeps its values in memory instead of the area it was created for: the browser
    /// storage was unavailable or threw. `None` while it works (and for a store created in memory).
    pub fn fallback(&self) -> Option<BrowserError> {
        self.fallback.borrow().clone()
    }

    /// The value under `key`, as stored (possibly corrupted or absurd), or `None` when there is none.
    /// A storage that throws on reading moves the store to memory (a strict store answers `None`).
    pub fn get(&self, key: &str) -> Option<String> {
        let key = self.full_key(key);
        if let Some((storage, area)) = self.web() {
            match storage.get_item(&key) {
                Ok(value) => return value,
                Err(_) if self.strict => return None,
                Err(error) => self.fall_back(BrowserError::StorageRead {
                    area: storage_area_name(area),
                    reason: js_message(&error),
                }),
            }
        }
        MEMORY.with(|memory| memory.borrow().get(&key).cloned())
    }

    /// Stores `value` under `key`. When the area refuses the write (quota exceeded, storage disabled),
    /// the value goes to memory and the store stays there; any older value in the area is removed, so
    /// that a reload cannot bring back a stale one.
    ///
    /// Errors: only a [`Store::strict`] store fails, with [`BrowserError::StorageWrite`]; the previous
    /// value, if any, is then left as it was.
    pub fn set(&self, key: &str, value: &str) -> Result<(), BrowserError> {
        let key = self.full_key(key);
        if let Some((storage, area)) = self.web() {
            let Err(error) = storage.set_item(&key, value) else {
                return Ok(());
            };
            let error = BrowserError::StorageWrite {
                area: storage_area_name(area),
                reason: js_message(&error),
            };
            if self.strict {
                return Err(error);
            }
            self.fall_back(error);
            let _ = storage.remove_item(&key);
        }
        MEMORY.with(|memory| memory.borrow_mut().insert(key, value.to_owned()));
        Ok(())
    }

    /// Removes `key`. A storage that throws on removal moves the store to memory, where the key is then
    /// absent (a strict store ignores it).
    pub fn remove(&self, key: &str) {
        let key = self.full_key(key);
        if let Some((storage, area)) = self.web() {
            match storage.remove_item(&key) {
                Ok(()) => {}
                Err(_) if self.strict => {}
                Err(error) => self.fall_back(BrowserError::StorageWrite {
                    area: storage_area_name(area),
                    reason: js_message(&error),
                }),
            }
        }
        MEMORY.with(|memory| memory.borrow_mut().remove(&key));
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

    /// The browser storage, while the store uses one.
    fn web(&self) -> Option<(&web_sys::Storage, StorageArea)> {
        match &self.backend {
            Backend::Web { storage, area } if self.fallback.borrow().is_none() => {
                Some((storage, *area))
            }
            _ => None,
        }
    }

    fn fall_back(&self, error: BrowserError) {
        if let Backend::Web { area, .. } = &self.backend {
            warn_fallback(*area, &error);
        }
        *self.fallback.borrow_mut() = Some(error);
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
