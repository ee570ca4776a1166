// memhpctl — the verb table (see verb_table.h). The rows' words and checks are in verb_rules.h.
#include "memhpctl/verb_table.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <utility>

#include "memhpctl/commands.h"
#include "memhpctl/verb_rules.h"

namespace memhp::cli {
namespace {

using args::Choice;
using args::Duration;
using args::DurationRule;
using args::Flag;
using args::Number;
using args::OptionSpec;
using args::Size;
using args::SizeRule;
using args::Text;
using args::Zone;

uint32_t U32(uint64_t n) { return static_cast<uint32_t>(n); }

constexpr Accel kAccels[] = {Accel::kAuto, Accel::kKvm, Accel::kTcg};  // as --accel lists them
constexpr uint64_t kMiB = uint64_t{1} << 20;
// QEMU is given MiB (-m, the backends' size=...M): a launch size is a whole MiB.
constexpr SizeRule LaunchSize(uint64_t min_mib, uint64_t max_mib) { return {min_mib * kMiB, max_mib * kMiB, kMiB}; }
// Each block's offline: the options that took bare milliseconds say their unit now.
constexpr DurationRule kBlockTimeout{1, 3'600'000, BareNumber::kRefused};
constexpr GuestImageKind kImages[] = {GuestImageKind::kDefault, GuestImageKind::kDebian};  // as --image

constexpr std::string_view kPolicyNames[] = {"manual", "online", "online_kernel", "online_movable", "auto-movable"};

// online and offline choose their blocks alike; `more` are the verb's own options.
std::vector<OptionSpec> SelectionOptions(std::vector<OptionSpec> more) {
  std::vector<OptionSpec> options = {
      {"blocks", "IDS", "these memory blocks: ids and ranges, comma-separated (e.g. 40-47,50)", rules::ApplyBlocks},
      {"range", "START:SIZE", "the blocks of this guest-physical range; or START-END, END inclusive as lsmem prints it",
       rules::ApplyRange},
      Number("node", "N", "with --size: memory of this NUMA node", 0, 4095,
             [](Command& c, uint64_t n) { c.block_op.selection.node = static_cast<int32_t>(n); }),
      Size("size", "with --node: how much", {},
           [](Command& c, uint64_t n) { c.block_op.selection.size = n; }),
  };
  for (OptionSpec& option : more) options.push_back(std::move(option));
  return options;
}

std::vector<VerbSpec> BuildTable() {
  return {
      {Verb::kLaunch, "launch", "boot the default VM (or --kernel/--initrd) and start its memhpd",
       "launch [--image default|debian] [--kernel PATH] [--initrd PATH] [--accel auto|kvm|tcg] "
       "[--boot-timeout DURATION] [--memory SIZE] "
       "[--nodes N] [--slots N] [--maxmem SIZE] [--virtio-mem-max SIZE] [--agent-args \"ARGS\"] "
       "[--kernel-append \"OPTIONS\"] [--audit [--audit-arm hello|request]] [--engine qemu|libvirt [--connect URI]]",
       {
           Choice("image", {"default", "debian"},
                  "default: the busybox initramfs; debian: Debian 12 with systemd and the agent's package",
                  [](Command& c, size_t i) { c.launch.image = kImages[i]; }),
           Text("kernel", "PATH", "the guest kernel (default: the cached Debian kernel)",
                [](Command& c, const std::string& v) { c.launch.kernel = v; }),
           Text("initrd", "PATH", "the guest's initramfs (default: memhp's image, built as needed)",
                [](Command& c, const std::string& v) { c.launch.initrd = v; }),
           Choice("accel", {"auto", "kvm", "tcg"}, "auto (default): KVM on bare metal, TCG inside a VM",
                  [](Command& c, size_t i) { c.launch.accel = kAccels[i]; }),
           Duration("boot-timeout", "wait this long for the agent's hello (default 60s with KVM, 180s TCG)", {},
                    [](Command& c, uint32_t ms) { c.launch.boot_timeout_ms = ms; }),
           Size("memory", "boot memory, whole 128 MiB blocks on each node (default 512M)", LaunchSize(256, 1 << 20),
                [](Command& c, uint64_t n) { c.launch.memory_mib = n / kMiB; }),
           Number("nodes", "N", "NUMA nodes, the boot memory split evenly over them (default 2)", 1, 8,
                  [](Command& c, uint64_t n) { c.launch.nodes = U32(n); }),
           Number("slots", "N", "DIMM slots (default 8)", 1, 256, [](Command& c, uint64_t n) { c.launch.slots = U32(n); }),
           Size("maxmem", "the most memory the VM may have (default 16G)", LaunchSize(256, 1 << 24),
                [](Command& c, uint64_t n) { c.launch.maxmem_mib = n / kMiB; }),
           Size("virtio-mem-max", "the virtio-mem device of each node at most; 0: none (default 2G)",
                LaunchSize(0, 1 << 24), [](Command& c, uint64_t n) { c.launch.virtio_mem_max_mib = n / kMiB; }),
           {"agent-args", "\"ARGS\"", "the guest agent's options (memhp.agent_args= on the kernel command line)",
            rules::ApplyAgentArgs},
           Text("kernel-append", "\"OPTIONS\"", "more kernel command-line options, after memhp's own (so they win)",
                [](Command& c, const std::string& v) { c.launch.kernel_append = v; }),
           Flag("audit", "load the memhp-audit plugin (memhpctl audit)", [](Command& c) { c.launch.audit = true; }),
           Choice("audit-arm", {"hello", "request"},
                  "arm the plugin at the agent's hello (default), or only on memhpctl audit --arm",
                  [](Command& c, size_t i) { c.launch.audit_arm_on_request = i == 1; }),
           Choice("engine", {"qemu", "libvirt"},
                  "qemu: memhp starts QEMU itself (default); libvirt: a transient libvirt domain (docs/libvirt.md)",
                  [](Command& c, size_t i) { c.launch.engine_libvirt = i == 1; }),
           Text("connect", "URI", "with --engine libvirt: the libvirt connection URI (default qemu:///system)",
                [](Command& c, const std::string& v) { c.launch.libvirt_uri = v; }),
       },
       nullptr, rules::CheckLaunch, RunLaunch},
      {Verb::kAttach, "attach", "serve a QEMU started elsewhere, or a libvirt domain",
       "attach --qmp PATH [--agent PATH] | attach --libvirt DOMAIN [--connect URI]",
       {
           Text("qmp", "PATH", "QEMU's QMP socket", [](Command& c, const std::string& v) { c.attach.qmp = v; }),
           Text("agent", "PATH", "the agent's chardev socket", [](Command& c, const std::string& v) { c.attach.agent = v; }),
           Text("libvirt", "DOMAIN", "a running libvirt domain (name or UUID), served through libvirt",
                [](Command& c, const std::string& v) { c.attach.libvirt_domain = v; }),
           Text("connect", "URI", "the libvirt connection URI (default qemu:///system)",
                [](Command& c, const std::string& v) { c.attach.libvirt_uri = v; }),
       },
       nullptr, rules::CheckAttach, RunAttach},
      {Verb::kStatus, "status", "QEMU's memory devices beside the agent's inventory", "status [--no-refresh]",
       {Flag("no-refresh", "what memhpd knows, without asking the agent for a fresh inventory",
             [](Command& c) { c.status.refresh = false; })},
       nullptr, nullptr, RunStatus},
      {Verb::kStop, "stop", "shut the VM down and end its memhpd", "stop [--timeout DURATION]",
       {Duration("timeout", "wait this long for QEMU to quit before ending it (default 30s)", {1000, 3'600'000},
                 [](Command& c, uint32_t ms) { c.stop.timeout_ms = ms; })},
       nullptr, nullptr, RunStop},
      {Verb::kPlug, "plug", "plug a DIMM; the agent onlines its blocks",
       "plug --size SIZE --node N [--id ID] [--zone ZONE] [--timeout DURATION]",
       {
           Size("size", "the DIMM's size, a multiple of the guest's block size (required)", {},
                [](Command& c, uint64_t n) { c.plug.size = n; }),
           Number("node", "N", "the NUMA node (required)", 0, 4095,
                  [](Command& c, uint64_t n) { c.plug.node = static_cast<int32_t>(n); }),
           {"id", "ID", "the device id (default: memhpd picks the first free dimmN)", rules::ApplyPlugId},
           Zone("its blocks' zone: policy (default: the agent's policy decides), default, kernel or movable",
                [](Command& c, ZoneChoice z) { c.plug.zone = z; }),
           Duration("timeout", "for the guest side (default: memhpd's, 60s)", {1000, 3'600'000},
                    [](Command& c, uint32_t ms) { c.plug.timeout_ms = ms; }),
       },
       nullptr, rules::CheckPlug, RunPlug},
      {Verb::kUnplug, "unplug", "unplug a DIMM, its blocks offlined first (all or nothing)",
       "unplug ID [--dry-run] [--force] [--timeout DURATION] [--block-timeout DURATION]",
       {
           Flag("dry-run", "only say whether it could go now and which blocks would stop it; nothing changes",
                [](Command& c) { c.unplug.dry_run = true; }),
           Flag("force", "without an agent, or when it refuses: unplug anyway", [](Command& c) { c.unplug.force = true; }),
           Duration("timeout", "for the whole unplug (default: memhpd's, 120s)", {1000, 3'600'000},
                    [](Command& c, uint32_t ms) { c.unplug.timeout_ms = ms; }),
           Duration("block-timeout", "each block's offline, its unit said (default: the agent's)", kBlockTimeout,
                    [](Command& c, uint32_t ms) { c.unplug.block_timeout_ms = ms; }),
       },
       rules::TakeUnplugId, rules::CheckUnplug, RunUnplug},
      {Verb::kResize, "resize", "resize a virtio-mem device (its requested-size)",
       "resize ID --size SIZE [--dry-run] [--offline-first] [--timeout DURATION]",
       {
           Flag("dry-run", "only say how much could be unplugged now and what would stop the rest; nothing changes",
                [](Command& c) { c.resize.dry_run = true; }),
           Size("size", "the new requested size; 0 unplugs all of it (required)", {.min = 0},
                [](Command& c, uint64_t n) {
                  c.resize.size = n;
                  c.resize.size_given = true;
                }),
           Flag("offline-first", "shrinking: the agent offlines whole blocks of the device first",
                [](Command& c) { c.resize.offline_first = true; }),
           Duration("timeout", "for the whole resize (default: memhpd's, 120s)", {1000, 3'600'000},
                    [](Command& c, uint32_t ms) { c.resize.timeout_ms = ms; }),
       },
       rules::TakeResizeId, rules::CheckResize, RunResize},
      {Verb::kAutoscale, "autoscale", "memhpd grows a virtio-mem device on guest pressure and shrinks it when quiet",
       "autoscale [ID] --min SIZE --max SIZE [--step SIZE] [--quiet-period DURATION] [--grow-psi PCT] "
       "[--grow-available PCT] | autoscale --off",
       {
           Size("min", "the floor: never shrink below it (required)", {.min = 0},
                [](Command& c, uint64_t n) {
                  c.autoscale.min = n;
                  c.autoscale.min_given = true;
                }),
           Size("max", "the ceiling: never grow above it (required)", {.min = 0},
                [](Command& c, uint64_t n) {
                  c.autoscale.max = n;
                  c.autoscale.max_given = true;
                }),
           Size("step", "how much one grow or shrink changes (default: a quarter of max - min)", {},
                [](Command& c, uint64_t n) { c.autoscale.step = n; }),
           Duration("quiet-period", "no pressure for this long before a shrink (default 60s)", {1000, 3'600'000},
                    [](Command& c, uint32_t ms) { c.autoscale.quiet_ms = ms; }),
           Number("grow-psi", "PCT", "grow when PSI some avg10 is at or over PCT % (default 10)", 1, 100,
                  [](Command& c, uint64_t n) { c.autoscale.grow_psi_pct = U32(n); }),
           Number("grow-available", "PCT", "grow when MemAvailable is under PCT % of MemTotal (default 10)", 1, 50,
                  [](Command& c, uint64_t n) { c.autoscale.grow_available_pct = U32(n); }),
           Flag("off", "stop following; the size stays where it is", [](Command& c) { c.autoscale.off = true; }),
       },
       rules::TakeAutoscaleId, rules::CheckAutoscale, RunAutoscale},
      {Verb::kPolicy, "policy", "the agent's onlining policy: shown, or changed",
       "policy [--set POLICY] [--ratio PCT]",
       {
           Choice("set", {std::begin(kPolicyNames), std::end(kPolicyNames)},
                  "the new policy: manual, online, online_kernel, online_movable or auto-movable",
                  [](Command& c, size_t i) { c.policy.policy = kPolicyNames[i]; }, "POLICY"),
           Number("ratio", "PCT", "auto-movable: MOVABLE at most PCT % of KERNEL memory", 1, 100000,
                  [](Command& c, uint64_t n) { c.policy.ratio_percent = U32(n); }),
       },
       nullptr, nullptr, RunPolicy},
      {Verb::kZones, "zones", "the guest's memory per node and zone (present/managed/free, N_MEMORY, MemAvailable)",
       "zones", {}, nullptr, nullptr, RunZones},
      {Verb::kWatch, "watch", "QMP, agent, operation and memhpd events, one JSON object per line",
       "watch [--no-replay]",
       {Flag("no-replay", "only new events, not first the recent agent events memhpd holds",
             [](Command& c) { c.watch.replay_recent = false; })},
       nullptr, nullptr, RunWatch},
      {Verb::kAudit, "audit",
       "the memhp-audit plugin's report: heat, first use, accesses to offline memory (launch --audit)",
       "audit [--arm | --disarm]",
       {
           Flag("arm", "instrument guest memory accesses from now on", [](Command& c) { c.audit.arm = true; }),
           Flag("disarm", "stop instrumenting them", [](Command& c) { c.audit.disarm = true; }),
       },
       nullptr, rules::CheckAudit, RunAudit},
      {Verb::kOnline, "online", "online guest memory through the agent, block by block",
       "online (--blocks IDS | --range START:SIZE | --node N --size SIZE) [--zone ZONE]",
       SelectionOptions({Zone("policy (default: the agent's policy decides), default, kernel or movable",
                              [](Command& c, ZoneChoice z) { c.block_op.zone = z; })}),
       nullptr, rules::CheckSelection, RunBlockOp},
      {Verb::kOffline, "offline", "offline guest memory through the agent, block by block",
       "offline (--blocks IDS | --range START:SIZE | --node N --size SIZE) [--block-timeout DURATION] [--all-or-nothing]",
       SelectionOptions({
           Duration("block-timeout", "each block's offline, its unit said (default: the agent's)", kBlockTimeout,
                    [](Command& c, uint32_t ms) { c.block_op.block_timeout_ms = ms; }),
           Flag("all-or-nothing", "if a block refuses, put back online what this offlined",
                [](Command& c) { c.block_op.all_or_nothing = true; }),
       }),
       nullptr, rules::CheckSelection, RunBlockOp},
      {Verb::kEvents, "events", "the memory events memhpd recorded from the agent (most recent last)", "events", {},
       nullptr, nullptr, RunEvents},
      {Verb::kQmp, "qmp", "pass one QMP command to QEMU (through memhpd, which owns QMP)",
       "qmp [--timeout DURATION] [--] COMMAND ['{\"arg\": ...}']",
       {Duration("timeout", "wait this long for QEMU's answer (default 10s)", {},
                 [](Command& c, uint32_t ms) { c.qmp.timeout_ms = ms; })},
       rules::TakeQmpWord, rules::CheckQmp, RunQmp},
      {Verb::kBlocks, "blocks", "every guest memory block as lsmem shows it: range, state, node, zones, device",
       "blocks [-o|--output LIST] [-b|--bytes] [-r|--raw] [-n|--noheadings] [--split LIST] [-a|--all] [--no-refresh]",
       {
           args::WithLetter('o', {"output", "LIST", "the columns, comma-separated: RANGE, SIZE, STATE, BLOCK, NODE, "
                                                    "ZONES, DEVICE, REMOVABLE (default: all)",
                                  rules::ApplyBlockColumns}),
           args::WithLetter('b', Flag("bytes", "sizes in bytes", [](Command& c) { c.blocks.view.bytes = true; })),
           args::WithLetter('r', Flag("raw", "no alignment: one space between columns",
                                      [](Command& c) { c.blocks.view.raw = true; })),
           args::WithLetter('n', Flag("noheadings", "no heading line",
                                      [](Command& c) { c.blocks.view.noheadings = true; })),
           {"split", "LIST", "merge adjacent blocks while these agree: STATE, REMOVABLE, NODE, ZONES, DEVICE, or none "
                             "(default: the shown ones)",
            rules::ApplyBlockSplit},
           args::WithLetter('a', Flag("all", "every block on its own line", [](Command& c) { c.blocks.view.all = true; })),
           Flag("no-refresh", "the inventory memhpd holds, without asking the agent again",
                [](Command& c) { c.blocks.refresh = false; }),
       },
       nullptr, nullptr, RunBlocks},
      {Verb::kList, "list", "every VM memhp serves here: name, engine, state, memory, agent", "list", {}, nullptr,
       nullptr, RunList},
      {Verb::kTimeline, "timeline", "draw a recorded `--json watch` stream as SVG swimlanes",
       "timeline WATCH.jsonl -o|--output FILE.svg",
       {args::WithLetter('o', {"output", "FILE", "the SVG to write (- for stdout)",
                               [](Command& c, const std::string& v) {
                                 c.timeline.output = v;
                                 return std::string();
                               }})},
       rules::TakeTimelineInput, rules::CheckTimeline, RunTimeline},
      {Verb::kScenario, "scenario", "run a scenario file and report it; or compare two reports",
       "scenario run FILE [-o|--output REPORT.json] [--svg FILE.svg] | scenario compare A.json B.json",
       {args::WithLetter('o', {"output", "FILE", "run: write the JSON report here (docs/scenarios.md)",
                               [](Command& c, const std::string& v) {
                                 c.scenario.output = v;
                                 return std::string();
                               }}),
        Text("svg", "FILE", "run: draw the watch events recorded during the run as SVG (as memhpctl timeline)",
             [](Command& c, const std::string& v) { c.scenario.svg = v; })},
       rules::TakeScenarioWord, rules::CheckScenario, RunScenario},
      {Verb::kVersion, "version", "print the version", "version", {}, nullptr, nullptr, RunVersion},
      {Verb::kHelp, "help", "this text, or one command's usage and options", "help [COMMAND]", {},
       rules::TakeHelpTopic, nullptr, RunHelp},
  };
}

}  // namespace

const std::vector<VerbSpec>& VerbTable() {
  // Built once: constant data, like a string table, never changed after.
  static const std::vector<VerbSpec> table = BuildTable();
  return table;
}

}  // namespace memhp::cli

