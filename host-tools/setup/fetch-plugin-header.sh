#!/usr/bin/env bash
# fetch-plugin-header.sh DEST_DIR — puts QEMU's TCG plugin header, qemu-plugin.h, in DEST_DIR.
#
# Debian's QEMU 7.2 loads plugins (-plugin) but ships no header for them; the header is
# include/qemu/qemu-plugin.h in Debian's `qemu` source package (docs/test-vm.md, "The TCG plugin").
# It is fetched at set-up time and never committed. Steps, each skipped when already done:
#   1. DEST_DIR/qemu-plugin.h exists: nothing to do (the script is idempotent).
#   2. No deb-src entry is known to apt: derive one from the machine's own sources — a copy of
#      /etc/apt/sources.list.d/debian.sources (deb822) with `Types: deb-src`, or the `deb ` lines
#      of a one-line /etc/apt/sources.list turned into `deb-src ` — so no host name is written
#      down here; then apt-get update.
#   3. apt-get source --download-only qemu (the installed qemu-system-x86's source version when
#      apt still has it, else the candidate), in a temp dir removed at exit.
#   4. Extract only the header from the orig tarball; apply any Debian patch that touches it.
#   5. Check it defines QEMU_PLUGIN_VERSION and that the source's upstream major.minor matches
#      the installed QEMU (a warning when not), then move it into DEST_DIR atomically.
# Needs root for steps 2 and 3 (apt), and dpkg-dev (bootstrap.sh installs it).
set -euo pipefail

say() { printf 'memhp-setup: %s\n' "$*" >&2; }
die() { say "fetch-plugin-header: $*"; exit 1; }

[ $# -eq 1 ] || die "usage: fetch-plugin-header.sh DEST_DIR"
dest=$1
header_rel=include/qemu/qemu-plugin.h

if [ -f "$dest/qemu-plugin.h" ]; then
  exit 0
fi

# apt-cache output is captured first: `| grep -q` would close the pipe early, and pipefail
# would then report apt-cache's SIGPIPE as a failure.
showsrc() { apt-cache showsrc qemu 2>/dev/null || true; }
have_deb_src() { grep -q '^Package: qemu$' <<<"$(showsrc)"; }

if ! have_deb_src; then
  [ "$(id -u)" -eq 0 ] || die "no deb-src entry for apt and not root: run as root"
  deb822=/etc/apt/sources.list.d/debian.sources
  oneline=/etc/apt/sources.list
  if [ -f "$deb822" ] && grep -q '^Types:.*\bdeb\b' "$deb822"; then
    # Every stanza of the machine's own file, as a source stanza; comments and keys unchanged.
    sed -E 's/^Types:.*/Types: deb-src/' "$deb822" > /etc/apt/sources.list.d/memhp-src.sources
    say "added /etc/apt/sources.list.d/memhp-src.sources (deb-src copy of $deb822)"
  elif [ -f "$oneline" ] && grep -q '^deb ' "$oneline"; then
    sed -n 's/^deb /deb-src /p' "$oneline" > /etc/apt/sources.list.d/memhp-src.list
    say "added /etc/apt/sources.list.d/memhp-src.list (deb-src lines from $oneline)"
  else
    die "no deb entry in $deb822 or $oneline to derive a deb-src entry from"
  fi
  say "apt-get update (for the deb-src entry)"
  apt-get update -qq || die "apt-get update failed"
  have_deb_src || die "apt still knows no source package 'qemu' after apt-get update"
fi

command -v dpkg-source >/dev/null || die "dpkg-dev is missing (apt-get source needs it)"

# The installed QEMU's source version (binNMU suffix dropped), e.g. 1:7.2+dfsg-7+deb12u18.
installed_src=$(dpkg-query -W -f='${source:Version}' qemu-system-x86 2>/dev/null || true)
installed_upstream=$(qemu-system-x86_64 --version 2>/dev/null |
  sed -nE '1s/^QEMU emulator version ([0-9]+\.[0-9]+).*/\1/p' || true)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"

spec=qemu
if [ -n "$installed_src" ] && grep -qx "Version: $installed_src" <<<"$(showsrc)"; then
  spec="qemu=$installed_src"
fi
say "downloading the source package ($spec)"
apt-get source --download-only -qq "$spec" >/dev/null 2>apt.log ||
  { cat apt.log >&2; die "apt-get source --download-only $spec failed"; }

# The first existing file among the arguments (a glob that matched nothing stays unexpanded).
first() { for f in "$@"; do [ -e "$f" ] && { printf "%s" "$f"; return 0; }; done; return 0; }

dsc=$(first qemu_*.dsc)
[ -n "$dsc" ] || die "apt-get source left no .dsc"
src_version=$(sed -n 's/^Version: //p' "$dsc" | head -n1)
orig=$(first qemu_*.orig.tar.gz qemu_*.orig.tar.xz qemu_*.orig.tar.bz2)
[ -n "$orig" ] || die "no orig tarball next to $dsc"

mkdir tree
tar -xf "$orig" -C tree --wildcards "*/$header_rel" || die "$orig has no $header_rel"
found=$(find tree -path "*/$header_rel" | head -n1)
[ -n "$found" ] || die "$header_rel not extracted from $orig"
root=${found%/"$header_rel"}

# Debian patches that touch the header (none in 7.2+dfsg-7): applied in series order, limited
# to the header's hunks so the rest of the tree is not needed.
debian_tar=$(first qemu_*.debian.tar.xz qemu_*.debian.tar.gz qemu_*.debian.tar.bz2)
if [ -n "$debian_tar" ]; then
  tar -xf "$debian_tar" -C tree debian/patches 2>/dev/null || true
  if [ -f tree/debian/patches/series ]; then
    while read -r p _; do
      case $p in ''|'#'*) continue ;; esac
      f=tree/debian/patches/$p
      if [ ! -f "$f" ] || ! grep -q "^+++ .*$header_rel" "$f"; then continue; fi
      say "applying Debian patch $p to the header"
      # Keep only the header's part of the patch: from its --- line to the next file's.
      awk -v h="$header_rel" '
        /^diff / { keep = 0 }
        /^--- / { keep = 0; pending = $0; next }
        /^\+\+\+ / { if (index($0, h)) { keep = 1; print pending } }
        keep { print }' "$f" > one.patch
      patch -s -p1 -d "$root" < one.patch || die "Debian patch $p does not apply to the header"
    done < tree/debian/patches/series
  fi
fi

grep -q '^#define QEMU_PLUGIN_VERSION' "$found" ||
  die "$header_rel from $src_version does not define QEMU_PLUGIN_VERSION"

# Upstream major.minor of the source (1:7.2+dfsg-7+deb12u18 -> 7.2) against the installed QEMU.
src_upstream=$(printf '%s\n' "$src_version" | sed -E 's/^[0-9]+://; s/^([0-9]+\.[0-9]+).*/\1/')
if [ -z "$installed_upstream" ]; then
  say "warning: qemu-system-x86_64 not found; header is from qemu $src_version"
elif [ "$src_upstream" != "$installed_upstream" ]; then
  say "warning: header is from qemu $src_version ($src_upstream) but the installed" \
    "qemu-system-x86_64 is $installed_upstream: the plugin may not load"
fi

mkdir -p "$dest"
cp "$found" "$dest/.qemu-plugin.h.tmp"
printf 'qemu source package %s, %s\n' "$src_version" "$header_rel" > "$dest/SOURCE"
mv "$dest/.qemu-plugin.h.tmp" "$dest/qemu-plugin.h"
say "qemu-plugin.h (qemu $src_version) in $dest"
