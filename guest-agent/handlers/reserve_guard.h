// memhp — the reserve guard: a built-in handler that vetoes an offline that would leave the
// guest too little memory.
//
// At MEM_GOING_OFFLINE (S4) the kernel has not yet migrated anything out of the block, so
// /proc/meminfo's MemAvailable still counts the block's free pages. Once the offline completes
// (S6) the whole block is gone from the guest: what stays available is roughly
// MemAvailable − nr_pages × page size (S11). If that would fall below the configured reserve
// the guard answers NOTIFY_BAD, which cancels the offline and makes MEM_CANCEL_OFFLINE follow
// (S16, S5). Every other event — onlining only adds memory — is NOTIFY_DONE (S15).
//
// Fail safe: when meminfo cannot be read (or the arithmetic overflows) the guard vetoes and
// logs why; taking memory away blind is the one mistake an OOM in the guest cannot undo.
//
// Registration: name kReserveGuardName ("reserve-guard"), priority kReserveGuardPriority (100).
// It runs before the hook scripts (S8: higher priority first) because it is cheap (one read of
// /proc/meminfo) and decisive: a veto here spares the operator's hooks from releasing memory
// for an offline that would be refused anyway.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "notifier/notifier_chain.h"
#include "sysfs/result.h"
#include "sysfs/sysfs_parse.h"
#include "sysfs/sysfs_reader.h"

namespace memhp::agent {

inline constexpr std::string_view kReserveGuardName = "reserve-guard";
inline constexpr int kReserveGuardPriority = 100;

struct ReserveGuardOptions {
  // Bytes of MemAvailable that must remain after an offline; 0 disables the guard (DONE always).
  uint64_t reserve_bytes = 0;
  // The guest's page size, to turn S11's nr_pages into bytes (sysconf(_SC_PAGESIZE) in
  // production; 4096 on x86_64).
  uint64_t page_size_bytes = 4096;
};

// Reads /proc/meminfo: a seam so tests inject values and errors.
using MemInfoSource = std::function<Result<MemInfo>()>;

// The production source: SysfsReader::ReadMemInfo() on a copy of `reader`.
[[nodiscard]] MemInfoSource MemInfoFromReader(SysfsReader reader);

class ReserveGuard final : public NotifierBlock {
 public:
  ReserveGuard(ReserveGuardOptions options, MemInfoSource read_meminfo);

  [[nodiscard]] NotifyResult Call(abi::MemoryEvent action, const MemoryNotify& arg,
                                  const NotifyContext& ctx) override;
  [[nodiscard]] std::string VetoReason() const override { return last_veto_reason_; }

  // Why the last veto happened ("" before any); for status output and tests.
  [[nodiscard]] const std::string& last_veto_reason() const { return last_veto_reason_; }

 private:
  ReserveGuardOptions options_;
  MemInfoSource read_meminfo_;
  std::string last_veto_reason_;
};

}  // namespace memhp::agent
