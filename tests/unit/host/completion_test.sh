#!/usr/bin/env bash
# memhp tests — memhpctl's bash completion (host-tools/memhpctl/completion/memhpctl.bash) against
# the built memhpctl: verbs, each verb's options (from its own help), VM names from the state
# root, and the fixed value lists. Device ids need a running memhpd (the vm suite's status).
#   completion_test.sh MEMHPCTL COMPLETION_FILE
set -euo pipefail
ctl=$1
# shellcheck disable=SC1090
source "$2"
failed=0

# Completes the words "$@" (the last one being completed) with memhpctl as COMP_WORDS[0].
complete_words() {
  COMP_WORDS=("$ctl" "$@")
  COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
  COMPREPLY=()
  _memhpctl
  printf '%s\n' "${COMPREPLY[@]}" | sort
}

expect() {  # expect "WHAT" "EXPECTED (newline-separated, sorted)" ACTUAL
  if [[ $2 != "$3" ]]; then
    printf 'FAIL %s\n  expected: %q\n  got:      %q\n' "$1" "$2" "$3"
    failed=1
  else
    printf 'ok   %s\n' "$1"
  fi
}

expect "verbs starting with 'un'" "unplug" "$(complete_words un)"
expect "verbs starting with 'o'" $'offline\nonline' "$(complete_words o)"
expect "every verb" "$("$ctl" help | awk '/^commands:/ {c=1; next} c && /^$/ {exit} c {print $1}' | sort)" "$(complete_words '')"
expect "plug's options" $'--id\n--node' "$(complete_words plug --size 1G --i; complete_words plug --n)"
expect "offline's --block-timeout" "--block-timeout" "$(complete_words offline --bl | grep -x -- --block-timeout)"
expect "unplug has no --size" "" "$(complete_words unplug --si)"
expect "global options after a verb" "--json" "$(complete_words status --js)"
expect "zones" $'default\nkernel\nmovable\npolicy' "$(complete_words plug --zone '')"
expect "policies" $'online\nonline_kernel\nonline_movable' "$(complete_words policy --set onl)"
expect "help takes a verb" "resize" "$(complete_words help res)"

root=$(mktemp -d /tmp/memhp-completion.XXXXXX)
trap 'rm -rf "$root"' EXIT
mkdir "$root/web-1" "$root/web-2" "$root/db"
expect "VM names from --state-root" $'web-1\nweb-2' "$(complete_words --state-root "$root" --vm we)"
expect "VM names from MEMHP_STATE" "db" "$(MEMHP_STATE=$root complete_words --vm d)"
expect "no devices without a memhpd" "" "$(complete_words --state-root "$root" --vm db unplug '')"
exit $failed
