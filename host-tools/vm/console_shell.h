// console_shell — one command in the shell on a memhp-launched VM's serial console
// (STATE/VM/console.sock, a unix socket QEMU serves with `-chardev socket,server=on`).
//
// The console is the only way memhp has to run a program in the guest: the agent's protocol
// carries no "exec" on purpose. The images memhp builds put a root shell there (busybox's, or
// the Debian image's serial-getty autologin); a VM launched any other way has no such shell.
// Each command is followed by an echo of a marker of its own, written so the echoed command
// line does not contain it, and the output is read up to that marker: a command typed before the
// shell ran (while the console still waits for its login) runs later, and its marker must not
// end a later call's read. What the guest prints is bounded (kMaxConsoleOutput).
#pragma once

#include <chrono>
#include <string>

#include "base/result.h"

namespace memhp::vm {

inline constexpr size_t kMaxConsoleOutput = size_t{1} << 20;

// Runs `command`; returns what the console printed up to and with the marker (the echoed
// command line and kernel messages included; never empty), or an Error: the socket failed
// (errno), nothing ended within `timeout` (ETIMEDOUT), or the guest printed more than
// kMaxConsoleOutput (EFBIG).
[[nodiscard]] Result<std::string> RunOnConsole(const std::string& console_socket, const std::string& command,
                                               std::chrono::milliseconds timeout);

}  // namespace memhp::vm
