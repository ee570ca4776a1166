// memhp vm tests — the guest's serial console: a root shell (busybox) on console.sock.
//
// Tests use it for what only the guest can do: the kernel's own fault injection
// (debugfs notifier-error-inject), reading sysfs directly to check the agent's reports.
// Each command is followed by an echo of a marker of its own, written so the echoed command
// line does not contain it ("__MEMHP_""DONE_<nonce>__"), and the output is read up to it.
#pragma once

#include <string>

namespace memhp::vmtest {

// Runs `command` in the guest shell; returns what it printed (the echoed command line and
// kernel messages included), or "" when the console did not answer within `timeout_ms`.
[[nodiscard]] std::string GuestRun(const std::string& console_socket, const std::string& command,
                                   int timeout_ms = 10000);

}  // namespace memhp::vmtest
