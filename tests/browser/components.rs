//! The app's components rendered in a real browser.

use crate::common::{find, mount_point, settle};
use oidc_renew::app::{Nav, Route};
use oidc_renew::pages::{ConfigErrorPage, ConfigErrorProps, NotFoundPage};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::wasm_bindgen_test;
use yew::prelude::*;
use yew_oidc::{AuthConfig, AuthProvider};
use yew_router::prelude::*;

#[function_component(RoutedNotFound)]
fn routed_not_found() -> Html {
    let config = std::rc::Rc::new(AuthConfig::new("https://id.example.com", "browser-tests"));
    html! {
        <AuthProvider {config}>
            <BrowserRouter><Nav /><NotFoundPage /></BrowserRouter>
        </AuthProvider>
    }
}

#[wasm_bindgen_test]
async fn nav_links_to_every_page() {
    let root = mount_point();
    yew::Renderer::<RoutedNotFound>::with_root(root.clone()).render();
    settle().await;
    let hrefs: Vec<String> = {
        let links = root.query_selector_all("nav#nav a").unwrap();
        (0..links.length())
            .map(|i| {
                links
                    .item(i)
                    .unwrap()
                    .dyn_into::<web_sys::Element>()
                    .unwrap()
                    .get_attribute("href")
                    .unwrap()
            })
            .collect()
    };
    assert_eq!(hrefs, ["/", "/profile", "/api"]);
    assert_eq!(
        find(&root, "main").get_attribute("data-page").as_deref(),
        Some("not-found")
    );
}

#[wasm_bindgen_test]
async fn clicking_a_nav_link_routes_without_reloading() {
    let root = mount_point();
    yew::Renderer::<RoutedNotFound>::with_root(root.clone()).render();
    settle().await;
    find(&root, r#"nav#nav a[href="/profile"]"#).click();
    settle().await;
    assert_eq!(
        gloo::utils::window().location().pathname().unwrap(),
        Route::Profile.to_path()
    );
    // Leave the runner's page where it was for the other tests.
    gloo::utils::history().back().unwrap();
}

#[wasm_bindgen_test]
async fn config_error_page_shows_the_error() {
    let root = mount_point();
    let props = ConfigErrorProps {
        error: "config.json: `issuer` must use https".into(),
    };
    yew::Renderer::<ConfigErrorPage>::with_root_and_props(root.clone(), props).render();
    settle().await;
    assert_eq!(
        find(&root, "#config-error").text_content().unwrap(),
        "config.json: `issuer` must use https"
    );
    assert_eq!(
        find(&root, "main").get_attribute("data-page").as_deref(),
        Some("config-error")
    );
}
