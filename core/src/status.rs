//! What the session panel and app code see of renewal: the next renewal time, the last result, an
//! event log, and the lifetimes of the sessions held (for the timeline). Pure, tested on the host;
//! changed only by the session keeper (`keeper`), from the same inputs that change the sign-in
//! state, so the two never disagree.

use crate::renewal::{Channel, RenewalClass, RenewalError};
use std::collections::VecDeque;
use std::fmt;

/// Why the renewer ignored a message it heard while a silent renewal ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum IgnoredMessage {
    /// Sent from another origin than the page's own.
    WrongOrigin,
    /// Sent at the right origin, but not by the renewer's own frame (another frame, or the page).
    WrongSource,
    /// From the frame, but not a silent-page message at all.
    Foreign,
    /// From the frame with the silent page's type, but not its shape or not a parsable callback.
    Malformed,
    /// A well-formed callback for another request (or none): a stale or replayed answer.
    WrongState,
}

impl IgnoredMessage {
    /// A stable identifier (`WrongOrigin`, …), for the event log and pages.
    pub fn name(self) -> &'static str {
        match self {
            Self::WrongOrigin => "WrongOrigin",
            Self::WrongSource => "WrongSource",
            Self::Foreign => "Foreign",
            Self::Malformed => "Malformed",
            Self::WrongState => "WrongState",
        }
    }
}

impl fmt::Display for IgnoredMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::WrongOrigin => "message from another origin",
            Self::WrongSource => "message from another window",
            Self::Foreign => "not a silent-renewal message",
            Self::Malformed => "malformed silent-renewal message",
            Self::WrongState => "silent-renewal answer for another request",
        })
    }
}

/// How many log entries are kept (the oldest go first).
pub const LOG_CAPACITY: usize = 100;

/// How many session lifetimes are kept (the oldest go first).
pub const SESSIONS_CAPACITY: usize = 20;

/// One entry of the event log.
#[derive(Debug, Clone, PartialEq)]
pub struct LogEntry {
    /// When, in milliseconds since the epoch.
    pub at_ms: u64,
    /// What happened.
    pub kind: LogKind,
    /// Details for people (never a token).
    pub detail: String,
    /// The failure's class, for [`LogKind::RenewalFailed`].
    pub class: Option<RenewalClass>,
    /// How many times it happened: more than one only for [`LogKind::MessageIgnored`], whose
    /// repeats (same reason, no other event in between) fold into one entry, so a flood of forged
    /// messages cannot push the real events out of the log.
    pub count: u32,
}

/// When one session's access token was received and when it expires, in milliseconds since the
/// epoch. Ordered by issue, then expiry time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct TokenSpan {
    /// When the session was created (sign-in or renewal), by the local clock.
    pub issued_at_ms: u64,
    /// When its access token expires.
    pub expires_at_ms: u64,
}

/// The kinds of events in the log; app code can match on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogKind {
    /// Signed in (here or in another tab).
    SignedIn,
    /// Signed out, with the reason in the detail.
    SignedOut,
    /// A silent renewal began.
    RenewalStarted,
    /// A silent renewal stored a new session.
    RenewalSucceeded,
    /// A silent renewal failed; the class and code are in the detail.
    RenewalFailed,
    /// A newer session renewed by another tab was taken over, without a request of our own.
    Adopted,
    /// A message was ignored by the renewer (wrong origin, source, state or shape); the detail is
    /// the reason's [`IgnoredMessage::name`].
    MessageIgnored,
}

impl LogKind {
    /// A short name for the log view.
    pub fn name(self) -> &'static str {
        match self {
            LogKind::SignedIn => "signed in",
            LogKind::SignedOut => "signed out",
            LogKind::RenewalStarted => "renewal started",
            LogKind::RenewalSucceeded => "renewal succeeded",
            LogKind::RenewalFailed => "renewal failed",
            LogKind::Adopted => "adopted from another tab",
            LogKind::MessageIgnored => "message ignored",
        }
    }
}

/// The outcome of the last renewal.
#[derive(Debug, Clone, PartialEq)]
pub struct LastRenewal {
    /// When it ended.
    pub at_ms: u64,
    /// `None` on success, else the failure.
    pub error: Option<RenewalError>,
    /// From the renewal's start (its iframe created, or its refresh request made) to the new session
    /// stored (or to the failure).
    pub duration_ms: u64,
    /// How it renewed (or tried to).
    pub channel: Channel,
}

/// The renewal status.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RenewalStatus {
    /// When the next renewal (or retry) is due, while one is scheduled.
    pub next_at_ms: Option<u64>,
    /// A renewal is running.
    pub in_flight: bool,
    /// The last renewal's outcome.
    pub last: Option<LastRenewal>,
    /// Transient failures in a row (the backoff attempt).
    pub failures_in_row: u32,
    /// Renewal stopped because the provider needs the user: the session ends at expiry.
    pub stopped: Option<RenewalError>,
    /// Successful renewals in this page.
    pub renewals: u32,
    /// Messages the renewer ignored, by reason, one entry a reason in the order of
    /// [`IgnoredMessage`] (the log keeps only the newest entries); their total is
    /// [`RenewalStatus::ignored_messages`]. A short list, not a map: lighter in every app's bundle.
    pub ignored_by_reason: Vec<(IgnoredMessage, u32)>,
    /// The event log, oldest first.
    pub log: VecDeque<LogEntry>,
    /// The sessions held in this page (signed in, restored, renewed, adopted), in the order they were
    /// issued (by issue, then expiry time: a session adopted from another tab takes its place among
    /// them); the newest [`SESSIONS_CAPACITY`].
    pub sessions: VecDeque<TokenSpan>,
}

/// What the keeper does after a failed renewal (its decision, recorded by the status).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Then {
    /// Retry with backoff: one more failure in a row.
    Retry,
    /// Renewal stopped: the provider needs the user; the session ends at expiry.
    Stop,
    /// The session ends now.
    End,
    /// The refresh token was refused: renew in the iframe instead, now.
    FallBack,
}

/// A change to the status (made by the keeper).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum StatusNote {
    /// The next renewal or retry is (or is no longer) scheduled.
    Scheduled(Option<u64>),
    /// A renewal began.
    Started { at_ms: u64, channel: Channel },
    /// A renewal succeeded.
    Succeeded {
        at_ms: u64,
        duration_ms: u64,
        channel: Channel,
    },
    /// A renewal failed; the keeper decided what comes next.
    Failed {
        at_ms: u64,
        duration_ms: u64,
        error: RenewalError,
        channel: Channel,
        then: Then,
    },
    /// Another tab's session was adopted.
    Adopted { at_ms: u64 },
    /// The renewer ignored a message.
    Ignored { at_ms: u64, reason: IgnoredMessage },
    /// Signed in (a new session: renewal starts afresh).
    SignedIn { at_ms: u64, detail: String },
    /// Signed out: nothing is scheduled any more.
    SignedOut { at_ms: u64, detail: String },
    /// A session is held: recorded for the timeline (once per span), not logged.
    Session(TokenSpan),
}

impl RenewalStatus {
    /// Messages the renewer ignored, all reasons together.
    pub fn ignored_messages(&self) -> u32 {
        self.ignored_by_reason
            .iter()
            .fold(0, |total, (_, count)| total.saturating_add(*count))
    }

    /// The status after `note` (the tests' chained form of [`RenewalStatus::note`]).
    #[cfg(test)]
    pub(crate) fn apply(mut self, note: StatusNote) -> RenewalStatus {
        self.note(note);
        self
    }

    /// Records `note`. Returns the log entry it added, or the one a repeat was folded into, for the
    /// caller to pass on to app code.
    pub(crate) fn note(&mut self, note: StatusNote) -> Option<LogEntry> {
        let next = self;
        let mut class = None;
        let (at_ms, kind, detail) = match note {
            StatusNote::Scheduled(at) => {
                next.next_at_ms = at;
                return None;
            }
            StatusNote::Session(span) => {
                // Kept in order, so one search says whether it is held and where it goes.
                if let Err(at) = next.sessions.binary_search(&span) {
                    next.sessions.insert(at, span);
                    if next.sessions.len() > SESSIONS_CAPACITY {
                        next.sessions.pop_front();
                    }
                }
                return None;
            }
            StatusNote::Started { at_ms, channel } => {
                next.in_flight = true;
                next.next_at_ms = None;
                (
                    at_ms,
                    LogKind::RenewalStarted,
                    format!("by {}", channel.name()),
                )
            }
            StatusNote::Succeeded {
                at_ms,
                duration_ms,
                channel,
            } => {
                next.in_flight = false;
                next.failures_in_row = 0;
                next.stopped = None;
                next.renewals += 1;
                next.last = Some(LastRenewal {
                    at_ms,
                    error: None,
                    duration_ms,
                    channel,
                });
                (
                    at_ms,
                    LogKind::RenewalSucceeded,
                    format!("in {duration_ms} ms by {}", channel.name()),
                )
            }
            StatusNote::Failed {
                at_ms,
                duration_ms,
                error,
                channel,
                then,
            } => {
                next.in_flight = false;
                match then {
                    Then::Retry => next.failures_in_row += 1,
                    Then::Stop => next.stopped = Some(error.clone()),
                    Then::End | Then::FallBack => {}
                }
                let error_class = error.class();
                class = Some(error_class);
                let mut detail = format!(
                    "{} ({}, {}): {error}",
                    error.code(),
                    error_class.name(),
                    channel.name()
                );
                if then == Then::FallBack {
                    detail.push_str("; renewing in the iframe instead");
                }
                next.last = Some(LastRenewal {
                    at_ms,
                    error: Some(error),
                    duration_ms,
                    channel,
                });
                (at_ms, LogKind::RenewalFailed, detail)
            }
            StatusNote::Adopted { at_ms } => {
                next.failures_in_row = 0;
                next.stopped = None;
                (at_ms, LogKind::Adopted, String::new())
            }
            StatusNote::Ignored { at_ms, reason } => {
                let counts = &mut next.ignored_by_reason;
                match counts.binary_search_by_key(&reason, |(known, _)| *known) {
                    Ok(i) => counts[i].1 = counts[i].1.saturating_add(1),
                    Err(i) => counts.insert(i, (reason, 1)),
                }
                let repeat = next
                    .log
                    .iter_mut()
                    .rev()
                    .take_while(|entry| entry.kind == LogKind::MessageIgnored)
                    .find(|entry| entry.detail == reason.name());
                if let Some(entry) = repeat {
                    entry.count = entry.count.saturating_add(1);
                    return Some(entry.clone());
                }
                (at_ms, LogKind::MessageIgnored, reason.name().to_owned())
            }
            StatusNote::SignedIn { at_ms, detail } => {
                next.failures_in_row = 0;
                next.stopped = None;
                (at_ms, LogKind::SignedIn, detail)
            }
            StatusNote::SignedOut { at_ms, detail } => {
                next.next_at_ms = None;
                next.in_flight = false;
                next.failures_in_row = 0;
                next.stopped = None;
                (at_ms, LogKind::SignedOut, detail)
            }
        };
        if next.log.len() == LOG_CAPACITY {
            next.log.pop_front();
        }
        let entry = LogEntry {
            at_ms,
            kind,
            detail,
            class,
            count: 1,
        };
        next.log.push_back(entry.clone());
        Some(entry)
    }

