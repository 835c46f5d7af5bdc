#!/usr/bin/env bash
# Local test stack for rapporteur, all on 127.0.0.1: a Synapse homeserver seeded
# with the bot account, every person of config/groups/*.toml and one room per
# group; a private dovecot (IMAP + LMTP); and an SMTP relay (aiosmtpd) that
# keeps every accepted message and hands it on to dovecot over LMTP. So a mail
# sent to the SMTP port lands in the recipient's IMAP INBOX. Mail accounts are
# full addresses (ana.lima@example.org, rapporteur@localhost): ANY address
# exists, and all log in (IMAP, and SMTP AUTH PLAIN/LOGIN without TLS) with one
# shared password; SMTP from loopback also works without AUTH.
# Everything lives under one directory:
#
#   ${RAPPORTEUR_STACK_DIR:-<repo>/var/stack}
#     venv-synapse/        Synapse virtualenv (kept by `reset`)
#     venv-mail/           aiosmtpd virtualenv for the SMTP relay (kept by `reset`)
#     secrets/             registration_shared_secret, bot_password, demo_password,
#                          mail_password (the shared IMAP/SMTP password), ...
#     synapse/             homeserver.yaml, signing key, sqlite db, media store
#     synapse.pid          process id of the running Synapse
#     synapse.log          its log
#     dovecot/             dovecot.conf (private instance), run/ (base_dir), state/
#     dovecot.pid          process id of the dovecot master; dovecot.log its log
#     mail/maildirs/<address>/  each account's Maildir (owned by nobody)
#     mail/sent/           every message the relay accepted, byte-exact, as
#                          <time_ns>-<random>.eml, with <same>.json beside it
#                          ({mail_from, rcpt_tos, time, time_ns, auth_login, peer, eml})
#     smtp_relay.pid       process id of the SMTP relay; smtp_relay.log its log
#     tls/                 the private test CA (ca.pem: give it to the bot as ca_file;
#                          ca.key) and the servers' certificate (server.pem, server.key)
#                          for the names localhost and mail.localhost (NOT for the address
#                          127.0.0.1, so that a client checking the name refuses it there);
#                          made once with openssl, again when missing or near expiry
#     venv-mailman/        Mailman 3 core virtualenv (only with RAPPORTEUR_WITH_MAILMAN=1;
#                          110 MB; kept by `reset`)
#     mailman/mailman.cfg  its config (contains the REST password); mailman/var/ its
#                          var_dir: sqlite db, queues, logs/ (mailman.log, smtp.log, ...)
#     mailman.pid          process id of the Mailman master; mailman.log its output
#     state/tokens.json    access tokens of the room creators (one device each)
#     rooms.env            room ids / aliases (sourceable)
#     env                  sourceable settings for the bot and the tests
#
# Usage: scripts/stack.sh up|down|restart|reset|status|env
#        scripts/stack.sh stop-service|start-service synapse|dovecot|smtp_relay|mailman
#        scripts/stack.sh mailman-list LIST_ADDRESS [SUBSCRIBER...]
#   stop-service / start-service stop or start one server (to simulate an
#   outage); they return once its port is closed / answers.
#   mailman-list (Mailman only) creates the list LIST_ADDRESS (in
#   @lists.localhost) if missing, sets it up so that anyone may post, nothing
#   is held, no notices are mailed, and EVERY post has its From rewritten as
#   for DMARC ("Name via List" <list@lists.localhost>, author in Reply-To),
#   and subscribes each SUBSCRIBER ("addr" or "Name <addr>"; the domain must
#   contain a dot, e.g. bot@mail.localhost) without confirmation or welcome
#   mail. Idempotent; members not named are kept.
#
# Optional Mailman 3 (RAPPORTEUR_WITH_MAILMAN=1): `up` also installs Mailman 3
# core 3.3 from PyPI (own venv, 20-60 s once) and runs it on loopback (9
# processes, about 560 MB of memory, up in about 5 s):
# its LMTP runner takes the list mail, its REST API is for mailman-list, and it
# sends the list copies to the SMTP relay, which hands every recipient
# @lists.localhost to Mailman's LMTP port (the rest still go to dovecot). So a
# post sent to the relay for test@lists.localhost reaches the subscribers'
# IMAP INBOXes as real list mail. Without the variable nothing about Mailman
# is installed or started (and `up` stops a Mailman an earlier `up` started).
#
# Received headers: the relay stamps every mail it hands on, as a receiving
# MTA does, "by mx.localhost" with the peer it saw in parentheses. A second
# relay listener (RAPPORTEUR_LIST_RELAY_PORT) stamps the peer as
# "lists.localhost": the loopback stand-in for the list server's own IP
# address, since on loopback every peer is 127.0.0.1. Mailman sends its list
# copies there (tests without Mailman send what a list server would). The bots
# of the tests trust that host (receiving_host = "mx.localhost",
# list_server_hosts = ["lists.localhost"]; the env file names both), so a post
# through the list is vouched for and a mail sent straight to the bot is not.
#
# Environment:
#   RAPPORTEUR_STACK_DIR     state directory (default <repo>/var/stack)
#   RAPPORTEUR_SYNAPSE_PORT  client listener port (default 8008)
#   RAPPORTEUR_IMAP_PORT     dovecot IMAP port (default 1143; IDLE supported; STARTTLS offered,
#                            plain login allowed)
#   RAPPORTEUR_IMAPS_PORT    dovecot IMAPS port, TLS from the first byte (default IMAP port + 1)
#   RAPPORTEUR_LMTP_PORT     dovecot LMTP port (default 2424)
#   RAPPORTEUR_SMTP_PORT     SMTP relay port (default 2525; STARTTLS offered, not required)
#   RAPPORTEUR_SMTPS_PORT    SMTP relay port with TLS from the first byte (default SMTP port + 1)
#   RAPPORTEUR_GROUPS_DIR    group files (default <repo>/config/groups)
#   RAPPORTEUR_PYTHON        python >= 3.10 used to make the venvs (default python3)
#   RAPPORTEUR_WITH_MAILMAN  1: also run Mailman 3 (default 0)
#   RAPPORTEUR_MAILMAN_LMTP_PORT  Mailman's LMTP runner port (default 8024)
#   RAPPORTEUR_MAILMAN_REST_PORT  Mailman's REST API port (default 8001)
#   RAPPORTEUR_LIST_RELAY_PORT    the relay's list-server listener, where Mailman
#                                 sends (default: Mailman's LMTP port + 1)
#
# The env file sets RAPPORTEUR_STACK_DIR, RAPPORTEUR_HOMESERVER_URL, RAPPORTEUR_SYNAPSE_PORT,
# RAPPORTEUR_MATRIX_USER_ID, RAPPORTEUR_MATRIX_PASSWORD_FILE, RAPPORTEUR_TEST_*,
# the room variables, and for mail RAPPORTEUR_IMAP_HOST, RAPPORTEUR_IMAP_PORT,
# RAPPORTEUR_SMTP_HOST, RAPPORTEUR_SMTP_PORT, RAPPORTEUR_LMTP_PORT,
# RAPPORTEUR_MAIL_PASSWORD_FILE and RAPPORTEUR_MAIL_SENT_DIR; for TLS
# RAPPORTEUR_IMAPS_PORT, RAPPORTEUR_SMTPS_PORT, RAPPORTEUR_TLS_HOST (localhost: the
# name in the certificate) and RAPPORTEUR_TLS_CA_FILE (tls/ca.pem); with Mailman also
# RAPPORTEUR_WITH_MAILMAN=1, RAPPORTEUR_MAILMAN=1, RAPPORTEUR_MAILMAN_LMTP_PORT,
# RAPPORTEUR_MAILMAN_REST_PORT, RAPPORTEUR_MAILMAN_REST_URL,
# RAPPORTEUR_MAILMAN_REST_USER, RAPPORTEUR_MAILMAN_REST_PASSWORD_FILE and
# RAPPORTEUR_MAILMAN_DOMAIN (lists.localhost); always RAPPORTEUR_LIST_RELAY_PORT,
# RAPPORTEUR_RECEIVING_HOST (mx.localhost) and RAPPORTEUR_LIST_SERVER_HOST
# (lists.localhost), the names the relay's Received headers write (see above).
#
# Needed on a new machine: python3 (>= 3.10, with venv), openssl, and network access to
# PyPI; for dovecot, root and apt (the script installs Debian's dovecot-imapd and
# dovecot-lmtpd 2.3 itself, and stops the system instance the package may start).
#
# Services: each service NAME provides NAME_up, NAME_down, NAME_status and
# NAME_reset, and is listed in SERVICES (started in order, stopped in reverse
# order).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STACK=${RAPPORTEUR_STACK_DIR:-$REPO/var/stack}
PYTHON=${RAPPORTEUR_PYTHON:-python3}
GROUPS_DIR=${RAPPORTEUR_GROUPS_DIR:-$REPO/config/groups}
ADMIN_PY="$REPO/scripts/lib/matrix_admin.py"

