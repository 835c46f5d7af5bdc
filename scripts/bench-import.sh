#!/usr/bin/env bash
# The list-archive import benchmark (issue 14): N generated list messages (default 100,000) in
# one mbox, imported and rendered by rapporteur (`import-mbox`, then `publish`, on SQLite), and,
# side by side in the same run, imported into a public-inbox (its own importer, git fast-import)
# and indexed by public-inbox-index; mail-parser's raw parse rate is the limit. Wall time and
# peak memory (max RSS) of each step by GNU time. Installs Debian's public-inbox if missing.
# Figures of a run go to docs/benchmarks.md.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"
COUNT=${1:-100000}
say() { printf '[bench-import] %s\n' "$*" >&2; }

if ! command -v public-inbox-index >/dev/null 2>&1; then
  say "installing Debian's public-inbox (its indexer is the comparison)"
  if [ "$(id -u)" = 0 ]; then apt-get install -y --no-install-recommends public-inbox >&2
  else sudo apt-get install -y --no-install-recommends public-inbox >&2; fi
fi
command -v /usr/bin/time >/dev/null || { say "GNU time (/usr/bin/time) is needed"; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/rapporteur-bench-import.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
say "generating $COUNT messages"
python3 scripts/bench/make_mbox.py "$COUNT" "$WORK/list.mbox"
SIZE=$(stat -c %s "$WORK/list.mbox")

cargo build --profile dist >&2
BOT=$REPO/target/dist/rapporteur
printf '[group]\nshort_name = "G"\nname = "Group"\ntime_zone = "UTC"\nconsensus_designations = ["Consensus"]\n' >"$WORK/group.toml"
printf '[bot]\ndata_dir = "data"\nsite_dir = "site"\n\n[matrix]\nhomeserver_url = "http://127.0.0.1:9"\nuser_id = "@bot:localhost"\n\n[[groups]]\nid = "g"\nroom = "#g:localhost"\ngroup_file = "group.toml"\n' >"$WORK/rapporteur.toml"
export RAPPORTEUR_MATRIX_PASSWORD=unused RAPPORTEUR_LOG=warn

measure() { # label, command...: prints "label seconds max_rss_kib"
  local label=$1; shift
  /usr/bin/time -f "%e %M" -o "$WORK/time" "$@" >/dev/null 2>"$WORK/stderr" || { cat "$WORK/stderr" >&2; exit 1; }
  printf '%s %s\n' "$label" "$(cat "$WORK/time")"
}

{
  measure rapporteur-import "$BOT" --config "$WORK/rapporteur.toml" import-mbox "$WORK/list.mbox" --group g
  measure rapporteur-publish "$BOT" --config "$WORK/rapporteur.toml" publish
  # public-inbox keeps its configuration under PI_CONFIG and HOME: both in the work folder.
  export PI_CONFIG=$WORK/pi-config
  HOME=$WORK public-inbox-init -V1 -L basic bench "$WORK/inbox" http://127.0.0.1/bench bench@example.org >/dev/null
  measure public-inbox-import env HOME="$WORK" perl scripts/bench/public_inbox_import.pl "$WORK/inbox" "$WORK/list.mbox"
  measure public-inbox-index env HOME="$WORK" public-inbox-index -L basic "$WORK/inbox"
} >"$WORK/results"

# Built with the dist profile, whose dependencies are already built above.
RAPPORTEUR_BENCH_MBOX="$WORK/list.mbox" cargo bench --profile dist --bench mbox_parse 2>/dev/null | tee "$WORK/parse"

python3 - "$COUNT" "$SIZE" "$WORK/results" <<'PY'
import sys
count, size, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
rows = [line.split() for line in open(path)]
print(f"\n{count} messages, {size / 1e6:.1f} MB of mbox\n")
print("| step | seconds | messages/s | peak memory (MiB) |")
print("|---|---|---|---|")
for label, seconds, rss in rows:
    seconds = float(seconds)
    print(f"| {label} | {seconds:.1f} | {count / seconds:,.0f} | {int(rss) / 1024:.0f} |")
times = {label: float(seconds) for label, seconds, _ in rows}
pi = times["public-inbox-import"] + times["public-inbox-index"]
print(f"\nrapporteur import vs public-inbox import+index: {pi / times['rapporteur-import']:.1f}x")
print(f"rapporteur import vs public-inbox-index alone: {times['public-inbox-index'] / times['rapporteur-import']:.1f}x")
PY
