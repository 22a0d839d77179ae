// Local OpenID provider for the demo (`tools/run`) and the end-to-end tests.
//
// One Node process serving, on loopback only:
//   - a real, certified OpenID provider (panva/oidc-provider) with one public
//     SPA client and one demo user, offline login/logout/error pages;
//   - a demo API, GET /api/ping, that accepts the provider's JWT access tokens;
//   - optional test hooks (TEST_HOOKS=1) to count requests, end sessions, inject faults
//     (faults.mjs), take the provider down for a while and rotate its signing keys.
//
// Environment variables and endpoints are described in README.md.
// stdout carries exactly one machine-readable line, `READY <issuer>`, plus the
// demo credentials for humans; every log line goes to stderr.

import { createServer } from 'node:http';
import { createHash, randomBytes } from 'node:crypto';

import Provider, { errors as oidcErrors } from 'oidc-provider';
import {
  calculateJwkThumbprint, createRemoteJWKSet, EmbeddedJWK, exportJWK, generateKeyPair, jwtVerify,
} from 'jose';

import {
  applyFault, createFaults, FaultError, installClockSkew, parseDown,
} from './faults.mjs';
import { createMemoryStore } from './memory-adapter.mjs';
import * as views from './views.mjs';

// oidc-provider prints its NOTICEs with console.info, i.e. to stdout. stdout is
// a contract with the tests (the READY line), so send those to stderr too.
console.info = (...args) => console.error(...args);

const DEMO_USER = {
  login: 'demo',
  password: 'demo',
  sub: 'demo-user-1',
  claims: {
    name: 'Demo User',
    given_name: 'Demo',
    family_name: 'User',
    preferred_username: 'demo',
    email: 'demo@example.com',
    email_verified: true,
  },
};

// The library's default endpoint paths, spelled out so the request counters
// below and the provider agree on them.
const ROUTES = {
  authorization: '/auth',
  token: '/token',
  userinfo: '/me',
  jwks: '/jwks',
  end_session: '/session/end',
  revocation: '/token/revocation',
};
const DISCOVERY_PATH = '/.well-known/openid-configuration';

// Marks the demo API's own JWKS fetches so they do not show up in the
// test-hook request counts (tests count what the app fetches).
const INTERNAL_FETCH_HEADER = 'x-local-provider-internal';

const API_SCOPE = 'read:ping';

// How RP-initiated logout by POST at the end_session endpoint is answered (END_SESSION_POST):
//   accept - oidc-provider 8.8.1 as configured: GET and POST (RP-Initiated Logout 1.0 §2 wants both);
//   refuse - oidc-provider 9's default: POST at the endpoint is not routed (v9 registers it only with
//            `enableHttpPostMethods`), so Koa answers its plain-text 404 "Not Found";
//   csrf   - Django (OAuth Toolkit's logout view): the cross-site POST fails the CSRF check, 403.
// 8.8.1 has no switch for this (it always routes POST), so `refuse` and `csrf` answer in front of it.
// GET is answered by the provider in every mode, as is POST /session/end/confirm (its own form).
const END_SESSION_POST_MODES = new Set(['accept', 'refuse', 'csrf']);
const SESSION_TTL = 24 * 60 * 60; // long, so silent renewals keep working
const LOOPBACK_HOSTNAMES = new Set(['localhost', '127.0.0.1', '[::1]']);

function log(message) {
  process.stderr.write(`[provider] ${message}\n`);
}

// ---------------------------------------------------------------------------
// Configuration from the environment
// ---------------------------------------------------------------------------

class ConfigError extends Error {}

/** An unset or empty variable means "use the default". */
function envOr(env, name, fallback) {
  const value = env[name];
  return value === undefined || value.trim() === '' ? fallback : value.trim();
}

function parseInteger(name, raw, { min, max }) {
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new ConfigError(`${name} must be an integer between ${min} and ${max}, got "${raw}"`);
  }
  return Number(raw);
}

/** "http://localhost:8080/" -> "http://localhost:8080"; rejects paths, queries, fragments. */
function parseOrigin(raw) {
  let url;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`APP_ORIGINS entry "${raw}" is not a URL`);
  }
  const bare = url.pathname === '/' && !url.search && !url.hash && !url.username && !url.password;
  if (!['http:', 'https:'].includes(url.protocol) || !bare) {
    throw new ConfigError(`APP_ORIGINS entry "${raw}" must be a bare origin like http://localhost:8080`);
  }
  return url.origin;
}

/** A signed whole number of seconds: the provider's clock offset (CLOCK_SKEW). */
function parseSkew(raw) {
  if (!/^[-+]?\d+$/.test(raw) || Math.abs(Number(raw)) > 24 * 60 * 60) {
    throw new ConfigError(`CLOCK_SKEW must be whole seconds within ±86400, got "${raw}"`);
  }
  return Number(raw);
}

function parseAudience(raw) {
  // The audience doubles as the RFC 8707 resource indicator: an absolute URI
  // without a fragment (e.g. urn:... or https://...).
  try {
    if (!new URL(raw).href.includes('#')) return raw;
  } catch { /* fall through */ }
  throw new ConfigError(`AUDIENCE must be an absolute URI without a fragment, got "${raw}"`);
}

