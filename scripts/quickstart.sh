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
cargo build --quiet
./target/debug/rapporteur --config config/rapporteur.toml check-config
printf '[quickstart] the bot is starting; type !help in #cip-ccg:localhost or #cceg-ig:localhost\n' >&2
exec ./target/debug/rapporteur --config config/rapporteur.toml run