SECRETS="$STACK/secrets"
ENV_FILE="$STACK/env"
ROOMS_ENV="$STACK/rooms.env"

SERVICES=(synapse dovecot smtp_relay)

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

# --- mail settings -----------------------------------------------------------
MAIL_HOST=127.0.0.1
IMAP_PORT=${RAPPORTEUR_IMAP_PORT:-1143}
LMTP_PORT=${RAPPORTEUR_LMTP_PORT:-2424}
SMTP_PORT=${RAPPORTEUR_SMTP_PORT:-2525}
# The TLS ports default to the plain port + 1, so stacks on other ports do not collide.
IMAPS_PORT=${RAPPORTEUR_IMAPS_PORT:-$((IMAP_PORT + 1))}
SMTPS_PORT=${RAPPORTEUR_SMTPS_PORT:-$((SMTP_PORT + 1))}
TLS_DIR="$STACK/tls"
TLS_CA_FILE="$TLS_DIR/ca.pem"
TLS_CERT_FILE="$TLS_DIR/server.pem"
TLS_KEY_FILE="$TLS_DIR/server.key"
TLS_HOST=localhost                 # the name the certificate is for (also mail.localhost)
MAIL_PASSWORD_FILE="$SECRETS/mail_password"
MAIL_DIR="$STACK/mail"
MAIL_SENT_DIR="$MAIL_DIR/sent"
DOVECOT_BIN=/usr/sbin/dovecot
DOVECOT_PACKAGES=(dovecot-imapd dovecot-lmtpd)
DOVECOT_DIR="$STACK/dovecot"
DOVECOT_CONF="$DOVECOT_DIR/dovecot.conf"
DOVECOT_PIDFILE="$STACK/dovecot.pid"
DOVECOT_LOG="$STACK/dovecot.log"
# The master's unix sockets live in base_dir; a socket path must stay under
# 108 bytes, so a very long stack path falls back to a short directory in /tmp.
DOVECOT_RUN="$DOVECOT_DIR/run"
if ((${#DOVECOT_RUN} > 70)); then
    DOVECOT_RUN="/tmp/rapporteur-dovecot-$(printf '%s' "$STACK" | md5sum | cut -c1-12)"
fi
MAIL_SPEC='aiosmtpd>=1.4,<1.5'
MAIL_VENV="$STACK/venv-mail"
SMTP_RELAY_PY="$REPO/scripts/lib/smtp_relay.py"
SMTP_RELAY_PIDFILE="$STACK/smtp_relay.pid"
SMTP_RELAY_LOG="$STACK/smtp_relay.log"
PORT_TIMEOUT=20                    # seconds to wait for a port to open / close

# --- Mailman 3 settings (only used with RAPPORTEUR_WITH_MAILMAN=1) -------------
case ${RAPPORTEUR_WITH_MAILMAN:-0} in
    1 | true | yes | on) WITH_MAILMAN=1 ;;
    0 | false | no | off | '') WITH_MAILMAN=0 ;;
    *)
        printf '[stack] ERROR: RAPPORTEUR_WITH_MAILMAN must be 1 or 0, not %q\n' "$RAPPORTEUR_WITH_MAILMAN" >&2
        exit 1
        ;;
esac
# Mailman 3.3 does not work with SQLAlchemy 2.1.
MAILMAN_SPEC=('mailman>=3.3,<3.4' 'sqlalchemy<2.1')
MAILMAN_LMTP_PORT=${RAPPORTEUR_MAILMAN_LMTP_PORT:-8024}
MAILMAN_REST_PORT=${RAPPORTEUR_MAILMAN_REST_PORT:-8001}
MAILMAN_REST_URL="http://127.0.0.1:${MAILMAN_REST_PORT}"
LIST_RELAY_PORT=${RAPPORTEUR_LIST_RELAY_PORT:-$((MAILMAN_LMTP_PORT + 1))}
# The names in the relay's Received headers: its own (after "by") and the one
# its list-server listener records for the peer (see the header).
RECEIVING_HOST=mx.localhost
LIST_SERVER_HOST=lists.localhost
MAILMAN_REST_USER=restadmin
MAILMAN_REST_PASSWORD_FILE="$SECRETS/mailman_rest_password"
# Mailman refuses list (and member) domains without a dot.
MAILMAN_DOMAIN=lists.localhost
MAILMAN_SITE_OWNER=postmaster@mail.localhost
MAILMAN_VENV="$STACK/venv-mailman"
MAILMAN_DIR="$STACK/mailman"
MAILMAN_CFG="$MAILMAN_DIR/mailman.cfg"
MAILMAN_PIDFILE="$STACK/mailman.pid"
MAILMAN_LOG="$STACK/mailman.log"
MAILMAN_ADMIN_PY="$REPO/scripts/lib/mailman_admin.py"
MAILMAN_START_TIMEOUT=90
if ((WITH_MAILMAN)); then SERVICES+=(mailman); fi

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

