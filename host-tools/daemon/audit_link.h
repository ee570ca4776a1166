// memhpd — AuditLink: memhpd's client of the memhp-audit plugin's control socket.
//
// When QEMU was launched with the plugin (memhpctl launch --audit; memhpd --audit-socket), the
// link connects to the plugin's socket (proto/memhp/v1/audit.proto, the shared framing) and
// keeps the plugin's view of the hotpluggable ranges true: after every change memhpd hears of —
// a QMP event about memory devices, an agent memory event or inventory, the agent's hello — it
// re-reads QEMU's memory devices and RAM layout (query-memory-devices, HMP `info ramblock` and
// `info mtree`, through memhpd's own QMP client), rebuilds the ranges (audit_ranges.h) and
// sends them when they differ from what the plugin last got. Guest block states come from the
// agent's inventory, patched by its memory events so the plugin learns of an online before the
// coalesced inventory follows (GOING_ONLINE already counts as online: the kernel may touch the
// block from then on).
//
// Arming. Armed, every guest memory access costs a callback (a boot was ~20x slower under TCG),
// so the link arms once the agent said hello — the boot is done — when told to (ArmPolicy), and
// on request (memhpctl audit --arm).
//
// The link is used from memhpd's main loop only. A lost socket is retried every second (QEMU
// may still be starting); requests in flight then fail with UNAVAILABLE.
#pragma once

#include <glib.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/liveness.h"
#include "daemon/audit_ranges.h"
#include "memhp/v1/agent.pb.h"
#include "base/result.h"
#include "memhp/v1/audit.pb.h"
#include "qmp/qmp_client.h"
#include "wire/framed_stream.h"
#include "wire/pending_requests.h"
#include "wire/retry_timer.h"

namespace memhp::daemon {

enum class ArmPolicy {
  kOnAgentHello,  // arm when the agent first says hello (the guest has booted)
  kOnRequest,     // only when asked (memhpctl audit --arm)
};

// The plugin's answer to one request (which may carry its own error), or why there is none:
// an Error from wire::NoReply whose code is UNAVAILABLE (not connected, closed), FAILED (could
// not send) or TIMEOUT.
using AuditReply = Result<memhp::v1::AuditResponse>;
using AuditReplyCallback = std::function<void(AuditReply)>;

class AuditLink {
 public:
  // `qmp` outlives the link and is connected by the time Start() is called.
  AuditLink(std::string socket_path, ArmPolicy arm_policy, GMainContext* context,
            qmp::QmpClient* qmp);
  ~AuditLink();
  AuditLink(const AuditLink&) = delete;
  AuditLink& operator=(const AuditLink&) = delete;

  void Start();

  // Taps (supervisor.cc): each may trigger a refresh of the ranges.
  void OnQmpEvent(std::string_view name, const JsonNode& data);
  void OnAgentHello(const memhp::v1::Hello& hello);
  void OnAgentEvent(const memhp::v1::AgentEvent& event);

  // Sends one request (id assigned here); `done` runs once.
  void Request(memhp::v1::AuditRequest request, std::chrono::milliseconds timeout,
               AuditReplyCallback done);
  // Arms or disarms the plugin, and remembers it: a reconnect sends it again.
  void SetArmed(bool armed, AuditReplyCallback done);

  [[nodiscard]] bool connected() const { return stream_ != nullptr; }
  [[nodiscard]] const std::string& socket_path() const { return socket_path_; }

 private:
  void TryConnect();
  void OnFrame(std::string payload);
  void OnClosed();
  void ScheduleRefresh();
  void Refresh();
  void Apply(AuditInputs inputs);
  void SendArm(bool armed, AuditReplyCallback done);
  void SetGuestBlock(uint32_t block, std::optional<GuestBlockState> state);

  std::string socket_path_;
  ArmPolicy arm_policy_;
  GMainContext* context_;
  qmp::QmpClient* qmp_;
  std::unique_ptr<wire::FramedStream> stream_;
  wire::RetryTimer reconnect_timer_;
  GSource* refresh_timer_ = nullptr;
  bool refresh_running_ = false;
  bool refresh_again_ = false;
  bool armed_once_ = false;
  std::optional<bool> want_armed_;  // the last arm/disarm asked for
  wire::PendingRequests<memhp::v1::AuditResponse> pending_;
  std::string last_connect_error_;

  uint64_t block_size_ = 0;                            // the guest's, from the agent's hello
  std::map<uint32_t, GuestBlockState> guest_blocks_;   // by block id
  std::map<std::string, std::vector<memhp::v1::AuditRange>> live_dimms_;  // last ranges per DIMM
  std::map<std::string, std::vector<memhp::v1::AuditRange>> deleted_;
  std::map<uint64_t, uint64_t> first_seen_;            // block start -> CLOCK_MONOTONIC ns
  std::optional<std::string> last_sent_;               // serialized AuditSetRanges
  std::set<std::string> last_skipped_;
  Liveness alive_;
};

}  // namespace memhp::daemon
