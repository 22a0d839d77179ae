//! `/doctor/`: the setup doctor. Runs the checks one by one, showing each as it runs and how it
//! ended — green, amber or red, with a one-line cause and a one-line fix.
//!
//! Implementation notes:
//! - A page of its own, with its own wasm (`doctor/`: [`DoctorApp`], built by the app's trunk run
//!   into `dist/doctor/`), so that the app's bundle carries none of its code or texts.
//! - The verdicts are [`crate::doctor`]'s (pure, host-tested); this page only gathers the findings:
//!   it fetches config.json itself (the first check, so the page also works when the app could not
//!   start: [`DoctorApp`] renders it then without the auth context), asks fresh
//!   [`Diagnostics`] for discovery, JWKS and a token-endpoint probe, and runs one `prompt=none`
//!   request in its own [`IframeRenewer`].
//! - One run is one task; each step is one reducer action that ends a check and starts the next, so
//!   some check is `running` until the run is done. "Run again" starts a new run; steps of an
//!   older run are ignored.
//! - The clock check reads the session of the app's auth context when there is one (signed in or
//!   expired); the page makes no change to it and shows no token.

use crate::app::fetch_config;
use crate::doctor::{
    clock_skew_check, config_check, cookie_withheld, cors_check, cors_not_used, cross_site_check,
    discovery_check, dpop_check, jwks_check, logout_check, origin_of, renewal_channel_check,
    silent_check, skew_estimate_ms, Check, CheckResult, Held, Level, SilentProbe,
};
use futures_channel::oneshot;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use yew::prelude::*;
use yew_oidc::core::discovery::discovery_url;
use yew_oidc::core::dpop::TokenType;
use yew_oidc::core::jwks::Alg;
use yew_oidc::core::jwt::decode_jwt;
use yew_oidc::core::silent_callback::Outcome;
use yew_oidc::diagnostics::{Diagnostics, TokenProbe};
use yew_oidc::{
    use_optional_auth, AuthConfig, AuthProvider, AuthState, Flow, IframeRenewer, SilentOutcome,
    SilentRequest,
};

/// How long the silent probe may take, as long as a renewal may.
const PROBE_TIMEOUT_MS: u32 = 10_000;
/// How long the probe waits for a renewal in progress (in any tab) to finish.
const LOCK_WAIT_MS: u32 = 15_000;

/// Where one check stands.
#[derive(Debug, Clone, PartialEq)]
enum Row {
    /// Not started yet.
    Waiting,
    /// Running now.
    Running,
    /// Ended.
    Done(CheckResult),
}

/// The checks of the current run.
#[derive(Debug, Clone, PartialEq)]
struct Board {
    run: u32,
    rows: Vec<(Check, Row)>,
}

impl Board {
    fn done(&self) -> bool {
        self.rows.iter().all(|(_, row)| matches!(row, Row::Done(_)))
    }
}

/// A step of a run.
enum Step {
    /// A new run: the first check runs, the others wait.
    Start { run: u32 },
    /// `check` ended with `result`; `next` runs now.
    Advance {
        run: u32,
        check: Check,
        result: CheckResult,
        next: Option<Check>,
    },
}

impl Reducible for Board {
    type Action = Step;

    fn reduce(self: Rc<Self>, step: Step) -> Rc<Self> {
        match step {
            Step::Start { run } => Rc::new(Board {
                run,
                rows: Check::ALL
                    .iter()
                    .enumerate()
                    .map(|(i, check)| (*check, if i == 0 { Row::Running } else { Row::Waiting }))
                    .collect(),
            }),
            Step::Advance { run, .. } if run != self.run => self,
            Step::Advance {
                run,
                check,
                result,
                next,
            } => {
                let rows = self
                    .rows
                    .iter()
                    .map(|(name, row)| {
                        let row = if *name == check {
                            Row::Done(result.clone())
                        } else if Some(*name) == next {
                            Row::Running
                        } else {
                            row.clone()
                        };
                        (*name, row)
                    })
                    .collect();
                Rc::new(Board { run, rows })
            }
        }
    }
}

