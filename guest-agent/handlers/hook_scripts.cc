// memhp — guest hook scripts (see hook_scripts.h; S1–S6, S10–S13, S15–S17).
#include "handlers/hook_scripts.h"

#include <dirent.h>
#include <fcntl.h>
#include <glib.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include "sysfs/sysfs_parse.h"

namespace memhp::agent {
namespace {

using Clock = std::chrono::steady_clock;

// A fixed PATH: hooks must not depend on how the agent happened to be started.
constexpr const char* kHookPath =
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
// How often a hook with a closed (or quiet) stdout is checked for exit.
constexpr std::chrono::milliseconds kPollSlice{20};

bool IsGoingEvent(abi::MemoryEvent e) {
  return e == abi::MemoryEvent::kGoingOnline || e == abi::MemoryEvent::kGoingOffline;
}

struct SpawnCleanup {
  posix_spawn_file_actions_t* actions = nullptr;
  posix_spawnattr_t* attr = nullptr;
  ~SpawnCleanup() {
    if (actions != nullptr) posix_spawn_file_actions_destroy(actions);
    if (attr != nullptr) posix_spawnattr_destroy(attr);
  }
};

// Keeps the first `max` bytes of a hook's output; the rest is read (so the hook never blocks
// on a full pipe) and dropped.
void AppendBounded(HookRun& run, std::string_view data, std::size_t max) {
  const std::size_t room = max - std::min(max, run.output.size());
  run.output.append(data.substr(0, room));
  if (data.size() > room) run.output_truncated = true;
}

}  // namespace

bool HookRun::Succeeded() const {
  return started && !timed_out && WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0;
}

std::string HookRun::Describe() const {
  if (!started) return "could not be started: " + error;
  if (timed_out) return "timed out after " + std::to_string(timeout_ms) + " ms (killed)";
  if (WIFEXITED(wait_status)) {
    return "exited with status " + std::to_string(WEXITSTATUS(wait_status));
  }
  if (WIFSIGNALED(wait_status)) {
    return "killed by signal " + std::to_string(WTERMSIG(wait_status));
  }
  return "ended with wait status " + std::to_string(wait_status);
}

std::vector<std::string> HookEnvironment(abi::MemoryEvent action, const MemoryNotify& arg,
                                         const NotifyContext& ctx) {
  return {
      kHookPath,
      "MEMHP_EVENT=" + std::string(abi::MemoryEventName(action)),      // S1–S6
      "MEMHP_BLOCK=" + std::to_string(ctx.block),
      "MEMHP_NODE=" + std::to_string(ctx.node),
      "MEMHP_ZONE=" + std::string(ZoneName(ctx.zone)),
      "MEMHP_START_PFN=" + std::to_string(arg.start_pfn),                // S10
      "MEMHP_NR_PAGES=" + std::to_string(arg.nr_pages),                  // S11
      "MEMHP_STATUS_CHANGE_NID_NORMAL=" + std::to_string(arg.status_change_nid_normal),  // S12
      "MEMHP_STATUS_CHANGE_NID=" + std::to_string(arg.status_change_nid),                // S13
      "MEMHP_ORIGIN=" + std::string(EventOriginName(ctx.origin)),
      "MEMHP_REQUEST_ID=" + std::to_string(ctx.request_id),
  };
}

HookScripts::HookScripts(HookScriptsOptions options) : options_(std::move(options)) {}

Result<std::vector<std::string>> HookScripts::ListHooks() const {
  std::vector<std::string> names;
  std::unique_ptr<DIR, int (*)(DIR*)> dir(opendir(options_.folder.c_str()), closedir);
  if (!dir) {
    if (errno == ENOENT) return names;  // no folder, no hooks
    return Error::FromErrno(errno, "opendir", options_.folder);
  }
  while (const dirent* e = readdir(dir.get())) {
    const std::string name = e->d_name;
    if (name.empty() || name[0] == '.') continue;  // ".", "..", hidden and editor files
    const std::string path = options_.folder + "/" + name;
    struct stat st {};
    if (stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    if (access(path.c_str(), X_OK) != 0) continue;
    names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

HookRun HookScripts::RunOne(const std::string& name, const std::vector<std::string>& env,
                            std::string_view event) const {
  HookRun run;
  run.name = name;
  run.timeout_ms = options_.timeout.count();
  const std::string path = options_.folder + "/" + name;

  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    run.error = "pipe2: " + std::string(std::strerror(errno));
    return run;
  }
  const int rfd = fds[0];
  const int wfd = fds[1];
  // Non-blocking reads: after the hook exits, a child of it may still hold the pipe open.
  if (fcntl(rfd, F_SETFL, O_NONBLOCK) != 0) {
    run.error = "fcntl(O_NONBLOCK): " + std::string(std::strerror(errno));
    close(rfd);
    close(wfd);
    return run;
  }

  // Each step of the set-up can fail (ENOMEM). A hook spawned without one would answer into
  // the agent's own stdout, or escape the timeout's kill: any failure is the run's error.
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  SpawnCleanup cleanup;
  int setup = posix_spawn_file_actions_init(&actions);
  if (setup == 0) {
    cleanup.actions = &actions;
    setup = posix_spawnattr_init(&attr);
  }
  if (setup == 0) cleanup.attr = &attr;
  const auto step = [&setup](int rc) {
    if (setup == 0) setup = rc;
  };
  if (setup == 0) {
    step(posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0));
    step(posix_spawn_file_actions_adddup2(&actions, wfd, STDOUT_FILENO));
    step(posix_spawn_file_actions_adddup2(&actions, wfd, STDERR_FILENO));
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
    step(posix_spawn_file_actions_addclosefrom_np(&actions, 3));  // not the host channel, not anything
#endif
    // Own process group (so a timeout kills everything the hook started), no inherited signal
    // mask (the agent blocks signals in some threads), default dispositions for what we use.
    // (sigemptyset/sigaddset fail only for an invalid signal number.)
    sigset_t empty;
    sigset_t defaults;
    sigemptyset(&empty);
    sigemptyset(&defaults);
    for (int sig : {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGCHLD, SIGUSR1, SIGUSR2}) {
      sigaddset(&defaults, sig);
    }
    step(posix_spawnattr_setpgroup(&attr, 0));
    step(posix_spawnattr_setsigmask(&attr, &empty));
    step(posix_spawnattr_setsigdefault(&attr, &defaults));
    step(posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF));
  }
  if (setup != 0) {
    close(rfd);
    close(wfd);
    run.error = "posix_spawn set-up for " + path + ": " + std::strerror(setup);
    return run;
  }

  const std::string event_arg(event);
  std::vector<char*> argv = {const_cast<char*>(path.c_str()),
                             const_cast<char*>(event_arg.c_str()), nullptr};
  std::vector<char*> envp;
  for (const std::string& kv : env) envp.push_back(const_cast<char*>(kv.c_str()));
  envp.push_back(nullptr);

  pid_t pid = -1;
  const int rc = posix_spawn(&pid, path.c_str(), &actions, &attr, argv.data(), envp.data());
  close(wfd);
  if (rc != 0) {
    close(rfd);
    run.error = "posix_spawn " + path + ": " + std::strerror(rc);
    return run;
  }
  run.started = true;

  // Read output and wait, both bounded by one deadline.
  const Clock::time_point deadline = Clock::now() + options_.timeout;
  int fd = rfd;
  char buf[1024];
  for (;;) {
    const pid_t w = waitpid(pid, &run.wait_status, WNOHANG);
    if (w == pid || (w < 0 && errno != EINTR)) break;  // exited (or cannot be waited for)
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      // The whole process group: sleep(1) children too. If that fails, at least the hook, so
      // the wait below ends.
      if (kill(-pid, SIGKILL) != 0) {
        g_warning("hooks: kill process group of %s: %s", path.c_str(), std::strerror(errno));
        if (kill(pid, SIGKILL) != 0) g_warning("hooks: kill %s: %s", path.c_str(), std::strerror(errno));
      }
      while (waitpid(pid, &run.wait_status, 0) < 0 && errno == EINTR) {}
      run.timed_out = true;
      break;
    }
    pollfd p{fd, POLLIN, 0};
    const int slice = static_cast<int>(std::min(left, kPollSlice).count()) + 1;
    const int n = poll(fd >= 0 ? &p : nullptr, fd >= 0 ? 1 : 0, slice);
    if (n > 0 && fd >= 0) {
      const ssize_t got = read(fd, buf, sizeof buf);
      if (got > 0) {
        AppendBounded(run, std::string_view(buf, static_cast<std::size_t>(got)),
                      options_.max_output_bytes);
      } else if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
        close(fd);  // EOF: the hook (and its children) closed stdout; keep waiting for the exit
        fd = -1;
      }
    }
  }
  // After the exit, what is already in the pipe (a child still holding it open is not waited
  // for: its output is not the hook's answer).
  while (fd >= 0) {
    const ssize_t got = read(fd, buf, sizeof buf);
    if (got <= 0) break;
    AppendBounded(run, std::string_view(buf, static_cast<std::size_t>(got)),
                  options_.max_output_bytes);
  }
  if (fd >= 0) close(fd);
  return run;
}

