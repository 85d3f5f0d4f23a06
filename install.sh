#!/usr/bin/env bash
# notation-akv: build, install and prove both plugins (akv, akv-verifier), or package them.
#
#   bash install.sh               build the release binaries, install both plugins into notation,
#                                 then run the demo: sign an artifact in RAW and in envelope mode
#                                 with the local test vault and verify both (a throwaway notation
#                                 home; your keys, trust store and policy are never touched)
#   bash install.sh --no-demo     build and install only
#   bash install.sh --uninstall   remove both plugins from notation
#   bash install.sh --dist [--target TRIPLE] [--prebuilt DIR] [--out DIR]
#                                 write the release archives and the checksums file to dist/
#                                 (--prebuilt: package binaries built elsewhere by --build)
#   bash install.sh --build [--target TRIPLE]
#                                 only build the release binaries; prints their directory
#   bash install.sh --version     print the version the archives are named with
#
# notation: $NOTATION, else `notation` on PATH; when neither exists, notation 1.3.2 (and oras, for
# the demo) is provisioned into tools/ by tests/provision.sh, as the tests do. Plugins go where
# notation puts them: NOTATION_CONFIG / XDG_CONFIG_HOME are honoured as notation honours them.
# Re-running is idempotent (same version: `notation plugin install --force`).
#
# Release binaries: for Linux (glibc targets) and Windows (MSVC) the C runtime is linked statically
# (`-C target-feature=+crt-static`, with `--target` so build scripts and proc macros stay dynamic):
# the Linux binaries need no shared library and run in distroless/static images (Ratify). This is
# the only release build: `bash install.sh` installs the very binaries the archives carry.
set -euo pipefail
CALLER_PWD=$PWD
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$ROOT"
TOOLS=${NOTATION_AKV_TOOLS:-$ROOT/tools}
PLUGINS=(akv akv-verifier)

die() {
    echo "install: ERROR: $*" >&2
    exit 1
}
say() { echo "install: $*"; }

usage() {
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
}

# The workspace version (`[workspace.package] version`), which both plugins report.
workspace_version() {
    local v
    v=$(sed -n '/^\[workspace.package\]/,/^\[/ s/^version *= *"\(.*\)"/\1/p' Cargo.toml)
    [[ -n $v ]] || die "no [workspace.package] version in Cargo.toml"
    echo "$v"
}

host_triple() {
    rustc -vV | sed -n 's/^host: //p'
}

# RUSTFLAGS for a release target: the static C runtime where the target supports it. On Linux,
# getrandom calls the getrandom(2) function directly: its default looks the function up at run
# time, which a static binary cannot, and then needs /dev/urandom, which a bare root may lack.
# Packed relative relocations (DT_RELR) where the static C runtime applies them (see relr_ok).
release_rustflags() { # triple
    local flags=${RUSTFLAGS:-}
    case $1 in
    *-linux-gnu*)
        flags="${flags:+$flags }-C target-feature=+crt-static --cfg getrandom_backend=\"linux_getrandom\""
        relr_ok "$1" && flags="$flags -C link-arg=-Wl,-z,pack-relative-relocs"
        ;;
    *-windows-msvc) flags="${flags:+$flags }-C target-feature=+crt-static" ;;
    esac
    echo "$flags"
}

# Whether a static binary for `triple` may pack its relative relocations (`-z pack-relative-relocs`,
# DT_RELR). A static-PIE binary applies its own relocations at start-up, one per pointer in its
# read-only data (about 16,000 here): packed, that table shrinks from 370 KB to 4 KB, the binary by
# 4%, and each process starts about 0.1 ms sooner (notation starts three per signature). Only the
# start-up code of glibc 2.36 and later reads packed relocations; an older one would start the
# binary with none applied, so this needs a native build (the host's glibc is the one linked in)
# on glibc 2.36 or later. Linkers before binutils 2.38 ignore the option with a warning.
relr_ok() { # triple
    [[ $1 == "$(host_triple)" ]] || return 1
    local version
    version=$(getconf GNU_LIBC_VERSION 2>/dev/null) || return 1
    version=${version#glibc }
    local major=${version%%.*} minor=${version#*.}
    minor=${minor%%.*}
    [[ $major =~ ^[0-9]+$ && $minor =~ ^[0-9]+$ ]] || return 1
    ((major > 2 || (major == 2 && minor >= 36)))
}

# Builds both plugins for `triple`; prints the directory holding the binaries.
build_release() { # triple
    local triple=$1
    say "building the release binaries for $triple (cargo build --release --target $triple)" >&2
    RUSTFLAGS=$(release_rustflags "$triple") \
        cargo build --release --locked --target "$triple" -p notation-akv -p notation-akv-verifier --bins >&2 ||
        die "cargo build --release --target $triple failed"
    echo "${CARGO_TARGET_DIR:-$ROOT/target}/$triple/release"
}

# azure-kv's asset names: <os>_<arch> in Go's words.
asset_platform() { # triple
    local os arch
    case $1 in
    x86_64-*) arch=amd64 ;;
    aarch64-*) arch=arm64 ;;
    *) die "no release architecture name for target $1" ;;
    esac
    case $1 in
    *-linux-*) os=linux ;;
    *-apple-darwin) os=darwin ;;
    *-windows-*) os=windows ;;
    *) die "no release OS name for target $1" ;;
    esac
    echo "${os}_$arch"
}

