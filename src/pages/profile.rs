use yew::prelude::*;

/// Profile: the signed-in user's validated id_token claims.
#[function_component(ProfilePage)]
pub fn profile_page() -> Html {
    html! {
        <main data-page="profile">
            <h1>{ "Profile" }</h1>
            <p>{ "You are not signed in." }</p>
        </main>
    }
}
