#!/usr/bin/env node
// Fills the ${NAME} placeholders of a deploy template (deploy/nginx/oidc-renew.conf, deploy/static-hosts/_headers)
// for one release build. The end-to-end tests render the nginx template with this same script.
//
//   node deploy/render.mjs TEMPLATE DIST [NAME=VALUE ...] > OUTPUT
//
// A placeholder's value comes from, in order: a NAME=VALUE argument, the environment, or this list:
//   APP_SCRIPT_HASHES     'sha256-...' of each inline <script> in DIST/index.html and DIST/doctor/index.html
//                         (trunk's loaders: the app's, and the setup doctor's page's)
//   SILENT_SCRIPT_HASHES  the same for DIST/silent/index.html
//   SCRIPT_HASHES         both, for a host that sends one policy for every path
//   ISSUER_ORIGIN         the origin of `issuer` in DIST/config.json (https://tenant.eu.auth0.com)
//   API_ORIGIN            the origin of `api_url` in DIST/config.json; nothing without one, or when it is
//                         the issuer's
// The hashes change with every build (the loader names the hashed file names): render after each
// `trunk build --release`, and after every change of config.json. A placeholder left without a value is an
// error, and so is an inline <style> or on* handler attribute, which the policy would refuse.
import { createHash } from 'node:crypto';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const [templatePath, dist, ...assignments] = process.argv.slice(2);
if (!templatePath || !dist) {
  console.error('usage: node deploy/render.mjs TEMPLATE DIST [NAME=VALUE ...] > OUTPUT');
  process.exit(2);
}

function fail(message) {
  console.error(`render: ${message}`);
  process.exit(1);
}

/** The CSP hash sources of the inline scripts of one HTML file, in document order. */
function inlineScriptHashes(file) {
  if (!existsSync(file)) fail(`${file} not found: run \`trunk build --release\` first`);
  // The HTML parser turns CRLF into LF before the browser hashes a script's text.
  const html = readFileSync(file, 'utf8').replace(/\r\n?/g, '\n');
  if (/<style[\s>]/i.test(html)) fail(`${file} has an inline <style>, which the policy refuses`);
  if (/<[a-z][^>]*\son[a-z]+\s*=/i.test(html)) fail(`${file} has an on* handler attribute, which the policy refuses`);
  const hashes = [];
  for (const [, attributes, text] of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script\s*>/gi)) {
    if (/\ssrc\s*=/i.test(` ${attributes}`)) continue;
    const digest = createHash('sha256').update(text, 'utf8').digest('base64');
    hashes.push(`'sha256-${digest}'`);
  }
  return hashes;
}

function origin(value, field) {
  try {
    return new URL(value).origin;
  } catch {
    fail(`config.json: \`${field}\` is not a URL: ${JSON.stringify(value)}`);
  }
}

// The setup doctor's page (its own bundle) runs under the app's policy.
const app = [...new Set([
  ...inlineScriptHashes(join(dist, 'index.html')),
  ...(existsSync(join(dist, 'doctor', 'index.html')) ? inlineScriptHashes(join(dist, 'doctor', 'index.html')) : []),
])];
const silent = inlineScriptHashes(join(dist, 'silent', 'index.html'));
const derived = {
  APP_SCRIPT_HASHES: app.join(' '),
  SILENT_SCRIPT_HASHES: silent.join(' '),
  SCRIPT_HASHES: [...new Set([...app, ...silent])].join(' '),
};
const configFile = join(dist, 'config.json');
if (existsSync(configFile)) {
  let config;
  try {
    config = JSON.parse(readFileSync(configFile, 'utf8'));
  } catch (e) {
    fail(`${configFile} is not JSON: ${e.message}`);
  }
  if (typeof config.issuer === 'string') derived.ISSUER_ORIGIN = origin(config.issuer, 'issuer');
  const api = typeof config.api_url === 'string' ? origin(config.api_url, 'api_url') : '';
  // Nothing when the API is the provider's own (it is already in the policy).
  derived.API_ORIGIN = api === derived.ISSUER_ORIGIN ? '' : api;
}

const given = {};
for (const assignment of assignments) {
  const at = assignment.indexOf('=');
  if (at < 1) fail(`expected NAME=VALUE, got ${JSON.stringify(assignment)}`);
  given[assignment.slice(0, at)] = assignment.slice(at + 1);
}

const missing = new Set();
const output = readFileSync(templatePath, 'utf8').replace(/\$\{([A-Z][A-Z0-9_]*)\}/g, (_, name) => {
  const value = given[name] ?? process.env[name] ?? derived[name];
  if (value === undefined) {
    missing.add(name);
    return '';
  }
  if (/[\r\n"]/.test(value)) fail(`${name}: a value cannot hold a line break or a double quote`);
  return value;
});
if (missing.size > 0) fail(`no value for ${[...missing].join(', ')} (give NAME=VALUE)`);
process.stdout.write(output);
