// memhpd — WatchHub: the `watch` stream, one VM's events fanned out to every client watching.
//
// QMP and agent events merged, one JSON object per line (memhpctl watch), with a `watch`
// running while other clients plug and query. Each watcher is a ControlReply kept after its
// request (control.proto WatchRequest: every event arrives as a ControlResponse with the watch
// request's id). Sources, in WatchEvent terms:
//   "qmp"       every QMP event; name = QEMU's event name, data = QEMU's "data" object
//   "agent"     every agent event; name = the MemoryEvent kind without its prefix ("ONLINE",
//               "BLOCK_ADDED"), or "inventory_changed" / "gap" / "zone_report" / "pressure"; data = the
//               AgentEvent in proto JSON (snake_case names)
//   "operation" plug/unplug/resize as they go: "requested" (the request), "progress" (an
//               OperationProgress), "end" (the OperationResult, or {"error": ...}); the operations
//               code may add its own steps through Publish
//   "memhpd"    memhpd's notices: "watching" (this watcher is live; replayed events came first),
//               "agent_connected", "agent_lost", "qemu_gone" (memhpd ends next), and
//               "watch_dropped" (the last thing a watcher that fell behind receives)
// Each watcher sees events in Publish order, each stamped with the VM's name and the watcher's own
// sequence number (1, 2, 3, ...: one per event published to it, replayed ones included). Memory
// stays bounded whatever clients and the guest do: a watcher's unread answers live in its
// socket's output queue, and a watcher with more than `max_unsent_bytes` unread gets
// "watch_dropped" and nothing more; a watcher whose client left is forgotten at the next Publish
// or Subscribe; at most `max_watchers` at once. The event a dropped watcher did not get keeps its
// number: the "watch_dropped" notice carries the next one and names the first it lost
// ({"first_lost_seq": n, ...}), so a reader sees the gap right before the end of its stream.
#pragma once

#include <cstdint>
#include <deque>
#include <initializer_list>
#include <memory>
#include <utility>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <google/protobuf/message.h>

#include "base/liveness.h"
#include "daemon/control_server.h"
#include "memhp/v1/agent.pb.h"
#include "memhp/v1/control.pb.h"

namespace memhp::daemon {

struct WatchHubOptions {
  size_t max_watchers = kMaxControlClients;
  size_t max_unsent_bytes = size_t{1} << 20;
};

class WatchHub {
 public:
  using Clock = std::function<uint64_t()>;  // unix ns

  // `vm_name` is stamped on every event (WatchEvent.vm).
  explicit WatchHub(std::string vm_name, WatchHubOptions options = {}, Clock now_unix_ns = nullptr);
  WatchHub(const WatchHub&) = delete;
  WatchHub& operator=(const WatchHub&) = delete;

  // Adds a watcher: first the `replay` events (AgentChannel::recent_events(), when the request
  // asked for them), then a "watching" notice, then everything published from now on. With
  // max_watchers live already, the request is answered BUSY instead.
  void Subscribe(ControlReply reply, const std::deque<memhp::v1::AgentEvent>& replay);

  // Sends `event` to every live watcher (time_unix_ns 0 = now).
  void Publish(memhp::v1::WatchEvent event);

  // The sources above, built here so every caller names things the same way.
  void PublishQmp(std::string_view name, std::string data_json, uint64_t time_unix_ns);
  void PublishAgent(const memhp::v1::AgentEvent& event);
  void PublishNotice(std::string_view name, std::string data_json = "{}");
  void PublishNotice(std::string_view name, const google::protobuf::Message& data);
  void PublishOperation(std::string_view name, const google::protobuf::Message& data);

  // Wraps the reply of a plug/unplug/resize request so the stream shows the operation: publishes
  // "requested" now, then "progress" and "end" as memhpd answers through the returned reply
  // (which forwards everything to `reply` unchanged).
  [[nodiscard]] ControlReply TapOperation(const memhp::v1::ControlRequest& request, ControlReply reply);

  [[nodiscard]] size_t watcher_count() const { return watchers_.size(); }
  [[nodiscard]] uint64_t dropped_count() const { return dropped_; }

 private:
  // One client's stream: its reply and the number its next event gets.
  struct Watcher {
    ControlReply reply;
    uint64_t next_seq = 1;
  };

  // False when the watcher is gone or was dropped now (after its final notice).
  bool Deliver(Watcher& watcher, memhp::v1::WatchEvent event);
  void ForgetGone();
  [[nodiscard]] memhp::v1::WatchEvent Stamp(memhp::v1::WatchEvent event) const;

  std::string vm_name_;
  WatchHubOptions options_;
  Clock now_;
  std::vector<Watcher> watchers_;
  uint64_t dropped_ = 0;
  // Expires with the hub, so a tapped reply answered late (after memhpd's teardown began) only
  // forwards its answer.
  Liveness alive_;
};

// {"key": "value", ...} with every string escaped for JSON.
[[nodiscard]] std::string JsonStringObject(
    std::initializer_list<std::pair<std::string_view, std::string_view>> fields);

// The AgentEvent's WatchEvent name: "ONLINE", "BLOCK_ADDED", "inventory_changed", "gap", ...
[[nodiscard]] std::string AgentEventName(const memhp::v1::AgentEvent& event);

}  // namespace memhp::daemon
