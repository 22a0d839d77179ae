use proptest::strategy::{Strategy, ValueTree};
use std::collections::BTreeMap;
fn tally<S: Strategy>(name: &str, s: S, f: impl Fn(S::Value) -> String) {
    let mut runner = fuzz::runner(1, 7);
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for _ in 0..20000 {
        let v = s.new_tree(&mut runner).unwrap().current();
        *counts.entry(f(v)).or_default() += 1;
    }
    println!("{name}: {counts:?}");
}
fn main() {
    tally("callback", fuzz::callback::input(), |i| fuzz::callback::check(&i));
    tally("message", fuzz::message::input(), |i| fuzz::message::check(&i));
    tally("jwt", (fuzz::jwt::token(), 0..1i64), |(t, _)| {
        let v = fuzz::jwt::check(&t, fuzz::jwt::NOW);
        if v == "ok" {
            let d = oidc_renew::auth::protocol::decode_jwt(&t).unwrap();
            fuzz::jwt::id_token_verdict(&oidc_renew::auth::protocol::validate_id_token(&d, &fuzz::jwt::expectations(fuzz::jwt::NOW)).map(|_| ()))
        } else { v }
    });
    tally("docs", (fuzz::jwt::document(), 200u16..201), |(d, s)| { let (a, b) = fuzz::jwt::check_document(&d, s); format!("{a} | {b}") });
    tally("config", fuzz::config::strategy(), |g| fuzz::config::check(&g.text).1);
}
