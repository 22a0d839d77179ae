// In-memory storage adapter for oidc-provider.
//
// Why not the library's bundled MemoryAdapter: it keeps everything in one
// module-level LRU capped at ~1000 entries (a long demo session or test run
// could silently evict a login session), and it offers no way to enumerate
// sessions, which the TEST_HOOKS endpoint `POST /__test/end-sessions` needs.
//
// The adapter contract is documented by oidc-provider (example/my_adapter.js):
// one instance per model name, all methods async.

const GRANTABLE = new Set([
  'AccessToken',
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
]);

export function createMemoryStore() {
  /** `${model}:${id}` -> { payload, expiresAt (ms epoch, or Infinity) } */
  const entries = new Map();
  /** grantId -> Set of entry keys issued under that grant */
  const grants = new Map();
  /** `${model}:${index}:${value}` -> id (session uid, user code lookups) */
  const lookups = new Map();

  function alive(record) {
    return record !== undefined && record.expiresAt > Date.now();
  }

  function read(key) {
    const record = entries.get(key);
    if (!alive(record)) {
      entries.delete(key);
      return undefined;
    }
    return record.payload;
  }

  // Expired entries are dropped lazily on read; this sweep bounds memory for
  // entries that are never read again (e.g. abandoned interactions).
  function sweep() {
    for (const [key, record] of entries) {
      if (!alive(record)) entries.delete(key);
    }
    for (const [key, id] of lookups) {
      const model = key.slice(0, key.indexOf(':'));
      if (!entries.has(`${model}:${id}`)) lookups.delete(key);
    }
    for (const [grantId, keys] of grants) {
      for (const key of keys) if (!entries.has(key)) keys.delete(key);
      if (keys.size === 0) grants.delete(grantId);
    }
  }
  const sweeper = setInterval(sweep, 60_000);
  sweeper.unref();

  class MemoryAdapter {
    constructor(model) {
      this.model = model;
    }

    key(id) {
      return `${this.model}:${id}`;
    }

    async upsert(id, payload, expiresIn) {
      const key = this.key(id);
      const expiresAt = expiresIn ? Date.now() + expiresIn * 1000 : Infinity;
      entries.set(key, { payload, expiresAt });

      if (this.model === 'Session' && payload.uid) {
        lookups.set(`Session:uid:${payload.uid}`, id);
      }
      if (payload.userCode) {
        lookups.set(`${this.model}:userCode:${payload.userCode}`, id);
      }
      if (GRANTABLE.has(this.model) && payload.grantId) {
        if (!grants.has(payload.grantId)) grants.set(payload.grantId, new Set());
        grants.get(payload.grantId).add(key);
      }
    }

    async find(id) {
      return read(this.key(id));
    }

    async findByUid(uid) {
      const id = lookups.get(`${this.model}:uid:${uid}`);
      return id === undefined ? undefined : this.find(id);
    }

    async findByUserCode(userCode) {
      const id = lookups.get(`${this.model}:userCode:${userCode}`);
      return id === undefined ? undefined : this.find(id);
    }

    async consume(id) {
      const payload = read(this.key(id));
      if (payload) payload.consumed = Math.floor(Date.now() / 1000);
    }

    async destroy(id) {
      entries.delete(this.key(id));
    }

    async revokeByGrantId(grantId) { // eslint-disable-line class-methods-use-this
      for (const key of grants.get(grantId) ?? []) entries.delete(key);
      grants.delete(grantId);
    }
  }

  /** Deletes every stored login session; returns how many were alive. */
  function destroyAllSessions() {
    let count = 0;
    for (const [key, record] of entries) {
      if (key.startsWith('Session:')) {
        if (alive(record)) count += 1;
        entries.delete(key);
      }
    }
    for (const key of lookups.keys()) {
      if (key.startsWith('Session:')) lookups.delete(key);
    }
    return count;
  }

  /** Deletes every live entry of `model` (e.g. RefreshToken); returns how many there were. */
  function destroyAll(model) {
    let count = 0;
    for (const [key, record] of entries) {
      if (key.startsWith(`${model}:`)) {
        if (alive(record)) count += 1;
        entries.delete(key);
      }
    }
    return count;
  }

  /** Revokes every grant: its record and every token issued under it. Returns how many. */
  function revokeAllGrants() {
    let count = 0;
    for (const [grantId, keys] of grants) {
      for (const key of keys) entries.delete(key);
      entries.delete(`Grant:${grantId}`);
      count += 1;
    }
    grants.clear();
    destroyAll('Grant');
    return count;
  }

  return { MemoryAdapter, destroyAllSessions, destroyAll, revokeAllGrants };
}
