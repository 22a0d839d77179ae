//! The session panel (expiry countdown, next renewal, last result, event log), the banner that
//! asks the user to sign in again when renewal needs them, and the notice that the session is kept
//! in memory only.

use gloo::timers::callback::Interval;
use yew::prelude::*;
use yew_oidc::{use_auth, AuthState, LogEntry};

/// The wall clock, in milliseconds since the epoch.
fn now_ms() -> u64 {
    js_sys::Date::now() as u64
}

/// Re-renders the calling component every `period_ms` (for countdowns); returns the current time,
/// read at this render: a render for another reason (the page woke from sleep, the session changed)
/// shows the clock as it is, not the last tick's.
#[hook]
pub(crate) fn use_now(period_ms: u32) -> u64 {
    let tick = use_state(now_ms);
    {
        let tick = tick.clone();
        use_effect_with(period_ms, move |period_ms| {
            let interval = Interval::new(*period_ms, move || tick.set(now_ms()));
            move || drop(interval)
        });
    }
    now_ms()
}

/// `1 h 02 min`, `4 min 05 s`, `12 s`.
pub fn format_duration(ms: u64) -> String {
    let seconds = ms / 1000;
    match seconds {
        0..=59 => format!("{seconds} s"),
        60..=3599 => format!("{} min {:02} s", seconds / 60, seconds % 60),
        _ => format!("{} h {:02} min", seconds / 3600, (seconds % 3600) / 60),
    }
}

/// The time left in the "sign in again" banner: whole minutes (`4 min`: never more than is left),
/// and seconds under a minute (`7 s`), where rounding to minutes would say "1 min" for 7 s.
pub fn format_time_left(ms: u64) -> String {
    match ms / 1000 {
        seconds @ 0..=59 => format!("{seconds} s"),
        seconds => format!("{} min", seconds / 60),
    }
}

/// `HH:MM:SS` in local time, by hand: a tab's first `toLocaleTimeString` loads Intl data (tens of ms).
fn clock_time(at_ms: u64) -> String {
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(at_ms as f64));
    format!(
        "{:02}:{:02}:{:02}",
        date.get_hours(),
        date.get_minutes(),
        date.get_seconds()
    )
}

/// The signed-in session at a glance, updated live.
#[function_component(SessionPanel)]
pub fn session_panel() -> Html {
    let auth = use_auth();
    let now = use_now(1000);
    let Some(session) = auth.state().session() else {
        return html! {};
    };
    let status = auth.status();
    let renew_now = {
        let auth = auth.clone();
        Callback::from(move |_| auth.renew_now())
    };
    let expires_in = session.expires_at_ms.saturating_sub(now);
    let next = if status.in_flight {
        "renewing now…".to_owned()
    } else if let Some(error) = &status.stopped {
        format!("stopped: {}", error.code())
    } else if let Some(at) = status.next_at_ms {
        format!(
            "{} (in {})",
            clock_time(at),
            format_duration(at.saturating_sub(now))
        )
    } else {
        "not scheduled".to_owned()
    };
    let last = match &status.last {
        None => "none yet".to_owned(),
        Some(last) => match &last.error {
            None => format!(
                "succeeded in {} ms by {} at {}",
                last.duration_ms,
                last.channel.name(),
                clock_time(last.at_ms)
            ),
            Some(error) => format!(
                "failed: {} ({}, {}) after {} ms at {}",
                error.code(),
                error.class().name(),
                last.channel.name(),
                last.duration_ms,
                clock_time(last.at_ms)
            ),
        },
    };
    html! {
        <section id="session-panel" class="panel" aria-label="Session">
            <h2>{ "Session" }</h2>
            <dl class="facts">
                <dt>{ "Access token expires in" }</dt>
                <dd id="session-expires-in">{ format_duration(expires_in) }</dd>
                <dt>{ "Next renewal" }</dt><dd id="next-renewal">{ next }</dd>
                <dt>{ "Last renewal" }</dt><dd id="last-renewal">{ last }</dd>
                <dt>{ "Renewals" }</dt><dd id="renewal-count">{ status.renewals }</dd>
                <dt>{ "Ignored messages" }</dt><dd id="ignored-count">{ status.ignored_messages() }</dd>
                if !status.ignored_by_reason.is_empty() {
                    <dt>{ "Ignored, by reason" }</dt>
                    <dd id="ignored-reasons">
                        { for status.ignored_by_reason.iter().map(|(reason, count)| html! {
                            <span class="ignored-reason" data-reason={reason.name()}>
                                { format!("{} {count} ", reason.name()) }
                            </span>
                        }) }
                    </dd>
                }
            </dl>
            <button id="renew-now" onclick={renew_now} disabled={status.in_flight}>{ "Renew now" }</button>
            <h3>{ "Events" }</h3>
            <ol id="event-log" class="log" reversed=true>
                { for status.log.iter().rev().take(20).map(log_line) }
            </ol>
        </section>
    }
}

