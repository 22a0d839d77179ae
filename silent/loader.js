// The silent page's loader, inlined into silent/index.html by tools/build-silent (minified, with the wasm's
// bytes in place of WASM_BASE64): the page is one request, and its script runs as soon as it is parsed.
//
// It only performs browser calls for the wasm (silent/src/bundle.rs, the `page` imports): what to read,
// whether to strip the URL and to post, what and to which origin are the wasm's decisions. Strings cross as
// UTF-8 (pointer, length) in the wasm's memory, read afresh each time (`memory.grow` replaces the buffer).
//
// Measured on the way to the message (Chromium): `Uint8Array.fromBase64` decodes the bytes in no time,
// where `atob` and a copy take 0.7 ms (the fallback for browsers without it); the module is compiled
// synchronously (0.2 ms: it is a few KB), as `WebAssembly.instantiate` would wait for further tasks.
// Chrome before about version 115 refused synchronous compilation of more than 4 KB on the main thread
// (a RangeError; the wasm is just over that): then it is compiled asynchronously, about 1 ms later.
{
  const base64 = 'WASM_BASE64';
  const bytes = Uint8Array.fromBase64?.(base64) ?? Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  const decoder = new TextDecoder();
  let memory;
  const text = (at, len) => decoder.decode(new Uint8Array(memory.buffer, at, len));
  const part = (which) => [location.hash, location.search, location.pathname, location.origin][which];
  const imports = {
    page: {
      location_len: (which) => part(which).length,
      location_read: (which, to, capacity) =>
        new TextEncoder().encodeInto(part(which), new Uint8Array(memory.buffer, to, capacity)).written,
      replace_state: (at, len) => history.replaceState(null, '', text(at, len)),
      top_level: () => parent === window,
      unhide: (at, len) => document.getElementById(text(at, len))?.removeAttribute('hidden'),
      post_message: (kind, kindLen, key, keyLen, value, valueLen, origin, originLen) =>
        parent.postMessage({ type: text(kind, kindLen), [text(key, keyLen)]: text(value, valueLen) }, text(origin, originLen)),
    },
  };
  const run = ({ exports }) => {
    memory = exports.memory;
    exports.start();
  };
  let instance;
  try {
    instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), imports);
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    WebAssembly.instantiate(bytes, imports).then(({ instance: late }) => run(late));
  }
  if (instance) run(instance);
}
