// tools/bench: what the renewal costs a page, measured side by side in one run. Started by tools/bench/run
// (which bootstraps, builds the release dist when stale and installs this directory's npm packages).
//
//   1. bundle sizes of the silent page and the app (raw, gzip -9, brotli);
//   2. renewal latency in headless Chromium against the local provider, alternating in rounds:
//      (a) this app, (b) the floor (tools/bench/pages/floor*.html), (c) oidc-client-ts signinSilent();
//      for (a) and (a'), the cost of the DPoP proofs each renewal signs (the app's user-timing measures);
//   3. tab efficiency: authorize requests per renewal cycle with several tabs open;
//   4. reload cost: provider requests and time to the signed-in paint against the signed-out one.
//
// Prints markdown tables, writes target/bench/latest.json (and latest.md), and with --update-readme
// replaces the README's table between the `bench:begin` / `bench:end` markers.
//
// Origins (all http://localhost:<port>, served by lib/serve.mjs on 127.0.0.1 and ::1), per latency
// serving mode (no-store as the end-to-end AppServer, cached as deploy/nginx):
//   app     dist/ with config.json pointing at the "latency" provider (TOKEN_TTL 300, renewing on its Renew now button; --ttl without it): (a)
//   floor   /bench/floor.html, and /silent/ = the floor's one-line silent page: (b)
//   peer    /bench/peer.html, /bench/oidc-client-ts.min.js, /silent/ = its signinSilentCallback page: (c)
// and once: tabs (dist/, "tabs" provider, TOKEN_TTL --tabs-ttl) and reload (dist/, "reload" provider,
// TOKEN_TTL 300). Every provider is started with TEST_HOOKS=1 and APP_ORIGINS = the origins that use it.
// It registers <origin>/silent/ for every app origin, so the floor and the peer get a redirect_uri of
// their own at /silent/ without registering anything new; the provider is on localhost too, so its
// session cookie (SameSite=Lax) reaches it from each origin's hidden iframe: one sign-in per browser
// context serves all three variants.

import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { appConfig, launchChromium, runMain, SESSION_KEY, signIn } from './lib/app.mjs';
import { onStop, startProvider } from './lib/procs.mjs';
import { serveSite } from './lib/serve.mjs';
import { appFiles, bundleSizes, filesBelow } from './lib/sizes.mjs';
import { kB, ms, ratio, round, summary, table, verdict } from './lib/stats.mjs';

// yew-oidc's user-timing measure of one DPoP proof (yew-oidc/src/dpop.rs, PROOF_MEASURE).
const PROOF_MEASURE = 'oidc-renew:dpop-proof';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../..');
// tools/bench/run builds it (BENCH_DIST: dist/ unless told otherwise).
const DIST = process.env.BENCH_DIST ? path.resolve(process.env.BENCH_DIST) : path.join(ROOT, 'dist');
// The size comparison's other apps, built by tools/bench/run (lib/builds.sh): the hello Yew + router floor,
// the minimal app on the library (examples/minimal) and the minimal app on the Rust peer (yew-oauth2).
const OTHER_DISTS = {
  floor: process.env.BENCH_FLOOR_DIST,
  example: process.env.BENCH_EXAMPLE_DIST,
  // The example with the app's post-build hook, as the floor and the peer are built: like for like.
  example_hooked: process.env.BENCH_EXAMPLE_HOOKED_DIST,
  // The example built without yew-oidc's `dpop` feature: what an app that needs no DPoP pays.
  example_nodpop: process.env.BENCH_EXAMPLE_NODPOP_DIST,
  peer: process.env.BENCH_PEER_DIST,
};
const PEER_VERSION = process.env.BENCH_PEER_VERSION ?? '?';
const OUT = path.join(ROOT, 'target/bench');
const PAGES = path.join(HERE, 'pages');
const OIDC_CLIENT_TS = path.join(HERE, 'node_modules/oidc-client-ts/dist/browser/oidc-client-ts.min.js');

const GOALS = {
  silent_gzip_max: 6000,
  // #17: the app, and the minimal app on the library (the engine at most 80 KB over the floor).
  app_gzip_max: 200000,
  example_gzip_max: 180000,
  library_over_floor_max: 80000,
  cold_paint_ratio_max: 1.6,
  a_over_b_max: 1.3,
  a_over_c_below: 1,
  authorize_per_cycle: 1,
  reload_provider_requests: 0,
  reload_paint_ratio_max: 1.2,
};
// The seed's silent page loads auth0.js 8.10.1 from a CDN: 101,444 B raw, 29,773 B gzip -9.
const SEED_SILENT = { raw: 101444, gzip: 29773 };

const { values: opts } = parseArgs({
  options: {
    rounds: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '2' },
    ttl: { type: 'string', default: '4' },
    'tabs-ttl': { type: 'string', default: '8' },
    tabs: { type: 'string', default: '5' },
    cycles: { type: 'string', default: '3' },
    reloads: { type: 'string', default: '20' },
    cold: { type: 'string', default: '10' },
    serving: { type: 'string', default: 'no-store,cached' },
    only: { type: 'string', default: 'latency,tabs,reload,cold' },
    'update-readme': { type: 'boolean', default: false },
    'report-only': { type: 'boolean', default: false },
    chromium: { type: 'string', default: process.env.BENCH_CHROMIUM ?? '' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (opts.help) {
  console.log(`usage: tools/bench/run [--rounds 20] [--warmup 2] [--ttl 4] [--tabs-ttl 8] [--tabs 5] [--cycles 3] [--reloads 20]
                       [--cold 10] [--only latency,tabs,reload,cold] [--serving no-store,cached]
                       [--update-readme] [--report-only] [--chromium PATH]
  --serving  the latency passes: no-store (every file, as the end-to-end AppServer serves the dist) and
             cached (hashed assets and oidc-client-ts cacheable for a year, as deploy/nginx serves them)
  --report-only  measure nothing: print the table of target/bench/latest.json again (with --update-readme,
                 put it in the README)`);
  process.exit(0);
}
const N = {
  rounds: positive('rounds', 1),
  warmup: positive('warmup', 0),
  ttl: positive('ttl', 3),
  tabsTtl: positive('tabs-ttl', 3),
  tabs: positive('tabs', 1),
  cycles: positive('cycles', 1),
  reloads: positive('reloads', 1),
  cold: positive('cold', 1),
};
const SERVING = {
  'no-store': { short: 'no-store', long: 'every file `Cache-Control: no-store`, as the end-to-end AppServer serves the dist: each renewal fetches the silent pages again (and oidc-client-ts its script; this app\'s silent page is one file, its loader and wasm inline).' },
  cached: { short: 'cached', long: 'trunk-hashed js/wasm/css and the oidc-client-ts script `public, max-age=31536000, immutable`, as `deploy/nginx` serves hashed assets; html stays no-store.' },
};
const SERVING_MODES = opts.serving.split(',').map((s) => s.trim()).filter(Boolean);
for (const mode of SERVING_MODES) {
  if (!SERVING[mode]) throw new Error(`--serving: unknown mode ${mode} (no-store, cached)`);
}
const ONLY = new Set(opts.only.split(',').map((s) => s.trim()).filter(Boolean));
for (const phase of ONLY) {
  if (!['latency', 'tabs', 'reload', 'cold'].includes(phase)) throw new Error(`--only: unknown phase ${phase}`);
}
function positive(name, min) {
  const value = Number(opts[name]);
  if (!Number.isInteger(value) || value < min) throw new Error(`--${name} must be an integer >= ${min}`);
  return value;
}

const say = (text) => process.stderr.write(`\x1b[1m==> ${text}\x1b[0m\n`);
const sleep = (millis) => new Promise((resolve) => setTimeout(resolve, millis));

// ---------------------------------------------------------------------------------------------------
// Serving

function page(name, config) {
  const html = readFileSync(path.join(PAGES, name), 'utf8');
  return { type: 'text/html; charset=utf-8', body: html.replace('/*CONFIG*/null', JSON.stringify(config)) };
}

async function serve(site) {
  const server = await serveSite(site);
  onStop(() => server.close());
  return { ...server, overrides: site.overrides };
}

// ---------------------------------------------------------------------------------------------------
// Browser helpers

/** Records every finished request of `page` (its frames included) with wall-clock start and end. */
function recordNetwork(page) {
  const log = [];
  page.on('requestfinished', (request) => {
    const timing = request.timing();
    const url = new URL(request.url());
    log.push({
      origin: url.origin,
      path: url.pathname,
      query: url.search,
      method: request.method(),
      type: request.resourceType(),
      main: request.frame() === page.mainFrame(),
      start: timing.startTime,
      end: timing.responseEnd >= 0 ? timing.startTime + timing.responseEnd : null,
    });
  });
  return log;
}

/**
 * Whether the built app has the session panel's "Renew now" button (`AuthHandle::renew_now`): its id is
 * in the wasm's data. With it, (a) renews on demand with normal tokens; without, on short tokens.
 */
function appHasRenewButton() {
  return readdirSync(DIST).some((f) => f.endsWith('_bg.wasm') && readFileSync(path.join(DIST, f)).includes('renew-now'));
}

/**
 * Where a renewal's time went, from the requests it made (wall-clock, from the browser): authorize
 * request -> silent page requested (the provider's redirect), silent page loaded (document and what it
 * loads), silent page -> token request (the page runs, posts, the parent checks), the token exchange,
 * and the rest of `total` (before the authorize request, and after the token response: validation,
 * storage).
 */
function breakdown(requests, provider, total) {
  const auth = requests.find((r) => r.origin === provider.origin && r.path === '/auth' && r.query.includes('prompt=none'));
  const silentDoc = requests.find((r) => r.path.startsWith('/silent/') && r.type === 'document');
  const token = requests.find((r) => r.origin === provider.origin && r.path === '/token' && r.method === 'POST');
  if (!auth || !silentDoc || !token || token.end === null) return null;
  const silentLoads = requests.filter((r) => !r.main && r.start >= silentDoc.start && r.start < token.start && r.end !== null);
  const silentLoaded = Math.max(...silentLoads.map((r) => r.end), silentDoc.end ?? silentDoc.start);
  return {
    authorize: silentDoc.start - auth.start,
    silent_page: silentLoaded - silentDoc.start,
    to_token_request: token.start - silentLoaded,
    token_exchange: token.end - token.start,
    rest: total - (token.end - auth.start),
    silent_requests: silentLoads.length,
  };
}

// ---------------------------------------------------------------------------------------------------
// 2. Renewal latency

async function latency(browser, { label, app, refresh, floor, peer, provider }) {
  const context = await browser.newContext();
  const appPage = await context.newPage();
  await signIn(appPage, app.origin, provider);
  // (a') the same app renewing by refresh token (`renewal` auto, `offline_access`), on its own origin.
  const refreshPage = await context.newPage();
  await signIn(refreshPage, refresh.origin, provider);
  const floorPage = await context.newPage();
  await floorPage.goto(`${floor.origin}/bench/floor.html`);
  await floorPage.waitForSelector('body[data-ready]', { timeout: 15000 });
  const peerPage = await context.newPage();
  await peerPage.goto(`${peer.origin}/bench/peer.html`);
  await peerPage.waitForSelector('body[data-ready]', { timeout: 15000 });

  const nets = { app: recordNetwork(appPage), floor: recordNetwork(floorPage), peer: recordNetwork(peerPage) };
  const samples = { app: [], floor: [], peer: [], refresh: [] };
  const failures = { app: [], floor: [], peer: [], refresh: [] };
  const parts = { app: [], floor: [], peer: [] };
  const floorMessage = [];
  // DPoP (#15): the proofs each renewal of (a) and (a') signed, read from the app's user-timing
  // measures (yew-oidc's `oidc-renew:dpop-proof`, one per proof): their count and summed duration.
  const proofs = { app: { ms: [], count: [] }, refresh: { ms: [], count: [] } };
  const clearProofs = (page) => page.evaluate((name) => performance.clearMeasures(name), PROOF_MEASURE);
  const readProofs = (page) => page.evaluate(
    (name) => performance.getEntriesByName(name).map((entry) => entry.duration),
    PROOF_MEASURE,
  );
  const noteProofs = async (page, which) => {
    const durations = await readProofs(page);
    proofs[which].ms.push(durations.reduce((sum, d) => sum + d, 0));
    proofs[which].count.push(durations.length);
  };
  const readApp = (page = appPage) =>
    page.evaluate(() => ({
      count: Number(document.querySelector('#renewal-count')?.textContent ?? 'NaN'),
      failed: document.querySelectorAll('#event-log li[data-kind="renewal-failed"]').length,
      last: document.querySelector('#last-renewal')?.textContent ?? '',
      lastFailure: document.querySelector('#event-log li[data-kind="renewal-failed"]')?.textContent ?? '',
    }));
  let before = await readApp();
  let beforeRefresh = await readApp(refreshPage);
  const total = N.warmup + N.rounds;
  for (let round = 0; round < total; round++) {
    const warm = round < N.warmup;
    // (a) the app renews when asked (the session panel's Renew now button) or, without the button,
    // by itself on short tokens: wait for its next renewal to end.
    const mark = { app: nets.app.length };
    await clearProofs(appPage);
    if (N.renewButton) await appPage.click('#renew-now');
    await appPage.waitForFunction(
      ({ count, failed }) =>
        Number(document.querySelector('#renewal-count')?.textContent) > count ||
        document.querySelectorAll('#event-log li[data-kind="renewal-failed"]').length > failed,
      before,
      { polling: 100, timeout: (N.renewButton ? 0 : N.ttl * 1000) + 20000 },
    );
    const now = await readApp();
    // By the iframe: (a') measures the refresh token; a renewal of (a) by any other channel is a failure
    // of the setup (the provider issued it a refresh token), not a sample.
    const match = now.last.match(/succeeded in (\d+) ms by iframe/);
    const aMs = now.count > before.count && match ? Number(match[1]) : null;
    before = now;
    await sleep(150); // let the last requests' finished events arrive
    if (aMs === null) {
      failures.app.push(now.lastFailure || now.last);
    } else if (!warm) {
      samples.app.push(aMs);
      parts.app.push(breakdown(nets.app.slice(mark.app), provider, aMs));
      await noteProofs(appPage, 'app');
    }
    // (a'), right after (a): the refresh-token channel, asked for the same way.
    if (N.renewButton) {
      await clearProofs(refreshPage);
      await refreshPage.click('#renew-now');
      await refreshPage.waitForFunction(
        ({ count, failed }) =>
          Number(document.querySelector('#renewal-count')?.textContent) > count ||
          document.querySelectorAll('#event-log li[data-kind="renewal-failed"]').length > failed,
        beforeRefresh,
        { polling: 100, timeout: 20000 },
      );
      const after = await readApp(refreshPage);
      const byRefresh = after.last.match(/succeeded in (\d+) ms by refresh token/);
      const rMs = after.count > beforeRefresh.count && byRefresh ? Number(byRefresh[1]) : null;
      beforeRefresh = after;
      if (rMs === null) failures.refresh.push(after.lastFailure || after.last);
      else if (!warm) {
        samples.refresh.push(rMs);
        await noteProofs(refreshPage, 'refresh');
      }
    }
    // (b) and (c), right after (a), in alternating order.
    const order = round % 2 === 0 ? ['floor', 'peer'] : ['peer', 'floor'];
    for (const which of order) {
      const pageOf = which === 'floor' ? floorPage : peerPage;
      const start = nets[which].length;
      const result = await pageOf.evaluate(which === 'floor' ? () => window.floorRenew() : () => window.peerRenew());
      await sleep(150);
      if (!result.ok) {
        failures[which].push(result.error);
      } else if (!warm) {
        samples[which].push(result.ms);
        parts[which].push(breakdown(nets[which].slice(start), provider, result.ms));
        if (which === 'floor') floorMessage.push(result.message_ms);
      }
    }
    process.stderr.write(`    ${label} round ${round + 1}/${total}${warm ? ' (warm-up)' : ''}: a ${aMs ?? 'failed'} ms, `
      + `a' ${warm ? '-' : samples.refresh.at(-1) ?? 'failed'} ms, `
      + `b ${round1(samples.floor.at(-1), warm)}, c ${round1(samples.peer.at(-1), warm)}\n`);
  }
  await context.close();

  const stats = {
    app: { ...summary(samples.app), failures: failures.app, samples: samples.app },
    floor: {
      ...summary(samples.floor),
      failures: failures.floor,
      samples: samples.floor.map((v) => round(v, 2)),
      to_message: summary(floorMessage),
    },
    peer: { ...summary(samples.peer), failures: failures.peer, samples: samples.peer.map((v) => round(v, 2)) },
    refresh: { ...summary(samples.refresh), failures: failures.refresh, samples: samples.refresh },
    dpop: Object.fromEntries(['app', 'refresh'].map((which) => [which, {
      ...summary(proofs[which].ms),
      proofs_per_renewal: summary(proofs[which].count).median,
      samples: proofs[which].ms.map((v) => round(v, 2)),
    }])),
  };
  const medianParts = (list) => {
    const ok = list.filter(Boolean);
    if (!ok.length) return null;
    const keys = ['authorize', 'silent_page', 'to_token_request', 'token_exchange', 'rest'];
    return Object.fromEntries([...keys.map((k) => [k, summary(ok.map((p) => p[k])).median]),
      ['silent_requests', summary(ok.map((p) => p.silent_requests)).median], ['n', ok.length]]);
  };
  const breakdowns = { app: medianParts(parts.app), floor: medianParts(parts.floor), peer: medianParts(parts.peer) };
  const ratioOf = (x, y, key) => (stats[x][key] && stats[y][key] ? round(stats[x][key] / stats[y][key], 2) : null);
  return {
    ...stats,
    ratios: {
      a_over_b: { median: ratioOf('app', 'floor', 'median'), p90: ratioOf('app', 'floor', 'p90') },
      a_over_c: { median: ratioOf('app', 'peer', 'median'), p90: ratioOf('app', 'peer', 'p90') },
      refresh_over_a: { median: ratioOf('refresh', 'app', 'median'), p90: ratioOf('refresh', 'app', 'p90') },
    },
    breakdown: breakdowns,
  };
}

function round1(value, warm) {
  return warm || value === undefined ? '-' : `${value.toFixed(1)} ms`;
}

// ---------------------------------------------------------------------------------------------------
// 3. Tab efficiency

const TOKEN_WATCH = `(() => {
  const key = ${JSON.stringify(SESSION_KEY)};
  const seen = new Set();
  window.__benchTokens = [];
  const note = (text) => {
    try {
      const token = JSON.parse(text).access_token;
      if (token && !seen.has(token)) { seen.add(token); window.__benchTokens.push(Date.now()); }
    } catch {}
  };
  // Other tabs' writes arrive as storage events (every write, even one overwritten at once); this
  // tab's own writes are seen by polling.
  addEventListener('storage', (e) => { if (e.key === key && e.newValue) note(e.newValue); });
  setInterval(() => note(localStorage.getItem(key)), 100);
  note(localStorage.getItem(key));
})()`;

/**
 * Renewal cycles among token arrival times: a new access token more than `gap` ms after the previous
 * one starts a cycle (two tabs renewing in one cycle give two tokens close together: one cycle).
 */
function cyclesOf(times, gap) {
  let cycles = 0;
  let last = -Infinity;
  for (const t of times) {
    if (t - last > gap) cycles++;
    last = t;
  }
  return cycles;
}

async function tabs(browser, { app, provider }) {
  const context = await browser.newContext();
  const pages = [await context.newPage()];
  await signIn(pages[0], app.origin, provider);
  for (let i = 1; i < N.tabs; i++) {
    const tab = await context.newPage();
    await tab.goto(`${app.origin}/`);
    await tab.waitForSelector('#auth-status.signed-in', { timeout: 15000 });
    pages.push(tab);
  }
  // Which tab sent what, from the browser's side (the provider's counters are the figure).
  let counting = false;
  const sent = pages.map(() => ({ authorize: 0, token: 0 }));
  pages.forEach((tab, i) => tab.on('request', (request) => {
    const url = new URL(request.url());
    if (!counting || url.origin !== provider.origin) return;
    if (url.pathname === '/auth' && url.searchParams.get('prompt') === 'none') sent[i].authorize++;
    if (url.pathname === '/token' && request.method() === 'POST') sent[i].token++;
  }));
  const watcher = pages[0];
  await watcher.evaluate(TOKEN_WATCH);
  // Count from a quiet moment: a renewal has just ended (and any second renewal in its cycle too), the
  // next is about two thirds of a token lifetime away.
  const gap = (N.tabsTtl * 1000) / 3;
  await watcher.waitForFunction(() => window.__benchTokens.length >= 2, null, { polling: 100, timeout: N.tabsTtl * 1000 + 20000 });
  await sleep(1000);
  const renewalsBefore = await Promise.all(pages.map(renewalCount));
  await provider.reset();
  counting = true;
  const startedAt = Date.now();
  const deadline = startedAt + (N.cycles + 2) * N.tabsTtl * 1000 + 20000;
  let times = [];
  for (;;) {
    times = (await watcher.evaluate(() => window.__benchTokens)).filter((t) => t > startedAt);
    if (cyclesOf(times, gap) >= N.cycles) break;
    if (Date.now() > deadline) throw new Error(`tabs: only ${cyclesOf(times, gap)} renewal cycles in ${N.cycles + 2} token lifetimes`);
    await sleep(200);
  }
  await sleep(1000); // a second renewal in the last cycle would have started by now
  const stats = await provider.stats();
  counting = false;
  times = (await watcher.evaluate(() => window.__benchTokens)).filter((t) => t > startedAt);
  const renewalsAfter = await Promise.all(pages.map(renewalCount));
  await context.close();
  const cycles = cyclesOf(times, gap);
  return {
    tabs: N.tabs,
    ttl_s: N.tabsTtl,
    cycles,
    new_tokens: times.length,
    authorize_prompt_none: stats.authorize_prompt_none,
    authorize: stats.authorize,
    token: stats.token,
    renewals_per_tab: renewalsAfter.map((n, i) => n - renewalsBefore[i]),
    sent_per_tab: sent,
    authorize_per_cycle: round(stats.authorize_prompt_none / cycles, 2),
    token_per_cycle: round(stats.token / cycles, 2),
    seconds: round((Date.now() - startedAt) / 1000, 1),
  };
}

async function renewalCount(page) {
  return page.evaluate(() => Number(document.querySelector('#renewal-count')?.textContent ?? 0));
}

// ---------------------------------------------------------------------------------------------------
// 4. Reload cost

// Records, from navigation start (performance.now()), when #auth-status first shows each state, and
// the next animation frame after it (the frame that paints it).
const PAINT_MARKS = `(() => {
  const marks = (window.__benchMarks = {});
  const check = () => {
    const el = document.getElementById('auth-status');
    if (!el) return;
    const now = performance.now();
    if (marks.status === undefined) marks.status = now;
    for (const state of ['loading', 'signed-in', 'signed-out', 'failed']) {
      if (el.classList.contains(state) && marks[state] === undefined) {
        marks[state] = now;
        requestAnimationFrame(() => { marks[state + ' frame'] = performance.now(); });
      }
    }
  };
  new MutationObserver(check).observe(document, { childList: true, subtree: true, attributes: true, attributeFilter: ['class'] });
})()`;

async function reloads(browser, { app, provider }) {
  const signedIn = await browser.newContext();
  const inPage = await signedIn.newPage();
  await signIn(inPage, app.origin, provider);
  await inPage.addInitScript(PAINT_MARKS);
  const signedOut = await browser.newContext();
  const outPage = await signedOut.newPage();
  await outPage.addInitScript(PAINT_MARKS);
  await outPage.goto(`${app.origin}/`);
  await outPage.waitForSelector('#auth-status.signed-out', { timeout: 15000 });

  const providerRequests = { in: [], out: [] };
  const seen = { in: 0, out: 0 };
  inPage.on('request', (r) => { if (r.url().startsWith(provider.origin)) seen.in++; });
  outPage.on('request', (r) => { if (r.url().startsWith(provider.origin)) seen.out++; });

  const paint = { in: [], out: [] };
  const dom = { in: [], out: [] };
  const first = { in: [], out: [] };
  const counted = { in: [], out: [] };
  const one = async (which) => {
    const p = which === 'in' ? inPage : outPage;
    const state = which === 'in' ? 'signed-in' : 'signed-out';
    const statsBefore = await provider.stats();
    const seenBefore = seen[which];
    await p.reload();
    await p.waitForFunction((s) => window.__benchMarks?.[`${s} frame`] !== undefined, state, { polling: 100, timeout: 15000 });
    await sleep(500); // anything the reload sends late still counts
    const marks = await p.evaluate(() => window.__benchMarks);
    const statsAfter = await provider.stats();
    const delta = Object.keys(statsAfter).reduce((sum, k) => sum + (statsAfter[k] - (statsBefore[k] ?? 0)), 0);
    return { paint: marks[`${state} frame`], dom: marks[state], first: marks.status, requests: seen[which] - seenBefore, counted: delta };
  };
  for (let i = 0; i < N.reloads + 1; i++) {
    const order = i % 2 === 0 ? ['in', 'out'] : ['out', 'in'];
    for (const which of order) {
      const result = await one(which);
      if (i === 0) continue; // warm-up
      paint[which].push(result.paint);
      dom[which].push(result.dom);
      first[which].push(result.first);
      providerRequests[which].push(result.requests);
      counted[which].push(result.counted);
    }
  }
  await signedIn.close();
  await signedOut.close();
  const signedInPaint = summary(paint.in);
  const signedOutPaint = summary(paint.out);
  return {
    reloads: N.reloads,
    provider_requests_seen: providerRequests.in,
    provider_requests_counted: counted.in,
    provider_requests_total: Math.max(sum(providerRequests.in), sum(counted.in)),
    signed_out_provider_requests_total: Math.max(sum(providerRequests.out), sum(counted.out)),
    signed_in_paint: { ...signedInPaint, samples: paint.in.map((v) => round(v, 1)) },
    signed_out_paint: { ...signedOutPaint, samples: paint.out.map((v) => round(v, 1)) },
    signed_in_dom: summary(dom.in),
    signed_out_dom: summary(dom.out),
    signed_in_first_status: summary(first.in),
    signed_out_first_status: summary(first.out),
    ratio: signedInPaint.median && signedOutPaint.median ? round(signedInPaint.median / signedOutPaint.median, 2) : null,
    // Each signed-in reload against the signed-out one next to it: less sensitive to load drifting.
    pairwise_ratio_median: round(summary(paint.in.map((v, i) => v / paint.out[i])).median, 2),
  };
}

const sum = (list) => list.reduce((a, b) => a + b, 0);

// ---------------------------------------------------------------------------------------------------
// 5. Cold first paint on a slow network

/** Chromium's network throttling of the cold loads: a slow mobile link. */
const COLD_NETWORK = { offline: false, latency: 150, downloadThroughput: (1.6e6 / 8), uploadThroughput: (750e3 / 8) };

/**
 * Navigation -> first signed-in paint (the app, a stored session) and -> first paint (the floor, whose
 * `#auth-status.signed-in` is its content), each with an empty cache on the throttled network, gzip as
 * deploy/nginx serves; alternating app and floor, N.cold of each after one warm-up pair.
 */
async function coldPaint(browser, { app, floor, provider }) {
  const context = await browser.newContext();
  const appPage = await context.newPage();
  await signIn(appPage, app.origin, provider);
  const floorPage = await context.newPage();
  const pages = { app: appPage, floor: floorPage };
  const origins = { app: app.origin, floor: floor.origin };
  const cdp = {};
  for (const [which, page] of Object.entries(pages)) {
    await page.addInitScript(PAINT_MARKS);
    cdp[which] = await context.newCDPSession(page);
    await cdp[which].send('Network.enable');
    await cdp[which].send('Network.setCacheDisabled', { cacheDisabled: true });
  }
  const samples = { app: [], floor: [] };
  const bytes = { app: [], floor: [] };
  for (let i = 0; i < N.cold + 1; i++) {
    const order = i % 2 === 0 ? ['app', 'floor'] : ['floor', 'app'];
    for (const which of order) {
      const page = pages[which];
      await cdp[which].send('Network.clearBrowserCache');
      await cdp[which].send('Network.emulateNetworkConditions', COLD_NETWORK);
      let received = 0;
      const onData = (event) => { received += event.encodedDataLength; };
      cdp[which].on('Network.loadingFinished', onData);
      await page.goto(`${origins[which]}/`, { waitUntil: 'commit' });
      await page.waitForFunction(() => window.__benchMarks?.['signed-in frame'] !== undefined, null, { polling: 100, timeout: 60000 });
      const marks = await page.evaluate(() => window.__benchMarks);
      cdp[which].off('Network.loadingFinished', onData);
      await cdp[which].send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
      if (i === 0) continue; // warm-up: the browser's own first-use costs
      samples[which].push(marks['signed-in frame']);
      bytes[which].push(received);
    }
    process.stderr.write(`    cold ${i === 0 ? 'warm-up' : `${i}/${N.cold}`}: app ${round(samples.app.at(-1) ?? NaN, 0)} ms, floor ${round(samples.floor.at(-1) ?? NaN, 0)} ms\n`);
  }
  await context.close();
  const app_ = summary(samples.app);
  const floor_ = summary(samples.floor);
  return {
    runs: N.cold,
    network: { latency_ms: COLD_NETWORK.latency, down_mbps: 1.6, up_mbps: 0.75, cache: 'disabled and cleared', encoding: 'gzip -9' },
    app: { ...app_, samples: samples.app.map((v) => round(v, 1)), bytes_median: summary(bytes.app).median },
    floor: { ...floor_, samples: samples.floor.map((v) => round(v, 1)), bytes_median: summary(bytes.floor).median },
    ratio: app_.median && floor_.median ? round(app_.median / floor_.median, 2) : null,
    pairwise_ratio_median: round(summary(samples.app.map((v, i) => v / samples.floor[i])).median, 2),
  };
}

// ---------------------------------------------------------------------------------------------------
// The report

function machine(browserVersion, loadAtStart) {
  let model = 'unknown';
  try {
    model = readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.+)$/m)?.[1]?.trim() ?? model;
  } catch {
    // not Linux
  }
  let nproc = os.availableParallelism?.() ?? os.cpus().length;
  try {
    nproc = Number(execFileSync('nproc', { encoding: 'utf8' }).trim());
  } catch {
    // keep Node's figure
  }
  return {
    nproc,
    cpu: model,
    memory_gb: round(os.totalmem() / 1e9, 1),
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    chromium: browserVersion,
    // What else ran: the 1-minute load average when the run started and when it ended.
    load_average: { start: round(loadAtStart, 2), end: round(os.loadavg()[0], 2) },
  };
}

/** The bundles' gzip figures and the ratios of #17, side by side. */
function sizeSummary(sizes) {
  const gz = (name) => sizes[name]?.gzip ?? null;
  const div = (a, b) => (a && b ? round(a / b, 2) : null);
  return {
    app: gz('app'),
    doctor: gz('doctor'),
    floor: gz('floor'),
    example: gz('example'),
    example_hooked: gz('example_hooked'),
    example_nodpop: gz('example_nodpop'),
    peer: gz('peer'),
    app_over_floor: div(gz('app'), gz('floor')),
    app_over_peer: div(gz('app'), gz('peer')),
    example_over_peer: div(gz('example'), gz('peer')),
    library_over_floor: gz('example') && gz('floor') ? gz('example') - gz('floor') : null,
    library_over_floor_like_for_like: gz('example_hooked') && gz('floor') ? gz('example_hooked') - gz('floor') : null,
    library_over_floor_without_dpop: gz('example_nodpop') && gz('floor') ? gz('example_nodpop') - gz('floor') : null,
    dpop_cost: gz('example') && gz('example_nodpop') ? gz('example') - gz('example_nodpop') : null,
  };
}

function report(result) {
  const { sizes, latency: lat, tabs: tab, reload, cold, machine: m } = result;
  const out = [];
  out.push(`Measured ${result.date} on ${m.nproc} × ${m.cpu} (nproc ${m.nproc}, ${m.memory_gb} GB), `
    + `headless Chromium ${m.chromium}, Node ${m.node}`
    + (m.load_average ? `, 1-minute load average ${m.load_average.start} at the start and ${m.load_average.end} at the end` : '')
    + '. Absolute times vary with the machine and its load; '
    + 'the ratios, measured in one run with (a), (b) and (c) alternating, are what to compare.');
  out.push('');

  const silentGoal = verdict(sizes.silent.gzip, GOALS.silent_gzip_max, 'max', kB);
  const appGoal = verdict(sizes.app.gzip, GOALS.app_gzip_max, 'max', kB);
  const exampleGoal = verdict(sizes.example?.gzip ?? null, GOALS.example_gzip_max, 'max', kB);
  const libraryGoal = verdict(sizeSummary(sizes).library_over_floor, GOALS.library_over_floor_max, 'max', kB);
  out.push('**Bundle sizes** (1 kB = 1000 B; each file compressed on its own, as served)');
  out.push('');
  out.push(table(['bundle', 'raw', 'gzip -9', 'brotli', 'goal (gzip)', 'result'], [
    [`silent page (${sizes.silent.files.map((f) => path.basename(f.file).replace(/-[0-9a-f]{8,}/, '')).join(' + ')})`,
      kB(sizes.silent.raw), kB(sizes.silent.gzip), kB(sizes.silent.brotli), '≤ 6.0 kB', silentGoal.text],
    ['seed\'s silent page (auth0.js 8.10.1)', kB(SEED_SILENT.raw), kB(SEED_SILENT.gzip), '—', 'reference', ''],
    ['oidc-client-ts 3.5.0 silent page (html + min.js)', kB(sizes.peer_silent.raw), kB(sizes.peer_silent.gzip),
      kB(sizes.peer_silent.brotli), 'reference', ''],
    ['app (index.html\'s js + wasm + css)', kB(sizes.app.raw), kB(sizes.app.gzip), kB(sizes.app.brotli),
      '≤ 200.0 kB', appGoal.text],
    ['setup doctor\'s page (/doctor/, its own bundle; not loaded by the app)', kB(sizes.doctor.raw), kB(sizes.doctor.gzip), kB(sizes.doctor.brotli), '', ''],
    ...(sizes.example ? [['minimal app on the library (examples/minimal, glue not minified: its build uses no Node)',
      kB(sizes.example.raw), kB(sizes.example.gzip), kB(sizes.example.brotli), '≤ 180.0 kB', exampleGoal.text]] : []),
    ...(sizes.example_hooked ? [['the same with the app\'s post-build hook (glue minified, short import names), as the others are built',
      kB(sizes.example_hooked.raw), kB(sizes.example_hooked.gzip), kB(sizes.example_hooked.brotli), '', '']] : []),
    ...(sizes.example_nodpop ? [['the minimal app without DPoP (`trunk build --release --no-default-features`: yew-oidc\'s `dpop` feature off)',
      kB(sizes.example_nodpop.raw), kB(sizes.example_nodpop.gzip), kB(sizes.example_nodpop.brotli), '', '']] : []),
    ...(sizes.floor ? [['floor: hello Yew 0.23 + yew-router 0.20 (tools/bench/floor)',
      kB(sizes.floor.raw), kB(sizes.floor.gzip), kB(sizes.floor.brotli), 'reference', '']] : []),
    ...(sizes.peer ? [[`Rust peer: minimal app on yew-oauth2 ${sizes.peer_version} (openid; tools/bench/peer)`,
      kB(sizes.peer.raw), kB(sizes.peer.gzip), kB(sizes.peer.brotli), 'reference', '']] : []),
  ]));
  out.push('');
  out.push('Every app built the same way (`trunk build --release`: the workspace\'s release profile, wasm-opt -Oz '
    + '`--low-memory-unused --converge`, glue minified by tools/minify-glue.mjs), the example as its README says '
    + '(the same wasm-opt settings, glue as wasm-bindgen writes it).');
  out.push('');
  const ratios = sizeSummary(sizes);
  if (ratios.floor && ratios.peer && ratios.example) {
    out.push(table(['ratio (gzip)', 'value', 'goal', 'result'], [
      ['app / floor', `${ratios.app_over_floor.toFixed(2)}x`, '', ''],
      ['app / Rust peer', `${ratios.app_over_peer.toFixed(2)}x`, '', ''],
      ['minimal app on the library / Rust peer', `${ratios.example_over_peer.toFixed(2)}x`, '', ''],
      ['the library\'s own cost: minimal app − floor', kB(ratios.library_over_floor), '≤ 80.0 kB', libraryGoal.text],
      ...(ratios.library_over_floor_like_for_like ? [['the same, like for like (both with the post-build hook)', kB(ratios.library_over_floor_like_for_like), '', '']] : []),
      ...(ratios.library_over_floor_without_dpop ? [['the same without DPoP (`dpop` feature off)', kB(ratios.library_over_floor_without_dpop), '', '']] : []),
      ...(ratios.dpop_cost ? [['DPoP\'s own cost: minimal app − the same without DPoP', kB(ratios.dpop_cost), '', '']] : []),
    ]));
    out.push('');
  }

  const latencyGoals = {};
  const fails = (x) => (x.failures.length ? ` (${x.failures.length} failed)` : '');
  const passes = Object.entries(lat);
  const { settings } = result;
  out.push(`**Renewal latency** (per serving mode ${settings.warmup} warm-up rounds, then ${settings.rounds} rounds of `
    + `(a), (b), (c); ${settings.renewButton
      ? `TOKEN_TTL ${settings.latencyTtl} s, each renewal of (a) asked for by the session panel's Renew now button`
      : `TOKEN_TTL ${settings.latencyTtl ?? settings.ttl} s so that the app renews by itself`}; local provider on loopback)`);
  out.push('');
  const rows = [];
  for (const [mode, l] of passes) {
    const ab = verdict(l.ratios.a_over_b.median, GOALS.a_over_b_max, 'max', ratio);
    const ac = verdict(l.ratios.a_over_c.median, GOALS.a_over_c_below, 'below', ratio);
    latencyGoals[`a_over_b (${mode})`] = ab;
    latencyGoals[`a_over_c (${mode})`] = ac;
    const served = SERVING[mode].short;
    rows.push(
      [served, '(a) this app', 'iframe created → new session stored ¹', `${l.app.n}${fails(l.app)}`, ms(l.app.median), ms(l.app.p90), '', '', ''],
      ...(l.refresh && l.refresh.n ? [[served, '(a\') this app, refresh token', 'refresh request → new session stored ⁴',
        `${l.refresh.n}${fails(l.refresh)}`, ms(l.refresh.median), ms(l.refresh.p90),
        `a'/a ${ratio(l.ratios.refresh_over_a.median)} · ${ratio(l.ratios.refresh_over_a.p90)}`, '', '']] : []),
      [served, '(b) floor', 'iframe created → token response read ²', `${l.floor.n}${fails(l.floor)}`, ms(l.floor.median), ms(l.floor.p90),
        `a/b ${ratio(l.ratios.a_over_b.median)} · ${ratio(l.ratios.a_over_b.p90)}`, 'a/b ≤ 1.3', ab.text],
      [served, '(c) oidc-client-ts 3.5.0', 'signinSilent() called → user resolved ³', `${l.peer.n}${fails(l.peer)}`, ms(l.peer.median), ms(l.peer.p90),
        `a/c ${ratio(l.ratios.a_over_c.median)} · ${ratio(l.ratios.a_over_c.p90)}`, 'a/c < 1', ac.text],
    );
  }
  out.push(table(['served', 'variant', 'timer covers', 'n', 'median', 'p90', 'ratio a/x (median · p90)', 'goal', 'result'], rows));
  out.push('');
  out.push(passes.map(([mode]) => `*${SERVING[mode].short}*: ${SERVING[mode].long}`).join('  \n'));
  out.push('');
  out.push(`Where the time goes (medians, ms, from the browser's request timings): authorize = authorize request → `
    + 'silent page requested (the provider\'s redirect); silent page = its document and what it loads; → token = '
    + 'silent page loaded → token request sent (the page runs, posts, the parent checks); rest = the timer minus '
    + 'authorize-to-token-response (before the authorize request, and after the token response: validation, storage).');
  out.push('');
  const breakdownRows = [];
  for (const [mode, l] of passes) {
    const bd = (x) => l.breakdown[x];
    const cell = (x, k) => (bd(x) && bd(x)[k] !== null ? bd(x)[k].toFixed(1) : '—');
    for (const x of ['app', 'floor', 'peer']) {
      breakdownRows.push([
        SERVING[mode].short, { app: '(a) app', floor: '(b) floor', peer: '(c) oidc-client-ts' }[x],
        cell(x, 'authorize'), `${cell(x, 'silent_page')} (${bd(x)?.silent_requests ?? '—'})`, cell(x, 'to_token_request'),
        cell(x, 'token_exchange'), cell(x, 'rest'), l[x].median?.toFixed(1) ?? '—',
      ]);
    }
  }
  out.push(table(['served', 'variant', 'authorize', 'silent page (requests)', '→ token', 'token exchange', 'rest', 'total (median)'], breakdownRows));
  out.push('');
  out.push('¹ The app\'s own figure (session panel, `renewal succeeded in N ms`): from the renewal\'s start, just '
    + 'before its iframe is created (state, nonce and PKCE already made), to the new session stored; includes the code '
    + 'exchange, the id_token signature check (WebCrypto, JWKS cached) and the claim checks. Whole milliseconds.  ');
  out.push(`² tools/bench/pages/floor.html: PKCE (WebCrypto), state, then the timer starts; a hidden iframe to the `
    + `authorize URL, a one-line silent page posting location.hash, one fetch POST to /token, the JSON read; no `
    + `validation. To the message alone: median ${passes.map(([, l]) => ms(l.floor.to_message.median)).join(' / ')}.  `);
  out.push('³ tools/bench/pages/peer.html: `UserManager.signinSilent()` (its state, PKCE, iframe, silent page with '
    + '`signinSilentCallback()`, code exchange, id_token decoded but not signature-checked, user stored in '
    + 'sessionStorage); discovery fetched before timing.  ');
  out.push('⁴ The same app on its own origin with `"renewal": "auto"` and `offline_access` in `scope`: the provider '
    + 'issues rotating refresh tokens and the app renews with them, no iframe (the channel that keeps the session '
    + 'alive where third-party cookies are blocked). From the refresh request\'s start (its lock held) to the new '
    + 'session stored: the token request, a refreshed id_token\'s signature and claims when one comes back, storage. '
    + 'Whole milliseconds.');
  out.push('');

  const dpopRows = [];
  for (const [mode, l] of passes) {
    for (const [which, variant, renewal] of [['app', '(a) iframe', l.app], ['refresh', '(a\') refresh token', l.refresh]]) {
      const d = l.dpop?.[which];
      if (!d || !d.n) continue;
      const share = d.median !== null && renewal.median ? `${((100 * d.median) / renewal.median).toFixed(0)}%` : '—';
      dpopRows.push([SERVING[mode].short, variant, String(d.proofs_per_renewal ?? '—'), ms(d.median), ms(d.p90), share]);
    }
  }
  if (dpopRows.length) {
    out.push('**DPoP proof per renewal** (#15: the local provider offers ES256 DPoP proofs, so `dpop: auto` binds '
      + 'the tokens; each renewal\'s token request carries one proof)');
    out.push('');
    out.push(table(['served', 'variant', 'proofs per renewal (median)', 'proof time per renewal, median', 'p90',
      'share of the renewal\'s median'], dpopRows));
    out.push('');
    out.push('From yew-oidc\'s user-timing measure `oidc-renew:dpop-proof`, one per proof: the `htu`, a `jti` from '
      + '`crypto.getRandomValues`, the claims and header JSON, the ES256 signature by the non-extractable key '
      + '(WebCrypto), the compact JWS (and for an API call, the `ath` hash). Summed over the renewal\'s proofs: two '
      + 'when a nonce challenge is answered.');
    out.push('');
  }

  const tabGoal = verdict(tab.authorize_per_cycle, GOALS.authorize_per_cycle, 'max', ratio);
  const reqGoal = verdict(reload.provider_requests_total, GOALS.reload_provider_requests, 'max');
  const paintGoal = verdict(reload.ratio, GOALS.reload_paint_ratio_max, 'max', (v) => `${v.toFixed(2)}x`);
  out.push('**Tabs and reloads**');
  out.push('');
  out.push(table(['measure', 'value', 'goal', 'result'], [
    [`tabs: authorize requests per renewal cycle (${tab.tabs} tabs, TOKEN_TTL ${tab.ttl_s} s, ${tab.cycles} cycles)`,
      `${ratio(tab.authorize_per_cycle)} (${tab.authorize_prompt_none} authorize, ${tab.token} token requests; renewals by tab ${tab.renewals_per_tab.join('/')})`,
      '1', tabGoal.text],
    [`reload with a stored session: provider requests (${reload.reloads} reloads)`, String(reload.provider_requests_total), '0', reqGoal.text],
    ['reload: first signed-in paint, from navigation start', `median ${ms(reload.signed_in_paint.median)}, p90 ${ms(reload.signed_in_paint.p90)}`, '', ''],
    ['reload without a session: first signed-out paint, from navigation start', `median ${ms(reload.signed_out_paint.median)}, p90 ${ms(reload.signed_out_paint.p90)}`, '', ''],
    ['signed-in / signed-out paint (ratio of the medians)', `${reload.ratio?.toFixed(2) ?? '—'}x (median of pairwise ratios ${reload.pairwise_ratio_median?.toFixed(2) ?? '—'}x)`, '≤ 1.2x', paintGoal.text],
  ]));
  out.push('');
  out.push('Paint = the first animation frame after `#auth-status` shows the state (a MutationObserver from '
    + 'an init script); both pages reload alternately, no-store, so each reload fetches and compiles the bundle.');
  let coldGoal = null;
  if (cold) {
    coldGoal = verdict(cold.ratio, GOALS.cold_paint_ratio_max, 'max', (v) => `${v.toFixed(2)}x`);
    out.push('');
    out.push(`**Cold first paint on a slow network** (Chromium throttled to ${cold.network.down_mbps} Mbps down, `
      + `${cold.network.up_mbps} Mbps up, ${cold.network.latency_ms} ms latency; cache disabled and cleared; files gzip -9 as `
      + `deploy/nginx serves them; ${cold.runs} loads each after a warm-up pair, app and floor alternating)`);
    out.push('');
    out.push(table(['page', 'timer covers', 'n', 'median', 'p90', 'bytes received (median)', 'ratio', 'goal', 'result'], [
      ['this app, signed in (a stored session)', 'navigation → first signed-in paint', String(cold.app.n), ms(cold.app.median), ms(cold.app.p90), kB(cold.app.bytes_median), '', '', ''],
      ['floor: hello Yew + router', 'navigation → first paint of its content', String(cold.floor.n), ms(cold.floor.median), ms(cold.floor.p90), kB(cold.floor.bytes_median),
        `${cold.ratio?.toFixed(2) ?? '—'}x (pairwise ${cold.pairwise_ratio_median?.toFixed(2) ?? '—'}x)`, '≤ 1.6x', coldGoal.text],
    ]));
  }
  const goals = { silent: silentGoal, app: appGoal, example: exampleGoal, library: libraryGoal, ...latencyGoals, tabs: tabGoal, reload_requests: reqGoal, reload_paint: paintGoal, ...(coldGoal ? { cold_paint: coldGoal } : {}) };
  return { markdown: out.join('\n'), goals };
}