# port_open PORT: something accepts TCP connections on 127.0.0.1:PORT.
port_open() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# pid_alive PID: the process exists and is not a zombie.
pid_alive() {
    [[ ${1:-} =~ ^[0-9]+$ && -e /proc/$1 ]] || return 1
    [[ $(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) != Z ]]
}

# wait_port PORT open|closed NAME [PIDFILE]: wait up to PORT_TIMEOUT seconds;
# with PIDFILE, give up early when that process has died.
wait_port() {
    local port=$1 want=$2 name=$3 pidfile=${4:-} i
    for ((i = 0; i < PORT_TIMEOUT * 10; i++)); do
        if [[ $want == open ]]; then
            port_open "$port" && return 0
            if [[ -n $pidfile ]] && ! pid_alive "$(cat "$pidfile" 2>/dev/null)"; then
                log "$name: exited before port $port opened"
                return 1
            fi
        else
            port_open "$port" || return 0
        fi
        sleep 0.1
    done
    log "$name: port $port still not $want after $PORT_TIMEOUT s"
    return 1
}

# make_venv DIR: a python venv (installs python3-venv through apt if needed).
make_venv() {
    local venv=$1
    [[ -x $venv/bin/python ]] && return 0
    "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))' \
        || die "$PYTHON is older than 3.10 (set RAPPORTEUR_PYTHON)"
    if ! "$PYTHON" -m venv "$venv" 2>/dev/null; then
        rm -rf "$venv"
        if command -v apt-get >/dev/null && [[ $(id -u) == 0 ]]; then
            log "python venv module missing, installing python3-venv"
            apt-get -o DPkg::Lock::Timeout=600 update -qq && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq python3-venv >/dev/null
        fi
        "$PYTHON" -m venv "$venv" || die "cannot create a venv with $PYTHON"
    fi
}

# ---------------------------------------------------------------------------
# tls: a private CA and one server certificate, shared by dovecot and the relay
# ---------------------------------------------------------------------------

# tls_valid: the CA and the server certificate exist, the certificate was
# signed by the CA, and both are good for at least 30 more days.
tls_valid() {
    [[ -s $TLS_CA_FILE && -s $TLS_CERT_FILE && -s $TLS_KEY_FILE ]] || return 1
    openssl x509 -checkend $((30 * 86400)) -noout -in "$TLS_CA_FILE" >/dev/null 2>&1 || return 1
    openssl x509 -checkend $((30 * 86400)) -noout -in "$TLS_CERT_FILE" >/dev/null 2>&1 || return 1
    openssl verify -CAfile "$TLS_CA_FILE" "$TLS_CERT_FILE" >/dev/null 2>&1
}

# tls_setup: makes the CA and the certificate when missing or near expiry.
# The certificate names localhost and mail.localhost only: connecting to
# 127.0.0.1 with TLS must fail the name check (the tests rely on it).
tls_setup() {
    command -v openssl >/dev/null || die "openssl is needed to make the test CA"
    tls_valid && return 0
    log "tls: making a private CA and a certificate for $TLS_HOST in $TLS_DIR"
    mkdir -p "$TLS_DIR"
    chmod 755 "$TLS_DIR"
    local tmp
    tmp=$(mktemp -d "$TLS_DIR/.new.XXXXXX")
    (
        umask 077
        openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 \
            -keyout "$tmp/ca.key" -out "$tmp/ca.pem" -subj "/CN=rapporteur test CA" \
            -addext "basicConstraints=critical,CA:TRUE" \
            -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
        openssl req -newkey rsa:2048 -nodes -sha256 -keyout "$tmp/server.key" \
            -out "$tmp/server.csr" -subj "/CN=$TLS_HOST" 2>/dev/null
        printf '%s\n' "subjectAltName=DNS:$TLS_HOST,DNS:mail.localhost" \
            "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature,keyEncipherment" \
            "extendedKeyUsage=serverAuth" >"$tmp/server.ext"
        openssl x509 -req -sha256 -days 825 -in "$tmp/server.csr" -CA "$tmp/ca.pem" \
            -CAkey "$tmp/ca.key" -set_serial "0x$(openssl rand -hex 8)" \
            -extfile "$tmp/server.ext" -out "$tmp/server.pem" 2>/dev/null
    ) || { rm -rf "$tmp"; die "openssl could not make the test certificates"; }
    # Public parts readable by all (the tests and the bot read ca.pem); keys by root only
    # (dovecot reads them as root, the relay runs as this user).
    chmod 644 "$tmp/ca.pem" "$tmp/server.pem"
    local file
    for file in ca.key server.key ca.pem server.pem; do mv "$tmp/$file" "$TLS_DIR/$file"; done
    rm -rf "$tmp"
    TLS_CHANGED=1
}
TLS_CHANGED=0

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
    make_venv "$SYNAPSE_VENV"
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

synapse_down() {
    stop_pid "$SYNAPSE_PIDFILE" "synapse.app.homeserver -c $SYNAPSE_CONF" synapse
    wait_port "$SYNAPSE_PORT" closed synapse || true
}

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
# dovecot: private IMAP + LMTP instance (Debian's dovecot 2.3)
# ---------------------------------------------------------------------------

# Installs the Debian packages when missing, and makes sure the system-wide
# dovecot they may start is stopped (our instance has its own config/base_dir).
dovecot_install() {
    if [[ ! -x $DOVECOT_BIN ]]; then
        [[ $(id -u) == 0 ]] || die "dovecot is not installed; run as root or: apt-get install ${DOVECOT_PACKAGES[*]}"
        command -v apt-get >/dev/null || die "dovecot is not installed and there is no apt-get"
        log "dovecot: installing ${DOVECOT_PACKAGES[*]} (apt-get; log: $STACK/apt.log)"
        # Output to a file: a daemon started by the package's postinst must not
        # inherit our stdout (a piped `stack.sh up | cat` would never end).
        local apt=(env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends "${DOVECOT_PACKAGES[@]}")
        if ! "${apt[@]}" </dev/null >>"$STACK/apt.log" 2>&1; then
            log "dovecot: install failed, running apt-get update first"
            apt-get -o DPkg::Lock::Timeout=600 update -q </dev/null >>"$STACK/apt.log" 2>&1 || true
            "${apt[@]}" </dev/null >>"$STACK/apt.log" 2>&1 \
                || { tail -n 20 "$STACK/apt.log" >&2; die "apt-get install ${DOVECOT_PACKAGES[*]} failed"; }
        fi
        [[ -x $DOVECOT_BIN ]] || die "$DOVECOT_BIN missing after installing ${DOVECOT_PACKAGES[*]}"
        dovecot_stop_system
    fi
    local version
    version=$("$DOVECOT_BIN" --version 2>/dev/null | awk '{print $1}')
    [[ $version == 2.3.* ]] \
        || die "dovecot $version found; the config written here is for dovecot 2.3 (Debian bookworm)"
}