namespace memhp::cli {

const VerbSpec* FindVerb(std::string_view name) {
  for (const VerbSpec& row : VerbTable()) {
    if (row.name == name) return &row;
  }
  return nullptr;
}

const VerbSpec& SpecOf(Verb verb) {
  for (const VerbSpec& row : VerbTable()) {
    if (row.verb == verb) return row;
  }
  // Every Verb has a row (verb_table_test checks it); a missing one is a programming error.
  std::fprintf(stderr, "memhpctl: no table row for verb %d\n", static_cast<int>(verb));
  std::abort();
}

const std::vector<args::OptionSpec>& GlobalOptionSpecs() {
  static const std::vector<args::OptionSpec> globals = {
      {"vm", "NAME", "which VM (default: default); its state folder is STATE_ROOT/NAME", rules::ApplyVm},
      {"state-root", "DIR", "where VM state folders live (default: $MEMHP_STATE or /var/lib/memhp)",
       rules::ApplyStateRoot},
      args::Flag("json", "one JSON object as the answer, failures and usage errors too (docs/cli-json.md); -j",
                 [](Command& c) { c.global.json = true; }),
      args::Flag("quiet", "no text answer on stdout when the command succeeds (errors still on stderr; JSON stays); -q",
                 [](Command& c) { c.global.quiet = true; }),
      args::Flag("all", "status: every VM under the state root, one after the other (instead of --vm)",
                 [](Command& c) { c.global.all = true; }),
  };
  return globals;
}

}  // namespace memhp::cli
