use yew::prelude::*;
use yew_oidc::{use_auth, RequireAuth};

/// Profile: the signed-in user's validated id_token claims.
pub fn profile_page() -> Html {
    html! {
        <main data-page="profile">
            <h1>{ "Profile" }</h1>
            <RequireAuth><Claims /></RequireAuth>
        </main>
    }
}

#[function_component(Claims)]
fn claims() -> Html {
    let auth = use_auth();
    let Some(session) = auth.session() else {
        return html! {};
    };
    let claims = &session.claims;
    let row = |label: &str, id: &str, value: Option<String>| match value {
        Some(value) => {
            html! { <><dt>{ label.to_owned() }</dt><dd id={id.to_owned()}>{ value }</dd></> }
        }
        None => html! {},
    };
    html! {
        <>
            <p>{ "These claims come from your id_token, whose signature, issuer, audience, expiry and nonce were checked." }</p>
            <dl class="facts">
                { row("Name", "profile-name", claims.name.clone()) }
                { row("Username", "profile-username", claims.preferred_username.clone()) }
                { row("Email", "profile-email", claims.email.clone()) }
                { row("Email verified", "profile-email-verified", claims.email_verified.map(|v| v.to_string())) }
                { row("Subject", "profile-sub", Some(claims.sub.clone())) }
                { row("Issuer", "profile-iss", Some(claims.iss.clone())) }
                { row("Audience", "profile-aud", Some(claims.aud.join(" "))) }
            </dl>
        </>
    }
}
