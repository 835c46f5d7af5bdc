#!/usr/bin/env bash
# Fuzzes the mail ingest path (fuzz/fuzz_targets/mail_ingest.rs) with libFuzzer through
# cargo-fuzz, seeded with the golden corpus in tests/mail/corpus. cargo-fuzz is installed into
# var/tools on first use. Runs on the stable toolchain without a sanitizer (`-s none`): panics
# and assertion failures are caught; memory errors in unsafe code would need ASan
# (RUSTC_BOOTSTRAP=1 and no `-s none`), which is about seven times slower.
#
# Usage: scripts/fuzz.sh [RUNS]        (default 1000000 executions)
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RUNS=${1:-1000000}
TOOLS="$REPO/var/tools"
export PATH="$TOOLS/bin:$PATH"

if ! command -v cargo-fuzz >/dev/null 2>&1; then
  printf '[fuzz] installing cargo-fuzz into %s\n' "$TOOLS" >&2
  cargo install --locked cargo-fuzz --version '^0.13' --root "$TOOLS"
fi

CORPUS="$REPO/var/fuzz-corpus/mail_ingest"
mkdir -p "$CORPUS"
# The golden corpus seeds the run; what libFuzzer finds is kept in var/ for the next run.
cp -n "$REPO"/tests/mail/corpus/*.eml "$CORPUS"/ 2>/dev/null || true

cd "$REPO/fuzz"
cargo fuzz run -s none mail_ingest "$CORPUS" -- \
  -runs="$RUNS" -max_len=262144 -print_final_stats=1 -close_fd_mask=3
