#!/usr/bin/env bash
# fetch-kernel.sh CACHE_DIR
#
# Ensure Debian's current kernel package (the one linux-image-amd64 depends on)
# is unpacked under CACHE_DIR/kernel/<pkgname>/ -- never installed on the host.
# The unpacked tree has boot/vmlinuz-<release>, lib/modules/<release>/ and, when
# it can be extracted, boot/vmlinux-<release> (uncompressed, boots faster; see below).
# Idempotent: a stamp file (.unpacked) is written last; if it exists we do nothing.
# Needs apt-get, dpkg-deb (and xz for the optional vmlinux); no root.
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

# apt-get download writes into the current directory (no root needed). As root,
# apt would drop to the _apt user, which cannot write to our private temp dir
# (it then warns and downloads as root anyway): tell it to stay who we are.
(cd "$tmp" && apt-get -q -o APT::Sandbox::User="$(id -un)" download "$pkg" >&2) ||
    die "apt-get download $pkg failed"
deb=$(ls "$tmp"/*.deb 2>/dev/null | head -n1)
[ -n "$deb" ] || die "apt-get download $pkg produced no .deb"

mkdir -p "$tmp/x"
dpkg-deb -x "$deb" "$tmp/x" || die "dpkg-deb -x $deb failed"
ls "$tmp"/x/boot/vmlinuz-* >/dev/null 2>&1 || die "$pkg has no boot/vmlinuz-*"
ls -d "$tmp"/x/lib/modules/*/ >/dev/null 2>&1 || die "$pkg has no lib/modules/*/"

# Also keep the uncompressed ELF kernel as boot/vmlinux-<release>: this kernel
# has CONFIG_PVH=y, so QEMU can boot it directly (-kernel vmlinux, via its PVH
# ELF note), which skips the bzImage's xz decompressor -- about 8-12 s of every
# TCG boot. Optional: on failure only vmlinuz is there.
vmlinuz=$(ls "$tmp"/x/boot/vmlinuz-* | head -n1)
off=$(LC_ALL=C grep -obUaP '\xFD7zXZ\x00' "$vmlinuz" | head -n1 | cut -d: -f1 || true)
if [ -n "$off" ] && command -v xz >/dev/null &&
   xz -dc --single-stream >"$tmp/vmlinux" < <(tail -c +$((off + 1)) "$vmlinuz") 2>/dev/null &&
   [ "$(head -c 4 "$tmp/vmlinux" | od -An -c | tr -d ' ')" = 177ELF ]; then
    mv "$tmp/vmlinux" "$tmp/x/boot/vmlinux-${vmlinuz##*/vmlinuz-}"
else
    echo "fetch-kernel.sh: note: could not extract an ELF vmlinux from $vmlinuz (only vmlinuz is available)" >&2
fi

# The stamp is written last, then one rename publishes tree and stamp together,
# so a reader never sees a half-unpacked kernel (a concurrent run that got there
# first wins; a stale dir without stamp is replaced).
touch "$tmp/x/.unpacked"
mkdir -p "$(dirname "$dest")"
[ -f "$dest/.unpacked" ] || rm -rf "$dest"
mv -T "$tmp/x" "$dest" 2>/dev/null || [ -f "$dest/.unpacked" ] ||
    die "cannot move the unpacked kernel to $dest"
echo "$dest"
