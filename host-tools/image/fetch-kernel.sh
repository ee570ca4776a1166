#!/usr/bin/env bash
# fetch-kernel.sh CACHE_DIR
#
# Ensure Debian's current kernel package (the one linux-image-amd64 depends on)
# is unpacked under CACHE_DIR/kernel/<pkgname>/ -- never installed on the host.
# The unpacked tree has boot/vmlinuz-<release> and lib/modules/<release>/.
# Idempotent: a stamp file (.unpacked) is written last; if it exists we do nothing.
# stdout: exactly one line, the absolute path of the unpacked dir.
set -euo pipefail

die() { echo "fetch-kernel.sh: $*" >&2; exit 1; }

[ $# -eq 1 ] || die "usage: fetch-kernel.sh CACHE_DIR"
mkdir -p "$1" || die "cannot create cache dir $1"
cache=$(cd "$1" && pwd -P)

# The ABI package name, e.g. linux-image-6.1.0-56-amd64 (first Depends: line).
abi_pkg() {
    apt-cache depends linux-image-amd64 2>/dev/null |
        sed -n 's/^ *|\?Depends: \(linux-image-[^ ]*\)$/\1/p' | head -n1
}

pkg=$(abi_pkg || true)
if [ -z "$pkg" ]; then
    echo "fetch-kernel.sh: apt-cache knows no linux-image-amd64; running apt-get update" >&2
    apt-get update >&2 || die "apt-get update failed"
    pkg=$(abi_pkg || true)
fi
[ -n "$pkg" ] || die "cannot find the kernel package linux-image-amd64 depends on"

dest="$cache/kernel/$pkg"
if [ -f "$dest/.unpacked" ]; then
    echo "$dest"
    exit 0
fi

tmp=$(mktemp -d "$cache/.fetch.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# apt-get download writes into the current directory; it needs no root for that,
# but the _apt sandbox user must be able to write there, hence the chmod.
chmod 755 "$tmp"
(cd "$tmp" && apt-get download "$pkg" >&2) || die "apt-get download $pkg failed"
deb=$(ls "$tmp"/*.deb 2>/dev/null | head -n1)
[ -n "$deb" ] || die "apt-get download $pkg produced no .deb"

rm -rf "$dest"
mkdir -p "$tmp/x"
dpkg-deb -x "$deb" "$tmp/x" || die "dpkg-deb -x $deb failed"
ls "$tmp"/x/boot/vmlinuz-* >/dev/null 2>&1 || die "$pkg has no boot/vmlinuz-*"
ls -d "$tmp"/x/lib/modules/*/ >/dev/null 2>&1 || die "$pkg has no lib/modules/*/"
mkdir -p "$(dirname "$dest")"
mv "$tmp/x" "$dest"
touch "$dest/.unpacked"   # written last: marks a complete unpack
echo "$dest"
