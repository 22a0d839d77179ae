// Prints the reliability report from the figures the runs wrote under <target>/reliability
// (see tools/reliability): inputs fuzzed, forged messages tried and rejected, faults injected and
// survived, clock skew, strict CSP, soak. Writes the summary as report.json beside them.
// Exit status 1 when a part is missing or reports a failure: a report never hides a gap.
//
// usage: node tools/reliability-report.mjs <reliability dir> [--suite-passed N --suite-failed N]

import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [dir, ...rest] = process.argv.slice(2);
if (!dir) {
  console.error('usage: reliability-report.mjs <dir> [--suite-passed N --suite-failed N]');
  process.exit(2);
}
const option = (name) => {
  const at = rest.indexOf(name);
  return at >= 0 ? Number(rest[at + 1]) : undefined;
};

const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'));
/** Every `<part>/<name>.json`, by name. */
function part(name) {
  const folder = join(dir, name);
  if (!existsSync(folder)) return {};
  return Object.fromEntries(readdirSync(folder)
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => [file.slice(0, -5), readJson(join(folder, file))]));
}
const sum = (values) => values.reduce((a, b) => a + (Number(b) || 0), 0);
const int = (n) => Number(n).toLocaleString('en-US');

const problems = [];
const lines = [];
const summary = {};
const say = (line = '') => lines.push(line);

// 1. Fuzzing.
const fuzzFile = join(dir, 'fuzz.json');
if (existsSync(fuzzFile)) {
  const fuzz = readJson(fuzzFile);
  summary.fuzz = { total_cases: fuzz.total_cases, corpus_entries: fuzz.corpus_entries };
  say(`Fuzzing (property tests, no panic allowed): ${int(fuzz.total_cases)} generated inputs, `
    + `${int(fuzz.corpus_entries)} regression-corpus entries`);
  for (const target of fuzz.targets ?? []) {
    say(`  ${target.name.padEnd(24)} ${int(target.cases).padStart(12)} cases  ${Number(target.seconds).toFixed(1)} s`);
  }
} else {
  problems.push('fuzz: no figures (tools/fuzz did not pass)');
}

// 2. Hostile messages.
const hostile = part('hostile');
if (Object.keys(hostile).length) {
  const sent = sum(Object.values(hostile).map((r) => r.forged_sent));
  const rejected = sum(Object.values(hostile).map((r) => r.forged_rejected));
  const accepted = sum(Object.values(hostile).map((r) => r.accepted));
  summary.hostile = { tests: Object.keys(hostile).length, forged_sent: sent, forged_rejected: rejected, accepted };
  say();
  say(`Forged messages: ${int(sent)} posted, ${int(rejected)} reached a listening renewer and were `
    + `rejected, ${accepted} accepted (the rest arrived while no renewal listened)`);
  for (const [name, r] of Object.entries(hostile)) {
    say(`  ${name.replaceAll('_', ' ')}: ${int(r.forged_sent)} sent, ${int(r.forged_rejected)} rejected, ${r.accepted} accepted`);
  }
  if (accepted !== 0) problems.push(`hostile: ${accepted} forged messages accepted`);
} else {
  problems.push('hostile: no figures');
}

// 3 + 4. Provider faults and storage faults.
const faults = part('faults');
const storage = part('storage');
const survived = (records) => Object.values(records).filter((r) => r.survived === true).length;
say();
say(`Provider faults: ${Object.keys(faults).length} injected, ${survived(faults)} survived`);
for (const [, r] of Object.entries(faults)) say(`  ${r.fault} -> ${r.outcome}`);
const storageCases = sum(Object.values(storage).map((r) => r.cases ?? 1));
say(`Storage faults: ${Object.keys(storage).length} kinds (${storageCases} values), ${survived(storage)} survived`);
for (const [, r] of Object.entries(storage)) say(`  ${r.fault} -> ${r.outcome}`);
summary.faults = { injected: Object.keys(faults).length, survived: survived(faults) };
summary.storage = { kinds: Object.keys(storage).length, values: storageCases, survived: survived(storage) };
if (!Object.keys(faults).length) problems.push('faults: no figures');
if (!Object.keys(storage).length) problems.push('storage: no figures');

// 5. Clock skew.
const skew = part('skew');
say();
say(`Clock skew: ${Object.keys(skew).length} runs`);
for (const [, r] of Object.entries(skew)) {
  const margins = r.renewed_before_expiry_by_ms ?? [];
  say(`  provider clock ${r.provider_clock_offset_s > 0 ? '+' : ''}${r.provider_clock_offset_s} s: `
    + `${r.renewals} renewals of ${r.token_ttl_s} s tokens, each ${Math.min(...margins)} ms or more before expiry`);
}
summary.skew = { runs: Object.keys(skew).length };
if (!Object.keys(skew).length) problems.push('skew: no figures');

// 7. Strict CSP.
const csp = part('csp');
const passed = option('--suite-passed');
const failed = option('--suite-failed');
say();
if (passed !== undefined) {
  say(`Strict CSP: the end-to-end suite on nginx with the deploy policy: ${passed} passed, ${failed} failed`);
  summary.csp = { suite_passed: passed, suite_failed: failed };
  if (failed !== 0) problems.push(`csp: ${failed} end-to-end tests failed under the strict policy`);
}
for (const [, r] of Object.entries(csp)) {
  say(`  violations during sign-in and renewal: ${r.violations}`);
  say(`  app:     ${r.app_policy}`);
  say(`  /silent/: ${r.silent_policy}`);
}
if (!Object.keys(csp).length) problems.push('csp: no figures');

// 6. Soak.
const soakFile = join(dir, 'soak.json');
say();
if (existsSync(soakFile)) {
  const soak = readJson(soakFile);
  const l = soak.listeners ?? {};
  const h = soak.heap ?? {};
  summary.soak = {
    minutes: soak.settings?.minutes,
    renewals: soak.renewals?.succeeded,
    failed: soak.renewals?.failed,
    frames_at_once_max: soak.frames?.max_at_once,
    listener_growth: l.js_event_listeners?.growth,
    message_listener_growth: l.window_message?.growth,
    heap_growth_bytes: h.used?.growth,
    ok: soak.ok,
  };
  say(`Soak (${soak.command}, ${soak.settings?.token_ttl_s} s tokens, ${Math.round(soak.seconds)} s):`);
  say(`  renewals ${soak.renewals?.succeeded} succeeded, ${soak.renewals?.failed} failed; `
    + `renewal iframes at once: max ${soak.frames?.max_at_once}`);
  say(`  event listeners ${l.js_event_listeners?.first} -> ${l.js_event_listeners?.last} `
    + `(window message listeners ${l.window_message?.first} -> ${l.window_message?.last})`);
  say(`  JS heap after GC ${int(h.used?.first)} -> ${int(h.used?.last)} bytes (max ${int(h.used?.max)})`);
  say(`  goals ${soak.ok ? 'met' : `missed: ${(soak.missed ?? []).join('; ')}`}`);
  if (!soak.ok) problems.push('soak: goals missed');
} else {
  problems.push('soak: no figures (tools/soak did not run)');
}

say();
if (problems.length) {
  say(`NOT CLEAN: ${problems.join('; ')}`);
} else {
  say('All parts ran; nothing forged was accepted and every injected fault was survived.');
}
summary.problems = problems;
writeFileSync(join(dir, 'report.json'), `${JSON.stringify(summary, null, 2)}\n`);
process.stdout.write(`${lines.join('\n')}\n`);
process.exit(problems.length ? 1 : 0);
