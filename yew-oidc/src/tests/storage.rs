//! Storage glue: namespaced round-trips in each area, single-use values, hostile values, quota.

use crate::browser::storage::{storage_area_name, StorageArea, Store};
use crate::browser::BrowserError;
use wasm_bindgen_test::wasm_bindgen_test;
use web_sys::Storage;

/// A namespace no other test uses, so tests sharing the page's storage cannot see each other.
fn namespace(test: &str) -> String {
    format!("oidc-renew-test:{test}")
}

fn local_storage() -> Storage {
    gloo::utils::window().local_storage().unwrap().unwrap()
}

fn session_storage() -> Storage {
    gloo::utils::window().session_storage().unwrap().unwrap()
}

/// The browser storage behind `area`, or `None` for memory.
fn raw(area: StorageArea) -> Option<Storage> {
    match area {
        StorageArea::Local => Some(local_storage()),
        StorageArea::Session => Some(session_storage()),
        StorageArea::Memory => None,
    }
}

/// Set, get, overwrite, remove in `area`, checking where the value lands in the browser.
fn check_round_trip(area: StorageArea) {
    let ns = namespace(&format!("round-trip-{}", storage_area_name(area)));
    let store = Store::new(area, &ns);
    assert_eq!(store.area(), area);
    assert_eq!(store.get("session"), None);

    let value = r#"{"access_token":"…","expires_at":1700000000000}"#;
    store.set("session", value).unwrap();
    assert_eq!(store.get("session").as_deref(), Some(value));
    // A clone, and a new store of the same area and namespace, see the same value.
    assert_eq!(store.clone().get("session").as_deref(), Some(value));
    assert_eq!(Store::new(area, &ns).get("session").as_deref(), Some(value));

    let full_key = format!("{ns}:session");
    for other in [StorageArea::Local, StorageArea::Session] {
        let stored = raw(other).unwrap().get_item(&full_key).unwrap();
        let expected = (other == area).then_some(value);
        assert_eq!(
            stored.as_deref(),
            expected,
            "{} holds",
            storage_area_name(other)
        );
    }

    store.set("session", "second").unwrap();
    assert_eq!(store.get("session").as_deref(), Some("second"));
    store.remove("session");
    assert_eq!(store.get("session"), None);
    store.remove("session"); // removing what is not there is fine
}

#[wasm_bindgen_test]
fn round_trip_in_local_storage() {
    check_round_trip(StorageArea::Local);
}

#[wasm_bindgen_test]
fn round_trip_in_session_storage() {
    check_round_trip(StorageArea::Session);
}

#[wasm_bindgen_test]
fn round_trip_in_memory() {
    check_round_trip(StorageArea::Memory);
}

#[wasm_bindgen_test]
fn namespaces_do_not_see_each_other() {
    for area in [
        StorageArea::Local,
        StorageArea::Session,
        StorageArea::Memory,
    ] {
        let a = Store::new(area, &namespace("client-a"));
        let b = Store::new(area, &namespace("client-b"));
        a.set("session", "a").unwrap();
        assert_eq!(b.get("session"), None, "{}", storage_area_name(area));
        b.set("session", "b").unwrap();
        assert_eq!(a.get("session").as_deref(), Some("a"));
        assert_eq!(b.take("session").as_deref(), Some("b"));
        assert_eq!(a.get("session").as_deref(), Some("a"));
        a.remove("session");
    }
}

#[wasm_bindgen_test]
fn take_returns_the_value_once() {
    for area in [
        StorageArea::Local,
        StorageArea::Session,
        StorageArea::Memory,
    ] {
        let store = Store::new(area, &namespace("take"));
        store.set("transaction", "state=xyz").unwrap();
        assert_eq!(store.take("transaction").as_deref(), Some("state=xyz"));
        assert_eq!(
            store.get("transaction"),
            None,
            "{}",
            storage_area_name(area)
        );
        assert_eq!(store.take("transaction"), None);
    }
    let full_key = format!("{}:transaction", namespace("take"));
    assert_eq!(session_storage().get_item(&full_key).unwrap(), None);
}

