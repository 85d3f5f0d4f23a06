#!/bin/sh
# Verifier benchmark: akv-verifier cold/warm beside notation's native revocation, same responders.
# Usage: tests/bench-verifier.sh [--release]
# Needs notation and oras (tests/provision.sh) and a local registry binary, like the e2e tests.
set -eu
cd "$(dirname "$0")/.."
profile=""
if [ "${1:-}" = "--release" ]; then profile="--release"; fi
cargo build $profile -p notation-akv-verifier
exec cargo test $profile -p notation-akv-e2e --test verifier_bench -- --nocapture --test-threads=1
