// memhp launcher — running the helper programs a launch needs, and starting daemons.
//
// Two shapes only: run a program to completion and keep what it printed (QEMU with -daemonize
// exits once its sockets listen; the image scripts print the path they made), and start a
// daemon in its own session that reports readiness on a pipe (memhpd prints "ready").
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace memhp::launcher {

struct RunResult {
  int exit_code = -1;   // -1: could not start, or killed by a signal
  std::string out;      // stdout
  std::string err;      // stderr (or why it could not start)
};

// Runs argv[0] (searched in PATH) and waits for it.
[[nodiscard]] RunResult RunCapture(const std::vector<std::string>& argv);

struct DaemonStart {
  bool ready = false;
  long pid = 0;
  std::string why;  // when not ready
};

// Starts argv in a new session with stdin from /dev/null and stderr appended to `log_path`,
// then waits up to `timeout` for it to print "ready" on stdout. A daemon that exits or stays
// silent is reported with why; the caller reads the log for details.
[[nodiscard]] DaemonStart StartDaemon(const std::vector<std::string>& argv,
                                      const std::string& log_path,
                                      std::chrono::milliseconds timeout);

// Sends SIGTERM, waits up to `grace` for the process to go, then SIGKILL. True when it is gone
// (or was never there: pid 0); false leaves a process the caller must name in its failure.
[[nodiscard]] bool TerminateProcess(long pid, std::chrono::milliseconds grace);

// True when `pid` names a living process (a zombie child of ours counts as gone).
[[nodiscard]] bool ProcessAlive(long pid);

}  // namespace memhp::launcher
