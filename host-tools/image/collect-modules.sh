#!/usr/bin/env bash
# collect-modules.sh --kernel-dir DIR --root ROOT MODULE...
#
# Copies the named kernel modules of the kernel unpacked in DIR (fetch-kernel.sh), and every
# module they depend on, into ROOT/lib/modules/<release>/, then runs depmod -b ROOT there, so
# modprobe (busybox's in an initramfs, kmod's under udev) finds them and their aliases. Used by
# build-initramfs.sh (the default image) and build-debian-image.sh (the systemd image).
# Prints nothing on stdout; fails naming a module it cannot find.
set -euo pipefail

die() { echo "collect-modules.sh: $*" >&2; exit 1; }
usage() { die "usage: collect-modules.sh --kernel-dir DIR --root ROOT MODULE..."; }

kdir='' root=''
while [ $# -gt 0 ]; do
    case "$1" in
        --kernel-dir) [ $# -ge 2 ] || usage; kdir=$2; shift 2 ;;
        --root)       [ $# -ge 2 ] || usage; root=$2; shift 2 ;;
        --) shift; break ;;
        -*) usage ;;
        *) break ;;
    esac
done
[ -n "$kdir" ] && [ -n "$root" ] && [ $# -gt 0 ] || usage
command -v depmod >/dev/null && command -v modinfo >/dev/null || die "depmod/modinfo missing (apt-get install kmod)"
release=$(ls "$kdir/lib/modules" 2>/dev/null | head -n1 || true)
[ -n "$release" ] && [ -d "$kdir/lib/modules/$release/kernel" ] || die "no lib/modules/<release>/kernel in $kdir"
mdir="$kdir/lib/modules/$release"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Wanted modules plus everything they depend on (modinfo's "depends" field;
# the .deb ships no modules.dep -- that is made by depmod at install time).
# Module names treat '-' and '_' alike, as the kernel does.
index="$tmp/ko-index"   # "<name> <relative path>"
(cd "$mdir" && find kernel -name '*.ko' -o -name '*.ko.xz' -o -name '*.ko.zst' -o -name '*.ko.gz') |
    awk '{ n = $0; sub(/.*\//, "", n); sub(/\.ko(\.(xz|zst|gz))?$/, "", n); gsub(/-/, "_", n); print n, $0 }' >"$index"
todo=("$@")
seen=" "
while [ ${#todo[@]} -gt 0 ]; do
    name=${todo[0]//-/_}; todo=("${todo[@]:1}")
    case "$seen" in *" $name "*) continue ;; esac
    seen="$seen$name "
    # Built into the kernel: nothing to copy (modules.builtin lists it).
    if grep -q "/${name//_/[-_]}\.ko\$" "$mdir/modules.builtin" 2>/dev/null; then continue; fi
    rel=$(awk -v n="$name" '$1 == n { print $2; exit }' "$index")
    [ -n "$rel" ] || die "module $name not found under $mdir/kernel"
    dst="$root/lib/modules/$release/${rel%.ko*}.ko"
    mkdir -p "$(dirname "$dst")"
    # Compressed modules are unpacked here: busybox modprobe passes the file to
    # init_module() as is, and the kernel only decompresses itself with
    # CONFIG_MODULE_DECOMPRESS via finit_module(MODULE_INIT_COMPRESSED_FILE).
    case "$rel" in
        *.ko.xz)  xz -dc "$mdir/$rel" >"$dst" ;;
        *.ko.zst) zstd -qdc "$mdir/$rel" >"$dst" ;;
        *.ko.gz)  gzip -dc "$mdir/$rel" >"$dst" ;;
        *)        cp "$mdir/$rel" "$dst" ;;
    esac
    IFS=, read -ra deps <<<"$(modinfo -F depends "$dst")"
    todo+=(${deps[@]+"${deps[@]}"})
done
for f in modules.builtin modules.builtin.modinfo; do
    if [ -f "$mdir/$f" ]; then cp "$mdir/$f" "$root/lib/modules/$release/"; fi
done
# modules.order (used by depmod to rank aliases): the kernel's, cut to what we copied.
(cd "$root/lib/modules/$release" && find kernel -name '*.ko' | LC_ALL=C sort >"$tmp/copied")
grep -Fxf "$tmp/copied" "$mdir/modules.order" >"$root/lib/modules/$release/modules.order" || true
depmod -b "$root" "$release" >&2 || die "depmod failed"
