//! The session timeline: an SVG picture of each access token's lifetime (a bar), the renewals, the
//! retries and the failures with their class (marks), the next renewal and now. Drawn from the
//! renewal status (its event log and the sessions held), re-drawn every second.
//!
//! Implementation notes:
//! - Plain SVG from Yew, no chart library: bars are `rect.token`, marks `g.mark` with a `.renewal`,
//!   `.retry`, `.failure` or `.sign` class and a `<title>` (the browser's tooltip, and the text a
//!   screen reader reads).
//! - Tokens overlap (a renewal comes before the old token expires): each bar takes the first lane
//!   free at its start, so two lanes suffice for a steady renewal rhythm.
//! - The renewal status records every session the app holds, so bars of earlier tokens stay when the
//!   home page was not showing while they were renewed.

use super::session::use_now;
use crate::pages::format_duration;
use yew::prelude::*;
use yew_oidc::{use_auth, LogEntry, LogKind, RenewalClass, TokenSpan};

// Lengths in tenths of an SVG unit, in integers: the drawing needs one decimal, and integer arithmetic
// keeps float maths and float formatting out of the bundle.
/// Width of the drawing, in tenths of SVG units (640 units; it scales to the panel's width).
const WIDTH: u64 = 6400;
const MARGIN: u64 = 80;
/// Height of the marks' row, above the bars.
const MARKS_ROW: u64 = 260;
const LANE_HEIGHT: u64 = 120;
const LANE_GAP: u64 = 60;
const AXIS_HEIGHT: u64 = 180;
/// The shortest time span drawn: with no bar yet, a few marks still get some room.
const MIN_SPAN_MS: u64 = 10_000;

const TOKEN_FILL: &str = "#9cc3ea";
const CURRENT_TOKEN_FILL: &str = "#0b5cad";
const RENEWAL_COLOR: &str = "#1a7f37";
const SIGN_COLOR: &str = "#57606a";

/// The timeline of this page's sessions, updated live; nothing before the first session.
#[function_component(SessionTimeline)]
pub fn session_timeline() -> Html {
    let auth = use_auth();
    let now_ms = use_now(1000);
    let status = auth.status();
    let mut sessions: Vec<TokenSpan> = status.sessions.iter().copied().collect();
    // The session held now, also in the render before the recorder's note lands.
    if let Some(session) = auth.state().session() {
        let span = TokenSpan {
            issued_at_ms: session.issued_at_ms,
            expires_at_ms: session.expires_at_ms,
        };
        if let Err(at) = sessions.binary_search(&span) {
            sessions.insert(at, span);
        }
    }
    if sessions.is_empty() {
        return Html::default();
    }
    html! {
        <section id="session-timeline" class="panel" aria-label="Session timeline">
            <h2>{ "Timeline" }</h2>
            <Timeline
                {sessions}
                log={status.log.iter().cloned().collect::<Vec<_>>()}
                next_at_ms={status.next_at_ms}
                {now_ms}
            />
            <p class="legend">
                { "Bars: access tokens (dark: the current one). Marks: " }
                { legend_dot(RENEWAL_COLOR, false) }{ " renewal, " }
                { legend_dot(class_color(RenewalClass::Transient), true) }{ " retry, " }
                { legend_dot(class_color(RenewalClass::Transient), false) }{ " transient failure, " }
                { legend_dot(class_color(RenewalClass::InteractionRequired), false) }{ " sign-in needed, " }
                { legend_dot(class_color(RenewalClass::Fatal), false) }{ " fatal; hover a mark for details." }
            </p>
        </section>
    }
}

/// Props of [`Timeline`].
#[derive(Debug, Clone, PartialEq, Properties)]
pub struct TimelineProps {
    /// The sessions' token lifetimes, in [`TokenSpan`]'s order (issue, then expiry time), as
    /// `RenewalStatus::sessions` keeps them.
    pub sessions: Vec<TokenSpan>,
    /// The event log, oldest first.
    pub log: Vec<LogEntry>,
    /// The current time, ms since the epoch.
    pub now_ms: u64,
    /// When the next renewal is due, if one is scheduled.
    #[prop_or_default]
    pub next_at_ms: Option<u64>,
}

