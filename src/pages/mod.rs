//! The app's screens. Each renders a `<main data-page="…">`, which the tests look for.

mod api;
mod callback;
mod config_error;
mod home;
mod not_found;
mod profile;
mod session;

pub use api::ApiPage;
pub use callback::CallbackPage;
pub use config_error::{ConfigErrorPage, ConfigErrorProps};
pub use home::HomePage;
pub use not_found::NotFoundPage;
pub use profile::ProfilePage;
pub use session::{format_duration, SessionBanner, SessionPanel};
