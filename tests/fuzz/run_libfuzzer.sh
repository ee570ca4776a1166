#!/bin/sh
# run_libfuzzer.sh FUZZER SCRATCH_CORPUS SEEDS SECONDS — one bounded libFuzzer run (suite
# 'libfuzzer'). Exits non-zero on a crash, a leak, a timeout of one input or a broken
# invariant; the input that did it is saved next to the scratch corpus as crash-*/leak-*/...
set -eu
fuzzer=$1 scratch=$2 seeds=$3 seconds=$4
mkdir -p "$scratch"
# libFuzzer's own exit code for a finding is 77, which meson reads as "skipped": say 1.
exec "$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
  -error_exitcode=1 -timeout_exitcode=1 \
  -artifact_prefix="$scratch-" "$scratch" "$seeds"