/// The picture: `svg#timeline`, a `rect.token` per session, a `g.mark` per renewal (`.renewal`),
/// retry (`.retry`), failure (`.failure`, with `data-class`) and sign-in or sign-out (`.sign`).
#[function_component(Timeline)]
pub fn timeline(props: &TimelineProps) -> Html {
    let marks = marks(&props.log);
    let (start, end) = window(&props.sessions, &marks, props.now_ms, props.next_at_ms);
    let span = end.saturating_sub(start).max(1);
    // u128: a span of years in ms times the width stays exact.
    let x = |at_ms: u64| {
        let offset = u128::from(at_ms.saturating_sub(start).min(span));
        MARGIN + (offset * u128::from(WIDTH - 2 * MARGIN) / u128::from(span)) as u64
    };
    let spans = &props.sessions;
    let lanes = lanes(spans);
    let lane_count = lanes.iter().max().map_or(1, |lane| lane + 1);
    let bars_bottom = MARKS_ROW + lane_count as u64 * (LANE_HEIGHT + LANE_GAP);
    let height = bars_bottom + AXIS_HEIGHT;
    let current = spans
        .iter()
        .rposition(|span| span.issued_at_ms <= props.now_ms && props.now_ms < span.expires_at_ms);

    let bars = spans
        .iter()
        .zip(&lanes)
        .enumerate()
        .map(|(i, (span, lane))| {
            let y = MARKS_ROW + *lane as u64 * (LANE_HEIGHT + LANE_GAP);
            let left = x(span.issued_at_ms);
            let width = x(span.expires_at_ms).saturating_sub(left).max(10);
            let is_current = current == Some(i);
            let title = format!(
                "access token{}: {} → {} ({})",
                if is_current { " (current)" } else { "" },
                clock_time(span.issued_at_ms),
                clock_time(span.expires_at_ms),
                format_duration(span.expires_at_ms.saturating_sub(span.issued_at_ms))
            );
            html! {
                <rect
                    class={classes!("token", is_current.then_some("current"))}
                    x={fmt(left)} y={fmt(y)} width={fmt(width)} height={fmt(LANE_HEIGHT)} rx="2"
                    fill={if is_current { CURRENT_TOKEN_FILL } else { TOKEN_FILL }}
                >
                    <title>{ title }</title>
                </rect>
            }
        });

    let mark_shapes = marks.iter().map(|mark| {
        let cx = fmt(x(mark.at_ms));
        let (class, color, hollow) = match mark.kind {
            MarkKind::Renewal | MarkKind::Adopted => ("renewal", RENEWAL_COLOR, false),
            MarkKind::Retry => ("retry", class_color(RenewalClass::Transient), true),
            MarkKind::Failure(class) => ("failure", class_color(class), false),
            MarkKind::Sign => ("sign", SIGN_COLOR, true),
        };
        let data_class = match mark.kind {
            MarkKind::Failure(class) => Some(class.name().replace(' ', "-")),
            _ => None,
        };
        let title = format!(
            "{} at {}{}",
            mark.label,
            clock_time(mark.at_ms),
            mark.detail
        );
        html! {
            <g class={classes!("mark", class)} data-kind={mark.kind.name()} data-class={data_class}>
                <title>{ title }</title>
                <line x1={cx.clone()} x2={cx.clone()} y1={fmt(MARKS_ROW / 2)} y2={fmt(bars_bottom)}
                    stroke={color} stroke-width="1" stroke-opacity="0.5" />
                <circle cx={cx} cy={fmt(MARKS_ROW / 2)} r="5"
                    fill={if hollow { "#fff" } else { color }} stroke={color} stroke-width="2" />
            </g>
        }
    });

    let next = props.next_at_ms.filter(|at| *at >= start).map(|at| {
        let nx = fmt(x(at));
        html! {
            <line class="next" x1={nx.clone()} x2={nx} y1="2" y2={fmt(bars_bottom)}
                stroke={RENEWAL_COLOR} stroke-width="1.5" stroke-dasharray="4 3">
                <title>{ format!("next renewal at {}", clock_time(at)) }</title>
            </line>
        }
    });
    let now_x = fmt(x(props.now_ms));
    html! {
        <svg id="timeline" role="img" aria-label="Session timeline"
            viewBox={format!("0 0 {} {}", WIDTH / 10, fmt(height))}
            width="100%" preserveAspectRatio="xMinYMin meet"
            data-start={start.to_string()} data-end={end.to_string()}>
            { for bars }
            { for next }
            <line class="now" x1={now_x.clone()} x2={now_x} y1="2" y2={fmt(bars_bottom)}
                stroke="#1b1f24" stroke-width="1">
                <title>{ format!("now, {}", clock_time(props.now_ms)) }</title>
            </line>
            { for mark_shapes }
            <text x={fmt(MARGIN)} y={fmt(height - 40)} font-size="11" fill={SIGN_COLOR}>
                { clock_time(start) }
            </text>
            <text x={fmt(WIDTH - MARGIN)} y={fmt(height - 40)} font-size="11" fill={SIGN_COLOR}
                text-anchor="end">
                { clock_time(end) }
            </text>
        </svg>
    }
}

