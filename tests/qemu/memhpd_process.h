// memhpd_process — a real memhpd for the 'qemu' suite, attached to a QemuProcess's QMP socket.
//
// Start() spawns the memhpd binary ($MEMHPD) with --state-dir set to a folder holding qmp.sock
// (QemuProcess::dir() does) and waits for its "ready" line, as memhpctl attach does. The
// destructor ends it with SIGTERM (then SIGKILL) and reaps it. Kill() is SIGKILL, for the
// restart/reconcile tests. No agent is connected: memhpd keeps retrying DIR/agent.sock.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace memhp::qemu_test {

class MemhpdProcess {
 public:
  static std::unique_ptr<MemhpdProcess> Start(const std::string& state_dir, std::chrono::milliseconds timeout,
                                              std::string* error, const std::vector<std::string>& env = {});
  ~MemhpdProcess();
  MemhpdProcess(const MemhpdProcess&) = delete;
  MemhpdProcess& operator=(const MemhpdProcess&) = delete;

  [[nodiscard]] std::string control_socket() const { return state_dir_ + "/control.sock"; }
  [[nodiscard]] std::string journal() const { return state_dir_ + "/journal.jsonl"; }
  [[nodiscard]] std::string Log() const;
  // SIGTERM and reap (memhpd ends; QEMU, which it did not launch, keeps running).
  void Stop();

 private:
  MemhpdProcess() = default;
  pid_t pid_ = -1;
  std::string state_dir_;
};

}  // namespace memhp::qemu_test
