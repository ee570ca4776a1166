// guest_agent — the port through which memhpd's operations reach the guest's agent.
//
// The agent is the guest's side of every operation: it says where the guest's memory is
// (inventory, zone report), onlines and offlines blocks (all-or-nothing when asked, S18-S21 on
// its side), takes the host's device map and plug intents, and reads or sets its onlining
// policy. Its events (the notifier model's, agent.proto AgentEvent) and its loss reach the
// operations through the service (operation_service.h), not through this port. The one adapter
// today is the agent channel over QEMU's chardev socket (agent_guest_agent.h); a libvirt domain's
// channel carries the same wire.
//
// Every call answers once, from the main loop. The guest is untrusted: what an answer carries
// has been checked against the VM's limits before it gets here (guest_claims.h). An agent that
// is not connected, or goes away while a call is open, answers an IsGone error
// (ports/memory_devices.h); the agent's own refusals come with its ErrorCode and message.
#pragma once

#include <chrono>
#include <cstdint>

#include "daemon/ports/memory_devices.h"
#include "memhp/v1/agent.pb.h"

namespace memhp::daemon {

class GuestAgent {
 public:
  virtual ~GuestAgent() = default;

  [[nodiscard]] virtual bool connected() const = 0;
  // The guest's memory block size from the agent's hello; 0 when not known.
  [[nodiscard]] virtual uint64_t block_size() const = 0;

  virtual void Inventory(Done<memhp::v1::Inventory> done) = 0;
  virtual void ZoneReport(Done<memhp::v1::ZoneReport> done) = 0;
  // An empty request reads the policy in force.
  virtual void Policy(const memhp::v1::SetPolicyRequest& request, Done<memhp::v1::PolicyState> done) = 0;
  virtual void Online(const memhp::v1::OnlineRequest& request, std::chrono::milliseconds timeout,
                      Done<memhp::v1::BlockOpResult> done) = 0;
  virtual void Offline(const memhp::v1::OfflineRequest& request, std::chrono::milliseconds timeout,
                       Done<memhp::v1::BlockOpResult> done) = 0;
  virtual void SendDeviceMap(const memhp::v1::DeviceMap& map, Done<uint32_t> done) = 0;
  virtual void SendIntent(const memhp::v1::PlugIntent& intent, Done<void> done) = 0;
  // A dry run: how much of the selected blocks could go now; the agent changes nothing.
  virtual void Estimate(const memhp::v1::UnplugEstimateRequest& request, Done<memhp::v1::UnplugEstimate> done) = 0;
};

}  // namespace memhp::daemon
