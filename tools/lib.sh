# Shared by tools/bootstrap, tools/run and tools/test: the pinned tool versions and the environment.
# Sourced, not run.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TRUNK_VERSION=0.21.14 # 0.22 needs a newer rustc than the machines' 1.95
GECKODRIVER_VERSION=0.37.1 # Firefox's WebDriver server (crates.io; Debian does not package it)
# WebKitGTK's browser for WebKitWebDriver, where Debian's libwebkit2gtk-4.1-0 puts it.
MINIBROWSER=/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser
# One source of truth for wasm-bindgen: the exact pin in Cargo.toml.
WASM_BINDGEN_VERSION=$(sed -n 's/^wasm-bindgen = "=\([0-9.]*\)"$/\1/p' "$ROOT/Cargo.toml")
CARGO_BIN="${CARGO_HOME:-$HOME/.cargo}/bin"

export PATH="$CARGO_BIN:$ROOT/tools/node_modules/.bin:$PATH"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
export CHROMEDRIVER="${CHROMEDRIVER:-/usr/bin/chromedriver}"
# trunk: never look for a newer version online (the machines are offline).
export TRUNK_SKIP_VERSION_CHECK=true

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }
