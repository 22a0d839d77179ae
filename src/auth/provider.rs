//! The `AuthProvider` context: holds the auth state in a reducer (the pure state machine), the
//! renewal status, and the [`AuthClient`] that performs the effects; renders the session keeper.

use super::client::AuthClient;
use super::keeper::{RenewTrigger, SessionKeeper};
use super::protocol::schedule::timer_delay;
use super::protocol::state::{reduce, AuthEvent, AuthState, SignOutReason};
use super::status::{LogEntry, RenewalStatus, StatusNote};
use crate::config::{Config, StorageKind};
use gloo::timers::callback::Timeout;
use std::rc::Rc;
use yew::prelude::*;

/// The reducer's state: the pure [`AuthState`], updated only by [`reduce`].
#[derive(Debug, Clone, PartialEq)]
pub struct AuthStore(pub AuthState);

impl Reducible for AuthStore {
    type Action = AuthEvent;

    fn reduce(self: Rc<Self>, event: AuthEvent) -> Rc<Self> {
        Rc::new(AuthStore(reduce(&self.0, event)))
    }
}

/// The renewal status in a reducer, updated only by [`RenewalStatus::apply`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StatusStore(pub RenewalStatus);

impl Reducible for StatusStore {
    type Action = StatusNote;

    fn reduce(self: Rc<Self>, note: StatusNote) -> Rc<Self> {
        Rc::new(StatusStore(self.0.apply(note)))
    }
}

/// What [`AuthProvider`] puts in the context; read it through [`use_auth`](super::use_auth).
#[derive(Clone, PartialEq)]
pub struct AuthContext {
    pub(crate) store: UseReducerHandle<AuthStore>,
    pub(crate) status: UseReducerHandle<StatusStore>,
    pub(crate) client: AuthClient,
    /// The keeper's "renew now", registered while it is mounted.
    pub(crate) renew: RenewTrigger,
}

/// Props of [`AuthProvider`].
#[derive(Properties, PartialEq)]
pub struct AuthProviderProps {
    /// The validated runtime configuration.
    pub config: Rc<Config>,
    /// Called with every new event-log entry (renewals, failures, adoptions, ignored messages,
    /// sign-outs).
    #[prop_or_default]
    pub on_event: Callback<LogEntry>,
    /// The app.
    #[prop_or_default]
    pub children: Html,
}

/// Provides sign-in state and actions to everything below it. On mount it restores a stored session
/// (no network request; in memory-storage mode the keeper restores by a silent renewal instead);
/// while signed in it marks the session expired at its expiry, and the keeper renews it before.
#[function_component(AuthProvider)]
pub fn auth_provider(props: &AuthProviderProps) -> Html {
    let client = use_memo(props.config.clone(), |config| {
        AuthClient::new(config.clone())
    });
    // Back from a logout: signed out with how it went, before anything (memory storage's silent
    // restore included) can start from `Loading`.
    let store = use_reducer(|| {
        AuthStore(match client.take_logout_outcome() {
            Some(reason) => AuthState::SignedOut {
                reason: Some(reason),
            },
            None => AuthState::Loading,
        })
    });
    let status = use_reducer(StatusStore::default);
    let renew = use_memo((), |_| RenewTrigger::default());

    {
        let (client, store) = ((*client).clone(), store.clone());
        use_effect_with((), move |_| match client.restore() {
            // Memory storage: nothing survives a reload; the keeper tries one silent renewal.
            Ok(None) if client.config().storage == StorageKind::Memory => {}
            Ok(session) => store.dispatch(AuthEvent::Restored(session)),
            Err(_) => store.dispatch(AuthEvent::SignedOut(SignOutReason::StoredSessionInvalid)),
        });
    }

    // Expiry watch: the session turns Expired at expires_at. Dropping the timeout (state change,
    // unmount) cancels it.
    {
        let expires_at = store
            .0
            .session()
            .filter(|_| store.0.is_signed_in())
            .map(|s| s.expires_at_ms);
        let store = store.clone();
        use_effect_with(expires_at, move |expires_at| {
            let timeout = expires_at.map(|expires_at| {
                let now = super::browser::clock::now_ms();
                let delay = timer_delay(expires_at.saturating_sub(now));
                Timeout::new(delay, move || {
                    store.dispatch(AuthEvent::TimePassed {
                        now_ms: super::browser::clock::now_ms(),
                    })
                })
            });
            move || drop(timeout)
        });
    }

    // App code hears about every new log entry.
    {
        let on_event = props.on_event.clone();
        let newest = status.0.last_entry().cloned();
        use_effect_with(newest, move |newest| {
            if let Some(entry) = newest {
                on_event.emit(entry.clone());
            }
        });
    }

    let context = AuthContext {
        store,
        status,
        client: (*client).clone(),
        renew: (*renew).clone(),
    };
    html! {
        <ContextProvider<AuthContext> {context}>
            { props.children.clone() }
            <SessionKeeper />
        </ContextProvider<AuthContext>>
    }
}
