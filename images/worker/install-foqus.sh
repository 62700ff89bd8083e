#!/usr/bin/env bash
# Installs FOQUS for the worker's foqus engine on the Linux worker image (Amazon Linux 2023).
# Run as root by images/packer/linux-worker.pkr.hcl after the worker is in /opt/foqus and its
# user exists; safe to run again (the venv is made afresh).
#
#   1. The Python FOQUS runs on, from the distribution (FOQUS_PYTHON_PACKAGE, e.g. python3.11;
#      FOQUS supports Python 3.10 to 3.12), with dnf.
#   2. A venv of its own (FOQUS_VENV, default /opt/foqus-venv), owned by root and read-only to
#      everyone else, with `pip install ccsi-foqus==FOQUS_VERSION` (FOQUS and its dependencies,
#      TurbineClient included, from PyPI; PyQt5 comes along but evaluating a flowsheet never
#      imports it).
#   3. Checks, as the worker's user and with HOME set to a scratch directory (FOQUS writes
#      $HOME/.foqus.cfg and its working files into the current directory): the venv imports
#      foqus_lib.framework.session.session, and the engine's bridge (worker/engines/
#      foqus_bridge.py) starts FOQUS and reports ready.
#   4. FOQUS_PYTHON=<venv>/bin/python in /etc/foqus/image.env, the image-wide settings that
#      foqus-worker.service reads before the pool's worker.env: the worker then runs the `foqus`
#      application. FOQUS_PATH stays unset (pip installed FOQUS into the venv).
#
# Environment: FOQUS_VERSION (required, e.g. 3.27.0), FOQUS_PYTHON_PACKAGE (python3.11),
# FOQUS_VENV (/opt/foqus-venv), APP_DIR (/opt/foqus), SERVICE_USER (foqus).
set -euo pipefail

FOQUS_VERSION="${FOQUS_VERSION:?FOQUS_VERSION (the ccsi-foqus release to install, e.g. 3.27.0) is not set}"
FOQUS_PYTHON_PACKAGE="${FOQUS_PYTHON_PACKAGE:-python3.11}"
FOQUS_VENV="${FOQUS_VENV:-/opt/foqus-venv}"
APP_DIR="${APP_DIR:-/opt/foqus}"
SERVICE_USER="${SERVICE_USER:-foqus}"
IMAGE_ENV=/etc/foqus/image.env
BRIDGE="$APP_DIR/worker/engines/foqus_bridge.py"

fail() {
  echo "install-foqus.sh: $*" >&2
  exit 1
}

[ "$(id -u)" -eq 0 ] || fail "run me as root."
getent passwd "$SERVICE_USER" >/dev/null || fail "the worker's user $SERVICE_USER does not exist yet."
[ -f "$BRIDGE" ] || fail "$BRIDGE is missing: install the worker into $APP_DIR first."

set -x

# 1. The interpreter, from the distribution (python3.11-pip brings the wheel venv's ensurepip uses).
dnf -y install "$FOQUS_PYTHON_PACKAGE" "$FOQUS_PYTHON_PACKAGE-pip"
python="/usr/bin/$FOQUS_PYTHON_PACKAGE"
"$python" -c 'import sys; v = sys.version_info[:2]; assert (3, 10) <= v <= (3, 12), "FOQUS needs Python 3.10 to 3.12, not %d.%d" % v'

# 2. The venv, afresh.
rm -rf "$FOQUS_VENV"
"$python" -m venv "$FOQUS_VENV"
"$FOQUS_VENV/bin/python" -m pip install --no-cache-dir --disable-pip-version-check --no-input \
  "ccsi-foqus==$FOQUS_VERSION"
installed="$("$FOQUS_VENV/bin/python" -c 'from importlib.metadata import version; print(version("ccsi-foqus"))')"
[ "$installed" = "$FOQUS_VERSION" ] || fail "pip installed ccsi-foqus $installed, not $FOQUS_VERSION."
chown -R root:root "$FOQUS_VENV"
chmod -R u+rwX,go+rX,go-w "$FOQUS_VENV"

# 3. The checks, as the worker's user, in a scratch directory that is also its HOME.
scratch="$(mktemp -d /tmp/foqus-check.XXXXXX)"
trap 'rm -rf "$scratch"' EXIT
chown "$SERVICE_USER:" "$scratch"
as_worker() {
  (cd "$scratch" && sudo -u "$SERVICE_USER" env -i PATH=/usr/bin:/bin LANG=C.UTF-8 HOME="$scratch" \
    PYTHONUNBUFFERED=1 "$@")
}
as_worker "$FOQUS_VENV/bin/python" -c 'import foqus_lib.framework.session.session'
# The bridge starts FOQUS (a session, its working-directory files), says ready, and ends at EOF.
if ! as_worker "$FOQUS_VENV/bin/python" "$BRIDGE" </dev/null >"$scratch/bridge.out" 2>"$scratch/bridge.log" ||
  ! grep -q '"event":"ready"' "$scratch/bridge.out"; then
  tail -n 40 "$scratch/bridge.out" "$scratch/bridge.log" >&2 || true
  fail "the foqus engine's bridge did not start FOQUS from $FOQUS_VENV."
fi
cat "$scratch/bridge.out"

# 4. FOQUS_PYTHON in the image-wide settings (other lines of the file are kept).
install -d -m 0755 -o root -g root /etc/foqus
if [ ! -f "$IMAGE_ENV" ]; then
  printf '%s\n' \
    '# Worker settings baked into this image (foqus-worker.service reads this file before' \
    '# /etc/foqus/worker.env, which the worker pool writes at launch and which wins).' >"$IMAGE_ENV"
fi
sed -i '/^FOQUS_PYTHON=/d' "$IMAGE_ENV"
echo "FOQUS_PYTHON=$FOQUS_VENV/bin/python" >>"$IMAGE_ENV"
chown root:root "$IMAGE_ENV"
chmod 0644 "$IMAGE_ENV"
cat "$IMAGE_ENV"
