#!/usr/bin/env node
// WebKitWebDriver as wasm-bindgen-test-runner's "safaridriver": `SAFARIDRIVER=tools/webkit-webdriver.mjs`.
//
// Why it exists: the runner (0.2.130) drives any W3C WebDriver server it is given, but on its Safari
// path it sends no capabilities (it ignores webdriver.json there) — and WebKitGTK needs them to run
// MiniBrowser with Intelligent Tracking Prevention (`--enable-itp`), like Safari. WebKitGTK also has
// no headless mode. So this stands in for the driver, with the runner's arguments (`--port=N`):
//   - starts Xvfb on a free display (`-displayfd`), then WebKitWebDriver on a free port with it;
//   - listens on the runner's port once the driver is ready, and passes every request through,
//     except that the new-session request gets MiniBrowser's capabilities (below);
//   - ends both when it is stopped. The runner stops it with SIGKILL, which cannot be caught: its
//     children get SIGTERM from the kernel then (`setpriv --pdeathsig`), and MiniBrowser has already
//     quit when the runner closed its window.
//
// Environment: WEBKITWEBDRIVER (default WebKitWebDriver), E2E_MINIBROWSER (default Debian's path),
// E2E_XVFB (default Xvfb).

import { spawn } from 'node:child_process';
import { createServer, request } from 'node:http';
import { createServer as createNetServer } from 'node:net';

const MINIBROWSER = process.env.E2E_MINIBROWSER
  ?? '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser';
const CAPABILITIES = {
  browserName: 'MiniBrowser',
  'webkitgtk:browserOptions': { binary: MINIBROWSER, args: ['--automation', '--enable-itp'] },
};
const READY_TIMEOUT_MS = 30_000;

const log = (message) => process.stderr.write(`[webkit-webdriver] ${message}\n`);

function fail(message) {
  log(message);
  stopAll();
  process.exit(1);
}

function listenPort(argv) {
  for (let i = 0; i < argv.length; i += 1) {
    const match = /^--port=(\d+)$/.exec(argv[i]);
    if (match) return Number(match[1]);
    if ((argv[i] === '-p' || argv[i] === '--port') && /^\d+$/.test(argv[i + 1] ?? '')) return Number(argv[i + 1]);
  }
  return null;
}

const children = [];
function stopAll() {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  }
}

/** `program args...` that gets `signal` when this process dies, however it dies. */
function spawnTied(signal, program, args, options) {
  const child = spawn('setpriv', ['--pdeathsig', signal, '--', program, ...args], options);
  child.on('error', (error) => fail(`cannot run ${program}: ${error.message}`));
  children.push(child);
  return child;
}

function startXvfb() {
  const program = process.env.E2E_XVFB ?? 'Xvfb';
  const xvfb = spawnTied('KILL', program, ['-displayfd', '3', '-screen', '0', '1280x1024x24', '-nolisten', 'tcp'], {
    stdio: ['ignore', 'ignore', 'inherit', 'pipe'],
  });
  return new Promise((resolve) => {
    let text = '';
    xvfb.stdio[3].on('data', (chunk) => {
      text += chunk;
      if (text.includes('\n')) resolve(`:${text.trim()}`);
    });
    xvfb.on('exit', (code, signal) => fail(`${program} exited (${code ?? signal}) before giving a display`));
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createNetServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

function get(port, path) {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET' }, (res) => {
      let body = '';
      res.on('data', (chunk) => { body += chunk; });
      res.on('end', () => resolve(body));
    });
    req.on('error', () => resolve(null));
    req.end();
  });
}

async function waitReady(port) {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const body = await get(port, '/status');
    try {
      if (body && JSON.parse(body).value?.ready) return;
    } catch { /* not JSON yet */ }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  fail(`WebKitWebDriver not ready on port ${port} within ${READY_TIMEOUT_MS} ms`);
}

/** The runner's new-session body, with MiniBrowser's capabilities in W3C form. */
function newSession(body) {
  let requested = {};
  try {
    requested = JSON.parse(body).capabilities?.alwaysMatch ?? {};
  } catch { /* the runner sends JSON; anything else gets the defaults alone */ }
  return JSON.stringify({ capabilities: { alwaysMatch: { ...requested, ...CAPABILITIES }, firstMatch: [{}] } });
}

function proxy(upstreamPort) {
  return createServer((req, res) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      let body = Buffer.concat(chunks);
      if (req.method === 'POST' && req.url.replace(/\/+$/, '') === '/session') {
        body = Buffer.from(newSession(body.toString('utf8')));
      }
      const headers = { ...req.headers, host: `127.0.0.1:${upstreamPort}`, 'content-length': body.length };
      const upstream = request({ host: '127.0.0.1', port: upstreamPort, path: req.url, method: req.method, headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      upstream.on('error', (error) => {
        res.writeHead(502, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ value: { error: 'unknown error', message: `WebKitWebDriver: ${error.message}` } }));
      });
      upstream.end(body);
    });
  });
}

async function main() {
  const port = listenPort(process.argv.slice(2));
  if (port === null) fail('usage: webkit-webdriver.mjs --port=N');
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) {
    process.on(signal, () => { stopAll(); process.exit(0); });
  }
  const display = await startXvfb();
  const upstreamPort = await freePort();
  const driverProgram = process.env.WEBKITWEBDRIVER ?? 'WebKitWebDriver';
  const driver = spawnTied('TERM', driverProgram, [`--port=${upstreamPort}`], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, DISPLAY: display },
  });
  driver.on('exit', (code, signal) => fail(`${driverProgram} exited (${code ?? signal})`));
  await waitReady(upstreamPort);
  proxy(upstreamPort).listen(port, '127.0.0.1', () => log(`MiniBrowser on ${display}, WebKitWebDriver behind port ${port}`));
}

main().catch((error) => fail(error.stack ?? String(error)));
