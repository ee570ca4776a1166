// memhpctl — the scenario runner's peer and the watch recorder (see scenario_peer.h).
#include "memhpctl/scenario_peer.h"

#include <algorithm>
#include <chrono>

#include "ctl/watch_stream.h"
#include "vm/console_shell.h"
#include "vm/state_dir.h"

namespace memhp::cli {

Result<memhp::v1::ControlResponse> CliScenarioPeer::Call(const std::string& vm, memhp::v1::ControlRequest request,
                                                         std::chrono::milliseconds timeout) {
  if (!vm::IsValidVmName(vm)) return Error::Invalid("'" + vm + "' is not a VM name");
  std::unique_ptr<ControlClient>& client = clients_[vm];
  if (!client) client = std::make_unique<ControlClient>(vm::StateDir::ForVm(root_, vm).control_socket());
  CallResult result = client->Call(std::move(request), timeout);
  if (!result.ok()) return Error{result.error().errno_value, "VM '" + vm + "': " + result.error().message, result.error().code};
  return result;
}

Result<std::string> CliScenarioPeer::Shell(const std::string& vm, const std::string& command,
                                           std::chrono::milliseconds timeout) {
  if (!vm::IsValidVmName(vm)) return Error::Invalid("'" + vm + "' is not a VM name");
  return vm::RunOnConsole(vm::StateDir::ForVm(root_, vm).console_socket(), command, timeout);
}

void CliScenarioPeer::Sleep(std::chrono::milliseconds duration) { std::this_thread::sleep_for(duration); }

uint64_t CliScenarioPeer::MonotonicNs() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count());
}

uint64_t CliScenarioPeer::UnixNs() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
}

WatchRecorder::WatchRecorder(const std::string& state_root, const std::vector<std::string>& vms) {
  for (const std::string& name : vms) {
    if (!vm::IsValidVmName(name)) continue;
    const std::string socket = vm::StateDir::ForVm(state_root, name).control_socket();
    threads_.emplace_back([this, socket] {
      ControlClient client(socket);
      memhp::v1::ControlRequest request;
      request.mutable_watch()->set_replay_recent(false);
      // A watch that cannot start or ends early leaves the SVG without (some of) this VM's
      // lanes: said in problems(), which the report carries.
      const ControlClient::StreamResult end = client.Stream(
          std::move(request),
          [this](const memhp::v1::ControlResponse& response) {
            if (!response.has_watch_event()) return !response.has_error();
            std::lock_guard<std::mutex> lock(mutex_);
            if (events_.size() >= ctl::kMaxWatchEvents) return false;
            events_.push_back(response.watch_event());
            return true;
          },
          &stop_);
      if (end.end == ControlClient::StreamEnd::kError || end.end == ControlClient::StreamEnd::kClosed) {
        std::lock_guard<std::mutex> lock(mutex_);
        problems_.push_back("watch " + socket + ": " + (end.message.empty() ? "closed" : end.message));
      }
    });
  }
}

WatchRecorder::~WatchRecorder() { (void)Stop(); }

std::vector<memhp::v1::WatchEvent> WatchRecorder::Stop() {
  stop_ = 1;
  for (std::thread& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
  std::lock_guard<std::mutex> lock(mutex_);
  std::stable_sort(events_.begin(), events_.end(), [](const auto& a, const auto& b) {
    return a.time_unix_ns() < b.time_unix_ns();
  });
  return events_;
}

std::vector<std::string> WatchRecorder::problems() {
  std::lock_guard<std::mutex> lock(mutex_);
  return problems_;
}

}  // namespace memhp::cli
