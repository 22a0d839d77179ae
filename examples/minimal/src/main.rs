//! The smallest app on yew-oidc: a public home page, a guarded page, log in and log out. Renewal needs
//! no code: `AuthProvider` renews the session before it expires, and finishes sign-ins at `/callback`.
use std::rc::Rc;
use yew::prelude::*;
use yew_oidc::{fetch_app_file, use_auth, AuthConfig, AuthProvider, RequireAuth};
use yew_router::prelude::*;

#[derive(Clone, PartialEq, Routable)]
enum Route {
    #[at("/")]
    Home,
    #[at("/private")]
    Private,
}

#[function_component(App)]
fn app() -> Html {
    let config = use_state(|| None);
    let set = config.setter();
    use_effect_with((), move |_| {
        wasm_bindgen_futures::spawn_local(async move { set.set(Some(load_config().await)) })
    });
    match (*config).clone() {
        None => html! { <p>{ "Loading…" }</p> },
        Some(Err(error)) => html! { <p id="config-error">{ error }</p> },
        Some(Ok(config)) => html! {
            <AuthProvider {config}>
                <BrowserRouter><Switch<Route> render={switch} /></BrowserRouter>
            </AuthProvider>
        },
    }
}

/// `config.json`, next to `index.html`: `issuer` and `client_id` at least (see `AuthConfig`).
async fn load_config() -> Result<Rc<AuthConfig>, String> {
    let file = fetch_app_file("/config.json").await;
    let text = file.map_err(|e| format!("config.json: {e}"))?.body;
    let config = AuthConfig::from_json(&text);
    config.map(Rc::new).map_err(|e| format!("config.json: {e}"))
}

fn switch(route: Route) -> Html {
    match route {
        Route::Home => html! { <Home /> },
        Route::Private => html! { <RequireAuth><Private /></RequireAuth> },
    }
}

#[function_component(Home)]
fn home() -> Html {
    let auth = use_auth();
    let signed_in = auth.is_signed_in();
    let login = Callback::from(move |_| auth.login("/private"));
    html! {
        <main id="home">
            <Link<Route> to={Route::Private}>{ "Private page" }</Link<Route>>
            if signed_in { <p>{ "You are signed in." }</p> }
            else { <button id="login" onclick={login}>{ "Log in" }</button> }
        </main>
    }
}

/// Shown only while signed in (`RequireAuth` sends anyone else to sign in, then back here).
#[function_component(Private)]
fn private() -> Html {
    let auth = use_auth();
    let Some(session) = auth.session().cloned() else {
        return html! {};
    };
    let until = String::from(
        js_sys::Date::new(&(session.expires_at_ms as f64).into()).to_locale_time_string("en-GB"),
    );
    let logout = Callback::from(move |_| auth.logout());
    html! {
        <main id="private">
            <p id="user">{ session.claims.name.unwrap_or(session.claims.sub) }</p>
            <p>{ "Access token valid until " }<span id="expires">{ until }</span>{ ", renewed before." }</p>
            <button id="logout" onclick={logout}>{ "Log out" }</button>
        </main>
    }
}

fn main() {
    yew::Renderer::<App>::new().render();
}

// Optional, any app can do it: a smaller allocator than Rust's default dlmalloc (about 3 KB gzip off the
// bundle), and a faster one, where wasm has one thread (the browser's).
#[cfg(all(target_family = "wasm", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();
