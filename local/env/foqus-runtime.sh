#!/usr/bin/env bash
# Makes the vendored FOQUS (../shared/vendor/foqus-runtime-3.29.dev0.tar.gz, relative to the repo
# root) usable on this machine for the foqus engine's tests, the local stack and the benchmark.
# Idempotent: run it as often as you like.
#
#   1. If Debian's /usr/bin/python3 cannot import numpy, scipy, pandas, psutil and requests and we
#      are root, apt-get installs the five Debian packages (python3-numpy …).
#   2. Unpacks the tarball (sha256 checked) into .local/foqus-runtime/ unless already there.
#   3. Checks that FOQUS imports and prints the values to use:
#        FOQUS_PYTHON=/usr/bin/python3
#        FOQUS_PATH=<repo>/.local/foqus-runtime
#      or says why FOQUS is unavailable (exit 1). `export $(bash local/env/foqus-runtime.sh)`
#      sets them; the tests and the benchmark find .local/foqus-runtime without them.
# FOQUS_RUNTIME_TARBALL overrides where the tarball is (default ../shared/vendor/…).
#
# Elsewhere (a worker image, a developer's venv) `pip install ccsi-foqus` does the same job:
# then set FOQUS_PYTHON to that venv's python and leave FOQUS_PATH unset.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PYTHON=/usr/bin/python3
TARBALL="${FOQUS_RUNTIME_TARBALL:-$ROOT/../shared/vendor/foqus-runtime-3.29.dev0.tar.gz}"
SHA256=c401c307675e86d531886435dbc7c7665256424f6ede08d97ebbff6909c4716f
DEST="$ROOT/.local/foqus-runtime"
PACKAGES=(python3-numpy python3-scipy python3-pandas python3-psutil python3-requests)

unavailable() {
  echo "FOQUS is unavailable: $*" >&2
  exit 1
}

[ -x "$PYTHON" ] || unavailable "$PYTHON does not exist (install Debian's python3)."

if ! "$PYTHON" -c 'import numpy, scipy, pandas, psutil, requests' 2>/dev/null; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    echo "Installing ${PACKAGES[*]} with apt-get …" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >&2
  else
    unavailable "$PYTHON cannot import numpy, scipy, pandas, psutil, requests; as root run: apt-get install -y --no-install-recommends ${PACKAGES[*]}"
  fi
  "$PYTHON" -c 'import numpy, scipy, pandas, psutil, requests' ||
    unavailable "$PYTHON still cannot import numpy, scipy, pandas, psutil, requests after apt-get."
fi

# The unpacked copy is marked with the tarball's sha256, so a different tarball unpacks afresh.
if [ ! -f "$DEST/.sha256" ] || [ "$(cat "$DEST/.sha256")" != "$SHA256" ]; then
  [ -f "$TARBALL" ] || unavailable "the vendored runtime $TARBALL is missing."
  actual="$(sha256sum "$TARBALL" | cut -d' ' -f1)"
  [ "$actual" = "$SHA256" ] || unavailable "$TARBALL has sha256 $actual, expected $SHA256."
  rm -rf "$DEST.tmp"
  mkdir -p "$DEST.tmp"
  tar xzf "$TARBALL" -C "$DEST.tmp"
  echo "$SHA256" >"$DEST.tmp/.sha256"
  rm -rf "$DEST"
  mv "$DEST.tmp" "$DEST"
fi

# Importing FOQUS's session module is what the engine's bridge does first; HOME is a scratch dir
# so that nothing writes the caller's ~/.foqus.cfg.
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
if ! check="$(cd "$scratch" && HOME="$scratch" PYTHONPATH="$DEST" "$PYTHON" -c \
  'import foqus_lib.framework.session.session' 2>&1)"; then
  unavailable "$PYTHON cannot import FOQUS from $DEST: $(echo "$check" | tail -n 3)"
fi

echo "FOQUS_PYTHON=$PYTHON"
echo "FOQUS_PATH=$DEST"
