//! When to renew: pure arithmetic on the wall clock.
//!
//! Timers are unreliable in browsers (throttled in background tabs, frozen while a laptop sleeps), so
//! the scheduler never trusts one: every wake-up (timer, `visibilitychange`, `pageshow`, `online`,
//! focus, a coarse interval) asks [`decide`] again with the current time. All times are milliseconds
//! since the Unix epoch (`Date.now()`); randomness (`jitter`, in `[0, 1)`) is passed in.

/// Renew this long before the access token expires, unless the token is short (see [`renew_at`]).
pub const DEFAULT_LEAD_MS: u64 = 60_000;

/// The largest delay `setTimeout` honours (a signed 32-bit count of milliseconds); longer delays fire
/// at once in browsers.
pub const MAX_TIMER_MS: u64 = 2_147_483_647;

/// A delay in the form `setTimeout` honours: at most [`MAX_TIMER_MS`].
pub fn timer_delay(delay_ms: u64) -> u32 {
    u32::try_from(delay_ms.min(MAX_TIMER_MS)).unwrap_or(u32::MAX)
}

/// The most a tab's renewal time is moved earlier at random, so that tabs opened together do not all
/// wake at the same instant (the cross-tab lock still makes them renew once).
pub const MAX_JITTER_MS: u64 = 5_000;

/// Retry delays after a transient failure: exponential from the first to the last, with jitter.
pub const BACKOFF_FIRST_MS: u64 = 2_000;
/// See [`BACKOFF_FIRST_MS`].
pub const BACKOFF_MAX_MS: u64 = 60_000;

/// When a session should be renewed: at its expiry minus a lead of [`DEFAULT_LEAD_MS`] (or a third of
/// the lifetime for tokens shorter than three leads, so a 30 s token renews at 20 s, not before it was
/// issued), moved earlier by up to [`MAX_JITTER_MS`] (at most a tenth of the lead) times `jitter`.
pub fn renew_at(issued_at_ms: u64, expires_at_ms: u64, lead_ms: u64, jitter: f64) -> u64 {
    let lifetime = expires_at_ms.saturating_sub(issued_at_ms);
    let lead = lead_ms.min(lifetime / 3);
    let jitter_span = MAX_JITTER_MS.min(lead / 10);
    let jitter_ms = (jitter.clamp(0.0, 1.0) * jitter_span as f64) as u64;
    expires_at_ms.saturating_sub(lead).saturating_sub(jitter_ms)
}

/// What the scheduler does at a wake-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Sleep, then decide again. The delay fits `setTimeout`.
    Wait {
        /// Milliseconds until the next decision, at most [`MAX_TIMER_MS`].
        delay_ms: u32,
    },
    /// The renewal time has passed: renew now.
    RenewNow,
    /// The session has expired: one last silent attempt may restore it, else the user is signed out.
    Expired,
}

/// Decides from the wall clock alone, so a clock that jumped (sleep, a changed system clock) only
/// changes the answer, never breaks it.
pub fn decide(now_ms: u64, renew_at_ms: u64, expires_at_ms: u64) -> Decision {
    if now_ms >= expires_at_ms {
        Decision::Expired
    } else if now_ms >= renew_at_ms {
        Decision::RenewNow
    } else {
        Decision::Wait {
            delay_ms: timer_delay(renew_at_ms - now_ms),
        }
    }
}

/// The delay before retry number `attempt` (1 for the first retry) after a transient failure:
/// 2 s, 4 s, 8 s, … up to 60 s, the upper half of each step random ("equal jitter"), so tabs and
/// clients that failed together do not retry together.
pub fn backoff_delay(attempt: u32, jitter: f64) -> u64 {
    let exponent = attempt.saturating_sub(1).min(16);
    let step = BACKOFF_FIRST_MS
        .saturating_mul(1 << exponent)
        .min(BACKOFF_MAX_MS);
    step / 2 + (jitter.clamp(0.0, 1.0) * (step / 2) as f64) as u64
}