# Stops and disables the package's own system instance (ports 143/993/24/...),
# never ours: dovecot masters running with a config of a stack are left alone.
dovecot_stop_system() {
    if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null; then
        systemctl disable --now dovecot.service dovecot.socket >/dev/null 2>&1 || true
    else
        if command -v update-rc.d >/dev/null; then
            update-rc.d dovecot disable >/dev/null 2>&1 || true
        fi
        if [[ -x /etc/init.d/dovecot ]]; then
            /etc/init.d/dovecot stop </dev/null >/dev/null 2>&1 || true
        fi
    fi
    local pid cmd i
    for pid in $(pgrep -x dovecot 2>/dev/null || true); do
        cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)
        [[ $cmd == *"/dovecot/dovecot.conf"* ]] && continue
        log "dovecot: stopping the system instance the package started (pid $pid: $cmd)"
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < 50; i++)); do
            [[ -e /proc/$pid ]] || break
            sleep 0.1
        done
        if [[ -e /proc/$pid ]]; then kill -KILL "$pid" 2>/dev/null || true; fi
    done
}

dovecot_config_text() {
    local password version
    password=$(<"$MAIL_PASSWORD_FILE")
    version=$("$DOVECOT_BIN" --version | awk '{print $1}')
    cat <<EOF
# Written by scripts/stack.sh: edits are overwritten on the next \`up\`.
# Private loopback-only dovecot ($version) for rapporteur's tests: IMAP on
# $MAIL_HOST:$IMAP_PORT (STARTTLS offered, plain login allowed), IMAPS on
# $MAIL_HOST:$IMAPS_PORT (certificate of the test CA $TLS_CA_FILE, for $TLS_HOST),
# LMTP on $MAIL_HOST:$LMTP_PORT. Any user name (a full address) exists and logs in
# with the shared password of $MAIL_PASSWORD_FILE.
instance_name = rapporteur
base_dir = $DOVECOT_RUN
state_dir = $DOVECOT_DIR/state
log_path = $DOVECOT_LOG
hostname = localhost
protocols = imap lmtp
listen = $MAIL_HOST
ssl = yes
ssl_cert = <$TLS_CERT_FILE
ssl_key = <$TLS_KEY_FILE
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
# user names are addresses, lower-cased
auth_username_format = %Lu

passdb {
  driver = static
  args = password=$password
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=$MAIL_DIR/homes/%u allow_all_users=yes
}

mail_location = maildir:$MAIL_DIR/maildirs/%u
namespace inbox {
  inbox = yes
}
# test mail: no fsync (speed); many connections per user are fine
mail_fsync = never
mail_max_userip_connections = 1000
default_client_limit = 2000
default_process_limit = 500

service imap-login {
  inet_listener imap {
    address = $MAIL_HOST
    port = $IMAP_PORT
  }
  inet_listener imaps {
    address = $MAIL_HOST
    port = $IMAPS_PORT
    ssl = yes
  }
  # high-performance mode: one login process serves many connections
  service_count = 0
  process_min_avail = 1
}
service lmtp {
  inet_listener lmtp {
    address = $MAIL_HOST
    port = $LMTP_PORT
  }
}
service stats {
  # the mail processes run as nobody
  unix_listener stats-writer {
    mode = 0666
  }
}
protocol lmtp {
  postmaster_address = postmaster@localhost
}
EOF
}

# Writes dovecot.conf (checked with doveconf); sets DOVECOT_CONFIG_CHANGED.
dovecot_configure() {
    gen_secret "$MAIL_PASSWORD_FILE"
    mkdir -p "$DOVECOT_DIR/state" "$MAIL_DIR/maildirs" "$MAIL_DIR/homes"
    chmod 755 "$STACK" "$DOVECOT_DIR" "$MAIL_DIR"
    chown nobody:nogroup "$MAIL_DIR/maildirs" "$MAIL_DIR/homes"
    if ! runuser -u nobody -- test -w "$MAIL_DIR/maildirs" 2>/dev/null; then
        die "user nobody cannot write $MAIL_DIR/maildirs (is a parent directory of $STACK not world-searchable?)"
    fi
    DOVECOT_CONFIG_CHANGED=0
    local new err
    new=$(dovecot_config_text)
    if [[ ! -f $DOVECOT_CONF || $(cat "$DOVECOT_CONF") != "$new" ]]; then
        (umask 077 && printf '%s\n' "$new" >"$DOVECOT_CONF.tmp")
        if ! err=$(doveconf -c "$DOVECOT_CONF.tmp" -n 2>&1 >/dev/null); then
            printf '%s\n' "$err" >&2
            die "dovecot rejects $DOVECOT_CONF.tmp"
        fi
        if [[ -n $err ]]; then
            printf '%s\n' "$err" | sed 's/^/[stack] dovecot config: /' >&2
        fi
        mv "$DOVECOT_CONF.tmp" "$DOVECOT_CONF"
        DOVECOT_CONFIG_CHANGED=1
    fi
}

dovecot_running() { pid_matches "$DOVECOT_PIDFILE" "-c $DOVECOT_CONF"; }
dovecot_healthy() { port_open "$IMAP_PORT" && port_open "$IMAPS_PORT" && port_open "$LMTP_PORT"; }

dovecot_up() {
    dovecot_install
    tls_setup
    dovecot_configure
    if dovecot_running; then
        if ((DOVECOT_CONFIG_CHANGED || TLS_CHANGED)); then
            log "dovecot: configuration changed, restarting"
            dovecot_down
        elif dovecot_healthy; then
            log "dovecot: already running (pid $(<"$DOVECOT_PIDFILE")), IMAP $MAIL_HOST:$IMAP_PORT"
            return 0
        else
            log "dovecot: running but its ports do not answer, restarting"
            dovecot_down
        fi
    fi
    local port
    for port in "$IMAP_PORT" "$IMAPS_PORT" "$LMTP_PORT"; do
        if port_open "$port"; then
            die "something else already answers on $MAIL_HOST:$port (another stack?); set RAPPORTEUR_IMAP_PORT / RAPPORTEUR_IMAPS_PORT / RAPPORTEUR_LMTP_PORT"
        fi
    done
    log "dovecot: starting, IMAP $MAIL_HOST:$IMAP_PORT, LMTP $MAIL_HOST:$LMTP_PORT (log: $DOVECOT_LOG)"
    printf '\n===== %s start =====\n' "$(date -u +%FT%TZ)" >>"$DOVECOT_LOG"
    start_detached "$DOVECOT_PIDFILE" "$DOVECOT_LOG" "$DOVECOT_DIR" "$DOVECOT_BIN" -F -c "$DOVECOT_CONF"
    if ! wait_port "$IMAP_PORT" open dovecot "$DOVECOT_PIDFILE" \
            || ! wait_port "$IMAPS_PORT" open dovecot "$DOVECOT_PIDFILE" \
            || ! wait_port "$LMTP_PORT" open dovecot "$DOVECOT_PIDFILE"; then
        tail -n 30 "$DOVECOT_LOG" >&2 || true
        die "dovecot did not start"
    fi
    log "dovecot: up (pid $(<"$DOVECOT_PIDFILE"))"
}

