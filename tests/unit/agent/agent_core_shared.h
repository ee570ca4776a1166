// memhp tests — what the agent's core tests share: a read-only two-node guest tree, the agent's
// identity and a fixed clock, and a ping request (tests/unit/agent/agent_core_test.cc and
// request_handler_test.cc).
#pragma once

#include <cstdint>
#include <string>

#include "agent/request_handler.h"
#include "fake_sysfs.h"
#include "memhp/v1/agent.pb.h"

namespace memhp::agent::testing {

inline constexpr uint64_t kBlockSize = 134217728;  // 128 MiB, FakeSysfs's default
inline constexpr uint64_t kFixedNs = 1'700'000'000'000'000'000ULL;

inline AgentIdentity TestIdentity() {
  AgentIdentity identity;
  identity.kernel_release = "6.1.0-memhp-test";
  identity.page_size = 4096;
  identity.pid = 4242;
  return identity;
}

// Two nodes with 128 MiB blocks: memory0 online on node 0, memory1 online and memory8 offline
// on node 1.
inline void BuildTwoNodeGuest(FakeSysfs& guest) {
  guest.SetNodes(FakeNodes{"0-1", "0-1", "0-1", "0-1"});
  guest.AddBlock(0, "online", "Normal", 0);
  guest.AddBlock(1, "online", "Normal", 1);
  guest.AddBlock(8, "offline", "Normal Movable", 1);
}

// That guest, built once; only read.
inline const std::string& TwoNodeGuestRoot() {
  struct Guest {
    Guest() { BuildTwoNodeGuest(tree); }
    FakeSysfs tree;
  };
  static const Guest guest;  // removed at exit by ~FakeSysfs
  return guest.tree.root();
}

inline memhp::v1::AgentEnvelope PingRequest(uint64_t id, std::string payload) {
  memhp::v1::AgentEnvelope envelope;
  envelope.mutable_request()->set_id(id);
  envelope.mutable_request()->mutable_ping()->set_payload(std::move(payload));
  return envelope;
}

}  // namespace memhp::agent::testing