/// What a run needs from the component.
#[derive(Clone)]
struct Runner {
    run: u32,
    board: UseReducerDispatcher<Board>,
    /// The run allowed to go on (0 after unmount): an older run stops at its next step.
    current: Rc<Cell<u32>>,
    probe: UseStateHandle<Option<SilentRequest>>,
    answer: Rc<RefCell<Option<oneshot::Sender<SilentOutcome>>>>,
    /// The session's receipt time and `iat`, and its id_token's algorithm, when there is one.
    session: Option<(u64, i64, Option<Alg>)>,
    /// What the session holds, for the renewal-channel check.
    held: Held,
    /// The session's token type (bearer or DPoP-bound), when there is a session.
    token_type: Option<TokenType>,
}

impl Runner {
    fn live(&self) -> bool {
        self.current.get() == self.run
    }

    /// Ends `check` and starts the one after it. `false` when the run was cancelled.
    fn report(&self, check: Check, result: CheckResult) -> bool {
        if !self.live() {
            return false;
        }
        let next = Check::ALL
            .iter()
            .skip_while(|name| **name != check)
            .nth(1)
            .copied();
        self.board.dispatch(Step::Advance {
            run: self.run,
            check,
            result,
            next,
        });
        true
    }

    async fn run(self) {
        self.board.dispatch(Step::Start { run: self.run });
        let origin = gloo::utils::window()
            .location()
            .origin()
            .unwrap_or_default();
        let loaded = fetch_config().await;
        if !self.report(Check::Config, config_check(loaded.as_ref())) {
            return;
        }
        let Ok(config) = loaded else {
            return self.skip_rest(Check::Config);
        };
        let config = Rc::new(config.auth);
        let client = Diagnostics::new(config.clone());

        let url = discovery_url(&config.issuer);
        let discovered = client.discovery().await;
        if !self.report(
            Check::Discovery,
            discovery_check(&url, &discovered, config.provider),
        ) {
            return;
        }
        let Ok(metadata) = discovered else {
            return self.skip_rest(Check::Discovery);
        };

        let keys = client.jwks(&metadata.jwks_uri).await;
        let expected_alg = self.session.and_then(|(_, _, alg)| alg);
        let jwks = jwks_check(
            &metadata.jwks_uri,
            &metadata.id_token_signing_alg_values_supported,
            expected_alg,
            &keys,
        );
        if !self.report(Check::Jwks, jwks) {
            return;
        }

        let (cors, client_unknown) = match (&metadata.token_endpoint, config.flow) {
            (Some(token_endpoint), Flow::Code) => {
                let probe = client.token_endpoint(token_endpoint).await;
                let unknown = matches!(
                    &probe,
                    TokenProbe::Answered { error: Some(error), .. } if error == "invalid_client"
                );
                let result = cors_check(&origin, token_endpoint, &config, origin_of(&url), &probe);
                (result, unknown)
            }
            _ => (cors_not_used(), false),
        };
        if !self.report(Check::Cors, cors) {
            return;
        }

        let silent_url = format!("{origin}{}", config.silent_redirect_path);
        let mut withheld = false;
        let silent = match self.silent_probe(&client).await {
            Some(Ok(probe)) => {
                withheld = cookie_withheld(self.session.is_some(), &probe);
                silent_check(&silent_url, &config, client_unknown, &probe)
            }
            Some(Err(why)) => CheckResult {
                level: Level::Amber,
                cause: format!("The silent request could not be prepared: {why}."),
                fix: "Run the doctor again; if it stays amber, try another browser.".to_owned(),
            },
            None => return,
        };
        if !self.report(Check::SilentCallback, silent) {
            return;
        }

        let cross_site = cross_site_check(&origin, &config.issuer, withheld);
        if !self.report(Check::CrossSite, cross_site) {
            return;
        }
        let channel = renewal_channel_check(&config, &origin, self.held, withheld);
        if !self.report(Check::RenewalChannel, channel) {
            return;
        }
        if !self.report(Check::Dpop, dpop_check(&config, &metadata, self.token_type)) {
            return;
        }
        let post_logout = format!("{origin}{}", config.post_logout_redirect_path);
        if !self.report(
            Check::Logout,
            logout_check(&config, &metadata, &post_logout),
        ) {
            return;
        }
        let skew = self
            .session
            .map(|(received_at_ms, iat, _)| skew_estimate_ms(received_at_ms, iat));
        self.report(Check::ClockSkew, clock_skew_check(skew));
    }