fn log_line(entry: &LogEntry) -> Html {
    let kind = entry.kind.name();
    html! {
        <li data-kind={kind.replace(' ', "-")} data-at={entry.at_ms.to_string()}>
            <time>{ clock_time(entry.at_ms) }</time>{ " " }<strong>{ kind }</strong>
            if !entry.detail.is_empty() { { " — " }{ &entry.detail } }
            if entry.count > 1 { <span class="repeat">{ format!(" ×{}", entry.count) }</span> }
        </li>
    }
}

/// Shown while signed in when renewal needs the user (the session stays until it expires), and
/// whenever the session is kept in memory because the browser refused to store it.
#[function_component(SessionBanner)]
pub fn session_banner() -> Html {
    let auth = use_auth();
    // Every second: the time left is shown in seconds under a minute.
    let now = use_now(1000);
    let storage = auth.storage_fallback().map(|reason| {
        html! {
            <p id="storage-notice" class="banner" role="status"><span>
                { "This browser refused to save your session " }
                <small>{ format!("({reason})") }</small>
                { ": it is kept in this tab's memory only, and reloading the page signs you out." }
            </span></p>
        }
    });
    let renewal = match (auth.state(), &auth.status().stopped) {
        (AuthState::SignedIn(session), Some(error)) => {
            // Why, in a few words: which channel gave up.
            let why = match auth.status().last.as_ref().map(|last| last.channel) {
                Some(yew_oidc::Channel::RefreshToken) => {
                    "the provider no longer accepts the refresh token"
                }
                _ => "the provider needs you to sign in (silent renewal refused)",
            };
            let why = format!("{why}: {}", error.code());
            let left = format_time_left(session.expires_at_ms.saturating_sub(now));
            let login = {
                let auth = auth.clone();
                Callback::from(move |_| auth.login(&crate::app::current_path()))
            };
            Some(html! {
                <div id="session-banner" class="banner" role="alert">
                    { format!("Your session ends in {left} — sign in again to keep working.") }
                    <small class="why">{ format!(" ({why})") }</small>
                    <button id="banner-login" onclick={login}>{ "Sign in again" }</button>
                </div>
            })
        }
        _ => None,
    };
    html! { <>{ for storage }{ for renewal }</> }
}

#[cfg(test)]
mod tests {
    use super::{format_duration, format_time_left};

    #[test]
    fn durations_read_naturally() {
        assert_eq!(format_duration(0), "0 s");
        assert_eq!(format_duration(59_999), "59 s");
        assert_eq!(format_duration(60_000), "1 min 00 s");
        assert_eq!(format_duration(245_000), "4 min 05 s");
        assert_eq!(format_duration(3_720_000), "1 h 02 min");
    }

    #[test]
    fn the_banner_shows_seconds_under_a_minute() {
        assert_eq!(format_time_left(7_000), "7 s");
        assert_eq!(format_time_left(7_999), "7 s");
        assert_eq!(format_time_left(0), "0 s");
        assert_eq!(format_time_left(59_999), "59 s");
        // Never more than is left: 1 min 59 s is "1 min".
        assert_eq!(format_time_left(60_000), "1 min");
        assert_eq!(format_time_left(119_999), "1 min");
        assert_eq!(format_time_left(300_000), "5 min");
    }
}
