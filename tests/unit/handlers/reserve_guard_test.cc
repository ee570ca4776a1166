// memhp — tests for the reserve guard (S4, S11, S15, S16): a table of MemAvailable, reserve and
// block size, every non-GOING_OFFLINE event, and the fail-safe veto on a meminfo error.
#include "handlers/reserve_guard.h"

#include <gtest/gtest.h>

#include <cerrno>

namespace memhp::agent {
namespace {

constexpr uint64_t kMiB = 1024 * 1024;
constexpr uint64_t kPage = 4096;
constexpr uint64_t kBlockPages = 128 * kMiB / kPage;  // one x86_64 memory block

MemInfoSource Available(uint64_t bytes) {
  return [bytes]() -> Result<MemInfo> { return MemInfo{8192 * kMiB, bytes}; };
}

MemoryNotify Block(uint64_t nr_pages) { return MemoryNotify{0x40000, nr_pages, -1, -1}; }

struct Row {
  const char* name;
  uint64_t available;
  uint64_t reserve;
  uint64_t nr_pages;
  NotifyResult want;
};

TEST(ReserveGuardTest, TableAtGoingOffline) {
  const Row rows[] = {
      {"plenty", 4096 * kMiB, 512 * kMiB, kBlockPages, NotifyResult::kDone},
      {"exactly the reserve left", 640 * kMiB, 512 * kMiB, kBlockPages, NotifyResult::kDone},
      {"one byte short", 640 * kMiB - 1, 512 * kMiB, kBlockPages, NotifyResult::kBad},
      {"block bigger than available", 64 * kMiB, 1, kBlockPages, NotifyResult::kBad},
      {"tight", 600 * kMiB, 512 * kMiB, kBlockPages, NotifyResult::kBad},
      {"disabled (reserve 0)", 1 * kMiB, 0, kBlockPages, NotifyResult::kDone},
      {"empty transition", 512 * kMiB, 512 * kMiB, 0, NotifyResult::kDone},
      {"nr_pages overflows", 4096 * kMiB, 1, UINT64_MAX / 2, NotifyResult::kBad},
  };
  for (const Row& r : rows) {
    SCOPED_TRACE(r.name);
    ReserveGuard guard({.reserve_bytes = r.reserve, .page_size_bytes = kPage},
                       Available(r.available));
    EXPECT_EQ(guard.Call(abi::MemoryEvent::kGoingOffline, Block(r.nr_pages), NotifyContext{}),
              r.want);
    EXPECT_EQ(guard.last_veto_reason().empty(), r.want != NotifyResult::kBad);
  }
}

TEST(ReserveGuardTest, OtherEventsAreDoneEvenWhenShort) {
  int reads = 0;
  ReserveGuard guard({.reserve_bytes = 1024 * kMiB, .page_size_bytes = kPage},
                     [&reads]() -> Result<MemInfo> {
                       ++reads;
                       return MemInfo{1024 * kMiB, 1 * kMiB};
                     });
  for (abi::MemoryEvent e :
       {abi::MemoryEvent::kGoingOnline, abi::MemoryEvent::kCancelOnline,
        abi::MemoryEvent::kOnline, abi::MemoryEvent::kCancelOffline,
        abi::MemoryEvent::kOffline}) {
    SCOPED_TRACE(std::string(abi::MemoryEventName(e)));
    EXPECT_EQ(guard.Call(e, Block(kBlockPages), NotifyContext{}), NotifyResult::kDone);
  }
  EXPECT_EQ(reads, 0);  // only GOING_OFFLINE reads meminfo
}

TEST(ReserveGuardTest, MeminfoErrorVetoesAndSaysWhy) {
  ReserveGuard guard({.reserve_bytes = 1, .page_size_bytes = kPage}, []() -> Result<MemInfo> {
    return Error::FromErrno(EACCES, "read", "/proc/meminfo");
  });
  EXPECT_EQ(guard.Call(abi::MemoryEvent::kGoingOffline, Block(kBlockPages), NotifyContext{}),
            NotifyResult::kBad);
  EXPECT_NE(guard.last_veto_reason().find("/proc/meminfo"), std::string::npos)
      << guard.last_veto_reason();
}

TEST(ReserveGuardTest, VetoStopsTheChainUnderItsName) {
  NotifierChain chain;
  auto guard = std::make_shared<ReserveGuard>(
      ReserveGuardOptions{.reserve_bytes = 512 * kMiB, .page_size_bytes = kPage},
      Available(600 * kMiB));
  ASSERT_TRUE(chain.Register(std::string(kReserveGuardName), kReserveGuardPriority, guard).ok());
  bool later_called = false;
  ASSERT_TRUE(chain
                  .Register("later", 0,
                            [&](abi::MemoryEvent, const MemoryNotify&, const NotifyContext&) {
                              later_called = true;
                              return NotifyResult::kOk;
                            })
                  .ok());
  const ChainOutcome out =
      chain.CallChain(abi::MemoryEvent::kGoingOffline, Block(kBlockPages), NotifyContext{});
  EXPECT_EQ(out.final, NotifyResult::kBad);
  EXPECT_EQ(out.stopped_by, "reserve-guard");
  EXPECT_FALSE(later_called);
}

TEST(ReserveGuardTest, ReaderSourceReadsProcMeminfoUnderRoot) {
  // A root without proc/meminfo: the production source reports the error, the guard vetoes.
  ReserveGuard guard({.reserve_bytes = 1, .page_size_bytes = kPage},
                     MemInfoFromReader(SysfsReader("/nonexistent-memhp-root")));
  EXPECT_EQ(guard.Call(abi::MemoryEvent::kGoingOffline, Block(1), NotifyContext{}),
            NotifyResult::kBad);
  EXPECT_NE(guard.last_veto_reason().find("meminfo"), std::string::npos);
}

}  // namespace
}  // namespace memhp::agent
