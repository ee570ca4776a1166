#!/usr/bin/env bash
# build-debian-image.sh --kernel-dir DIR --deb PATH --out-dir OUT
#
# The systemd guest image: Debian 12 from Debian's own repository (mmdebstrap, minbase, with
# systemd-sysv and udev) with the memhp-agent .deb installed the way an operator would install
# it (apt-get install ./memhp-agent_*.deb), the kernel's modules the guest needs, on an ext4
# disk made by mkfs.ext4 -d (no mount, no loop device); and a small initramfs (busybox,
# virtio_pci/virtio_blk/ext4, init-debian) that mounts the disk and switch_roots to systemd.
#
# Writes OUT/rootfs.img (raw ext4; QEMU opens it with snapshot=on, so the cached image is never
# written) and OUT/initrd.gz. Cached by content: rebuilt only when the hash of the inputs (this
# script, init-debian, collect-modules.sh, busybox, the kernel dir and release, the .deb, the
# apt sources) differs from OUT/image.inputs. Needs root (mmdebstrap's chroot mode).
# stdout: exactly one line, the absolute path of OUT.
set -euo pipefail

die() { echo "build-debian-image.sh: $*" >&2; exit 1; }
usage() { die "usage: build-debian-image.sh --kernel-dir DIR --deb PATH --out-dir OUT"; }

here=$(cd "$(dirname "$0")" && pwd -P)
kdir='' deb='' out=''
while [ $# -gt 0 ]; do
    case "$1" in
        --kernel-dir) [ $# -ge 2 ] || usage; kdir=$2; shift 2 ;;
        --deb)        [ $# -ge 2 ] || usage; deb=$2; shift 2 ;;
        --out-dir)    [ $# -ge 2 ] || usage; out=$2; shift 2 ;;
        *) usage ;;
    esac
done
[ -n "$kdir" ] && [ -n "$deb" ] && [ -n "$out" ] || usage
[ -d "$kdir" ] || die "kernel dir $kdir does not exist"
kdir=$(cd "$kdir" && pwd -P)
[ -f "$deb" ] || die "no package $deb"
command -v mmdebstrap >/dev/null || die "mmdebstrap missing (apt-get install mmdebstrap)"
command -v mkfs.ext4 >/dev/null || die "mkfs.ext4 missing (apt-get install e2fsprogs)"
busybox=/bin/busybox
[ -x "$busybox" ] || die "$busybox missing (apt-get install busybox-static)"
# Debian's own repository, as this host's apt knows it (no host name written down here).
sources=/etc/apt/sources.list.d/debian.sources
[ -f "$sources" ] || die "$sources missing: the image is built from the host's Debian sources"
release=$(ls "$kdir/lib/modules" 2>/dev/null | head -n1 || true)
[ -n "$release" ] || die "no lib/modules/<release> in $kdir"
mkdir -p "$out"
out=$(cd "$out" && pwd -P)

hash=$( {
    echo "kernel $kdir $release"
    sha256sum "$here/build-debian-image.sh" "$here/init-debian" "$here/collect-modules.sh" "$busybox" \
        "$deb" "$sources" | cut -d' ' -f1
} | sha256sum | cut -d' ' -f1)
if [ -f "$out/rootfs.img" ] && [ -f "$out/initrd.gz" ] && [ "$(cat "$out/image.inputs" 2>/dev/null)" = "$hash" ]; then
    echo "$out"
    exit 0
fi
rm -f "$out/image.inputs"

tmp=$(mktemp -d "$out/build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cp "$deb" "$tmp/memhp-agent.deb"

# ---- the root file system ---------------------------------------------------------------------
# In the guest: the serial console logs root in (the test harness drives it; systemctl writes
# without a pager or colours there); no timers that wake apt; the agent's package installed by
# apt, which also pulls its libraries.
root="$tmp/root"
echo "build-debian-image.sh: mmdebstrap bookworm (Debian's repository)" >&2
mmdebstrap --quiet --variant=minbase --include=systemd-sysv,udev,kmod,procps \
    --customize-hook="cp '$tmp/memhp-agent.deb' \"\$1/tmp/memhp-agent.deb\"" \
    --customize-hook='chroot "$1" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends /tmp/memhp-agent.deb' \
    --customize-hook='rm -f "$1/tmp/memhp-agent.deb"' \
    --customize-hook='chroot "$1" systemctl mask apt-daily.timer apt-daily-upgrade.timer' \
    --customize-hook='echo memhp-debian >"$1/etc/hostname"' \
    --customize-hook='mkdir -p "$1/etc/systemd/system/serial-getty@ttyS0.service.d"' \
    --customize-hook='printf "[Service]\nExecStart=\nExecStart=-/sbin/agetty --autologin root --noclear --keep-baud 115200,57600,38400,9600 %%I \$TERM\n" >"$1/etc/systemd/system/serial-getty@ttyS0.service.d/autologin.conf"' \
    --customize-hook='printf "export SYSTEMD_PAGER=cat SYSTEMD_COLORS=0\n" >>"$1/root/.bashrc"' \
    --customize-hook='chroot "$1" apt-get clean' \
    bookworm "$root" "$sources" >&2 || die "mmdebstrap failed"

# The modules the guest loads: the disk and file system (already loaded by the initramfs, so
# udev finds them), the console port the agent talks on, virtio-mem, and the kernel's memory
# notifier fault injection (the vm tests use it).
"$here/collect-modules.sh" --kernel-dir "$kdir" --root "$root" \
    virtio_pci virtio_blk ext4 virtio_console virtio_mem memory_notifier_error_inject

# ---- the disk ------------------------------------------------------------------------------------
# Sized at the tree plus 256 MiB, so the guest can write (logs, a test's files) without filling up.
mib=$(( $(du -sm "$root" | cut -f1) + 256 ))
mkfs.ext4 -q -F -L memhp-root -d "$root" "$tmp/rootfs.img" "${mib}M" >&2 || die "mkfs.ext4 -d failed"

# ---- the initramfs ---------------------------------------------------------------------------------
iroot="$tmp/initramfs"
mkdir -p "$iroot"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,newroot}
cp "$busybox" "$iroot/bin/busybox"
"$busybox" --list-full | while read -r applet; do
    [ -e "$iroot/$applet" ] || [ -L "$iroot/$applet" ] || ln -s /bin/busybox "$iroot/$applet"
done
"$here/collect-modules.sh" --kernel-dir "$kdir" --root "$iroot" virtio_pci virtio_blk ext4
install -m 0755 "$here/init-debian" "$iroot/init"
(cd "$iroot" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet | gzip -6) >"$tmp/initrd.gz"

mv -f "$tmp/rootfs.img" "$out/rootfs.img"
mv -f "$tmp/initrd.gz" "$out/initrd.gz"
echo "$hash" >"$out/image.inputs"   # written last: the files match these inputs
echo "$out"
