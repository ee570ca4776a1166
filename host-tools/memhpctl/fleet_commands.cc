// memhpctl — the verbs over every VM of a state root: list, and --all status. Each VM's memhpd
// is asked in turn with a short deadline, so one hung memhpd costs the listing seconds, not
// minutes, and is shown as "not answering".
#include <chrono>
#include <string>
#include <vector>

#include "ctl/fleet_view.h"
#include "memhpctl/cli_call.h"
#include "memhpctl/commands.h"
#include "memhpctl/control_client.h"
#include "vm/state_dir.h"

namespace memhp::cli {
namespace {

using namespace std::chrono_literals;

std::vector<ctl::FleetEntry> AskEveryVm(const Command& command, bool refresh) {
  const std::string root = command.global.state_root.empty() ? vm::DefaultStateRoot() : command.global.state_root;
  std::vector<ctl::FleetEntry> entries;
  for (const std::string& name : vm::ListVmNames(root)) {
    const vm::StateDir state = vm::StateDir::ForVm(root, name);
    ctl::FleetEntry entry{.name = name,
                          .memhpd_pid = vm::ReadLivePid(state.memhpd_pidfile()),
                          .qemu_pid = vm::ReadLivePid(state.qemu_pidfile()),
                          .status = std::nullopt,
                          .error = ""};
    if (entry.memhpd_pid) {
      ControlClient client(state.control_socket());
      memhp::v1::ControlRequest request;
      request.mutable_status()->set_refresh_inventory(refresh);
      CallResult result = client.Call(request, refresh ? 10s : 3s);
      if (!result.ok()) {
        entry.error = result.error().message;
      } else if (result.value().has_error()) {
        entry.error = result.value().error().message();
      } else if (result.value().has_status()) {
        entry.status = result.value().status();
      } else {
        entry.error = "memhpd answered something other than a status";
      }
    }
    entries.push_back(std::move(entry));
  }
  return entries;
}

}  // namespace

int RunList(const Command& command) {
  const std::vector<ctl::FleetEntry> entries = AskEveryVm(command, /*refresh=*/false);
  return PrintAnswer(command, kExitOk, ctl::RenderFleetText(entries), ctl::RenderFleetJson(entries));
}

int RunStatusAll(const Command& command) {
  const std::vector<ctl::FleetEntry> entries = AskEveryVm(command, command.status.refresh);
  // Every VM is shown; the exit code says whether each running memhpd answered. A VM that is
  // stopped is no failure: it is listed as stopped.
  size_t silent = 0;
  for (const ctl::FleetEntry& e : entries) silent += e.memhpd_pid && !e.status ? 1 : 0;
  const std::string error = silent ? std::to_string(silent) + " of " + std::to_string(entries.size()) +
                                         " VMs' memhpd did not answer"
                                   : "";
  return PrintAnswer(command, silent ? kExitFailed : kExitOk, ctl::RenderAllStatusText(entries),
                     ctl::RenderAllStatusJson(entries), error);
}

}  // namespace memhp::cli
