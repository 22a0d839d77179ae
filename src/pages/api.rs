use crate::auth::browser::http;
use crate::auth::{use_auth, RequireAuth};
use crate::config::Config;
use std::rc::Rc;
use yew::prelude::*;

/// API: calls the protected API with the access token.
#[function_component(ApiPage)]
pub fn api_page() -> Html {
    html! {
        <main data-page="api">
            <h1>{ "Protected API" }</h1>
            <RequireAuth><ApiCall /></RequireAuth>
        </main>
    }
}

#[derive(Debug, Clone, PartialEq)]
enum CallState {
    Idle,
    Calling,
    Answered { status: u16, body: String },
    Failed(String),
}

#[function_component(ApiCall)]
fn api_call() -> Html {
    let config =
        use_context::<Rc<Config>>().expect("ApiPage is rendered inside the config context");
    let auth = use_auth();
    let call = use_state(|| CallState::Idle);
    let Some(api_url) = config.api_url.clone() else {
        return html! { <p id="api-error">{ "No API is configured: set api_url in config.json." }</p> };
    };
    let onclick = {
        let (call, api_url) = (call.clone(), api_url.clone());
        let token = auth.access_token().map(str::to_owned);
        Callback::from(move |_| {
            let (call, api_url, token) = (call.clone(), api_url.clone(), token.clone());
            let Some(token) = token else { return };
            call.set(CallState::Calling);
            wasm_bindgen_futures::spawn_local(async move {
                call.set(match http::get_with_bearer(&api_url, &token).await {
                    Ok(response) => CallState::Answered { status: response.status, body: pretty(&response.body) },
                    Err(error) => CallState::Failed(format!(
                        "The API could not be reached ({error}). Is it running, and does it allow this origin (CORS)?"
                    )),
                });
            });
        })
    };
    let result = match &*call {
        CallState::Idle => html! {},
        CallState::Calling => html! { <p aria-busy="true">{ "Calling…" }</p> },
        CallState::Answered { status, body } => html! {
            <>
                <p id="api-status">{ format!("HTTP {status}") }</p>
                <pre id="api-result">{ body }</pre>
            </>
        },
        CallState::Failed(message) => html! { <p id="api-error" role="alert">{ message }</p> },
    };
    html! {
        <>
            <p>{ "Calls " }<code>{ api_url }</code>{ " with your access token as a Bearer token." }</p>
            <button id="call-api" {onclick} disabled={*call == CallState::Calling}>{ "Call the API" }</button>
            { result }
        </>
    }
}

/// The API's JSON, indented for reading; other bodies as they came.
fn pretty(body: &str) -> String {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|json| serde_json::to_string_pretty(&json).ok())
        .unwrap_or_else(|| body.to_owned())
}
