// memhp-agent — AgentSettings: what the host may change while the agent runs.
//
// The onlining policy (SetPolicyRequest), the device map (DeviceMap) and the plug intent
// (PlugIntent: the device the host is about to plug, before the map can name it) start from the
// command line (policy) and empty (map, intent), and are replaced by the host's requests. One
// object owned by the AgentDaemon, shared by reference with the BlockOperator (reads them at each
// decision) and the RequestHandler (changes them). All of it lives on the agent's one main loop
// (S18/S21), so a request never changes them under a running operation.
#pragma once

#include <cstdint>
#include <string>

#include "policy/device_map.h"
#include "policy/online_policy.h"
#include "policy/plug_intent.h"

namespace memhp::agent {

struct AgentSettings {
  PolicyConfig policy;
  DeviceMapTable devices;
  PlugIntentSlot intent{SteadyNow};  // a test may put one with its own clock in place

  // The device whose range holds `block`: the map's, else the intent's if it already covers
  // the block (it never claims one here); "" for none (the wire's "no device").
  [[nodiscard]] std::string DeviceIdOf(uint32_t block) const {
    if (const memhp::v1::DeviceRange* d = devices.FindBlock(block)) return d->device_id();
    if (const memhp::v1::PlugIntent* i = intent.Find(block)) return i->device_id();
    return {};
  }
};

}  // namespace memhp::agent
