//! The setup doctor's decisions: what each check's findings mean, as green, amber or red with a
//! one-line cause and a one-line fix.
//!
//! The `/doctor` page does the requests (config.json, discovery, JWKS, a token-endpoint probe, a
//! `prompt=none` probe in a hidden frame) and reads the session; every verdict is made here, from
//! those findings, so the wording and the thresholds are tested on the host. Two estimates live
//! here too: the clock skew ([`skew_estimate_ms`]) and whether two URLs are on the same site
//! ([`same_site`]).
//!
//! Fix texts name the exact value to change (the field in config.json, the URL to register) and,
//! for Auth0 (`"provider": "auth0"`), the dashboard setting, because a fix a user has to look up is
//! half a fix.

use crate::config::AppConfig;
use std::fmt;
use yew_oidc::core::discovery::{DiscoveryError, ProviderMetadata};
use yew_oidc::core::dpop::{in_use as dpop_in_use, DpopError, DpopMode, TokenType};
use yew_oidc::core::id_token::CLOCK_TOLERANCE_SECS;
use yew_oidc::core::jwks::{select_key, Alg, Jwks, KeyLookup};
use yew_oidc::core::logout::LogoutMethod;
use yew_oidc::diagnostics::{ProbeError, TokenProbe};
use yew_oidc::{AuthConfig as Config, ConfigError, Flow, ProviderKind, RenewalMode};

/// Skew above which the clock check turns amber, in milliseconds. Below it nothing a user would
/// notice depends on the clock; above it, short tokens already look older or younger than they are.
pub const SKEW_AMBER_MS: i64 = 30_000;

/// Skew above which the clock check turns red: the id_token checks' tolerance (five minutes of
/// skew plus a minute of leeway). Beyond it a fresh id_token can be refused as issued in the
/// future, or as expired.
pub const SKEW_RED_MS: i64 = CLOCK_TOLERANCE_SECS * 1000;

/// How a check ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Works.
    Green,
    /// Works for now or for some users; or could not be checked.
    Amber,
    /// Sign-in or renewal fails until it is fixed.
    Red,
}

impl Level {
    /// `green`, `amber` or `red`: the page's `data-result`.
    pub fn name(self) -> &'static str {
        match self {
            Level::Green => "green",
            Level::Amber => "amber",
            Level::Red => "red",
        }
    }
}

/// A check's verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckResult {
    /// Green, amber or red.
    pub level: Level,
    /// What was found, in one line.
    pub cause: String,
    /// What to do about it, in one line.
    pub fix: String,
}

impl CheckResult {
    fn new(level: Level, cause: impl Into<String>, fix: impl Into<String>) -> CheckResult {
        CheckResult {
            level,
            cause: cause.into(),
            fix: fix.into(),
        }
    }

    fn green(cause: impl Into<String>) -> CheckResult {
        CheckResult::new(Level::Green, cause, "Nothing to do.")
    }

    /// A check that could not run because an earlier one failed: amber, pointing at that one.
    pub fn skipped(because: Check) -> CheckResult {
        CheckResult::new(
            Level::Amber,
            format!("Not checked: the {} check failed.", because.title()),
            format!(
                "Fix the {} check first, then run the doctor again.",
                because.title()
            ),
        )
    }
}

/// The checks, in the order the doctor runs them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Check {
    /// `config.json` is served and valid.
    Config,
    /// Discovery reachable, the issuer equal, the endpoints and algorithms this app needs present.
    Discovery,
    /// The JWKS reachable, with a key for the id_token algorithm.
    Jwks,
    /// The token endpoint answers this origin (CORS) and knows the client.
    Cors,
    /// A `prompt=none` request comes back to the silent page.
    SilentCallback,
    /// The provider is on the app's site (its cookies are first-party in the hidden frame).
    CrossSite,
    /// Which channel renewal takes in this browser with this provider (refresh token or iframe),
    /// and whether it can work.
    RenewalChannel,
    /// Whether the tokens are bound to a key of this browser (DPoP), or bearer tokens.
    Dpop,
    /// Sign-out can end the provider session: the endpoint, and the method the app will use.
    Logout,
    /// The local clock agrees with the provider's.
    ClockSkew,
}

impl Check {
    /// Every check, in running order.
    pub const ALL: [Check; 10] = [
        Check::Config,
        Check::Discovery,
        Check::Jwks,
        Check::Cors,
        Check::SilentCallback,
        Check::CrossSite,
        Check::RenewalChannel,
        Check::Dpop,
        Check::Logout,
        Check::ClockSkew,
    ];

    /// A stable name: the page's `data-check`.
    pub fn id(self) -> &'static str {
        match self {
            Check::Config => "config",
            Check::Discovery => "discovery",
            Check::Jwks => "jwks",
            Check::Cors => "cors",
            Check::SilentCallback => "silent-callback",
            Check::CrossSite => "cross-site",
            Check::RenewalChannel => "renewal-channel",
            Check::Dpop => "dpop",
            Check::Logout => "logout",
            Check::ClockSkew => "clock-skew",
        }
    }

    /// What the check is about, for people.
    pub fn title(self) -> &'static str {
        match self {
            Check::Config => "config.json",
            Check::Discovery => "provider discovery",
            Check::Jwks => "signing keys (JWKS)",
            Check::Cors => "token endpoint (CORS)",
            Check::SilentCallback => "silent callback URL",
            Check::CrossSite => "same-site provider",
            Check::RenewalChannel => "renewal channel",
            Check::Dpop => "sender-constrained tokens (DPoP)",
            Check::Logout => "sign-out",
            Check::ClockSkew => "clock skew",
        }
    }
}

// ---------------------------------------------------------------------------------------------
// config.json
// ---------------------------------------------------------------------------------------------

/// Why `config.json` could not be used. Its `Display` is the configuration-error page's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigLoadError {
    /// The request failed, or its body could not be read (offline, server down); holds the browser's
    /// description.
    Unreachable(String),
    /// The server answered another status than 200.
    Status(u16),
    /// The file was read, but it is not a valid configuration.
    Invalid(ConfigError),
}

impl fmt::Display for ConfigLoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigLoadError::Unreachable(why) => {
                write!(f, "config.json could not be fetched: {why}")
            }
            ConfigLoadError::Status(status) => {
                write!(f, "config.json could not be fetched: HTTP {status}")
            }
            ConfigLoadError::Invalid(error) => write!(f, "config.json: {error}"),
        }
    }
}

impl std::error::Error for ConfigLoadError {}

/// The config.json check: red with the field and its expected form, or green with what it says.
pub fn config_check(loaded: Result<&AppConfig, &ConfigLoadError>) -> CheckResult {
    const SERVE: &str =
        "Serve config.json next to index.html (its source is assets/config.json), then \
                         run the doctor again.";
    match loaded {
        Ok(AppConfig { auth: config, .. }) => CheckResult::green(format!(
            "config.json is valid: issuer {}, client {}, {} flow.",
            config.issuer,
            config.client_id,
            match config.flow {
                Flow::Code => "code + PKCE",
                Flow::Implicit => "implicit (legacy)",
            }
        )),
        Err(
            error @ ConfigLoadError::Invalid(ConfigError {
                field: Some(field), ..
            }),
        ) => CheckResult::new(
            Level::Red,
            format!("{error}."),
            format!(
                "Set `{field}` in config.json (next to index.html) to the form the cause \
                     names, then run the doctor again."
            ),
        ),
        Err(error @ ConfigLoadError::Invalid(ConfigError { field: None, .. })) => CheckResult::new(
            Level::Red,
            format!("{error}."),
            "Correct config.json next to index.html (the README's Configuration section lists its \
             fields and forms), then run the doctor again.",
        ),
        Err(error) => CheckResult::new(Level::Red, format!("{error}."), SERVE),
    }
}

// ---------------------------------------------------------------------------------------------
// Requests to the provider
// ---------------------------------------------------------------------------------------------

