// Bundle sizes: raw, gzip -9 (GNU gzip) and brotli (quality 11), each file compressed on its own (as
// served) and summed.

import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { brotliCompressSync, constants } from 'node:zlib';

export function fileSizes(file) {
  const bytes = readFileSync(file);
  return {
    raw: bytes.length,
    // GNU gzip -9 -n, as tools/bundle-size and tools/silent-size count (zlib's level 9 differs by ~1.5%).
    gzip: execFileSync('gzip', ['-9', '-n', '-c'], { input: bytes, maxBuffer: 1 << 28 }).length,
    brotli: brotliCompressSync(bytes, {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
        [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
      },
    }).length,
  };
}

/** { files: [{ file, raw, gzip, brotli }], raw, gzip, brotli } of `files`, named relative to `base`. */
export function bundleSizes(files, base) {
  const rows = files.map((file) => ({ file: path.relative(base, file), ...fileSizes(file) }));
  const sum = (key) => rows.reduce((total, row) => total + row[key], 0);
  return { files: rows, raw: sum('raw'), gzip: sum('gzip'), brotli: sum('brotli') };
}

/** Every file below `dir`. */
export function filesBelow(dir) {
  return readdirSync(dir, { recursive: true })
    .map((entry) => path.join(dir, entry))
    .filter((file) => statSync(file).isFile())
    .sort();
}

/** The js, wasm and css files dist/index.html loads (the app's bundle), as paths in `dist`. */
export function appFiles(dist) {
  const html = readFileSync(path.join(dist, 'index.html'), 'utf8');
  const names = new Set();
  for (const match of html.matchAll(/["'](\/?[^"'\s]+\.(?:js|wasm|css))["']/g)) {
    names.add(match[1].replace(/^\//, ''));
  }
  // Named from the site's root (/doctor/x.js for the doctor's page): the file next to index.html.
  const files = [...names].map((name) => {
    const file = path.join(dist, name);
    return existsSync(file) ? file : path.join(dist, path.basename(name));
  });
  for (const file of files) statSync(file); // fails loudly on a dangling reference
  if (!files.some((f) => f.endsWith('.wasm')) || !files.some((f) => f.endsWith('.js'))) {
    throw new Error(`dist/index.html names no js + wasm bundle: ${[...names].join(', ')}`);
  }
  return files.sort();
}
