// memhp vm tests — the guest's serial console (see guest_console.h), through the host's own
// console client (host-tools/vm/console_shell.h).
#include "guest_console.h"

#include <chrono>

#include "vm/console_shell.h"

namespace memhp::vmtest {

std::string GuestRun(const std::string& console_socket, const std::string& command, int timeout_ms) {
  Result<std::string> out = vm::RunOnConsole(console_socket, command, std::chrono::milliseconds(timeout_ms));
  // "" is how the tests see "no answer" (guest_console.h).
  return out.ok() ? *out : std::string();
}

}  // namespace memhp::vmtest
