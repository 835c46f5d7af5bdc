#!/usr/bin/env bash
# Rapporteur side by side with the Python bots it replaces (issue 11): maubot 0.6 with a `!ping`
# plugin and a bare Python /sync loop bot, each in its own encrypted room on one loopback
# Synapse, pinged in turn by one driver (benches/vs_python.rs). Installs the Python bots into
# var/bench-python (once; pinned in scripts/bench/requirements-bench.txt), starts the test
# stack's homeserver, builds the deployable binary (`cargo build --profile dist`, 7 to 20
# minutes cold on 2 cores) and prints the tables that docs/benchmarks.md records.
#
# Environment: RAPPORTEUR_BENCH_PINGS (rounds, default 300), RAPPORTEUR_BENCH_BOTS (a
# comma-separated subset of rapporteur,maubot,bare-python), RAPPORTEUR_BOT_BINARY (another
# build of the bot, e.g. target/release/rapporteur, to compare profiles).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"
export RAPPORTEUR_STACK_DIR=${RAPPORTEUR_TEST_STACK_DIR:-$REPO/var/test-stack}
export RAPPORTEUR_SYNAPSE_PORT=${RAPPORTEUR_TEST_SYNAPSE_PORT:-8018}
export RAPPORTEUR_IMAP_PORT=${RAPPORTEUR_TEST_IMAP_PORT:-1153}
export RAPPORTEUR_LMTP_PORT=${RAPPORTEUR_TEST_LMTP_PORT:-2434}
export RAPPORTEUR_SMTP_PORT=${RAPPORTEUR_TEST_SMTP_PORT:-2535}
export RAPPORTEUR_BENCH_VENV=${RAPPORTEUR_BENCH_VENV:-$REPO/var/bench-python}

echo "== installing the Python bots into $RAPPORTEUR_BENCH_VENV (once)"
bash scripts/bench/install-python-bots.sh "$RAPPORTEUR_BENCH_VENV"

echo "== starting the loopback homeserver"
trap 'bash "$REPO/scripts/stack.sh" down >/dev/null 2>&1 || true' EXIT
bash scripts/stack.sh up >/dev/null
# shellcheck disable=SC1091
. "$RAPPORTEUR_STACK_DIR/env"

if [ -z "${RAPPORTEUR_BOT_BINARY:-}" ]; then
    echo "== building the deployable binary (cargo build --profile dist)"
    cargo build --profile dist
    export RAPPORTEUR_BOT_BINARY="$REPO/target/dist/rapporteur"
fi

echo "== measuring ($RAPPORTEUR_BOT_BINARY)"
cargo bench --profile dev --bench vs_python