function updateReadme(markdown) {
  const readme = path.join(ROOT, 'README.md');
  const text = readFileSync(readme, 'utf8');
  const begin = '<!-- bench:begin -->';
  const end = '<!-- bench:end -->';
  const from = text.indexOf(begin);
  const to = text.indexOf(end);
  if (from < 0 || to < from) throw new Error(`README.md has no ${begin} ... ${end} section to update`);
  writeFileSync(readme, `${text.slice(0, from + begin.length)}\n${markdown}\n${text.slice(to)}`);
}

// ---------------------------------------------------------------------------------------------------

async function main() {
  mkdirSync(OUT, { recursive: true });
  if (opts['report-only']) {
    const { markdown } = report(JSON.parse(readFileSync(path.join(OUT, 'latest.json'), 'utf8')));
    console.log(markdown);
    if (opts['update-readme']) {
      updateReadme(markdown);
      console.log('updated the Benchmarks table in README.md');
    }
    return;
  }
  const started = Date.now();
  const loadAtStart = os.loadavg()[0];

  say('bundle sizes');
  const sizes = {
    silent: bundleSizes(filesBelow(path.join(DIST, 'silent')), DIST),
    app: bundleSizes(appFiles(DIST), DIST),
    doctor: bundleSizes(appFiles(path.join(DIST, 'doctor')), DIST),
    ...Object.fromEntries(Object.entries(OTHER_DISTS).filter(([, dist]) => dist)
      .map(([name, dist]) => [name, bundleSizes(appFiles(dist), dist)])),
    peer_version: PEER_VERSION,
    peer_silent: bundleSizes([path.join(PAGES, 'peer-silent.html'), OIDC_CLIENT_TS], HERE),
    seed_silent: SEED_SILENT,
  };

  say('servers: the origins and three local providers');
  const sites = {};
  for (const mode of SERVING_MODES) {
    const cacheHashed = mode === 'cached';
    sites[mode] = {
      app: await serve({ name: `app-${mode}`, root: DIST, overrides: new Map(), cacheHashed }),
      refresh: await serve({ name: `refresh-${mode}`, root: DIST, overrides: new Map(), cacheHashed }),
      floor: await serve({ name: `floor-${mode}`, overrides: new Map(), cacheHashed }),
      peer: await serve({ name: `peer-${mode}`, overrides: new Map(), cacheHashed }),
    };
  }
  const tabsApp = await serve({ name: 'tabs', root: DIST, overrides: new Map() });
  const reloadApp = await serve({ name: 'reload', root: DIST, overrides: new Map() });
  const coldApp = await serve({ name: 'cold-app', root: DIST, overrides: new Map(), gzip: true });
  const coldFloor = OTHER_DISTS.floor ? await serve({ name: 'cold-floor', root: OTHER_DISTS.floor, overrides: new Map(), gzip: true }) : null;
  const latencyOrigins = SERVING_MODES.flatMap((mode) => Object.values(sites[mode]).map((site) => site.origin));
  N.renewButton = appHasRenewButton();
  N.latencyTtl = N.renewButton ? 300 : N.ttl;
  const [short, tabsProvider, long] = await Promise.all([
    startProvider({ root: ROOT, name: 'latency', ttl: N.latencyTtl, origins: latencyOrigins, logDir: OUT }),
    startProvider({ root: ROOT, name: 'tabs', ttl: N.tabsTtl, origins: [tabsApp.origin], logDir: OUT }),
    startProvider({ root: ROOT, name: 'reload', ttl: 300, origins: [reloadApp.origin, coldApp.origin], logDir: OUT }),
  ]);
  const common = { client_id: 'oidc-renew-demo', scope: 'openid profile email', audience: 'urn:oidc-renew:demo-api' };
  const shortConfig = { ...common, issuer: short.issuer };
  for (const mode of SERVING_MODES) {
    const { app, refresh, floor, peer } = sites[mode];
    setOverrides(app, { '/config.json': appConfig(DIST, short.issuer) });
    setOverrides(refresh, {
      '/config.json': appConfig(DIST, short.issuer, { renewal: 'auto', scope: 'openid profile email offline_access' }),
    });
    setOverrides(floor, {
      '/bench/floor.html': page('floor.html', shortConfig),
      '/silent/': page('floor-silent.html', shortConfig),
    });
    setOverrides(peer, {
      '/bench/peer.html': page('peer.html', shortConfig),
      '/silent/': page('peer-silent.html', shortConfig),
      // Versioned by the lock file: cacheable like a hashed asset when served "cached".
      '/bench/oidc-client-ts.min.js': { type: 'text/javascript', body: readFileSync(OIDC_CLIENT_TS), immutable: true },
    });
  }
  setOverrides(tabsApp, { '/config.json': appConfig(DIST, tabsProvider.issuer) });
  setOverrides(reloadApp, { '/config.json': appConfig(DIST, long.issuer) });
  setOverrides(coldApp, { '/config.json': appConfig(DIST, long.issuer) });
  for (const mode of SERVING_MODES) {
    const { app, floor, peer } = sites[mode];
    console.error(`    ${mode}: app ${app.origin}, floor ${floor.origin}, peer ${peer.origin}`);
  }
  console.error(`    tabs ${tabsApp.origin}, reload ${reloadApp.origin}; providers ${short.issuer} (TOKEN_TTL ${N.latencyTtl}), `
    + `${tabsProvider.issuer} (TOKEN_TTL ${N.tabsTtl}), ${long.issuer} (TOKEN_TTL 300)`);

  const browser = await launchChromium(opts.chromium);

  let lat = null;
  let tab = null;
  let reload = null;
  let cold = null;
  if (ONLY.has('latency')) {
    lat = {};
    for (const mode of SERVING_MODES) {
      say(`renewal latency, ${SERVING[mode].short}: ${N.warmup} warm-up + ${N.rounds} rounds of (a) app, (b) floor, (c) oidc-client-ts`);
      lat[mode] = await latency(browser, { label: mode, ...sites[mode], provider: short });
    }
  }
  if (ONLY.has('tabs')) {
    say(`tab efficiency: ${N.tabs} tabs, ${N.cycles} renewal cycles`);
    tab = await tabs(browser, { app: tabsApp, provider: tabsProvider });
  }
  if (ONLY.has('reload')) {
    say(`reload cost: 1 warm-up + ${N.reloads} reloads signed in and signed out, alternating`);
    reload = await reloads(browser, { app: reloadApp, provider: long });
  }
  if (ONLY.has('cold') && coldFloor) {
    say(`cold first paint: 1 warm-up + ${N.cold} loads of the app (signed in) and the floor, alternating, throttled`);
    cold = await coldPaint(browser, { app: coldApp, floor: coldFloor, provider: long });
  }

  const result = {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    command: 'tools/bench/run',
    machine: machine(browser.version(), loadAtStart),
    settings: { ...N, serving: SERVING_MODES, kilobyte: 1000, quantiles: 'linear interpolation' },
    goals: GOALS,
    sizes,
    latency: lat,
    tabs: tab,
    reload,
    cold,
    seconds: round((Date.now() - started) / 1000, 1),
  };
  if (ONLY.size < 4) {
    // A partial run (for investigating one phase): the JSON only, no table, no README.
    const file = path.join(OUT, 'partial.json');
    writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
    console.log(JSON.stringify({ sizes: sizeSummary(sizes), latency: lat && Object.fromEntries(Object.entries(lat).map(([k, l]) => [k, { app: l.app, floor: l.floor, peer: l.peer, ratios: l.ratios, breakdown: l.breakdown }])), tabs: tab, reload, cold }, null, 2));
    console.log(`wrote ${path.relative(ROOT, file)} (partial run: --only ${[...ONLY].join(',')})`);
    return;
  }
  const { markdown, goals } = report(result);
  result.verdicts = Object.fromEntries(Object.entries(goals).map(([k, v]) => [k, v.text]));
  writeFileSync(path.join(OUT, 'latest.json'), `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(path.join(OUT, 'latest.md'), `${markdown}\n`);
  console.log(markdown);
  console.log('');
  console.log(`wrote ${path.relative(ROOT, path.join(OUT, 'latest.json'))} and latest.md in ${result.seconds} s`);
  if (opts['update-readme']) {
    updateReadme(markdown);
    console.log('updated the Benchmarks table in README.md');
  }
}

function setOverrides(server, entries) {
  // serveSite keeps the Map it was given: fill it in place.
  const map = server.overrides;
  for (const [key, value] of Object.entries(entries)) map.set(key, value);
}

runMain('benchmark', main);
