//! `AuthProvider`: the component an app wraps itself in. It owns the session's [`Driver`] (which
//! carries out the keeper's decisions), publishes the keeper's view to everything below it, and
//! renders the renewal's hidden iframe.

use crate::client::AuthClient;
use crate::driver::{Driver, Outlets, View};
use crate::renewer::{IframeRenewer, SilentRequest};
use oidc_renew_core::config::AuthConfig;
use oidc_renew_core::state::{AuthFailure, AuthState};
use oidc_renew_core::status::{IgnoredMessage, LogEntry};
use std::rc::Rc;
use yew::prelude::*;

/// What [`AuthProvider`] puts in the context; read it through [`use_auth`](crate::use_auth).
#[derive(Clone)]
pub(crate) struct AuthContext {
    pub view: Rc<View>,
    /// `None` when the configuration is invalid: nothing can run.
    pub driver: Option<Rc<Driver>>,
}

impl PartialEq for AuthContext {
    /// A new view is published only when it changed: comparing by pointer is exact and cheap.
    fn eq(&self, other: &Self) -> bool {
        let same_driver = match (&self.driver, &other.driver) {
            (Some(a), Some(b)) => Rc::ptr_eq(a, b),
            (a, b) => a.is_none() && b.is_none(),
        };
        Rc::ptr_eq(&self.view, &other.view) && same_driver
    }
}

/// Props of [`AuthProvider`].
#[derive(Properties, PartialEq)]
pub struct AuthProviderProps {
    /// The client's configuration. An invalid one shows as a failed sign-in state naming the field.
    pub config: Rc<AuthConfig>,
    /// Called with every new event-log entry: sign-ins, renewals started, succeeded and failed (with
    /// their class), adoptions from other tabs, ignored messages, and every sign-out with its reason.
    #[prop_or_default]
    pub on_event: Callback<LogEntry>,
    /// The app.
    #[prop_or_default]
    pub children: Html,
}

/// Provides sign-in state and actions to everything below it.
///
/// On mount it restores a stored session (no network request), or, when the page is the configured
/// `redirect_path` with a sign-in response, completes that sign-in first (the children render after
/// it, at the page the user set off from, so no page of the app sees the callback). While a session
/// is held it renews it silently before it expires, in a hidden iframe it renders itself.
#[function_component(AuthProvider)]
pub fn auth_provider(props: &AuthProviderProps) -> Html {
    // One component, its hooks called the same way whatever the configuration (a component more
    // would cost the bundle its code). A configuration that cannot work has no driver: the app
    // renders, signed-out with the failure, and nothing runs.

    // Read once, at mount: the page the provider redirected back to.
    let on_callback = *use_memo((), |_| {
        crate::browser::navigation::is_at_path(&props.config.redirect_path)
    });
    let view = use_state(|| Rc::new(View::initial(on_callback)));
    let request = use_state(|| None::<SilentRequest>);
    let driver = use_memo(props.config.clone(), |config| match config.validate() {
        Ok(()) => Ok(Driver::new(AuthClient::new(config.clone()))),
        Err(error) => Err(Rc::new(View::failed(AuthFailure::new(
            format!("The sign-in configuration is not valid: {error}."),
            format!("config: {error:?}"),
        )))),
    });

    {
        // Before the start below (effects run in order): the start's own events reach the app. And
        // again for a new driver (a new configuration).
        let driver = (*driver).as_ref().ok().cloned();
        let deps = (props.config.clone(), props.on_event.clone());
        use_effect_with(deps, move |(_, on_event)| {
            if let Some(driver) = driver {
                driver.set_on_event(on_event.clone())
            }
        });
    }
    {
        let (view, request) = (view.setter(), request.setter());
        let driver = (*driver).as_ref().ok().cloned();
        // A new configuration makes a new driver (the memo above): the old one stops.
        use_effect_with(props.config.clone(), move |_| {
            if let Some(driver) = &driver {
                let outlets = Outlets {
                    view: Callback::from(move |new| view.set(new)),
                    request: Callback::from(move |new| request.set(new)),
                };
                driver.start(outlets, on_callback);
            }
            move || {
                if let Some(driver) = driver {
                    driver.stop()
                }
            }
        });
    }

    let driver = match &*driver {
        Ok(driver) => driver.clone(),
        Err(view) => {
            let context = AuthContext {
                view: view.clone(),
                driver: None,
            };
            return html! {
                <ContextProvider<AuthContext> {context}>{ props.children.clone() }</ContextProvider<AuthContext>>
            };
        }
    };
    let on_outcome = {
        let driver = driver.clone();
        Callback::from(move |(id, outcome)| driver.outcome(id, outcome))
    };
    let on_ignored = {
        let driver = driver.clone();
        Callback::from(move |reason: IgnoredMessage| {
            driver.feed(oidc_renew_core::keeper::Input::MessageIgnored(reason))
        })
    };
    let completing = view.completing;
    let context = AuthContext {
        view: (*view).clone(),
        driver: Some(driver),
    };
    html! {
        <ContextProvider<AuthContext> {context}>
            if completing {
                <p class="notice" aria-busy="true" id="auth-completing">{ "Completing your sign-in…" }</p>
            } else {
                { props.children.clone() }
            }
            <IframeRenewer request={(*request).clone()} {on_outcome} {on_ignored} />
        </ContextProvider<AuthContext>>
    }
}

impl View {
    /// The view of a provider that cannot run.
    fn failed(failure: AuthFailure) -> View {
        View {
            state: AuthState::Failed(failure),
            ..View::initial(false)
        }
    }
}
