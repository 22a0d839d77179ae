// Trunk post_build hook of the app (Trunk.toml), release builds only: minifies wasm-bindgen's JS glue with
// terser (trunk's own minifier cannot parse it), gives the wasm's imports short names in the wasm and the
// glue (shortImportNames), and keeps index.html's Subresource Integrity digests of both true. Only the staging dir's top level: the silent page (silent/, tools/build-silent) has no
// glue.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { minify } from 'terser';

if (process.env.TRUNK_PROFILE !== 'release') process.exit(0);
const dir = process.env.TRUNK_STAGING_DIR;
if (!dir) throw new Error('TRUNK_STAGING_DIR is not set: run as a trunk hook');
const htmlPath = join(dir, 'index.html');
let html = readFileSync(htmlPath, 'utf8');
const digest = (algorithm, bytes) =>
  `${algorithm}-${createHash(algorithm).update(bytes).digest('base64')}`;

for (const name of readdirSync(dir).filter((file) => file.endsWith('.js'))) {
  const path = join(dir, name);
  const original = readFileSync(path);
  // The loader calls the default export only: without its export, terser drops `initSync`.
  const source = original
    .toString('utf8')
    .replace(/^export \{ initSync, __wbg_init as default \};$/m, 'export { __wbg_init as default };');
  let { code } = await minify(source, { module: true, compress: { passes: 3 } });
  const wasmPath = path.replace(/\.js$/, '_bg.wasm');
  if (existsSync(wasmPath)) {
    const wasm = readFileSync(wasmPath);
    const renamed = shortImportNames(wasm, code);
    if (renamed) {
      writeFileSync(wasmPath, renamed.wasm);
      code = renamed.code;
      for (const algorithm of ['sha256', 'sha384', 'sha512']) {
        html = html.replaceAll(digest(algorithm, wasm), digest(algorithm, renamed.wasm));
      }
      console.log(`minify: ${name}: ${renamed.count} imports renamed, wasm ${wasm.length} -> ${renamed.wasm.length} bytes`);
    }
  }
  writeFileSync(path, code);
  for (const algorithm of ['sha256', 'sha384', 'sha512']) {
    html = html.replaceAll(digest(algorithm, original), digest(algorithm, code));
  }
  console.log(`minify: ${name}: ${original.length} -> ${code.length} bytes`);
}
writeFileSync(htmlPath, html);

/**
 * wasm-bindgen names each imported function after the JS it calls plus a hash
 * (`__wbg_lastChild_d03af7c29f69e2ad`), once in the wasm's import section and once as a key of the glue's
 * import object: hundreds of names, their hashes incompressible. Renames each to a short key (`$0`, `$1`,
 * ...) in both places. Only function imports whose name is exactly one key of the minified glue (`name:`)
 * are renamed, so nothing else in the glue can change; `null` when there is none, or the wasm is not what
 * this expects.
 */
function shortImportNames(wasm, code) {
  const leb = (bytes, at) => {
    let value = 0;
    let shift = 0;
    let pos = at;
    for (;;) {
      const byte = bytes[pos++];
      value += (byte & 0x7f) * 2 ** shift;
      shift += 7;
      if (!(byte & 0x80)) return [value, pos];
    }
  };
  const encode = (value) => {
    const out = [];
    do {
      let byte = value & 0x7f;
      value = Math.floor(value / 128);
      if (value) byte |= 0x80;
      out.push(byte);
    } while (value);
    return Buffer.from(out);
  };
  const name = (text) => Buffer.concat([encode(Buffer.byteLength(text)), Buffer.from(text)]);
  if (wasm.readUInt32LE(0) !== 0x6d736100) return null;
  let pos = 8;
  while (pos < wasm.length) {
    const id = wasm[pos];
    const [size, start] = leb(wasm, pos + 1);
    if (id === 2) {
      const end = start + size;
      let [count, at] = leb(wasm, start);
      const entries = [];
      let next = 0;
      for (let i = 0; i < count; i++) {
        const [moduleLength, m] = leb(wasm, at);
        const module = wasm.subarray(m, m + moduleLength).toString('utf8');
        const [fieldLength, f] = leb(wasm, m + moduleLength);
        const field = wasm.subarray(f, f + fieldLength).toString('utf8');
        const kindAt = f + fieldLength;
        const kind = wasm[kindAt];
        // The import's description: a type index (function), a table (reftype, limits), a memory
        // (limits) or a global (valtype, mutability).
        let descEnd;
        if (kind === 0) [, descEnd] = leb(wasm, kindAt + 1);
        else if (kind === 1 || kind === 2) {
          const flagsAt = kind === 1 ? kindAt + 2 : kindAt + 1;
          [, descEnd] = leb(wasm, flagsAt + 1);
          if (wasm[flagsAt] & 1) [, descEnd] = leb(wasm, descEnd);
        } else if (kind === 3) descEnd = kindAt + 3;
        else return null;
        const key = new RegExp(`[{,]${field.replace(/\$/g, '\\$')}:`, 'g');
        const uses = kind === 0 && /^__wbg|^__wbindgen/.test(field) ? (code.match(key) ?? []).length : 0;
        let short = null;
        if (uses === 1 && code.split(field).length === 2) {
          short = `$${(next++).toString(36)}`;
          code = code.replace(key, (match) => `${match[0]}${short}:`);
        }
        entries.push({ module, field, short, desc: wasm.subarray(kindAt, descEnd) });
        at = descEnd;
      }
      if (at !== end || next === 0) return null;
      // The module (the glue's file name) stays: repeated, it costs gzip next to nothing (measured).
      const parts = [encode(count)];
      for (const e of entries) parts.push(name(e.module), name(e.short ?? e.field), e.desc);
      const body = Buffer.concat(parts);
      const out = Buffer.concat([wasm.subarray(0, pos), Buffer.from([2]), encode(body.length), body, wasm.subarray(end)]);
      return { wasm: out, code, count: next };
    }
    pos = start + size;
  }
  return null;
}
