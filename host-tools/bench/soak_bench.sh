#!/usr/bin/env bash
# soak_bench.sh [BUILD] [CYCLES]
#
# A soak of memhp's operations, not a test (not in CI): on one default VM, CYCLES (default 1000)
# cycles of `memhpctl plug` + `memhpctl unplug` of a 256 MiB pc-dimm on node 1 and
# `memhpctl resize vmem1` up by 256 MiB and back (--offline-first), while in the guest
# `memhp-touch --verify` writes a per-page pattern into anonymous memory and re-reads it
# continuously, recycling a chunk every pass so its pages land in the hot-plugged memory and
# must migrate at every offline. `memhpctl watch` records everything meanwhile. At the end it
# checks and prints:
#   - lost events: every block's agent events form a legal, complete sequence
#     BLOCK_ADDED -> (GOING_ONLINE -> ONLINE | CANCEL_ONLINE) ... -> (GOING_OFFLINE -> OFFLINE |
#     CANCEL_OFFLINE) ... -> BLOCK_REMOVED (S1-S6), and the agent's event sequence numbers have
#     no gap;
#   - failed operations (any outcome but DONE, with its detail);
#   - corrupted bytes (memhp-touch's mismatches);
#   - RSS, in kB: the agent's (VmRSS from the guest's /proc, read through the console) and
#     memhpd's (the host's /proc), sampled at the start, every SOAK_RSS_EVERY (50) cycles and at
#     the end. Growth counts from the end of the warm-up (the first SOAK_WARMUP cycles, 50, or a
#     tenth of a shorter run): what the first operations allocate once (GLib's and protobuf's
#     lazily built tables, malloc's arenas reaching their working size) is not a leak; growth
#     after it is. Both figures are printed.
# Exit status 0 when all of that is clean and neither process grew by 500 kB or more after the
# warm-up, 1 otherwise. Needs the VM lock like every VM run:
#   MEMHP_STATE=/tmp/memhp-state-x flock /tmp/memhp-vm.lock host-tools/bench/soak_bench.sh build 50
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd -P)
src=$(cd "$here/../.." && pwd -P)
build=${1:-$src/build}
cycles=${2:-1000}
build=$(cd "$build" && pwd -P)
ctl="$build/host-tools/memhpctl/memhpctl"
[ -x "$ctl" ] || { echo "soak_bench.sh: no $ctl (build first)" >&2; exit 1; }
export MEMHP_AGENT_BIN="$build/guest-agent/memhp-agent" MEMHP_MEMHPD_BIN="$build/host-tools/daemon/memhpd"
export MEMHP_WORKLOAD_BIN="$build/host-tools/image/memhp-touch"

# The VM's state folder goes under $MEMHP_STATE (memhpctl's state root) when set.
mkdir -p "${MEMHP_STATE:-/tmp}"
root=$(mktemp -d "${MEMHP_STATE:-/tmp}/memhp-soak-XXXXXX")
m=("$ctl" --state-root "$root" --vm soak)
record=${SOAK_WATCH_RECORD:-/tmp/memhp-soak-watch.jsonl}
watch_pid=
cleanup() {
    [ -n "$watch_pid" ] && kill "$watch_pid" 2>/dev/null || true
    "${m[@]}" stop >/dev/null 2>&1 || true
    # The watch recording and the VM's logs outlive the run, for a look at what the checks said.
    [ -f "$root/watch.jsonl" ] && cp "$root/watch.jsonl" "$record" || true
    for log in console.log memhpd.log; do
        [ -f "$root/soak/$log" ] && cp "$root/soak/$log" "${record%.jsonl}.$log" || true
    done
    rm -rf "$root"
}
trap cleanup EXIT
"${m[@]}" launch | sed 's/^/soak: /'
"${m[@]}" watch --no-replay >"$root/watch.jsonl" &
watch_pid=$!

