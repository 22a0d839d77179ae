use wasm_bindgen::JsValue;
use yew::prelude::*;
use yew_oidc::{use_auth, RequireAuth, TokenType};

/// API: calls the protected API (`api_url` of config.json) with the access token.
pub fn api_page(api_url: Option<String>) -> Html {
    html! {
        <main data-page="api">
            <h1>{ "Protected API" }</h1>
            <RequireAuth><ApiCall {api_url} /></RequireAuth>
        </main>
    }
}

#[derive(Properties, PartialEq)]
struct ApiCallProps {
    api_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
enum CallState {
    Idle,
    Calling,
    Answered { status: u16, body: String },
    Failed(String),
}

#[function_component(ApiCall)]
fn api_call(props: &ApiCallProps) -> Html {
    let auth = use_auth();
    let how = match auth.token_type() {
        Some(TokenType::DPoP) => {
            " with your access token, bound to this browser's key: each call carries a DPoP proof \
             signed with it."
        }
        _ => " with your access token as a Bearer token.",
    };
    let call = use_state(|| CallState::Idle);
    let Some(api_url) = props.api_url.clone() else {
        return html! { <p id="api-error">{ "No API is configured: set api_url in config.json." }</p> };
    };
    let onclick = {
        let (call, api_url) = (call.clone(), api_url.clone());
        Callback::from(move |_| {
            let (call, request) = (call.clone(), auth.call_api(&api_url));
            call.set(CallState::Calling);
            wasm_bindgen_futures::spawn_local(async move {
                call.set(match request.await {
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
            <p id="api-how">{ "Calls " }<code>{ api_url }</code>{ how }</p>
            <button id="call-api" {onclick} disabled={*call == CallState::Calling}>{ "Call the API" }</button>
            { result }
        </>
    }
}

/// The API's JSON, indented for reading; other bodies as they came. By the browser's `JSON` (its
/// numbers as JavaScript reads them): serde_json's pretty printer would compile float formatting
/// and a serializer of its own into the app, about 4 KB gzip, for a display.
fn pretty(body: &str) -> String {
    let indented = js_sys::JSON::parse(body).and_then(|json| {
        js_sys::JSON::stringify_with_replacer_and_space(&json, &JsValue::NULL, &JsValue::from(2))
    });
    indented.map_or_else(|_| body.to_owned(), String::from)
}