function readConfig(env) {
  const idTokenAlg = envOr(env, 'ID_TOKEN_ALG', 'RS256');
  if (!['RS256', 'ES256'].includes(idTokenAlg)) {
    throw new ConfigError(`ID_TOKEN_ALG must be RS256 or ES256, got "${idTokenAlg}"`);
  }
  const origins = envOr(env, 'APP_ORIGINS', 'http://localhost:8080')
    .split(',').map((s) => s.trim()).filter(Boolean).map(parseOrigin);
  // The setup doctor's tests need a provider that refuses the app's origin (CORS) or lacks its
  // silent callback URL; the defaults are the working setup.
  const corsRaw = envOr(env, 'CORS_ORIGINS', '');
  const corsOrigins = corsRaw === 'none'
    ? []
    : (corsRaw ? corsRaw.split(',').map((s) => s.trim()).filter(Boolean).map(parseOrigin) : origins);
  const silentRedirect = envOr(env, 'SILENT_REDIRECT', '1');
  if (!['0', '1'].includes(silentRedirect)) {
    throw new ConfigError(`SILENT_REDIRECT must be 0 or 1, got "${silentRedirect}"`);
  }
  const endSession = envOr(env, 'END_SESSION', '1');
  if (!['0', '1'].includes(endSession)) {
    throw new ConfigError(`END_SESSION must be 0 or 1, got "${endSession}"`);
  }
  const endSessionPost = envOr(env, 'END_SESSION_POST', 'accept');
  if (!END_SESSION_POST_MODES.has(endSessionPost)) {
    throw new ConfigError(
      `END_SESSION_POST must be one of ${[...END_SESSION_POST_MODES].join(', ')}, got "${endSessionPost}"`,
    );
  }

  const refreshTokens = envOr(env, 'REFRESH_TOKENS', '1');
  if (!['0', '1'].includes(refreshTokens)) {
    throw new ConfigError(`REFRESH_TOKENS must be 0 or 1, got "${refreshTokens}"`);
  }
  const refreshRotation = envOr(env, 'REFRESH_ROTATION', 'always');
  if (!['always', 'unbound'].includes(refreshRotation)) {
    throw new ConfigError(`REFRESH_ROTATION must be always or unbound, got "${refreshRotation}"`);
  }
  const dpop = envOr(env, 'DPOP', '1');
  if (!['0', '1'].includes(dpop)) {
    throw new ConfigError(`DPOP must be 0 or 1, got "${dpop}"`);
  }
  const dpopRequireNonce = envOr(env, 'DPOP_REQUIRE_NONCE', '0');
  if (!['0', '1'].includes(dpopRequireNonce)) {
    throw new ConfigError(`DPOP_REQUIRE_NONCE must be 0 or 1, got "${dpopRequireNonce}"`);
  }
  if (dpopRequireNonce === '1' && dpop === '0') {
    throw new ConfigError('DPOP_REQUIRE_NONCE=1 needs DPOP=1');
  }

  return {
    dpop: dpop === '1',
    dpopRequireNonce: dpopRequireNonce === '1',
    refreshTokens: refreshTokens === '1',
    refreshRotation,
    refreshTtl: parseInteger('REFRESH_TTL', envOr(env, 'REFRESH_TTL', String(SESSION_TTL)), { min: 1, max: SESSION_TTL }),
    port: parseInteger('PORT', envOr(env, 'PORT', '4000'), { min: 0, max: 65535 }),
    appOrigins: new Set(origins),
    corsOrigins: new Set(corsOrigins),
    silentRedirect: silentRedirect === '1',
    endSession: endSession === '1',
    endSessionPost,
    clientId: envOr(env, 'CLIENT_ID', 'oidc-renew-demo'),
    audience: parseAudience(envOr(env, 'AUDIENCE', 'urn:oidc-renew:demo-api')),
    tokenTtl: parseInteger('TOKEN_TTL', envOr(env, 'TOKEN_TTL', '300'), { min: 1, max: SESSION_TTL }),
    idTokenAlg,
    testHooks: env.TEST_HOOKS === '1',
    clockSkew: parseSkew(envOr(env, 'CLOCK_SKEW', '0')),
  };
}

// ---------------------------------------------------------------------------
// Signing keys
// ---------------------------------------------------------------------------

async function privateJwk(algorithm, options) {
  const { privateKey } = await generateKeyPair(algorithm, { ...options, extractable: true });
  const jwk = await exportJWK(privateKey);
  jwk.kid = await calculateJwkThumbprint(jwk); // public members only
  jwk.use = 'sig';
  return jwk;
}

/**
 * Fresh keys on every start: RSA for access tokens (RS256) and RS256 id tokens,
 * EC P-256 for ES256 id tokens. The provider publishes the public halves.
 */
async function generateSigningKeys() {
  const keys = await Promise.all([
    privateJwk('RS256', { modulusLength: 2048 }),
    privateJwk('ES256'),
  ]);
  return { keys };
}

// ---------------------------------------------------------------------------
// Provider configuration
// ---------------------------------------------------------------------------

function clientMetadata(config) {
  const origins = [...config.appOrigins];
  return {
    client_id: config.clientId,
    client_name: 'oidc-renew demo',
    application_type: 'web',
    // Public SPA client: no secret; PKCE (S256) protects the code exchange.
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code', 'implicit', ...(config.refreshTokens ? ['refresh_token'] : [])],
    // `id_token token` is the legacy implicit mode the app still supports.
    response_types: ['code', 'id_token token'],
    redirect_uris: origins.flatMap((o) => [
      `${o}/`, `${o}/callback`, ...(config.silentRedirect ? [`${o}/silent/`] : []),
    ]),
    post_logout_redirect_uris: origins.map((o) => `${o}/`),
    id_token_signed_response_alg: config.idTokenAlg,
  };
}

async function findAccount(ctx, sub) {
  if (sub !== DEMO_USER.sub) return undefined;
  return {
    accountId: sub,
    // The library masks these by the granted scopes (profile, email).
    async claims() {
      return { sub, ...DEMO_USER.claims };
    },
  };
}

/**
 * The client is first-party, so consent is never asked: every time an
 * authenticated request comes in, the grant is (re)filled with everything
 * requested. This is what lets prompt=none succeed right after login.
 */
async function loadFirstPartyGrant(ctx) {
  const { oidc } = ctx;
  const { Grant } = oidc.provider;
  const accountId = oidc.account.accountId;
  const clientId = oidc.client.clientId;

  const grantId = oidc.result?.consent?.grantId ?? oidc.session.grantIdFor(clientId);
  let grant = grantId ? await Grant.find(grantId) : undefined;
  if (!grant || grant.accountId !== accountId || grant.clientId !== clientId) {
    grant = new Grant({ accountId, clientId });
  }

  const oidcScope = [...oidc.requestParamOIDCScopes].join(' ');
  if (oidcScope) grant.addOIDCScope(oidcScope);
  for (const [indicator, resourceServer] of Object.entries(oidc.resourceServers)) {
    grant.addResourceScope(indicator, resourceServer.scope);
  }
  await grant.save();
  return grant;
}

/**
 * Auth0-style `audience` -> RFC 8707 resource indicator. The app sends
 * `audience=<AUDIENCE>` (or nothing) on /auth; both resolve to AUDIENCE, and
 * the access token is then a JWT for the demo API.
 */
function resourceIndicators(config) {
  return {
    enabled: true,
    async defaultResource(ctx, client, oneOf) {
      // oneOf: several resources granted and one must be picked at /token;
      // keep the library's behaviour (reject) -- the app only ever asks for one.
      if (oneOf) return oneOf;
      return ctx.oidc.params.audience || config.audience;
    },
    // The code exchange at /token does not repeat the resource: use the one
    // granted at /auth (instead of issuing a token for the userinfo endpoint).
    async useGrantedResource() {
      return true;
    },
    async getResourceServerInfo(ctx, resourceIndicator) {
      if (resourceIndicator !== config.audience) {
        throw new oidcErrors.InvalidTarget(`unknown audience ${resourceIndicator}`);
      }
      return {
        scope: API_SCOPE,
        audience: config.audience,
        accessTokenTTL: config.tokenTtl,
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg: 'RS256' } },
      };
    },
  };
}