/// The discovery check, on the fresh discovery document fetched from `url`.
pub fn discovery_check(
    url: &str,
    found: &Result<ProviderMetadata, ProbeError>,
    provider: ProviderKind,
) -> CheckResult {
    let issuer_fix = "Check `issuer` in config.json: it must be the provider's issuer, whose \
                      /.well-known/openid-configuration this is; and that the provider is running.";
    let metadata = match found {
        Ok(metadata) => metadata,
        Err(ProbeError::Unreachable { why, .. }) => {
            return CheckResult::new(
                Level::Red,
                format!("Discovery at {url} could not be fetched ({why})."),
                issuer_fix,
            )
        }
        Err(ProbeError::Status { status, .. }) => {
            return CheckResult::new(
                Level::Red,
                format!("Discovery at {url} answered HTTP {status}."),
                issuer_fix,
            )
        }
        Err(ProbeError::Discovery(error)) => return discovery_error(url, error, provider),
        Err(ProbeError::Jwks(error)) => {
            return CheckResult::new(Level::Red, format!("{error}."), issuer_fix)
        }
    };
    let algs: Vec<&str> = metadata
        .id_token_signing_alg_values_supported
        .iter()
        .map(String::as_str)
        .filter(|alg| Alg::from_name(alg).is_some())
        .collect();
    let endpoints = if metadata.token_endpoint.is_some() {
        "authorization, token and JWKS"
    } else {
        "authorization and JWKS"
    };
    CheckResult::green(format!(
        "Discovery at {url}: the issuer matches config.json, the {endpoints} endpoints are there, \
         id_tokens signed with {}.",
        algs.join(" or ")
    ))
}

fn discovery_error(url: &str, error: &DiscoveryError, provider: ProviderKind) -> CheckResult {
    let red = |cause: String, fix: &str| CheckResult::new(Level::Red, cause, fix);
    match error {
        DiscoveryError::IssuerMismatch {
            configured,
            discovered,
        } => {
            let slash = if provider == ProviderKind::Auth0 {
                " (Auth0's issuer ends with a slash)"
            } else {
                ""
            };
            CheckResult::new(
                Level::Red,
                format!(
                    "The provider's issuer is \"{discovered}\" but config.json says \
                     \"{configured}\"; tokens name the former, so sign-in would refuse them."
                ),
                format!(
                    "Set `issuer` in config.json to \"{discovered}\" exactly, trailing slash \
                     included{slash}."
                ),
            )
        }
        DiscoveryError::NotJson | DiscoveryError::TooLarge | DiscoveryError::MissingField(_) => {
            red(
                format!("{url} is not an OpenID discovery document ({error})."),
                "Set `issuer` in config.json to the provider's issuer URL (the part before \
             /.well-known/openid-configuration).",
            )
        }
        DiscoveryError::InvalidField { .. } | DiscoveryError::InsecureEndpoint { .. } => red(
            format!("The discovery document at {url} is unusable: {error}."),
            "Fix the provider's metadata (endpoints must be https URLs; http only on localhost).",
        ),
        DiscoveryError::NoTokenEndpoint
        | DiscoveryError::NoS256
        | DiscoveryError::ResponseTypeUnsupported(_) => red(
            format!("The provider cannot run this app's flow: {error}."),
            "Enable the Authorization Code grant with PKCE (S256) for this client at the \
             provider, or change `flow` in config.json.",
        ),
        DiscoveryError::NoSupportedAlg(_) => red(
            format!("The provider cannot sign id_tokens the way this app verifies: {error}."),
            "Set the client's id_token signing algorithm to RS256 or ES256 at the provider.",
        ),
    }
}

/// The JWKS check. `algs` are the id_token algorithms the provider states (discovery);
/// `expected` is the one the last id_token was signed with, when there is one.
pub fn jwks_check(
    url: &str,
    algs: &[String],
    expected: Option<Alg>,
    found: &Result<Jwks, ProbeError>,
) -> CheckResult {
    let fix = "Check the provider's jwks_uri and its signing keys (an RSA key for RS256, an EC \
               P-256 key for ES256).";
    let jwks = match found {
        Ok(jwks) => jwks,
        Err(ProbeError::Unreachable { why, .. }) => {
            let cause = format!(
                "The key set at {url} could not be fetched ({why}): no id_token can be \
                 verified."
            );
            let fix = "Check that the provider's jwks_uri is reachable from the browser and \
                       allows any origin (CORS).";
            return CheckResult::new(Level::Red, cause, fix);
        }
        Err(ProbeError::Status { status, .. }) => {
            return CheckResult::new(
                Level::Red,
                format!("The key set at {url} answered HTTP {status}."),
                fix,
            )
        }
        Err(error) => {
            let what = match error {
                ProbeError::Jwks(error) => error.to_string(),
                ProbeError::Discovery(error) => error.to_string(),
                _ => String::new(),
            };
            return CheckResult::new(Level::Red, format!("{what} ({url})."), fix);
        }
    };
    let usable: Vec<Alg> = [Alg::Rs256, Alg::Es256]
        .into_iter()
        .filter(|alg| has_key(jwks, *alg))
        .collect();
    let names = |algs: &[Alg]| {
        algs.iter()
            .map(|alg| alg.name())
            .collect::<Vec<_>>()
            .join(" and ")
    };
    if let Some(alg) = expected {
        return if usable.contains(&alg) {
            CheckResult::green(format!(
                "The key set at {url} has a key for {}, the algorithm of your id_token.",
                alg.name()
            ))
        } else {
            CheckResult::new(
                Level::Red,
                format!(
                    "Your id_token is signed with {} but the key set at {url} has no such key.",
                    alg.name()
                ),
                fix,
            )
        };
    }
    let stated: Vec<Alg> = algs.iter().filter_map(|alg| Alg::from_name(alg)).collect();
    let covered: Vec<Alg> = stated
        .iter()
        .copied()
        .filter(|alg| usable.contains(alg))
        .collect();
    match covered.as_slice() {
        [] => CheckResult::new(
            Level::Red,
            format!(
                "The provider signs id_tokens with {} but the key set at {url} has no key for it.",
                if stated.is_empty() {
                    "no algorithm this app verifies".to_owned()
                } else {
                    names(&stated)
                }
            ),
            fix,
        ),
        _ if covered.len() < stated.len() => CheckResult::new(
            Level::Amber,
            format!(
                "The key set at {url} has {} keys but none for {}: id_tokens signed with that \
                 would be refused.",
                names(&covered),
                names(
                    &stated
                        .iter()
                        .copied()
                        .filter(|alg| !covered.contains(alg))
                        .collect::<Vec<_>>()
                )
            ),
            format!(
                "Set the client's id_token signing algorithm to {} at the provider, or sign in \
                 and run the doctor again to check the algorithm actually used.",
                names(&covered)
            ),
        ),
        _ => CheckResult::green(format!(
            "The key set at {url} has keys for {}.",
            names(&covered)
        )),
    }
}

/// Whether the set has a key that can verify `alg` (a key of the right type and curve, for
/// signing, stating no other algorithm).
fn has_key(jwks: &Jwks, alg: Alg) -> bool {
    // `select_key` without a `kid` wants exactly one suitable key: ask it about each key alone.
    jwks.keys.iter().any(|key| {
        let alone = Jwks {
            keys: vec![key.clone()],
        };
        matches!(select_key(&alone, alg, None), KeyLookup::Found(_))
    })
}

// ---------------------------------------------------------------------------------------------
// Token endpoint (CORS)
// ---------------------------------------------------------------------------------------------