/// What a mark shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MarkKind {
    /// A renewal that brought a new token.
    Renewal,
    /// A newer token taken over from another tab.
    Adopted,
    /// A renewal started again after a transient failure.
    Retry,
    /// A failed renewal, of this class.
    Failure(RenewalClass),
    /// Signed in or out.
    Sign,
}

impl MarkKind {
    fn name(self) -> &'static str {
        match self {
            MarkKind::Renewal => "renewal",
            MarkKind::Adopted => "adopted",
            MarkKind::Retry => "retry",
            MarkKind::Failure(_) => "failure",
            MarkKind::Sign => "sign",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Mark {
    at_ms: u64,
    kind: MarkKind,
    label: &'static str,
    /// Appended to the tooltip (` — in 83 ms`).
    detail: String,
}

/// The marks of a log: renewals and adoptions, retries (a renewal started right after a transient
/// failure), failures with their class, sign-ins and sign-outs. Other entries have no mark.
fn marks(log: &[LogEntry]) -> Vec<Mark> {
    let mut marks = Vec::new();
    let mut after_transient_failure = false;
    for entry in log {
        let detail = if entry.detail.is_empty() {
            String::new()
        } else {
            format!(" — {}", entry.detail)
        };
        let (kind, label) = match entry.kind {
            LogKind::RenewalSucceeded => (MarkKind::Renewal, "renewal"),
            LogKind::Adopted => (MarkKind::Adopted, "renewed in another tab"),
            LogKind::RenewalStarted if after_transient_failure => (MarkKind::Retry, "retry"),
            LogKind::RenewalFailed => (
                MarkKind::Failure(entry.class.unwrap_or(RenewalClass::Transient)),
                "renewal failed",
            ),
            LogKind::SignedIn => (MarkKind::Sign, "signed in"),
            LogKind::SignedOut => (MarkKind::Sign, "signed out"),
            LogKind::RenewalStarted | LogKind::MessageIgnored => continue,
        };
        after_transient_failure = matches!(kind, MarkKind::Failure(RenewalClass::Transient));
        marks.push(Mark {
            at_ms: entry.at_ms,
            kind,
            label,
            detail,
        });
    }
    marks
}

/// The time range drawn: from the first bar or mark to the last expiry, the next renewal or now,
/// at least [`MIN_SPAN_MS`] long.
fn window(spans: &[TokenSpan], marks: &[Mark], now_ms: u64, next_at_ms: Option<u64>) -> (u64, u64) {
    let starts = spans
        .iter()
        .map(|span| span.issued_at_ms)
        .chain(marks.iter().map(|mark| mark.at_ms));
    let start = starts.min().unwrap_or(now_ms).min(now_ms);
    let ends = spans
        .iter()
        .map(|span| span.expires_at_ms)
        .chain(next_at_ms)
        .chain([now_ms]);
    let end = ends.max().unwrap_or(now_ms);
    (start, end.max(start.saturating_add(MIN_SPAN_MS)))
}

/// Each span's lane (spans sorted by start): the first lane whose last bar has ended.
fn lanes(spans: &[TokenSpan]) -> Vec<usize> {
    let mut lane_ends: Vec<u64> = Vec::new();
    spans
        .iter()
        .map(
            |span| match lane_ends.iter().position(|end| *end <= span.issued_at_ms) {
                Some(lane) => {
                    lane_ends[lane] = span.expires_at_ms;
                    lane
                }
                None => {
                    lane_ends.push(span.expires_at_ms);
                    lane_ends.len() - 1
                }
            },
        )
        .collect()
}

/// A legend's dot, drawn like the marks (SVG attributes, no inline style: see the CSP in deploy/).
fn legend_dot(color: &'static str, hollow: bool) -> Html {
    html! {
        <svg width="12" height="12" viewBox="0 0 12 12" aria-hidden="true">
            <circle cx="6" cy="6" r="4.5" fill={if hollow { "#fff" } else { color }}
                stroke={color} stroke-width="2" />
        </svg>
    }
}

fn class_color(class: RenewalClass) -> &'static str {
    match class {
        RenewalClass::Transient => "#bf8700",
        RenewalClass::InteractionRequired => "#cf222e",
        RenewalClass::Fatal => "#82071e",
    }
}

/// SVG coordinates with one decimal (`tenths` of a unit): enough on a 640-unit drawing.
fn fmt(tenths: u64) -> String {
    format!("{}.{}", tenths / 10, tenths % 10)
}

fn clock_time(at_ms: u64) -> String {
    js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(at_ms as f64))
        .to_locale_time_string("en-GB")
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(at_ms: u64, kind: LogKind, class: Option<RenewalClass>) -> LogEntry {
        LogEntry {
            at_ms,
            kind,
            detail: String::new(),
            class,
            count: 1,
        }
    }