NotifyResult HookScripts::Call(abi::MemoryEvent action, const MemoryNotify& arg,
                               const NotifyContext& ctx) {
  const bool can_veto = IsGoingEvent(action);  // S16, as the kernel reads it (see the header)
  const std::string_view event = abi::MemoryEventName(action);
  Result<std::vector<std::string>> hooks = ListHooks();
  if (!hooks.ok()) {
    // A configured folder we cannot read: fail safe at GOING_* like a failing hook.
    g_warning("hooks: %s", hooks.error().message.c_str());
    if (!can_veto) return NotifyResult::kDone;
    last_veto_reason_ = hooks.error().message;
    return NotifyResult::kBad;
  }
  if (hooks->empty()) return NotifyResult::kDone;

  const std::vector<std::string> env = HookEnvironment(action, arg, ctx);
  bool all_ok = true;
  for (const std::string& name : *hooks) {
    const HookRun run = RunOne(name, env, event);
    const std::string who = options_.folder + "/" + name;
    const std::string what = who + " " + run.Describe();
    const char* more = run.output_truncated ? " [truncated]" : "";
    if (run.Succeeded()) {
      g_info("hooks: %s memory%u: %s; output: %s%s", std::string(event).c_str(), ctx.block,
             what.c_str(), run.output.c_str(), more);
      continue;
    }
    all_ok = false;
    g_warning("hooks: %s memory%u: %s%s; output: %s%s", std::string(event).c_str(), ctx.block,
              what.c_str(), can_veto ? " (veto)" : " (ignored: cannot veto this event, S16)",
              run.output.c_str(), more);
    if (can_veto) {
      last_veto_reason_ = what;
      return NotifyResult::kBad;  // stops here: later hooks are not asked (S16)
    }
  }
  return all_ok ? NotifyResult::kOk : NotifyResult::kDone;
}

}  // namespace memhp::agent