/// The token-endpoint check.
///
/// A real token endpoint answers a made-up code with HTTP 400 `invalid_grant`, as JSON with CORS
/// headers for an allowed origin. A readable answer therefore proves CORS; `invalid_client` says
/// the client id is unknown. No readable answer while the discovery document (served by the same
/// provider) was readable means the browser refused the answer: CORS does not allow this origin.
pub fn cors_check(
    origin: &str,
    token_endpoint: &str,
    config: &Config,
    discovery_origin: &str,
    probe: &TokenProbe,
) -> CheckResult {
    let auth0 = config.provider == ProviderKind::Auth0;
    match probe {
        TokenProbe::Answered { error: Some(error), .. } if error == "invalid_client" => {
            CheckResult::new(
                Level::Red,
                format!(
                    "The token endpoint does not know client \"{}\" (invalid_client): sign-in \
                     cannot complete.",
                    config.client_id
                ),
                if auth0 {
                    "Copy the Client ID from Applications → your application → Settings in the \
                     Auth0 dashboard into `client_id` in config.json."
                        .to_owned()
                } else {
                    "Set `client_id` in config.json to this app's client id at the provider (a \
                     public client, no secret)."
                        .to_owned()
                },
            )
        }
        TokenProbe::Answered { error: Some(error), .. } if error == "unauthorized_client" => {
            CheckResult::new(
                Level::Red,
                format!(
                    "The token endpoint answers this origin, but client \"{}\" may not use the \
                     authorization code grant (unauthorized_client).",
                    config.client_id
                ),
                "Enable the Authorization Code grant (with PKCE) for this client at the provider.",
            )
        }
        TokenProbe::Answered { status, .. } if *status >= 500 => CheckResult::new(
            Level::Amber,
            format!(
                "The token endpoint {token_endpoint} answers this origin, but failed (HTTP {status})."
            ),
            "Look at the provider's status or logs; run the doctor again later.",
        ),
        TokenProbe::Answered { status, error } => CheckResult::green(format!(
            "The token endpoint answers {origin} (HTTP {status}{} to the doctor's made-up code, \
             as expected): CORS allows this origin.",
            error.as_deref().map(|e| format!(" {e}")).unwrap_or_default()
        )),
        TokenProbe::Refused(why) => {
            let same_server = origin_of(token_endpoint) == discovery_origin;
            let cause = if same_server {
                format!(
                    "The browser refused the answer of {token_endpoint} ({why}) while discovery \
                     on the same server answered: CORS does not allow {origin}."
                )
            } else {
                format!(
                    "The browser got no answer from {token_endpoint} ({why}): CORS does not allow \
                     {origin}, or that server is unreachable."
                )
            };
            let fix = if auth0 {
                format!(
                    "Add {origin} to Allowed Web Origins and Allowed Origins (CORS) in \
                     Applications → your application → Settings in the Auth0 dashboard."
                )
            } else {
                format!(
                    "Allow the origin {origin} for CORS for client \"{}\" at the provider.",
                    config.client_id
                )
            };
            CheckResult::new(Level::Red, cause, fix)
        }
    }
}

/// The token-endpoint check in the implicit flow, which never calls the token endpoint.
pub fn cors_not_used() -> CheckResult {
    CheckResult::green(
        "The implicit flow gets its tokens from the authorize redirect: the browser never calls the \
         token endpoint, so it needs no CORS.",
    )
}

// ---------------------------------------------------------------------------------------------
// Silent callback
// ---------------------------------------------------------------------------------------------

/// How the doctor's `prompt=none` request in a hidden frame ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SilentProbe {
    /// Back at the silent page with a code (or tokens): there is a provider session.
    Granted,
    /// Back at the silent page with an OAuth error.
    Refused {
        /// The error code, e.g. `login_required`.
        error: String,
        /// The provider's text.
        description: Option<String>,
    },
    /// Back at the silent page, with parameters it could not parse (its error code).
    Unparsable(String),
    /// The frame loaded a page that is not the silent page (a provider's error or login page, or the
    /// browser's page for a refused frame) and no answer followed. The page is another origin's: what
    /// it says cannot be read.
    ProviderPage {
        /// The probe's authorize request, to open top-level and see the page.
        authorize_url: String,
    },
    /// No answer within the timeout.
    Timeout {
        /// The timeout, in seconds.
        secs: u32,
    },
}

/// The silent-callback check. `silent_url` is `<origin><silent_redirect_path>`; `client_unknown` is
/// what the token-endpoint probe learned (an unknown client also gets a provider error page).
pub fn silent_check(
    silent_url: &str,
    config: &Config,
    client_unknown: bool,
    probe: &SilentProbe,
) -> CheckResult {
    match probe {
        SilentProbe::Granted => CheckResult::green(format!(
            "A prompt=none request came back to {silent_url} with a code: the URL is registered \
             and silent renewal works."
        )),
        SilentProbe::Refused { error, .. }
            if yew_oidc::core::renewal::INTERACTION_ERRORS.contains(&error.as_str()) =>
        {
            CheckResult::green(format!(
                "A prompt=none request came back to {silent_url} with {error}: the URL is \
                 registered (the provider wants a sign-in; if you are signed in, it did not see \
                 its cookie)."
            ))
        }
        SilentProbe::Refused { error, description } => CheckResult::new(
            Level::Red,
            format!(
                "{silent_url} is registered, but the provider refused the silent request: {error}{}.",
                description
                    .as_deref()
                    .map(|d| format!(" ({d})"))
                    .unwrap_or_default()
            ),
            "Fix what the provider names: usually `audience` or `scope` in config.json, or the \
             client's allowed grants at the provider.",
        ),
        SilentProbe::Unparsable(code) => CheckResult::new(
            Level::Amber,
            format!(
                "The provider redirected to {silent_url}, but the silent page could not read its \
                 answer ({code})."
            ),
            "Check that the provider answers prompt=none with response_mode=fragment, as \
             requested.",
        ),
        SilentProbe::ProviderPage { .. } if client_unknown => CheckResult::new(
            Level::Red,
            format!(
                "The provider showed an error page in the hidden frame: client \"{}\" is unknown \
                 to it (see the token endpoint check).",
                config.client_id
            ),
            format!(
                "Set `client_id` in config.json to this app's client id, then make sure \
                 {silent_url} is one of its redirect URIs."
            ),
        ),
        // The doctor cannot see the frame's page nor its status: it names every cause that shows a
        // page there, and how to tell them apart, rather than guess one.
        SilentProbe::ProviderPage { authorize_url } => CheckResult::new(
            Level::Red,
            format!(
                "The provider showed a page in the hidden frame instead of redirecting to \
                 {silent_url}. That page is another origin's, so the doctor cannot read it; it \
                 comes from one of: {silent_url} is not registered as a redirect URI; the provider \
                 refuses to be framed; the provider failed, or does not support prompt=none."
            ),
            format!(
                "{register} To tell the causes apart, find this prompt=none request in the \
                 provider's log, or open it in a new tab (top-level, where framing does not \
                 matter): an error about the redirect URI means it is not registered; arriving at \
                 {silent_url} means it is, and the provider refuses framing (X-Frame-Options or CSP \
                 frame-ancestors); a server error means the provider failed or does not support \
                 prompt=none. The request: {authorize_url}",
                register = match config.provider {
                    ProviderKind::Auth0 => format!(
                        "Add {silent_url} to Allowed Callback URLs in Applications → your \
                         application → Settings in the Auth0 dashboard if it is not there."
                    ),
                    ProviderKind::Generic => format!(
                        "Register {silent_url} as a redirect URI of client \"{}\" at the provider \
                         if it is not one yet.",
                        config.client_id
                    ),
                }
            ),
        ),
        SilentProbe::Timeout { secs } => CheckResult::new(
            Level::Amber,
            format!(
                "No answer from the hidden frame within {secs} s: the provider is slow, or a page \
                 in the frame waits for input."
            ),
            "Run the doctor again; if it stays amber, look for the prompt=none /authorize request \
             in the provider's logs.",
        ),
    }
}

// ---------------------------------------------------------------------------------------------
// Same site
// ---------------------------------------------------------------------------------------------

/// The site of an absolute URL, roughly its registrable domain: the last two labels of a DNS
/// host (`login.example.com` → `example.com`), or the whole host for an IP address or a one-label
/// host (`localhost`). Ports and schemes do not count. Rough: hosts under multi-label public
/// suffixes (`example.co.uk`) all count as one site, `co.uk`. `None` without a host.
pub fn site(url: &str) -> Option<String> {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let authority = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    let host = match authority.strip_prefix('[') {
        Some(v6) => {
            return v6
                .split(']')
                .next()
                .filter(|h| !h.is_empty())
                .map(str::to_owned)
        }
        None => authority.split(':').next().unwrap_or_default(),
    };
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    if host.is_empty() {
        return None;
    }
    let is_ipv4 = host.split('.').count() == 4
        && host
            .split('.')
            .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()));
    if is_ipv4 {
        return Some(host);
    }
    let labels: Vec<&str> = host.split('.').collect();
    Some(labels[labels.len().saturating_sub(2)..].join("."))
}

/// Whether two URLs are on the same site ([`site`]); `None` when either has no host.
pub fn same_site(a: &str, b: &str) -> Option<bool> {
    Some(site(a)? == site(b)?)
}

/// Whether the silent probe showed that this browser keeps the provider's cookie out of the hidden
/// frame: the user is signed in, yet the provider answered as if nobody were (an interaction error
/// such as `login_required`).
pub fn cookie_withheld(signed_in: bool, probe: &SilentProbe) -> bool {
    signed_in
        && matches!(probe, SilentProbe::Refused { error, .. }
            if yew_oidc::core::renewal::INTERACTION_ERRORS.contains(&error.as_str()))
}