dovecot_down() {
    stop_pid "$DOVECOT_PIDFILE" "-c $DOVECOT_CONF" dovecot
    wait_port "$IMAP_PORT" closed dovecot || true
    wait_port "$LMTP_PORT" closed dovecot || true
}

dovecot_status() {
    if dovecot_running; then
        if dovecot_healthy; then
            echo "dovecot: running (pid $(<"$DOVECOT_PIDFILE"), IMAP $MAIL_HOST:$IMAP_PORT, IMAPS $IMAPS_PORT, LMTP $MAIL_HOST:$LMTP_PORT)"
        else
            echo "dovecot: running but ports NOT answering (pid $(<"$DOVECOT_PIDFILE"), IMAP $IMAP_PORT, IMAPS $IMAPS_PORT, LMTP $LMTP_PORT)"
            return 1
        fi
    else
        echo "dovecot: stopped"
        return 1
    fi
}

dovecot_reset() {
    rm -rf "$MAIL_DIR/maildirs" "$MAIL_DIR/homes" "$DOVECOT_DIR" "$DOVECOT_LOG"
    if [[ $DOVECOT_RUN == /tmp/rapporteur-dovecot-* ]]; then rm -rf "$DOVECOT_RUN"; fi
}

# ---------------------------------------------------------------------------
# smtp_relay: aiosmtpd on 127.0.0.1; keeps each message, hands it on over LMTP
# ---------------------------------------------------------------------------

