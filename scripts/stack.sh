#!/usr/bin/env bash
# Local test stack for rapporteur: a Synapse homeserver on 127.0.0.1, seeded
# with the bot account, every person of config/groups/*.toml and one room per
# group. Everything lives under one directory:
#
#   ${RAPPORTEUR_STACK_DIR:-<repo>/var/stack}
#     venv-synapse/        Synapse virtualenv (kept by `reset`)
#     secrets/             registration_shared_secret, bot_password, demo_password, ...
#     synapse/             homeserver.yaml, signing key, sqlite db, media store
#     synapse.pid          process id of the running Synapse
#     synapse.log          its log
#     state/tokens.json    access tokens of the room creators (one device each)
#     rooms.env            room ids / aliases (sourceable)
#     env                  sourceable settings for the bot and the tests
#
# Usage: scripts/stack.sh up|down|restart|reset|status|env
#
# Environment:
#   RAPPORTEUR_STACK_DIR     state directory (default <repo>/var/stack)
#   RAPPORTEUR_SYNAPSE_PORT  client listener port (default 8008)
#   RAPPORTEUR_GROUPS_DIR    group files (default <repo>/config/groups)
#   RAPPORTEUR_PYTHON        python >= 3.10 used to make the venv (default python3)
#
# Only python3 (>= 3.10, with venv) and network access to PyPI are needed on a
# new machine; the script installs Synapse itself. Everything binds to 127.0.0.1.
#
# Layout for later services (dovecot, SMTP relay): each service NAME provides
# NAME_up, NAME_down, NAME_status and NAME_reset, and is listed in SERVICES
# (started in order, stopped in reverse order).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STACK=${RAPPORTEUR_STACK_DIR:-$REPO/var/stack}
PYTHON=${RAPPORTEUR_PYTHON:-python3}
GROUPS_DIR=${RAPPORTEUR_GROUPS_DIR:-$REPO/config/groups}
ADMIN_PY="$REPO/scripts/lib/matrix_admin.py"

SECRETS="$STACK/secrets"
ENV_FILE="$STACK/env"
ROOMS_ENV="$STACK/rooms.env"

SERVICES=(synapse)

# --- Synapse settings --------------------------------------------------------
# Pinned to the series these scripts were checked against (1.163.2 at the time).
SYNAPSE_SPEC='matrix-synapse>=1.160,<1.170'
SYNAPSE_PORT=${RAPPORTEUR_SYNAPSE_PORT:-8008}
SERVER_NAME=localhost
HS_URL="http://127.0.0.1:${SYNAPSE_PORT}"
SYNAPSE_VENV="$STACK/venv-synapse"
SYNAPSE_DIR="$STACK/synapse"
SYNAPSE_CONF="$SYNAPSE_DIR/homeserver.yaml"
SYNAPSE_PIDFILE="$STACK/synapse.pid"
SYNAPSE_LOG="$STACK/synapse.log"
SYNAPSE_START_TIMEOUT=60
BOT_LOCALPART=rapporteur
DEMO_PASSWORD=rapporteur-demo
ENCRYPTED_ROOMS=(cceg-ig)          # group file stems whose room is E2E encrypted

