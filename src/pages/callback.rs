use silent_callback::{parse_callback, select_params, Callback, Outcome, ParseError};
use yew::prelude::*;

/// The sign-in callback route: the provider redirects here with the authorization response.
#[function_component(CallbackPage)]
pub fn callback_page() -> Html {
    // Read once, on the first render: the URL is stripped right after.
    let result = use_memo((), |_| take_callback_from_url());
    html! {
        <main data-page="callback">
            <h1>{ "Signing in" }</h1>
            <p id="callback-result">{ describe_callback(&result) }</p>
        </main>
    }
}

/// Reads the authorization response from the current URL and removes it from the address bar and history:
/// codes and tokens must not stay in URLs.
fn take_callback_from_url() -> Result<Callback, ParseError> {
    let window = gloo::utils::window();
    let location = window.location();
    let hash = location.hash().unwrap_or_default();
    let search = location.search().unwrap_or_default();
    let result = parse_callback(select_params(&hash, &search));
    if let (Ok(path), Ok(history)) = (location.pathname(), window.history()) {
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&path));
    }
    result
}

/// One line for people about a callback; never shows codes or tokens.
pub fn describe_callback(result: &Result<Callback, ParseError>) -> String {
    match result {
        Ok(Callback {
            outcome: Outcome::Code { .. },
            ..
        }) => "The provider answered with an authorization code.".into(),
        Ok(Callback {
            outcome: Outcome::Tokens(_),
            ..
        }) => "The provider answered with tokens (implicit flow).".into(),
        Ok(Callback {
            outcome: Outcome::Error {
                error, description, ..
            },
            ..
        }) => match description {
            Some(description) => {
                format!("The provider refused the sign-in: {error} ({description}).")
            }
            None => format!("The provider refused the sign-in: {error}."),
        },
        Err(error) => format!("This is not a sign-in response: {error}."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describes_without_secrets() {
        let code = describe_callback(&parse_callback("code=SECRET&state=s"));
        assert!(
            code.contains("authorization code") && !code.contains("SECRET"),
            "{code}"
        );
        let tokens = describe_callback(&parse_callback(
            "access_token=SECRET&token_type=Bearer&state=s",
        ));
        assert!(
            tokens.contains("implicit") && !tokens.contains("SECRET"),
            "{tokens}"
        );
        let error = describe_callback(&parse_callback(
            "error=login_required&error_description=Sign+in",
        ));
        assert_eq!(
            error,
            "The provider refused the sign-in: login_required (Sign in)."
        );
        let garbage = describe_callback(&parse_callback(""));
        assert!(
            garbage.starts_with("This is not a sign-in response"),
            "{garbage}"
        );
    }
}
