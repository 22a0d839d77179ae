//! The root component: loads `config.json`, then routes.

use crate::config::AppConfig;
use crate::doctor::ConfigLoadError;
use crate::pages::{
    api_page, profile_page, ConfigErrorPage, HomePage, NotFoundPage, SessionBanner,
};
use std::collections::HashMap;
use std::rc::Rc;
use yew::prelude::*;
use yew_oidc::{fetch_app_file, use_auth, AuthProvider};
use yew_router::prelude::*;

/// The app's routes: fixed paths, no parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    Home,
    Profile,
    Api,
    /// Any other path (its own is `/404`).
    NotFound,
}

impl Route {
    const ALL: [Route; 4] = [Route::Home, Route::Profile, Route::Api, Route::NotFound];

    fn path(self) -> &'static str {
        match self {
            Route::Home => "/",
            Route::Profile => "/profile",
            Route::Api => "/api",
            Route::NotFound => "/404",
        }
    }
}

/// What `#[derive(Routable)]` gives these routes (a path with or without its trailing slash; any other
/// is `NotFound`), by comparing paths; a test holds the two to the same answers. The derive would
/// compile route-recognizer's pattern matcher, made for routes with parameters, and its parameter maps
/// into the bundle: about 7 KB gzip.
impl Routable for Route {
    fn from_path(path: &str, _params: &HashMap<&str, &str>) -> Option<Self> {
        Self::recognize(path)
    }

    fn to_path(&self) -> String {
        self.path().to_owned()
    }

    fn routes() -> Vec<&'static str> {
        Self::ALL.iter().map(|route| route.path()).collect()
    }

    fn not_found_route() -> Option<Self> {
        Some(Route::NotFound)
    }

    fn recognize(pathname: &str) -> Option<Self> {
        let path = segments(pathname);
        let route = Self::ALL
            .into_iter()
            .find(|route| segments(route.path()) == path);
        Some(route.unwrap_or(Route::NotFound))
    }
}

/// A path as the derive's matcher compares it: without one trailing and then one leading slash.
fn segments(path: &str) -> &str {
    let path = path.strip_suffix('/').unwrap_or(path);
    path.strip_prefix('/').unwrap_or(path)
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

#[cfg(test)]
mod tests {
    use super::Route;
    use yew_router::Routable;

    /// The same routes, derived: the reference the hand-written impl must agree with.
    #[derive(Debug, Clone, Copy, PartialEq, Routable)]
    enum Derived {
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

    fn same(route: Route) -> Derived {
        match route {
            Route::Home => Derived::Home,
            Route::Profile => Derived::Profile,
            Route::Api => Derived::Api,
            Route::NotFound => Derived::NotFound,
        }
    }

    #[test]
    fn routes_and_paths_are_the_derives() {
        assert_eq!(Route::routes(), Derived::routes());
        for route in Route::ALL {
            assert_eq!(route.to_path(), same(route).to_path());
            assert_eq!(Route::recognize(&route.to_path()), Some(route));
        }
        assert_eq!(
            Route::not_found_route().map(same),
            Derived::not_found_route()
        );
    }

    #[test]
    fn every_path_is_recognized_as_the_derive_recognizes_it() {
        let paths = [
            "",
            "/",
            "//",
            "/profile",
            "/profile/",
            "/profile//",
            "//profile",
            "/Profile",
            "/profile/x",
            "/api",
            "/api/",
            "/apis",
            "/ap",
            "/404",
            "/404/",
            "/callback",
            "/silent/",
            "x",
            "profile",
            "/profile?x=1",
            "/%70rofile",
            "/api#x",
            "/ api",
            "/api ",
        ];
        for path in paths {
            assert_eq!(
                Route::recognize(path).map(same),
                Derived::recognize(path),
                "{path:?}"
            );
        }
    }
}