log() { printf '[stack] %s\n' "$*" >&2; }
die() { printf '[stack] ERROR: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------

# gen_secret FILE: a random secret, written once (0600) and kept afterwards.
gen_secret() {
    local f=$1
    [[ -s $f ]] && return 0
    mkdir -p "$(dirname "$f")"
    chmod 700 "$(dirname "$f")"
    (umask 077 && "$PYTHON" -c 'import secrets; print(secrets.token_urlsafe(32))' >"$f.tmp")
    mv "$f.tmp" "$f"
}

# write_secret FILE VALUE: a fixed value (0600), rewritten only if it differs.
write_secret() {
    local f=$1 v=$2
    mkdir -p "$(dirname "$f")"
    if [[ ! -f $f || $(cat "$f") != "$v" ]]; then
        (umask 077 && printf '%s\n' "$v" >"$f")
    fi
}

# pid_matches PIDFILE PATTERN: the recorded process is alive and its command
# line contains PATTERN (so a recycled pid is never signalled).
pid_matches() {
    local pidfile=$1 pattern=$2 pid
    [[ -s $pidfile ]] || return 1
    pid=$(<"$pidfile")
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    [[ -r /proc/$pid/cmdline ]] || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$pattern"
}

# stop_pid PIDFILE PATTERN NAME: SIGTERM, wait up to 20 s, then SIGKILL.
stop_pid() {
    local pidfile=$1 pattern=$2 name=$3 pid i
    if ! pid_matches "$pidfile" "$pattern"; then
        log "$name: not running"
        rm -f "$pidfile"
        return 0
    fi
    pid=$(<"$pidfile")
    log "$name: stopping (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 200; i++)); do
        [[ -e /proc/$pid ]] || break
        # a zombie whose parent is gone still counts as stopped
        [[ $(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) == Z ]] && break
        sleep 0.1
    done
    if [[ -e /proc/$pid ]] && [[ $(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) != Z ]]; then
        log "$name: still alive after 20 s, sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        sleep 0.5
    fi
    rm -f "$pidfile"
    log "$name: stopped"
}

# start_detached PIDFILE LOGFILE CWD CMD...: run CMD in its own session, stdin
# from /dev/null, output appended to LOGFILE, and record its pid in PIDFILE.
start_detached() {
    local pidfile=$1 logfile=$2 cwd=$3 i
    shift 3
    rm -f "$pidfile"
    local launcher=()
    command -v setsid >/dev/null && launcher=(setsid)
    (
        cd "$cwd"
        exec "${launcher[@]}" bash -c 'echo $$ >"$0"; exec "$@"' "$pidfile" "$@"
    ) </dev/null >>"$logfile" 2>&1 &
    for ((i = 0; i < 100; i++)); do
        [[ -s $pidfile ]] && return 0
        sleep 0.05
    done
    die "could not start: $*"
}

# ---------------------------------------------------------------------------
# synapse
# ---------------------------------------------------------------------------

synapse_install() {
    local marker="$SYNAPSE_VENV/.rapporteur-installed"
    if [[ -x $SYNAPSE_VENV/bin/python && -f $marker && $(head -n1 "$marker") == "$SYNAPSE_SPEC" ]]; then
        return 0
    fi
    log "synapse: installing '$SYNAPSE_SPEC' into $SYNAPSE_VENV (about 30 s)"
    "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))' \
        || die "$PYTHON is older than 3.10; Synapse needs >= 3.10 (set RAPPORTEUR_PYTHON)"
    if [[ ! -x $SYNAPSE_VENV/bin/python ]]; then
        if ! "$PYTHON" -m venv "$SYNAPSE_VENV" 2>/dev/null; then
            rm -rf "$SYNAPSE_VENV"
            if command -v apt-get >/dev/null && [[ $(id -u) == 0 ]]; then
                log "synapse: python venv module missing, installing python3-venv"
                apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
            fi
            "$PYTHON" -m venv "$SYNAPSE_VENV" || die "cannot create a venv with $PYTHON"
        fi
    fi
    "$SYNAPSE_VENV/bin/pip" install --disable-pip-version-check -q "$SYNAPSE_SPEC" \
        || die "pip install $SYNAPSE_SPEC failed"
    local version
    version=$("$SYNAPSE_VENV/bin/python" -c 'import synapse; print(synapse.__version__)')
    printf '%s\ninstalled matrix-synapse %s on %s\n' "$SYNAPSE_SPEC" "$version" "$(date -u +%FT%TZ)" >"$marker"
    log "synapse: installed matrix-synapse $version"
}

synapse_secrets() {
    gen_secret "$SECRETS/registration_shared_secret"
    gen_secret "$SECRETS/macaroon_secret_key"
    gen_secret "$SECRETS/form_secret"
    gen_secret "$SECRETS/bot_password"
    write_secret "$SECRETS/demo_password" "$DEMO_PASSWORD"
}

# Every rc_* rate limiter of Synapse 1.16x (checked against
# synapse/config/ratelimiting.py), raised so that tests are never throttled.
# Synapse ignores unknown keys silently: synapse_check_ratelimits verifies.
synapse_ratelimits_yaml() {
    local hi='{per_second: 1000, burst_count: 10000}'
    cat <<EOF
rc_message: $hi
rc_registration: $hi
rc_registration_token_validity: $hi
rc_login:
  address: $hi
  account: $hi
  failed_attempts: $hi
rc_admin_redaction: $hi
rc_joins:
  local: $hi
  remote: $hi
rc_joins_per_room: $hi
rc_key_requests: $hi
rc_3pid_validation: $hi
rc_invites:
  per_room: $hi
  per_user: $hi
  per_issuer: $hi
rc_third_party_invite: $hi
rc_media_create: $hi
rc_presence:
  per_user: $hi
rc_delayed_event_mgmt: $hi
rc_room_creation: $hi
rc_reports: $hi
rc_user_directory: $hi
rc_profile: $hi
rc_federation:
  window_size: 1000
  sleep_limit: 10000
  sleep_delay: 1
  reject_limit: 100000
  concurrent: 100
EOF
}

synapse_config_text() {
    cat <<EOF
# Written by scripts/stack.sh: edits are overwritten on the next \`up\`.
# Loopback-only test homeserver for rapporteur; no federation.
server_name: "$SERVER_NAME"
public_baseurl: "$HS_URL/"
report_stats: false

listeners:
  - port: $SYNAPSE_PORT
    bind_addresses: ["127.0.0.1"]
    type: http
    tls: false
    x_forwarded: false
    resources:
      - names: [client]
        compress: false

database:
  name: sqlite3
  args:
    database: "$SYNAPSE_DIR/homeserver.db"

media_store_path: "$SYNAPSE_DIR/media_store"
signing_key_path: "$SYNAPSE_DIR/$SERVER_NAME.signing.key"
registration_shared_secret_path: "$SECRETS/registration_shared_secret"
macaroon_secret_key_path: "$SECRETS/macaroon_secret_key"
form_secret_path: "$SECRETS/form_secret"

enable_registration: false
bcrypt_rounds: 4

# no outside traffic
trusted_key_servers: []
suppress_key_server_warning: true
federation_domain_whitelist: []
url_preview_enabled: false
enable_metrics: false

# let Element find the demo users by name
user_directory:
  enabled: true
  search_all_users: true

$(synapse_ratelimits_yaml)
EOF
}

# Writes homeserver.yaml (and the signing key); sets SYNAPSE_CONFIG_CHANGED.
synapse_configure() {
    mkdir -p "$SYNAPSE_DIR/media_store"
    SYNAPSE_CONFIG_CHANGED=0
    local new
    new=$(synapse_config_text)
    if [[ ! -f $SYNAPSE_CONF || $(cat "$SYNAPSE_CONF") != "$new" ]]; then
        printf '%s\n' "$new" >"$SYNAPSE_CONF"
        SYNAPSE_CONFIG_CHANGED=1
    fi
    if [[ ! -s $SYNAPSE_DIR/$SERVER_NAME.signing.key ]]; then
        (umask 077 && "$SYNAPSE_VENV/bin/python" -m synapse._scripts.generate_signing_key \
            -o "$SYNAPSE_DIR/$SERVER_NAME.signing.key")
    fi
    if ((SYNAPSE_CONFIG_CHANGED)); then
        synapse_check_ratelimits
    fi
}

# Loads the config with Synapse's own parser and warns about any rate limiter
# still at a low value (a typo or a limiter added by a newer Synapse).
synapse_check_ratelimits() {
    "$SYNAPSE_VENV/bin/python" - "$SYNAPSE_CONF" <<'EOF' || die "homeserver.yaml does not load"
import sys
from synapse.config.homeserver import HomeServerConfig
from synapse.config.ratelimiting import RatelimitSettings
cfg = HomeServerConfig.load_config("check", ["-c", sys.argv[1]])
low = []
for name in dir(cfg.ratelimiting):
    v = getattr(cfg.ratelimiting, name, None)
    if isinstance(v, RatelimitSettings) and v.key != "rc_remote_media_downloads":
        if v.per_second < 100 or v.burst_count < 1000:
            low.append(f"{v.key} (per_second={v.per_second}, burst_count={v.burst_count})")
if low:
    print("[stack] WARNING: rate limits still low: " + ", ".join(low), file=sys.stderr)
EOF
}

synapse_running() { pid_matches "$SYNAPSE_PIDFILE" "synapse.app.homeserver -c $SYNAPSE_CONF"; }
synapse_healthy() { "$PYTHON" "$ADMIN_PY" health --url "$HS_URL"; }

synapse_up() {
    synapse_install
    synapse_secrets
    synapse_configure
    if synapse_running; then
        if ((SYNAPSE_CONFIG_CHANGED)); then
            log "synapse: configuration changed, restarting"
            synapse_down
        elif synapse_healthy; then
            log "synapse: already running (pid $(<"$SYNAPSE_PIDFILE")) at $HS_URL"
            return 0
        fi
    fi
    if ! synapse_running; then
        if synapse_healthy; then
            die "something else already answers on $HS_URL (another stack?); set RAPPORTEUR_SYNAPSE_PORT"
        fi
        log "synapse: starting on $HS_URL (log: $SYNAPSE_LOG)"
        printf '\n===== %s start =====\n' "$(date -u +%FT%TZ)" >>"$SYNAPSE_LOG"
        start_detached "$SYNAPSE_PIDFILE" "$SYNAPSE_LOG" "$SYNAPSE_DIR" \
            "$SYNAPSE_VENV/bin/python" -m synapse.app.homeserver -c "$SYNAPSE_CONF"
    fi
    if ! "$PYTHON" "$ADMIN_PY" wait --url "$HS_URL" --timeout "$SYNAPSE_START_TIMEOUT" \
            --pid "$(<"$SYNAPSE_PIDFILE")"; then
        log "synapse: not healthy after ${SYNAPSE_START_TIMEOUT} s; last lines of $SYNAPSE_LOG:"
        tail -n 40 "$SYNAPSE_LOG" >&2 || true
        die "synapse did not start"
    fi
    log "synapse: healthy (pid $(<"$SYNAPSE_PIDFILE"))"
}

synapse_down() { stop_pid "$SYNAPSE_PIDFILE" "synapse.app.homeserver -c $SYNAPSE_CONF" synapse; }

synapse_status() {
    if synapse_running; then
        if synapse_healthy; then
            echo "synapse: running, healthy (pid $(<"$SYNAPSE_PIDFILE"), $HS_URL)"
        else
            echo "synapse: running but NOT healthy (pid $(<"$SYNAPSE_PIDFILE"), $HS_URL)"
            return 1
        fi
    else
        echo "synapse: stopped"
        return 1
    fi
}

synapse_reset() {
    rm -rf "$SYNAPSE_DIR" "$ROOMS_ENV" "$STACK/state" "$SYNAPSE_LOG"
}

# Users and rooms from the group files (idempotent).
synapse_seed() {
    local args=() r
    for r in "${ENCRYPTED_ROOMS[@]}"; do args+=(--encrypted "$r"); done
    "$PYTHON" "$ADMIN_PY" seed --quiet \
        --url "$HS_URL" \
        --server-name "$SERVER_NAME" \
        --secret-file "$SECRETS/registration_shared_secret" \
        --groups-dir "$GROUPS_DIR" \
        --demo-password-file "$SECRETS/demo_password" \
        --bot-user "$BOT_LOCALPART" \
        --bot-password-file "$SECRETS/bot_password" \
        --token-cache "$STACK/state/tokens.json" \
        --rooms-env "$ROOMS_ENV" \
        "${args[@]}" >"$STACK/state/seed.json" || die "seeding users and rooms failed"
    local created
    created=$("$PYTHON" -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["users_created"]))' \
        "$STACK/state/seed.json")
    log "matrix: $created user(s) newly registered; rooms in $ROOMS_ENV"
}

