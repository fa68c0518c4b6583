#!/usr/bin/env bash
# Installs what the project needs, idempotently: a second run with everything present
# only checks versions and returns in about a second.
#   scripts/setup.sh            toolchain for building and serving the page
#   scripts/setup.sh --browser  also headless Chromium and Firefox ESR for the browser tests
#   scripts/setup.sh --fuzz     also the nightly toolchain and cargo-fuzz
#   scripts/setup.sh --bench    also Chromium, the benchmark's npm packages (bench/) and a
#                               Python venv with onnx (bench/.venv)
set -euo pipefail
cd "$(dirname "$0")/.."

export PATH="$HOME/.cargo/bin:$PATH"

say() { printf '\033[1msetup:\033[0m %s\n' "$*" >&2; }

apt_updated=""
apt_install() {
  if [ -z "$apt_updated" ]; then
    say "apt-get update"
    apt-get update -qq
    apt_updated=1
  fi
  say "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# Clippy and rustfmt (make test lints and checks formatting).
for component in clippy rustfmt; do
  if ! rustup component list --installed | grep -q "^$component"; then
    say "adding the $component component"
    rustup component add "$component"
  fi
done

# Rust's wasm target.
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# wasm-bindgen CLI at exactly the version in Cargo.lock (the generated JS must match the crate).
want=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
have=$(wasm-bindgen --version 2>/dev/null | awk '{ print $2 }' || true)
if [ "$have" != "$want" ]; then
  say "installing wasm-bindgen-cli $want (found: ${have:-none}); takes a few minutes once"
  # Not --locked: one of its locked dependencies is missing from the crates mirror here.
  cargo install wasm-bindgen-cli --version "$want" --force --quiet
fi

# Node packages: MNIST data, Playwright's and Puppeteer's drivers (no browser download).
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  apt_install nodejs npm
fi
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi

if { [ "${1:-}" = "--browser" ] || [ "${1:-}" = "--bench" ]; } && [ ! -x /usr/bin/chromium ]; then
  apt_install chromium chromium-driver fonts-dejavu-core
fi
# Firefox ESR for the smoke set in a second browser (tests/browser/firefox.test.mjs, driven by
# puppeteer-core over WebDriver BiDi: Debian's build, never a downloaded one).
if [ "${1:-}" = "--browser" ] && [ ! -x /usr/bin/firefox-esr ]; then
  apt_install firefox-esr
fi
if [ "${1:-}" = "--fuzz" ]; then
  # libFuzzer's coverage instrumentation needs nightly rustc; cargo-fuzz drives it.
  if ! rustup run nightly rustc --version >/dev/null 2>&1; then
    say "installing the nightly toolchain (for cargo-fuzz)"
    rustup toolchain install nightly --profile minimal
  fi
  if ! cargo fuzz --version >/dev/null 2>&1; then
    say "installing cargo-fuzz; takes a minute or two once"
    cargo install cargo-fuzz --quiet
  fi
fi
if [ "${1:-}" = "--bench" ]; then
  # TensorFlow.js and ONNX Runtime Web: benchmark dependencies only, never served to the page.
  if [ ! -f bench/node_modules/.package-lock.json ] || [ bench/package-lock.json -nt bench/node_modules/.package-lock.json ]; then
    say "npm ci in bench/"
    (cd bench && npm ci --no-audit --no-fund --loglevel=error)
  fi
  # Python's onnx package builds the ONNX file from the bundle's decoder weights.
  if ! command -v python3 >/dev/null || ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
    apt_install python3 python3-venv
  fi
  if ! bench/.venv/bin/python -c 'import onnx, numpy' 2>/dev/null; then
    say "creating bench/.venv with onnx and numpy"
    python3 -m venv bench/.venv
    bench/.venv/bin/pip install --quiet --disable-pip-version-check onnx==1.23.2 numpy
  fi
fi
exit 0