    /// The newest log entry.
    pub fn last_entry(&self) -> Option<&LogEntry> {
        self.log.back()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn login_required() -> RenewalError {
        RenewalError::Provider {
            error: "login_required".into(),
            description: None,
        }
    }

    #[test]
    fn a_renewal_cycle() {
        let status = RenewalStatus::default()
            .apply(StatusNote::Scheduled(Some(10)))
            .apply(StatusNote::Started {
                at_ms: 10,
                channel: Channel::Iframe,
            });
        assert!(status.in_flight);
        assert_eq!(status.next_at_ms, None);
        let status = status.apply(StatusNote::Failed {
            at_ms: 20,
            duration_ms: 10,
            error: RenewalError::Timeout,
            channel: Channel::Iframe,
            then: Then::Retry,
        });
        assert_eq!(
            (
                status.in_flight,
                status.failures_in_row,
                status.stopped.is_none()
            ),
            (false, 1, true)
        );
        let status = status
            .apply(StatusNote::Started {
                at_ms: 30,
                channel: Channel::RefreshToken,
            })
            .apply(StatusNote::Succeeded {
                at_ms: 40,
                duration_ms: 10,
                channel: Channel::RefreshToken,
            });
        assert_eq!((status.failures_in_row, status.renewals), (0, 1));
        assert_eq!(status.last.as_ref().map(|last| last.duration_ms), Some(10));
        let kinds: Vec<_> = status.log.iter().map(|entry| entry.kind).collect();
        use LogKind::*;
        assert_eq!(
            kinds,
            [
                RenewalStarted,
                RenewalFailed,
                RenewalStarted,
                RenewalSucceeded
            ]
        );
        assert!(
            status.log[1]
                .detail
                .starts_with("timeout (transient, iframe)"),
            "{:?}",
            status.log[1]
        );
        assert_eq!(status.log[1].class, Some(RenewalClass::Transient));
        assert_eq!(status.log[3].class, None);
    }

    #[test]
    fn sessions_are_recorded_once_each_and_bounded_without_logging() {
        let span = |at: u64| TokenSpan {
            issued_at_ms: at,
            expires_at_ms: at + 300_000,
        };
        let status = RenewalStatus::default()
            .apply(StatusNote::Session(span(0)))
            .apply(StatusNote::Session(span(0)))
            .apply(StatusNote::Session(span(200_000)));
        assert_eq!(Vec::from(status.sessions.clone()), [span(0), span(200_000)]);
        assert!(status.log.is_empty());
        let mut status = status;
        for at in 0..(SESSIONS_CAPACITY as u64 + 3) {
            status = status.apply(StatusNote::Session(span(1_000_000 + at)));
        }
        assert_eq!(status.sessions.len(), SESSIONS_CAPACITY);
        assert_eq!(
            status.sessions.back(),
            Some(&span(1_000_000 + SESSIONS_CAPACITY as u64 + 2))
        );
        // An older session (adopted from another tab) takes its place by issue time; when full,
        // the oldest issued goes.
        let status = RenewalStatus::default()
            .apply(StatusNote::Session(span(500)))
            .apply(StatusNote::Session(span(100)))
            .apply(StatusNote::Session(span(300)))
            .apply(StatusNote::Session(TokenSpan {
                issued_at_ms: 300,
                expires_at_ms: 1_000,
            }));
        let issued: Vec<(u64, u64)> = status
            .sessions
            .iter()
            .map(|s| (s.issued_at_ms, s.expires_at_ms))
            .collect();
        assert_eq!(
            issued,
            [(100, 300_100), (300, 1_000), (300, 300_300), (500, 300_500)]
        );
        let mut status = status;
        for at in 0..SESSIONS_CAPACITY as u64 {
            status = status.apply(StatusNote::Session(span(1_000 + at)));
        }
        status = status.apply(StatusNote::Session(span(0)));
        assert_eq!(status.sessions.len(), SESSIONS_CAPACITY);
        assert_eq!(status.sessions.front(), Some(&span(1_000)));
        assert!(status
            .sessions
            .iter()
            .zip(status.sessions.iter().skip(1))
            .all(|(a, b)| a < b));
    }

    #[test]
    fn interaction_required_stops_until_a_new_session() {
        let status = RenewalStatus::default().apply(StatusNote::Failed {
            at_ms: 1,
            duration_ms: 1,
            error: login_required(),
            channel: Channel::Iframe,
            then: Then::Stop,
        });
        assert_eq!(status.stopped, Some(login_required()));
        assert_eq!(status.failures_in_row, 0);
        assert_eq!(
            status
                .clone()
                .apply(StatusNote::Adopted { at_ms: 2 })
                .stopped,
            None
        );
        let signed_out = status.apply(StatusNote::SignedOut {
            at_ms: 3,
            detail: "expired".into(),
        });
        assert_eq!(
            (signed_out.stopped.clone(), signed_out.next_at_ms),
            (None, None)
        );
    }

    #[test]
    fn a_flood_of_ignored_messages_cannot_push_real_events_out() {
        let ignored = |reason| StatusNote::Ignored { at_ms: 7, reason };
        let mut status = RenewalStatus::default().apply(StatusNote::Started {
            at_ms: 1,
            channel: Channel::Iframe,
        });
        for _ in 0..10_000 {
            status = status.apply(ignored(IgnoredMessage::WrongOrigin));
            status = status.apply(ignored(IgnoredMessage::WrongSource));
        }
        status = status.apply(StatusNote::Succeeded {
            at_ms: 9,
            duration_ms: 8,
            channel: Channel::Iframe,
        });
        status = status.apply(ignored(IgnoredMessage::WrongOrigin));
        let summary: Vec<_> = status
            .log
            .iter()
            .map(|entry| (entry.kind, entry.detail.as_str(), entry.count))
            .collect();
        assert_eq!(
            summary,
            [
                (LogKind::RenewalStarted, "by iframe", 1),
                (LogKind::MessageIgnored, "WrongOrigin", 10_000),
                (LogKind::MessageIgnored, "WrongSource", 10_000),
                (LogKind::RenewalSucceeded, "in 8 ms by iframe", 1),
                // After another event, a new entry.
                (LogKind::MessageIgnored, "WrongOrigin", 1),
            ]
        );
        assert_eq!(status.ignored_messages(), 20_001);
    }

    #[test]
    fn ignored_messages_are_counted_once_a_reason_in_the_reasons_order() {
        let reasons = [
            IgnoredMessage::WrongState,
            IgnoredMessage::Malformed,
            IgnoredMessage::WrongState,
            IgnoredMessage::WrongOrigin,
            IgnoredMessage::WrongState,
        ];
        let status =
            reasons
                .iter()
                .enumerate()
                .fold(RenewalStatus::default(), |status, (i, reason)| {
                    status.apply(StatusNote::Ignored {
                        at_ms: i as u64,
                        reason: *reason,
                    })
                });
        assert_eq!(
            status.ignored_by_reason,
            [
                (IgnoredMessage::WrongOrigin, 1),
                (IgnoredMessage::Malformed, 1),
                (IgnoredMessage::WrongState, 3)
            ]
        );
        assert_eq!(status.ignored_messages(), 5);
    }

    #[test]
    fn the_log_is_bounded_and_counts_ignored_messages() {
        let mut status = RenewalStatus::default();
        for at_ms in 0..(LOG_CAPACITY as u64 + 5) {
            status = status.apply(StatusNote::Started {
                at_ms,
                channel: Channel::Iframe,
            });
        }
        assert_eq!(status.log.len(), LOG_CAPACITY);
        assert_eq!(status.log.front().map(|entry| entry.at_ms), Some(5));
        let mut status = RenewalStatus::default();
        for at_ms in 0..(LOG_CAPACITY as u64 + 5) {
            status = status.apply(StatusNote::Ignored {
                at_ms,
                reason: IgnoredMessage::WrongOrigin,
            });
        }
        assert_eq!(status.ignored_messages(), LOG_CAPACITY as u32 + 5);
        let status = status.apply(StatusNote::Ignored {
            at_ms: 200,
            reason: IgnoredMessage::WrongState,
        });
        let by_reason: Vec<_> = status
            .ignored_by_reason
            .iter()
            .map(|(reason, n)| (reason.name(), *n))
            .collect();
        assert_eq!(
            by_reason,
            [("WrongOrigin", LOG_CAPACITY as u32 + 5), ("WrongState", 1)]
        );
    }
}
