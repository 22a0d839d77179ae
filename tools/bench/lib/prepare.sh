# Shared by tools/bench/run and tools/soak: this directory's npm packages and a release dist.
# Sourced after tools/lib.sh, from $ROOT.

# tools/bench's npm packages (playwright-core, oidc-client-ts), reinstalled only when the lock changes.
bench_npm() {
  local bench="$ROOT/tools/bench"
  local stamp="$bench/node_modules/.lock-sha256"
  local want
  want=$(sha256sum "$bench/package-lock.json" | cut -d' ' -f1)
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    say "npm: installing tools/bench"
    (cd "$bench" && npm ci --no-audit --no-fund --loglevel=error)
    echo "$want" >"$stamp"
  fi
}

# The build inputs' digest: a dist built from other inputs is stale.
release_inputs_digest() {
  git ls-files -z --cached --others --exclude-standard -- \
    src silent assets index.html Trunk.toml Cargo.toml Cargo.lock .cargo tools ':!tools/bench' ':!tools/soak' |
    sort -z | xargs -0 -r sha256sum 2>/dev/null | sha256sum | cut -d' ' -f1
}

# release_dist DIR STAMP: `trunk build --release --dist DIR` when DIR is missing or stale: stale when the
# build inputs changed since this function last built it (recorded in STAMP), or when DIR was rebuilt
# since by something else (maybe not --release).
release_dist() {
  local dist=$1 stamp=$2 want have=""
  want="$(release_inputs_digest) release"
  if [ -f "$dist/index.html" ] && [ -f "$stamp" ]; then
    have=$(sed -n 1p "$stamp")
    [ "$(sed -n 2p "$stamp")" = "$(sha256sum "$dist/index.html" | cut -d' ' -f1)" ] || have=""
  fi
  if [ "$have" != "$want" ]; then
    say "trunk build --release --dist ${dist#"$ROOT"/} (missing or stale)"
    trunk build --release --dist "$dist"
    mkdir -p "$(dirname "$stamp")"
    printf '%s\n%s\n' "$want" "$(sha256sum "$dist/index.html" | cut -d' ' -f1)" >"$stamp"
  fi
}
