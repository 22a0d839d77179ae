//! The host tier's share of the fuzzing: every target for a few thousand cases (the million-case run is
//! `tools/fuzz`), and the regression corpus.

const QUICK_CASES: u32 = 2_000;

fn quick(target: &'static str) {
    // Proptest's value trees of these nested generators outgrow a test thread's 2 MiB stack in debug
    // builds (not the parsers: they do not recurse, and serde_json stops at depth 128).
    let run = std::thread::Builder::new()
        .stack_size(64 << 20)
        // A fixed seed: the host tier is repeatable; tools/fuzz draws a new seed each run.
        .spawn(move || fuzz::run(target, QUICK_CASES, 6))
        .expect("a thread");
    match run.join() {
        Ok(Ok(_)) => {}
        Ok(Err(report)) => panic!("{report}"),
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

fn corpus(target: &str) {
    match fuzz::corpus::run(target) {
        Ok(count) => assert!(count > 0, "corpus/{target} is empty"),
        Err(failures) => panic!("{}", failures.join("\n")),
    }
}

#[test]
fn callback_properties() {
    quick("callback");
}

#[test]
fn message_properties() {
    quick("message");
}

#[test]
fn jwt_properties() {
    quick("jwt");
}

#[test]
fn config_properties() {
    quick("config");
}

#[test]
fn dpop_properties() {
    quick("dpop");
}

#[test]
fn callback_corpus() {
    corpus("callback");
}

#[test]
fn message_corpus() {
    corpus("message");
}

#[test]
fn jwt_corpus() {
    corpus("jwt");
}

#[test]
fn config_corpus() {
    corpus("config");
}

#[test]
fn dpop_corpus() {
    corpus("dpop");
}
