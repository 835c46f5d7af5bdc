#!/usr/bin/env bash
# The whole test suite, on a new machine as on a developer's: starts what the tests need (the
# loopback stack of scripts/stack.sh -- Synapse, dovecot, SMTP relay -- in its own state folder
# and ports, PostgreSQL if it is stopped), then
# runs formatting and lint checks and every test with RAPPORTEUR_REQUIRE_SERVERS=1, so a test that
# needs a server fails instead of skipping. The test servers are stopped at the end.
#
# Usage: scripts/test.sh [extra cargo test arguments]
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"

# A stack of its own, beside (not instead of) the quick-start one (Synapse 8008, IMAP 1143,
# LMTP 2424, SMTP 2525).
export RAPPORTEUR_STACK_DIR=${RAPPORTEUR_TEST_STACK_DIR:-$REPO/var/test-stack}
export RAPPORTEUR_SYNAPSE_PORT=${RAPPORTEUR_TEST_SYNAPSE_PORT:-8018}
export RAPPORTEUR_IMAP_PORT=${RAPPORTEUR_TEST_IMAP_PORT:-1153}
export RAPPORTEUR_LMTP_PORT=${RAPPORTEUR_TEST_LMTP_PORT:-2434}
export RAPPORTEUR_SMTP_PORT=${RAPPORTEUR_TEST_SMTP_PORT:-2535}
# The relay's list-server listener (the stand-in for a list server's address; see stack.sh).
export RAPPORTEUR_LIST_RELAY_PORT=${RAPPORTEUR_TEST_LIST_RELAY_PORT:-8035}
# A real Mailman 3 list server as well: the end-to-end test of a mail's author goes through it
# (tests/mailman_end_to_end.rs). About 560 MB of memory; installed once (20-60 s), then up in a
# few seconds. Opt out with RAPPORTEUR_TEST_MAILMAN=0 (that test then skips its Mailman part).
if [ "${RAPPORTEUR_TEST_MAILMAN:-1}" != 0 ]; then
  export RAPPORTEUR_WITH_MAILMAN=1
  export RAPPORTEUR_MAILMAN_LMTP_PORT=${RAPPORTEUR_TEST_MAILMAN_LMTP_PORT:-8034}
  export RAPPORTEUR_MAILMAN_REST_PORT=${RAPPORTEUR_TEST_MAILMAN_REST_PORT:-8011}
fi

say() { printf '[test %4ds] %s\n' "$SECONDS" "$*" >&2; }

ensure_postgres() {
  local url=${RAPPORTEUR_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}
  if python3 - "$url" <<'PY'
import socket, sys, urllib.parse
u = urllib.parse.urlparse(sys.argv[1])
s = socket.socket()
s.settimeout(2)
try:
    s.connect((u.hostname or "127.0.0.1", u.port or 5432))
except OSError:
    sys.exit(1)
PY
  then
    return 0
  fi
  say "PostgreSQL is not answering; starting the local cluster"
  if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start || true
    sleep 2
  else
    say "no PostgreSQL cluster on this machine: set RAPPORTEUR_TEST_POSTGRES_URL to a server"
    exit 1
  fi
}

stack_up=
cleanup() {
  # A start still under way is let finish, so that stopping finds every server it started.
  if [ -n "$stack_up" ]; then wait "$stack_up" 2>/dev/null || true; fi
  bash "$REPO/scripts/stack.sh" down >/dev/null 2>&1 || true
}
trap cleanup EXIT

