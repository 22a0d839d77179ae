use crate::app::Route;
use crate::auth::protocol::state::{AuthEvent, AuthFailure};
use crate::auth::status::StatusNote;
use crate::auth::use_auth;
use yew::prelude::*;
use yew_router::prelude::*;

/// The sign-in callback route: completes the sign-in the provider redirected back with, then returns to
/// the page the user started from.
#[function_component(CallbackPage)]
pub fn callback_page() -> Html {
    let auth = use_auth();
    let navigator = use_navigator();
    let failed = use_state(|| None::<AuthFailure>);
    {
        let (auth, failed) = (auth.clone(), failed.clone());
        use_effect_with((), move |_| {
            auth.dispatch(AuthEvent::LoginStarted);
            wasm_bindgen_futures::spawn_local(async move {
                match auth.client().complete_login().await {
                    Ok((session, return_to)) => {
                        let at_ms = session.issued_at_ms;
                        auth.dispatch(AuthEvent::SignedIn(session));
                        auth.note(StatusNote::SignedIn {
                            at_ms,
                            detail: "in this tab".into(),
                        });
                        let route =
                            Route::recognize(return_to.split(['?', '#']).next().unwrap_or("/"));
                        if let Some(navigator) = navigator {
                            navigator.replace(&route.unwrap_or(Route::Home));
                        }
                    }
                    Err(failure) => {
                        failed.set(Some(failure.clone()));
                        auth.dispatch(AuthEvent::Failed(failure));
                    }
                }
            });
        });
    }
    html! {
        <main data-page="callback">
            <h1>{ "Signing in" }</h1>
            if let Some(failure) = &*failed {
                <p id="callback-error" role="alert">{ &failure.message }</p>
                <details><summary>{ "Details" }</summary><code id="callback-detail">{ &failure.detail }</code></details>
                <p><Link<Route> to={Route::Home}>{ "Back to the home page" }</Link<Route>></p>
            } else {
                <p aria-busy="true">{ "Completing your sign-in…" }</p>
            }
        </main>
    }
}
