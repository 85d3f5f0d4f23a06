#!/usr/bin/env bash
# Re-capture the plugin requests the real notation CLI sends and write them to spec/examples/
# (one file per command and variant, bytes exactly as notation sent them). Commit the result.
# Sources: the recorder plugin (RAW signing), our signer in envelope mode and our verifier, each
# behind a recording wrapper (tests/e2e: recorder_capture, capture_envelope, verifier_envelope).
# Usage: bash tests/capture-examples.sh
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
bash tests/provision.sh >/dev/null
NOTATION_AKV_WRITE_EXAMPLES=spec/examples \
    cargo test -p notation-akv-e2e --test recorder_capture --test capture_envelope --test verifier_envelope \
    -- --nocapture 2>&1 | grep -E '^wrote |test result'
git status --short spec/examples
