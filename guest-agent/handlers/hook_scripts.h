// memhp — guest hook scripts: the operator's veto point in the notifier chain.
//
// An operator drops executables into a folder (default /etc/memhp/hooks.d) — e.g. a script that
// asks a database to release memory before a block goes away (S4: "callbacks may release
// memory they own in that block"). For every event (S1–S6) each executable regular file in the
// folder runs, in byte order of its name, with no arguments but the event name ($1) and this
// environment (nothing inherited from the agent but a fixed PATH):
//   MEMHP_EVENT                      MEM_GOING_OFFLINE, ... (S1–S6)
//   MEMHP_BLOCK, MEMHP_NODE          memory<N> and its node (-1: none)
//   MEMHP_ZONE                       DMA, DMA32, Normal, Movable ("none" when unknown)
//   MEMHP_START_PFN, MEMHP_NR_PAGES  S10, S11 (decimal)
//   MEMHP_STATUS_CHANGE_NID_NORMAL   S12 (node id, or -1)
//   MEMHP_STATUS_CHANGE_NID          S13 (node id, or -1)
//   MEMHP_ORIGIN                     host-request, policy, observed, unspecified
//   MEMHP_REQUEST_ID                 the host request's id, 0 when none
// stdin is /dev/null; stdout and stderr are captured (first max_output_bytes) and logged.
// Each hook runs in its own process group, never through a shell, for at most `timeout`;
// one that overruns has its whole process group SIGKILLed.
//
// Answers (S15–S17):
//   - exit 0 from every hook that ran: NOTIFY_OK; no hook (or a missing folder): NOTIFY_DONE.
//   - at MEM_GOING_ONLINE / MEM_GOING_OFFLINE, a non-zero exit, a signal, a timeout or a hook
//     that cannot be started is a veto: NOTIFY_BAD, the remaining hooks do not run, and
//     last_veto_reason() names the script ("hooks.d/10-db exited with status 1"). The chain
//     then sends the CANCEL_* event (S2, S5), which the hooks also see.
//   - at the other four events a failure is logged and answered NOTIFY_DONE. S16's text also
//     lets BAD at MEM_ONLINE/MEM_OFFLINE cancel, but the kernel acts only on GOING_* answers
//     and the block has already changed state by then; a hook cannot undo that, so we choose
//     not to pretend it can.
//
// The folder comes from the agent's configuration only: the host cannot choose it (the agent
// offers the host no file access). The handler blocks the agent's hotplug thread while hooks
// run; that is the point (S18/S21: one operation at a time) and why the timeout is bounded.
// Children are reaped with waitpid(pid): nothing else in the agent may reap with waitpid(-1).
//
// Registration: name kHookScriptsName ("hooks" — the chain reports a veto as "vetoed by hooks"),
// priority kHookScriptsPriority (50): after the reserve guard (100), which is cheap and decisive.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "notifier/notifier_chain.h"
#include "sysfs/result.h"

namespace memhp::agent {

inline constexpr std::string_view kHookScriptsName = "hooks";
inline constexpr int kHookScriptsPriority = 50;
inline constexpr std::string_view kDefaultHookFolder = "/etc/memhp/hooks.d";

struct HookScriptsOptions {
  std::string folder = std::string(kDefaultHookFolder);
  std::chrono::milliseconds timeout{5000};  // per hook
  std::size_t max_output_bytes = 4096;      // per hook; the rest is read and dropped
};

// How one hook ended.
struct HookRun {
  std::string name;          // the file name inside the folder
  bool started = false;      // false: posix_spawn failed (error says why)
  bool timed_out = false;    // killed after the timeout
  long long timeout_ms = 0;  // the limit it ran under
  int wait_status = 0;       // waitpid() status when started
  std::string output;        // stdout+stderr, at most max_output_bytes
  bool output_truncated = false;
  std::string error;         // spawn/pipe failure text
  [[nodiscard]] bool Succeeded() const;
  [[nodiscard]] std::string Describe() const;  // "exited with status 1", "timed out after ..."
};

class HookScripts final : public NotifierBlock {
 public:
  explicit HookScripts(HookScriptsOptions options = {});

  [[nodiscard]] NotifyResult Call(abi::MemoryEvent action, const MemoryNotify& arg,
                                  const NotifyContext& ctx) override;
  [[nodiscard]] std::string VetoReason() const override { return last_veto_reason_; }

  // The executable regular files of the folder (hidden names skipped), in name order; empty
  // for a missing folder; other errors (EACCES, ...) as an Error with the path.
  [[nodiscard]] Result<std::vector<std::string>> ListHooks() const;

  // "<folder>/<name> exited with status 1" / "... timed out after 300 ms" of the last veto;
  // "" before any.
  [[nodiscard]] const std::string& last_veto_reason() const { return last_veto_reason_; }

 private:
  [[nodiscard]] HookRun RunOne(const std::string& name, const std::vector<std::string>& env,
                               std::string_view event) const;

  HookScriptsOptions options_;
  std::string last_veto_reason_;
};

// The environment of one event, "KEY=VALUE" strings (exposed for tests and documentation).
[[nodiscard]] std::vector<std::string> HookEnvironment(abi::MemoryEvent action,
                                                       const MemoryNotify& arg,
                                                       const NotifyContext& ctx);

}  // namespace memhp::agent
