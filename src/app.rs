//! The root component: loads `config.json`, then routes.

use crate::config::AppConfig;
use crate::doctor::ConfigLoadError;
use crate::pages::{
    api_page, profile_page, ConfigErrorPage, HomePage, NotFoundPage, SessionBanner,
};
use std::rc::Rc;
use yew::prelude::*;
use yew_oidc::{fetch_app_file, use_auth, AuthProvider};
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
    #[not_found]
    #[at("/404")]
    NotFound,
}

/// Where the runtime configuration is served: next to `index.html`.
pub const CONFIG_URL: &str = "/config.json";

/// The setup doctor: a page of its own (`doctor/`, its own wasm), so this bundle carries none of its
/// code or texts. Linked from the footer and the configuration-error page.
pub const DOCTOR_URL: &str = "/doctor/";

#[derive(Debug, Clone, PartialEq)]
enum ConfigState {
    Loading,
    Ready(Rc<AppConfig>),
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
        ConfigState::Ready(config) => {
            // The pages get the configuration as props: a context of its own would cost the bundle
            // its provider component.
            let render = {
                let config = config.clone();
                move |route| switch(route, &config)
            };
            html! {
                <AuthProvider config={Rc::new(config.auth.clone())}>
                    <BrowserRouter>
                        <Nav />
                        <SessionBanner />
                        <Switch<Route> {render} />
                        { footer() }
                    </BrowserRouter>
                </AuthProvider>
            }
        }
    }
}

async fn load_config() -> ConfigState {
    match fetch_config().await {
        Ok(config) => ConfigState::Ready(Rc::new(config)),
        Err(error) => ConfigState::Failed(error.to_string()),
    }
}

/// Fetches and validates `config.json` (the app at start, the setup doctor's page on every run), with
/// the library's HTTP client (one for the app and the library).
pub async fn fetch_config() -> Result<AppConfig, ConfigLoadError> {
    let response = fetch_app_file(CONFIG_URL)
        .await
        .map_err(|error| ConfigLoadError::Unreachable(error.to_string()))?;
    if !(200..300).contains(&response.status) {
        return Err(ConfigLoadError::Status(response.status));
    }
    AppConfig::from_json(&response.body).map_err(ConfigLoadError::Invalid)
}

/// The page's path, query and fragment.
pub fn current_path() -> String {
    let location = gloo::utils::window().location();
    format!(
        "{}{}{}",
        location.pathname().unwrap_or_default(),
        location.search().unwrap_or_default(),
        location.hash().unwrap_or_default()
    )
}

// Pages without state of their own are plain functions, not components: each component is one more set
// of Yew's generic code in the bundle.
fn switch(route: Route, config: &Rc<AppConfig>) -> Html {
    match route {
        Route::Home => html! { <HomePage config={config.clone()} /> },
        Route::Profile => profile_page(),
        Route::Api => api_page(config.api_url.clone()),
        Route::NotFound => html! { <NotFoundPage /> },
    }
}

/// The navigation bar, with log in or log out by state.
#[function_component(Nav)]
pub fn nav() -> Html {
    let auth = use_auth();
    let button = if let Some(session) = auth.session() {
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
    };
    html! {
        <nav id="nav" aria-label="Main">
            <span class="brand">{ "OIDC silent renewal" }</span>
            <Link<Route> to={Route::Home}>{ "Home" }</Link<Route>>
            <Link<Route> to={Route::Profile}>{ "Profile" }</Link<Route>>
            <Link<Route> to={Route::Api}>{ "API" }</Link<Route>>
            <span class="spacer"></span>
            { button }
        </nav>
    }
}

/// The footer: the setup doctor, one click from every page (a page of its own: a plain link).
pub fn footer() -> Html {
    html! {
        <footer id="footer" class="notice">
            { "Sign-in or renewal not working? " }
            <a href={DOCTOR_URL}>{ "Run the setup doctor" }</a>
        </footer>
    }
}
