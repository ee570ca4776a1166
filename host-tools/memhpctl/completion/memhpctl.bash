# bash completion for memhpctl — installed as share/bash-completion/completions/memhpctl.
#
# The verbs and each verb's options come from memhpctl's own help (generated from its one verb
# table), so this file never lists them and cannot fall behind. VM names are the folders of the
# state root; device ids (unplug, resize, autoscale) come from `memhpctl --json status --no-refresh`.

_memhpctl_words() {
  # memhpctl help: the commands are the lines "  NAME  summary" between "commands:" and the
  # next blank line.
  "$1" help 2>/dev/null | awk '/^commands:/ {c = 1; next} c && /^$/ {exit} c {print $1}'
}

_memhpctl_options() {
  # memhpctl help VERB: "  --name VALUE  help" or "  --name, -x  help" under "options:"; the
  # global ones always.
  "$1" help "$2" 2>/dev/null | awk '/^options:/ {o = 1; next} o && /^$/ {exit}
    o {n = $1; sub(/,$/, "", n); print n; if (match($0, /, -[A-Za-z]( |$)/)) print substr($0, RSTART + 2, 2)}'
  printf '%s\n' --vm --all --state-root --json --quiet --help -j -q -h
}

_memhpctl_state_root() {
  local i
  for ((i = 1; i < ${#COMP_WORDS[@]} - 1; i++)); do
    case ${COMP_WORDS[i]} in
      --state-root) printf '%s' "${COMP_WORDS[i + 1]}"; return ;;
      --state-root=*) printf '%s' "${COMP_WORDS[i]#--state-root=}"; return ;;
    esac
  done
  printf '%s' "${MEMHP_STATE:-/var/lib/memhp}"
}

_memhpctl_vm_args() {
  local i
  for ((i = 1; i < ${#COMP_WORDS[@]} - 1; i++)); do
    case ${COMP_WORDS[i]} in
      --vm) printf -- '--vm\n%s\n' "${COMP_WORDS[i + 1]}"; return ;;
      --vm=*) printf -- '%s\n' "${COMP_WORDS[i]}"; return ;;
    esac
  done
}

_memhpctl_devices() {
  local root vmargs
  root=$(_memhpctl_state_root)
  mapfile -t vmargs < <(_memhpctl_vm_args)
  # The ids QEMU reports, from the JSON (device ids are QEMU ids: letters, digits, -._).
  "$1" --state-root "$root" "${vmargs[@]}" --json status --no-refresh 2>/dev/null |
    grep -o '"id":"[A-Za-z][A-Za-z0-9._-]*"' | cut -d'"' -f4
}

_memhpctl() {
  local cur prev ctl verb="" verbs i word
  cur=${COMP_WORDS[COMP_CWORD]}
  prev=${COMP_WORDS[COMP_CWORD - 1]}
  ctl=${COMP_WORDS[0]}
  verbs=$(_memhpctl_words "$ctl")
  for ((i = 1; i < COMP_CWORD; i++)); do
    word=${COMP_WORDS[i]}
    case $word in
      --vm | --state-root) ((i++)) ;;
      -*) ;;
      *) if grep -qx -- "$word" <<<"$verbs"; then verb=$word; break; fi ;;
    esac
  done

  case $prev in
    --vm)
      local root
      root=$(_memhpctl_state_root)
      mapfile -t COMPREPLY < <(compgen -W "$(ls -1 "$root" 2>/dev/null)" -- "$cur")
      return ;;
    --state-root | --kernel | --initrd | --qmp | --agent | --svg)
      mapfile -t COMPREPLY < <(compgen -f -- "$cur")
      return ;;
    --zone) mapfile -t COMPREPLY < <(compgen -W "policy default kernel movable" -- "$cur"); return ;;
    --accel) mapfile -t COMPREPLY < <(compgen -W "auto kvm tcg" -- "$cur"); return ;;
    --audit-arm) mapfile -t COMPREPLY < <(compgen -W "hello request" -- "$cur"); return ;;
    --set) mapfile -t COMPREPLY < <(compgen -W "manual online online_kernel online_movable auto-movable" -- "$cur"); return ;;
  esac

  if [[ -z $verb ]]; then
    if [[ $cur == -* ]]; then
      mapfile -t COMPREPLY < <(compgen -W "--vm --state-root --json --quiet --help --version -j -q -h -V" -- "$cur")
    else
      mapfile -t COMPREPLY < <(compgen -W "$verbs" -- "$cur")
    fi
    return
  fi
  if [[ $cur == -* ]]; then
    mapfile -t COMPREPLY < <(compgen -W "$(_memhpctl_options "$ctl" "$verb")" -- "$cur")
    return
  fi
  case $verb in
    unplug | resize | autoscale) mapfile -t COMPREPLY < <(compgen -W "$(_memhpctl_devices "$ctl")" -- "$cur") ;;
    timeline) mapfile -t COMPREPLY < <(compgen -f -- "$cur") ;;  # the recording, and -o's SVG
    scenario)
      # The action first, then files (the scenario, or the two reports).
      if [[ $prev == scenario ]]; then
        mapfile -t COMPREPLY < <(compgen -W "run compare" -- "$cur")
      else
        mapfile -t COMPREPLY < <(compgen -f -- "$cur")
      fi ;;
    help) mapfile -t COMPREPLY < <(compgen -W "$verbs" -- "$cur") ;;
  esac
}

complete -F _memhpctl memhpctl
