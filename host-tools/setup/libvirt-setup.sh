#!/usr/bin/env bash
# libvirt-setup.sh — libvirt's daemons running, for memhp's libvirt engine.
#
# Called by bootstrap.sh (as root), which installs Debian's libvirt packages first. Starts
# virtlogd and libvirtd when they are not running. There is no systemd on these machines, so
# nothing else starts them: libvirt's QEMU driver needs group
# `kvm` and user `libvirt-qemu` to exist (it refuses to start otherwise: "Failed to parse user
# 'libvirt-qemu'"), and virtlogd writes under /var/log/libvirt. A libvirtd that is already
# running is left alone, whoever started it, and this script never stops one.
set -euo pipefail

say() { printf 'memhp-setup: %s\n' "$*" >&2; }
if [ "$(id -u)" -ne 0 ]; then
  pgrep -x libvirtd >/dev/null 2>&1 && exit 0
  say "libvirtd is not running and starting it needs root"
  exit 1
fi

# What the QEMU driver needs before it starts. Debian creates them in libvirt-daemon-system's
# postinst, a package memhp does not install (it brings the systemd units and libvirt's
# default network along).
getent group kvm >/dev/null || groupadd --system kvm
getent group libvirt-qemu >/dev/null || groupadd --system libvirt-qemu
if ! getent passwd libvirt-qemu >/dev/null; then
  useradd --system --no-create-home --home-dir /var/lib/libvirt --shell /usr/sbin/nologin \
    --gid libvirt-qemu --groups kvm libvirt-qemu
fi
mkdir -p /var/log/libvirt /var/log/libvirt/qemu

running() { pgrep -x "$1" >/dev/null 2>&1; }
if ! running virtlogd; then
  say "starting virtlogd"
  virtlogd -d
fi
if ! running libvirtd; then
  say "starting libvirtd"
  libvirtd -d
fi
# Wait (bounded) for libvirtd to answer on its system socket.
for _ in $(seq 1 100); do
  if virsh -q -c qemu:///system version >/dev/null 2>&1; then exit 0; fi
  sleep 0.1
done
say "libvirtd does not answer on qemu:///system (see /var/log/libvirt/)"
exit 1