async function renderError(ctx, out) {
  ctx.type = 'html';
  ctx.set('Content-Security-Policy', views.PAGE_CSP);
  ctx.body = views.errorPage({ details: out });
}

async function logoutSource(ctx, form) {
  ctx.type = 'html';
  ctx.set('Content-Security-Policy', views.PAGE_CSP);
  ctx.body = views.logoutPage({ form, clientName: ctx.oidc.client?.clientName });
}

async function postLogoutSuccessSource(ctx) {
  ctx.type = 'html';
  ctx.set('Content-Security-Policy', views.PAGE_CSP);
  ctx.body = views.loggedOutPage({ clientName: ctx.oidc.client?.clientName });
}

function providerConfiguration(config, {
  jwks, adapter, cookieKeys, offline, dpopNonceSecret,
}) {
  return {
    adapter,
    jwks,
    clients: [clientMetadata(config)],
    routes: ROUTES,
    findAccount,
    loadExistingGrant: loadFirstPartyGrant,
    extraParams: ['audience'],

    responseTypes: ['code', 'id_token token'],
    pkce: { methods: ['S256'], required: () => true },
    scopes: ['openid', 'profile', 'email', 'offline_access'],
    // Refresh tokens as Auth0 issues them to a SPA: only when the sign-in asked for `offline_access`
    // (oidc-provider alone would want prompt=consent for that, which Auth0 does not), rotated at every
    // use (see REFRESH_ROTATION below), and a reuse revokes the whole grant (oidc-provider's
    // reuse detection: "refresh token already used").
    // REFRESH_ROTATION=always (the default) rotates at every use, DPoP-bound tokens too, as Auth0's
    // rotation does; `unbound` keeps oidc-provider's own policy, which rotates only tokens that are not
    // sender-constrained, so a DPoP-bound refresh token is used again and again (RFC 9700 asks a public
    // client's refresh tokens to be sender-constrained or rotated: either is a provider users meet).
    ...(config.refreshRotation === 'always' ? {
      rotateRefreshToken: (ctx) => ctx.oidc.entities.RefreshToken.totalLifetime() < 365.25 * 24 * 60 * 60,
    } : {}),
    async issueRefreshToken(ctx, client, code) {
      // Per authorization request, as Auth0 decides: this code's request asked for offline_access
      // (oidc-provider drops it from the scope it keeps, for want of prompt=consent), noted by its PKCE
      // challenge when it arrived. Not per grant: another sign-in of the same user and client (another
      // app origin, the same provider session) that did not ask gets no refresh token.
      const asked = offline.challenges.delete(code.codeChallenge);
      return config.refreshTokens && client.grantTypeAllowed('refresh_token') && asked;
    },
    claims: {
      openid: ['sub'],
      profile: ['name', 'given_name', 'family_name', 'preferred_username'],
      email: ['email', 'email_verified'],
    },
    // Put the profile/email claims in the id_token of the code flow too (the
    // app reads them there, not from /me).
    conformIdTokenClaims: false,

    // The browser itself calls /token and /me: allow exactly the app origins (CORS_ORIGINS).
    clientBasedCORS(ctx, origin, client) {
      return client.clientId === config.clientId && config.corsOrigins.has(origin);
    },

    cookies: {
      keys: cookieKeys,
      // Lax (not the library's default None): on plain http Chromium drops
      // SameSite=None cookies, and app and provider are same-site anyway
      // (both on localhost), so the session cookie still reaches the hidden
      // renewal iframe.
      long: { httpOnly: true, sameSite: 'lax', signed: true },
      short: { httpOnly: true, sameSite: 'lax', signed: true },
    },

    ttl: {
      // Number TTLs take precedence over the resource server's accessTokenTTL;
      // both are TOKEN_TTL.
      AccessToken: config.tokenTtl,
      IdToken: config.tokenTtl,
      AuthorizationCode: 60,
      Interaction: 60 * 60,
      Session: SESSION_TTL,
      Grant: SESSION_TTL,
      RefreshToken: config.refreshTtl,
    },

    features: {
      // Its pages accept any user name and password: replaced by ours below.
      devInteractions: { enabled: false },
      userinfo: { enabled: true },
      // RFC 7009: the app revokes its refresh token at sign-out.
      revocation: { enabled: true },
      // END_SESSION=0: no RP-initiated logout, and no end_session_endpoint in discovery (as Google).
      rpInitiatedLogout: { enabled: config.endSession, logoutSource, postLogoutSuccessSource },
      resourceIndicators: resourceIndicators(config),
      // RFC 9449 (DPOP=1, the default): a token request with a DPoP proof gets tokens bound to its
      // key (`token_type` DPoP, `cnf.jkt` in the JWT access token), and so does the public client's
      // refresh token (oidc-provider binds those of `token_endpoint_auth_method: none` clients);
      // `dpop_jkt` on /auth binds the code. Requests without a proof still get Bearer tokens (an app
      // with `dpop: off`). Server nonces are always offered (`nonceSecret`): a proof whose `iat` is
      // more than 300 s off (a skewed clock) is answered `use_dpop_nonce` instead of refused; with
      // DPOP_REQUIRE_NONCE=1 every proof needs one. Replayed proofs (`jti`) are refused.
      dPoP: {
        enabled: config.dpop,
        nonceSecret: config.dpop ? dpopNonceSecret : undefined,
        requireNonce: () => config.dpopRequireNonce,
      },
    },
    renderError,
  };
}

/**
 * oidc-provider's client schema rejects implicit-flow clients whose redirect
 * URIs are http:// (code implicit-force-https) or on localhost (code
 * implicit-forbid-localhost) -- sound advice for real deployments, but the
 * demo app runs on http://localhost and must still exercise the legacy
 * `id_token token` mode. Static clients are validated lazily through
 * Client.Schema, so this override, installed before the first lookup, waives
 * exactly those two checks, for our client only, and only while every
 * registered http:// URI (the only kind that can trip them) is on loopback.
 * Every other validation still applies.
 */
function allowImplicitOnLoopback(provider, clientId) {
  const { Schema } = provider.Client;
  const invalidate = Schema.prototype.invalidate;
  const waived = new Set(['implicit-force-https', 'implicit-forbid-localhost']);

  Schema.prototype.invalidate = function invalidateUnlessLoopbackImplicit(message, code) {
    const httpUris = [...(this.redirect_uris ?? []), ...(this.post_logout_redirect_uris ?? [])]
      .map((uri) => new URL(uri))
      .filter((url) => url.protocol === 'http:');
    const onLoopback = httpUris.every((url) => LOOPBACK_HOSTNAMES.has(url.hostname));
    if (waived.has(code) && this.client_id === clientId && onLoopback) return;
    invalidate.call(this, message, code);
  };
}

