// memhp-agent — OwnTransitions: which coming "online"/"offline" uevents are the agent's own.
//
// The kernel sends a uevent for every state change of a memory block, whoever wrote `state`:
// drivers/base/core.c device_online()/device_offline() call kobject_uevent() inside the write,
// and only when the state really changed (a write that changes nothing fails with EINVAL and
// sends nothing). The agent reports its own transitions through the notifier model, so the
// uevents of its own successful writes must not be reported again; every other one is someone
// else's (a shell, chmem, the virtio-mem driver offlining before it unplugs) and must be.
//
// So an expectation is recorded for each successful write of the agent and nothing else — never
// for an event the agent merely reported. A uevent claims the expectation it matches; what
// stays unclaimed must not swallow a later uevent that is someone else's:
//   - Dated (the usual case): the kernel's uevent SEQNUM is read before and after the write
//     (/sys/kernel/uevent_seqnum). The write's uevent has a SEQNUM in (before, after]; uevents
//     arrive in SEQNUM order (lib/kobject_uevent.c numbers and broadcasts under one mutex), so
//     once a uevent numbered past `after` arrives, that expectation's uevent is never coming
//     and it is dropped, and only a uevent inside the window can claim it.
//   - Undated (no seqnum to read, a uevent without SEQNUM): the uevents of one block arrive in
//     the order of its transitions. A uevent claims the oldest expectation of its block and
//     direction, and drops the older ones of that block (they would have come before it); a
//     uevent no expectation matches drops the block's opposite-direction ones (the block just
//     went the other way, so that write's uevent is not pending behind it). The worst case is
//     then an own transition reported a second time as someone else's — never a lost one.
// Uevents lost (socket overflow): Clear(), everything starts over from sysfs.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>

namespace memhp::agent {

// The uevent SEQNUMs around one write: the last one sent before it and the last one after.
struct SeqnumWindow {
  uint64_t before = 0;
  uint64_t after = 0;
};

class OwnTransitions {
 public:
  // The agent wrote `state` of `block` successfully; its uevent (online or offline) will come.
  void Expect(uint32_t block, bool online, std::optional<SeqnumWindow> window);
  // A uevent for `block` arrived: true if it is the agent's own (the expectation is used up).
  [[nodiscard]] bool Claim(uint32_t block, bool online, std::optional<uint64_t> seqnum);
  void Clear() { pending_.clear(); }
  // Expectations not yet claimed (tests, logs).
  [[nodiscard]] size_t pending() const;

 private:
  struct Expected {
    bool online = false;
    std::optional<SeqnumWindow> window;
  };
  void DropPassed(uint64_t seqnum);

  std::map<uint32_t, std::deque<Expected>> pending_;  // per block, in write order
};

}  // namespace memhp::agent
