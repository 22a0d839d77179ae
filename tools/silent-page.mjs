// Writes the silent page (tools/build-silent): silent/index.html with the loader (silent/loader.js, minified
// by terser) inline in place of its `silent-loader` comment, and the wasm inline in the loader as base64.
//
//   node tools/silent-page.mjs TEMPLATE LOADER WASM OUTPUT
//
// One inline script: deploy/render.mjs hashes it for the page's Content-Security-Policy.
import { readFileSync, writeFileSync } from 'node:fs';
import { minify } from 'terser';

const [templatePath, loaderPath, wasmPath, outputPath] = process.argv.slice(2);
if (!outputPath) throw new Error('usage: node tools/silent-page.mjs TEMPLATE LOADER WASM OUTPUT');

const { code } = await minify(readFileSync(loaderPath, 'utf8'), { compress: { passes: 2 } });
// Replaced after minifying: terser need not see the bytes. Base64 has no `<`, so it cannot end the script.
const holes = code.split('WASM_BASE64');
if (holes.length !== 2) throw new Error(`${loaderPath}: expected WASM_BASE64 once in the minified loader`);
const script = holes.join(readFileSync(wasmPath).toString('base64'));

const template = readFileSync(templatePath, 'utf8');
const marker = /<!-- silent-loader:[^>]*-->/;
if (!marker.test(template)) throw new Error(`${templatePath}: no <!-- silent-loader: ... --> comment`);
writeFileSync(outputPath, template.replace(marker, () => `<script>${script}</script>`));
console.log(`silent page: ${outputPath}: ${Buffer.byteLength(script)} bytes of script`);
