#!/usr/bin/env bash
# Runs every cargo-fuzz target (or the ones named) for a given time each, one after the other on
# one core, and prints per target: runs reached, exec/s, crashes, hangs (timeouts), OOMs.
#
#   bash fuzz/run.sh [seconds-per-target] [target...]      # default 60 s, every target
#   FUZZ_RUNS=10000000 bash fuzz/run.sh 3600 [target...]    # stop each at 10^7 runs (or the time)
#
# Limits: -rss_limit_mb=2048 (an input that needs more is an OOM), -timeout=10 (an input that takes
# longer is a hang). libFuzzer runs in fork mode and carries on past a failure, so the counts are
# complete; each failing input is kept in fuzz/artifacts/<target>/. Make it a regression: copy it
# to fuzz/regressions/<target>/, fix the product, and the replay test
# (`cargo test -p akv-fuzz-targets`) keeps it fixed. The growing corpus is fuzz/corpus/<target>/
# (git-ignored); the committed seeds are fuzz/seeds/<target>/.
set -euo pipefail

seconds=${1:-60}
shift || true
runs_goal=${FUZZ_RUNS:--1} # libFuzzer's -runs: -1 is no limit
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"

if ! command -v cargo-fuzz >/dev/null; then
  echo "run.sh: installing cargo-fuzz" >&2
  cargo install cargo-fuzz --locked
fi
if ! rustup toolchain list | grep -q '^nightly'; then
  echo "run.sh: installing the nightly toolchain (libFuzzer needs it)" >&2
  rustup toolchain install nightly --profile minimal
fi

bin_dir="$here/target/$(rustc -vV | sed -n 's/^host: //p')/release"

# Release with debug assertions (overflow checks); no sanitizer: the code is safe Rust, so the
# failures to find are panics, hangs and runaway memory, and ASan would only slow the runs. One
# target at a time, without its debug info (symbols stay for stack traces): each binary links the
# whole product, 90 MB with debug info, 20 MB without.
build() {
  nice -n 19 cargo +nightly fuzz build --sanitizer none --debug-assertions "$1" >&2
  strip --strip-debug "$bin_dir/$1"
  rm -f "$bin_dir/deps/$1"-*
}

if [ $# -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(cargo +nightly fuzz list)
fi

# Targets that read files (bundles, caches, config) write them under a scratch folder per process,
# on tmpfs where there is one: the signer cache fsyncs every entry it writes, which on a disk would
# make that target measure the disk.
scratch_root="$here/target"
[ -d /dev/shm ] && [ -w /dev/shm ] && scratch_root=/dev/shm
TMPDIR=$(mktemp -d "$scratch_root/notation-akv-fuzz.XXXXXX")
export TMPDIR
trap 'rm -rf "$TMPDIR"' EXIT

printf '%-28s %8s %12s %9s %8s %6s %5s\n' target seconds runs exec/s crashes hangs ooms
status=0
for target in "${targets[@]}"; do
  if ! build "$target"; then
    printf '%-28s did not build (see the cargo output above)\n' "$target"
    status=1
    continue
  fi
  mkdir -p "corpus/$target" "artifacts/$target"
  log="artifacts/$target/last-run.log"
  started=$SECONDS
  nice -n 19 "$bin_dir/$target" -fork=1 -runs="$runs_goal" -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
    -rss_limit_mb=2048 -timeout=10 -max_total_time="$seconds" \
    -artifact_prefix="artifacts/$target/" "corpus/$target" "seeds/$target" >"$log" 2>&1 || true
  # Fork mode's status line: "#<runs>: cov: … exec/s: <n> oom/timeout/crash: <o>/<t>/<c> …"
  line=$(grep -E '^#[0-9]+: cov:' "$log" | tail -n 1 || true)
  if [ -z "$line" ]; then
    printf '%-28s did not run; see fuzz/%s\n' "$target" "$log"
    status=1
    continue
  fi
  runs=$(sed -E 's/^#([0-9]+):.*/\1/' <<<"$line")
  rate=$(sed -E 's/.*exec\/s: ([0-9]+).*/\1/' <<<"$line")
  read -r ooms hangs crashes < <(sed -E 's/.*oom\/timeout\/crash: ([0-9]+)\/([0-9]+)\/([0-9]+).*/\1 \2 \3/' <<<"$line")
  printf '%-28s %8s %12s %9s %8s %6s %5s\n' "$target" $((SECONDS - started)) "$runs" "$rate" "$crashes" "$hangs" "$ooms"
  if [ "$crashes$hangs$ooms" != "000" ]; then status=1; fi
done
exit $status