# Debian packages some tests drive: Chromium, to read the published record in a browser
# (tests/record_browser.rs), and Prometheus with promtool, to scrape the bot
# (tests/observability.rs). Installed in the background while the servers start; their
# services are not started (policy-rc.d or no init system) and the tests run their own.
ensure_test_packages() {
  local missing=()
  if [ -z "${RAPPORTEUR_CHROMIUM:-}" ] && ! command -v chromium >/dev/null 2>&1; then missing+=(chromium); fi
  if ! command -v promtool >/dev/null 2>&1 || [ ! -x /usr/bin/prometheus ]; then missing+=(prometheus); fi
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    say "missing ${missing[*]} and no way to install them: run apt-get install ${missing[*]}"
    return 1
  fi
  local log="$RAPPORTEUR_STACK_DIR/apt-test-packages.log"
  mkdir -p "$RAPPORTEUR_STACK_DIR"
  local apt=(env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends "${missing[@]}")
  if ! "${apt[@]}" </dev/null >>"$log" 2>&1; then
    apt-get -o DPkg::Lock::Timeout=600 update -q </dev/null >>"$log" 2>&1 || true
    "${apt[@]}" </dev/null >>"$log" 2>&1 || { tail -n 20 "$log" >&2; return 1; }
  fi
  # A system Prometheus the package may have started would hold port 9090: ours run apart.
  if command -v service >/dev/null 2>&1; then service prometheus stop >/dev/null 2>&1 || true; fi
}

ensure_postgres
# In CI every crate of the workspace is built once from nothing: incremental compilation's
# bookkeeping would only slow that down. A developer's runs keep it.
if [ -n "${CI:-}" ]; then export CARGO_INCREMENTAL=0; fi
say "installing Chromium and Prometheus if they are missing (in the background)"
ensure_test_packages &
packages_install=$!
# The servers start while the code is checked and built. On a new machine their first start
# installs Synapse, dovecot and Mailman (minutes of downloads that need little processor time)
# and the cold build needs both cores for minutes: one after the other, the two add up.
mkdir -p "$RAPPORTEUR_STACK_DIR"
stack_log="$RAPPORTEUR_STACK_DIR/stack-up.log"
say "starting the test servers in the background (Synapse $RAPPORTEUR_SYNAPSE_PORT, IMAP $RAPPORTEUR_IMAP_PORT, SMTP $RAPPORTEUR_SMTP_PORT; state in $RAPPORTEUR_STACK_DIR, log in $stack_log)"
bash "$REPO/scripts/stack.sh" up >"$stack_log" 2>&1 &
stack_up=$!

say "cargo fmt --check"
cargo fmt --all -- --check
say "cargo clippy"
cargo clippy --workspace --all-targets --quiet -- -D warnings
# The build takes the cargo arguments, not the test runner's (those after --).
build_arguments=()
for argument in "$@"; do
  [ "$argument" = -- ] && break
  build_arguments+=("$argument")
done
say "cargo test --no-run (the tests are built while the servers start)"
cargo test --workspace --quiet --lib --bins --tests --no-run "${build_arguments[@]}"

if ! wait "$stack_up"; then
  stack_up=
  say "the test servers did not start; the end of $stack_log:"
  tail -n 40 "$stack_log" >&2
  exit 1
fi
stack_up=
# shellcheck disable=SC1091
. "$RAPPORTEUR_STACK_DIR/env"
export RAPPORTEUR_REQUIRE_SERVERS=1

# Test databases of earlier runs that stopped half-way.
python3 - <<'PY' || true
import subprocess
subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-Atc",
  "SELECT 'DROP DATABASE IF EXISTS ' || datname || ';' FROM pg_database WHERE datname LIKE 'rapporteur_test_%'"],
  capture_output=True, check=False)
PY

wait "$packages_install" || { say "Chromium or Prometheus could not be installed"; exit 1; }

say "cargo test"
# Every crate of the workspace (the core has its own tables of cases). No crate has doc tests;
# leaving them out keeps the last runner line a real one.
results=$(mktemp)
cargo test --workspace --quiet --lib --bins --tests "$@" 2>&1 | tee "$results"
# One closing line with the totals of every test binary.
awk '/^test result:/ { passed += $4; failed += $6; ignored += $8 }
     END { printf "%d passed, %d failed, %d skipped\n", passed, failed, ignored }' "$results"
rm -f "$results"
