#!/usr/bin/env bash
# build-initramfs.sh --kernel-dir DIR --agent PATH --out FILE [--extra PATH]...
#
# Build the memhp guest initramfs (gzip'd newc cpio): busybox-static, the
# virtio / virtio-mem / virtio-console / memory-notifier-error-inject modules of
# the kernel unpacked in DIR (see fetch-kernel.sh), the agent at
# /usr/sbin/memhp-agent, each --extra binary in /usr/bin, the shared libraries
# they need, and /init (host-tools/image/init).
#
# Cached by content: FILE is rebuilt only when the hash of the inputs (this
# script, init, busybox, agent, extras and their libraries, kernel dir) differs
# from the one stored in FILE.inputs. No root needed: files are collected in a
# temp dir and archived with owner 0:0 (cpio -R); /dev/console is not in the
# archive, /init mounts devtmpfs and reopens its stdio on it instead.
# stdout: exactly one line, the absolute path of FILE.
set -euo pipefail

die() { echo "build-initramfs.sh: $*" >&2; exit 1; }
usage() { die "usage: build-initramfs.sh --kernel-dir DIR --agent PATH --out FILE [--extra PATH]..."; }

here=$(cd "$(dirname "$0")" && pwd -P)
kdir='' agent='' out=''
extras=()
while [ $# -gt 0 ]; do
    case "$1" in
        --kernel-dir) [ $# -ge 2 ] || usage; kdir=$2; shift 2 ;;
        --agent)      [ $# -ge 2 ] || usage; agent=$2; shift 2 ;;
        --out)        [ $# -ge 2 ] || usage; out=$2; shift 2 ;;
        --extra)      [ $# -ge 2 ] || usage; extras+=("$2"); shift 2 ;;
        *) usage ;;
    esac
done
[ -n "$kdir" ] && [ -n "$agent" ] && [ -n "$out" ] || usage
[ -d "$kdir" ] || die "kernel dir $kdir does not exist"
kdir=$(cd "$kdir" && pwd -P)
[ -f "$agent" ] && [ -x "$agent" ] || die "agent $agent is not an executable file"
for e in ${extras[@]+"${extras[@]}"}; do
    [ -f "$e" ] && [ -x "$e" ] || die "extra $e is not an executable file"
done
mkdir -p "$(dirname "$out")"
out="$(cd "$(dirname "$out")" && pwd -P)/$(basename "$out")"

busybox=/bin/busybox
[ -x "$busybox" ] || die "$busybox missing (apt-get install busybox-static)"
if ldd "$busybox" >/dev/null 2>&1; then die "$busybox is not static (install busybox-static)"; fi
command -v cpio >/dev/null || die "cpio missing (apt-get install cpio)"

release=$(ls "$kdir/lib/modules" 2>/dev/null | head -n1 || true)
[ -n "$release" ] && [ -d "$kdir/lib/modules/$release/kernel" ] || die "no lib/modules/<release>/kernel in $kdir"

# Shared libraries of an ELF file, one absolute path a line (empty if static or
# not ELF). ldd prints "name => /path (addr)" and "/lib64/ld-linux... (addr)".
libs_of() {
    local out
    out=$(ldd "$1" 2>/dev/null) || return 0   # "not a dynamic executable"
    if grep -q '=> not found' <<<"$out"; then
        die "$1 needs libraries that are not found: $(grep 'not found' <<<"$out" | tr -d '\t' | tr '\n' ' ')"
    fi
    sed -n -e 's/^.*=> \(\/[^ ]*\) (0x.*$/\1/p' -e 's/^[[:space:]]*\(\/[^ ]*\) (0x.*$/\1/p' <<<"$out"
}

all_libs=$( { libs_of "$agent"; for e in ${extras[@]+"${extras[@]}"}; do libs_of "$e"; done; } | sort -u)

# ---- content hash of all inputs -------------------------------------------
hash=$( {
    echo "kernel $kdir $release"
    sha256sum "$here/build-initramfs.sh" "$here/collect-modules.sh" "$here/init" "$busybox" | cut -d' ' -f1
    echo "agent $(sha256sum <"$agent")"
    for e in ${extras[@]+"${extras[@]}"}; do echo "extra $(basename "$e") $(sha256sum <"$e")"; done
    for l in $all_libs; do echo "lib $l $(sha256sum <"$l")"; done
} | sha256sum | cut -d' ' -f1)
if [ -f "$out" ] && [ "$(cat "$out.inputs" 2>/dev/null)" = "$hash" ]; then
    echo "$out"
    exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
root="$tmp/root"
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,run,tmp,root,lib/modules}
chmod 1777 "$root/tmp"

# ---- busybox: one symlink per applet at its usual place --------------------
cp "$busybox" "$root/bin/busybox"
"$busybox" --list-full | while read -r applet; do
    [ -e "$root/$applet" ] || [ -L "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
done

# ---- kernel modules ----------------------------------------------------------
"$here/collect-modules.sh" --kernel-dir "$kdir" --root "$root" \
    virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci virtio_mem \
    virtio_console notifier_error_inject memory_notifier_error_inject

# ---- agent, extras, libraries --------------------------------------------------
install -m 0755 "$agent" "$root/usr/sbin/memhp-agent"
for e in ${extras[@]+"${extras[@]}"}; do
    rm -f "$root/usr/bin/$(basename "$e")"   # may shadow a busybox applet
    install -m 0755 "$e" "$root/usr/bin/$(basename "$e")"
done
# The dynamic loader must sit at its absolute path (PT_INTERP). There is no
# ld.so.cache in the guest, so glibc's ld.so searches only RPATH/RUNPATH and its
# built-in system dirs: libraries from those dirs keep their path, any other is
# put in /usr/lib (a system dir) under the name ldd printed (= the DT_NEEDED name).
for l in $all_libs; do
    case "$(dirname "$l")" in
        /lib64|/lib|/usr/lib|/lib/*-linux-gnu|/usr/lib/*-linux-gnu) dst="$root$l" ;;
        *) dst="$root/usr/lib/$(basename "$l")" ;;
    esac
    mkdir -p "$(dirname "$dst")"
    cp -L "$l" "$dst"
done

# ---- /init and the archive -------------------------------------------------------
install -m 0755 "$here/init" "$root/init"
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet | gzip -6) >"$out.tmp.$$"
mv "$out.tmp.$$" "$out"
echo "$hash" >"$out.inputs"   # written last: FILE matches these inputs
echo "$out"
