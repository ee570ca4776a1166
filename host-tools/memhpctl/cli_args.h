// memhpctl — the command line, parsed into a Command value (no I/O here, so it is unit-tested).
//
//   memhpctl [--vm NAME] [--state-root DIR] [--json] VERB [options]
//
// Global options may stand before or after the verb; `--opt value` and `--opt=value` both work.
// Anything unknown, missing or out of range is a usage error with a message naming it; the CLI
// then exits with kExitUsage and changes nothing.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace memhp::cli {

// Documented exit codes (README, "memhpctl"): scripts branch on these.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;   // the operation failed or was refused
inline constexpr int kExitUsage = 2;    // bad command line: nothing was done
inline constexpr int kExitTimeout = 3;  // gave up waiting (or only part was done)

enum class Verb { kHelp, kVersion, kLaunch, kAttach, kStatus, kStop, kQmp, kOnline, kOffline, kEvents };

enum class Accel { kAuto, kKvm, kTcg };

struct GlobalOptions {
  std::string vm = "default";
  std::string state_root;  // "" = vm::DefaultStateRoot()
  bool json = false;
};

struct LaunchOptions {
  std::string kernel;   // "" = the cached Debian kernel
  std::string initrd;   // "" = the default image, built as needed
  Accel accel = Accel::kAuto;
  uint32_t boot_timeout_s = 0;  // 0 = 60 with KVM, 180 with TCG
  uint64_t memory_mib = 512;    // boot memory, split evenly over the nodes
  uint32_t nodes = 2;
  uint32_t slots = 8;
  uint64_t maxmem_mib = 16384;
  uint64_t virtio_mem_max_mib = 2048;  // per node
  std::string agent_args;  // passed to the guest agent (kernel command line)
};

struct AttachOptions {
  std::string qmp;    // QEMU's QMP socket
  std::string agent;  // the agent's chardev socket ("" = none known yet)
};

struct StatusOptions {
  bool refresh = true;  // ask the agent for a fresh inventory
};

struct StopOptions {
  uint32_t timeout_s = 30;
};

struct QmpOptions {
  std::string command;         // the first word after `qmp`
  std::string arguments_json;  // the second, optional
  uint32_t timeout_s = 10;
};

// Which blocks `online`/`offline` mean: exactly one of the three.
struct BlockSelectionOptions {
  std::vector<uint32_t> blocks;  // --blocks 40,41
  uint64_t range_start = 0;      // --range START:SIZE (bytes, K/M/G suffixes)
  uint64_t range_size = 0;
  int32_t node = -1;             // --node N --size BYTES
  uint64_t size = 0;
};

enum class ZoneChoice { kPolicy, kDefault, kKernel, kMovable };

struct BlockOpOptions {
  BlockSelectionOptions selection;
  ZoneChoice zone = ZoneChoice::kPolicy;  // online only
  uint32_t timeout_ms = 0;                // offline: per block; 0 = the agent's default
  bool all_or_nothing = false;            // offline only
};

struct Command {
  Verb verb = Verb::kHelp;
  GlobalOptions global;
  LaunchOptions launch;
  AttachOptions attach;
  StatusOptions status;
  StopOptions stop;
  QmpOptions qmp;
  BlockOpOptions block_op;
};

// "256M" -> 268435456; K, M, G, T binary suffixes; nullopt for anything else.
[[nodiscard]] std::optional<uint64_t> ParseSize(const std::string& text);

struct ParseOutcome {
  std::optional<Command> command;
  std::string error;  // set when command is not
};

// args excludes argv[0].
[[nodiscard]] ParseOutcome ParseCommandLine(const std::vector<std::string>& args);

[[nodiscard]] std::string UsageText();

}  // namespace memhp::cli
