#!/usr/bin/env node
// Where a wasm's bytes go, by its name section: usage
//   node tools/bench/wasm-attribution.mjs FILE.wasm [--top N] [--by crate|module] [--for|--summary] [--json]
// FILE must keep its names: the cargo output before wasm-bindgen, or a wasm-opt `--debuginfo` (-g) build
// (twiggy 0.7 panics on these wasms). Sizes are raw bytes of each function body (code section) and of the
// data segments; "gzip alone" compresses each group's bytes by themselves, an upper bound of its share of
// the gzipped file. Names are demangled with c++filt (binutils), grouped by the crate (or crate::module) of
// the type a function belongs to: `<yew_oidc::driver::Driver as Trait>::f` is yew_oidc's, a generic
// `yew::functional::FunctionComponent<T>::run` is yew's (its instantiations for the app's components
// included).

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

const args = process.argv.slice(2);
const file = args.find((a) => !a.startsWith('--') && !/^\d+$/.test(a));
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
if (!file) {
  console.error('usage: wasm-attribution.mjs FILE.wasm [--top N] [--by crate|module] [--json]');
  process.exit(2);
}
const top = Number(opt('top', '40'));
const by = opt('by', 'crate');
const bytes = readFileSync(file);

let pos = 8;
const leb = () => {
  let result = 0;
  let shift = 0;
  for (;;) {
    const b = bytes[pos++];
    result += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if (!(b & 0x80)) return result;
  }
};
const str = () => {
  const n = leb();
  const s = bytes.subarray(pos, pos + n).toString('utf8');
  pos += n;
  return s;
};

const sections = [];
let importedFuncs = 0;
const bodies = [];
const names = new Map();
const data = [];
while (pos < bytes.length) {
  const id = bytes[pos++];
  const size = leb();
  const start = pos;
  const end = pos + size;
  let label = ['custom', 'type', 'import', 'function', 'table', 'memory', 'global', 'export', 'start',
    'element', 'code', 'data', 'datacount'][id] ?? `id ${id}`;
  if (id === 0) {
    const name = str();
    label = `custom "${name}"`;
    if (name === 'name') {
      while (pos < end) {
        const sub = bytes[pos++];
        const subSize = leb();
        const subEnd = pos + subSize;
        if (sub === 1) {
          const count = leb();
          for (let i = 0; i < count; i++) {
            const index = leb();
            names.set(index, str());
          }
        }
        pos = subEnd;
      }
    }
  } else if (id === 2) {
    const count = leb();
    for (let i = 0; i < count; i++) {
      str();
      str();
      const kind = bytes[pos++];
      if (kind === 0) {
        leb();
        importedFuncs++;
      } else if (kind === 1) {
        pos++;
        const flags = leb();
        leb();
        if (flags & 1) leb();
      } else if (kind === 2) {
        const flags = leb();
        leb();
        if (flags & 1) leb();
      } else if (kind === 3) {
        pos += 2;
      } else {
        throw new Error(`import kind ${kind}`);
      }
    }
  } else if (id === 10) {
    const count = leb();
    for (let i = 0; i < count; i++) {
      const n = leb();
      bodies.push({ index: importedFuncs + i, start: pos, size: n });
      pos += n;
    }
  } else if (id === 11) {
    const count = leb();
    for (let i = 0; i < count; i++) {
      const flags = leb();
      if (flags === 2) leb();
      if (flags !== 1) {
        // the offset expression, up to `end`
        while (bytes[pos] !== 0x0b) pos++;
        pos++;
      }
      const n = leb();
      data.push({ start: pos, size: n });
      pos += n;
    }
  }
  sections.push({ label, size: end - start });
  pos = end;
}

// Demangle every name at once.
const mangled = bodies.map((b) => names.get(b.index) ?? `func[${b.index}]`);
const demangled = execFileSync('c++filt', { input: mangled.join('\n'), maxBuffer: 1 << 28 })
  .toString('utf8')
  .split('\n');
for (let i = 0; i < bodies.length; i++) {
  // v0 names carry each crate's disambiguator (`yew[3d2ac408eaf2941a]`): dropped.
  bodies[i].name = (demangled[i] ?? mangled[i]).replace(/::h[0-9a-f]{16}$/, '').replace(/\[[0-9a-f]{16}\]/g, '');
}

