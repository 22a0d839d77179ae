// Fault injection for the end-to-end tests (TEST_HOOKS=1 only): the provider misbehaves on
// purpose, the way real providers and the networks in front of them do.
//
// A fault is a rule for one path (exact pathname, e.g. `/token`), applied to the next `count`
// requests (all of them while `count` is absent) until cleared:
//   - `status`:        answer with `status` (default 500) and a JSON `server_error` body;
//   - `html`:          answer with `status` (default 500) and an HTML error page, as a proxy or a
//                      crashed provider does (inside the renewal iframe: a page that is not ours);
//   - `delay`:         hold the request `delay_ms`, then let the provider answer it;
//   - `invalid_grant`: answer 400 `{"error":"invalid_grant"}` (a token endpoint refusing the code);
//   - `reset`:         destroy the connection without an answer;
//   - `use_dpop_nonce`: a DPoP nonce challenge with `nonce` (any text, hostile ones included) as the
//                      `DPoP-Nonce` header (none when `nonce` is absent): at the demo API (`/api/...`)
//                      401 with `WWW-Authenticate: DPoP error="use_dpop_nonce"`, elsewhere (`/token`)
//                      400 `{"error":"use_dpop_nonce"}` (RFC 9449 §9 and §8);
//   - `invalid_dpop_proof`: the same shapes with the error `invalid_dpop_proof`.
// Answers carry CORS headers for the allowed origins, as the provider's own errors do, so the
// browser reads them instead of reporting a CORS failure.
//
// Outages and clock skew are not rules: `down` closes the listening sockets (connection refused)
// for a while, and the clock skew is a process-wide offset set at startup (`installClockSkew`).

const KINDS = new Set(['status', 'html', 'delay', 'invalid_grant', 'reset', 'use_dpop_nonce', 'invalid_dpop_proof']);
const MAX_NONCE_LENGTH = 64 * 1024;
const MAX_DELAY_MS = 60_000;
const MAX_DOWN_MS = 60_000;
const MAX_SKEW_SECONDS = 24 * 60 * 60;

export class FaultError extends Error {}

function integerIn(rule, name, { min, max, fallback }) {
  const value = rule[name] ?? fallback;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new FaultError(`${name} must be an integer between ${min} and ${max}`);
  }
  return value;
}

/** Checks one rule from a test: a typo must fail loudly, not inject nothing. */
export function parseRule(rule) {
  if (typeof rule !== 'object' || rule === null || Array.isArray(rule)) {
    throw new FaultError('a fault is a JSON object');
  }
  const known = new Set(['path', 'kind', 'status', 'delay_ms', 'count', 'nonce']);
  const unknown = Object.keys(rule).filter((key) => !known.has(key));
  if (unknown.length) throw new FaultError(`unknown fault fields: ${unknown.join(', ')}`);
  if (typeof rule.path !== 'string' || !rule.path.startsWith('/')) {
    throw new FaultError('path must be a pathname starting with /');
  }
  if (!KINDS.has(rule.kind)) throw new FaultError(`kind must be one of ${[...KINDS].join(', ')}`);
  if (rule.nonce !== undefined) {
    // Sent as a header value as it is: Node refuses only what HTTP cannot carry at all.
    if (typeof rule.nonce !== 'string' || rule.nonce.length > MAX_NONCE_LENGTH || /[\r\n\0]/.test(rule.nonce)) {
      throw new FaultError(`nonce must be a string of at most ${MAX_NONCE_LENGTH} characters without CR, LF or NUL`);
    }
  }
  return {
    nonce: rule.nonce,
    path: rule.path,
    kind: rule.kind,
    status: integerIn(rule, 'status', { min: 400, max: 599, fallback: rule.kind === 'invalid_grant' ? 400 : 500 }),
    delayMs: integerIn(rule, 'delay_ms', { min: 0, max: MAX_DELAY_MS, fallback: 0 }),
    remaining: rule.count === undefined ? Infinity : integerIn(rule, 'count', { min: 1, max: 1_000_000 }),
  };
}