    fn span(issued_at_ms: u64, expires_at_ms: u64) -> TokenSpan {
        TokenSpan {
            issued_at_ms,
            expires_at_ms,
        }
    }

    #[test]
    fn marks_tell_renewals_retries_and_failures_apart() {
        use LogKind::*;
        let transient = Some(RenewalClass::Transient);
        let log = [
            entry(1, SignedIn, None),
            entry(2, RenewalStarted, None),
            entry(3, RenewalSucceeded, None),
            entry(4, RenewalStarted, None),
            entry(5, RenewalFailed, transient),
            entry(6, MessageIgnored, None),
            entry(7, RenewalStarted, None),
            entry(8, RenewalFailed, Some(RenewalClass::InteractionRequired)),
            entry(9, RenewalStarted, None),
            entry(10, Adopted, None),
        ];
        let kinds: Vec<(u64, MarkKind)> = marks(&log)
            .iter()
            .map(|mark| (mark.at_ms, mark.kind))
            .collect();
        assert_eq!(
            kinds,
            [
                (1, MarkKind::Sign),
                (3, MarkKind::Renewal),
                (5, MarkKind::Failure(RenewalClass::Transient)),
                (7, MarkKind::Retry),
                (8, MarkKind::Failure(RenewalClass::InteractionRequired)),
                (10, MarkKind::Adopted),
            ]
        );
    }

    #[test]
    fn overlapping_tokens_take_turns_in_two_lanes() {
        let spans = [
            span(0, 300),
            span(240, 540),
            span(480, 780),
            span(720, 1020),
            span(2000, 2300),
        ];
        assert_eq!(lanes(&spans), [0, 1, 0, 1, 0]);
        assert_eq!(lanes(&[]), Vec::<usize>::new());
    }

    #[test]
    fn the_window_covers_bars_marks_next_and_now_and_a_minute_at_least() {
        let spans = [span(1_000_000, 1_300_000)];
        assert_eq!(window(&spans, &[], 1_100_000, None), (1_000_000, 1_300_000));
        assert_eq!(
            window(&spans, &[], 1_100_000, Some(1_400_000)),
            (1_000_000, 1_400_000)
        );
        let mark = Mark {
            at_ms: 900_000,
            kind: MarkKind::Sign,
            label: "signed in",
            detail: String::new(),
        };
        assert_eq!(
            window(&spans, &[mark], 1_500_000, None),
            (900_000, 1_500_000)
        );
        assert_eq!(window(&[], &[], 5_000, None), (5_000, 15_000));
    }
}