function logProviderEvents(provider, stats) {
  const describe = (err) => `${err.error ?? err.name}${err.error_description ? ` (${err.error_description})` : ''}`
    + `${err.error_detail ? `: ${err.error_detail}` : ''}`;
  provider.on('grant.success', (ctx) => {
    if (ctx.oidc.params?.grant_type === 'refresh_token') stats.note('refresh');
  });
  provider.on('grant.error', (ctx, err) => {
    // Why, as oidc-provider puts it in `error_detail` (its answer says only "grant request is
    // invalid"): "failed jkt verification", "DPoP proof JWT Replay detected", ...
    stats.noteTokenError(err.error_detail ?? err.error_description ?? err.error);
    if (err.error === 'use_dpop_nonce') stats.note('dpop_nonce');
    if (ctx.oidc?.params?.grant_type !== 'refresh_token') return;
    stats.note('refresh_refused');
    // oidc-provider's reuse detection: the grant is revoked for every holder. (Its answer's
    // `error_description` is the generic "grant request is invalid"; the reason is in the detail.)
    if (err.error_detail === 'refresh token already used') stats.note('refresh_reuse');
  });
  provider.on('authorization.error', (ctx, err) => log(`authorize error: ${describe(err)}`));
  provider.on('grant.error', (ctx, err) => log(`token error: ${describe(err)}`));
  provider.on('end_session.error', (ctx, err) => log(`end_session error: ${describe(err)}`));
  provider.on('server_error', (ctx, err) => log(`server error: ${err.stack}`));
}

/**
 * `state` is what outlives a key rotation: the store (sessions, grants, codes) and the cookie
 * keys, so a provider built with new signing keys still knows every signed-in browser.
 */
async function createProvider(config, issuer, jwks, state) {
  const provider = new Provider(issuer, providerConfiguration(config, {
    jwks,
    adapter: state.store.MemoryAdapter,
    cookieKeys: state.cookieKeys,
    offline: state.offline,
    dpopNonceSecret: state.dpopNonceSecret,
  }));
  allowImplicitOnLoopback(provider, config.clientId);
  logProviderEvents(provider, state.stats);

  // Validate the client now (it is otherwise checked on first use) so a bad
  // configuration fails at startup with a clear message.
  try {
    await provider.Client.find(config.clientId);
  } catch (err) {
    throw new ConfigError(`client metadata rejected: ${err.error_description ?? err.message}`);
  }
  return provider;
}

// ---------------------------------------------------------------------------
// Request counters (TEST_HOOKS)
// ---------------------------------------------------------------------------

const COUNTED_PATHS = {
  [ROUTES.authorization]: 'authorize',
  [ROUTES.token]: 'token',
  [ROUTES.end_session]: 'end_session',
  [ROUTES.revocation]: 'revocation',
  [ROUTES.userinfo]: 'userinfo',
  [ROUTES.jwks]: 'jwks',
  [DISCOVERY_PATH]: 'discovery',
  '/api/ping': 'api',
};

function createStats() {
  let counts;
  let errors;
  const reset = () => {
    counts = {
      authorize: 0, authorize_prompt_none: 0, token: 0, end_session: 0, userinfo: 0, jwks: 0, discovery: 0,
      revocation: 0, refresh: 0, refresh_refused: 0, refresh_reuse: 0,
      dpop_token: 0, dpop_nonce: 0, authorize_dpop_jkt: 0,
      api: 0, api_ok: 0, api_dpop_ok: 0, api_dpop_nonce: 0, api_refused: 0,
    };
    // Refusals by reason (GET /__test/errors): kept apart so that every stat above is a number.
    errors = { token: {}, api: {} };
  };
  reset();

  /** Counts real requests to the endpoints; CORS preflights and our own JWKS fetches are not counted. */
  function count(req, url) {
    const name = COUNTED_PATHS[url.pathname];
    if (!name || req.method === 'OPTIONS' || req.headers[INTERNAL_FETCH_HEADER]) return;
    counts[name] += 1;
    if (name === 'token' && req.headers.dpop) counts.dpop_token += 1;
    if (name === 'authorize' && url.searchParams.has('dpop_jkt')) counts.authorize_dpop_jkt += 1;
    const prompt = url.searchParams.get('prompt') ?? '';
    if (name === 'authorize' && prompt.split(' ').includes('none')) counts.authorize_prompt_none += 1;
  }

  /** Counts an event the provider reports (refresh grants: granted, refused, reuse detected). */
  const note = (name) => { counts[name] += 1; };
  const noteIn = (map) => (reason) => {
    const key = String(reason).slice(0, 100);
    errors[map][key] = (errors[map][key] ?? 0) + 1;
  };

  return {
    count,
    note,
    noteTokenError: noteIn('token'),
    noteApiError: noteIn('api'),
    reset,
    snapshot: () => ({ ...counts }),
    errors: () => ({ token: { ...errors.token }, api: { ...errors.api } }),
  };
}

// ---------------------------------------------------------------------------
// Small HTTP helpers
// ---------------------------------------------------------------------------

function send(res, status, body, headers = {}) {
  res.writeHead(status, { 'Cache-Control': 'no-store', ...headers });
  res.end(body);
}

function sendJson(res, status, value, headers = {}) {
  send(res, status, JSON.stringify(value), { 'Content-Type': 'application/json', ...headers });
}

function sendHtml(res, status, html) {
  send(res, status, html, {
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Security-Policy': views.PAGE_CSP,
  });
}

async function readJson(req, limit = 16 * 1024) {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > limit) throw new FaultError('request body too large');
  }
  return JSON.parse(body || '{}');
}

async function readForm(req, limit = 16 * 1024) {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > limit) throw new Error('request body too large');
  }
  return new URLSearchParams(body);
}

// ---------------------------------------------------------------------------
// Interaction pages (login)
// ---------------------------------------------------------------------------

const INTERACTION_PATH = /^\/interaction\/([A-Za-z0-9_-]+)(?:\/(login|abort))?$/;

function expiredInteraction(res) {
  sendHtml(res, 400, views.errorPage({
    title: 'Sign-in expired',
    details: {
      error: 'interaction_not_found',
      error_description: 'This sign-in attempt expired or was already completed. Start again from the application.',
    },
  }));
}

async function loadInteraction(provider, req, res, uid) {
  try {
    const details = await provider.interactionDetails(req, res);
    return details.uid === uid ? details : undefined;
  } catch (err) {
    if (err instanceof oidcErrors.SessionNotFound) return undefined;
    throw err;
  }
}

