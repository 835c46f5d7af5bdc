#!/usr/bin/env bash
# The quick start: brings up a loopback Synapse with the example groups' rooms and people, then
# runs the bot on them with SQLite, in the foreground (Ctrl-C stops the bot; the homeserver keeps
# running until `scripts/stack.sh down`).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"

# The servers start while the bot builds: on a new machine both take minutes (the servers'
# first start downloads Synapse, dovecot and the relay; the build needs both cores), and one
# after the other they would add up. The servers' progress goes to a log, cargo's to the screen.
mkdir -p var
STACK_LOG=var/stack-up.log
printf '[quickstart] starting the loopback servers in the background (progress in %s)\n' "$STACK_LOG" >&2
bash scripts/stack.sh up >"$STACK_LOG" 2>&1 &
STACK_UP=$!
if [ ! -f config/rapporteur.toml ]; then
  cp config/example.toml config/rapporteur.toml
  printf '[quickstart] wrote config/rapporteur.toml from config/example.toml\n' >&2
fi
# cargo's own progress bar shows the build moving. The first build compiles about 420 crates:
# on 2 cores it takes about 6 minutes (measured: docs/benchmarks.md, "Cold build"), less on
# more cores; later builds take seconds.
# Where cargo puts the binary: target/ unless the person's environment moves it.
BOT="${CARGO_TARGET_DIR:-target}/debug/rapporteur"
if [ ! -x "$BOT" ]; then
  printf '[quickstart] first build: about 420 crates, about 6 minutes on 2 cores, less on more; cargo shows its progress below\n' >&2
fi
cargo build
if ! wait "$STACK_UP"; then
  printf '[quickstart] the loopback servers did not start; the end of %s:\n' "$STACK_LOG" >&2
  tail -n 30 "$STACK_LOG" >&2
  exit 1
fi
printf '[quickstart] the loopback servers are up\n' >&2
"$BOT" --config config/rapporteur.toml check-config

# The public record: the bot publishes it into var/site (site_dir of the example
# configuration) at start and after every change, and serves it itself on [http] listen
# (127.0.0.1:8090 in the example), with /healthz, /readyz and /metrics. Any web server will do
# in a real deployment (see README, "The public record", and docs/operations.md).
RECORD_ADDRESS=$(sed -n 's/^listen = "\(.*\)"/\1/p' config/rapporteur.toml | head -n 1)
if [ -n "$RECORD_ADDRESS" ]; then
  printf '[quickstart] the public record: http://%s/ (health: /readyz, metrics: /metrics)\n' "$RECORD_ADDRESS" >&2
fi
printf '[quickstart] the bot is starting; type !help in #cip-ccg:localhost or #cceg-ig:localhost\n' >&2
exec "$BOT" --config config/rapporteur.toml run
