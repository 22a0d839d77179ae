//! The Rust peer for tools/bench's size comparison: a minimal app on yew-oauth2 (crates.io, `openid`
//! feature), the same as examples/minimal does on yew-oidc: sign-in with OpenID Connect (code + PKCE,
//! discovery), a guarded page, sign-out, and automatic renewal (yew-oauth2's agent refreshes the
//! tokens before they expire). tools/bench/run builds it in target/bench/peer with the workspace's
//! release profile and the app's wasm-opt settings; nothing of yew-oauth2 is kept in this repository.
use yew::prelude::*;
use yew_oauth2::openid::{use_auth_agent, Config, OAuth2};
use yew_oauth2::prelude::*;
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
    let config = Config::new("oidc-renew-demo", "http://localhost:4000");
    let scopes = vec!["openid".to_owned(), "profile".to_owned(), "email".to_owned()];
    html! {
        <OAuth2 {config} {scopes}>
            <BrowserRouter><Switch<Route> render={switch} /></BrowserRouter>
        </OAuth2>
    }
}

fn switch(route: Route) -> Html {
    match route {
        Route::Home => html! { <Home /> },
        Route::Private => html! {
            <>
                <Authenticated><Private /></Authenticated>
                <NotAuthenticated><Home /></NotAuthenticated>
            </>
        },
    }
}

#[function_component(Home)]
fn home() -> Html {
    let agent = use_auth_agent().expect("below <OAuth2>");
    let login = Callback::from(move |_| {
        let _ = agent.start_login();
    });
    html! {
        <main id="home">
            <Link<Route> to={Route::Private}>{ "Private page" }</Link<Route>>
            <Failure><FailureMessage /></Failure>
            <Authenticated><p>{ "You are signed in." }</p></Authenticated>
            <NotAuthenticated><button id="login" onclick={login}>{ "Log in" }</button></NotAuthenticated>
        </main>
    }
}

#[function_component(Private)]
fn private() -> Html {
    let agent = use_auth_agent().expect("below <OAuth2>");
    let auth = use_context::<OAuth2Context>();
    let name = match auth {
        Some(OAuth2Context::Authenticated(authentication)) => authentication
            .claims
            .as_ref()
            .and_then(|claims| claims.name().and_then(|name| name.get(None)).map(|n| n.to_string()))
            .unwrap_or_default(),
        _ => String::new(),
    };
    let logout = Callback::from(move |_| {
        let _ = agent.logout();
    });
    html! {
        <main id="private">
            <p id="user">{ name }</p>
            <button id="logout" onclick={logout}>{ "Log out" }</button>
        </main>
    }
}

fn main() {
    yew::Renderer::<App>::new().render();
}

// The apps' allocator, so that sizes compare like for like.
#[cfg(all(target_family = "wasm", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();