async function handleInteraction(app, req, res, url) {
  const match = INTERACTION_PATH.exec(url.pathname);
  if (!match) return sendHtml(res, 404, views.errorPage({ title: 'Not found', details: {} }));
  const [, uid, action] = match;

  const details = await loadInteraction(app.provider, req, res, uid);
  if (!details) return expiredInteraction(res);
  if (details.prompt.name !== 'login') {
    // Consent is pre-granted (loadFirstPartyGrant), so login is the only prompt.
    throw new Error(`unexpected interaction prompt ${details.prompt.name}`);
  }
  const client = await app.provider.Client.find(details.params.client_id);
  const clientName = client?.clientName ?? details.params.client_id;

  if (!action && req.method === 'GET') {
    return sendHtml(res, 200, views.loginPage({ uid, clientName }));
  }
  if (action === 'abort' && req.method === 'GET') {
    log('login cancelled');
    return app.provider.interactionFinished(req, res, {
      error: 'access_denied', error_description: 'End-User cancelled the sign-in',
    }, { mergeWithLastSubmission: false });
  }
  if (action === 'login' && req.method === 'POST') {
    const form = await readForm(req);
    const login = form.get('login') ?? '';
    if (login !== DEMO_USER.login || form.get('password') !== DEMO_USER.password) {
      log('login failed: wrong credentials');
      return sendHtml(res, 200, views.loginPage({
        uid, clientName, login, error: 'Wrong username or password.',
      }));
    }
    log(`login ok: ${DEMO_USER.login}`);
    return app.provider.interactionFinished(req, res, {
      login: { accountId: DEMO_USER.sub, amr: ['pwd'] },
    }, { mergeWithLastSubmission: false });
  }
  return send(res, 405, 'Method Not Allowed');
}

/**
 * POST at the end_session endpoint, answered as a provider that does not take it would (see
 * END_SESSION_POST_MODES): the browser shows this page and the provider session stays.
 */
function refuseEndSessionPost(mode, res) {
  log(`end_session: POST refused (END_SESSION_POST=${mode})`);
  if (mode === 'refuse') {
    // Koa's answer to a request no route matches, byte for byte.
    return send(res, 404, 'Not Found', { 'Content-Type': 'text/plain; charset=utf-8' });
  }
  return sendHtml(res, 403, views.errorPage({
    title: 'Forbidden (403)',
    details: { error: 'CSRF verification failed. Request aborted.' },
  }));
}

// ---------------------------------------------------------------------------
// Demo API: GET /api/ping
// ---------------------------------------------------------------------------

const CLAIM_FAILURES = {
  aud: 'wrong audience',
  iss: 'wrong issuer',
  typ: 'wrong token type',
  nbf: 'not yet valid',
  exp: 'expired',
};

/** Maps a jose verification error to a short, stable reason for the 401 body. */
function describeVerificationError(err) {
  switch (err.code) {
    case 'ERR_JWT_EXPIRED': return 'expired';
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED': return 'bad signature';
    case 'ERR_JWKS_NO_MATCHING_KEY': return 'unknown signing key';
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
    case 'ERR_JOSE_NOT_SUPPORTED': return 'algorithm not allowed';
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      return CLAIM_FAILURES[err.claim] ?? `invalid ${err.claim} claim`;
    case 'ERR_JWS_INVALID':
    case 'ERR_JWT_INVALID': return 'malformed token';
    default:
      log(`api: unexpected verification failure: ${err.message}`);
      return 'verification failed';
  }
}

/** Verifies the access token itself (a JWT of the provider for this API): `{ payload }` or `{ reason }`. */
async function verifyAccessToken(app, token) {
  try {
    const { payload } = await jwtVerify(token, app.apiJwks, {
      issuer: app.issuer,
      audience: app.config.audience,
      algorithms: ['RS256'],
      typ: 'at+jwt', // RFC 9068: refuses id_tokens presented as access tokens
      clockTolerance: 0, // exact expiry, so tests with short TOKEN_TTL are predictable
    });
    return { payload };
  } catch (err) {
    return { reason: describeVerificationError(err) };
  }
}

// DPoP at the demo API (RFC 9449 §7): how far a proof's `iat` may be from now without a nonce (the
// value oidc-provider uses at /token), and how long a nonce of the API stays good.
const DPOP_IAT_WINDOW_S = 300;
const API_NONCE_STEP_MS = 60_000;

/** The API's own server nonces: a new one every minute; the current and the previous are accepted. */
function createApiNonces() {
  let current = randomBytes(16).toString('base64url');
  let previous = null;
  let rotatedAt = Date.now();
  const rotate = () => {
    if (Date.now() - rotatedAt < API_NONCE_STEP_MS) return;
    previous = current;
    current = randomBytes(16).toString('base64url');
    rotatedAt = Date.now();
  };
  return {
    current() { rotate(); return current; },
    accepts(nonce) { rotate(); return nonce === current || (previous !== null && nonce === previous); },
  };
}

/** The `jti`s of the proofs accepted within the window: a second use is a replay. */
function createReplayCache() {
  const seen = new Map(); // jti -> forget after (ms)
  return {
    /** true the first time a jti is seen. */
    fresh(jti) {
      const now = Date.now();
      if (seen.size > 10_000) for (const [key, until] of seen) if (until < now) seen.delete(key);
      if (seen.has(jti) && seen.get(jti) >= now) return false;
      seen.set(jti, now + 2 * DPOP_IAT_WINDOW_S * 1000);
      return true;
    },
  };
}

const sha256Base64url = (text) => createHash('sha256').update(text).digest('base64url');

/**
 * Checks a DPoP proof for this request and access token (RFC 9449 §4.3 and §7.1): signature with the
 * public key in its header (ES256, `typ: dpop+jwt`, no private key), `htm`, `htu`, `iat` within the
 * window or a nonce of ours, `ath`, the key's thumbprint equal to the token's `cnf.jkt`, and a `jti`
 * never seen before. `{}` when it passes, else `{ error, reason }` (`error`: the RFC 9449 code).
 */
