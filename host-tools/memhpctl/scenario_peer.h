// memhpctl — what `scenario run` gives the scenario runner (ctl/scenario_runner.h): memhpd's
// control socket of each VM (ControlClient), the VM's serial console for workloads
// (vm/console_shell.h), the real clocks; and the watch streams recorded while it runs, for the
// SVG (ctl/timeline_svg.h).
#pragma once

#include <atomic>
#include <csignal>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "ctl/scenario_runner.h"
#include "memhpctl/control_client.h"

namespace memhp::cli {

class CliScenarioPeer : public ctl::ScenarioPeer {
 public:
  explicit CliScenarioPeer(std::string state_root) : root_(std::move(state_root)) {}

  Result<memhp::v1::ControlResponse> Call(const std::string& vm, memhp::v1::ControlRequest request,
                                          std::chrono::milliseconds timeout) override;
  Result<std::string> Shell(const std::string& vm, const std::string& command, std::chrono::milliseconds timeout) override;
  void Sleep(std::chrono::milliseconds duration) override;
  uint64_t MonotonicNs() override;
  uint64_t UnixNs() override;

 private:
  std::string root_;
  std::map<std::string, std::unique_ptr<ControlClient>> clients_;  // one connection per VM
};

// `memhpctl watch` of several VMs at once, each on its own thread and connection, kept in
// memory (at most ctl::kMaxWatchEvents) until Stop.
class WatchRecorder {
 public:
  WatchRecorder(const std::string& state_root, const std::vector<std::string>& vms);
  ~WatchRecorder();
  WatchRecorder(const WatchRecorder&) = delete;
  WatchRecorder& operator=(const WatchRecorder&) = delete;

  // Ends every stream (within ControlClient::Stream's 200 ms check) and returns the events in
  // time order.
  [[nodiscard]] std::vector<memhp::v1::WatchEvent> Stop();
  // Streams that failed or ended before Stop, one line each.
  [[nodiscard]] std::vector<std::string> problems();

 private:
  std::mutex mutex_;
  std::vector<memhp::v1::WatchEvent> events_;
  std::vector<std::string> problems_;
  volatile std::sig_atomic_t stop_ = 0;
  std::vector<std::thread> threads_;
};

}  // namespace memhp::cli
