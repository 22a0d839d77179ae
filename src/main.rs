fn main() {
    oidc_renew::start();
}