    /// One `prompt=none` request in the page's hidden frame, as a renewal makes it, under the
    /// renewal lock: a renewal (in this tab or another) waits for it, so there is still at most one
    /// silent frame per client. `None` when the run was cancelled meanwhile.
    async fn silent_probe(&self, client: &Diagnostics) -> Option<Result<SilentProbe, String>> {
        let (runner, locked) = (self.clone(), client.clone());
        let work = async move { runner.silent_probe_locked(&locked).await };
        match client.under_renewal_lock(LOCK_WAIT_MS, work).await {
            Ok(result) => result,
            Err(error) => Some(Err(format!("a renewal held the lock too long ({error})"))),
        }
    }

    async fn silent_probe_locked(
        &self,
        client: &Diagnostics,
    ) -> Option<Result<SilentProbe, String>> {
        let request = match client.silent_request(u64::from(self.run)).await {
            Ok(request) => request,
            Err(error) => return Some(Err(error)),
        };
        let (sender, receiver) = oneshot::channel();
        *self.answer.borrow_mut() = Some(sender);
        if !self.live() {
            return None;
        }
        let authorize_url = request.url.clone();
        self.probe.set(Some(request));
        // A dropped sender: the page went away, or a new run replaced this one.
        let outcome = receiver.await.ok()?;
        self.probe.set(None);
        // The code, if any, is left unused: it proves the redirect, and expires unredeemed.
        Some(Ok(match outcome {
            SilentOutcome::Callback(callback) => match callback.outcome {
                Outcome::Code { .. } | Outcome::Tokens(_) => SilentProbe::Granted,
                Outcome::Error {
                    error, description, ..
                } => SilentProbe::Refused { error, description },
            },
            SilentOutcome::Unparsable(code) => SilentProbe::Unparsable(code),
            SilentOutcome::FailFast => SilentProbe::ProviderPage { authorize_url },
            SilentOutcome::Timeout => SilentProbe::Timeout {
                secs: PROBE_TIMEOUT_MS / 1000,
            },
        }))
    }

    /// Ends every check after `failed` as not checked.
    fn skip_rest(&self, failed: Check) {
        for check in Check::ALL
            .iter()
            .skip_while(|name| **name != failed)
            .skip(1)
        {
            if !self.report(*check, CheckResult::skipped(failed)) {
                return;
            }
        }
    }
}

/// The doctor's page, the root of its bundle: [`DoctorPage`] inside the app's [`AuthProvider`] when
/// config.json is valid (as on the app's pages: the stored session is restored and kept, and the clock
/// check reads it), alone when it is not (the doctor must say what is wrong with it).
#[function_component(DoctorApp)]
pub fn doctor_app() -> Html {
    let config = use_state(|| None::<Option<Rc<AuthConfig>>>);
    {
        let config = config.clone();
        use_effect_with((), move |_| {
            wasm_bindgen_futures::spawn_local(async move {
                let loaded = fetch_config().await.ok().map(|config| Rc::new(config.auth));
                config.set(Some(loaded));
            });
        });
    }
    match &*config {
        None => html! { <p class="loading" aria-busy="true">{ "Loading…" }</p> },
        Some(None) => html! { <DoctorPage /> },
        Some(Some(config)) => html! {
            <AuthProvider config={config.clone()}><DoctorPage /></AuthProvider>
        },
    }
}

