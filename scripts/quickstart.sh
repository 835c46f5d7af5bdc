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

# The public record: the bot publishes it into var/site (site_dir of the example
# configuration) after every change; a loopback web server shows it at record_base_url. Any web server will do in
# a real deployment (see README, "The public record").
RECORD_PORT=${RAPPORTEUR_RECORD_PORT:-8090}
./target/debug/rapporteur --config config/rapporteur.toml publish >/dev/null
python3 -m http.server --bind 127.0.0.1 "$RECORD_PORT" --directory var/site \
  >var/record-server.log 2>&1 &
RECORD_SERVER=$!
trap 'kill "$RECORD_SERVER" 2>/dev/null || true' EXIT
printf '[quickstart] the public record: http://127.0.0.1:%s/\n' "$RECORD_PORT" >&2
printf '[quickstart] the bot is starting; type !help in #cip-ccg:localhost or #cceg-ig:localhost\n' >&2
./target/debug/rapporteur --config config/rapporteur.toml run