# ---------------------------------------------------------------------------
# env file and how-to
# ---------------------------------------------------------------------------

write_env() {
    local tmp="$ENV_FILE.tmp"
    {
        echo "# Written by scripts/stack.sh up. Source it: . $ENV_FILE"
        printf 'export RAPPORTEUR_STACK_DIR=%q\n' "$STACK"
        printf 'export RAPPORTEUR_HOMESERVER_URL=%q\n' "$HS_URL"
        printf 'export RAPPORTEUR_MATRIX_USER_ID=%q\n' "@$BOT_LOCALPART:$SERVER_NAME"
        printf 'export RAPPORTEUR_MATRIX_PASSWORD_FILE=%q\n' "$SECRETS/bot_password"
        printf 'export RAPPORTEUR_TEST_HOMESERVER_URL=%q\n' "$HS_URL"
        printf 'export RAPPORTEUR_TEST_REGISTRATION_SECRET_FILE=%q\n' "$SECRETS/registration_shared_secret"
        printf 'export RAPPORTEUR_TEST_DEMO_PASSWORD_FILE=%q\n' "$SECRETS/demo_password"
        if [[ -f $ROOMS_ENV ]]; then
            grep -E '^[A-Z0-9_]+=' "$ROOMS_ENV" | sed 's/^/export /'
        fi
    } >"$tmp"
    mv "$tmp" "$ENV_FILE"
}

