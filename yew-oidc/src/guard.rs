//! `RequireAuth`: a route guard for protected pages.

use crate::hooks::use_auth;
use oidc_renew_core::state::{AuthState, SignOutReason};
use yew::prelude::*;

/// Props of [`RequireAuth`].
#[derive(Properties, PartialEq)]
pub struct RequireAuthProps {
    /// The protected content.
    #[prop_or_default]
    pub children: Html,
}

/// Renders its children only while signed in. A signed-out or expired user is sent to the provider to
/// sign in and comes back to the same page; a failed sign-in shows why, with a button to retry (never an
/// automatic loop).
#[function_component(RequireAuth)]
pub fn require_auth(props: &RequireAuthProps) -> Html {
    let auth = use_auth();
    // Sent to sign in: a visitor who was not signed in, or whose session ended by itself. Not someone who
    // just signed out (here or in another tab): they see why, and a button. An expired session is
    // first given one silent renewal by the keeper ("restoring").
    let must_sign_in = match auth.state() {
        AuthState::SignedOut { reason } => !matches!(
            reason,
            Some(SignOutReason::UserLoggedOut | SignOutReason::OtherTab)
        ),
        _ => false,
    };
    {
        let auth = auth.clone();
        use_effect_with(must_sign_in, move |must_sign_in| {
            if *must_sign_in {
                auth.login(&crate::browser::navigation::current_path());
            }
        });
    }
    // Sign in and come back here.
    let login_here = {
        let auth = auth.clone();
        Callback::from(move |_| auth.login(&crate::browser::navigation::current_path()))
    };
    match auth.state() {
        AuthState::SignedIn(_) => props.children.clone(),
        AuthState::Loading | AuthState::Expired(_) => {
            html! { <p class="notice" aria-busy="true">{ "Restoring your session…" }</p> }
        }
        AuthState::Failed(failure) => html! {
            <div class="notice error" role="alert">
                <p id="auth-error">{ &failure.message }</p>
                <button id="retry-login" onclick={login_here}>{ "Sign in again" }</button>
            </div>
        },
        AuthState::SignedOut {
            reason: Some(reason),
        } if !must_sign_in => html! {
            <div class="notice">
                <p id="guard-message">{ reason.message() }</p>
                <button id="guard-login" onclick={login_here}>{ "Sign in" }</button>
            </div>
        },
        _ => html! { <p class="notice" aria-busy="true">{ "Redirecting to sign in…" }</p> },
    }
}
