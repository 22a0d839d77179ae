// Everything tools/bench starts is registered here and stopped by `stopAll`, on success, on failure and
// on Ctrl-C / SIGTERM (bench.mjs wires the signals).

import { spawn } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import path from 'node:path';

const stoppers = [];

/** Registers `stop` (async) to run at exit, newest first. Returns an unregister function. */
export function onStop(stop) {
  stoppers.push(stop);
  return () => {
    const i = stoppers.indexOf(stop);
    if (i >= 0) stoppers.splice(i, 1);
  };
}

function withTimeout(promise, millis) {
  return Promise.race([promise, new Promise((resolve) => setTimeout(resolve, millis).unref())]);
}

/** Stops everything registered (each given at most 5 s). Safe to call twice. */
export async function stopAll() {
  while (stoppers.length) {
    const stop = stoppers.pop();
    try {
      await withTimeout(Promise.resolve().then(stop), 5000);
    } catch {
      // keep stopping the rest
    }
  }
}

/**
 * Starts the local OpenID provider (tests/provider/server.mjs) on a free port with test hooks on.
 * Resolves with { issuer, stats(), reset(), log } once it printed `READY <issuer>`.
 */
export async function startProvider({ root, name, ttl, origins, logDir }) {
  const log = path.join(logDir, `provider-${name}.log`);
  const logFd = openSync(log, 'w');
  const child = spawn(process.execPath, [path.join(root, 'tests/provider/server.mjs')], {
    cwd: path.join(root, 'tests/provider'),
    env: {
      ...process.env,
      PORT: '0',
      TEST_HOOKS: '1',
      TOKEN_TTL: String(ttl),
      APP_ORIGINS: origins.join(','),
    },
    stdio: ['ignore', 'pipe', logFd],
  });
  closeSync(logFd);
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  onStop(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const done = await Promise.race([exited, new Promise((r) => setTimeout(() => r(null), 3000).unref())]);
      if (!done) child.kill('SIGKILL');
    }
  });

  const issuer = await new Promise((resolve, reject) => {
    let buffer = '';
    const timer = setTimeout(() => fail(new Error('did not print READY within 20 s')), 20000);
    const fail = (error) => {
      clearTimeout(timer);
      let tail = '';
      try {
        tail = readFileSync(log, 'utf8').split('\n').slice(-15).join('\n');
      } catch {
        // no log
      }
      reject(new Error(`the local provider (${name}) ${error.message}\n${tail}`));
    };
    child.stdout.on('data', (chunk) => {
      buffer += chunk;
      const match = buffer.match(/^READY (\S+)$/m);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.once('error', fail);
    exited.then(({ code, signal }) => fail(new Error(`exited (${signal ?? code}) before READY`)));
  });
  child.stdout.resume();

  const hook = async (method, hookPath) => {
    const response = await fetch(`${issuer}/__test/${hookPath}`, { method });
    if (!response.ok) throw new Error(`${method} /__test/${hookPath}: HTTP ${response.status}`);
    return response.json();
  };
  return {
    name,
    issuer,
    origin: new URL(issuer).origin,
    log,
    stats: () => hook('GET', 'stats'),
    reset: () => hook('POST', 'reset-stats'),
  };
}
