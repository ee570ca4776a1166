# memhp benchmarks — shell pieces the benchmark scripts share (sourced, not run).
#
# The caller sets `ctl` (memhpctl), `root` (a --state-root) and `vm` (the VM's name) first.

bench_ctl() { "$ctl" --state-root "$root" --vm "$vm" "$@"; }

# Runs a command in the guest's console shell and prints its output (the marker protocol of
# tests/vm/guest_console.h: the shell echoes a marker after the command).
bench_guest() {
    python3 - "$root/$vm/console.sock" "$1" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.settimeout(0.5)
s.sendall((sys.argv[2] + '; echo __MEMHP_""DONE__\n').encode())
out, end = b'', time.time() + 20
while b'__MEMHP_DONE__' not in out and time.time() < end:
    try: out += s.recv(65536)
    except socket.timeout: pass
print(out.decode(errors='replace'))
PY
}

# Waits (up to 20 s) until memhpd says the agent is connected; fails otherwise.
bench_wait_agent() {
    for _ in $(seq 1 100); do
        [ "$(bench_ctl --json status | jq -r '.result.agent.connected')" = true ] && return 0
        sleep 0.2
    done
    echo "the agent did not connect" >&2
    return 1
}

# The agent's pid in the guest.
bench_agent_pid() { bench_guest 'pidof memhp-agent' | grep -Eo '^[0-9]+' | head -1; }

# "utime stime" of the agent (fields 14 and 15 of /proc/PID/stat), in ticks. stime includes the
# kernel's own onlining work (online_pages() runs in the writer of memoryN/state).
bench_agent_ticks() {
    bench_guest "cat /proc/$1/stat" | grep -Eo "^$1 \(memhp-agent\) .*" | awk '{print $14, $15}'
}

# A field of the agent's /proc/PID/status (VmRSS, RssAnon, voluntary_ctxt_switches, …): its number.
bench_agent_status() {
    bench_guest "grep '^$2:' /proc/$1/status" | grep -Eo "^$2:[[:space:]]+[0-9]+" | grep -Eo '[0-9]+$'
}
