// channel_guest_agent — the GuestAgent port (ports/guest_agent.h) over memhpd's AgentChannel:
// each call is one AgentRequest, each answer its AgentResponse's result, checked for its kind.
//
// No response (not connected, the channel lost, no answer in time) is an error with the
// channel's ErrorCode; not connected and lost also carry errno ENOTCONN (IsGone). The agent's
// own error answer is its ErrorCode, message and errno. An answer with another kind of result
// than asked is MALFORMED.
#pragma once

#include <chrono>

#include "daemon/agent_channel.h"
#include "daemon/ports/guest_agent.h"

namespace memhp::daemon {

class ChannelGuestAgent final : public GuestAgent {
 public:
  // `timeout`: for every call that takes none of its own.
  ChannelGuestAgent(AgentChannel& channel, std::chrono::milliseconds timeout);

  [[nodiscard]] bool connected() const override { return channel_.agent_connected(); }
  [[nodiscard]] uint64_t block_size() const override;

  void Inventory(Done<memhp::v1::Inventory> done) override;
  void ZoneReport(Done<memhp::v1::ZoneReport> done) override;
  void Estimate(const memhp::v1::UnplugEstimateRequest& request, Done<memhp::v1::UnplugEstimate> done) override;
  void Policy(const memhp::v1::SetPolicyRequest& request, Done<memhp::v1::PolicyState> done) override;
  void Online(const memhp::v1::OnlineRequest& request, std::chrono::milliseconds timeout,
              Done<memhp::v1::BlockOpResult> done) override;
  void Offline(const memhp::v1::OfflineRequest& request, std::chrono::milliseconds timeout,
               Done<memhp::v1::BlockOpResult> done) override;
  void SendDeviceMap(const memhp::v1::DeviceMap& map, Done<uint32_t> done) override;
  void SendIntent(const memhp::v1::PlugIntent& intent, Done<void> done) override;

 private:
  AgentChannel& channel_;
  std::chrono::milliseconds timeout_;
};

// An AgentReply that carries no result as an Error (see the header comment); ok when it does.
[[nodiscard]] Status ReplyStatus(const AgentReply& reply);

}  // namespace memhp::daemon