smtp_relay_install() {
    local marker="$MAIL_VENV/.rapporteur-installed"
    if [[ -x $MAIL_VENV/bin/python && -f $marker && $(head -n1 "$marker") == "$MAIL_SPEC" ]]; then
        return 0
    fi
    log "smtp_relay: installing '$MAIL_SPEC' into $MAIL_VENV"
    make_venv "$MAIL_VENV"
    "$MAIL_VENV/bin/pip" install --disable-pip-version-check -q "$MAIL_SPEC" \
        || die "pip install $MAIL_SPEC failed"
    local version
    version=$("$MAIL_VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("aiosmtpd"))')
    printf '%s\ninstalled aiosmtpd %s on %s\n' "$MAIL_SPEC" "$version" "$(date -u +%FT%TZ)" >"$marker"
    log "smtp_relay: installed aiosmtpd $version"
}

# The relay's arguments, one a line; its command line carries every setting.
# With Mailman, recipients @lists.localhost go to Mailman's LMTP runner.
smtp_relay_args() {
    printf '%s\n' "$SMTP_RELAY_PY" --host "$MAIL_HOST" --port "$SMTP_PORT" \
        --lmtp-host "$MAIL_HOST" --lmtp-port "$LMTP_PORT" \
        --password-file "$MAIL_PASSWORD_FILE" --sent-dir "$MAIL_SENT_DIR" \
        --receiving-host "$RECEIVING_HOST" \
        --list-server-port "$LIST_RELAY_PORT" --list-server-name "$LIST_SERVER_HOST" \
        --tls-cert "$TLS_CERT_FILE" --tls-key "$TLS_KEY_FILE" --tls-port "$SMTPS_PORT"
    if ((WITH_MAILMAN)); then
        printf '%s\n' --route "$MAILMAN_DOMAIN=127.0.0.1:$MAILMAN_LMTP_PORT"
    fi
}

# (port-independent, so that a relay started with other ports is still found)
SMTP_RELAY_MATCH="--password-file $MAIL_PASSWORD_FILE --sent-dir $MAIL_SENT_DIR"
smtp_relay_running() { pid_matches "$SMTP_RELAY_PIDFILE" "$SMTP_RELAY_MATCH"; }

smtp_relay_up() {
    smtp_relay_install
    tls_setup
    gen_secret "$MAIL_PASSWORD_FILE"
    mkdir -p "$MAIL_SENT_DIR"
    if smtp_relay_running; then
        local want have
        want=$(smtp_relay_args | paste -sd' ' -)
        have=$(tr '\0' ' ' <"/proc/$(<"$SMTP_RELAY_PIDFILE")/cmdline")
        if [[ $have == *" $want " ]] && ! ((TLS_CHANGED)) && port_open "$SMTP_PORT" && port_open "$SMTPS_PORT"; then
            log "smtp_relay: already running (pid $(<"$SMTP_RELAY_PIDFILE")), SMTP $MAIL_HOST:$SMTP_PORT"
            return 0
        fi
        log "smtp_relay: settings changed or port not answering, restarting"
        smtp_relay_down
    fi
    local port
    for port in "$SMTP_PORT" "$SMTPS_PORT" "$LIST_RELAY_PORT"; do
        if port_open "$port"; then
            die "something else already answers on $MAIL_HOST:$port (another stack?); set RAPPORTEUR_SMTP_PORT / RAPPORTEUR_SMTPS_PORT / RAPPORTEUR_LIST_RELAY_PORT"
        fi
    done
    local routed=""
    if ((WITH_MAILMAN)); then routed=" (@$MAILMAN_DOMAIN to Mailman's $MAILMAN_LMTP_PORT)"; fi
    log "smtp_relay: starting on $MAIL_HOST:$SMTP_PORT (STARTTLS) and $SMTPS_PORT (TLS), LMTP to $LMTP_PORT$routed (log: $SMTP_RELAY_LOG)"
    printf '\n===== %s start =====\n' "$(date -u +%FT%TZ)" >>"$SMTP_RELAY_LOG"
    local args
    mapfile -t args < <(smtp_relay_args)
    start_detached "$SMTP_RELAY_PIDFILE" "$SMTP_RELAY_LOG" "$STACK" "$MAIL_VENV/bin/python" "${args[@]}"
    if ! wait_port "$SMTP_PORT" open smtp_relay "$SMTP_RELAY_PIDFILE" \
            || ! wait_port "$SMTPS_PORT" open smtp_relay "$SMTP_RELAY_PIDFILE" \
            || ! wait_port "$LIST_RELAY_PORT" open smtp_relay "$SMTP_RELAY_PIDFILE"; then
        tail -n 30 "$SMTP_RELAY_LOG" >&2 || true
        die "smtp_relay did not start"
    fi
    log "smtp_relay: up (pid $(<"$SMTP_RELAY_PIDFILE"))"
}

smtp_relay_down() {
    stop_pid "$SMTP_RELAY_PIDFILE" "$SMTP_RELAY_MATCH" smtp_relay
    wait_port "$SMTP_PORT" closed smtp_relay || true
    wait_port "$SMTPS_PORT" closed smtp_relay || true
}

smtp_relay_status() {
    if smtp_relay_running; then
        if port_open "$SMTP_PORT"; then
            echo "smtp_relay: running (pid $(<"$SMTP_RELAY_PIDFILE"), SMTP $MAIL_HOST:$SMTP_PORT, SMTPS $SMTPS_PORT, mail kept in $MAIL_SENT_DIR)"
        else
            echo "smtp_relay: running but port $SMTP_PORT NOT answering (pid $(<"$SMTP_RELAY_PIDFILE"))"
            return 1
        fi
    else
        echo "smtp_relay: stopped"
        return 1
    fi
}

smtp_relay_reset() {
    rm -rf "$MAIL_SENT_DIR" "$SMTP_RELAY_LOG"
}

# ---------------------------------------------------------------------------
# mailman: optional Mailman 3 core (RAPPORTEUR_WITH_MAILMAN=1), its master in
# the foreground with its runners (in, pipeline, out, lmtp, rest, ...) as
# children; incoming over LMTP from the relay, outgoing over SMTP to the relay
# ---------------------------------------------------------------------------

mailman_install() {
    local marker="$MAILMAN_VENV/.rapporteur-installed" spec="${MAILMAN_SPEC[*]}"
    if [[ -x $MAILMAN_VENV/bin/master && -f $marker && $(head -n1 "$marker") == "$spec" ]]; then
        return 0
    fi
    log "mailman: installing '$spec' into $MAILMAN_VENV (20-60 s)"
    make_venv "$MAILMAN_VENV"
    "$MAILMAN_VENV/bin/pip" install --disable-pip-version-check -q "${MAILMAN_SPEC[@]}" \
        || die "pip install ${MAILMAN_SPEC[*]} failed"
    local version
    version=$("$MAILMAN_VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("mailman"), "with SQLAlchemy", m.version("sqlalchemy"))')
    printf '%s\ninstalled mailman %s on %s\n' "$spec" "$version" "$(date -u +%FT%TZ)" >"$marker"
    log "mailman: installed mailman $version"
}

mailman_config_text() {
    local password runner
    password=$(<"$MAILMAN_REST_PASSWORD_FILE")
    cat <<CFG
# Written by scripts/stack.sh: edits are overwritten on the next \`up\`.
# Loopback-only Mailman 3 for rapporteur's tests: list mail comes in over LMTP
# on 127.0.0.1:$MAILMAN_LMTP_PORT (from the stack's SMTP relay), list copies go out
# over SMTP to the relay's list-server listener on 127.0.0.1:$LIST_RELAY_PORT
# (its Received header names the peer $LIST_SERVER_HOST), REST API on
# $MAILMAN_REST_URL.
[mailman]
layout: rapporteur
site_owner: $MAILMAN_SITE_OWNER

[paths.rapporteur]
var_dir: $MAILMAN_DIR/var

[mta]
# no MTA maps to maintain: the relay routes @$MAILMAN_DOMAIN here by itself
incoming: mailman.mta.null.NullMTA
outgoing: mailman.mta.deliver.deliver
lmtp_host: 127.0.0.1
lmtp_port: $MAILMAN_LMTP_PORT
smtp_host: 127.0.0.1
smtp_port: $LIST_RELAY_PORT
smtp_secure_mode: smtp

[webservice]
hostname: 127.0.0.1
port: $MAILMAN_REST_PORT
use_https: no
admin_user: $MAILMAN_REST_USER
admin_pass: $password
workers: 1
configuration: $MAILMAN_DIR/gunicorn.cfg

[dmarc]
# the test lists match every author by dmarc_addresses, so DNS is not asked;
# should it be, do not wait long on a machine without it
resolver_timeout: 1s
resolver_lifetime: 1s
CFG
    # A post passes lmtp -> in -> pipeline -> out: poll these queues often
    # (default 1 s each); retry: a delivery the relay refused with 451 (dovecot
    # down) is tried again soon instead of after 15 minutes.
    for runner in in pipeline out virgin; do
        printf '\n[runner.%s]\nsleep_time: 0.2s\n' "$runner"
    done
    printf '\n[runner.retry]\nsleep_time: 2s\n'
    # Each runner is a Python process of about 65 MB. Not needed here: archive
    # and digest (the test lists have neither), bounces (nothing bounces on
    # loopback), command (-request/-join/-leave mail) and task (housekeeping).
    for runner in archive digest bounces command task; do
        printf '\n[runner.%s]\nstart: no\n' "$runner"
    done
}

# Gunicorn settings for the REST runner: no control socket in ~/.gunicorn
# (gunicorn >= 25 makes one there by default, shared by every instance), and
# a short graceful shutdown so that `down` is quick.
mailman_gunicorn_text() {
    cat <<CFG
# Written by scripts/stack.sh: edits are overwritten on the next \`up\`.
[gunicorn]
graceful_timeout = 3
timeout = 360
control_socket_disable = true
CFG
}

# Writes mailman.cfg (0600: it holds the REST password); sets MAILMAN_CONFIG_CHANGED.
mailman_configure() {
    mkdir -p "$MAILMAN_DIR/var"
    chmod 700 "$MAILMAN_DIR"
    MAILMAN_CONFIG_CHANGED=0
    local new file
    for file in "$MAILMAN_CFG" "$MAILMAN_DIR/gunicorn.cfg"; do
        if [[ $file == "$MAILMAN_CFG" ]]; then new=$(mailman_config_text); else new=$(mailman_gunicorn_text); fi
        if [[ ! -f $file || $(cat "$file") != "$new" ]]; then
            (umask 077 && printf '%s\n' "$new" >"$file.tmp")
            mv "$file.tmp" "$file"
            MAILMAN_CONFIG_CHANGED=1
        fi
    done
}

# Every process of this stack's Mailman (master, runners, REST workers): each
# has "-C <this config>" on its command line. The pattern is read from a file
# so that grep does not find itself.
mailman_pids() {
    grep -lxzF -f <(printf '%s\n' "$MAILMAN_CFG") /proc/[0-9]*/cmdline 2>/dev/null | cut -d/ -f3 || true
}

mailman_running() { pid_matches "$MAILMAN_PIDFILE" "bin/master -C $MAILMAN_CFG"; }

mailman_rest() {
    "$PYTHON" "$MAILMAN_ADMIN_PY" "$@" --url "$MAILMAN_REST_URL" --user "$MAILMAN_REST_USER" \
        --password-file "$MAILMAN_REST_PASSWORD_FILE"
}

mailman_healthy() { port_open "$MAILMAN_LMTP_PORT" && mailman_rest health; }

mailman_up() {
    mailman_install
    gen_secret "$MAILMAN_REST_PASSWORD_FILE"
    mailman_configure
    if mailman_running; then
        if ((MAILMAN_CONFIG_CHANGED)); then
            log "mailman: configuration changed, restarting"
            mailman_down
        elif mailman_healthy; then
            log "mailman: already running (pid $(<"$MAILMAN_PIDFILE")), LMTP 127.0.0.1:$MAILMAN_LMTP_PORT, REST $MAILMAN_REST_URL"
            return 0
        else
            log "mailman: running but not answering, restarting"
            mailman_down
        fi
    elif [[ -n $(mailman_pids) ]]; then
        log "mailman: processes left from an earlier run, stopping them"
        mailman_down
    fi
    local port
    for port in "$MAILMAN_LMTP_PORT" "$MAILMAN_REST_PORT"; do
        if port_open "$port"; then
            die "something else already answers on 127.0.0.1:$port (another stack?); set RAPPORTEUR_MAILMAN_LMTP_PORT / RAPPORTEUR_MAILMAN_REST_PORT"
        fi
    done
    log "mailman: starting, LMTP 127.0.0.1:$MAILMAN_LMTP_PORT, REST $MAILMAN_REST_URL (log: $MAILMAN_LOG, $MAILMAN_DIR/var/logs/)"
    printf '\n===== %s start =====\n' "$(date -u +%FT%TZ)" >>"$MAILMAN_LOG"
    # master in the foreground (`mailman start` would daemonize); it does not
    # refuse root. --force: take over a lock a killed master left behind.
    start_detached "$MAILMAN_PIDFILE" "$MAILMAN_LOG" "$MAILMAN_DIR" \
        "$MAILMAN_VENV/bin/master" -C "$MAILMAN_CFG" --force
    if ! mailman_rest wait --timeout "$MAILMAN_START_TIMEOUT" --pid "$(<"$MAILMAN_PIDFILE")" \
            || ! wait_port "$MAILMAN_LMTP_PORT" open mailman "$MAILMAN_PIDFILE"; then
        tail -n 30 "$MAILMAN_LOG" "$MAILMAN_DIR/var/logs/mailman.log" >&2 2>/dev/null || true
        mailman_down
        die "mailman did not start"
    fi
    log "mailman: up (pid $(<"$MAILMAN_PIDFILE"), $(mailman_pids | wc -l) processes)"
}

# The master stops its runners on SIGTERM; whatever is left after it (e.g. the
# runners of a master that was killed) is stopped here, so nothing remains.
mailman_down() {
    stop_pid "$MAILMAN_PIDFILE" "bin/master -C $MAILMAN_CFG" mailman
    local pids i
    mapfile -t pids < <(mailman_pids)
    if ((${#pids[@]})); then
        log "mailman: stopping ${#pids[@]} leftover process(es): ${pids[*]}"
        kill -TERM "${pids[@]}" 2>/dev/null || true
        for ((i = 0; i < 100; i++)); do
            mapfile -t pids < <(mailman_pids)
            ((${#pids[@]})) || break
            sleep 0.1
        done
        if ((${#pids[@]})); then
            log "mailman: still alive after 10 s, sending SIGKILL to ${pids[*]}"
            kill -KILL "${pids[@]}" 2>/dev/null || true
            sleep 0.5
        fi
    fi
    wait_port "$MAILMAN_LMTP_PORT" closed mailman || true
    wait_port "$MAILMAN_REST_PORT" closed mailman || true
}

# Resident memory of all Mailman processes, in MB.
mailman_rss_mb() {
    local pid kb=0 v
    for pid in $(mailman_pids); do
        v=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
        kb=$((kb + ${v:-0}))
    done
    echo $((kb / 1024))
}

mailman_status() {
    if mailman_running; then
        local what="pid $(<"$MAILMAN_PIDFILE"), $(mailman_pids | wc -l) processes, RSS $(mailman_rss_mb) MB, LMTP 127.0.0.1:$MAILMAN_LMTP_PORT, REST $MAILMAN_REST_URL"
        if mailman_healthy; then
            echo "mailman: running ($what)"
        else
            echo "mailman: running but NOT answering ($what)"
            return 1
        fi
    elif [[ -n $(mailman_pids) ]]; then
        echo "mailman: master stopped but processes left: $(mailman_pids | paste -sd' ' -) (run: scripts/stack.sh down)"
        return 1
    else
        echo "mailman: stopped"
        return 1
    fi
}

mailman_reset() {
    rm -rf "$MAILMAN_DIR" "$MAILMAN_LOG"
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
        # so that a test's stop-service / start-service keeps this stack's ports
        printf 'export RAPPORTEUR_SYNAPSE_PORT=%q\n' "$SYNAPSE_PORT"
        printf 'export RAPPORTEUR_MATRIX_USER_ID=%q\n' "@$BOT_LOCALPART:$SERVER_NAME"
        printf 'export RAPPORTEUR_MATRIX_PASSWORD_FILE=%q\n' "$SECRETS/bot_password"
        printf 'export RAPPORTEUR_TEST_HOMESERVER_URL=%q\n' "$HS_URL"
        printf 'export RAPPORTEUR_TEST_REGISTRATION_SECRET_FILE=%q\n' "$SECRETS/registration_shared_secret"
        printf 'export RAPPORTEUR_TEST_DEMO_PASSWORD_FILE=%q\n' "$SECRETS/demo_password"
        printf 'export RAPPORTEUR_IMAP_HOST=%q\n' "$MAIL_HOST"
        printf 'export RAPPORTEUR_IMAP_PORT=%q\n' "$IMAP_PORT"
        printf 'export RAPPORTEUR_SMTP_HOST=%q\n' "$MAIL_HOST"
        printf 'export RAPPORTEUR_SMTP_PORT=%q\n' "$SMTP_PORT"
        printf 'export RAPPORTEUR_LMTP_PORT=%q\n' "$LMTP_PORT"
        printf 'export RAPPORTEUR_MAIL_PASSWORD_FILE=%q\n' "$MAIL_PASSWORD_FILE"
        printf 'export RAPPORTEUR_MAIL_SENT_DIR=%q\n' "$MAIL_SENT_DIR"
        printf 'export RAPPORTEUR_LIST_RELAY_PORT=%q\n' "$LIST_RELAY_PORT"
        printf 'export RAPPORTEUR_RECEIVING_HOST=%q\n' "$RECEIVING_HOST"
        printf 'export RAPPORTEUR_LIST_SERVER_HOST=%q\n' "$LIST_SERVER_HOST"
        printf 'export RAPPORTEUR_IMAPS_PORT=%q\n' "$IMAPS_PORT"
        printf 'export RAPPORTEUR_SMTPS_PORT=%q\n' "$SMTPS_PORT"
        printf 'export RAPPORTEUR_TLS_HOST=%q\n' "$TLS_HOST"
        printf 'export RAPPORTEUR_TLS_CA_FILE=%q\n' "$TLS_CA_FILE"
        if ((WITH_MAILMAN)); then
            echo "export RAPPORTEUR_WITH_MAILMAN=1"
            if mailman_running; then echo "export RAPPORTEUR_MAILMAN=1"; fi
            printf 'export RAPPORTEUR_MAILMAN_LMTP_PORT=%q\n' "$MAILMAN_LMTP_PORT"
            printf 'export RAPPORTEUR_MAILMAN_REST_PORT=%q\n' "$MAILMAN_REST_PORT"
            printf 'export RAPPORTEUR_MAILMAN_REST_URL=%q\n' "$MAILMAN_REST_URL"
            printf 'export RAPPORTEUR_MAILMAN_REST_USER=%q\n' "$MAILMAN_REST_USER"
            printf 'export RAPPORTEUR_MAILMAN_REST_PASSWORD_FILE=%q\n' "$MAILMAN_REST_PASSWORD_FILE"
            printf 'export RAPPORTEUR_MAILMAN_DOMAIN=%q\n' "$MAILMAN_DOMAIN"
        fi
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

Local Matrix homeserver and mail servers are up.
  Homeserver URL : $HS_URL   (server name: $SERVER_NAME)
  Bot account    : @$BOT_LOCALPART:$SERVER_NAME (password in $SECRETS/bot_password)
  Demo accounts  : every @...:$SERVER_NAME person in $GROUPS_DIR/*.toml,
                   password '$DEMO_PASSWORD'; room creators / chairs: ${creators:-?}
  Rooms          : $(grep -E '_ALIAS=' "$ROOMS_ENV" 2>/dev/null | cut -d"'" -f2 | paste -sd' ' - || true)
                   (#cceg-ig is end-to-end encrypted; everyone has a pending invite)

Connect with any Matrix client (e.g. Element desktop): choose "Sign in",
edit the homeserver to $HS_URL, log in as e.g. @ana.lima:$SERVER_NAME
(user name ana.lima) with password '$DEMO_PASSWORD', and open the rooms above.

Mail (every address is an account; one password for all, in
$MAIL_PASSWORD_FILE):
  IMAP           : $MAIL_HOST:$IMAP_PORT   (dovecot; user name = full address, e.g. rapporteur@localhost)
  IMAPS          : $TLS_HOST:$IMAPS_PORT
  SMTP           : $MAIL_HOST:$SMTP_PORT   (STARTTLS offered; AUTH PLAIN/LOGIN, or none from loopback)
  SMTPS          : $TLS_HOST:$SMTPS_PORT
  TLS            : certificates of the private CA $TLS_CA_FILE, for the name $TLS_HOST
  Sent mail      : $MAIL_SENT_DIR/*.eml (+ .json envelope), delivered to the IMAP INBOXes

$(print_howto_mailman)
Settings for the bot and tests:  . $ENV_FILE
Stop: scripts/stack.sh down    Status: scripts/stack.sh status    Wipe data: scripts/stack.sh reset
One server: scripts/stack.sh stop-service|start-service $(IFS='|' && echo "${SERVICES[*]}")
EOF
}

print_howto_mailman() {
    ((WITH_MAILMAN)) || return 0
    cat <<EOF
Mailman 3 list server (mail to @$MAILMAN_DOMAIN goes through it):
  LMTP / REST    : 127.0.0.1:$MAILMAN_LMTP_PORT / $MAILMAN_REST_URL (user $MAILMAN_REST_USER,
                   password in $MAILMAN_REST_PASSWORD_FILE)
  Make a list    : scripts/stack.sh mailman-list test@$MAILMAN_DOMAIN ana.lima@example.org bot@mail.localhost
                   (member domains need a dot: Mailman refuses bot@localhost)

EOF
}

# ---------------------------------------------------------------------------
# commands
# ---------------------------------------------------------------------------

cmd_up() {
    local t0=$SECONDS svc
    mkdir -p "$STACK/state"
    if ! ((WITH_MAILMAN)) && mailman_present; then
        log "mailman: running from an earlier up, but RAPPORTEUR_WITH_MAILMAN is not set: stopping it"
        mailman_down
    fi
    for svc in "${SERVICES[@]}"; do "${svc}_up"; done
    synapse_seed
    write_env
    log "up in $((SECONDS - t0)) s"
    print_howto
}

cmd_down() {
    local i
    # a Mailman started by an `up` with RAPPORTEUR_WITH_MAILMAN=1 stops anyway
    if ! ((WITH_MAILMAN)) && mailman_present; then mailman_down; fi
    for ((i = ${#SERVICES[@]} - 1; i >= 0; i--)); do "${SERVICES[i]}_down"; done
}

# This stack's Mailman has a pid file or processes (whatever RAPPORTEUR_WITH_MAILMAN says).
mailman_present() { [[ -e $MAILMAN_PIDFILE || -n $(mailman_pids) ]]; }

cmd_status() {
    local rc=0 svc
    echo "stack dir: $STACK"
    for svc in "${SERVICES[@]}"; do "${svc}_status" || rc=1; done
    if ! ((WITH_MAILMAN)) && mailman_present; then mailman_status || true; fi
    [[ -f $ROOMS_ENV ]] && grep -E '_(ID|ALIAS)=' "$ROOMS_ENV" | sed 's/^/  /'
    return $rc
}

cmd_reset() {
    local svc
    cmd_down
    for svc in "${SERVICES[@]}"; do "${svc}_reset"; done
    if ! ((WITH_MAILMAN)); then mailman_reset; fi
    rm -f "$ENV_FILE"
    log "reset: service data removed (kept: venvs, secrets)"
}

# check_service NAME: NAME is one of SERVICES.
check_service() {
    local svc
    for svc in "${SERVICES[@]}"; do
        [[ $1 == "$svc" ]] && return 0
    done
    die "unknown service '$1' (one of: ${SERVICES[*]})"
}

# One server only, e.g. to simulate an outage: start returns once the server
# answers, stop once its port is closed.
cmd_start_service() {
    check_service "$1"
    mkdir -p "$STACK/state"
    "${1}_up"
}

cmd_stop_service() {
    check_service "$1"
    "${1}_down"
}

# mailman-list LIST_ADDRESS [SUBSCRIBER...]: see the header.
cmd_mailman_list() {
    (($# >= 1)) || die "usage: scripts/stack.sh mailman-list LIST_ADDRESS [SUBSCRIBER...]"
    if ! mailman_running; then
        if ((WITH_MAILMAN)); then
            die "Mailman is not running (stack $STACK): run scripts/stack.sh up (or start-service mailman) first"
        fi
        die "Mailman is not running (stack $STACK): start the stack with RAPPORTEUR_WITH_MAILMAN=1 scripts/stack.sh up"
    fi
    # the REST port the running Mailman was configured with, whatever this shell says
    local port
    port=$(awk '/^\[/ { web = ($0 == "[webservice]") } web && $1 == "port:" { print $2 }' "$MAILMAN_CFG")
    [[ $port =~ ^[0-9]+$ ]] && MAILMAN_REST_URL="http://127.0.0.1:$port"
    mailman_rest ensure-list --domain "$MAILMAN_DOMAIN" --timeout 30 "$@" \
        || die "mailman-list $* failed"
}

main() {
    case ${1:-} in
        up) cmd_up ;;
        down | stop) cmd_down ;;
        restart) cmd_down && cmd_up ;;
        reset) cmd_reset ;;
        status) cmd_status ;;
        env) cat "$ENV_FILE" ;;
        start-service) cmd_start_service "${2:-}" ;;
        stop-service) cmd_stop_service "${2:-}" ;;
        mailman-list) shift && cmd_mailman_list "$@" ;;
        *)
            sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
            exit 2
            ;;
    esac
}

main "$@"
