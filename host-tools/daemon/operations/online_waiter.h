// online_waiter — waits until every block of a newly plugged range is online or failed.
//
// The agent onlines new blocks by its policy (or the DeviceMap's target) as they appear; memhpd
// watches its memory events (BLOCK_ADDED, ONLINE, OFFLINE, CANCEL_ONLINE, BLOCK_REMOVED), which
// carry the block, its zone and node, and keeps its own copy of the range up to date from them
// without asking the agent: an inventory request makes the agent read every block from sysfs,
// and on the agent's one thread that read would hold up the very onlining being waited for. The
// inventory is asked at the start, on each poll tick (covers a lost or coalesced event) and once
// more when the events say every block is settled: the end rests on the agent's inventory (the
// zone the kernel really chose), never on the events alone. When every block is present but some stay
// offline for a settle period, the agent's policy left them so (e.g. "manual"): if the host
// asked for a zone, the waiter asks the agent to online the range into it once; otherwise the
// blocks are reported LEFT_OFFLINE. One inventory request in flight at a time; state bounded by
// the range's block count.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <string>

#include <glib.h>

#include "daemon/ports/memory_devices.h"
#include "daemon/operations/block_progress.h"
#include "memhp/v1/agent.pb.h"

namespace memhp::daemon::operations {

struct OnlineWaitOptions {
  BlockRange range;
  std::string device_id;
  memhp::v1::OnlineTarget target = memhp::v1::ONLINE_TARGET_UNSPECIFIED;
  std::chrono::milliseconds timeout{60000};
  std::chrono::milliseconds poll{500};
  std::chrono::milliseconds settle{2000};
  std::chrono::milliseconds agent_timeout{5000};
};

enum class OnlineWaitEndReason {
  kSettled,       // every block online or failed
  kLeftOffline,   // every block present; some stay offline (the policy's choice)
  kTimedOut,      // the deadline passed first
  kAgentLost,     // the agent went away
};

struct OnlineWaitEnd {
  OnlineWaitEndReason reason = OnlineWaitEndReason::kSettled;
  BlockProgress progress;
  std::string detail;
};

// How the waiter reaches the world (the GuestAgent port and timers); the runner binds these
// weakly to itself. An IsGone error from the agent ends the wait as kAgentLost.
struct OnlineWaitHooks {
  std::function<void(Done<memhp::v1::Inventory>)> inventory;
  std::function<void(const memhp::v1::OnlineRequest&, std::chrono::milliseconds, Done<memhp::v1::BlockOpResult>)> online;
  std::function<void(std::chrono::milliseconds, std::function<void()>)> after;
  std::function<void(uint64_t done_bytes, uint64_t total_bytes)> progress;
};

class OnlineWaiter {
 public:
  OnlineWaiter(OnlineWaitHooks hooks, OnlineWaitOptions options, std::function<void(OnlineWaitEnd)> done);

  void Start();
  void OnAgentEvent(const memhp::v1::AgentEvent& event);
  void OnAgentLost();

 private:
  void Check();
  void OnInventory(Result<memhp::v1::Inventory> reply);
  // Applies a memory event of the range to known_; true if it changed it.
  bool Apply(const memhp::v1::MemoryEvent& m);
  void AskOnline();
  void Schedule();
  void End(OnlineWaitEndReason reason, std::string detail);

  OnlineWaitHooks hooks_;
  OnlineWaitOptions options_;
  std::function<void(OnlineWaitEnd)> done_;
  std::map<uint32_t, CancelledOnline> cancels_;
  BlockProgress last_;
  memhp::v1::Inventory known_;  // the last inventory, updated by the events since
  bool have_inventory_ = false;
  gint64 deadline_us_ = 0;
  gint64 last_change_us_ = 0;
  bool inflight_ = false;
  bool recheck_ = false;
  bool timer_pending_ = false;
  bool online_asked_ = false;
  bool ended_ = false;
};

}  // namespace memhp::daemon::operations