# --dist: one archive per plugin holding exactly `notation-<name>` and LICENSE, byte-reproducible
# (fixed mtime SOURCE_DATE_EPOCH, owner 0:0, modes 0755/0644, fixed order, gzip without name or
# time), then the checksums file over every archive of this version in the output directory.
dist() { # triple prebuilt-dir out-dir
    local triple=$1 bin_dir=$2 out=$3 version platform epoch ext=
    version=$(workspace_version)
    platform=$(asset_platform "$triple")
    [[ $platform == windows_* ]] && ext=.exe
    [[ -n $bin_dir ]] || bin_dir=$(build_release "$triple")
    epoch=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}
    mkdir -p "$out"
    local stage
    stage=$(mktemp -d)
    # shellcheck disable=SC2064 # expand now: the trap must remove this very directory
    trap "rm -rf '$stage'" EXIT
    local name file binary archive
    for name in "${PLUGINS[@]}"; do
        file=notation-$name$ext
        binary=$bin_dir/$file
        [[ -f $binary ]] || die "$binary was not built"
        rm -rf "${stage:?}"/*
        install -m 0755 "$binary" "$stage/$file"
        install -m 0644 LICENSE "$stage/LICENSE"
        touch -d "@$epoch" "$stage/$file" "$stage/LICENSE"
        archive=notation-${name}_${version}_$platform
        if [[ $platform == windows_* ]]; then
            archive=$archive.zip
            rm -f "$out/$archive"
            (cd "$stage" && TZ=UTC zip -X -q "$out/$archive" "$file" LICENSE) ||
                die "zip $archive failed"
        else
            archive=$archive.tar.gz
            tar --format=ustar --owner=0 --group=0 --numeric-owner --mtime="@$epoch" \
                -C "$stage" -cf - "$file" LICENSE | gzip -9n >"$out/$archive" ||
                die "tar $archive failed"
        fi
        say "wrote $out/$archive"
    done
    local sums=notation-akv_${version}_checksums.txt
    (
        cd "$out"
        export LC_ALL=C # the byte order of names, whatever the user's locale
        shopt -s nullglob
        local -a assets=(notation-akv*_"${version}"_*.tar.gz notation-akv*_"${version}"_*.zip)
        sha256sum -- "${assets[@]}" >"$sums"
    ) || die "sha256sum in $out failed"
    say "wrote $out/$sums"
}

find_notation() {
    if [[ -n ${NOTATION:-} ]]; then
        [[ -x $NOTATION ]] || die "NOTATION=$NOTATION is not executable"
        echo "$NOTATION"
    elif command -v notation >/dev/null; then
        command -v notation
    fi
}

# Provisions notation and oras into tools/ (and docker-registry with apt when the demo needs it).
provision() { # what
    say "$1: provisioning notation 1.3.2 into $TOOLS (bash tests/provision.sh)"
    local -a args=()
    [[ $demo == 1 ]] || args+=(--cli-only)
    NOTATION_AKV_TOOLS=$TOOLS bash "$ROOT/tests/provision.sh" "${args[@]}" ||
        die "provisioning failed (see the messages above)"
}

# The demo runs in its own process group with its own temporary directory, so Ctrl-C, a failure
# or an exit stops everything it started (the registry, the test vault) and removes its files.
run_demo() { # binary-dir notation
    local bin_dir=$1
    say "building the demo (cargo build -p notation-akv-e2e --bin notation-akv-demo)"
    cargo build --locked -p notation-akv-e2e --bin notation-akv-demo ||
        die "cargo build of the demo failed"
    local demo_bin=${CARGO_TARGET_DIR:-$ROOT/target}/debug/notation-akv-demo
    demo_tmp=$(mktemp -d "${TMPDIR:-/tmp}/notation-akv-demo.XXXXXX")
    trap stop_demo EXIT
    trap 'stop_demo; exit 130' INT
    trap 'stop_demo; exit 143' TERM
    set -m
    TMPDIR=$demo_tmp NOTATION_AKV_TOOLS=$TOOLS PATH="$(dirname "$2"):$PATH" "$demo_bin" \
        --signer "$bin_dir/notation-akv" --verifier "$bin_dir/notation-akv-verifier" &
    demo_pid=$!
    set +m
    local status=0
    wait "$demo_pid" || status=$?
    demo_pid=
    ((status == 0)) || die "the demo failed (exit $status)"
}

demo_pid=
demo_tmp=
stop_demo() {
    if [[ -n $demo_pid ]]; then
        kill -TERM -- "-$demo_pid" 2>/dev/null || true
        wait "$demo_pid" 2>/dev/null || true
        demo_pid=
    fi
    [[ -z $demo_tmp ]] || rm -rf "$demo_tmp"
    demo_tmp=
}

mode=install demo=1 target= prebuilt= out=$ROOT/dist
while (($#)); do
    case $1 in
    --dist) mode=dist ;;
    --uninstall) mode=uninstall ;;
    --build) mode=build ;;
    --version) mode=version ;;
    --no-demo) demo=0 ;;
    --target) target=${2:?--target needs a triple} && shift ;;
    --prebuilt) prebuilt=${2:?--prebuilt needs a directory} && shift ;;
    --out) out=${2:?--out needs a directory} && shift ;;
    -h | --help) usage && exit 0 ;;
    *) die "unknown argument $1 (see bash install.sh --help)" ;;
    esac
    shift
done

case $mode in
version)
    workspace_version
    exit 0
    ;;
build)
    build_release "${target:-$(host_triple)}"
    exit 0
    ;;
dist)
    [[ -n $target ]] || target=$(host_triple)
    [[ $out == /* ]] || out=$CALLER_PWD/$out
    dist "$target" "$prebuilt" "$out"
    exit 0
    ;;
uninstall)
    notation=$(find_notation)
    [[ -n $notation ]] || notation=$TOOLS/bin/notation
    [[ -x $notation ]] || die "notation not found (PATH, \$NOTATION, $TOOLS/bin): nothing to uninstall from"
    # Captured first: `grep -q` exits at its match, and under pipefail the writer's SIGPIPE
    # would turn "installed" into "not installed".
    listed=$("$notation" plugin ls | awk 'NR > 1 {print $1}') || die "notation plugin ls failed"
    for name in "${PLUGINS[@]}"; do
        if grep -qx -- "$name" <<<"$listed"; then
            "$notation" plugin uninstall --yes "$name" || die "notation plugin uninstall $name failed"
        else
            say "plugin $name is not installed"
        fi
    done
    "$notation" plugin ls
    exit 0
    ;;
esac

notation=$(find_notation)
if [[ -z $notation ]]; then
    provision "notation not found on PATH"
    notation=$TOOLS/bin/notation
elif [[ $demo == 1 ]] && ! command -v docker-registry >/dev/null; then
    provision "the demo needs docker-registry and oras"
elif [[ $demo == 1 ]] && ! command -v oras >/dev/null && [[ ! -x $TOOLS/bin/oras ]]; then
    provision "the demo needs oras"
fi
say "using $notation ($("$notation" version 2>/dev/null | awk '/^Version:/ {print $2}'))"

target=$(host_triple)
bin_dir=$(build_release "$target")
for name in "${PLUGINS[@]}"; do
    binary=$bin_dir/notation-$name
    [[ -x $binary ]] || die "$binary was not built"
    # --force: replacing the same version is refused otherwise; this keeps re-runs idempotent.
    "$notation" plugin install --file "$binary" --force ||
        die "notation plugin install --file $binary failed"
done
"$notation" plugin ls

if [[ $demo == 1 ]]; then
    run_demo "$bin_dir" "$notation"
fi
