// Trunk post_build hook of the app (Trunk.toml), release builds only: minifies wasm-bindgen's JS glue with
// terser (trunk's own minifier cannot parse it), and keeps index.html's Subresource Integrity digests of
// the glue true. Only the staging dir's top level: the silent page (silent/, tools/build-silent) has no
// glue.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
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
  const { code } = await minify(source, { module: true, compress: { passes: 3 } });
  writeFileSync(path, code);
  for (const algorithm of ['sha256', 'sha384', 'sha512']) {
    html = html.replaceAll(digest(algorithm, original), digest(algorithm, code));
  }
  console.log(`minify: ${name}: ${original.length} -> ${code.length} bytes`);
}
writeFileSync(htmlPath, html);
