// memhp vm tests — one launched VM shared by a whole test suite.
//
// A TCG boot costs 11–28 s, so each vm suite launches its VM once (SetUpTestSuite) in its own
// temp state root and the tests build on it in declaration order. SharedVm owns that root, the
// Memhpctl bound to it and the launch result; it stops the VM when destroyed (TearDownTestSuite)
// and expects the stop to succeed. SharedVmTest<Suite> is the gtest fixture around it: a suite
// derives from it and names its VM in `static constexpr char kVm[]`.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "memhpctl_runner.h"

namespace memhp::vmtest {

class SharedVm {
 public:
  // Runs `memhpctl --vm <name> launch <launch_args...>` in a fresh state root.
  explicit SharedVm(std::string name, const std::vector<std::string>& launch_args = {});
  // Stops the VM unless Stop() already did, expecting exit code 0.
  ~SharedVm();
  SharedVm(const SharedVm&) = delete;
  SharedVm& operator=(const SharedVm&) = delete;

  [[nodiscard]] const CliRun& launch() const { return launch_; }
  [[nodiscard]] const std::string& root() const { return ctl_.state_root(); }
  [[nodiscard]] const std::string& name() const { return name_; }
  // The VM's state folder, <root>/<name>, and its guest serial console socket in it.
  [[nodiscard]] std::string Dir() const { return root() + "/" + name_; }
  [[nodiscard]] std::string Console() const { return Dir() + "/console.sock"; }

  // `args` with `--vm <name>` in front.
  [[nodiscard]] std::vector<std::string> WithVm(std::vector<std::string> args) const;
  // memhpctl --state-root <root> --vm <name> <args...>
  [[nodiscard]] CliRun Ctl(std::vector<std::string> args) const;
  // A command in the guest's root shell (guest_console.h).
  std::string Guest(const std::string& command, int timeout_ms = 10000) const;
  // Waits until the guest's console shell answers, at most `seconds`. The agent's hello can
  // come before the shell: on the systemd guest, serial-getty's autologin starts after the
  // udev-started agent, and agetty flushes what was typed before it ran.
  [[nodiscard]] bool WaitForConsole(int seconds) const;
  // Polls `status` until the agent's inventory has every 128 MiB block (the guest's block
  // size, docs/test-vm.md) of [start, start + size) online, or `seconds` are up.
  [[nodiscard]] bool WaitOnline(int64_t start, int64_t size, int seconds) const;
  // `memhpctl stop` now, for tests that stop the VM themselves; once it succeeded, the
  // destructor does not stop again.
  CliRun Stop();
  // For a test that ended the VM another way (its libvirt domain destroyed): the destructor
  // does not stop it.
  void Ended() { stopped_ = true; }

 private:
  std::string name_;
  Memhpctl ctl_;
  CliRun launch_;
  bool stopped_ = false;
};

// The fixture of a suite sharing one VM: `class Hotplug : public SharedVmTest<Hotplug>` with
// `static constexpr char kVm[] = "hp";` and, when the launch needs more, a static
// `std::vector<std::string> LaunchArgs()` (e.g. {"--audit"}). Every test first asserts that
// the launch succeeded.
template <class Suite>
class SharedVmTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { vm_ = new SharedVm(Suite::kVm, Suite::LaunchArgs()); }
  static void TearDownTestSuite() {
    delete vm_;
    vm_ = nullptr;
  }
  void SetUp() override { ASSERT_EQ(vm_->launch().exit_code, 0) << vm_->launch().out << vm_->launch().err; }

  static std::vector<std::string> LaunchArgs() { return {}; }
  static CliRun Ctl(std::vector<std::string> args) { return vm_->Ctl(std::move(args)); }
  static std::string Console() { return vm_->Console(); }
  static std::string Guest(const std::string& command, int timeout_ms = 10000) {
    return vm_->Guest(command, timeout_ms);
  }
  static bool WaitOnline(int64_t start, int64_t size, int seconds) { return vm_->WaitOnline(start, size, seconds); }

  static inline SharedVm* vm_ = nullptr;
};

}  // namespace memhp::vmtest
