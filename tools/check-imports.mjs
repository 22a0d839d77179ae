// Checks two ARCHITECTURE invariants on the source text:
// - no import circle between the modules of a crate (a module is a file; `crate::a::b`, `super::b` and
//   `self::b` paths are edges, in `use` lines and inline paths alike; test modules are left out);
// - the demo app (src/) names no internal module of the library: it reaches yew-oidc only through
//   `yew_oidc::<public item>`, and the public `core` re-export of oidc-renew-core.
// Usage: node tools/check-imports.mjs <crate src dir>... (exit 1 on a finding).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

const failures = [];

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : path.endsWith('.rs') ? [path] : [];
  });
}

// src/browser/tabs.rs -> ["browser", "tabs"]; src/lib.rs -> []; src/browser/mod.rs -> ["browser"]
function modulePath(root, file) {
  const parts = relative(root, file).replace(/\.rs$/, '').split(sep);
  const last = parts[parts.length - 1];
  if (last === 'mod' || (parts.length === 1 && (last === 'lib' || last === 'main'))) parts.pop();
  return parts;
}

// The source without comments, string literals and `#[cfg(test)] mod tests { ... }` blocks.
function code(text) {
  let out = text.replace(/\/\/[^\n]*/g, '').replace(/"(?:\\.|[^"\\])*"/g, '""');
  const marker = /#\[cfg\([^\]]*test[^\]]*\)\]\s*(pub(\([a-z]+\))?\s+)?mod\s+\w+\s*\{/g;
  let match;
  while ((match = marker.exec(out))) {
    let depth = 1;
    let i = marker.lastIndex;
    while (i < out.length && depth > 0) {
      if (out[i] === '{') depth++;
      else if (out[i] === '}') depth--;
      i++;
    }
    out = out.slice(0, match.index) + out.slice(i);
    marker.lastIndex = match.index;
  }
  return out;
}

function checkCrate(root) {
  const modules = new Map(); // "a/b" -> edges (Set of "x/y")
  const sources = files(root).filter((file) => {
    const parts = modulePath(root, file);
    return !parts.includes('tests');
  });
  const known = new Set(sources.map((file) => modulePath(root, file).join('/')));
  const resolve = (segments) => {
    // The longest prefix of the path that is a module file.
    for (let n = segments.length; n > 0; n--) {
      const key = segments.slice(0, n).join('/');
      if (known.has(key)) return key;
    }
    return null;
  };
  for (const file of sources) {
    const self = modulePath(root, file);
    const key = self.join('/');
    const edges = new Set();
    const text = code(readFileSync(file, 'utf8'));
    // `use crate::{a, b::c}` groups name several modules.
    for (const match of text.matchAll(/\b(crate|super|self)::([\w:]*(?:\{[^;]*?\})?)/g)) {
      const [, anchor, rest] = match;
      const base = anchor === 'crate' ? [] : anchor === 'super' ? self.slice(0, -1) : self;
      const heads = rest.includes('{')
        ? rest.slice(rest.indexOf('{') + 1, rest.lastIndexOf('}')).split(',').map((item) => rest.slice(0, rest.indexOf('{')) + item.trim())
        : [rest];
      for (const head of heads) {
        const segments = [...base, ...head.split('::').filter((s) => /^\w+$/.test(s) && s !== 'self')];
        const target = resolve(segments);
        if (target !== null && target !== key && !key.startsWith(target + '/') && !target.startsWith(key + '/')) {
          edges.add(target);
        }
      }
    }
    modules.set(key, edges);
  }
  // Depth-first search for a back edge.
  const state = new Map();
  const stack = [];
  const visit = (node) => {
    state.set(node, 'open');
    stack.push(node);
    for (const next of modules.get(node) ?? []) {
      if (state.get(next) === 'open') {
        failures.push(`${root}: import circle: ${[...stack.slice(stack.indexOf(next)), next].join(' -> ')}`);
      } else if (!state.has(next)) {
        visit(next);
      }
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of modules.keys()) if (!state.has(node)) visit(node);
  const edges = [...modules.values()].reduce((n, set) => n + set.size, 0);
  console.log(`${root}: ${modules.size} modules, ${edges} imports between them${failures.length ? '' : ', no circle'}`);
}

function checkAppUsesPublicApi(root) {
  for (const file of files(root)) {
    const text = code(readFileSync(file, 'utf8'));
    for (const match of text.matchAll(/\byew_oidc::(\w+)/g)) {
      if (['browser', 'client', 'driver', 'guard', 'hooks', 'provider', 'renewer'].includes(match[1])) {
        failures.push(`${file}: names the library's internal module yew_oidc::${match[1]}`);
      }
    }
    if (/(?<!::)\b(oidc_renew_core|silent_callback)::/.test(text)) {
      failures.push(`${file}: uses oidc_renew_core or silent_callback directly, not through yew_oidc`);
    }
  }
  console.log(`${root}: the app reaches the library through its public API only`);
}

const [mode, ...roots] = process.argv.slice(2);
if (mode === '--app') roots.forEach(checkAppUsesPublicApi);
else [mode, ...roots].forEach(checkCrate);
for (const failure of failures) console.error(failure);
process.exit(failures.length ? 1 : 0);