/** The crate (or crate::module) of a demangled function: the self type's path, else the path's head. */
function owner(name) {
  let path = name;
  // `<A as B>::f` and `<A>::f`: A's path.
  if (path.startsWith('<')) {
    let depth = 0;
    let i = 0;
    for (; i < path.length; i++) {
      if (path[i] === '<') depth++;
      else if (path[i] === '>') {
        depth--;
        if (depth === 0) break;
      }
    }
    path = path.slice(1, i).split(' as ')[0];
    path = path.replace(/^&(mut )?/, '').replace(/^\[|^\(|^\*(const|mut) /, '');
  }
  const parts = path.split('::');
  const clean = (s) => s.replace(/<.*$/, '').replace(/\{.*$/, '');
  if (parts.length < 2 && !path.includes('::')) return name.startsWith('func[') ? '(unnamed)' : `(other) ${clean(parts[0])}`;
  if (by === 'module') return parts.slice(0, Math.min(parts.length - 1, 3)).map(clean).join('::');
  return clean(parts[0]);
}

// With --for: a dependency's function instantiated for (or inlining) a project type is grouped with
// that type's module too (`yew <- oidc_renew::pages`): needs v0 names (`-C symbol-mangling-version=v0`),
// whose generic arguments legacy names leave out.
const PROJECT = /(oidc_renew_core|yew_oidc|silent_callback|oidc_renew)::([a-z_0-9]+(?:::[a-z_0-9]+)?)/;
const forWhom = args.includes('--for');
// --summary: every function naming a project module counts for that module, the rest for its crate.
const summary = args.includes('--summary');
function keyOf(b) {
  let key = owner(b.name);
  const m = b.name.match(PROJECT);
  // The module: one level (`oidc_renew_core::jwks`), two in the folders (`oidc_renew::pages::home`).
  const module = m && (['pages', 'browser'].includes(m[2].split('::')[0]) ? m[2] : m[2].split('::')[0]);
  if (summary) key = m ? `${m[1]}::${module}` : key;
  else if (forWhom && m && !PROJECT.test(`${key}::`)) key = `${key} <- ${m[1]}::${module}`;
  return key;
}
const groups = new Map();
for (const b of bodies) {
  const key = keyOf(b);
  const g = groups.get(key) ?? { key, size: 0, count: 0, chunks: [] };
  g.size += b.size;
  g.count++;
  g.chunks.push(bytes.subarray(b.start, b.start + b.size));
  groups.set(key, g);
}
const codeTotal = bodies.reduce((s, b) => s + b.size, 0);
const dataTotal = data.reduce((s, d) => s + d.size, 0);
const dataBytes = Buffer.concat(data.map((d) => bytes.subarray(d.start, d.start + d.size)));
const kB = (n) => (n / 1000).toFixed(1).padStart(7);
const rows = [...groups.values()].sort((a, b) => b.size - a.size);

if (args.includes('--json')) {
  console.log(JSON.stringify({
    file, raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length, code: codeTotal, data: dataTotal,
    groups: rows.map((g) => ({ key: g.key, code: g.size, functions: g.count })),
  }, null, 2));
  process.exit(0);
}

console.log(`${file}: ${bytes.length} B raw, ${gzipSync(bytes, { level: 9 }).length} B gzip -9; `
  + `${bodies.length} functions (${importedFuncs} imported), code ${codeTotal} B, data ${dataTotal} B`);
console.log('\nsections:');
for (const s of sections) console.log(`  ${s.label.padEnd(28)} ${kB(s.size)} kB`);
// The gzip a group adds: the code and data gzipped in file order, with and without the group's bodies
// (a fairer share than gzipping the group alone, which repeats what it shares with the rest).
const all = bodies.map((b) => ({ key: null, bytes: bytes.subarray(b.start, b.start + b.size), b }));
for (const a of all) a.key = keyOf(a.b);
const gzipWithout = (key) => gzipSync(Buffer.concat([...all.filter((a) => a.key !== key).map((a) => a.bytes), dataBytes]), { level: 9 }).length;
const whole = gzipWithout(undefined);
console.log(`\ncode by ${by} (raw kB, gzip alone kB, functions, gzip it adds kB):`);
for (const g of rows) {
  const gz = gzipSync(Buffer.concat(g.chunks), { level: 9 }).length;
  const adds = g.size >= 1000 ? kB(whole - gzipWithout(g.key)) : '';
  console.log(`  ${g.key.padEnd(44)} ${kB(g.size)} ${kB(gz)} ${String(g.count).padStart(6)} ${adds}`);
}
console.log(`  ${'data segments'.padEnd(44)} ${kB(dataTotal)} ${kB(gzipSync(dataBytes, { level: 9 }).length)}`);
console.log(`\nlargest ${top} functions (raw B):`);
for (const b of [...bodies].sort((a, b) => b.size - a.size).slice(0, top)) {
  console.log(`  ${String(b.size).padStart(7)}  ${b.name.slice(0, 160)}`);
}

// --grep REGEX: the functions whose name matches, their total.
const grepArg = opt('grep', null);
if (grepArg) {
  const re = new RegExp(grepArg);
  const hits = bodies.filter((b) => re.test(b.name));
  const gz = gzipSync(Buffer.concat(hits.map((b) => bytes.subarray(b.start, b.start + b.size))), { level: 9 }).length;
  console.log(`\n/${grepArg}/: ${hits.length} functions, ${hits.reduce((s, b) => s + b.size, 0)} B raw, ${gz} B gzip alone`);
}