/** The active rules and what they did. */
export function createFaults() {
  let rules = [];
  let injected = {};

  return {
    set(list) {
      const parsed = (Array.isArray(list) ? list : [list]).map(parseRule);
      rules = rules.filter((rule) => !parsed.some((p) => p.path === rule.path)).concat(parsed);
    },
    clear() {
      rules = [];
    },
    /** The rule for this request, counted as injected; `undefined` when none applies. */
    take(req, url) {
      if (req.method === 'OPTIONS') return undefined; // preflights pass: the fault is the answer
      const rule = rules.find((r) => r.path === url.pathname && r.remaining > 0);
      if (!rule) return undefined;
      rule.remaining -= 1;
      const key = `${rule.kind} ${rule.path}`;
      injected[key] = (injected[key] ?? 0) + 1;
      return rule;
    },
    snapshot() {
      return {
        active: rules.filter((r) => r.remaining > 0).map((r) => ({
          path: r.path, kind: r.kind, remaining: Number.isFinite(r.remaining) ? r.remaining : null,
        })),
        injected: { ...injected },
      };
    },
    resetCounts() {
      injected = {};
    },
  };
}

/**
 * Applies `rule` to a request. Returns true when the fault answered (or dropped) it; false when
 * the request must still go to the provider (after a delay).
 */
export async function applyFault(rule, { req, res, corsHeaders, errorPage }) {
  switch (rule.kind) {
    case 'delay':
      await new Promise((resolve) => { setTimeout(resolve, rule.delayMs); });
      return false;
    case 'reset':
      req.socket.destroy();
      return true;
    case 'html':
      res.writeHead(rule.status, {
        'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store', ...corsHeaders,
      });
      res.end(errorPage);
      return true;
    case 'use_dpop_nonce':
    case 'invalid_dpop_proof': {
      const api = req.url.startsWith('/api/');
      const headers = {
        'Content-Type': 'application/json',
        'Cache-Control': 'no-store',
        ...corsHeaders,
        ...(corsHeaders['Access-Control-Allow-Origin'] && {
          'Access-Control-Expose-Headers': 'WWW-Authenticate, DPoP-Nonce',
        }),
        ...(rule.nonce !== undefined && { 'DPoP-Nonce': rule.nonce }),
        ...(api && {
          'WWW-Authenticate': `DPoP error="${rule.kind}", error_description="injected fault", algs="ES256"`,
        }),
      };
      res.writeHead(api ? 401 : 400, headers);
      res.end(JSON.stringify({ error: rule.kind, error_description: 'injected fault' }));
      return true;
    }
    case 'invalid_grant':
      res.writeHead(rule.status, {
        'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...corsHeaders,
      });
      res.end(JSON.stringify({ error: 'invalid_grant', error_description: 'injected fault: grant request is invalid' }));
      return true;
    default: // status
      res.writeHead(rule.status, {
        'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...corsHeaders,
      });
      res.end(JSON.stringify({ error: 'server_error', error_description: 'injected fault' }));
      return true;
  }
}

/** The outage length for `POST /__test/down`. */
export function parseDown(body) {
  return integerIn(body ?? {}, 'ms', { min: 1, max: MAX_DOWN_MS });
}

/**
 * Shifts this process's clock by `seconds` (CLOCK_SKEW, may be negative): `Date.now()` and
 * `new Date()` both move, so the provider's `iat`/`exp` and everything else it dates are skewed,
 * exactly as if its host's clock were off. The browser's clock is then, relatively, the other way.
 */
export function installClockSkew(seconds) {
  if (!Number.isInteger(seconds) || Math.abs(seconds) > MAX_SKEW_SECONDS) {
    throw new FaultError(`CLOCK_SKEW must be an integer number of seconds within ±${MAX_SKEW_SECONDS}`);
  }
  if (seconds === 0) return;
  const RealDate = Date;
  const offsetMs = seconds * 1000;
  class SkewedDate extends RealDate {
    constructor(...args) {
      if (args.length === 0) super(RealDate.now() + offsetMs);
      else super(...args);
    }

    static now() {
      return RealDate.now() + offsetMs;
    }
  }
  globalThis.Date = SkewedDate;
}
