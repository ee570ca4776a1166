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
# written) and OUT/initrd.gz. Cached by content, each file apart: the disk is rebuilt only when
# the hash of its inputs (this script, collect-modules.sh, the kernel, the .deb, the apt
# sources) differs from OUT/rootfs.img.inputs, the initramfs when its own (this script,
# init-debian, collect-modules.sh, busybox, the kernel) differ from OUT/initrd.gz.inputs.
# Needs root (mmdebstrap's chroot mode).
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

# Two caches: the disk (the slow part: mmdebstrap) and the initramfs, each with its inputs.
disk_hash=$( {
    echo "kernel $kdir $release"
    sha256sum "$here/build-debian-image.sh" "$here/collect-modules.sh" "$deb" "$sources" | cut -d' ' -f1
} | sha256sum | cut -d' ' -f1)
initrd_hash=$( {
    echo "kernel $kdir $release"
    sha256sum "$here/build-debian-image.sh" "$here/init-debian" "$here/collect-modules.sh" "$busybox" | cut -d' ' -f1
} | sha256sum | cut -d' ' -f1)
fresh() { [ -f "$out/$1" ] && [ "$(cat "$out/$1.inputs" 2>/dev/null)" = "$2" ]; }
if fresh rootfs.img "$disk_hash" && fresh initrd.gz "$initrd_hash"; then
    echo "$out"
    exit 0
fi

tmp=$(mktemp -d "$out/build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cp "$deb" "$tmp/memhp-agent.deb"

# ---- the root file system ---------------------------------------------------------------------
if ! fresh rootfs.img "$disk_hash"; then
  # In the guest: the serial console logs root in (the test harness drives it; systemctl writes
  # without a pager or colours there); no timers that wake apt; no systemd-firstboot (the first
  # boot of every snapshot would wait on the console for a locale and a root password); the
  # agent's package installed by apt, which also pulls its libraries.
  root="$tmp/root"
  echo "build-debian-image.sh: mmdebstrap bookworm (Debian's repository)" >&2
  mmdebstrap --quiet --variant=minbase --include=systemd-sysv,udev,kmod,procps \
      --customize-hook="cp '$tmp/memhp-agent.deb' \"\$1/tmp/memhp-agent.deb\"" \
      --customize-hook='chroot "$1" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends /tmp/memhp-agent.deb' \
      --customize-hook='rm -f "$1/tmp/memhp-agent.deb"' \
      --customize-hook='chroot "$1" systemctl mask apt-daily.timer apt-daily-upgrade.timer systemd-firstboot.service' \
      --customize-hook='echo memhp-debian >"$1/etc/hostname"' \
      --customize-hook='mkdir -p "$1/etc/systemd/system/serial-getty@ttyS0.service.d"' \
      --customize-hook='printf "[Service]\nExecStart=\nExecStart=-/sbin/agetty --autologin root --noclear --keep-baud 115200,57600,38400,9600 %%I \$TERM\n" >"$1/etc/systemd/system/serial-getty@ttyS0.service.d/autologin.conf"' \
      --customize-hook='printf "export SYSTEMD_PAGER=cat SYSTEMD_COLORS=0\n" >>"$1/root/.bashrc"' \
      --customize-hook='chroot "$1" apt-get clean' \
      bookworm "$root" "$sources" >&2 || die "mmdebstrap failed"

  # The modules the guest loads: the disk and file system (already loaded by the initramfs, so
  # udev finds them; ext4 needs the crypto API's crc32c, a soft dependency modinfo does not list
  # as "depends"), the console port the agent talks on, virtio-mem, and the kernel's memory
  # notifier fault injection (the vm tests use it).
  "$here/collect-modules.sh" --kernel-dir "$kdir" --root "$root" \
      virtio_pci virtio_blk crc32c_generic ext4 virtio_console virtio_mem memory_notifier_error_inject

  # ---- the disk ------------------------------------------------------------------------------------
  # Sized at the tree plus 256 MiB, so the guest can write (logs, a test's files) without filling up.
  mib=$(( $(du -sm "$root" | cut -f1) + 256 ))
  mkfs.ext4 -q -F -L memhp-root -d "$root" "$tmp/rootfs.img" "${mib}M" >&2 || die "mkfs.ext4 -d failed"
  rm -f "$out/rootfs.img.inputs"
  mv -f "$tmp/rootfs.img" "$out/rootfs.img"
  echo "$disk_hash" >"$out/rootfs.img.inputs"   # written last: the disk matches these inputs
fi

# ---- the initramfs ---------------------------------------------------------------------------------
if ! fresh initrd.gz "$initrd_hash"; then
  iroot="$tmp/initramfs"
  mkdir -p "$iroot"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,newroot}
  cp "$busybox" "$iroot/bin/busybox"
  "$busybox" --list-full | while read -r applet; do
      [ -e "$iroot/$applet" ] || [ -L "$iroot/$applet" ] || ln -s /bin/busybox "$iroot/$applet"
  done
  "$here/collect-modules.sh" --kernel-dir "$kdir" --root "$iroot" virtio_pci virtio_blk crc32c_generic ext4
  install -m 0755 "$here/init-debian" "$iroot/init"
  (cd "$iroot" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet | gzip -6) >"$tmp/initrd.gz"
  rm -f "$out/initrd.gz.inputs"
  mv -f "$tmp/initrd.gz" "$out/initrd.gz"
  echo "$initrd_hash" >"$out/initrd.gz.inputs"
fi

echo "$out"
