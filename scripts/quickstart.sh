#!/usr/bin/env bash
# The quick start: brings up a loopback Synapse with the example groups' rooms and people, then
# runs the bot on them with SQLite, in the foreground (Ctrl-C stops the bot; the homeserver keeps
# running until `scripts/stack.sh down`).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"

bash scripts/stack.sh up
if [ ! -f config/rapporteur.toml ]; then
  cp config/example.toml config/rapporteur.toml
  printf '[quickstart] wrote config/rapporteur.toml from config/example.toml\n' >&2
fi
# cargo's own progress bar shows the build moving. The first build compiles about 540 crates:
# on 2 cores it takes 8 to 10 minutes (measured), less on more cores; later builds take seconds.
if [ ! -x target/debug/rapporteur ]; then
  printf '[quickstart] first build: about 540 crates, 8-10 minutes on 2 cores, less on more; cargo shows its progress below\n' >&2
fi
cargo build
./target/debug/rapporteur --config config/rapporteur.toml check-config

# The public record: the bot publishes it into var/site (site_dir of the example
# configuration) at start and after every change, and serves it itself on [http] listen
# (127.0.0.1:8090 in the example), with /healthz, /readyz and /metrics. Any web server will do
# in a real deployment (see README, "The public record", and docs/operations.md).
RECORD_ADDRESS=$(sed -n 's/^listen = "\(.*\)"/\1/p' config/rapporteur.toml | head -n 1)
if [ -n "$RECORD_ADDRESS" ]; then
  printf '[quickstart] the public record: http://%s/ (health: /readyz, metrics: /metrics)\n' "$RECORD_ADDRESS" >&2
fi
printf '[quickstart] the bot is starting; type !help in #cip-ccg:localhost or #cceg-ig:localhost\n' >&2
./target/debug/rapporteur --config config/rapporteur.toml run
