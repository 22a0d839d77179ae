use crate::app::Route;
use crate::config::Config;
use crate::pages::CallbackPage;
use std::rc::Rc;
use yew::prelude::*;
use yew_router::prelude::*;

/// Any path the app does not know, except the configured sign-in callback path when it is not the
/// default `/callback` (routes are static; `redirect_path` is runtime configuration).
#[function_component(NotFoundPage)]
pub fn not_found_page() -> Html {
    let config = use_context::<Rc<Config>>();
    let path = use_location().map(|location| location.path().to_owned());
    if let (Some(config), Some(path)) = (config, path) {
        if path == config.redirect_path {
            return html! { <CallbackPage /> };
        }
    }
    html! {
        <main data-page="not-found">
            <h1>{ "Page not found" }</h1>
            <p><Link<Route> to={Route::Home}>{ "Back to the home page" }</Link<Route>></p>
        </main>
    }
}