#[wasm_bindgen_test]
fn values_written_by_others_are_returned_as_they_are() {
    let ns = namespace("corrupted");
    let store = Store::new(StorageArea::Local, &ns);
    let hostile = [
        "",
        "{\"access_token\":\"abc",
        "null",
        "\u{0}\u{1}\u{7f}\u{fffd}",
        "😀 \u{202e} <script>",
    ];
    for value in hostile {
        local_storage()
            .set_item(&format!("{ns}:session"), value)
            .unwrap();
        assert_eq!(store.get("session").as_deref(), Some(value));
    }
    // A lone surrogate cannot be a Rust string: it arrives replaced, not as a panic.
    js_sys::eval(&format!(
        "localStorage.setItem('{ns}:session', 'a\\uD800b')"
    ))
    .unwrap();
    assert_eq!(store.get("session").as_deref(), Some("a\u{fffd}b"));
    // Absurdly large (but storable) values come back whole too.
    let large = "9".repeat(1 << 20);
    local_storage()
        .set_item(&format!("{ns}:session"), &large)
        .unwrap();
    assert_eq!(
        store.get("session").map(|value| value.len()),
        Some(large.len())
    );
    store.remove("session");
}

#[wasm_bindgen_test]
fn a_write_beyond_the_quota_moves_the_store_to_memory_and_says_so() {
    let ns = namespace("quota");
    let store = Store::new(StorageArea::Local, &ns);
    store.set("session", "before").unwrap();
    assert_eq!(store.fallback(), None);
    // A real quota error: one value larger than Chromium's localStorage quota.
    let huge = "x".repeat(10 * 1024 * 1024);
    assert_eq!(store.set("session", &huge), Ok(()));
    match store.fallback() {
        Some(BrowserError::StorageWrite { area, reason }) => {
            assert_eq!(area, "localStorage");
            assert!(reason.contains("QuotaExceeded"), "{reason}");
        }
        other => panic!("expected a quota fallback, got {other:?}"),
    }
    assert_eq!(store.area(), StorageArea::Memory);
    // The value is readable here, through clones too; the stale one is gone from localStorage, so a
    // reload cannot bring it back.
    assert_eq!(store.get("session").map(|v| v.len()), Some(huge.len()));
    assert_eq!(store.clone().area(), StorageArea::Memory);
    let full_key = format!("{ns}:session");
    assert_eq!(local_storage().get_item(&full_key).unwrap(), None);
    // Later writes and removals stay in memory.
    store.set("session", "after").unwrap();
    assert_eq!(store.get("session").as_deref(), Some("after"));
    assert_eq!(local_storage().get_item(&full_key).unwrap(), None);
    store.remove("session");
    assert_eq!(store.get("session"), None);
}

#[wasm_bindgen_test]
fn a_strict_store_reports_a_refused_write_and_keeps_the_old_value() {
    let store = Store::strict(StorageArea::Local, &namespace("quota-strict"));
    store.set("lease", "before").unwrap();
    let huge = "x".repeat(10 * 1024 * 1024);
    let result = store.set("lease", &huge);
    match &result {
        Err(BrowserError::StorageWrite { area, reason }) => {
            assert_eq!(*area, "localStorage");
            assert!(reason.contains("QuotaExceeded"), "{reason}");
        }
        other => panic!("expected a quota error, got {other:?}"),
    }
    assert!(result
        .unwrap_err()
        .to_string()
        .starts_with("cannot write to localStorage"));
    assert_eq!(store.get("lease").as_deref(), Some("before"));
    assert_eq!((store.area(), store.fallback()), (StorageArea::Local, None));
    store.remove("lease");
}

