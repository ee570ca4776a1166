// kernel_like_writer — a BlockWriter for agent tests over FakeSysfs that does what the kernel
// does after a state write: memoryN/state and valid_zones change, and zoneinfo's present pages
// (node 0 only) follow, so a policy that reads the zones (auto-movable) sees what it changed.
// 128 MiB blocks of 4 KiB pages, as on the test VM.
#pragma once

#include <cstdint>
#include <map>

#include "fake_sysfs.h"
#include "notifier/transition_driver.h"

namespace memhp::agent::testing {

inline constexpr uint64_t kKernelLikePagesPerBlock = (128ull << 20) / 4096;

class KernelLikeWriter : public BlockWriter {
 public:
  KernelLikeWriter(FakeSysfs& guest, uint64_t boot_normal_pages) : guest_(guest), normal_(boot_normal_pages) {
    WriteZoneInfo();
  }
  Status Write(uint32_t block, abi::OnlineType target) override {
    writes[block] = target;
    switch (target) {
      case abi::OnlineType::kOnlineMovable:
        guest_.SetBlockState(block, "online");
        guest_.SetValidZones(block, "Movable");
        movable_ += kKernelLikePagesPerBlock;
        break;
      case abi::OnlineType::kOnline:
      case abi::OnlineType::kOnlineKernel:
        guest_.SetBlockState(block, "online");
        guest_.SetValidZones(block, "Normal");
        normal_ += kKernelLikePagesPerBlock;
        break;
      case abi::OnlineType::kOffline:
        guest_.SetBlockState(block, "offline");
        guest_.SetValidZones(block, "Normal Movable");
        break;
    }
    WriteZoneInfo();
    return OkStatus();
  }
  std::map<uint32_t, abi::OnlineType> writes;

 private:
  void WriteZoneInfo() {
    guest_.SetZoneInfo("Node 0, zone   Normal\n  pages free 0\n        present " + std::to_string(normal_) +
                       "\n        managed " + std::to_string(normal_) +
                       "\nNode 0, zone  Movable\n  pages free 0\n        present " + std::to_string(movable_) +
                       "\n        managed " + std::to_string(movable_) + "\n");
  }
  FakeSysfs& guest_;
  uint64_t normal_;
  uint64_t movable_ = 0;
};

}  // namespace memhp::agent::testing
