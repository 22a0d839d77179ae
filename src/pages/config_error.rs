use yew::prelude::*;

/// Props of [`ConfigErrorPage`].
#[derive(Debug, Clone, PartialEq, Properties)]
pub struct ConfigErrorProps {
    /// What is wrong, naming the field.
    pub error: String,
}

/// Shown instead of the app when `config.json` is missing or invalid.
#[function_component(ConfigErrorPage)]
pub fn config_error_page(props: &ConfigErrorProps) -> Html {
    html! {
        <main data-page="config-error" class="error-page">
            <h1>{ "This app is not configured correctly" }</h1>
            <p id="config-error">{ &props.error }</p>
            <p>{ "Fix: edit config.json next to index.html (the README's Configuration section lists its fields), then reload." }</p>
            // The doctor is a page of its own, which works without a valid config.json.
            <p><a id="config-error-doctor" href={crate::app::DOCTOR_URL}>{ "Run the setup doctor" }</a>{ " to check config.json, the provider and this browser one by one." }</p>
        </main>
    }
}
