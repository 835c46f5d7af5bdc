#!/usr/bin/env bash
# Installs the two Python comparison bots' runtime into a virtualenv:
# maubot 0.6.0 (standalone mode) with its end-to-end encryption extra
# (python-olm, pycryptodome, unpaddedbase64, base58), pinned by
# requirements-bench.txt beside this script. bare_bot.py uses the same venv
# (it only needs mautrix + python-olm, both in there).
#
# Usage: scripts/bench/install-python-bots.sh VENV_DIR
#
# Idempotent: does nothing when VENV_DIR already has maubot 0.6.0 and olm.
# Needs python3 3.10-3.12 (RAPPORTEUR_PYTHON picks another) with the venv
# module, and PyPI; no Debian packages: every pin has a manylinux x86_64 wheel
# for CPython 3.11 (python-olm 3.2.16 has wheels for 3.10-3.12 only; on 3.13 it
# would build from source and need cmake, make and g++). Takes 15-20 s.
set -euo pipefail

if [ $# -ne 1 ]; then
    echo "usage: $0 VENV_DIR" >&2
    exit 2
fi
VENV=$1
HERE=$(cd "$(dirname "$0")" && pwd)
REQS="$HERE/requirements-bench.txt"
PYTHON=${RAPPORTEUR_PYTHON:-python3}

# Already installed? (maubot 0.6.0 importable together with the crypto deps)
if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" - <<'EOF' 2>/dev/null
import importlib.metadata as m, olm, mautrix.crypto  # noqa: F401
assert m.version("maubot") == "0.6.0"
EOF
then
    exit 0
fi

[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
# --no-deps with the full frozen list: exactly the pinned set, no resolver surprises.
"$VENV/bin/pip" install --quiet --disable-pip-version-check --no-deps -r "$REQS"
"$VENV/bin/python" -c 'import olm, mautrix.crypto, maubot.standalone.config' >/dev/null
echo "installed maubot 0.6.0 + E2EE deps into $VENV" >&2
