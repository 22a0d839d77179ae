//! The setup doctor's page (`/doctor/`): a bundle of its own, so the app's carries none of its code.
fn main() {
    oidc_renew::start_doctor();
}