PYTHONPATH="$here" python3 - "$cycles" "$root/soak/console.sock" "$root/soak/memhpd.pid" "$root/watch.jsonl" "${m[@]}" <<'PY'
import json, os, re, socket, subprocess, sys, time
from bench_doc import agent_watch_lines

cycles, console, memhpd_pidfile, watch_file = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
ctl = sys.argv[5:]
MiB = 1 << 20

def run(*a):
    return subprocess.run(ctl + list(a), capture_output=True, text=True)

def guest(command, timeout=30.0):
    """A command in the guest's console shell; its output up to a marker the echo cannot contain."""
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(timeout)
    s.connect(console)
    s.sendall((command + '; echo __SOAK_""DONE__\n').encode())
    out = b""
    deadline = time.monotonic() + timeout
    while b"__SOAK_DONE__" not in out and time.monotonic() < deadline:
        chunk = s.recv(65536)
        if not chunk:
            break
        out += chunk
    s.close()
    return out.decode(errors="replace")

def fenced(command, tag):
    """`echo TAG=$(command)=END` in the guest; the value between the markers."""
    out = guest("echo %s=$(%s)=END" % (tag, command))
    # The echoed command line matches too ("TAG=$(...)=END"): only a value without "$(" counts.
    found = [v for v in re.findall(r"%s=([^=\n]*)=END" % tag, out) if "$(" not in v]
    return found[-1] if found else None

def agent_rss_kb():
    v = fenced("grep VmRSS /proc/$(pidof memhp-agent)/status | tr -dc 0-9", "RSS")
    return int(v) if v and v.isdigit() else None

def memhpd_rss_kb():
    pid = open(memhpd_pidfile).read().strip()
    for line in open("/proc/%s/status" % pid):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return None

def op(*a):
    t = time.monotonic()
    p = run("--json", *a)
    wall = time.monotonic() - t
    try:
        r = json.loads(p.stdout).get("result") or {"outcome": "NO_RESULT", "detail": p.stdout.strip()}
    except ValueError:
        r = {"outcome": "NO_ANSWER", "detail": (p.stdout + p.stderr).strip()}
    return r, wall

def devices():
    return json.loads(run("--json", "status", "--no-refresh").stdout)["result"].get("devices", [])

def vmem1():
    s = json.loads(run("--json", "status", "--no-refresh").stdout)["result"]
    for d in s.get("devices", []):
        if d.get("id") == "vmem1":
            return int(d.get("size", 0))
    sys.exit("soak_bench.sh: the default VM has no vmem1")