/// When to retry after a transient failure, or `None` when the session will have expired by then:
/// retrying stops at expiry (the user is then signed out, or restored by an `online` wake-up).
pub fn next_retry_at(now_ms: u64, attempt: u32, expires_at_ms: u64, jitter: f64) -> Option<u64> {
    let at = now_ms.saturating_add(backoff_delay(attempt, jitter));
    (at < expires_at_ms).then_some(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: u64 = 1_700_000_000_000;
    const MIN: u64 = 60_000;

    #[test]
    fn renewal_time_by_lifetime() {
        let check = |lifetime_ms: u64, jitter: f64, expected_before_expiry_ms: u64| {
            let expires = T0 + lifetime_ms;
            let at = renew_at(T0, expires, DEFAULT_LEAD_MS, jitter);
            assert_eq!(
                expires - at,
                expected_before_expiry_ms,
                "lifetime {lifetime_ms} jitter {jitter}"
            );
        };
        // An hour: 60 s lead, up to 5 s jitter.
        check(60 * MIN, 0.0, 60_000);
        check(60 * MIN, 0.5, 62_500);
        check(60 * MIN, 0.999_999, 64_999);
        // Three minutes is the boundary: a third of it is the lead itself.
        check(3 * MIN, 0.0, 60_000);
        // Short tokens renew at two thirds of their life; jitter is at most a tenth of the lead.
        check(30_000, 0.0, 10_000);
        check(30_000, 1.0, 11_000);
        check(10_000, 0.0, 3_333);
        // Absurd inputs do not underflow.
        check(0, 1.0, 0);
        assert_eq!(renew_at(T0, T0 - 5, DEFAULT_LEAD_MS, 0.5), T0 - 5);
        // Out-of-range jitter is clamped, never a NaN surprise.
        check(60 * MIN, f64::NAN, 60_000);
        check(60 * MIN, 7.0, 65_000);
    }

    #[test]
    fn decisions_from_the_wall_clock() {
        let renew = T0 + 4 * MIN;
        let expires = T0 + 5 * MIN;
        let check = |now: u64, expected: Decision| {
            assert_eq!(decide(now, renew, expires), expected, "now {now}")
        };
        check(T0, Decision::Wait { delay_ms: 240_000 });
        check(renew - 1, Decision::Wait { delay_ms: 1 });
        // Already due (a reload close to expiry): renew at once.
        check(renew, Decision::RenewNow);
        check(expires - 1, Decision::RenewNow);
        // Already expired (a laptop that slept past expiry, or a reload after it).
        check(expires, Decision::Expired);
        check(expires + 3_600_000, Decision::Expired);
        // A clock that jumped backwards just waits longer; the delay is clamped to setTimeout's limit.
        check(
            0,
            Decision::Wait {
                delay_ms: MAX_TIMER_MS as u32,
            },
        );
        let far = T0 + 40 * 24 * 3_600_000;
        assert_eq!(
            decide(T0, far, far + MIN),
            Decision::Wait {
                delay_ms: MAX_TIMER_MS as u32
            }
        );
    }

    #[test]
    fn backoff_is_bounded_and_jittered() {
        let check = |attempt: u32, low: u64, high: u64| {
            assert_eq!(backoff_delay(attempt, 0.0), low, "attempt {attempt} low");
            assert_eq!(backoff_delay(attempt, 1.0), high, "attempt {attempt} high");
            let middle = backoff_delay(attempt, 0.5);
            assert!(
                low <= middle && middle <= high,
                "attempt {attempt}: {middle}"
            );
        };
        check(0, 1_000, 2_000);
        check(1, 1_000, 2_000);
        check(2, 2_000, 4_000);
        check(3, 4_000, 8_000);
        check(5, 16_000, 32_000);
        check(6, 30_000, 60_000);
        check(7, 30_000, 60_000);
        check(u32::MAX, 30_000, 60_000);
    }

    #[test]
    fn retries_stop_at_expiry() {
        assert_eq!(next_retry_at(T0, 1, T0 + MIN, 0.0), Some(T0 + 1_000));
        assert_eq!(next_retry_at(T0, 6, T0 + MIN, 1.0), None);
        assert_eq!(next_retry_at(T0, 6, T0 + MIN + 1, 1.0), Some(T0 + MIN));
        assert_eq!(next_retry_at(T0, 1, T0, 0.0), None);
    }
}