/// The cross-site check: amber when the provider is on another site than the app, red when
/// [`cookie_withheld`] says this browser already kept the provider's cookie from the frame. Every
/// engine tested keeps it out (Chromium and WebKit block third-party cookies, Firefox partitions
/// them: README, Browsers).
pub fn cross_site_check(app_origin: &str, issuer: &str, cookie_withheld: bool) -> CheckResult {
    let (Some(app), Some(provider)) = (site(app_origin), site(issuer)) else {
        return CheckResult::new(
            Level::Amber,
            format!("Cannot tell the sites of {app_origin} and {issuer} apart."),
            "Check `issuer` in config.json.",
        );
    };
    if app == provider {
        return CheckResult::green(format!(
            "The provider ({provider}) is on this app's site ({app}): its cookies reach the hidden \
             frame as first-party cookies."
        ));
    }
    let fix = format!(
        "Serve the provider from a custom domain on {app} (e.g. login.{app}), or use refresh \
         tokens where the provider supports them."
    );
    if cookie_withheld {
        return CheckResult::new(
            Level::Red,
            format!(
                "The provider ({provider}) is on another site than this app ({app}), and this \
                 browser keeps its cookies out of the hidden frame: the silent request came back \
                 with login_required although you are signed in. Silent renewal cannot work here: \
                 you will be asked to sign in again before each token expires."
            ),
            fix,
        );
    }
    CheckResult::new(
        Level::Amber,
        format!(
            "The provider ({provider}) is on another site than this app ({app}): browsers that \
             block or partition third-party cookies (Safari, Firefox, Brave, Chrome with them \
             blocked) answer login_required to silent renewal."
        ),
        fix,
    )
}

// ---------------------------------------------------------------------------------------------
// Renewal channel
// ---------------------------------------------------------------------------------------------

/// What the doctor knows about the session, for the renewal-channel check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Held {
    /// Not signed in: whether the provider issues refresh tokens is not known yet.
    Nothing,
    /// A session without a refresh token (none was issued, or it was refused and dropped).
    Session,
    /// A session holding a refresh token.
    RefreshToken,
}