/// The setup doctor page.
#[function_component(DoctorPage)]
pub fn doctor_page() -> Html {
    let board = use_reducer(|| Board {
        run: 0,
        rows: Vec::new(),
    });
    let run = use_state(|| 1_u32);
    let current: Rc<Cell<u32>> = use_memo((), |_| Cell::new(0_u32));
    let probe = use_state(|| None::<SilentRequest>);
    let answer = use_mut_ref(|| None::<oneshot::Sender<SilentOutcome>>);
    let auth = use_optional_auth();
    let session = auth.as_ref().and_then(|auth| {
        auth.state().session().map(|session| {
            let alg = decode_jwt(&session.id_token)
                .ok()
                .and_then(|jwt| Alg::from_name(&jwt.header.alg));
            (session.issued_at_ms, session.claims.iat, alg)
        })
    });
    let held = match auth.as_ref().and_then(|auth| auth.state().session()) {
        Some(session) if session.refresh_token.is_some() => Held::RefreshToken,
        Some(_) => Held::Session,
        None => Held::Nothing,
    };
    let token_type = auth
        .as_ref()
        .and_then(|auth| auth.state().session())
        .map(|session| session.token_type);

    {
        let runner = Runner {
            run: *run,
            board: board.dispatcher(),
            current: current.clone(),
            probe: probe.clone(),
            answer: answer.clone(),
            session,
            held,
            token_type,
        };
        // The run starts once the app's session is known (restored, or none): opened directly
        // (a bookmark, a reload), the page renders before the stored session is read.
        let settled = auth
            .as_ref()
            .is_none_or(|auth| !matches!(auth.state(), AuthState::Loading | AuthState::SigningIn));
        use_effect_with((*run, settled), move |(run, settled)| {
            let run = *run;
            if !*settled {
                runner.current.set(0);
            } else {
                runner.current.set(run);
                wasm_bindgen_futures::spawn_local(runner.clone().run());
            }
            let (current, answer) = (runner.current.clone(), runner.answer.clone());
            move || {
                current.set(0);
                // A probe still waiting ends now (its frame is gone with the page): it holds the
                // renewal lock, which the keeper needs.
                answer.borrow_mut().take();
            }
        });
    }

    let on_outcome = {
        let answer = answer.clone();
        Callback::from(move |(_, outcome): (u64, SilentOutcome)| {
            if let Some(sender) = answer.borrow_mut().take() {
                let _ = sender.send(outcome);
            }
        })
    };
    let done = board.run == *run && board.done();
    let rerun = {
        let (run, probe, answer) = (run.clone(), probe.clone(), answer.clone());
        Callback::from(move |_| {
            // Drops a pending probe: its run is over.
            answer.borrow_mut().take();
            probe.set(None);
            run.set(*run + 1);
        })
    };
    let finished = board
        .rows
        .iter()
        .filter(|(_, row)| matches!(row, Row::Done(_)))
        .count();
    let count = |level: Level| {
        board
            .rows
            .iter()
            .filter(|(_, row)| matches!(row, Row::Done(result) if result.level == level))
            .count()
    };
    let progress = if done {
        format!(
            "Done: {} green, {} amber, {} red.",
            count(Level::Green),
            count(Level::Amber),
            count(Level::Red)
        )
    } else {
        let running = board
            .rows
            .iter()
            .find(|(_, row)| *row == Row::Running)
            .map_or("", |(check, _)| check.title());
        format!(
            "Checking {} of {}: {running}…",
            (finished + 1).min(Check::ALL.len()),
            Check::ALL.len()
        )
    };

    html! {
        <main data-page="doctor">
            <h1>{ "Setup doctor" }</h1>
            <p>{ "Checks, one by one, what sign-in and silent renewal need from config.json, the provider and this browser, and says what to fix." }</p>
            <section id="doctor" data-state={if done { "done" } else { "running" }} aria-busy={(!done).to_string()}>
                <p id="doctor-progress" role="status">{ progress }</p>
                <ol class="checks">
                    { for board.rows.iter().map(|(check, row)| check_row(*check, row)) }
                </ol>
                <button id="doctor-rerun" onclick={rerun} disabled={!done}>{ "Run again" }</button>
            </section>
            <IframeRenewer request={(*probe).clone()} {on_outcome} timeout_ms={PROBE_TIMEOUT_MS} />
            <p><a href="/">{ "Back to the app" }</a></p>
        </main>
    }
}

fn check_row(check: Check, row: &Row) -> Html {
    // Colours as SVG attributes and the stylesheet's classes: a strict CSP (`style-src 'self'`, as
    // deploy/ sets) refuses inline styles.
    let (result, color, badge) = match row {
        Row::Waiting => ("waiting", "#d0d7de", "waiting"),
        Row::Running => ("running", "#0b5cad", "checking…"),
        Row::Done(done) => match done.level {
            Level::Green => ("green", "#1a7f37", "OK"),
            Level::Amber => ("amber", "#bf8700", "warning"),
            Level::Red => ("red", "#cf222e", "problem"),
        },
    };
    let hollow = matches!(row, Row::Waiting | Row::Running);
    html! {
        <li class={classes!("check", "notice", (result == "red").then_some("error"))}
            data-check={check.id()} data-result={result}>
            <svg width="12" height="12" viewBox="0 0 12 12" aria-hidden="true">
                <circle cx="6" cy="6" r="5" fill={if hollow { "none" } else { color }}
                    stroke={color} stroke-width="2" />
            </svg>
            { " " }<strong>{ check.title() }</strong>{ " — " }<span class="badge">{ badge }</span>
            if let Row::Done(done) = row {
                <div><span class="cause">{ &done.cause }</span></div>
                <div><b>{ "Fix: " }</b><span class="fix">{ &done.fix }</span></div>
            }
        </li>
    }
}
