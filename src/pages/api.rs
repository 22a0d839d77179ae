use crate::config::Config;
use std::rc::Rc;
use yew::prelude::*;

/// API: calls the protected API with the access token.
#[function_component(ApiPage)]
pub fn api_page() -> Html {
    let config =
        use_context::<Rc<Config>>().expect("ApiPage is rendered inside the config context");
    html! {
        <main data-page="api">
            <h1>{ "Protected API" }</h1>
            <p>
                { "API: " }
                <code>{ config.api_url.clone().unwrap_or_else(|| "none configured (set api_url in config.json)".into()) }</code>
            </p>
            <p>{ "You are not signed in." }</p>
        </main>
    }
}
