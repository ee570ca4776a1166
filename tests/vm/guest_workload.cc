// memhp vm tests — GuestFill (see guest_workload.h).
#include "guest_workload.h"

#include <glib.h>

#include <cstdlib>
#include <string>

namespace memhp::vmtest {

int64_t GuestAvailableKib(const SharedVm& vm) {
  const std::string out = vm.Guest("grep MemAvailable /proc/meminfo");
  const size_t at = out.find("MemAvailable:");
  return at == std::string::npos ? -1ll : std::atoll(out.c_str() + at + 13);
}

GuestFill::GuestFill(const SharedVm& vm, int64_t mib) : vm_(vm) {
  const std::string started = vm_.Guest("memhp-touch --mib " + std::to_string(mib) +
                                        " --seconds 900 >/tmp/fill.out 2>&1 & echo \"fill\"\"pid\" $!");
  const size_t at = started.find("fillpid ");
  if (at != std::string::npos) pid_ = std::atol(started.c_str() + at + 8);
}

GuestFill::~GuestFill() {
  if (pid_ > 0) (void)vm_.Guest("kill -9 " + std::to_string(pid_) + " 2>/dev/null");
}

bool GuestFill::WaitAvailableBelow(int64_t kib, int seconds) const {
  for (int i = 0; i < seconds; ++i) {
    const int64_t now = GuestAvailableKib(vm_);
    if (now >= 0 && now < kib) return true;
    g_usleep(1000 * 1000);
  }
  return false;
}

bool GuestFill::Stop(int seconds) {
  if (pid_ <= 0) return true;
  (void)vm_.Guest("kill -9 " + std::to_string(pid_));
  const std::string proc = "/proc/" + std::to_string(pid_) + "/status";
  for (int i = 0; i < seconds; ++i) {
    const std::string out = vm_.Guest("grep State: " + proc + " 2>/dev/null || echo gone\"\"X");
    if (out.find("goneX") != std::string::npos || out.find("(zombie)") != std::string::npos) {
      pid_ = -1;
      return true;
    }
    g_usleep(1000 * 1000);
  }
  return false;
}

}  // namespace memhp::vmtest
