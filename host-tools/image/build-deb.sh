#!/usr/bin/env bash
# build-deb.sh OUT_DIR — builds memhp-agent_<version>_<arch>.deb from the project's debian/ and
# prints its absolute path (one line on stdout; messages on stderr).
#
# dpkg-buildpackage writes its results beside the source folder, so the source is staged first:
# what the agent-only build reads (the top meson files, proto/, guest-agent/, debian/, the man
# page), as git knows it (tracked and untracked, not ignored), copied to OUT_DIR/src/memhp, a
# fixed path, so ccache hits across runs (Debian's CFLAGS carry -ffile-prefix-map=<that path>);
# a change anywhere else (the host tools, a test) does not rebuild the package.
# Cached by content: the .deb is rebuilt only when the hash of the staged files differs from the
# one in OUT_DIR/memhp-agent.deb.inputs. With --lintian, lintian checks the .deb (errors fail).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$(cd "$here/../.." && pwd)
say() { printf 'build-deb: %s\n' "$*" >&2; }

lintian=no
out=
for a in "$@"; do
  case "$a" in
    --lintian) lintian=yes ;;
    -*) say "unknown option $a"; exit 2 ;;
    *) out=$a ;;
  esac
done
[ -n "$out" ] || { say "usage: build-deb.sh [--lintian] OUT_DIR"; exit 2; }
mkdir -p "$out"
out=$(cd "$out" && pwd)

version=$(dpkg-parsechangelog -l "$src/debian/changelog" -S Version)
arch=$(dpkg --print-architecture)
deb="$out/memhp-agent_${version}_${arch}.deb"

# ---- stage the source -----------------------------------------------------------------------
stage="$out/src/memhp"
rm -rf "$out/src"
mkdir -p "$stage"
(cd "$src" && git ls-files -z --cached --others --exclude-standard -- \
    meson.build meson_options.txt proto guest-agent debian docs/man |
  while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
  cpio -0 -pdm --quiet "$stage")

hash=$( (cd "$stage" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum;
         dpkg-query -W -f='${Version}\n' debhelper meson) | sha256sum | cut -d' ' -f1)
if [ -f "$deb" ] && [ "$(cat "$out/memhp-agent.deb.inputs" 2>/dev/null)" = "$hash" ]; then
  say "up to date: $deb"
else
  say "building $deb"
  rm -f "$out/memhp-agent.deb.inputs"
  (cd "$stage" && dpkg-buildpackage -b -us -uc --no-sign >"$out/dpkg-buildpackage.log" 2>&1) || {
    tail -n 40 "$out/dpkg-buildpackage.log" >&2
    say "dpkg-buildpackage failed; the whole log: $out/dpkg-buildpackage.log"
    exit 1
  }
  mv -f "$out/src/memhp-agent_${version}_${arch}.deb" "$deb"
  echo "$hash" >"$out/memhp-agent.deb.inputs"   # written last: the .deb matches these inputs
fi

if [ "$lintian" = yes ]; then
  # Errors fail (exit 2 from lintian); warnings and notes are printed.
  lintian --fail-on error "$deb" >&2
fi
echo "$deb"
