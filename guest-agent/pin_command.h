// memhp-agent pin — take a pin (S22) from a shell: `memhp-agent pin [--pins-dir DIR] SPEC
// [-- CMD ARGS...]`.
//
// SPEC is what the pin guard reads (handlers/pin_guard.h): "START-END" guest-physical hex, END
// inclusive, or "memoryN". The command creates DIR/SPEC, takes a shared flock(2) on it (shared:
// several users may pin the same range), and checks the path still names the file it locked —
// the guard removes pin files nobody holds, and one removed between our open() and flock()
// would pin nothing — retrying if not. Then it runs CMD and exits with CMD's status, or, with
// no CMD, holds the pin until SIGTERM/SIGINT. The pin ends when this process ends, however it
// ends (the kernel drops a flock with the last descriptor): a crashed user never pins for ever.
// The file is left for the guard to clean up (removing it could drop another holder's pin).
#pragma once

namespace memhp::agent {

// argv[0] is "pin". Returns the process exit status: CMD's, 0 after a signal without CMD,
// 2 for bad usage, 1 when the pin cannot be taken.
int RunPinCommand(int argc, char** argv);

}  // namespace memhp::agent
