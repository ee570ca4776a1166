// operation_view (see operation_view.h).
#include "ctl/operation_view.h"

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <set>
#include <vector>

#include "ctl/status_view.h"
#include "ctl/terminal_text.h"
#include "ctl/scols_table.h"
#include "memhpctl/cli_args.h"

namespace memhp::ctl {
namespace {

using memhp::v1::BlockResult;
using memhp::v1::OperationResult;

std::string Hex(uint64_t value) {
  char buffer[24];
  std::snprintf(buffer, sizeof buffer, "0x%" PRIx64, value);
  return buffer;
}

const char* VerbOf(memhp::v1::OperationKind kind) {
  switch (kind) {
    case memhp::v1::OPERATION_KIND_PLUG: return "plug";
    case memhp::v1::OPERATION_KIND_UNPLUG: return "unplug";
    case memhp::v1::OPERATION_KIND_RESIZE: return "resize";
    default: return "operation";
  }
}

const char* PastTenseOf(memhp::v1::OperationKind kind) {
  switch (kind) {
    case memhp::v1::OPERATION_KIND_PLUG: return "plugged";
    case memhp::v1::OPERATION_KIND_UNPLUG: return "unplugged";
    case memhp::v1::OPERATION_KIND_RESIZE: return "resized";
    default: return "done";
  }
}

// An enum value's name without its prefix: ("BLOCK_OUTCOME_DONE", "BLOCK_OUTCOME_") -> "DONE".
std::string Short(const std::string& name, std::string_view prefix) {
  return name.rfind(prefix, 0) == 0 ? name.substr(prefix.size()) : name;
}

bool IsOnline(const BlockResult& b) {
  return b.outcome() == memhp::v1::BLOCK_OUTCOME_DONE || b.outcome() == memhp::v1::BLOCK_OUTCOME_ALREADY;
}

// Why a block said no, for the headline: "block 37 busy (EBUSY)", "block 37 vetoed by hooks".
std::string BlockRefusal(const BlockResult& b) {
  const std::string block = "block " + std::to_string(b.block());
  switch (b.outcome()) {
    case memhp::v1::BLOCK_OUTCOME_VETOED:
      return block + " vetoed" + (b.vetoed_by().empty() ? "" : " by " + b.vetoed_by());
    case memhp::v1::BLOCK_OUTCOME_TIMED_OUT:
      return block + " did not finish in time";
    case memhp::v1::BLOCK_OUTCOME_FAILED: {
      if (b.errno_value() == EBUSY) return block + " busy (EBUSY)";
      if (b.errno_value() == 0) return block + " failed" + (b.detail().empty() ? "" : ": " + b.detail());
      return block + ": " + std::strerror(b.errno_value()) + " (" + FormatErrno(b.errno_value()) + ")";
    }
    default:
      return "";
  }
}

// The detail memhpd gave, else the first block that refused, else "".
std::string Reason(const OperationResult& r) {
  if (!r.detail().empty()) return r.detail();
  for (const BlockResult& b : r.blocks()) {
    if (std::string why = BlockRefusal(b); !why.empty()) return why;
  }
  if (r.has_error() && !r.error().message().empty()) return r.error().message();
  return "";
}

// Whether a reason already ends by saying that nothing changed.
bool SaysNothingChanged(std::string_view why) {
  constexpr std::string_view kNothingChanged = "nothing changed";
  return why.size() >= kNothingChanged.size() && why.substr(why.size() - kNothingChanged.size()) == kNothingChanged;
}

// Whether the blocks answered an offline: an unplug, or a shrink that offlined first (memhpd's
// "offline" step; a grow has an "online" step instead).
bool BlocksWentOffline(const OperationResult& r) {
  if (r.kind() == memhp::v1::OPERATION_KIND_UNPLUG) return true;
  if (r.kind() != memhp::v1::OPERATION_KIND_RESIZE) return false;
  for (const memhp::v1::OperationStep& step : r.steps()) {
    if (step.name() == "offline") return true;
  }
  return false;
}

// ", 2 blocks online in Movable" (plug, grow) or ", 2 blocks offlined" (unplug, shrink);
// "" with no block answers.
std::string BlocksPhrase(const OperationResult& r) {
  if (r.blocks_size() == 0) return "";
  int online = 0;
  std::set<std::string> zones;
  for (const BlockResult& b : r.blocks()) {
    if (!IsOnline(b)) continue;
    ++online;
    if (b.zone() != memhp::v1::ZONE_UNSPECIFIED) zones.insert(std::string(FormatZone(b.zone())));
  }
  const std::string of = online == r.blocks_size() ? std::to_string(online)
                                                   : std::to_string(online) + " of " + std::to_string(r.blocks_size());
  const std::string noun = r.blocks_size() == 1 ? " block" : " blocks";
  if (BlocksWentOffline(r)) return ", " + of + noun + " offlined";
  std::string phrase = ", " + of + noun + " online";
  if (!zones.empty()) {
    std::string joined;
    for (const auto& z : zones) joined += (joined.empty() ? "" : "+") + z;
    phrase += " in " + joined;
  }
  return phrase;
}

std::string Device(const OperationResult& r) { return r.device_id().empty() ? "(no device)" : r.device_id(); }

std::string NodePhrase(const OperationResult& r, const char* preposition) {
  return r.node() >= 0 ? std::string(" ") + preposition + " node " + std::to_string(r.node()) : "";
}

}  // namespace

int OperationExitCode(memhp::v1::OperationOutcome outcome) {
  switch (outcome) {
    case memhp::v1::OPERATION_OUTCOME_DONE: return cli::kExitOk;
    case memhp::v1::OPERATION_OUTCOME_TIMED_OUT:
    case memhp::v1::OPERATION_OUTCOME_PARTIAL: return cli::kExitTimeout;
    default: return cli::kExitFailed;
  }
}

int ErrorExitCode(memhp::v1::ErrorCode code) {
  return code == memhp::v1::ERROR_CODE_TIMEOUT ? cli::kExitTimeout : cli::kExitFailed;
}

std::string FormatDurationUs(uint64_t us) {
  char buffer[32];
  if (us < 10'000) std::snprintf(buffer, sizeof buffer, "%.1f ms", static_cast<double>(us) / 1e3);
  else if (us < 1'000'000) std::snprintf(buffer, sizeof buffer, "%.0f ms", static_cast<double>(us) / 1e3);
  else std::snprintf(buffer, sizeof buffer, "%.1f s", static_cast<double>(us) / 1e6);
  return buffer;
}

std::string FormatErrno(int errno_value) {
  if (errno_value == 0) return "";
  if (const char* name = strerrorname_np(errno_value)) return name;
  return "errno " + std::to_string(errno_value);
}

std::string RenderOperationHeadline(const OperationResult& r) {
  const std::string verb = VerbOf(r.kind());
  const std::string took = ", " + FormatDurationUs(r.duration_us());
  const std::string why = Reason(r);
  // A refusal changed nothing, in the guest either; otherwise say when the guest was not asked.
  const std::string unknown_guest = r.guest_side_known() || r.outcome() == memhp::v1::OPERATION_OUTCOME_REFUSED
                                        ? ""
                                        : " (guest side unknown: no agent)";
  const std::string recovered = r.recovered() ? " (finished by a restarted memhpd)" : "";
  std::string line;
  switch (r.outcome()) {
    case memhp::v1::OPERATION_OUTCOME_DONE:
      line = std::string(PastTenseOf(r.kind())) + " " + Device(r) + ": ";
      if (r.kind() == memhp::v1::OPERATION_KIND_PLUG) {
        line += FormatBytes(r.size_reached() ? r.size_reached() : r.size_requested()) + NodePhrase(r, "on") +
                (r.address() ? " at " + Hex(r.address()) : "");
      } else if (r.kind() == memhp::v1::OPERATION_KIND_UNPLUG) {
        line += FormatBytes(r.size_requested()) + NodePhrase(r, "from");
      } else {
        line += FormatBytes(r.size_reached()) + NodePhrase(r, "on") + " (asked " + FormatBytes(r.size_requested()) + ")";
      }
      line += BlocksPhrase(r) + took;
      break;
    case memhp::v1::OPERATION_OUTCOME_REFUSED:
      // REFUSED means nothing changed (docs/operations.md); memhpd's own reason may already say
      // so ("...; nothing changed", unplug_machine.cc), and then the headline does not repeat it.
      line = verb + " refused: " + (why.empty() ? "no reason given" : why) +
             (SaysNothingChanged(why) ? "" : " \xE2\x80\x94 nothing changed");
      break;
    case memhp::v1::OPERATION_OUTCOME_PARTIAL:
      line = verb + " " + Device(r) + " partly done: " + FormatBytes(r.size_reached()) + " of " +
             FormatBytes(r.size_requested()) + NodePhrase(r, "on") + BlocksPhrase(r) + took +
             (why.empty() ? "" : " \xE2\x80\x94 " + why);
      break;
    case memhp::v1::OPERATION_OUTCOME_TIMED_OUT:
      line = verb + " " + Device(r) + " timed out after " + FormatDurationUs(r.duration_us()) + " at " +
             FormatBytes(r.size_reached()) + " of " + FormatBytes(r.size_requested()) +
             (why.empty() ? "" : " \xE2\x80\x94 " + why);
      break;
    case memhp::v1::OPERATION_OUTCOME_FAILED:
      line = verb + " " + Device(r) + " failed: " + (why.empty() ? "no reason given" : why);
      break;
    default:
      line = verb + " " + Device(r) + ": outcome unknown (" + memhp::v1::OperationOutcome_Name(r.outcome()) + ")";
      break;
  }
  return line + unknown_guest + recovered;
}

std::string RenderOperationText(const OperationResult& r) {
  // The headline quotes memhpd's reason, which may quote the guest: one line, escaped.
  std::string out = EscapeForTerminal(RenderOperationHeadline(r), Newlines::kEscape) + "\n";
  if (r.blocks_size() > 0) {
    ScolsTable table = ScolsTable::WithHeadings({"BLOCK", "OUTCOME", "ZONE", "NODE", "ERRNO", "TIME", "DETAIL"});
    for (const BlockResult& b : r.blocks()) {
      std::string detail = b.vetoed_by().empty() ? b.detail() : "vetoed by " + b.vetoed_by() +
                                                                    (b.detail().empty() ? "" : ": " + b.detail());
      table.AddRow({std::to_string(b.block()), Short(memhp::v1::BlockOutcome_Name(b.outcome()), "BLOCK_OUTCOME_"),
                 std::string(FormatZone(b.zone())), b.node() < 0 ? "-" : std::to_string(b.node()),
                 b.errno_value() ? FormatErrno(b.errno_value()) : "-",
                 b.duration_us() ? FormatDurationUs(b.duration_us()) : "-",  // 0: not measured
                 detail.empty() ? "-" : detail});
    }
    out += "blocks\n";
    out += table.Text(SectionStyle());
  }
  if (r.steps_size() > 0) {
    ScolsTable table = ScolsTable::WithHeadings({"STEP", "OK", "TIME", "DETAIL"});
    for (const memhp::v1::OperationStep& step : r.steps()) {
      table.AddRow({step.name(), step.ok() ? "yes" : "no", FormatDurationUs(step.duration_us()),
                 step.detail().empty() ? "-" : step.detail()});
    }
    out += "steps\n";
    out += table.Text(SectionStyle());
  }
  if (r.has_error() && !r.error().message().empty()) {
    out += "error: " + Short(memhp::v1::ErrorCode_Name(r.error().code()), "ERROR_CODE_") + ": " +
           EscapeForTerminal(r.error().message(), Newlines::kEscape) +
           (r.error().errno_value() ? " (" + FormatErrno(r.error().errno_value()) + ")" : "") + "\n";
  }
  return out;
}

std::string RenderProgressLine(std::string_view verb, std::string_view device,
                               const memhp::v1::OperationProgress& p, double elapsed_s) {
  std::string line(verb);
  if (!device.empty()) line += " " + std::string(device);
  line += ":";
  if (p.queued_behind() > 0) {
    line += " waiting behind " + std::to_string(p.queued_behind()) +
            (p.queued_behind() == 1 ? " operation" : " operations");
  } else if (!p.step().empty()) {
    line += " " + p.step();
  }
  if (!p.detail().empty()) line += " " + p.detail();
  if (p.total_bytes() > 0) line += " (" + FormatBytes(p.done_bytes()) + " of " + FormatBytes(p.total_bytes()) + ")";
  char took[32];
  std::snprintf(took, sizeof took, " %.1f s", elapsed_s);
  return line + took;
}

}  // namespace memhp::ctl
