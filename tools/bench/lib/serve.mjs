// A tiny static server for the benchmark's origins, the way tests/e2e/fixtures/server.rs (AppServer)
// serves the app: on 127.0.0.1 and ::1 with one port (Chromium resolves localhost to both), origin
// always http://localhost:<port>, Cache-Control no-store, GET/HEAD only.
//
// Rules, in order (as AppServer): an override for the exact path (e.g. /config.json, or a bench page);
// /silent -> 307 /silent/; a path ending in / is that directory's index.html; an existing file; 404 for
// anything else under /silent/ or with an extension in its last segment; else the root index.html
// (the app routes deep links itself). A site without a root directory serves its overrides only.

import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';

const TYPES = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript',
  mjs: 'text/javascript',
  wasm: 'application/wasm',
  css: 'text/css; charset=utf-8',
  json: 'application/json',
  map: 'application/json',
  svg: 'image/svg+xml',
  png: 'image/png',
  ico: 'image/x-icon',
  txt: 'text/plain; charset=utf-8',
};

export function contentType(file) {
  return TYPES[path.extname(file).slice(1)] ?? 'application/octet-stream';
}

function send(res, status, type, body, extra = {}) {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', ...extra });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

async function isFile(file) {
  try {
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}

/** The path below `root`, or null if it tries to climb out. */
function relative(urlPath) {
  const segments = urlPath.split('/').filter((s) => s !== '');
  if (segments.some((s) => s === '..' || s === '.' || s.includes('\\'))) return null;
  return segments.join('/');
}

/**
 * site: { name, root?: directory, overrides: Map<path, { type, body, immutable? }>, cacheHashed?, gzip? }
 * With cacheHashed, trunk-hashed files and overrides marked immutable are served cacheable for a year;
 * with gzip, the root's html, js, wasm, css and json files gzip-compressed to browsers that accept it.
 * Returns { origin, port, close(), requests: string[] }.
 */
export async function serveSite(site) {
  const requests = [];
  const handler = async (req, res) => {
    try {
      const url = new URL(req.url, 'http://localhost');
      const p = decodeURIComponent(url.pathname);
      requests.push(req.url);
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        return send(res, 405, TYPES.txt, 'method not allowed', { allow: 'GET, HEAD' });
      }
      const override = site.overrides?.get(p);
      const immutable = { 'cache-control': 'public, max-age=31536000, immutable' };
      if (override) return send(res, 200, override.type, override.body, site.cacheHashed && override.immutable ? immutable : {});
      if (p === '/silent') return send(res, 307, TYPES.txt, '', { location: '/silent/' });
      if (!site.root) return send(res, 404, TYPES.txt, 'not found');
      const rel = relative(p);
      if (rel === null) return send(res, 404, TYPES.txt, 'not found');
      let file = path.join(site.root, rel);
      if (p.endsWith('/')) file = path.join(file, 'index.html');
      if (await isFile(file)) {
        // Optionally (--cache-hashed) a trunk-hashed asset (name-<16 hex>.js, _bg.wasm, .css) is immutable.
        const cache = site.cacheHashed && /-[0-9a-f]{15,16}(_bg)?\.(js|wasm|css)$/.test(file) ? immutable : {};
        // Optionally (gzip) compressed as deploy/nginx serves it (gzip -9 here), for a throttled network.
        if (site.gzip && /\bgzip\b/.test(req.headers['accept-encoding'] ?? '') && /\.(html|js|wasm|css|json)$/.test(file)) {
          const body = gzipSync(await readFile(file), { level: 9 });
          return send(res, 200, contentType(file), body, { ...cache, 'content-encoding': 'gzip', vary: 'Accept-Encoding' });
        }
        return send(res, 200, contentType(file), await readFile(file), cache);
      }
      const last = p.split('/').pop();
      if (p.startsWith('/silent/') || last.includes('.')) return send(res, 404, TYPES.txt, 'not found');
      return send(res, 200, TYPES.html, await readFile(path.join(site.root, 'index.html')));
    } catch (error) {
      send(res, 500, TYPES.txt, String(error));
    }
  };
  const servers = await listenLoopbackPair(handler);
  const port = servers[0].address().port;
  return {
    name: site.name,
    port,
    origin: `http://localhost:${port}`,
    requests,
    close: () =>
      Promise.all(
        servers.map((s) => new Promise((resolve) => {
          s.closeAllConnections?.();
          s.close(() => resolve());
        })),
      ),
  };
}

function listen(server, port, host) {
  return new Promise((resolve, reject) => {
    const onError = (error) => reject(error);
    server.once('error', onError);
    server.listen({ port, host }, () => {
      server.off('error', onError);
      resolve(server);
    });
  });
}

/** One port on both loopback addresses (a free one on 127.0.0.1; retried if ::1 has it taken). */
async function listenLoopbackPair(handler) {
  let last;
  for (let i = 0; i < 20; i++) {
    const v4 = await listen(createServer(handler), 0, '127.0.0.1');
    const port = v4.address().port;
    try {
      const v6 = await listen(createServer(handler), port, '::1');
      return [v4, v6];
    } catch (error) {
      v4.close();
      if (error.code !== 'EADDRINUSE') {
        throw new Error(`cannot listen on [::1]:${port} (${error.message}); the browser resolves localhost to ::1 too`);
      }
      last = error;
    }
  }
  throw new Error(`no port free on both 127.0.0.1 and ::1: ${last}`);
}
