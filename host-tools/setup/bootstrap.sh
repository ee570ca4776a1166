#!/usr/bin/env bash
# bootstrap.sh — everything memhp needs on a fresh Debian 12 machine (as root), then the build.
#
# Both README quick-start commands start here, so each does its own set-up and is safe to run
# again: packages are installed only when missing, the Meson build directory is configured once
# and rebuilt incrementally, the guest kernel is fetched into the cache only once.
#
# Environment: MEMHP_BUILD (build directory, default <source>/build), MEMHP_CACHE (kernel and
# image cache, default /var/cache/memhp). Prints the build directory on its last line.
set -euo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${MEMHP_BUILD:-$src/build}
cache=${MEMHP_CACHE:-/var/cache/memhp}

say() { printf 'memhp-setup: %s\n' "$*" >&2; }

# Debian package names; dpkg-dev gives apt-get source its unpacking tools (the plugin header);
# scdoc turns docs/man/*.scd into the manual pages; libsmartcols-dev is lsmem's table library
# (memhpctl blocks); librsvg2-bin's rsvg-convert renders `memhpctl timeline`'s SVG to PNG in the
# vm-watch suite; libvirt's packages are for the libvirt engine (libvirt-setup.sh starts its
# daemons).
# clang-14 and libclang-rt-14-dev (ASan, UBSan, TSan, libFuzzer) are for the sanitizer builds
# tests/run.sh makes with sanitizer-builds.sh; the normal build uses g++.
packages=(
  qemu-system-x86 qemu-utils
  g++ meson ninja-build pkg-config
  clang-14 libclang-rt-14-dev
  libglib2.0-dev libjson-glib-dev libprotobuf-dev protobuf-compiler
  libgtest-dev libgmock-dev
  busybox-static cpio kmod
  python3 dpkg-dev
  # memhpctl blocks' table (libsmartcols); the man pages (scdoc).
  scdoc libsmartcols-dev
  # rsvg-convert: the vm-watch suite renders memhpctl timeline's SVG to check its geometry.
  librsvg2-bin
  # The agent's Debian package and the systemd guest image (host-tools/image/build-deb.sh,
  # build-debian-image.sh); systemd for systemd.pc and systemd-analyze (no systemd runs here).
  debhelper lintian systemd mmdebstrap e2fsprogs
  # The libvirt engine (docs/libvirt.md): libvirtd, its QEMU driver, virsh and the C API.
  libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients libvirt-dev
)

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

# libvirt (the second engine): virtlogd and libvirtd running (no systemd here).
"$src/host-tools/setup/libvirt-setup.sh"

# QEMU's plugin header, from Debian's qemu source package (never committed). Without it the
# memhp-audit plugin is skipped; everything else builds and runs.
plugin_include="$cache/qemu-plugin-include"
mkdir -p "$cache"
if ! "$src/host-tools/setup/fetch-plugin-header.sh" "$plugin_include" >&2; then
  say "qemu-plugin.h could not be had; memhp-audit is not built"
fi

if [ ! -f "$build/build.ninja" ]; then
  say "configuring $build"
  meson setup "$build" "$src" -Dplugin_include="$plugin_include" >&2
else
  # A build configured before the header was there picks it up (meson reconfigures if needed).
  meson configure "$build" -Dplugin_include="$plugin_include" >&2
fi
say "building"
ninja -C "$build" >/dev/null || { ninja -C "$build" >&2; exit 1; }

# The guest kernel: Debian's package, unpacked into the cache, never installed on the host.
kernel_dir=$("$src/host-tools/image/fetch-kernel.sh" "$cache")

# The systemd guest (memhpctl launch --image debian, suite vm's vm-systemd-guest): the agent's
# .deb and Debian 12 with it installed, each rebuilt only when its inputs changed. mmdebstrap
# needs root (chroot mode); without root the image is left to a later run as root.
if [ "$(id -u)" -eq 0 ]; then
  started=$(date +%s)
  deb=$("$src/host-tools/image/build-deb.sh" --lintian "$cache/deb")
  "$src/host-tools/image/build-debian-image.sh" --kernel-dir "$kernel_dir" --deb "$deb" \
    --out-dir "$cache/debian" >/dev/null
  say "package and Debian image ready in $(( $(date +%s) - started )) s"
else
  say "not root: the Debian guest image is not built"
fi

echo "$build"
