use crate::config::AppConfig;
use crate::pages::{SessionPanel, SessionTimeline};
use std::rc::Rc;
use yew::prelude::*;
use yew_oidc::{use_auth, AuthState, Flow, SignOutReason};

/// Props of [`HomePage`].
#[derive(Properties, PartialEq)]
pub struct HomeProps {
    /// What the app is connected to.
    pub config: Rc<AppConfig>,
}

/// Home: the session's status, and what the app is connected to.
#[function_component(HomePage)]
pub fn home_page(HomeProps { config }: &HomeProps) -> Html {
    let auth = use_auth();
    let config = &config.auth;
    let flow = match config.flow {
        Flow::Code => "Authorization Code + PKCE",
        Flow::Implicit => "Implicit (legacy)",
    };
    let (status, class) = match auth.state() {
        AuthState::Loading => ("Restoring your session…".to_owned(), "loading"),
        AuthState::SigningIn => ("Signing in…".to_owned(), "loading"),
        AuthState::SignedIn(session) => {
            let who = session
                .claims
                .name
                .as_deref()
                .unwrap_or(&session.claims.sub);
            (format!("Signed in as {who}."), "signed-in")
        }
        // Past its expiry: renewal is bringing it back (or will end it with the reason).
        AuthState::Expired(_) => ("Restoring your session…".to_owned(), "loading"),
        AuthState::SignedOut { reason } => {
            let text = reason.map_or("You are signed out.", SignOutReason::message);
            (text.to_owned(), "signed-out")
        }
        AuthState::Failed(failure) => (failure.message.clone(), "failed"),
    };
    let detail = match auth.state() {
        AuthState::Failed(failure) => html! {
            <details><summary>{ "Details" }</summary><code id="auth-detail">{ &failure.detail }</code></details>
        },
        _ => html! {},
    };
    html! {
        <main data-page="home">
            <h1>{ "OpenID Connect, kept alive" }</h1>
            <p id="auth-status" class={classes!("status", class)} role="status">{ status }</p>
            { detail }
            <SessionPanel />
            <SessionTimeline />
            <p>{ "This app signs you in with your OpenID provider and renews your session silently, in a hidden frame, before it expires." }</p>
            <dl class="facts">
                <dt>{ "Provider" }</dt><dd id="issuer">{ &config.issuer }</dd>
                <dt>{ "Client" }</dt><dd>{ &config.client_id }</dd>
                <dt>{ "Flow" }</dt><dd>{ flow }</dd>
            </dl>
        </main>
    }
}
