//! String-level URL helpers shared by the URL builders and the discovery checks. The inputs are
//! absolute URLs from discovery or config; a URL parser would add weight to the wasm bundle for
//! checks this small.

/// Appends an already-encoded query to `endpoint`, with `?` or `&` as the endpoint's own query
/// requires. A fragment (RFC 6749 §3.1 forbids one in an endpoint) is dropped: the parameters must
/// reach the server, and a fragment never does.
pub(crate) fn append_query(endpoint: &str, query: &str) -> String {
    let base = endpoint.split_once('#').map_or(endpoint, |(base, _)| base);
    let separator = match base.split_once('?') {
        None => "?",
        Some((_, existing)) if existing.is_empty() || existing.ends_with('&') => "",
        Some(_) => "&",
    };
    format!("{base}{separator}{query}")
}

/// Why a URL cannot be used as a provider endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UrlProblem {
    /// Not an `http(s)` URL with a host, or it has a fragment, credentials, spaces or controls.
    NotAUrl,
    /// Plain `http` on a host other than loopback: tokens would cross the network in clear.
    InsecureHttp,
}

/// Checks an endpoint: `https`, or `http` on the loopback host (the local provider); a host, no
/// fragment, no credentials. The same rule `config.json`'s issuer follows.
pub(crate) fn check_endpoint(url: &str) -> Result<(), UrlProblem> {
    let (secure, rest) = if let Some(rest) = url.strip_prefix("https://") {
        (true, rest)
    } else if let Some(rest) = url.strip_prefix("http://") {
        (false, rest)
    } else {
        return Err(UrlProblem::NotAUrl);
    };
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    // The host, then what follows it in the authority: nothing, or a port.
    let (host, after) = match authority.strip_prefix('[') {
        Some(v6) => v6.split_once(']').ok_or(UrlProblem::NotAUrl)?,
        None => authority
            .find(':')
            .map_or((authority, ""), |at| authority.split_at(at)),
    };
    if host.is_empty()
        || !is_port(after)
        || url.contains(['#', ' ', '\\'])
        || url.chars().any(char::is_control)
        || authority.contains('@')
    {
        return Err(UrlProblem::NotAUrl);
    }
    if !secure && !is_loopback(host) {
        return Err(UrlProblem::InsecureHttp);
    }
    Ok(())
}

/// Whether `after`, what follows the host in an authority, is empty or `:` and a port (0 to 65535; an
/// empty port means the scheme's). Browsers refuse any other URL, so an endpoint with one can never
/// be reached: it is a configuration mistake to report, not a URL to try.
fn is_port(after: &str) -> bool {
    match after.strip_prefix(':') {
        None => after.is_empty(),
        Some(port) => {
            port.len() <= 5
                && port.bytes().all(|b| b.is_ascii_digit())
                && port.parse::<u32>().map_or(port.is_empty(), |n| n <= 65535)
        }
    }
}

fn is_loopback(host: &str) -> bool {
    matches!(host, "localhost" | "127.0.0.1" | "::1")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn append_query_picks_the_separator() {
        let check = |endpoint: &str, expected: &str| {
            assert_eq!(append_query(endpoint, "a=1"), expected, "{endpoint}");
        };
        check("https://id.example/auth", "https://id.example/auth?a=1");
        check(
            "https://id.example/auth?x=y",
            "https://id.example/auth?x=y&a=1",
        );
        check("https://id.example/auth?", "https://id.example/auth?a=1");
        check(
            "https://id.example/auth?x=y&",
            "https://id.example/auth?x=y&a=1",
        );
        check(
            "https://id.example/auth#frag",
            "https://id.example/auth?a=1",
        );
        check(
            "https://id.example/auth?x=y#f?g",
            "https://id.example/auth?x=y&a=1",
        );
    }

    #[test]
    fn endpoints_are_https_or_loopback_http() {
        let check = |url: &str, expected: Result<(), UrlProblem>| {
            assert_eq!(check_endpoint(url), expected, "{url}");
        };
        check("https://id.example.com/auth", Ok(()));
        check("http://localhost:4000/auth", Ok(()));
        check("http://127.0.0.1/auth", Ok(()));
        check("http://[::1]:4000/auth", Ok(()));
        check("http://id.example.com/auth", Err(UrlProblem::InsecureHttp));
        check(
            "http://localhost.evil.example/",
            Err(UrlProblem::InsecureHttp),
        );
        check("http://localhost@evil.example/", Err(UrlProblem::NotAUrl));
        check("ftp://id.example.com/", Err(UrlProblem::NotAUrl));
        check("https://", Err(UrlProblem::NotAUrl));
        check("https://id.example.com/a#b", Err(UrlProblem::NotAUrl));
        check("https://id.example.com/a b", Err(UrlProblem::NotAUrl));
        check("", Err(UrlProblem::NotAUrl));
        // Found writing the config fuzzer (tests/fuzz): authorities no browser accepts passed.
        check("https://[::1", Err(UrlProblem::NotAUrl));
        check("http://[::1]evil.example/", Err(UrlProblem::NotAUrl));
        check("https://id.example.com:notaport/", Err(UrlProblem::NotAUrl));
        check("https://id.example.com:99999/", Err(UrlProblem::NotAUrl));
        check("https://id.example.com:4:4/", Err(UrlProblem::NotAUrl));
        check("https://id.example.com:65535/", Ok(()));
        check("https://id.example.com:/", Ok(()));
        check("http://[::1]/", Ok(()));
    }
}
