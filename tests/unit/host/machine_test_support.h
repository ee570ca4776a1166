// machine_test_support — small helpers for the table tests of memhpd's operation machines
// (daemon/operations/machine.h): inputs as the runner would build them, and lookups into the
// actions a machine answers. The machines are pure, so a test is a list of inputs and the
// actions each must produce; no loop, no socket, no clock.
#pragma once

#include <gtest/gtest.h>

#include <cerrno>
#include <string>
#include <variant>
#include <vector>

#include "daemon/operations/machine.h"

namespace memhp::daemon::operations::test {

inline constexpr uint64_t kMiB = uint64_t{1} << 20;
inline constexpr uint64_t kBlock = 128 * kMiB;

inline Input In(Event e, bool agent = true, uint64_t block_size = kBlock) { return Input{std::move(e), agent, block_size}; }

inline Error QemuError(const std::string& message) {
  Error e{0, message};
  e.code = memhp::v1::ERROR_CODE_QMP;
  return e;
}
inline Error GoneError() {
  Error e{ENOTCONN, "QMP connection closed"};
  e.code = memhp::v1::ERROR_CODE_UNAVAILABLE;
  return e;
}

template <typename A>
const A* Find(const Actions& actions) {
  for (const Action& a : actions) {
    if (const auto* found = std::get_if<A>(&a)) return found;
  }
  return nullptr;
}
template <typename A>
bool Has(const Actions& actions) {
  return Find<A>(actions) != nullptr;
}
// The result of the one Finish among `actions` (a copy: `actions` is often a temporary); fails
// the test when there is none.
inline memhp::v1::OperationResult Ended(const Actions& actions) {
  const Finish* f = Find<Finish>(actions);
  EXPECT_NE(f, nullptr) << "no Finish among " << actions.size() << " action(s)";
  return f ? f->result : memhp::v1::OperationResult();
}
// The names of the steps begun, in order.
inline std::vector<std::string> Steps(const Actions& actions) {
  std::vector<std::string> out;
  for (const Action& a : actions) {
    if (const auto* b = std::get_if<BeginStep>(&a)) out.push_back(b->name);
  }
  return out;
}
inline std::vector<std::string> JournalSteps(const Actions& actions) {
  std::vector<std::string> out;
  for (const Action& a : actions) {
    if (const auto* j = std::get_if<JournalStepDone>(&a)) out.push_back(j->name);
  }
  return out;
}

inline memhp::v1::MemoryDevice Dimm(const std::string& id, uint64_t addr, uint64_t size = 256 * kMiB, int node = 1) {
  memhp::v1::MemoryDevice d;
  d.set_id(id);
  d.set_kind(memhp::v1::MEMORY_DEVICE_KIND_DIMM);
  d.set_qmp_type("dimm");
  d.set_address(addr);
  d.set_size(size);
  d.set_node(node);
  d.set_slot(0);
  d.set_memdev("/objects/mem-" + id);
  return d;
}
inline memhp::v1::MemoryDevice VirtioMem(const std::string& id, uint64_t addr, uint64_t size, uint64_t max_size,
                                         int node = 0) {
  memhp::v1::MemoryDevice d;
  d.set_id(id);
  d.set_kind(memhp::v1::MEMORY_DEVICE_KIND_VIRTIO_MEM);
  d.set_qmp_type("virtio-mem");
  d.set_address(addr);
  d.set_size(size);
  d.set_max_size(max_size);
  d.set_block_size(2 * kMiB);
  d.set_node(node);
  d.set_memdev("/objects/vmem-" + id);
  return d;
}
inline memhp::v1::BlockResult BlockResult(uint32_t block, memhp::v1::BlockOutcome outcome,
                                          memhp::v1::Zone zone = memhp::v1::ZONE_MOVABLE) {
  memhp::v1::BlockResult b;
  b.set_block(block);
  b.set_outcome(outcome);
  b.set_zone(zone);
  return b;
}
inline OnlineWaitEnd WaitEnd(OnlineWaitEndReason reason, std::vector<memhp::v1::BlockResult> blocks,
                             uint64_t online_bytes, uint32_t failed = 0) {
  OnlineWaitEnd end;
  end.reason = reason;
  end.progress.blocks = std::move(blocks);
  end.progress.online_bytes = online_bytes;
  end.progress.failed = failed;
  end.progress.present = static_cast<uint32_t>(end.progress.blocks.size());
  return end;
}

}  // namespace memhp::daemon::operations::test
