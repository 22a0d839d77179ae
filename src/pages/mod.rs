//! The app's screens. Each renders a `<main data-page="…">`, which the tests look for.

mod api;
mod config_error;
mod doctor;
mod home;
mod not_found;
mod profile;
mod session;
mod timeline;

pub use api::api_page;
pub use config_error::{ConfigErrorPage, ConfigErrorProps};
pub use doctor::{DoctorApp, DoctorPage};
pub use home::HomePage;
pub use not_found::NotFoundPage;
pub use profile::profile_page;
pub use session::{format_duration, SessionBanner, SessionPanel};
pub use timeline::{SessionTimeline, Timeline, TimelineProps};