print_howto() {
    local creators
    creators=$(grep -E '_CREATOR=' "$ROOMS_ENV" 2>/dev/null | cut -d"'" -f2 | sort -u | paste -sd' ' - || true)
    cat <<EOF

Local Matrix homeserver is up.
  Homeserver URL : $HS_URL   (server name: $SERVER_NAME)
  Bot account    : @$BOT_LOCALPART:$SERVER_NAME (password in $SECRETS/bot_password)
  Demo accounts  : every @...:$SERVER_NAME person in $GROUPS_DIR/*.toml,
                   password '$DEMO_PASSWORD'; room creators / chairs: ${creators:-?}
  Rooms          : $(grep -E '_ALIAS=' "$ROOMS_ENV" 2>/dev/null | cut -d"'" -f2 | paste -sd' ' - || true)
                   (#cceg-ig is end-to-end encrypted; everyone has a pending invite)

Connect with any Matrix client (e.g. Element desktop): choose "Sign in",
edit the homeserver to $HS_URL, log in as e.g. @ana.lima:$SERVER_NAME
(user name ana.lima) with password '$DEMO_PASSWORD', and open the rooms above.

Settings for the bot and tests:  . $ENV_FILE
Stop: scripts/stack.sh down    Status: scripts/stack.sh status    Wipe data: scripts/stack.sh reset
EOF
}

# ---------------------------------------------------------------------------
# commands
# ---------------------------------------------------------------------------

cmd_up() {
    local t0=$SECONDS svc
    mkdir -p "$STACK/state"
    for svc in "${SERVICES[@]}"; do "${svc}_up"; done
    synapse_seed
    write_env
    log "up in $((SECONDS - t0)) s"
    print_howto
}

cmd_down() {
    local i
    for ((i = ${#SERVICES[@]} - 1; i >= 0; i--)); do "${SERVICES[i]}_down"; done
}

cmd_status() {
    local rc=0 svc
    echo "stack dir: $STACK"
    for svc in "${SERVICES[@]}"; do "${svc}_status" || rc=1; done
    [[ -f $ROOMS_ENV ]] && grep -E '_(ID|ALIAS)=' "$ROOMS_ENV" | sed 's/^/  /'
    return $rc
}

cmd_reset() {
    local svc
    cmd_down
    for svc in "${SERVICES[@]}"; do "${svc}_reset"; done
    rm -f "$ENV_FILE"
    log "reset: service data removed (kept: venvs, secrets)"
}

main() {
    case ${1:-} in
        up) cmd_up ;;
        down | stop) cmd_down ;;
        restart) cmd_down && cmd_up ;;
        reset) cmd_reset ;;
        status) cmd_status ;;
        env) cat "$ENV_FILE" ;;
        *)
            sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
            exit 2
            ;;
    esac
}

main "$@"
