// The app as tools/bench and tools/soak drive it: its config.json pointed at a local provider, system
// Chromium (never downloaded), sign-in as demo / demo, and the process wiring that stops everything
// they started on success, failure and Ctrl-C.

import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

import { chromium } from 'playwright-core';

import { onStop, stopAll } from './procs.mjs';

export const SESSION_KEY = 'oidc-renew:oidc-renew-demo:session';
export const DEMO = { login: 'demo', password: 'demo' };

/** An override for /config.json: the dist's own config with the issuer and the API of `issuer`. */
export function appConfig(dist, issuer, extra = {}) {
  const config = JSON.parse(readFileSync(path.join(dist, 'config.json'), 'utf8'));
  return {
    type: 'application/json',
    body: JSON.stringify({ ...config, ...extra, issuer, api_url: `${issuer}/api/ping` }),
  };
}

/** The system Chromium: `explicit` when given, else where tools/bootstrap (apt) puts it. */
export function chromiumPath(explicit) {
  for (const candidate of [explicit, '/usr/lib/chromium/chromium', '/usr/bin/chromium']) {
    if (candidate && existsSync(candidate)) return candidate;
  }
  throw new Error('Chromium not found (tools/bootstrap installs it; --chromium PATH or BENCH_CHROMIUM picks another)');
}

/** Headless Chromium, closed by `stopAll`; signals are ours (`runMain`), not playwright's. */
export async function launchChromium(explicit) {
  const browser = await chromium.launch({
    executablePath: chromiumPath(explicit),
    headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-background-networking'],
    handleSIGINT: false,
    handleSIGTERM: false,
    handleSIGHUP: false,
  });
  onStop(() => browser.close());
  return browser;
}

/** Signs in on `appOrigin` through the provider's login form; ends on the home page, signed in. */
export async function signIn(page, appOrigin, provider) {
  await page.goto(`${appOrigin}/`);
  await page.locator('button#login').click();
  // The login form, or straight back to the callback when this browser context already holds a
  // provider session (a second app origin signing in after the first).
  const settled = (promise, value) => promise.then(() => value, () => null);
  const where = await Promise.race([
    settled(page.waitForURL((url) => url.origin === provider.origin, { timeout: 15000 }), 'provider'),
    settled(page.waitForURL((url) => url.origin === appOrigin && url.pathname === '/callback', { timeout: 15000 }), 'app'),
  ]);
  if (where === 'provider') {
    await page.locator('input#login').fill(DEMO.login);
    await page.locator('#password').fill(DEMO.password);
    await page.locator('button[type=submit]').click();
  } else if (where === null) {
    throw new Error(`signing in on ${appOrigin}: neither the provider's login page nor the callback within 15 s`);
  }
  await page.waitForURL((url) => url.origin === appOrigin, { timeout: 15000 });
  await page.waitForSelector('#auth-status.signed-in', { timeout: 15000 });
  if (new URL(page.url()).pathname !== '/') {
    await page.goto(`${appOrigin}/`);
    await page.waitForSelector('#auth-status.signed-in', { timeout: 15000 });
  }
}

/**
 * Runs `main` (async, resolving to an exit code or undefined), then stops everything registered; on
 * SIGINT/SIGTERM/SIGHUP stops it all and exits 128 + the signal. `name` is what the messages call it.
 */
export function runMain(name, main) {
  let stopping = false;
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]]) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      console.error(`\n${signal}: stopping what the ${name} started`);
      stopAll().finally(() => process.exit(code));
    });
  }
  main()
    .then(async (code) => {
      await stopAll();
      if (code) process.exitCode = code;
    })
    .catch(async (error) => {
      if (stopping) return; // Ctrl-C closed the browser under a running step: not an error to report
      console.error(`error: ${error.stack ?? error}`);
      await stopAll();
      process.exitCode = 1;
    });
}
