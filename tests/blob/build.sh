#!/usr/bin/env bash
# Builds the blob harness (tests/blob/main.go) into tools/bin/notation-blob, OFFLINE, from the Go
# toolchain and notation-go 1.3.2 sources that tests/provision.sh unpacked from Debian sid into
# tools/go/root: GOPATH mode over that tree's /usr/share/gocode, no module proxy, no toolchain
# download, a build cache in tools/go/cache (a warm run takes under half a second).
# Usage: bash tests/blob/build.sh        (NOTATION_AKV_TOOLS overrides the tools/ location)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOOLS=${NOTATION_AKV_TOOLS:-$(cd "$HERE/../.." && pwd)/tools}
GO_TREE=$TOOLS/go/root
GOROOT_DIR=$TOOLS/go/goroot # -> root/usr/lib/go-<version>, made by provision.sh

die() {
    echo "blob/build.sh: ERROR: $*" >&2
    exit 1
}

[[ -x $GOROOT_DIR/bin/go ]] ||
    die "no Go toolchain at $GOROOT_DIR; run \`bash tests/provision.sh\` first (it unpacks golang-go from Debian sid)"
[[ -f $GO_TREE/usr/share/gocode/src/github.com/notaryproject/notation-go/notation.go ]] ||
    die "no notation-go sources under $GO_TREE/usr/share/gocode; run \`bash tests/provision.sh\` first"

mkdir -p "$TOOLS/go/cache" "$TOOLS/go/home" "$TOOLS/bin"
cd "$HERE"
# One build at a time (parallel test processes); go build rewrites the binary only when stale.
exec 9>"$TOOLS/go/build.lock"
flock 9
env -i PATH=/usr/bin:/bin HOME="$TOOLS/go/home" \
    GOROOT="$GOROOT_DIR" GOPATH="$GO_TREE/usr/share/gocode" GO111MODULE=off \
    GOFLAGS= GOTOOLCHAIN=local GOPROXY=off GOSUMDB=off GOTELEMETRY=off CGO_ENABLED=0 \
    GOCACHE="$TOOLS/go/cache" \
    "$GOROOT_DIR/bin/go" build -trimpath -o "$TOOLS/bin/notation-blob" . ||
    die "go build of tests/blob failed (see above)"
