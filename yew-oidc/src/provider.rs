//! The `AuthProvider` context: holds the auth state in a reducer (the pure state machine), the
//! renewal status, and the [`AuthClient`] that performs the effects; renders the session keeper.

use crate::client::AuthClient;
use crate::keeper::{RenewTrigger, SessionKeeper};
use gloo::timers::callback::Timeout;
use oidc_renew_core::config::{AuthConfig as Config, StorageKind};
use oidc_renew_core::schedule::timer_delay;
use oidc_renew_core::state::{reduce, AuthEvent, AuthState, SignOutReason};
use oidc_renew_core::status::{LogEntry, RenewalStatus, StatusNote, TokenSpan};
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
    // The provider redirected back here after sign-in: finish it before anything else renders, so
    // that nothing below (a guard, a router) sees the callback URL or a signed-out state.
    let on_callback = *use_memo((), |_| {
        crate::browser::navigation::is_at_path(&props.config.redirect_path)
    });
    let store = use_reducer(move || {
        AuthStore(if on_callback {
            AuthState::SigningIn
        } else {
            AuthState::Loading
        })
    });
    let status = use_reducer(StatusStore::default);
    let renew = use_memo((), |_| RenewTrigger::default());
    let completing = use_state(move || on_callback);

    {
        let (client, store, status) = ((*client).clone(), store.clone(), status.clone());
        let completing = completing.clone();
        use_effect_with((), move |_| {
            if on_callback {
                wasm_bindgen_futures::spawn_local(async move {
                    let result = client.complete_login().await;
                    let return_to = match result {
                        Ok((session, return_to)) => {
                            let at_ms = session.issued_at_ms;
                            store.dispatch(AuthEvent::SignedIn(session));
                            status.dispatch(StatusNote::SignedIn {
                                at_ms,
                                detail: "in this tab".into(),
                            });
                            return_to
                        }
                        Err(failure) => {
                            store.dispatch(AuthEvent::Failed(failure));
                            "/".to_owned()
                        }
                    };
                    let _ = crate::browser::navigation::replace_path(&return_to);
                    completing.set(false);
                });
                return;
            }
            match client.restore() {
                // Memory storage: nothing survives a reload; the keeper tries one silent renewal.
                Ok(None) if client.config().storage == StorageKind::Memory => {}
                Ok(session) => store.dispatch(AuthEvent::Restored(session)),
                Err(_) => store.dispatch(AuthEvent::SignedOut(SignOutReason::StoredSessionInvalid)),
            }
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
                let now = crate::browser::clock::now_ms();
                let delay = timer_delay(expires_at.saturating_sub(now));
                Timeout::new(delay, move || {
                    store.dispatch(AuthEvent::TimePassed {
                        now_ms: crate::browser::clock::now_ms(),
                    })
                })
            });
            move || drop(timeout)
        });
    }

    // Every session held (signed in, restored, renewed, adopted) is recorded for the timeline.
    {
        let span = store.0.session().map(|session| TokenSpan {
            issued_at_ms: session.issued_at_ms,
            expires_at_ms: session.expires_at_ms,
        });
        let status = status.clone();
        use_effect_with(span, move |span| {
            if let Some(span) = span {
                status.dispatch(StatusNote::Session(*span));
            }
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
            if *completing {
                <p class="notice" aria-busy="true" id="auth-completing">{ "Completing your sign-in…" }</p>
            } else {
                { props.children.clone() }
            }
            <SessionKeeper />
        </ContextProvider<AuthContext>>
    }
}
