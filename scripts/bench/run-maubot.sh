#!/usr/bin/env bash
# Starts the maubot standalone ping bot (ping/) with end-to-end encryption.
#
# Usage: RAPPORTEUR_BENCH_VENV=VENV scripts/bench/run-maubot.sh WORKDIR HOMESERVER_URL USER_ID PASSWORD
#
# maubot standalone takes an access token + device id, not a password, so this
# script logs in with the password once (a new device) and keeps the result in
# WORKDIR/credentials.json; later starts with the same WORKDIR reuse it, since
# the crypto store in WORKDIR/bot.db is tied to that device (a new login would
# make maubot exit with "Mismatching device ID"). Then it writes
# WORKDIR/config.yaml and execs the bot: the pid of this script IS the bot's
# python process. READY goes to stdout once it is synced and its keys are
# uploaded; logs go to stderr.
#
# Auto-join on invite is on, and the first sync is NOT ignored, so invites sent
# before the bot started are accepted too.
set -euo pipefail

if [ $# -ne 4 ]; then
    echo "usage: RAPPORTEUR_BENCH_VENV=VENV $0 WORKDIR HOMESERVER_URL USER_ID PASSWORD" >&2
    exit 2
fi
WORKDIR=$1 HS_URL=$2 USER_ID=$3 PASSWORD=$4
: "${RAPPORTEUR_BENCH_VENV:?set RAPPORTEUR_BENCH_VENV to the venv made by install-python-bots.sh}"
PY="$RAPPORTEUR_BENCH_VENV/bin/python"
HERE=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$WORKDIR"
WORKDIR=$(cd "$WORKDIR" && pwd)

# Password login (stdlib only); the password goes through the environment, not argv.
if [ ! -s "$WORKDIR/credentials.json" ]; then
    BENCH_HS=$HS_URL BENCH_USER=$USER_ID BENCH_PW=$PASSWORD "$PY" - >"$WORKDIR/credentials.json.tmp" <<'EOF'
import json, os, urllib.request
body = {"type": "m.login.password",
        "identifier": {"type": "m.id.user", "user": os.environ["BENCH_USER"]},
        "password": os.environ["BENCH_PW"],
        "initial_device_display_name": "maubot bench"}
req = urllib.request.Request(os.environ["BENCH_HS"].rstrip("/") + "/_matrix/client/v3/login",
                             json.dumps(body).encode(), {"Content-Type": "application/json"})
r = json.load(urllib.request.urlopen(req, timeout=30))
print(json.dumps({k: r[k] for k in ("user_id", "access_token", "device_id")}))
EOF
    mv "$WORKDIR/credentials.json.tmp" "$WORKDIR/credentials.json"
fi

# config.yaml, per maubot/standalone/example-config.yaml (JSON is valid YAML).
BENCH_HS=$HS_URL BENCH_WORKDIR=$WORKDIR "$PY" - <<'EOF'
import json, os
w = os.environ["BENCH_WORKDIR"]
creds = json.load(open(os.path.join(w, "credentials.json")))
cfg = {
    "user": {
        "credentials": {"id": creds["user_id"], "homeserver": os.environ["BENCH_HS"],
                        "access_token": creds["access_token"],
                        "device_id": creds["device_id"]},  # a device id turns E2EE on
        "sync": True, "appservice": False, "hs_token": None,
        "autojoin": True,
        # "disable": no profile requests at startup (not part of what is measured).
        "displayname": "disable", "avatar_url": "disable",
        # Handle the first sync: invites that came before the bot started get joined,
        # and the one-time-key count in it triggers the key upload right away.
        "ignore_initial_sync": False, "ignore_first_sync": False,
    },
    "server": {"hostname": "127.0.0.1", "port": 0, "base_path": "/", "public_url": "http://127.0.0.1"},
    "database": "sqlite:" + os.path.join(w, "bot.db"),
    "crypto_db_pickle_key": "mau.crypto",
    "database_opts": {"min_size": 1, "max_size": 10},
    "plugin_config": {},
    "logging": {
        "version": 1,
        "formatters": {"plain": {"format": "[%(asctime)s] [%(levelname)s@%(name)s] %(message)s"}},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain",
                                 "stream": "ext://sys.stderr"}},
        "loggers": {"maubot": {"level": "INFO"}, "mau": {"level": "INFO"},
                    "aiohttp": {"level": "WARNING"}},
        "root": {"level": "INFO", "handlers": ["console"]},
    },
}
with open(os.path.join(w, "config.yaml"), "w") as f:
    json.dump(cfg, f, indent=2)
EOF

cd "$WORKDIR"
exec "$PY" -m maubot.standalone -c "$WORKDIR/config.yaml" -m "$HERE/ping/maubot.yaml"