/// The renewal-channel check: which channel renewal will take here (`renewal` in config.json, and
/// whether the session holds a refresh token), and whether that channel can work: the iframe needs the
/// provider's cookie in a frame, which a cross-site provider does not get in browsers that block or
/// partition third-party cookies (`withheld`: this browser already kept it out).
pub fn renewal_channel_check(
    config: &Config,
    app_origin: &str,
    held: Held,
    withheld: bool,
) -> CheckResult {
    let cross_site = same_site(app_origin, &config.issuer) == Some(false);
    let asks_offline = config
        .scope
        .split(' ')
        .any(|scope| scope == "offline_access");
    let get_refresh_tokens = if config.provider == ProviderKind::Auth0 {
        "Add offline_access to `scope` in config.json, and in the Auth0 dashboard turn on Allow Offline \
         Access on the API and Refresh Token Rotation on the application (docs/providers.md)."
    } else {
        "Add offline_access to `scope` in config.json, and let the provider issue rotating refresh \
         tokens to this public client (docs/providers.md, Renewal by refresh token)."
    };
    // Why the iframe may fail, by what this browser showed.
    let iframe_risk = match (cross_site, withheld) {
        (false, _) => None,
        (true, true) => Some(Level::Red),
        (true, false) => Some(Level::Amber),
    };
    match (config.renewal, held) {
        (RenewalMode::Iframe, _) => match iframe_risk {
            None => CheckResult::green(
                "Renewal uses the hidden iframe (`renewal`: iframe), and the provider is on this \
                 app's site: its cookie reaches the frame.",
            ),
            Some(level) => CheckResult::new(
                level,
                if level == Level::Red {
                    "Renewal uses the hidden iframe only (`renewal`: iframe), and this browser keeps \
                     the cross-site provider's cookie out of it: every renewal will answer \
                     login_required."
                } else {
                    "Renewal uses the hidden iframe only (`renewal`: iframe), and the provider is on \
                     another site: browsers that block third-party cookies will end the session at \
                     each expiry."
                },
                format!("Set `renewal` to \"auto\" and use refresh tokens: {get_refresh_tokens}"),
            ),
        },
        (_, Held::RefreshToken) => CheckResult::green(
            "Renewal uses the refresh token this session holds: no third-party cookie is needed, in \
             any browser.",
        ),
        (RenewalMode::RefreshToken, Held::Session) => CheckResult::new(
            Level::Red,
            "`renewal` is refresh_token, and this session holds none (the provider issued none, or \
             refused it): renewal stops, and the session ends at expiry.",
            get_refresh_tokens,
        ),
        (RenewalMode::Auto, Held::Session) => match iframe_risk {
            None => CheckResult::new(
                Level::Green,
                "Renewal uses the hidden iframe: this session holds no refresh token, and the provider \
                 is on this app's site, so its cookie reaches the frame.",
                format!("Nothing to do. For browsers on other setups, refresh tokens need no cookie: {get_refresh_tokens}"),
            ),
            Some(level) => CheckResult::new(
                level,
                if level == Level::Red {
                    "Renewal falls back to the hidden iframe (this session holds no refresh token), and \
                     this browser keeps the cross-site provider's cookie out of it: the session will \
                     end at each expiry."
                } else {
                    "Renewal falls back to the hidden iframe (this session holds no refresh token), and \
                     the provider is on another site: browsers that block third-party cookies will end \
                     the session at each expiry."
                },
                get_refresh_tokens,
            ),
        },
        (mode, Held::Nothing) => {
            let wants = if mode == RenewalMode::RefreshToken {
                "refresh tokens only"
            } else {
                "the refresh token when one is issued, else the hidden iframe"
            };
            if asks_offline {
                CheckResult::new(
                    Level::Amber,
                    format!(
                        "Renewal will use {wants}; whether the provider issues refresh tokens shows \
                         only after a sign-in."
                    ),
                    "Sign in, then run the doctor again.",
                )
            } else {
                let level = match (mode, iframe_risk) {
                    (RenewalMode::RefreshToken, _) => Level::Red,
                    (_, Some(level)) => level,
                    (_, None) => Level::Green,
                };
                let cause = match mode {
                    RenewalMode::RefreshToken => "`renewal` is refresh_token, but the app does not ask \
                        for offline_access: most providers then issue no refresh token, and the \
                        session will end at expiry."
                        .to_owned(),
                    _ => format!(
                        "Renewal will use the hidden iframe: the app does not ask for offline_access, \
                         so most providers issue no refresh token{}.",
                        if iframe_risk.is_some() {
                            ", and the provider is on another site (third-party cookies)"
                        } else {
                            ""
                        }
                    ),
                };
                let fix = if level == Level::Green {
                    "Nothing to do.".to_owned()
                } else {
                    get_refresh_tokens.to_owned()
                };
                CheckResult::new(level, cause, fix)
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// DPoP
// ---------------------------------------------------------------------------------------------

/// The DPoP check: whether tokens are bound to a key of this browser (`dpop` in config.json and the
/// provider's `dpop_signing_alg_values_supported`), and whether the session's are (`session`: its
/// token type, when signed in). Bound tokens copied out of the page are refused without the key;
/// bearer tokens work for whoever holds them.
pub fn dpop_check(
    config: &Config,
    metadata: &ProviderMetadata,
    session: Option<TokenType>,
) -> CheckResult {
    let offered = metadata
        .dpop_signing_alg_values_supported
        .iter()
        .any(|alg| alg == "ES256");
    let bearer_risk = "a token copied out of the page (a script, an extension) works anywhere \
                       until it expires";
    let algs = &metadata.dpop_signing_alg_values_supported;
    match dpop_in_use(config.dpop, config.flow, algs, yew_oidc::DPOP_BUILT) {
        Err(error @ DpopError::ProviderLacksEs256(_)) => CheckResult::new(
            Level::Red,
            format!("`dpop` is on, and sign-in will fail: {error}."),
            "Enable ES256 DPoP proofs at the provider, or set `dpop` to \"auto\" in config.json.",
        ),
        Err(error) => CheckResult::new(
            Level::Red,
            format!("DPoP cannot be used: {error}."),
            "Set `dpop` to \"auto\" in config.json.",
        ),
        Ok(true) => match session {
            Some(TokenType::Bearer) => CheckResult::new(
                Level::Amber,
                format!(
                    "DPoP is in use for new tokens, but this session's are bearer tokens (from \
                     before DPoP was on): {bearer_risk}."
                ),
                "Sign out and sign in again: the new tokens are bound to this browser's key.",
            ),
            Some(TokenType::DPoP) => CheckResult::green(
                "DPoP is in use: this session's tokens are bound to a key of this browser (ES256, \
                 not extractable), and a copy of them is refused without it.",
            ),
            None => CheckResult::green(
                "DPoP is in use: the tokens of a sign-in will be bound to a key of this browser \
                 (ES256, not extractable).",
            ),
        },
        Ok(false) if config.flow == Flow::Implicit => CheckResult::new(
            Level::Amber,
            format!("Bearer tokens: the implicit flow's tokens come through the URL and cannot be bound to a key, and {bearer_risk}."),
            "Set `flow` to \"code\" in config.json.",
        ),
        Ok(false) if config.dpop == DpopMode::Off && offered => CheckResult::new(
            Level::Amber,
            format!("DPoP is off (`dpop`: \"off\") although the provider offers it: {bearer_risk}."),
            "Set `dpop` to \"auto\" in config.json.",
        ),
        Ok(false) if config.dpop == DpopMode::Off => CheckResult::new(
            Level::Amber,
            format!("DPoP is off (`dpop`: \"off\"), and the provider does not offer it: {bearer_risk}."),
            "Enable DPoP (ES256) at the provider, then set `dpop` to \"auto\" in config.json.",
        ),
        Ok(false) => CheckResult::new(
            Level::Amber,
            format!(
                "Bearer tokens: the provider's discovery lists no ES256 DPoP proofs \
                 (dpop_signing_alg_values_supported), so {bearer_risk}."
            ),
            "Enable DPoP with ES256 at the provider: `dpop` \"auto\" then binds the tokens to this \
             browser.",
        ),
    }
}

// ---------------------------------------------------------------------------------------------
// Sign-out
// ---------------------------------------------------------------------------------------------

/// The sign-out check: whether "Log out" can end the provider session (an `end_session_endpoint`, or
/// for Auth0 without one, `/v2/logout`), and how the app will go there. `post_logout_uri` is
/// `<origin><post_logout_redirect_path>`. That the provider accepts it there cannot be checked
/// without signing out, so the fix says where to register it.
pub fn logout_check(
    config: &Config,
    metadata: &ProviderMetadata,
    post_logout_uri: &str,
) -> CheckResult {
    let register = |place: &str| {
        format!(
            "Make sure {post_logout_uri} is {place} (the doctor cannot check it without signing \
             you out)."
        )
    };
    match (config.provider, &metadata.end_session_endpoint) {
        (ProviderKind::Auth0, None) => CheckResult::new(
            Level::Green,
            format!(
                "\"Log out\" goes to Auth0's {}/v2/logout by a redirect (GET) with client_id and \
                 returnTo {post_logout_uri}: the tenant's discovery states no end_session_endpoint \
                 (/oidc/logout), so there is no id_token_hint and no state to check.",
                config.issuer.trim_end_matches('/')
            ),
            format!(
                "{} For the standard logout, turn on RP-Initiated Logout End Session Endpoint \
                 Discovery (Settings → Advanced → Login and Logout).",
                register("in Allowed Logout URLs (Applications → your application → Settings)")
            ),
        ),
        (ProviderKind::Auth0, Some(endpoint)) => CheckResult::new(
            Level::Green,
            format!(
                "\"Log out\" goes to {endpoint} (Auth0's RP-initiated logout) by a redirect (GET) \
                 with id_token_hint, client_id, state and post_logout_redirect_uri \
                 {post_logout_uri}."
            ),
            register("in Allowed Logout URLs (Applications → your application → Settings)"),
        ),
        (ProviderKind::Generic, None) => CheckResult::new(
            Level::Amber,
            "The provider states no end_session_endpoint: \"Log out\" ends this app's session \
             only, and the provider's stays open, so the next \"Log in\" may not ask for a \
             password (the app says so after signing out).",
            "Enable RP-initiated logout at the provider if it has it (Auth0: RP-Initiated Logout \
             End Session Endpoint Discovery in Tenant Settings → Advanced, or \"provider\": \
             \"auth0\"); otherwise users end the provider session on the provider's own site.",
        ),
        (ProviderKind::Generic, Some(endpoint)) => match config.logout_method {
            LogoutMethod::Get => CheckResult::new(
                Level::Green,
                format!(
                    "\"Log out\" goes to {endpoint} by a redirect (GET) with id_token_hint, \
                     client_id, state and post_logout_redirect_uri {post_logout_uri}: every \
                     provider that implements RP-initiated logout takes it."
                ),
                register(&format!(
                    "a post-logout redirect URI of client \"{}\"",
                    config.client_id
                )),
            ),
            LogoutMethod::Post => CheckResult::new(
                Level::Green,
                format!(
                    "\"Log out\" posts a form to {endpoint} (\"logout_method\": \"post\") with \
                     id_token_hint, client_id, state and post_logout_redirect_uri \
                     {post_logout_uri}: the id_token stays out of URLs, but not every provider \
                     takes POST there."
                ),
                format!(
                    "{} If sign-out leaves you on a provider error page (404, 405, 403 CSRF), the \
                     provider does not take POST there: remove `logout_method` from config.json \
                     (GET is the default).",
                    register(&format!(
                        "a post-logout redirect URI of client \"{}\"",
                        config.client_id
                    ))
                ),
            ),
        },
    }
}

// ---------------------------------------------------------------------------------------------
// Clock skew
// ---------------------------------------------------------------------------------------------

/// The local clock minus the provider's, in milliseconds, estimated from one id_token: `iat`
/// (the provider's clock, whole seconds) against the local time the token was received
/// (`received_at_ms`). Positive: the local clock is ahead.
///
/// `iat` truncates the issue time to its second, so the provider's true time lies in
/// `[iat, iat + 1 s)`: its middle is taken. Transfer time is not subtracted (tens of ms); the
/// estimate is good to about half a second, plenty against thresholds of 30 and 60 s.
pub fn skew_estimate_ms(received_at_ms: u64, iat_secs: i64) -> i64 {
    let received = i64::try_from(received_at_ms).unwrap_or(i64::MAX);
    received.saturating_sub(iat_secs.saturating_mul(1000).saturating_add(500))
}

/// The clock check: from the skew estimate of the last id_token, or `None` when signed out.
pub fn clock_skew_check(skew_ms: Option<i64>) -> CheckResult {
    let Some(skew) = skew_ms else {
        return CheckResult::new(
            Level::Amber,
            "Unknown: there is no id_token to compare the clocks with.",
            "Sign in, then run the doctor again.",
        );
    };
    let secs = (skew.unsigned_abs() + 500) / 1000;
    let compared = match (secs, skew >= 0) {
        (0, _) => "agrees with the provider's to within a second".to_owned(),
        (_, true) => format!("is about {secs} s ahead of the provider's"),
        (_, false) => format!("is about {secs} s behind the provider's"),
    };
    let described = format!(
        "This device's clock {compared} (from the last id_token's iat against the local time it \
         arrived)."
    );
    let tolerance = SKEW_RED_MS / 1000;
    if skew.abs() > SKEW_RED_MS {
        CheckResult::new(
            Level::Red,
            format!("{described} That is beyond the {tolerance} s tolerance of the token checks."),
            "Set this device's date and time automatically (network time), then sign in again.",
        )
    } else if skew.abs() > SKEW_AMBER_MS {
        CheckResult::new(
            Level::Amber,
            format!(
                "{described} Tokens still pass (tolerance {tolerance} s) and renewal is on time, \
                 but other sites and cookies may misbehave."
            ),
            "Set this device's date and time automatically (network time).",
        )
    } else {
        CheckResult::green(described)
    }
}

/// The origin (`scheme://host:port`) of an absolute URL.
pub fn origin_of(url: &str) -> &str {
    let Some(scheme_end) = url.find("://") else {
        return url;
    };
    let after = scheme_end + 3;
    let end = url[after..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |at| after + at);
    &url[..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use yew_oidc::core::jwks::{Jwk, JwksError};

    fn config(extra: &str) -> Config {
        Config::from_json(&format!(
            r#"{{"issuer": "https://login.example.com", "client_id": "spa"{extra}}}"#
        ))
        .unwrap()
    }

    fn check(result: CheckResult, level: Level, cause: &str, fix: &str) {
        assert_eq!(result.level, level, "{result:?}");
        assert!(result.cause.contains(cause), "cause: {result:?}");
        assert!(result.fix.contains(fix), "fix: {result:?}");
    }

    #[test]
    fn skew_is_the_local_clock_minus_the_middle_of_the_iat_second() {
        // Received 0.5 s into the second the provider stamped: clocks agree.
        assert_eq!(skew_estimate_ms(1_700_000_000_500, 1_700_000_000), 0);
        // The local clock is 45 s ahead.
        assert_eq!(skew_estimate_ms(1_700_000_045_500, 1_700_000_000), 45_000);
        // The local clock is 2 min behind.
        assert_eq!(skew_estimate_ms(1_699_999_880_500, 1_700_000_000), -120_000);
        // Absurd inputs saturate instead of panicking.
        assert_eq!(skew_estimate_ms(0, i64::MAX), i64::MIN + 1);
        assert!(skew_estimate_ms(u64::MAX, 0) > 0);
    }

    #[test]
    fn skew_levels_are_green_to_30_s_amber_to_the_tolerance_red_beyond() {
        let level = |skew| clock_skew_check(Some(skew)).level;
        assert_eq!(level(0), Level::Green);
        assert_eq!(level(30_000), Level::Green);
        assert_eq!(level(-30_000), Level::Green);
        assert_eq!(level(30_001), Level::Amber);
        assert_eq!(level(-45_000), Level::Amber);
        assert_eq!(level(SKEW_RED_MS), Level::Amber);
        assert_eq!(level(SKEW_RED_MS + 1), Level::Red);
        assert_eq!(level(-3_600_000), Level::Red);
        check(
            clock_skew_check(Some(45_200)),
            Level::Amber,
            "about 45 s ahead of",
            "automatically",
        );
        check(
            clock_skew_check(Some(-90_000)),
            Level::Amber,
            "about 90 s behind the provider's",
            "automatically",
        );
        check(
            clock_skew_check(Some(-400_000)),
            Level::Red,
            "about 400 s behind the provider's",
            "sign in again",
        );
        check(
            clock_skew_check(Some(-400)),
            Level::Green,
            "agrees with the provider's to within a second",
            "Nothing",
        );
        check(clock_skew_check(None), Level::Amber, "Unknown", "Sign in");
    }

    #[test]
    fn sites_are_the_last_two_labels_or_the_whole_host() {
        let cases = [
            ("http://localhost:8080", Some("localhost")),
            ("https://login.example.com/", Some("example.com")),
            ("https://a.b.example.com:8443/x?y#z", Some("example.com")),
            ("https://EXAMPLE.com.", Some("example.com")),
            ("http://127.0.0.1:4000", Some("127.0.0.1")),
            ("http://[::1]:4000/", Some("::1")),
            ("https://user@id.example.org", Some("example.org")),
            ("https://", None),
        ];
        for (url, expected) in cases {
            assert_eq!(site(url).as_deref(), expected, "{url}");
        }
        assert_eq!(
            same_site("http://localhost:8080", "http://localhost:4000"),
            Some(true)
        );
        assert_eq!(
            same_site("https://app.example.com", "https://login.example.com/"),
            Some(true)
        );
        assert_eq!(
            same_site("https://app.example.com", "https://tenant.eu.auth0.com/"),
            Some(false)
        );
        assert_eq!(
            same_site("http://localhost:8080", "http://127.0.0.1:4000"),
            Some(false)
        );
    }

    #[test]
    fn a_cross_site_provider_is_amber_with_both_fixes() {
        check(
            cross_site_check("http://localhost:8080", "http://localhost:4000", false),
            Level::Green,
            "on this app's site",
            "Nothing",
        );
        let result = cross_site_check(
            "https://app.example.com",
            "https://tenant.eu.auth0.com/",
            false,
        );
        check(
            result.clone(),
            Level::Amber,
            "Safari, Firefox, Brave, Chrome",
            "custom domain on example.com",
        );
        assert!(result.cause.contains("login_required"), "{result:?}");
        assert!(result.fix.contains("refresh tokens"), "{result:?}");
    }

    #[test]
    fn a_cross_site_provider_whose_cookie_this_browser_withheld_is_red() {
        let refused = |error: &str| SilentProbe::Refused {
            error: error.to_owned(),
            description: None,
        };
        assert!(cookie_withheld(true, &refused("login_required")));
        assert!(cookie_withheld(true, &refused("interaction_required")));
        // Signed out, the provider rightly wants a sign-in; other refusals are not about cookies.
        assert!(!cookie_withheld(false, &refused("login_required")));
        assert!(!cookie_withheld(true, &refused("invalid_scope")));
        assert!(!cookie_withheld(true, &SilentProbe::Granted));

        let result = cross_site_check(
            "https://app.example.com",
            "https://tenant.eu.auth0.com/",
            true,
        );
        check(
            result.clone(),
            Level::Red,
            "this browser keeps its cookies out of the hidden frame",
            "custom domain on example.com",
        );
        assert!(
            result.cause.contains("although you are signed in"),
            "{result:?}"
        );
        // Same site: a withheld cookie is not the site's doing (the provider session ended).
        check(
            cross_site_check("http://localhost:8080", "http://localhost:4000", true),
            Level::Green,
            "on this app's site",
            "Nothing",
        );
    }

    #[test]
    fn config_errors_name_the_field() {
        let error = Config::from_json(r#"{"issuer": "ftp://x", "client_id": "a"}"#).unwrap_err();
        check(
            config_check(Err(&ConfigLoadError::Invalid(error))),
            Level::Red,
            "`issuer` must be an https URL",
            "Set `issuer` in config.json",
        );
        let error = Config::from_json(r#"{"issuer": "https://x.example"}"#).unwrap_err();
        check(
            config_check(Err(&ConfigLoadError::Invalid(error))),
            Level::Red,
            "missing field `client_id`",
            "Configuration section",
        );
        let missing = ConfigLoadError::Status(404);
        check(
            config_check(Err(&missing)),
            Level::Red,
            "config.json could not be fetched: HTTP 404",
            "next to index.html",
        );
        check(
            config_check(Ok(&AppConfig {
                auth: config(""),
                api_url: None,
            })),
            Level::Green,
            "issuer https://login.example.com, client spa, code + PKCE flow",
            "Nothing",
        );
    }

    #[test]
    fn the_load_error_reads_as_the_config_error_page_always_did() {
        assert_eq!(
            ConfigLoadError::Status(500).to_string(),
            "config.json could not be fetched: HTTP 500"
        );
        assert_eq!(
            ConfigLoadError::Unreachable("offline".into()).to_string(),
            "config.json could not be fetched: offline"
        );
    }

    fn metadata(algs: &[&str], end_session: bool) -> ProviderMetadata {
        ProviderMetadata {
            issuer: "https://login.example.com".into(),
            authorization_endpoint: "https://login.example.com/auth".into(),
            token_endpoint: Some("https://login.example.com/token".into()),
            userinfo_endpoint: None,
            jwks_uri: "https://login.example.com/jwks".into(),
            end_session_endpoint: end_session.then(|| "https://login.example.com/end".into()),
            revocation_endpoint: None,
            id_token_signing_alg_values_supported: algs.iter().map(|a| a.to_string()).collect(),
            response_types_supported: vec!["code".into()],
            code_challenge_methods_supported: vec!["S256".into()],
            authorization_response_iss_parameter_supported: true,
            dpop_signing_alg_values_supported: vec![],
        }
    }

    #[test]
    fn discovery_verdicts() {
        let url = "https://login.example.com/.well-known/openid-configuration";
        let generic = ProviderKind::Generic;
        check(
            discovery_check(url, &Ok(metadata(&["RS256", "PS256"], true)), generic),
            Level::Green,
            "id_tokens signed with RS256",
            "Nothing",
        );
        // Sign-out is the logout check's: discovery without end_session_endpoint is fine.
        for provider in [generic, ProviderKind::Auth0] {
            let result = discovery_check(url, &Ok(metadata(&["RS256"], false)), provider);
            assert_eq!(result.level, Level::Green, "{provider:?}");
        }
        let mismatch = ProbeError::Discovery(DiscoveryError::IssuerMismatch {
            configured: "https://login.example.com".into(),
            discovered: "https://login.example.com/".into(),
        });
        check(
            discovery_check(url, &Err(mismatch.clone()), generic),
            Level::Red,
            "issuer is \"https://login.example.com/\" but config.json says",
            "Set `issuer` in config.json to \"https://login.example.com/\" exactly",
        );
        check(
            discovery_check(url, &Err(mismatch), ProviderKind::Auth0),
            Level::Red,
            "",
            "Auth0's issuer ends with a slash",
        );
        let unreachable = ProbeError::Unreachable {
            url: url.into(),
            why: "Failed to fetch".into(),
        };
        check(
            discovery_check(url, &Err(unreachable), generic),
            Level::Red,
            "could not be fetched (Failed to fetch)",
            "Check `issuer`",
        );
        let missing = ProbeError::Status {
            url: url.into(),
            status: 404,
        };
        check(
            discovery_check(url, &Err(missing), generic),
            Level::Red,
            "answered HTTP 404",
            "Check `issuer`",
        );
        let html = ProbeError::Discovery(DiscoveryError::NotJson);
        check(
            discovery_check(url, &Err(html), generic),
            Level::Red,
            "is not an OpenID discovery document",
            "Set `issuer`",
        );
        let algs = ProbeError::Discovery(DiscoveryError::NoSupportedAlg(vec!["HS256".into()]));
        check(
            discovery_check(url, &Err(algs), generic),
            Level::Red,
            "HS256",
            "RS256 or ES256",
        );
    }

    fn rsa() -> Jwk {
        Jwk {
            kty: "RSA".into(),
            kid: Some("r1".into()),
            key_use: Some("sig".into()),
            alg: None,
            n: Some("AQAB".into()),
            e: Some("AQAB".into()),
            crv: None,
            x: None,
            y: None,
        }
    }

    fn ec() -> Jwk {
        Jwk {
            kty: "EC".into(),
            kid: Some("e1".into()),
            key_use: None,
            alg: Some("ES256".into()),
            n: None,
            e: None,
            crv: Some("P-256".into()),
            x: Some("xx".into()),
            y: Some("yy".into()),
        }
    }

    #[test]
    fn jwks_verdicts() {
        let url = "https://login.example.com/jwks";
        let both = Ok(Jwks {
            keys: vec![rsa(), rsa(), ec()],
        });
        let only_ec = Ok(Jwks { keys: vec![ec()] });
        let algs = |names: &[&str]| names.iter().map(|a| a.to_string()).collect::<Vec<_>>();
        // Several RSA keys: still usable (select_key alone would refuse to guess without kid).
        check(
            jwks_check(url, &algs(&["RS256", "ES256"]), None, &both),
            Level::Green,
            "keys for RS256 and ES256",
            "Nothing",
        );
        check(
            jwks_check(url, &algs(&["RS256"]), Some(Alg::Rs256), &both),
            Level::Green,
            "a key for RS256, the algorithm of your id_token",
            "Nothing",
        );
        check(
            jwks_check(url, &algs(&["RS256"]), Some(Alg::Rs256), &only_ec),
            Level::Red,
            "signed with RS256 but the key set",
            "jwks_uri",
        );
        check(
            jwks_check(url, &algs(&["RS256", "ES256"]), None, &only_ec),
            Level::Amber,
            "has ES256 keys but none for RS256",
            "to ES256 at the provider",
        );
        check(
            jwks_check(url, &algs(&["RS256"]), None, &only_ec),
            Level::Red,
            "signs id_tokens with RS256 but the key set",
            "jwks_uri",
        );
        // The key the id_token names wins over what discovery lists.
        check(
            jwks_check(url, &algs(&["RS256", "ES256"]), Some(Alg::Es256), &only_ec),
            Level::Green,
            "a key for ES256",
            "Nothing",
        );
        let unreachable = Err(ProbeError::Unreachable {
            url: url.into(),
            why: "Failed to fetch".into(),
        });
        check(
            jwks_check(url, &algs(&["RS256"]), None, &unreachable),
            Level::Red,
            "could not be fetched",
            "CORS",
        );
        let empty = Err(ProbeError::Jwks(JwksError::NoUsableKeys));
        check(
            jwks_check(url, &algs(&["RS256"]), None, &empty),
            Level::Red,
            "no RS256 or ES256 signing key",
            "jwks_uri",
        );
    }

    #[test]
    fn cors_verdicts() {
        let origin = "http://localhost:8080";
        let token = "http://localhost:4000/token";
        let discovery = "http://localhost:4000";
        let generic = config("");
        let auth0 = config(r#", "provider": "auth0""#);
        let answered = |status, error: &str| TokenProbe::Answered {
            status,
            error: Some(error.to_owned()),
        };
        check(
            cors_check(
                origin,
                token,
                &generic,
                discovery,
                &answered(400, "invalid_grant"),
            ),
            Level::Green,
            "HTTP 400 invalid_grant",
            "Nothing",
        );
        check(
            cors_check(
                origin,
                token,
                &generic,
                discovery,
                &answered(401, "invalid_client"),
            ),
            Level::Red,
            "does not know client \"spa\"",
            "Set `client_id` in config.json",
        );
        check(
            cors_check(
                origin,
                token,
                &auth0,
                discovery,
                &answered(401, "invalid_client"),
            ),
            Level::Red,
            "invalid_client",
            "Auth0 dashboard",
        );
        check(
            cors_check(
                origin,
                token,
                &generic,
                discovery,
                &answered(503, "server_error"),
            ),
            Level::Amber,
            "HTTP 503",
            "again later",
        );
        let refused = TokenProbe::Refused("TypeError: Failed to fetch".into());
        check(
            cors_check(origin, token, &generic, discovery, &refused),
            Level::Red,
            "while discovery on the same server answered: CORS does not allow http://localhost:8080",
            "Allow the origin http://localhost:8080 for CORS",
        );
        check(
            cors_check(origin, token, &auth0, "https://elsewhere", &refused),
            Level::Red,
            "or that server is unreachable",
            "Allowed Origins (CORS)",
        );
    }

    #[test]
    fn silent_verdicts() {
        let url = "http://localhost:8080/silent/";
        let generic = config("");
        let auth0 = config(r#", "provider": "auth0""#);
        check(
            silent_check(url, &generic, false, &SilentProbe::Granted),
            Level::Green,
            "came back to http://localhost:8080/silent/ with a code",
            "Nothing",
        );
        let login_required = SilentProbe::Refused {
            error: "login_required".into(),
            description: None,
        };
        check(
            silent_check(url, &generic, false, &login_required),
            Level::Green,
            "with login_required: the URL is registered",
            "Nothing",
        );
        let invalid_target = SilentProbe::Refused {
            error: "invalid_target".into(),
            description: Some("unknown audience".into()),
        };
        check(
            silent_check(url, &generic, false, &invalid_target),
            Level::Red,
            "invalid_target (unknown audience)",
            "`audience`",
        );
        let page = SilentProbe::ProviderPage {
            authorize_url: "https://login.example.com/auth?prompt=none".into(),
        };
        let shown = silent_check(url, &generic, false, &page);
        check(
            shown.clone(),
            Level::Red,
            "not registered",
            "Register http://localhost:8080/silent/ as a redirect URI of client \"spa\"",
        );
        // It cannot see the page: every cause, and how to tell them apart, not one guess.
        for cause in [
            "cannot read it",
            "not registered as a redirect URI",
            "refuses to be framed",
            "failed, or does not support prompt=none",
        ] {
            assert!(shown.cause.contains(cause), "{cause}: {shown:?}");
        }
        for how in [
            "provider's log",
            "new tab (top-level",
            "arriving at http://localhost:8080/silent/ means it is, and the provider refuses framing",
            "does not support prompt=none",
            "The request: https://login.example.com/auth?prompt=none",
        ] {
            assert!(shown.fix.contains(how), "{how}: {shown:?}");
        }
        check(
            silent_check(url, &auth0, false, &page),
            Level::Red,
            "not registered",
            "Add http://localhost:8080/silent/ to Allowed Callback URLs",
        );
        check(
            silent_check(url, &generic, true, &page),
            Level::Red,
            "client \"spa\" is unknown",
            "Set `client_id`",
        );
        check(
            silent_check(url, &generic, false, &SilentProbe::Timeout { secs: 10 }),
            Level::Amber,
            "within 10 s",
            "again",
        );
        check(
            silent_check(
                url,
                &generic,
                false,
                &SilentProbe::Unparsable("no_response".into()),
            ),
            Level::Amber,
            "(no_response)",
            "fragment",
        );
    }

    #[test]
    fn logout_verdicts() {
        let home = "http://localhost:8080/";
        let with_endpoint = metadata(&["RS256"], true);
        let without = metadata(&["RS256"], false);
        check(
            logout_check(&config(""), &with_endpoint, home),
            Level::Green,
            "goes to https://login.example.com/end by a redirect (GET) with id_token_hint, \
             client_id, state and post_logout_redirect_uri http://localhost:8080/",
            "http://localhost:8080/ is a post-logout redirect URI of client \"spa\"",
        );
        check(
            logout_check(
                &config(r#", "logout_method": "post""#),
                &with_endpoint,
                home,
            ),
            Level::Green,
            "posts a form to https://login.example.com/end",
            "remove `logout_method`",
        );
        let local_only = logout_check(&config(""), &without, home);
        check(
            local_only.clone(),
            Level::Amber,
            "no end_session_endpoint",
            "Enable RP-initiated logout",
        );
        assert!(local_only.cause.contains("stays open"), "{local_only:?}");
        // Auth0: /v2/logout, with or without its OIDC endpoint stated.
        let auth0 = config(r#", "provider": "auth0""#);
        check(
            logout_check(&auth0, &without, home),
            Level::Green,
            "Auth0's https://login.example.com/v2/logout by a redirect (GET)",
            "Allowed Logout URLs",
        );
        check(
            logout_check(&auth0, &with_endpoint, home),
            Level::Green,
            "goes to https://login.example.com/end (Auth0's RP-initiated logout) by a redirect (GET) \
             with id_token_hint",
            "Allowed Logout URLs",
        );
        check(
            logout_check(&auth0, &without, home),
            Level::Green,
            "no id_token_hint and no state",
            "End Session Endpoint Discovery",
        );
    }

    #[test]
    fn skipped_checks_point_at_the_failed_one() {
        check(
            CheckResult::skipped(Check::Discovery),
            Level::Amber,
            "provider discovery check failed",
            "Fix the provider discovery check first",
        );
    }

    #[test]
    fn check_ids_are_unique_and_in_order() {
        let ids: Vec<&str> = Check::ALL.iter().map(|check| check.id()).collect();
        assert_eq!(
            ids,
            [
                "config",
                "discovery",
                "jwks",
                "cors",
                "silent-callback",
                "cross-site",
                "renewal-channel",
                "dpop",
                "logout",
                "clock-skew"
            ]
        );
    }

    #[test]
    fn dpop_verdicts() {
        let with_dpop = |algs: &[&str]| ProviderMetadata {
            dpop_signing_alg_values_supported: algs.iter().map(|a| a.to_string()).collect(),
            ..metadata(&["RS256"], true)
        };
        let base = config("");
        let on = config(r#","dpop":"on""#);
        let off = config(r#","dpop":"off""#);
        let implicit = config(r#","flow":"implicit""#);
        /// The configuration, the provider, the session's token type; the verdict.
        type Row<'a> = (
            &'a Config,
            ProviderMetadata,
            Option<TokenType>,
            Level,
            &'a str,
            &'a str,
        );
        let table: Vec<Row> = vec![
            (
                &base,
                with_dpop(&["ES256"]),
                Some(TokenType::DPoP),
                Level::Green,
                "this session's tokens are bound",
                "Nothing to do",
            ),
            (
                &base,
                with_dpop(&["ES256"]),
                None,
                Level::Green,
                "will be bound",
                "Nothing to do",
            ),
            (
                &base,
                with_dpop(&["ES256"]),
                Some(TokenType::Bearer),
                Level::Amber,
                "bearer tokens (from before",
                "Sign out and sign in again",
            ),
            (
                &base,
                with_dpop(&[]),
                None,
                Level::Amber,
                "lists no ES256 DPoP proofs",
                "Enable DPoP with ES256",
            ),
            (
                &base,
                with_dpop(&["EdDSA"]),
                None,
                Level::Amber,
                "lists no ES256",
                "Enable DPoP with ES256",
            ),
            (
                &on,
                with_dpop(&["EdDSA"]),
                None,
                Level::Red,
                "sign-in will fail",
                "Enable ES256",
            ),
            (
                &on,
                with_dpop(&[]),
                None,
                Level::Green,
                "will be bound",
                "Nothing to do",
            ),
            (
                &off,
                with_dpop(&["ES256"]),
                None,
                Level::Amber,
                "although the provider offers it",
                "Set `dpop` to \"auto\"",
            ),
            (
                &off,
                with_dpop(&[]),
                None,
                Level::Amber,
                "does not offer it",
                "Enable DPoP (ES256)",
            ),
            (
                &implicit,
                with_dpop(&["ES256"]),
                None,
                Level::Amber,
                "implicit flow",
                "Set `flow` to \"code\"",
            ),
        ];
        for (config, metadata, session, level, cause, fix) in table {
            check(dpop_check(config, &metadata, session), level, cause, fix);
        }
    }

    #[test]
    fn origins_of_urls() {
        assert_eq!(
            origin_of("http://localhost:4000/token"),
            "http://localhost:4000"
        );
        assert_eq!(origin_of("https://a.example?x"), "https://a.example");
        assert_eq!(origin_of("https://a.example"), "https://a.example");
        assert_eq!(origin_of("nonsense"), "nonsense");
    }

    #[test]
    fn the_renewal_channel_by_mode_session_and_site() {
        let here = "https://app.example.com";
        let cross = "https://app.other.example";
        let check_case = |renewal: &str,
                          scope: &str,
                          origin: &str,
                          held: Held,
                          withheld: bool,
                          level: Level,
                          cause: &str| {
            let config = config(&format!(r#", "renewal": "{renewal}", "scope": "{scope}""#));
            let result = renewal_channel_check(&config, origin, held, withheld);
            assert_eq!(
                result.level, level,
                "{renewal} {held:?} {origin}: {result:?}"
            );
            assert!(result.cause.contains(cause), "{result:?}");
        };
        let plain = "openid profile";
        let offline = "openid offline_access";
        // A refresh token held: green whatever the site.
        check_case(
            "auto",
            offline,
            cross,
            Held::RefreshToken,
            true,
            Level::Green,
            "refresh token this session holds",
        );
        // The iframe on the app's site: green; across sites: amber, red once the browser showed it.
        check_case(
            "iframe",
            plain,
            here,
            Held::Session,
            false,
            Level::Green,
            "hidden iframe",
        );
        check_case(
            "iframe",
            plain,
            cross,
            Held::Session,
            false,
            Level::Amber,
            "another site",
        );
        check_case(
            "iframe",
            plain,
            cross,
            Held::Session,
            true,
            Level::Red,
            "login_required",
        );
        check_case(
            "auto",
            plain,
            here,
            Held::Session,
            false,
            Level::Green,
            "holds no refresh token",
        );
        check_case(
            "auto",
            plain,
            cross,
            Held::Session,
            true,
            Level::Red,
            "falls back",
        );
        // Refresh tokens only, and none held: red.
        check_case(
            "refresh_token",
            offline,
            here,
            Held::Session,
            false,
            Level::Red,
            "holds none",
        );
        // Not signed in: known only after a sign-in when offline_access is asked for.
        check_case(
            "auto",
            offline,
            cross,
            Held::Nothing,
            false,
            Level::Amber,
            "after a sign-in",
        );
        check_case(
            "auto",
            plain,
            here,
            Held::Nothing,
            false,
            Level::Green,
            "hidden iframe",
        );
        check_case(
            "auto",
            plain,
            cross,
            Held::Nothing,
            false,
            Level::Amber,
            "another site",
        );
        check_case(
            "refresh_token",
            plain,
            here,
            Held::Nothing,
            false,
            Level::Red,
            "does not ask",
        );
        // The fix names Auth0's settings for Auth0.
        let auth0 = config(r#", "provider": "auth0", "renewal": "iframe""#);
        let result = renewal_channel_check(&auth0, cross, Held::Session, true);
        assert!(result.fix.contains("Allow Offline Access"), "{result:?}");
    }
}
