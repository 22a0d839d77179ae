use crate::app::Route;
use yew::prelude::*;
use yew_router::prelude::*;

/// Any path the app does not know. (The sign-in callback path is none of the app's business: the
/// `AuthProvider` finishes the sign-in there and returns to the page the user started from.)
#[function_component(NotFoundPage)]
pub fn not_found_page() -> Html {
    html! {
        <main data-page="not-found">
            <h1>{ "Page not found" }</h1>
            <p><Link<Route> to={Route::Home}>{ "Back to the home page" }</Link<Route>></p>
        </main>
    }
}
