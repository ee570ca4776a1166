// memhpctl — the command line, parsed into a Command value (no I/O here, so it is unit-tested).
//
//   memhpctl [--vm NAME] [--state-root DIR] [-j|--json] [-q|--quiet] VERB [options] [--] [WORDS]
//
// Global options may stand before or after the verb; `--opt value` and `--opt=value` both work;
// `--` ends the options (every word after it is a word, even one starting with '-'); short
// flags (-h -V -j -q) may be bundled (-jq). Anything unknown, missing or out of range is a
// usage error with a message naming it; the CLI then exits with kExitUsage and changes nothing.
// `-h`/`--help` anywhere asks for help: the verb's own when it comes after one, else the whole
// list; `-V`/`--version` anywhere asks for the version. Which verbs take which options and words
// is the verb table's (verb_table.h); how sizes, addresses, durations and block lists are
// written is cli_values.h's; this file holds the values they parse into.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ctl/blocks_view.h"

namespace memhp::cli {

// Documented exit codes (README, "memhpctl"): scripts branch on these.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;   // the operation failed or was refused
inline constexpr int kExitUsage = 2;    // bad command line: nothing was done
inline constexpr int kExitTimeout = 3;  // gave up waiting (or only part was done)

enum class Verb {
  kHelp, kVersion, kLaunch, kAttach, kStatus, kStop, kQmp, kOnline, kOffline, kEvents,
  // Operations (operation_commands.cc).
  kPlug, kUnplug, kResize, kPolicy, kZones, kWatch,
  kAudit,  // the memhp-audit plugin's report (audit_command.cc)
  kBlocks,  // every guest block, as lsmem shows it (blocks_command.cc)
  kList,    // every VM of the state root (fleet_commands.cc)
  kTimeline,  // a recorded watch stream drawn as SVG (timeline_command.cc)
  kScenario,  // scenario run / compare (scenario_commands.cc)
  kAutoscale,  // memhpd follows the guest's pressure with a virtio-mem device (autoscale_command.cc)
};

enum class Accel { kAuto, kKvm, kTcg };

struct GlobalOptions {
  std::string vm = "default";
  std::string state_root;  // "" = vm::DefaultStateRoot()
  bool json = false;
  bool quiet = false;  // -q: no result on stdout when the verb succeeds (the exit code says it)
  bool all = false;    // --all: every VM under the state root (status only)
};

// Which of memhp's guest images launch boots: the busybox initramfs, or Debian 12 with systemd
// and the agent's package (host-tools/image/README.md).
enum class GuestImageKind { kDefault, kDebian };

struct LaunchOptions {
  GuestImageKind image = GuestImageKind::kDefault;
  std::string kernel;   // "" = the cached Debian kernel
  std::string initrd;   // "" = the default image, built as needed
  Accel accel = Accel::kAuto;
  uint32_t boot_timeout_ms = 0;  // 0 = 60 s with KVM, 180 s with TCG
  // Sizes are given in bytes (cli_values.h) and must be whole MiB: QEMU's -m and the backends
  // are written in MiB (launcher/qemu_command.h).
  uint64_t memory_mib = 512;    // boot memory, split evenly over the nodes
  uint32_t nodes = 2;
  uint32_t slots = 8;
  uint64_t maxmem_mib = 16384;
  uint64_t virtio_mem_max_mib = 2048;  // per node
  std::string agent_args;  // passed to the guest agent (kernel command line)
  std::string kernel_append;  // more kernel command-line options, after memhp's own
  // --audit: load the memhp-audit plugin; memhpd arms it once the agent says hello, or, with
  // --audit-arm request, only on `memhpctl audit --arm`.
  bool audit = false;
  bool audit_arm_on_request = false;
  // --engine libvirt: the same VM as a transient libvirt domain on `libvirt_uri`.
  bool engine_libvirt = false;
  std::string libvirt_uri = "qemu:///system";
};

struct AttachOptions {
  std::string qmp;    // QEMU's QMP socket
  std::string agent;  // the agent's chardev socket ("" = none known yet)
  std::string libvirt_domain;  // --libvirt: a libvirt domain instead of a QMP socket
  std::string libvirt_uri;     // --connect ("" = memhpd's default, qemu:///system)
};

struct StatusOptions {
  bool refresh = true;  // ask the agent for a fresh inventory
};

struct StopOptions {
  uint32_t timeout_ms = 30'000;
};

struct QmpOptions {
  std::string command;         // the first word after `qmp`
  std::string arguments_json;  // the second, optional
  uint32_t timeout_ms = 10'000;
};

// Which blocks `online`/`offline` mean: exactly one of the three.
struct BlockSelectionOptions {
  std::vector<uint32_t> blocks;  // --blocks 40-47,50
  uint64_t range_start = 0;      // --range START:SIZE or START-END (cli_values.h sizes)
  uint64_t range_size = 0;
  int32_t node = -1;             // --node N --size BYTES
  uint64_t size = 0;
};

enum class ZoneChoice { kPolicy, kDefault, kKernel, kMovable };

struct BlockOpOptions {
  BlockSelectionOptions selection;
  ZoneChoice zone = ZoneChoice::kPolicy;  // online only
  uint32_t block_timeout_ms = 0;          // offline: per block; 0 = the agent's default
  bool all_or_nothing = false;            // offline only
};

// plug --size SIZE --node N [--id ID] [--zone ...] [--timeout DURATION]
struct PlugOptions {
  std::string device_id;  // "" = memhpd picks the first free dimmN
  uint64_t size = 0;      // required
  int32_t node = -1;      // required
  ZoneChoice zone = ZoneChoice::kPolicy;
  uint32_t timeout_ms = 0;  // 0 = memhpd's default
};

// unplug ID [--force] [--timeout DURATION] [--block-timeout DURATION]
struct UnplugOptions {
  std::string device_id;
  bool force = false;
  uint32_t timeout_ms = 0;
  uint32_t block_timeout_ms = 0;
  bool dry_run = false;  // only estimate (DryRunCommand); nothing changes
};

// resize ID --size SIZE [--offline-first] [--timeout DURATION]
struct ResizeOptions {
  std::string device_id;
  uint64_t size = 0;  // the requested size; 0 is valid (shrink to nothing) once --size is given
  bool size_given = false;
  bool offline_first = false;
  uint32_t timeout_ms = 0;
  bool dry_run = false;  // only estimate (DryRunCommand); nothing changes
};

// autoscale [ID] --min SIZE --max SIZE [--step SIZE] [--quiet-period DURATION] [--grow-psi PCT]
// [--grow-available PCT] | autoscale --off
struct AutoscaleOptions {
  std::string device_id;  // "" : memhpd takes the VM's first virtio-mem device
  uint64_t min = 0;
  bool min_given = false;
  uint64_t max = 0;
  bool max_given = false;
  uint64_t step = 0;           // 0: memhpd's default
  uint32_t quiet_ms = 0;       // 0: memhpd's default
  uint32_t grow_psi_pct = 0;   // 0: memhpd's default
  uint32_t grow_available_pct = 0;
  bool off = false;
};

// policy [--set NAME] [--ratio PCT]: without either, just read the policy.
struct PolicyOptions {
  std::string policy;          // "" = keep
  uint32_t ratio_percent = 0;  // 0 = keep
};

// watch [--no-replay]
struct WatchOptions {
  bool replay_recent = true;
};

// audit [--arm | --disarm]
struct AuditOptions {
  bool arm = false;
  bool disarm = false;
};

// blocks [-o LIST] [-b] [-r] [-n] [--split LIST] [-a] [--no-refresh]
struct BlocksOptions {
  ctl::BlocksViewOptions view;
  bool refresh = true;  // ask the agent for a fresh inventory
};

// timeline WATCH.jsonl -o FILE.svg
struct TimelineOptions {
  std::string input;   // a recorded `memhpctl --json watch`
  std::string output;  // the SVG; "-" for stdout
};

// scenario run FILE [-o REPORT.json] [--svg FILE.svg] | scenario compare A.json B.json
enum class ScenarioAction { kNone, kRun, kCompare };
struct ScenarioOptions {
  ScenarioAction action = ScenarioAction::kNone;
  std::vector<std::string> files;  // run: the scenario; compare: the two reports
  std::string output;              // run: where the JSON report goes ("" = none written)
  std::string svg;                 // run: the timeline of the watch events recorded meanwhile
};

// help [VERB], VERB --help
struct HelpOptions {
  std::optional<Verb> topic;  // nullopt: every verb, in one list
};

struct Command {
  Verb verb = Verb::kHelp;
  HelpOptions help;
  GlobalOptions global;
  LaunchOptions launch;
  AttachOptions attach;
  StatusOptions status;
  StopOptions stop;
  QmpOptions qmp;
  BlockOpOptions block_op;
  PlugOptions plug;
  UnplugOptions unplug;
  ResizeOptions resize;
  PolicyOptions policy;
  WatchOptions watch;
  AuditOptions audit;
  BlocksOptions blocks;
  TimelineOptions timeline;
  ScenarioOptions scenario;
  AutoscaleOptions autoscale;
};

struct ParseOutcome {
  std::optional<Command> command;
  std::string error;  // set when command is not
};

// args excludes argv[0].
[[nodiscard]] ParseOutcome ParseCommandLine(const std::vector<std::string>& args);

// `memhpctl help`: every verb with its summary, the global options, the exit codes (cli_help.cc).
[[nodiscard]] std::string UsageText();
// `memhpctl help VERB`, `memhpctl VERB --help`: its usage, summary and options (cli_help.cc).
[[nodiscard]] std::string VerbUsageText(Verb verb);

}  // namespace memhp::cli
