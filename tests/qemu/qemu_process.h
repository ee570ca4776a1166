// qemu_process — a real qemu-system-x86_64 for the 'qemu' test suite, owned like a value.
//
// Start() spawns QEMU (g_spawn, no shell) with its QMP monitor on a unix socket in a fresh
// temp folder, and waits until that socket is listening. The destructor kills QEMU (SIGKILL),
// reaps it and removes the folder, so no QEMU outlives a failed test; QEMU also gets SIGKILL
// if the test process dies first (PR_SET_PDEATHSIG). No guest OS is involved: tests pass -S
// and TCG, so /dev/kvm is never needed.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace memhp::qemu_test {

struct QemuExit {
  bool exited = false;  // false: killed by a signal
  int code = 0;         // exit code when exited; the signal otherwise
};

class QemuProcess {
 public:
  // The binary is $MEMHP_QEMU, else qemu-system-x86_64 from PATH. `args` come after the
  // binary; "-qmp unix:<dir>/qmp.sock,server=on,wait=off" is appended. nullptr and `error`
  // set when QEMU did not start or its QMP socket was not listening within `timeout`.
  static std::unique_ptr<QemuProcess> Start(const std::vector<std::string>& args,
                                            std::chrono::milliseconds timeout, std::string* error);

  ~QemuProcess();
  QemuProcess(const QemuProcess&) = delete;
  QemuProcess& operator=(const QemuProcess&) = delete;

  [[nodiscard]] pid_t pid() const { return pid_; }
  [[nodiscard]] const std::string& dir() const { return dir_; }
  [[nodiscard]] const std::string& qmp_socket_path() const { return qmp_path_; }

  // Waits for QEMU to end by itself; nullopt if it is still running after `timeout`.
  [[nodiscard]] std::optional<QemuExit> WaitForExit(std::chrono::milliseconds timeout);

  // QEMU's stdout and stderr so far (for failure messages).
  [[nodiscard]] std::string Log() const;

 private:
  QemuProcess() = default;
  bool WaitForQmpListening(std::chrono::milliseconds timeout, std::string* error);

  pid_t pid_ = -1;
  std::optional<QemuExit> exit_;
  std::string dir_;
  std::string qmp_path_;
  std::string log_path_;
};

// The base command line of the qemu suite: q35, TCG, paused (-S), no display, no default
// devices, 512M in 4 DIMM slots up to 8G, two 256M NUMA nodes, and one virtio-mem-pci device
// "vm0" on node 1 (2G max, 2M blocks), as in docs/test-vm.md.
[[nodiscard]] std::vector<std::string> BaseQemuArgs();

}  // namespace memhp::qemu_test
