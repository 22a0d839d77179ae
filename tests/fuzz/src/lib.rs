//! Property-based fuzzing of the pure parsers, with structure-aware generators (proptest).
//!
//! Five targets, each a module with its generator (`strategy`), its properties (`case`) and a `check`
//! that runs one input and returns its verdict class:
//! - [`callback`], `silent_callback::parse_callback` and `select_params`;
//! - [`message`], `silent_callback::decode_message`, fed as the renewer reads a posted value;
//! - [`jwt`], `decode_jwt` then `validate_id_token`; `parse_jwks` and `parse_token_response`;
//! - [`config`], `Config::from_json`;
//! - [`dpop`], the reading of answers to requests with a DPoP proof (`WWW-Authenticate`, `DPoP-Nonce`,
//!   error bodies, the one retry) and the token type check.
//!
//! Every target asserts no panic, and properties that could fail: a success returns what the input
//! holds, an error names what is really wrong, a well-formed generated input round-trips.
//!
//! How it runs:
//! - `tools/fuzz [CASES]` (default 1,000,000 per target): the `fuzz` binary in the release-like `fuzz`
//!   profile; prints cases and seconds per target and, only when every target and the corpus passed,
//!   writes `target/reliability/fuzz.json`. `FUZZ_SEED=N` repeats a run (the seed is printed).
//! - `cargo test -p fuzz` (part of the host tier): each target for a few thousand cases, and the
//!   regression corpus.
//! - The corpus: `corpus/<target>/*.jsonl`, one JSON object a line, `{"input": ..., "verdict": ...,
//!   "note": ...}`: `input` is a string (for `message` the posted JSON value, for `dpop` an answer as
//!   `{"server", "status", "body", "dpop_nonce", "www_authenticate", "sent_nonce", "retried"}`); a `jwt` entry may add
//!   `"id_token"`, the validation verdict at [`jwt::NOW`]; a provider document (`jwt/documents.jsonl`)
//!   has `"status"` and the verdicts `"jwks"` and `"token"` instead of `"verdict"`. See [`corpus`].
//!   A failure the fuzzer finds goes there, minimized, with the verdict of the fixed parser.

pub mod callback;
pub mod config;
pub mod corpus;
pub mod dpop;
pub mod gen;
pub mod jwt;
pub mod message;

use proptest::strategy::Strategy;
use proptest::test_runner::{Config, RngSeed, TestError, TestRunner};
use std::fmt::Debug;
use std::sync::Mutex;
use std::time::Instant;

/// The targets, by name, in the order they run.
pub const TARGETS: [&str; 5] = ["callback", "message", "jwt", "config", "dpop"];

/// The outcome of one target's run.
#[derive(Debug, Clone)]
pub struct Run {
    pub name: &'static str,
    pub cases: u32,
    pub seconds: f64,
}

/// A runner for `cases` cases from `seed`, without failure files (the corpus keeps regressions).
pub fn runner(cases: u32, seed: u64) -> TestRunner {
    TestRunner::new(Config {
        cases,
        failure_persistence: None,
        rng_seed: RngSeed::Fixed(seed),
        max_local_rejects: u32::MAX,
        max_global_rejects: u32::MAX,
        max_shrink_iters: 20_000,
        ..Config::default()
    })
}

static LAST_PANIC: Mutex<Option<String>> = Mutex::new(None);

fn run_target<S: Strategy>(
    name: &'static str,
    strategy: S,
    case: impl Fn(S::Value),
    cases: u32,
    seed: u64,
) -> Result<Run, String>
where
    S::Value: Debug,
{
    let start = Instant::now();
    let mut runner = runner(cases, seed);
    let result = runner.run(&strategy, |value| {
        case(value);
        Ok(())
    });
    let seconds = start.elapsed().as_secs_f64();
    match result {
        Ok(()) => Ok(Run {
            name,
            cases,
            seconds,
        }),
        Err(TestError::Fail(reason, value)) => {
            let panic = LAST_PANIC.lock().ok().and_then(|p| p.clone());
            Err(format!(
                "{name}: {reason}\n  panic: {}\n  minimal input: {value:#?}",
                panic.unwrap_or_default()
            ))
        }
        Err(TestError::Abort(reason)) => Err(format!("{name}: aborted: {reason}")),
    }
}

/// Runs one target for `cases` cases. Panics inside the parsers and failed properties both fail it;
/// the error holds the shrunk input.
pub fn run(name: &str, cases: u32, seed: u64) -> Result<Run, String> {
    match name {
        "callback" => run_target(
            "callback",
            callback::strategy(),
            callback::case,
            cases,
            seed,
        ),
        "message" => run_target("message", message::strategy(), message::case, cases, seed),
        "jwt" => run_target("jwt", jwt::strategy(), jwt::case, cases, seed),
        "config" => run_target("config", config::strategy(), config::case, cases, seed),
        "dpop" => run_target("dpop", dpop::strategy(), dpop::case, cases, seed),
        other => Err(format!("no target `{other}`: {TARGETS:?}")),
    }
}

/// Keeps panic messages out of the output while proptest shrinks (each shrink step may panic), and
/// remembers the last one for the report.
pub fn quiet_panics() {
    std::panic::set_hook(Box::new(|info| {
        let message = match info.payload().downcast_ref::<&str>() {
            Some(text) => (*text).to_owned(),
            None => info
                .payload()
                .downcast_ref::<String>()
                .cloned()
                .unwrap_or_default(),
        };
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        if let Ok(mut last) = LAST_PANIC.lock() {
            *last = Some(format!("{message}{at}"));
        }
    }));
}
