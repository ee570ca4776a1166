#!/usr/bin/env bash
# libvirt-setup.sh — Debian's libvirt for memhp's libvirt engine, and its daemons running.
#
# Called by bootstrap.sh (as root). Installs libvirt's QEMU driver, client tools and headers
# when missing, then starts virtlogd and libvirtd when they are not running. There is no
# systemd on these machines, so nothing else starts them: libvirt's QEMU driver needs group
# `kvm` and user `libvirt-qemu` to exist (it refuses to start otherwise: "Failed to parse user
# 'libvirt-qemu'"), and virtlogd writes under /var/log/libvirt. A libvirtd that is already
# running is left alone, whoever started it, and this script never stops one.
set -euo pipefail

say() { printf 'memhp-setup: %s\n' "$*" >&2; }

packages=(libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients libvirt-dev)
missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [ "$status" = installed ] || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    say "missing packages (${missing[*]}) and not root: run as root, or install them first"
    exit 1
  fi
  say "installing: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# What the QEMU driver needs before it starts (Debian's packaging creates these from its
# postinst only when the system has them; a minimal image may not).
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
