//! The root component: loads `config.json`, then routes.

use crate::auth::{use_auth, AuthProvider};
use crate::config::Config;
use crate::pages::{
    ApiPage, CallbackPage, ConfigErrorPage, HomePage, NotFoundPage, ProfilePage, SessionBanner,
};
use gloo::net::http::Request;
use std::rc::Rc;
use yew::prelude::*;
use yew_router::prelude::*;

/// The app's routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Routable)]
pub enum Route {
    #[at("/")]
    Home,
    #[at("/profile")]
    Profile,
    #[at("/api")]
    Api,
    #[at("/callback")]
    Callback,
    #[not_found]
    #[at("/404")]
    NotFound,
}

/// Where the runtime configuration is served: next to `index.html`.
pub const CONFIG_URL: &str = "/config.json";

#[derive(Debug, Clone, PartialEq)]
enum ConfigState {
    Loading,
    Ready(Rc<Config>),
    Failed(String),
}

/// The root component.
#[function_component(App)]
pub fn app() -> Html {
    let config = use_state(|| ConfigState::Loading);
    {
        let config = config.clone();
        use_effect_with((), move |_| {
            wasm_bindgen_futures::spawn_local(async move { config.set(load_config().await) });
        });
    }
    match &*config {
        ConfigState::Loading => html! { <p class="loading" aria-busy="true">{ "Loading…" }</p> },
        ConfigState::Failed(error) => html! { <ConfigErrorPage error={error.clone()} /> },
        ConfigState::Ready(config) => html! {
            <ContextProvider<Rc<Config>> context={config.clone()}>
                <AuthProvider config={config.clone()}>
                    <BrowserRouter>
                        <Nav />
                        <SessionBanner />
                        <Switch<Route> render={switch} />
                    </BrowserRouter>
                </AuthProvider>
            </ContextProvider<Rc<Config>>>
        },
    }
}

async fn load_config() -> ConfigState {
    let response = match Request::get(CONFIG_URL).send().await {
        Ok(response) => response,
        Err(error) => {
            return ConfigState::Failed(format!("config.json could not be fetched: {error}"))
        }
    };
    if !response.ok() {
        return ConfigState::Failed(format!(
            "config.json could not be fetched: HTTP {}",
            response.status()
        ));
    }
    match response.text().await {
        Ok(text) => match Config::from_json(&text) {
            Ok(config) => ConfigState::Ready(Rc::new(config)),
            Err(error) => ConfigState::Failed(error.to_string()),
        },
        Err(error) => ConfigState::Failed(format!("config.json could not be read: {error}")),
    }
}

fn switch(route: Route) -> Html {
    match route {
        Route::Home => html! { <HomePage /> },
        Route::Profile => html! { <ProfilePage /> },
        Route::Api => html! { <ApiPage /> },
        Route::Callback => html! { <CallbackPage /> },
        Route::NotFound => html! { <NotFoundPage /> },
    }
}

/// The navigation bar.
#[function_component(Nav)]
pub fn nav() -> Html {
    html! {
        <nav id="nav" aria-label="Main">
            <span class="brand">{ "OIDC silent renewal" }</span>
            <Link<Route> to={Route::Home}>{ "Home" }</Link<Route>>
            <Link<Route> to={Route::Profile}>{ "Profile" }</Link<Route>>
            <Link<Route> to={Route::Api}>{ "API" }</Link<Route>>
            <span class="spacer"></span>
            <AuthButton />
        </nav>
    }
}

/// Log in or log out, by state; shown in the nav bar.
#[function_component(AuthButton)]
pub fn auth_button() -> Html {
    let auth = use_auth();
    if let Some(session) = auth.session() {
        let who = session
            .claims
            .name
            .clone()
            .unwrap_or_else(|| session.claims.sub.clone());
        let logout = Callback::from(move |_| auth.logout());
        html! {
            <>
                <span id="user-name" class="user">{ who }</span>
                <button id="logout" onclick={logout}>{ "Log out" }</button>
            </>
        }
    } else {
        let login = Callback::from(move |_| auth.login("/"));
        html! { <button id="login" onclick={login}>{ "Log in" }</button> }
    }
}
