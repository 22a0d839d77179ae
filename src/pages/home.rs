use crate::config::{Config, Flow};
use std::rc::Rc;
use yew::prelude::*;

/// Home: what the app is connected to.
#[function_component(HomePage)]
pub fn home_page() -> Html {
    let config =
        use_context::<Rc<Config>>().expect("HomePage is rendered inside the config context");
    let flow = match config.flow {
        Flow::Code => "Authorization Code + PKCE",
        Flow::Implicit => "Implicit (legacy)",
    };
    html! {
        <main data-page="home">
            <h1>{ "OpenID Connect, kept alive" }</h1>
            <p>{ "This app signs you in with your OpenID provider and renews your session silently, in a hidden frame, before it expires." }</p>
            <dl class="facts">
                <dt>{ "Provider" }</dt><dd id="issuer">{ &config.issuer }</dd>
                <dt>{ "Client" }</dt><dd>{ &config.client_id }</dd>
                <dt>{ "Flow" }</dt><dd>{ flow }</dd>
            </dl>
        </main>
    }
}
