// memhp-agent — ValidateRequest: a host value the agent cannot take exactly as sent is refused.
//
// Protobuf keeps an enum number this build does not know (proto3 open enums), so a newer or a
// broken host can send target 7 or role 9. The agent never maps such a value to its policy or a
// default: it answers INVALID_ARGUMENT and does nothing (RequestHandler runs this before any
// dispatch). Same for a number outside what the field can mean (a timeout past the bound memhpctl
// itself enforces, a NUMA node the kernel cannot have, a range that wraps around). Checks that
// need the guest's state (is that block there, is the range whole blocks) stay with the code that
// reads it.
#pragma once

#include <cstdint>

#include "memhp/v1/agent.pb.h"
#include "sysfs/result.h"

namespace memhp::agent {

// The longest per-block offline deadline a host may ask (1 h, memhpctl's --block-timeout bound).
inline constexpr uint32_t kMaxOfflineTimeoutMs = 3'600'000;
// The kernel's MAX_NUMNODES for CONFIG_NODES_SHIFT=10 (x86_64's largest): node ids are below it.
inline constexpr int32_t kMaxNumaNodes = 1024;
// The longest a plug intent may stay in force (1 h, as the offline timeout): an intent is for
// the one operation the host is running, which never takes that long.
inline constexpr uint32_t kMaxIntentDeadlineMs = 3'600'000;
// The most a plug intent may expect an operation to add: 2^52 bytes, x86_64's largest physical
// address space (52 bits with 5-level paging) — no device adds more than the guest can address.
inline constexpr uint64_t kMaxIntentBytes = uint64_t{1} << 52;

// OK, or an EINVAL error naming the field and the value.
[[nodiscard]] Status ValidateRequest(const memhp::v1::AgentRequest& request);

}  // namespace memhp::agent
