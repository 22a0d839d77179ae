//! The `AuthProvider` context: holds the auth state in a reducer (the pure state machine) and the
//! [`AuthClient`] that performs the effects.

use super::client::AuthClient;
use super::protocol::state::{reduce, AuthEvent, AuthState, SignOutReason};
use crate::config::Config;
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

/// What [`AuthProvider`] puts in the context; read it through [`use_auth`](super::use_auth).
#[derive(Clone, PartialEq)]
pub struct AuthContext {
    pub(crate) store: UseReducerHandle<AuthStore>,
    pub(crate) client: AuthClient,
}

/// Props of [`AuthProvider`].
#[derive(Properties, PartialEq)]
pub struct AuthProviderProps {
    /// The validated runtime configuration.
    pub config: Rc<Config>,
    /// The app.
    #[prop_or_default]
    pub children: Html,
}

/// Provides sign-in state and actions to everything below it. On mount it restores a stored session
/// (no network request); while signed in it marks the session expired at its expiry.
#[function_component(AuthProvider)]
pub fn auth_provider(props: &AuthProviderProps) -> Html {
    let client = use_memo(props.config.clone(), |config| {
        AuthClient::new(config.clone())
    });
    let store = use_reducer(|| AuthStore(AuthState::Loading));

    {
        let (client, store) = ((*client).clone(), store.clone());
        use_effect_with((), move |_| match client.restore() {
            Ok(session) => store.dispatch(AuthEvent::Restored(session)),
            Err(_) => store.dispatch(AuthEvent::SignedOut(SignOutReason::StoredSessionInvalid)),
        });
    }

    // Expiry watch: the session turns Expired at expires_at. Dropping the timeout (state change, unmount)
    // cancels it.
    {
        let expires_at = store
            .0
            .session()
            .filter(|_| store.0.is_signed_in())
            .map(|s| s.expires_at_ms);
        let store = store.clone();
        use_effect_with(expires_at, move |expires_at| {
            let timeout = expires_at.map(|expires_at| {
                let delay = expires_at.saturating_sub(super::browser::clock::now_ms());
                // setTimeout takes an i32 of milliseconds; longer delays fire at once otherwise.
                let delay = delay.min(i32::MAX as u64) as u32;
                Timeout::new(delay, move || {
                    store.dispatch(AuthEvent::TimePassed {
                        now_ms: super::browser::clock::now_ms(),
                    })
                })
            });
            move || drop(timeout)
        });
    }

    let context = AuthContext {
        store,
        client: (*client).clone(),
    };
    html! {
        <ContextProvider<AuthContext> {context}>
            { props.children.clone() }
        </ContextProvider<AuthContext>>
    }
}
