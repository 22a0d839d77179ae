//! The wall clock.

/// Milliseconds since the Unix epoch (`Date.now()`).
pub fn now_ms() -> u64 {
    // Date.now() is a whole, non-negative number of milliseconds well below 2^53: the cast is exact.
    js_sys::Date::now() as u64
}
