// channel_guest_agent — see channel_guest_agent.h.
#include "daemon/channel_guest_agent.h"

#include <utility>

namespace memhp::daemon {
namespace {

using memhp::v1::AgentRequest;
using memhp::v1::AgentResponse;

Error WrongKind(const char* asked) {
  Error e{EPROTO, std::string("the agent answered a ") + asked + " request with another kind of result"};
  e.code = memhp::v1::ERROR_CODE_MALFORMED;
  return e;
}

// Sends `request`; `take` pulls the result out of the response, or nullopt if it has another.
template <typename T, typename Take>
void Call(AgentChannel& channel, AgentRequest request, std::chrono::milliseconds timeout, const char* what, Take take,
          Done<T> done) {
  channel.Request(std::move(request), timeout, [done = std::move(done), take, what](AgentReply reply) {
    if (Status s = ReplyStatus(reply); !s.ok()) {
      done(std::move(s).error());
      return;
    }
    std::optional<T> value = take(reply.value());
    if (!value) {
      done(WrongKind(what));
      return;
    }
    done(std::move(*value));
  });
}

}  // namespace

Status ReplyStatus(const AgentReply& reply) {
  if (!reply.ok()) return reply.error();  // no response: the channel's Error (agent_channel.h)
  if (reply.value().has_error()) {
    const auto& err = reply.value().error();
    Error e{err.errno_value(), err.message()};
    e.code = err.code();
    return e;
  }
  return OkStatus();
}

ChannelGuestAgent::ChannelGuestAgent(AgentChannel& channel, std::chrono::milliseconds timeout)
    : channel_(channel), timeout_(timeout) {}

uint64_t ChannelGuestAgent::block_size() const {
  return channel_.hello() ? channel_.hello()->guest().block_size_bytes() : 0;
}

void ChannelGuestAgent::Inventory(Done<memhp::v1::Inventory> done) {
  AgentRequest request;
  request.mutable_inventory();
  Call<memhp::v1::Inventory>(
      channel_, std::move(request), timeout_, "inventory",
      [](const AgentResponse& r) { return r.has_inventory() ? std::optional(r.inventory()) : std::nullopt; },
      std::move(done));
}

void ChannelGuestAgent::ZoneReport(Done<memhp::v1::ZoneReport> done) {
  AgentRequest request;
  request.mutable_zone_report();
  Call<memhp::v1::ZoneReport>(
      channel_, std::move(request), timeout_, "zone report",
      [](const AgentResponse& r) { return r.has_zone_report() ? std::optional(r.zone_report()) : std::nullopt; },
      std::move(done));
}

void ChannelGuestAgent::Estimate(const memhp::v1::UnplugEstimateRequest& estimate,
                                 Done<memhp::v1::UnplugEstimate> done) {
  AgentRequest request;
  *request.mutable_estimate() = estimate;
  Call<memhp::v1::UnplugEstimate>(
      channel_, std::move(request), timeout_, "estimate",
      [](const AgentResponse& r) { return r.has_estimate() ? std::optional(r.estimate()) : std::nullopt; },
      std::move(done));
}

void ChannelGuestAgent::Policy(const memhp::v1::SetPolicyRequest& policy, Done<memhp::v1::PolicyState> done) {
  AgentRequest request;
  *request.mutable_set_policy() = policy;
  Call<memhp::v1::PolicyState>(
      channel_, std::move(request), timeout_, "policy",
      [](const AgentResponse& r) { return r.has_policy() ? std::optional(r.policy()) : std::nullopt; },
      std::move(done));
}

void ChannelGuestAgent::Online(const memhp::v1::OnlineRequest& online, std::chrono::milliseconds timeout,
                               Done<memhp::v1::BlockOpResult> done) {
  AgentRequest request;
  *request.mutable_online() = online;
  Call<memhp::v1::BlockOpResult>(
      channel_, std::move(request), timeout, "online",
      [](const AgentResponse& r) { return r.has_block_op() ? std::optional(r.block_op()) : std::nullopt; },
      std::move(done));
}

void ChannelGuestAgent::Offline(const memhp::v1::OfflineRequest& offline, std::chrono::milliseconds timeout,
                                Done<memhp::v1::BlockOpResult> done) {
  AgentRequest request;
  *request.mutable_offline() = offline;
  Call<memhp::v1::BlockOpResult>(
      channel_, std::move(request), timeout, "offline",
      [](const AgentResponse& r) { return r.has_block_op() ? std::optional(r.block_op()) : std::nullopt; },
      std::move(done));
}

void ChannelGuestAgent::SendDeviceMap(const memhp::v1::DeviceMap& map, Done<uint32_t> done) {
  AgentRequest request;
  *request.mutable_device_map() = map;
  Call<uint32_t>(
      channel_, std::move(request), timeout_, "device map",
      [](const AgentResponse& r) { return r.has_device_map() ? std::optional(r.device_map().devices()) : std::nullopt; },
      std::move(done));
}

void ChannelGuestAgent::SendIntent(const memhp::v1::PlugIntent& intent, Done<void> done) {
  AgentRequest request;
  *request.mutable_intent() = intent;
  channel_.Request(std::move(request), timeout_, [done = std::move(done)](AgentReply reply) {
    if (Status s = ReplyStatus(reply); !s.ok()) {
      done(std::move(s).error());
      return;
    }
    if (!reply.value().has_intent()) {
      done(WrongKind("plug intent"));
      return;
    }
    done(OkStatus());
  });
}

}  // namespace memhp::daemon
