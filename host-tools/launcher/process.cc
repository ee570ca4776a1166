// memhp launcher — running programs and starting daemons (see process.h).
#include "launcher/process.h"

#include <fcntl.h>
#include <glib.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "base/unique_fd.h"
#include "vm/state_dir.h"

namespace memhp::launcher {
namespace {

std::vector<char*> CArgv(const std::vector<std::string>& argv) {
  std::vector<char*> out;
  for (const std::string& a : argv) out.push_back(const_cast<char*>(a.c_str()));
  out.push_back(nullptr);
  return out;
}

// In a forked child that cannot become the daemon: why, to the log, and the exec-failure status.
// Nothing allocates here (errno is the failed call's; the child of a fork should not malloc).
[[noreturn]] void ChildFails(int log_fd, const char* what, const char* argument = "") {
  const int err = errno;
  dprintf(log_fd, "%s%s: %s\n", what, argument, std::strerror(err));
  _exit(127);
}

}  // namespace

RunResult RunCapture(const std::vector<std::string>& argv) {
  RunResult result;
  g_autofree gchar* out = nullptr;
  g_autofree gchar* err = nullptr;
  gint status = 0;
  g_autoptr(GError) error = nullptr;
  std::vector<char*> c_argv = CArgv(argv);
  if (!g_spawn_sync(nullptr, c_argv.data(), nullptr, G_SPAWN_SEARCH_PATH, nullptr, nullptr, &out,
                    &err, &status, &error)) {
    result.err = error->message;
    return result;
  }
  result.out = out ? out : "";
  result.err = err ? err : "";
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

DaemonStart StartDaemon(const std::vector<std::string>& argv, const std::string& log_path,
                        std::chrono::milliseconds timeout) {
  DaemonStart start;
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) {
    start.why = std::string("pipe: ") + std::strerror(errno);
    return start;
  }
  UniqueFd ready_read(pipe_fds[0]);
  UniqueFd ready_write(pipe_fds[1]);
  UniqueFd log(open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  if (!log.valid()) {
    start.why = "open " + log_path + ": " + std::strerror(errno);
    return start;
  }
  std::vector<char*> c_argv = CArgv(argv);
  const pid_t pid = fork();
  if (pid == 0) {
    // The daemon outlives this CLI: its own session, no terminal, stdout = the ready pipe. A
    // step that fails is said in the log and the child exits: a daemon whose "ready" went
    // elsewhere would look like one that never became ready.
    if (setsid() < 0) ChildFails(log.get(), "setsid");
    const int devnull = open("/dev/null", O_RDONLY);
    if (devnull < 0) ChildFails(log.get(), "open /dev/null");
    if (dup2(devnull, STDIN_FILENO) < 0) ChildFails(log.get(), "dup2 stdin");
    if (dup2(ready_write.get(), STDOUT_FILENO) < 0) ChildFails(log.get(), "dup2 stdout");
    if (dup2(log.get(), STDERR_FILENO) < 0) ChildFails(log.get(), "dup2 stderr");
    execvp(c_argv[0], c_argv.data());
    ChildFails(log.get(), "exec ", c_argv[0]);
  }
  const int fork_errno = errno;
  // Only the child writes to these now: the read end sees EOF when the child is gone.
  ready_write.Reset();
  log.Reset();
  if (pid < 0) {
    start.why = std::string("fork: ") + std::strerror(fork_errno);
    return start;
  }
  start.pid = pid;
  std::string said;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      start.why = "it did not report ready within " + std::to_string(timeout.count() / 1000) + " s";
      break;
    }
    pollfd pfd{ready_read.get(), POLLIN, 0};
    const int polled = poll(&pfd, 1, static_cast<int>(left.count()));
    if (polled < 0 && errno != EINTR) {
      start.why = std::string("poll: ") + std::strerror(errno);
      break;
    }
    // Nothing to read yet (the wait ran out, or a signal came): the deadline decides. Reading
    // now would block on the pipe past the deadline, for as long as a silent daemon lives.
    if (polled <= 0) continue;
    char buffer[256];
    const ssize_t n = read(ready_read.get(), buffer, sizeof(buffer));
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) {
      int status = 0;
      pid_t waited = 0;
      while ((waited = waitpid(pid, &status, 0)) < 0 && errno == EINTR) {}
      if (waited < 0) {
        // Not a status we did not read: the pid stays, so the caller can still end it.
        start.why = "it closed its stdout, and waitpid failed: " + std::string(std::strerror(errno));
        break;
      }
      start.why = WIFEXITED(status) ? "it exited with status " + std::to_string(WEXITSTATUS(status))
                                    : "it was killed by a signal";
      start.pid = 0;
      break;
    }
    said.append(buffer, static_cast<size_t>(n));
    if (said.find("ready\n") != std::string::npos) {
      start.ready = true;
      break;
    }
  }
  return start;
}

bool ProcessAlive(long pid) {
  if (pid <= 0) return false;
  // Reap it if it is our child and has exited; otherwise this is a no-op.
  int status = 0;
  if (waitpid(static_cast<pid_t>(pid), &status, WNOHANG) == pid) return false;
  return vm::PidAlive(pid);
}

bool TerminateProcess(long pid, std::chrono::milliseconds grace) {
  if (!ProcessAlive(pid)) return true;
  // A failed kill() (EPERM: not ours to end) shows as the process still being there.
  kill(static_cast<pid_t>(pid), SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + grace;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!ProcessAlive(pid)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  kill(static_cast<pid_t>(pid), SIGKILL);
  for (int i = 0; i < 40 && ProcessAlive(pid); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return !ProcessAlive(pid);
}

}  // namespace memhp::launcher
