//! A Yew single-page app signed in through OpenID Connect, whose session is kept alive by silent renewal in
//! a hidden iframe.
//!
//! Layout: [`config`] is pure (parsing and validation, host-tested); [`app`] holds the root component and
//! the routes; [`pages`] the screens. Callback parsing is not here: it is `silent_callback`, the one parser
//! shared with the silent page.

pub mod app;
pub mod auth;
pub mod config;
pub mod pages;

/// Mounts the app on `<body>`.
pub fn start() {
    yew::Renderer::<app::App>::new().render();
}