/// Replaces `Storage.prototype.<method>` with one that throws `name` (for both areas), until
/// [`ThrowingMethod::restore`]. Restore before asserting (see [`ThrowingStorage`]).
struct ThrowingMethod(&'static str);

impl ThrowingMethod {
    fn install(method: &'static str, name: &str) -> ThrowingMethod {
        js_sys::eval(&format!(
            "window.__saved_{method} = Storage.prototype.{method}; \
             Storage.prototype.{method} = function () {{ \
                 throw new DOMException('refused by the test', '{name}'); }};"
        ))
        .unwrap();
        ThrowingMethod(method)
    }

    fn restore(self) {
        let method = self.0;
        js_sys::eval(&format!(
            "Storage.prototype.{method} = window.__saved_{method};"
        ))
        .unwrap();
    }
}

/// The fallback reason's area and text, or a description of what came instead.
fn fallback_reason(store: &Store) -> (String, String) {
    match store.fallback() {
        Some(BrowserError::StorageWrite { area, reason }) => (format!("write {area}"), reason),
        Some(BrowserError::StorageRead { area, reason }) => (format!("read {area}"), reason),
        other => (format!("{other:?}"), String::new()),
    }
}

#[wasm_bindgen_test]
fn set_item_throwing_moves_the_store_to_memory() {
    // localStorage only: the first sessionStorage fallback of the page would take the one warning
    // `unavailable_storage_falls_back_to_memory_with_one_warning` counts.
    let area = StorageArea::Local;
    let ns = namespace(&format!("set-throws-{}", storage_area_name(area)));
    let store = Store::new(area, &ns);
    store.set("session", "old").unwrap();
    let refused = ThrowingMethod::install("setItem", "QuotaExceededError");
    let written = store.set("session", "new");
    let read = store.get("session");
    let left_in_area = raw(area).unwrap().get_item(&format!("{ns}:session"));
    refused.restore();

    let name = storage_area_name(area);
    assert_eq!(written, Ok(()), "{name}");
    assert_eq!(read.as_deref(), Some("new"), "{name}");
    assert_eq!(left_in_area, Ok(None), "{name}: the stale value is removed");
    assert_eq!(store.area(), StorageArea::Memory, "{name}");
    let (what, reason) = fallback_reason(&store);
    assert_eq!(what, format!("write {name}"));
    assert!(reason.contains("QuotaExceededError"), "{reason}");
    // The area works again, but the store stays in memory: one place for its values.
    store.set("session", "newer").unwrap();
    assert_eq!(
        raw(area).unwrap().get_item(&format!("{ns}:session")),
        Ok(None)
    );
    assert_eq!(store.take("session").as_deref(), Some("newer"));
}

#[wasm_bindgen_test]
fn get_item_throwing_moves_the_store_to_memory() {
    let ns = namespace("get-throws");
    let store = Store::new(StorageArea::Local, &ns);
    store.set("session", "stored").unwrap();
    let refused = ThrowingMethod::install("getItem", "SecurityError");
    let read = store.get("session");
    let written = store.set("session", "in memory");
    let read_again = store.get("session");
    refused.restore();

    assert_eq!(read, None, "a value that cannot be read is not there");
    assert_eq!(written, Ok(()));
    assert_eq!(read_again.as_deref(), Some("in memory"));
    assert_eq!(store.area(), StorageArea::Memory);
    let (what, reason) = fallback_reason(&store);
    assert_eq!(what, "read localStorage");
    assert!(reason.contains("SecurityError"), "{reason}");
    store.remove("session");
    local_storage()
        .remove_item(&format!("{ns}:session"))
        .unwrap();
}

#[wasm_bindgen_test]
fn remove_item_throwing_moves_the_store_to_memory_where_the_value_is_gone() {
    let ns = namespace("remove-throws");
    let store = Store::new(StorageArea::Local, &ns);
    store.set("session", "signed in").unwrap();
    let refused = ThrowingMethod::install("removeItem", "SecurityError");
    store.remove("session");
    let read = store.get("session");
    let taken = store.take("session");
    refused.restore();

    // Signing out must stick in this page even when the area keeps the old value.
    assert_eq!((read, taken), (None, None));
    assert_eq!(store.area(), StorageArea::Memory);
    let (what, reason) = fallback_reason(&store);
    assert_eq!(what, "write localStorage");
    assert!(reason.contains("SecurityError"), "{reason}");
    local_storage()
        .remove_item(&format!("{ns}:session"))
        .unwrap();
}

#[wasm_bindgen_test]
fn a_strict_store_never_moves_to_memory() {
    let ns = namespace("strict-throws");
    let store = Store::strict(StorageArea::Local, &ns);
    store.set("lease", "held").unwrap();
    let (set, get, remove) = (
        ThrowingMethod::install("setItem", "QuotaExceededError"),
        ThrowingMethod::install("getItem", "SecurityError"),
        ThrowingMethod::install("removeItem", "SecurityError"),
    );
    let written = store.set("lease", "other");
    let read = store.get("lease");
    store.remove("lease");
    remove.restore();
    get.restore();
    set.restore();

    assert!(
        matches!(written, Err(BrowserError::StorageWrite { .. })),
        "{written:?}"
    );
    assert_eq!(read, None);
    assert_eq!((store.area(), store.fallback()), (StorageArea::Local, None));
    assert_eq!(store.get("lease").as_deref(), Some("held"));
    store.remove("lease");
}

/// Makes `window.<property>` throw on access, as disabled storage does, and counts `console.warn` calls,
/// until [`ThrowingStorage::restore`]. Restore before asserting: a failed assertion aborts the test without
/// unwinding, so a guard's `Drop` would never run and the broken storage would fail the tests after it.
struct ThrowingStorage(&'static str);

impl ThrowingStorage {
    fn install(property: &'static str) -> ThrowingStorage {
        js_sys::eval(&format!(
            "window.__saved = Object.getOwnPropertyDescriptor(window, '{property}'); \
             Object.defineProperty(window, '{property}', {{ configurable: true, get() {{ \
                 throw new DOMException('access is denied for this document', 'SecurityError'); }} }}); \
             window.__warnings = 0; window.__warn = console.warn; \
             console.warn = (...args) => {{ window.__warnings += 1; }};"
        ))
        .unwrap();
        ThrowingStorage(property)
    }

    /// Restores the storage and `console.warn`; returns the number of warnings logged meanwhile.
    fn restore(self) -> f64 {
        js_sys::eval(&format!(
            "Object.defineProperty(window, '{}', window.__saved); console.warn = window.__warn; \
             window.__warnings",
            self.0
        ))
        .unwrap()
        .as_f64()
        .unwrap()
    }
}

#[wasm_bindgen_test]
fn unavailable_storage_falls_back_to_memory_with_one_warning() {
    let ns = namespace("fallback");
    let blocked = ThrowingStorage::install("sessionStorage");
    let access_throws = gloo::utils::window().session_storage().is_err();
    let store = Store::new(StorageArea::Session, &ns);
    let written = store.set("transaction", "t");
    let in_memory = Store::new(StorageArea::Memory, &ns).get("transaction");
    let again = Store::new(StorageArea::Session, &ns);
    let areas = (store.area(), again.area());
    let taken = again.take("transaction");
    let warnings = blocked.restore();

    assert!(access_throws, "the test did not block sessionStorage");
    assert_eq!(areas, (StorageArea::Memory, StorageArea::Memory));
    assert_eq!(
        store.fallback(),
        Some(BrowserError::StorageUnavailable("sessionStorage"))
    );
    assert_eq!(written, Ok(()));
    assert_eq!(in_memory.as_deref(), Some("t"));
    assert_eq!(taken.as_deref(), Some("t"));
    assert_eq!(warnings, 1.0, "one warning for two fallbacks");
    assert_eq!(
        Store::new(StorageArea::Session, &ns).area(),
        StorageArea::Session
    );
}
