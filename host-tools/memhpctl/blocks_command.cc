// memhpctl — `blocks`: every guest memory block as lsmem(1) shows it (ctl/blocks_view.h), from
// memhpd's status: the agent's inventory (fresh unless --no-refresh) and QEMU's devices.
#include <chrono>
#include <string>

#include "ctl/blocks_view.h"
#include "memhpctl/cli_call.h"
#include "memhpctl/commands.h"

namespace memhp::cli {

int RunBlocks(const Command& command) {
  memhp::v1::ControlRequest request;
  request.mutable_status()->set_refresh_inventory(command.blocks.refresh);
  memhp::v1::ControlResponse response;
  if (const int code = CallMemhpd(command, std::move(request), std::chrono::seconds(15), &response); code != kExitOk) {
    return code;
  }
  if (!response.has_status()) return Fail(command, kExitFailed, "memhpd answered without a status");
  const Result<ctl::BlocksReport> report = ctl::BuildBlocksReport(response.status(), command.blocks.view);
  if (!report.ok()) return Fail(command, kExitFailed, "VM '" + command.global.vm + "': " + report.error().message);
  if (command.global.json) return PrintAnswer(command, kExitOk, "", ctl::RenderBlocksJson(*report, command.blocks.view));
  return PrintAnswer(command, kExitOk, ctl::RenderBlocksText(*report, command.blocks.view), "");
}

}  // namespace memhp::cli
