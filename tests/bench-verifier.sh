#!/bin/sh
# Verifier benchmark: the akv-verifier process cold/warm (OCSP nonce off and on), then whole
# `notation verify` runs of one chain: an envelope naming akv-verifier beside the same chain signed
# RAW and checked by notation's native revocation, same responders. Wall and CPU (user+sys) times,
# peak RSS, binary size.
# Usage: tests/bench-verifier.sh [--release]
#   NOTATION_AKV_BENCH_BASELINE=<dir with an earlier build's binaries> adds rows for that build.
# Needs notation and oras (tests/provision.sh) and a local registry binary, like the e2e tests.
set -eu
cd "$(dirname "$0")/.."
profile=""
if [ "${1:-}" = "--release" ]; then profile="--release"; fi
cargo build $profile -p notation-akv-verifier
exec cargo test $profile -p notation-akv-e2e --test verifier_bench -- --nocapture --test-threads=1
