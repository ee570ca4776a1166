// memhp vm tests — one launched VM shared by a whole test suite.
#include "shared_vm.h"

#include <glib.h>

#include <utility>

#include "guest_console.h"

namespace memhp::vmtest {

namespace {

std::vector<std::string> LaunchCommand(const std::string& name, const std::vector<std::string>& launch_args) {
  std::vector<std::string> args = {"--vm", name, "launch"};
  args.insert(args.end(), launch_args.begin(), launch_args.end());
  return args;
}

}  // namespace

SharedVm::SharedVm(std::string name, const std::vector<std::string>& launch_args)
    : name_(std::move(name)), ctl_(MakeStateRoot()), launch_(ctl_.Run(LaunchCommand(name_, launch_args))) {}

SharedVm::~SharedVm() {
  if (stopped_) return;
  CliRun stop = Stop();
  EXPECT_EQ(stop.exit_code, 0) << stop.err;
}

std::vector<std::string> SharedVm::WithVm(std::vector<std::string> args) const {
  args.insert(args.begin(), {"--vm", name_});
  return args;
}

CliRun SharedVm::Ctl(std::vector<std::string> args) const { return ctl_.Run(WithVm(std::move(args))); }

std::string SharedVm::Guest(const std::string& command, int timeout_ms) const {
  return GuestRun(Console(), command, timeout_ms);
}

bool SharedVm::WaitForConsole(int seconds) const {
  // Each try gives the shell 1 s to answer; a try typed before the shell existed is lost, so
  // the next one is typed again.
  for (int i = 0; i < seconds; ++i) {
    if (!GuestRun(Console(), "true", 1000).empty()) return true;
  }
  return false;
}

bool SharedVm::WaitOnline(int64_t start, int64_t size, int seconds) const {
  constexpr int64_t kBlock = 128ll << 20;
  for (int i = 0; i < seconds * 4; ++i) {
    Json s = ResultOf(Ctl({"--json", "status"}));
    int online = 0;
    for (size_t b = 0; b < s.Length("agent.inventory.blocks"); ++b) {
      const std::string p = "agent.inventory.blocks." + std::to_string(b);
      const int64_t addr = s.Int(p + ".start_address");
      if (addr >= start && addr < start + size && s.String(p + ".state") == "BLOCK_STATE_ONLINE") ++online;
    }
    if (online == size / kBlock) return true;
    g_usleep(250 * 1000);
  }
  return false;
}

CliRun SharedVm::Stop() {
  CliRun stop = Ctl({"stop"});
  // A failed stop leaves the VM to the destructor, which tries again and reports it.
  stopped_ = stop.exit_code == 0;
  return stop;
}

}  // namespace memhp::vmtest
