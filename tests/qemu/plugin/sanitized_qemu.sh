#!/bin/sh
# sanitized_qemu.sh — qemu-system-x86_64 with the AddressSanitizer runtime preloaded, for the
# plugin-qemu test of an ASan build (build-asan).
#
# There the plugin is built with -fsanitize=address,undefined and leaves the runtime's symbols
# undefined (b_lundef=false): only an executable links it, and QEMU is Debian's, uninstrumented.
# Preloading the runtime's shared form gives the plugin its ASan and UBSan inside QEMU. QEMU's
# own allocations are not ours to leak-check (it exits without freeing), hence detect_leaks=0.
# MEMHP_REAL_QEMU and MEMHP_SANITIZER_RUNTIME come from tests/qemu/plugin/meson.build.
LD_PRELOAD="$MEMHP_SANITIZER_RUNTIME" \
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
exec "$MEMHP_REAL_QEMU" "$@"