# The workload: a quarter of what the guest has available, in 4 MiB chunks.
avail = fenced("grep MemAvailable /proc/meminfo | tr -dc 0-9", "AVAIL")
work_mib = max(32, int(avail) // 1024 // 4) if avail and avail.isdigit() else 64
started = fenced("memhp-touch --verify --mib %d >/tmp/verify.out 2>&1 & echo $!" % work_mib, "VERIFY")
if not started or not started.isdigit():
    sys.exit("soak_bench.sh: memhp-touch --verify did not start")
verify_pid = started

def migrated():
    """The guest's pgmigrate_success (/proc/vmstat): pages moved, e.g. by offlining."""
    v = fenced("grep pgmigrate_success /proc/vmstat | tr -dc 0-9", "MIGRATED")
    return int(v) if v and v.isdigit() else None

agent_start, memhpd_start, migrated_start = agent_rss_kb(), memhpd_rss_kb(), migrated()
rss_every = int(os.environ.get("SOAK_RSS_EVERY", "50"))
warmup = int(os.environ.get("SOAK_WARMUP", str(min(50, max(1, cycles // 10)))))
rss_samples = [(0, agent_start, memhpd_start)]
agent_warm, memhpd_warm = None, None
base = vmem1()
failed = []
outcomes = 0
cycle_walls = []
t0 = time.monotonic()
for c in range(cycles):
    tc = time.monotonic()
    steps = [("plug", "--size", "256M", "--node", "1", "--id", "soak1"),
             ("unplug", "soak1"),
             ("resize", "vmem1", "--size", "%dM" % ((base + 256 * MiB) // MiB)),
             ("resize", "vmem1", "--size", "%dM" % (base // MiB), "--offline-first")]
    for s in steps:
        r, _ = op(*s)
        outcomes += 1
        if r.get("outcome") != "OPERATION_OUTCOME_DONE":
            failed.append("cycle %d: %s -> %s: %s" % (c + 1, " ".join(s), r.get("outcome"), r.get("detail")))
            # Leave the VM as the next cycle expects it (no soak1, vmem1 at its size), so one
            # failure is counted once and not again in every later cycle.
            if s[0] in ("plug", "unplug"):
                for again in (("unplug", "soak1", "--block-timeout", "60s"), ("unplug", "soak1", "--force")):
                    if not any(d.get("id") == "soak1" for d in devices()):
                        break
                    r2, _ = op(*again)
                    failed.append("cycle %d:   recovery %s -> %s: %s" %
                                  (c + 1, " ".join(again), r2.get("outcome"), r2.get("detail")))
    cycle_walls.append(time.monotonic() - tc)
    if c + 1 == warmup or (c + 1) % rss_every == 0:
        sample = (c + 1, agent_rss_kb(), memhpd_rss_kb())
        rss_samples.append(sample)
        if c + 1 == warmup:
            agent_warm, memhpd_warm = sample[1], sample[2]
    if (c + 1) % 10 == 0:
        print("soak: %d/%d cycles, %.1f s per cycle so far, %d failed operation(s)" %
              (c + 1, cycles, (time.monotonic() - t0) / (c + 1), len(failed)), flush=True)
elapsed = time.monotonic() - t0
agent_end, memhpd_end, migrated_end = agent_rss_kb(), memhpd_rss_kb(), migrated()
if rss_samples[-1][0] != cycles:
    rss_samples.append((cycles, agent_end, memhpd_end))

# The workload's verdict: stop it and wait (with a deadline) for its one line.
guest("kill -TERM %s" % verify_pid)
verify_line, mismatched = None, None
deadline = time.monotonic() + 60
while verify_line is None and time.monotonic() < deadline:
    found = re.findall(r"memhp-touch: verify [^\r\n]*mismatched_bytes=(\d+)[^\r\n]*", guest("cat /tmp/verify.out"))
    if found:
        out = guest("cat /tmp/verify.out")
        verify_line = re.findall(r"memhp-touch: verify [^\r\n]*", out)[-1]
        mismatched = int(re.findall(r"mismatched_bytes=(\d+)", verify_line)[-1])
    else:
        time.sleep(0.5)

# The watch's memory events, checked per block (S1-S6). Transitions the agent observed rather
# than made (origin KERNEL or OTHER: the virtio-mem driver offlining its own memory, chmem) come
# as ONLINE/OFFLINE without the GOING_* before them: the agent learns of them afterwards, from
# the uevent.
legal = {
    ("absent", "BLOCK_ADDED"): "offline",
    ("offline", "GOING_ONLINE"): "going_online",
    ("going_online", "ONLINE"): "online",
    ("going_online", "CANCEL_ONLINE"): "offline",
    ("online", "GOING_OFFLINE"): "going_offline",
    ("going_offline", "OFFLINE"): "offline",
    ("going_offline", "CANCEL_OFFLINE"): "online",
    ("offline", "BLOCK_REMOVED"): "absent",
}
observed = {("offline", "ONLINE"): "online", ("online", "OFFLINE"): "offline"}
kinds = {k for _, k in legal}

def check_watch():
    events, seqs = [], []
    for w in agent_watch_lines(watch_file):
        # The agent numbers all its events in one sequence (memory, zone_report,
        # inventory_changed): a gap anywhere is an event that never reached the watch.
        if "seq" in w.get("data", {}):
            seqs.append(int(w["data"]["seq"]))
        if "memory" in w.get("data", {}):
            events.append(w["data"])
    state, problems, history = {}, [], {}
    for e in events:
        mem = e["memory"]
        kind = mem.get("kind", "").replace("MEMORY_EVENT_KIND_", "")
        if kind not in kinds:
            continue
        block = mem.get("block")
        before = state.get(block, "absent")
        after = legal.get((before, kind))
        if after is None and mem.get("origin", "") in ("EVENT_ORIGIN_KERNEL", "EVENT_ORIGIN_OTHER"):
            after = observed.get((before, kind))
        if after is None:
            problems.append("block %s: %s in state %s (events of it before: %s)" %
                            (block, kind, before, ", ".join(history.get(block, [])[-3:])))
            # Go on from the state the event implies, so one fault is reported once.
            after = {"BLOCK_REMOVED": "absent", "BLOCK_ADDED": "offline", "ONLINE": "online",
                     "OFFLINE": "offline", "CANCEL_ONLINE": "offline", "CANCEL_OFFLINE": "online",
                     "GOING_ONLINE": "going_online", "GOING_OFFLINE": "going_offline"}[kind]
        history.setdefault(block, []).append(kind + ("/" + str(mem.get("errno_value")) if mem.get("errno_value") else ""))
        state[block] = after
    return events, state, problems, seqs

# The last shrink's BLOCK_REMOVED may reach the watch after the resize answered: wait (with a
# deadline) until no block is left mid-transition.
deadline = time.monotonic() + 60
while True:
    events, state, problems, seqs = check_watch()
    if all(s in ("absent", "online", "offline") for s in state.values()) or time.monotonic() > deadline:
        break
    time.sleep(0.5)
unfinished = {b: s for b, s in state.items() if s not in ("absent", "online", "offline")}
for b, s in unfinished.items():
    problems.append("block %s ends %s" % (b, s))
gaps = sum(b - a - 1 for a, b in zip(seqs, seqs[1:]) if b > a + 1)

def kb(a, b):
    return "%s -> %s kB (%+d kB)" % (a, b, b - a) if a is not None and b is not None else "unknown"

print("soak: %d cycles (%d operations) in %.0f s, %.1f s per cycle" % (cycles, outcomes, elapsed, elapsed / max(1, cycles)))
print("soak: memory events seen: %d for %d blocks; illegal or incomplete sequences: %d; sequence-number gaps: %d"
      % (len(events), len(state), len(problems), gaps))
for p in problems[:20]:
    print("soak:   " + p)
print("soak: failed operations: %d" % len(failed))
for f in failed[:20]:
    print("soak:   " + f)
print("soak: workload %d MiB: %s" % (work_mib, verify_line.strip() if verify_line else "no verdict"))
print("soak: pages migrated in the guest meanwhile (pgmigrate_success): %s" %
      (migrated_end - migrated_start if migrated_start is not None and migrated_end is not None else "unknown"))
print("soak: corrupted bytes: %s" % (mismatched if mismatched is not None else "unknown"))
print("soak: agent RSS %s; memhpd RSS %s" % (kb(agent_start, agent_end), kb(memhpd_start, memhpd_end)))
print("soak: after the %d-cycle warm-up: agent RSS %s; memhpd RSS %s" %
      (warmup, kb(agent_warm, agent_end), kb(memhpd_warm, memhpd_end)))
print("soak: RSS samples (cycle agent_kB memhpd_kB): " +
      ", ".join("%d %s %s" % s for s in rss_samples))
def grew(a, b):
    return a is None or b is None or b - a >= 500
rss_ok = not grew(agent_warm, agent_end) and not grew(memhpd_warm, memhpd_end)
if not rss_ok:
    print("soak: RSS grew by 500 kB or more after the warm-up (or was not read)")
clean = not problems and gaps == 0 and not failed and mismatched == 0 and rss_ok
record = os.environ.get("SOAK_WATCH_RECORD", "/tmp/memhp-soak-watch.jsonl")
print("soak: watch recording: %s (the guest console and memhpd.log beside it)" % record)
print("soak: %s" % ("clean" if clean else "NOT clean"))
sys.exit(0 if clean else 1)
PY
