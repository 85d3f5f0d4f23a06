#!/usr/bin/env bash
# Build the release binaries and install both plugins (akv, akv-verifier) into notation's plugin
# directory with `notation plugin install --file`. Idempotent: re-running reinstalls (--force).
# Usage: bash install.sh     (NOTATION=/path/to/notation to pick a notation binary;
#                             NOTATION_CONFIG / XDG_CONFIG_HOME choose the plugin directory as usual)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$ROOT"

die() {
    echo "install: ERROR: $*" >&2
    exit 1
}

notation=${NOTATION:-}
if [[ -z $notation ]]; then
    if command -v notation >/dev/null; then
        notation=$(command -v notation)
    elif [[ -x $ROOT/tools/bin/notation ]]; then
        notation=$ROOT/tools/bin/notation
    else
        die "notation not found on PATH (set NOTATION=/path/to/notation, or run 'bash tests/provision.sh')"
    fi
fi

cargo build --release -p notation-akv -p notation-akv-verifier --bins ||
    die "cargo build --release failed"

target=${CARGO_TARGET_DIR:-$ROOT/target}/release
for name in akv akv-verifier; do
    binary=$target/notation-$name
    [[ -x $binary ]] || die "$binary was not built"
    # --force: replacing the same version is refused otherwise; this keeps re-runs idempotent.
    "$notation" plugin install --file "$binary" --force ||
        die "notation plugin install --file $binary failed"
done
"$notation" plugin ls
