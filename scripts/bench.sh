#!/usr/bin/env bash
# Runs the benchmarks (release build): engine throughput on SQLite and PostgreSQL, and the `!ping`
# round trip and memory on a loopback Synapse, a fan-out of mail through the loopback SMTP
# relay, and feedback requests at scale (planning and status for 50 organizations x 1,000
# requests, a `!remind` cycle for 500 members through the handler and end to end), on the stack
# started in the test stack's folder.
# Results go to standard output; docs/benchmarks.md records the figures of a run.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"
export RAPPORTEUR_STACK_DIR=${RAPPORTEUR_TEST_STACK_DIR:-$REPO/var/test-stack}
export RAPPORTEUR_SYNAPSE_PORT=${RAPPORTEUR_TEST_SYNAPSE_PORT:-8018}
export RAPPORTEUR_IMAP_PORT=${RAPPORTEUR_TEST_IMAP_PORT:-1153}
export RAPPORTEUR_LMTP_PORT=${RAPPORTEUR_TEST_LMTP_PORT:-2434}
export RAPPORTEUR_SMTP_PORT=${RAPPORTEUR_TEST_SMTP_PORT:-2535}
trap 'bash "$REPO/scripts/stack.sh" down >/dev/null 2>&1 || true' EXIT
bash scripts/stack.sh up >/dev/null
# shellcheck disable=SC1091
. "$RAPPORTEUR_STACK_DIR/env"
# The bot as deployed (the dist profile: link-time optimised for size) is what the round trip and
# memory figures describe; the bench harnesses are built with the ordinary bench profile.
cargo build --profile dist
export RAPPORTEUR_BOT_BINARY="$REPO/target/dist/rapporteur"
cargo bench --bench engine_throughput
cargo bench --bench matrix_round_trip
cargo bench --bench mail_fanout
cargo bench --bench feedback_planning
