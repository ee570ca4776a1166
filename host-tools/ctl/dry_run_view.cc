// dry_run_view — see dry_run_view.h.
#include "ctl/dry_run_view.h"

#include "ctl/status_view.h"
#include "ctl/scols_table.h"

namespace memhp::ctl {
namespace {

void AppendEstimate(std::string& out, const char* title, const memhp::v1::UnplugEstimate& e) {
  out += title;
  out += "\n";
  ScolsTable table = ScolsTable::WithHeadings({"BLOCK", "ZONE", "NODE", "DEVICE", "VERDICT", "WHY"});
  for (const auto& b : e.blocks()) {
    table.AddRow({std::to_string(b.block()), std::string(FormatZone(b.zone())),
               b.node() < 0 ? "-" : std::to_string(b.node()), b.device_id().empty() ? "-" : b.device_id(),
               std::string(FormatVerdict(b.verdict())), b.reason()});
  }
  out += table.Text(SectionStyle());
  out += "  could go " + FormatBytes(e.could_go_bytes()) + ", blocked " + FormatBytes(e.blocked_bytes()) +
         "; MemAvailable " + FormatBytes(e.mem_available_bytes()) + ", free " + FormatBytes(e.free_bytes()) +
         " (Movable " + FormatBytes(e.movable_free_bytes()) + ")";
  if (e.reserve_bytes() != 0) out += ", reserve " + FormatBytes(e.reserve_bytes());
  out += "\n";
  if (e.hooks_size() > 0) {
    std::string hooks;
    for (const auto& h : e.hooks()) hooks += (hooks.empty() ? "" : ", ") + h;
    out += "  hook scripts would be asked at GOING_OFFLINE (not run by a dry run, so not foreseen): " + hooks + "\n";
  }
}

}  // namespace

std::string_view FormatVerdict(memhp::v1::EstimateVerdict verdict) {
  switch (verdict) {
    case memhp::v1::ESTIMATE_VERDICT_WOULD_GO: return "would-go";
    case memhp::v1::ESTIMATE_VERDICT_ALREADY_OFFLINE: return "already-offline";
    case memhp::v1::ESTIMATE_VERDICT_PINNED: return "pinned";
    case memhp::v1::ESTIMATE_VERDICT_RESERVE: return "reserve";
    case memhp::v1::ESTIMATE_VERDICT_NO_ROOM: return "no-room";
    case memhp::v1::ESTIMATE_VERDICT_KERNEL_ZONE: return "kernel-zone";
    case memhp::v1::ESTIMATE_VERDICT_NOT_FOUND: return "not-found";
    case memhp::v1::ESTIMATE_VERDICT_SKIPPED: return "skipped";
    case memhp::v1::ESTIMATE_VERDICT_BUSY: return "busy";
    default: break;
  }
  return "unknown";
}

std::string RenderDryRunText(const memhp::v1::DryRunResult& r) {
  std::string out = r.detail() + " (dry run: nothing was changed)\n";
  if (r.has_estimate()) {
    AppendEstimate(out,
                   r.kind() == memhp::v1::OPERATION_KIND_RESIZE
                       ? "the virtio-mem driver's unplug, highest block first (pins, the reserve and hooks do not "
                         "hold it back):"
                       : "the agent's all-or-nothing offline:",
                   r.estimate());
  }
  if (r.has_offline_first()) {
    AppendEstimate(out, "--offline-first: the agent's offline before the driver:", r.offline_first());
  }
  return out;
}

int DryRunExitCode(const memhp::v1::DryRunResult& r) {
  if (r.would_complete()) return 0;
  return r.kind() == memhp::v1::OPERATION_KIND_UNPLUG ? 1 : 3;
}

}  // namespace memhp::ctl