async function verifyDpopProof(app, req, url, token, claims) {
  const proofs = req.headersDistinct?.dpop ?? (req.headers.dpop ? [req.headers.dpop] : []);
  if (proofs.length !== 1) {
    return { error: 'invalid_dpop_proof', reason: proofs.length ? 'several DPoP proofs' : 'missing DPoP proof' };
  }
  let payload;
  let protectedHeader;
  try {
    ({ payload, protectedHeader } = await jwtVerify(proofs[0], EmbeddedJWK, {
      typ: 'dpop+jwt', algorithms: ['ES256'],
    }));
  } catch (err) {
    return { error: 'invalid_dpop_proof', reason: `bad proof (${describeVerificationError(err)})` };
  }
  if (protectedHeader.jwk.d !== undefined) return { error: 'invalid_dpop_proof', reason: 'private key in the proof' };
  if (typeof payload.jti !== 'string' || !payload.jti) return { error: 'invalid_dpop_proof', reason: 'proof without jti' };
  if (typeof payload.iat !== 'number') return { error: 'invalid_dpop_proof', reason: 'proof without iat' };
  if (payload.htm !== req.method) return { error: 'invalid_dpop_proof', reason: 'htm mismatch' };
  let htu;
  try {
    htu = new URL(payload.htu);
    htu.search = '';
    htu.hash = '';
  } catch { /* not a URL: a mismatch */ }
  if (htu?.href !== new URL(url.pathname, app.issuer).href) {
    return { error: 'invalid_dpop_proof', reason: 'htu mismatch' };
  }
  if (payload.nonce !== undefined) {
    if (typeof payload.nonce !== 'string' || !app.apiNonces.accepts(payload.nonce)) {
      return { error: 'use_dpop_nonce', reason: 'stale or unknown nonce' };
    }
  } else if (app.config.dpopRequireNonce) {
    return { error: 'use_dpop_nonce', reason: 'nonce required' };
  } else if (Math.abs(Date.now() / 1000 - payload.iat) > DPOP_IAT_WINDOW_S) {
    // A proof with a nonce of ours is fresh whatever its iat: the nonce answers clock skew.
    return { error: 'use_dpop_nonce', reason: 'iat outside the window' };
  }
  if (payload.ath !== sha256Base64url(token)) return { error: 'invalid_dpop_proof', reason: 'ath mismatch' };
  if (claims.cnf?.jkt !== await calculateJwkThumbprint(protectedHeader.jwk)) {
    return { error: 'invalid_token', reason: 'proof key is not the token key (cnf.jkt)' };
  }
  if (!app.apiReplays.fresh(payload.jti)) return { error: 'invalid_dpop_proof', reason: 'proof replayed (jti)' };
  return { nonce: payload.nonce };
}

/**
 * The whole check of one request: a Bearer token (unbound) or a DPoP-bound token with its proof.
 * `{ payload }` when it passes, else `{ error, reason, scheme }`.
 */
async function verifyRequest(app, req, url) {
  const match = /^(Bearer|DPoP) +(\S+) *$/i.exec(req.headers.authorization ?? '');
  if (!match) return { error: 'invalid_token', reason: 'missing bearer token', scheme: 'Bearer' };
  const scheme = match[1].toLowerCase() === 'dpop' ? 'DPoP' : 'Bearer';
  const token = match[2];
  const { payload, reason } = await verifyAccessToken(app, token);
  if (!payload) return { error: 'invalid_token', reason, scheme };
  const bound = typeof payload.cnf?.jkt === 'string';
  if (scheme === 'Bearer') {
    // RFC 9449 §7.2: a DPoP-bound token is no bearer token.
    return bound ? { error: 'invalid_token', reason: 'DPoP-bound token sent as Bearer', scheme: 'DPoP' } : { payload };
  }
  if (!bound) return { error: 'invalid_token', reason: 'token not DPoP-bound', scheme };
  const proof = await verifyDpopProof(app, req, url, token, payload);
  return proof.error ? { ...proof, scheme } : { payload, nonce: proof.nonce };
}

function apiCorsHeaders(app, origin) {
  if (!origin || !app.config.appOrigins.has(origin)) return { Vary: 'Origin' };
  return {
    Vary: 'Origin',
    'Access-Control-Allow-Origin': origin,
    'Access-Control-Expose-Headers': 'WWW-Authenticate, DPoP-Nonce',
  };
}

