// memhp vm tests — a workload in the guest that holds memory (the image's memhp-touch), for the
// tests that fill the guest before a shrink: started in the background of the console's shell,
// waited for by MemAvailable, and killed — by the test or, whatever happens, by the destructor.
#pragma once

#include <cstdint>

#include "shared_vm.h"

namespace memhp::vmtest {

// /proc/meminfo's MemAvailable in KiB, -1 when the console did not answer. The command line
// echoed back has no "MemAvailable:" (with the colon); kernel messages may interleave.
[[nodiscard]] int64_t GuestAvailableKib(const SharedVm& vm);

class GuestFill {
 public:
  // memhp-touch --mib MIB --seconds 900 in the background (output in /tmp/fill.out).
  GuestFill(const SharedVm& vm, int64_t mib);
  ~GuestFill();
  GuestFill(const GuestFill&) = delete;
  GuestFill& operator=(const GuestFill&) = delete;

  // > 0 once started.
  [[nodiscard]] long pid() const { return pid_; }
  // Polls until MemAvailable is below `kib`, at most `seconds`.
  [[nodiscard]] bool WaitAvailableBelow(int64_t kib, int seconds) const;
  // kill -9, then waits until the process is gone or a zombie: its memory is freed in exit_mm(),
  // before it becomes one. MemAvailable is no sign (a driver's retry may take the memory first).
  [[nodiscard]] bool Stop(int seconds);

 private:
  const SharedVm& vm_;
  long pid_ = -1;
};

}  // namespace memhp::vmtest
