# Sourced by tools/bench/run (after tools/lib.sh and prepare.sh, from $ROOT): the other apps of the size
# comparison, built like the app (`trunk build --release`: the workspace's release profile, wasm-opt -Oz
# with the app's parameters, the glue minified by tools/minify-glue.mjs), each into target/bench/ and
# again only when its inputs changed.

# bench_trunk_dist NAME DIR DIST INPUT...: `trunk build --release --dist DIST` in DIR, when DIST is
# missing or INPUTs (paths, with the workspace's Cargo.lock and the library) changed since.
# TRUNK_BUILD_NO_DEFAULT_FEATURES=true in the environment builds without the app's default features.
bench_trunk_dist() {
  local name=$1 dir=$2 dist=$3
  shift 3
  local stamp="$dist.stamp" want
  want=$( {
    echo "no default features: ${TRUNK_BUILD_NO_DEFAULT_FEATURES:-false}"
    (cd "$ROOT" && git ls-files -z --cached --others --exclude-standard -- "$@" Cargo.toml Cargo.lock yew-oidc core silent tools/minify-glue.mjs) |
      (cd "$ROOT" && sort -z | xargs -0 -r sha256sum)
  } | sha256sum | cut -d' ' -f1)
  if [ -f "$dist/index.html" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
    return
  fi
  say "trunk build --release: $name -> ${dist#"$ROOT"/}"
  rm -rf "$dist"
  (cd "$dir" && trunk build --release --dist "$dist")
  echo "$want" >"$stamp"
}

# The hello Yew + router floor (tools/bench/floor) and the minimal app on the library (examples/minimal;
# built with its own Trunk.toml, as a user builds it: its glue is not minified).
bench_floor_and_example() {
  bench_trunk_dist "floor (hello Yew + router)" "$ROOT/tools/bench/floor" "$CARGO_TARGET_DIR/bench/floor-dist" tools/bench/floor
  bench_trunk_dist "example app (examples/minimal)" "$ROOT/examples/minimal" "$CARGO_TARGET_DIR/bench/example-dist" examples/minimal
  # The example without DPoP (yew-oidc's `dpop` feature off): what an app that needs no DPoP pays.
  TRUNK_BUILD_NO_DEFAULT_FEATURES=true bench_trunk_dist "example app without DPoP" "$ROOT/examples/minimal" \
    "$CARGO_TARGET_DIR/bench/example-nodpop-dist" examples/minimal
  # The same, with the app's post-build hook (terser, short import names) as the floor and the peer have
  # it: the library's cost like for like.
  local hooked="$CARGO_TARGET_DIR/bench/example-hooked-dist"
  rm -rf "$hooked"
  cp -r "$CARGO_TARGET_DIR/bench/example-dist" "$hooked"
  TRUNK_PROFILE=release TRUNK_STAGING_DIR="$hooked" node "$ROOT/tools/minify-glue.mjs" >/dev/null
}

# The Rust peer: tools/bench/peer's app on yew-oauth2 PEER_VERSION (openid), fetched from crates.io now
# (the only step that needs the network), in target/bench/peer: a workspace of its own, with this one's
# Cargo.lock as a start (the same Yew and wasm-bindgen), its release profile and the app's build hooks.
PEER_VERSION=0.14.0
bench_peer() {
  local dir="$CARGO_TARGET_DIR/bench/peer" dist="$CARGO_TARGET_DIR/bench/peer-dist"
  local want
  want=$(cat "$ROOT/tools/bench/peer/src/main.rs" "$ROOT/tools/bench/peer/index.html" "$ROOT/Cargo.lock" \
    "$ROOT/tools/minify-glue.mjs" <(echo "$PEER_VERSION") | sha256sum | cut -d' ' -f1)
  if [ -f "$dist/index.html" ] && [ "$(cat "$dist.stamp" 2>/dev/null)" = "$want" ]; then
    return
  fi
  say "the Rust peer: yew-oauth2 $PEER_VERSION (openid) from crates.io -> ${dist#"$ROOT"/}"
  rm -rf "$dir" "$dist"
  mkdir -p "$dir/src"
  cp "$ROOT/tools/bench/peer/src/main.rs" "$dir/src/"
  cp "$ROOT/tools/bench/peer/index.html" "$dir/"
  cp "$ROOT/Cargo.lock" "$dir/"
  cat >"$dir/Cargo.toml" <<TOML
[package]
name = "bench-peer"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
yew-oauth2 = { version = "=$PEER_VERSION", features = ["openid"] }
yew = { version = "0.23", features = ["csr"] }
yew-router = "0.20"
# The apps' allocator, as the workspace has it.
talc = { version = "5.1", default-features = false }
# The wasm-bindgen CLI's version, as in the workspace.
wasm-bindgen = "=$WASM_BINDGEN_VERSION"

[workspace]

$(sed -n '/^\[profile.release\]/,/^$/p' "$ROOT/Cargo.toml")
TOML
  cat >"$dir/Trunk.toml" <<TOML
[build]
target = "index.html"
offline = true
filehash = true

[tools]
wasm_bindgen = "$WASM_BINDGEN_VERSION"
wasm_opt = "version_132"

[[hooks]]
stage = "post_build"
command = "node"
command_arguments = ["$ROOT/tools/minify-glue.mjs"]
TOML
  (cd "$dir" && cargo fetch --quiet && trunk build --release --dist "$dist")
  echo "$want" >"$dist.stamp"
}