/** The 401's challenge (RFC 6750 §3, RFC 9449 §7.1); no error code when no token came at all. */
function challenge(app, { error, reason, scheme }) {
  const quoted = (text) => text.replace(/["\\]/g, '');
  if (reason === 'missing bearer token') {
    return `Bearer realm="demo-api"${app.config.dpop ? ', DPoP algs="ES256"' : ''}`;
  }
  if (scheme === 'DPoP') {
    return `DPoP realm="demo-api", error="${error}", error_description="${quoted(reason)}", algs="ES256"`;
  }
  return `Bearer realm="demo-api", error="${error}", error_description="${quoted(reason)}"`;
}

async function handlePing(app, req, res, url) {
  const cors = apiCorsHeaders(app, req.headers.origin);
  if (req.method === 'OPTIONS') {
    return send(res, 204, undefined, {
      ...cors,
      ...(cors['Access-Control-Allow-Origin'] && {
        'Access-Control-Allow-Methods': 'GET',
        'Access-Control-Allow-Headers': 'Authorization, DPoP',
        'Access-Control-Max-Age': '600',
      }),
    });
  }
  if (req.method !== 'GET') return sendJson(res, 405, { error: 'method_not_allowed' }, { ...cors, Allow: 'GET, OPTIONS' });

  const verdict = await verifyRequest(app, req, url);
  if (!verdict.payload) {
    app.stats.note(verdict.error === 'use_dpop_nonce' ? 'api_dpop_nonce' : 'api_refused');
    app.stats.noteApiError(verdict.reason);
    const headers = { ...cors, 'WWW-Authenticate': challenge(app, verdict) };
    if (verdict.error === 'use_dpop_nonce') headers['DPoP-Nonce'] = app.apiNonces.current();
    return sendJson(res, 401, { error: verdict.error, reason: verdict.reason }, headers);
  }
  const { payload } = verdict;
  const bound = typeof payload.cnf?.jkt === 'string';
  app.stats.note(bound ? 'api_dpop_ok' : 'api_ok');
  const headers = { ...cors };
  // A new nonce for the next proof, when the proof did not carry the current one (RFC 9449 §8.2).
  if (bound && app.config.dpopRequireNonce && verdict.nonce !== app.apiNonces.current()) {
    headers['DPoP-Nonce'] = app.apiNonces.current();
  }
  return sendJson(res, 200, {
    message: 'pong',
    sub: payload.sub,
    scope: payload.scope,
    exp: payload.exp,
    aud: payload.aud,
    token_type: bound ? 'DPoP' : 'Bearer',
    ...(bound && { jkt: payload.cnf.jkt }),
  }, headers);
}

// ---------------------------------------------------------------------------
// Test hooks (TEST_HOOKS=1 only)
// ---------------------------------------------------------------------------

async function handleTestHook(app, req, res, url) {
  if (!app.config.testHooks) return sendJson(res, 404, { error: 'not_found' });
  // Readable from any origin (e.g. a browser-based test runner page).
  const cors = { 'Access-Control-Allow-Origin': '*' };
  const route = `${req.method} ${url.pathname}`;

  switch (route) {
    case 'GET /__test/stats':
      return sendJson(res, 200, app.stats.snapshot(), cors);
    case 'POST /__test/reset-stats':
      app.stats.reset();
      return sendJson(res, 200, app.stats.snapshot(), cors);
    case 'POST /__test/end-sessions': {
      const ended = app.store.destroyAllSessions();
      log(`test hook: ended ${ended} session(s)`);
      return sendJson(res, 200, { ended }, cors);
    }
    case 'GET /__test/faults':
      return sendJson(res, 200, app.faults.snapshot(), cors);
    case 'POST /__test/faults': {
      try {
        app.faults.set(await readJson(req));
      } catch (err) {
        if (!(err instanceof FaultError || err instanceof SyntaxError)) throw err;
        return sendJson(res, 400, { error: 'invalid_fault', error_description: err.message }, cors);
      }
      log(`test hook: faults ${JSON.stringify(app.faults.snapshot().active)}`);
      return sendJson(res, 200, app.faults.snapshot(), cors);
    }
    case 'POST /__test/faults/clear':
      app.faults.clear();
      log('test hook: faults cleared');
      return sendJson(res, 200, app.faults.snapshot(), cors);
    case 'POST /__test/down': {
      let ms;
      try {
        ms = parseDown(await readJson(req));
      } catch (err) {
        if (!(err instanceof FaultError || err instanceof SyntaxError)) throw err;
        return sendJson(res, 400, { error: 'invalid_down', error_description: err.message }, cors);
      }
      // Answer first: the sockets close once this response is out.
      res.once('finish', () => app.goDown(ms));
      return sendJson(res, 200, { down_ms: ms }, cors);
    }
    case 'POST /__test/revoke-grants': {
      // As an admin revoking the user's access: every token of every grant is gone.
      const revoked = app.store.revokeAllGrants();
      log(`test hook: revoked ${revoked} grant(s)`);
      return sendJson(res, 200, { revoked }, cors);
    }
    case 'POST /__test/expire-refresh-tokens': {
      const expired = app.store.destroyAll('RefreshToken');
      log(`test hook: expired ${expired} refresh token(s)`);
      return sendJson(res, 200, { expired }, cors);
    }
    case 'GET /__test/errors':
      return sendJson(res, 200, app.stats.errors(), cors);
    case 'GET /__test/dpop-proofs':
      // The latest DPoP proofs received, by path (a replay test sends one again).
      return sendJson(res, 200, app.proofs, cors);
    case 'POST /__test/rotate-keys': {
      const kids = await app.rotateKeys();
      return sendJson(res, 200, { kids }, cors);
    }
    default:
      if (req.method === 'OPTIONS') {
        return send(res, 204, undefined, { ...cors, 'Access-Control-Allow-Methods': 'GET, POST' });
      }
      return sendJson(res, 404, { error: 'not_found' }, cors);
  }
}

// ---------------------------------------------------------------------------
// Request dispatch
// ---------------------------------------------------------------------------

/** Remembers (by its PKCE challenge) an authorization request whose scope asks for offline_access. */
function noteOfflineRequest(app, req, url) {
  if (req.method !== 'GET' || url.pathname !== ROUTES.authorization) return;
  const scope = (url.searchParams.get('scope') ?? '').split(' ');
  const challenge = url.searchParams.get('code_challenge');
  if (scope.includes('offline_access') && challenge) app.state.offline.challenges.add(challenge);
}

/** One short stderr line per authorize / token / end_session request (never codes or tokens). */
function logWhenDone(req, res, url) {
  const name = COUNTED_PATHS[url.pathname];
  if (!['authorize', 'token', 'end_session'].includes(name) || req.method === 'OPTIONS') return;
  const q = url.searchParams;
  const detail = name === 'authorize'
    ? ` response_type=${q.get('response_type') ?? '-'} prompt=${q.get('prompt') ?? '-'} redirect_uri=${q.get('redirect_uri') ?? '-'}`
    : '';
  res.once('finish', () => log(`${req.method} ${url.pathname}${detail} -> ${res.statusCode}`));
}

/** The CORS headers the provider itself would answer `req` with (for an injected fault). */
function faultCorsHeaders(app, req, url) {
  const { origin } = req.headers;
  const open = url.pathname === DISCOVERY_PATH || url.pathname === ROUTES.jwks;
  if (!origin || !(open || app.config.corsOrigins.has(origin))) return {};
  return { 'Access-Control-Allow-Origin': origin, Vary: 'Origin' };
}

function createRequestHandler(app) {
  async function route(req, res, url) {
    const path = url.pathname;
    if (path.startsWith('/__test/')) return handleTestHook(app, req, res, url);
    const fault = app.config.testHooks ? app.faults.take(req, url) : undefined;
    if (fault) {
      log(`fault: ${fault.kind} on ${req.method} ${path}`);
      const answered = await applyFault(fault, {
        req,
        res,
        corsHeaders: faultCorsHeaders(app, req, url),
        errorPage: views.errorPage({
          title: 'Service unavailable',
          details: { error: 'server_error', error_description: 'injected fault' },
        }),
      });
      if (answered) return undefined;
    }
    if (path === ROUTES.end_session && req.method === 'POST' && app.config.endSessionPost !== 'accept') {
      return refuseEndSessionPost(app.config.endSessionPost, res);
    }
    if (path === '/api/ping') return handlePing(app, req, res, url);
    if (path.startsWith('/interaction/')) return handleInteraction(app, req, res, url);
    return app.providerCallback(req, res);
  }

  return (req, res) => {
    let url;
    try {
      url = new URL(req.url, app.issuer);
    } catch {
      return send(res, 400, 'Bad Request');
    }
    app.stats.count(req, url);
    if (!app.config.dpop && url.pathname === ROUTES.authorization && url.searchParams.has('dpop_jkt')) {
      // DPOP=0 plays a provider that does not know DPoP, which ignores the parameter as any unknown
      // one. (oidc-provider 8.8.1 with the feature off keeps it with the code, then refuses the code
      // exchange for want of a proof.)
      url.searchParams.delete('dpop_jkt');
      req.url = `${url.pathname}${url.search}`;
    }
    // Before any fault: a test sees every proof the app sent, answered or not.
    if (req.headers.dpop && req.method !== 'OPTIONS' && url.pathname in app.proofs) {
      app.recordProof(url.pathname, req.headers.dpop);
    }
    noteOfflineRequest(app, req, url);
    logWhenDone(req, res, url);
    route(req, res, url).catch((err) => {
      log(`error handling ${req.method} ${url.pathname}: ${err.stack}`);
      if (res.headersSent) res.destroy();
      else sendHtml(res, 500, views.errorPage({ details: { error: 'server_error' } }));
    });
  };
}

// ---------------------------------------------------------------------------
// Listening on loopback (127.0.0.1 and ::1, same port)
// ---------------------------------------------------------------------------

function listen(server, port, host) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host }, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

function closeServer(server) {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/**
 * Chromium resolves `localhost` to both ::1 and 127.0.0.1, so both must answer.
 * With PORT=0 the kernel picks a free IPv4 port, which may be taken on ::1 by
 * someone else: then try again with a new port.
 */
async function listenOnLoopback(requestedPort, onRequest) {
  const attempts = requestedPort === 0 ? 5 : 1;
  for (let attempt = 1; ; attempt += 1) {
    const v4 = await listen(createServer(onRequest), requestedPort, '127.0.0.1');
    const { port } = v4.address();
    try {
      const v6 = await listen(createServer(onRequest), port, '::1');
      return { servers: [v4, v6], port };
    } catch (err) {
      await closeServer(v4);
      if (err.code === 'EADDRNOTAVAIL') {
        throw new Error(`cannot listen on [::1]:${port}: IPv6 loopback unavailable (${err.message})`);
      }
      if (err.code !== 'EADDRINUSE' || attempt >= attempts) throw err;
      log(`port ${port} is taken on ::1, retrying with another port`);
    }
  }
}

function exitOnSignals(servers) {
  let closing = false;
  const shutdown = async (signal) => {
    if (closing) return;
    closing = true;
    log(`${signal}: shutting down`);
    setTimeout(() => process.exit(0), 2000).unref(); // never hang on exit
    await Promise.all(servers.map(closeServer));
    process.exit(0);
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

// ---------------------------------------------------------------------------
// Startup
// ---------------------------------------------------------------------------

/** The demo API's view of the provider's JWKS (refetched when a new kid shows up). */
function apiJwksFor(provider) {
  return createRemoteJWKSet(new URL(provider.urlFor('jwks')), {
    headers: { [INTERNAL_FETCH_HEADER]: '1' },
  });
}

/**
 * Test hook: new signing keys, published ahead of the old ones (which stay published, as in a
 * real rotation, so tokens already issued still verify). The new keys sign from now on; the
 * sessions, grants and cookie keys carry over. Returns the published kids, newest first.
 */
async function rotateKeys(app) {
  const fresh = await generateSigningKeys();
  const jwks = { keys: [...fresh.keys, ...app.jwks.keys] };
  const provider = await createProvider(app.config, app.issuer, jwks, app.state);
  Object.assign(app, {
    provider, jwks, providerCallback: provider.callback(), apiJwks: apiJwksFor(provider),
  });
  const kids = jwks.keys.map((key) => key.kid);
  log(`test hook: signing keys rotated, kids ${kids.join(' ')}`);
  return kids;
}

/**
 * Test hook: closes both listening sockets and every open connection (new connections are
 * refused), then listens again on the same port after `ms`. The process and its state stay.
 */
async function goDown(app, ms) {
  log(`test hook: down for ${ms} ms`);
  await Promise.all(app.servers.map(closeServer));
  setTimeout(async () => {
    try {
      await Promise.all(app.servers.map((server, i) => listen(server, app.port, ['127.0.0.1', '::1'][i])));
      log('test hook: up again');
    } catch (err) {
      log(`test hook: cannot listen again: ${err.message}`);
      process.exit(1);
    }
  }, ms);
}

async function main() {
  const config = readConfig(process.env);
  installClockSkew(config.clockSkew);
  const keys = generateSigningKeys(); // in parallel with binding

  // Bind first: with PORT=0 the issuer (which contains the port) is known only
  // afterwards. Requests arriving before the provider exists get a 503.
  let handler = (req, res) => send(res, 503, 'starting');
  const { servers, port } = await listenOnLoopback(config.port, (req, res) => handler(req, res));
  exitOnSignals(servers);

  const issuer = `http://localhost:${port}`;
  const state = {
    store: createMemoryStore(),
    cookieKeys: [randomBytes(32).toString('base64url')],
    stats: createStats(),
    // Authorization requests that asked for offline_access, by their PKCE challenge (forgotten when
    // their code is redeemed).
    offline: { challenges: new Set() },
    // The secret of oidc-provider's DPoP nonces: kept across key rotations, as the sessions are.
    dpopNonceSecret: randomBytes(32),
  };
  const jwks = await keys;
  const provider = await createProvider(config, issuer, jwks, state);
  const app = {
    config,
    issuer,
    port,
    servers,
    provider,
    providerCallback: provider.callback(),
    jwks,
    state,
    store: state.store,
    stats: state.stats,
    faults: createFaults(),
    apiJwks: apiJwksFor(provider),
    apiNonces: createApiNonces(),
    apiReplays: createReplayCache(),
    // TEST_HOOKS: the last DPoP proofs received at /token and at the API.
    proofs: { [ROUTES.token]: [], '/api/ping': [] },
  };
  app.recordProof = (path, proof) => {
    if (!config.testHooks) return;
    const list = app.proofs[path];
    list.push(String(proof).slice(0, 4096));
    if (list.length > 20) list.shift();
  };
  app.rotateKeys = () => rotateKeys(app);
  app.goDown = (ms) => goDown(app, ms);
  handler = createRequestHandler(app);

  log(`issuer ${issuer}, client ${config.clientId}, app origins ${[...config.appOrigins].join(' ')}, `
    + `audience ${config.audience}, token ttl ${config.tokenTtl}s, id_token ${config.idTokenAlg}, `
    + `test hooks ${config.testHooks ? 'on' : 'off'}, `
    + `cors origins ${[...config.corsOrigins].join(' ') || 'none'}, `
    + `silent redirect ${config.silentRedirect ? 'registered' : 'not registered'}, `
    + `refresh tokens ${config.refreshTokens ? `for offline_access (ttl ${config.refreshTtl}s, rotation ${config.refreshRotation})` : 'off'}, `
    + `end_session ${config.endSession ? `on, POST ${config.endSessionPost}` : 'off'}, `
    + `dpop ${config.dpop ? `on${config.dpopRequireNonce ? ', nonce required' : ''}` : 'off'}`
    + `${config.clockSkew ? `, clock skew ${config.clockSkew}s` : ''}`);
  process.stdout.write(`READY ${issuer}\n`);
  process.stdout.write(`Demo user: login "${DEMO_USER.login}", password "${DEMO_USER.password}"\n`);
}

function describeFatal(err) {
  if (err.code === 'EADDRINUSE') {
    return `${err.message} (another provider running? PORT=0 picks a free port)`;
  }
  // Configuration and system errors explain themselves; anything else is a bug.
  return err instanceof ConfigError || err.code ? err.message : (err.stack ?? String(err));
}

main().catch((err) => {
  process.stderr.write(`[provider] fatal: ${describeFatal(err)}\n`);
  process.exit(1);
});
