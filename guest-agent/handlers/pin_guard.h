// memhp — the pin guard: guest software pins a physical range against offlining (S22).
//
// S22 asks for a guest-local way to keep memory from being offlined while something depends on
// it (a DMA buffer, a device's ring, a pinned region an application registered). The kernel's
// own answer is a notifier on memory_chain that answers NOTIFY_BAD at MEM_GOING_OFFLINE; this
// is the same, with the pin held from user space by a lock that cannot outlive its holder:
//
//   - a pin is a regular file in the pins folder (default /run/memhp/pins, --pins-dir), whose
//     NAME or, when the name is not a range, whose first line says which memory:
//       "START-END"  guest-physical hex (optional 0x), END INCLUSIVE as /proc/iomem prints it
//                    ("100000000-107ffffff"); a range covering part of a block pins the block
//       "memoryN"    the whole memory block N
//   - it pins while some process holds a flock(2) on it (shared or exclusive; `flock -s FILE
//     CMD` or memhp-pin). flock locks belong to the open file description and go away when the
//     last descriptor closes, so a process that crashes or is killed can never pin for ever;
//   - at MEM_GOING_OFFLINE (S4) the guard scans the folder; any locked pin whose range overlaps
//     the block ([start_pfn, start_pfn + nr_pages) pages, S10/S11) answers NOTIFY_BAD (S16):
//     the offline is cancelled, MEM_CANCEL_OFFLINE follows (S5) and the host sees
//     "vetoed by pin-guard". Every other event is NOTIFY_DONE (S15): a pin never blocks onlining;
//   - a pin file nobody holds is stale: the guard removes it (taking an exclusive lock first,
//     so it removes only a file no one holds at that moment). A pinning process must therefore
//     check after taking its lock that the path still names the file it locked (stat vs fstat)
//     and start over if not; memhp-pin does. A file whose name and content are not a range is
//     logged and ignored (removed too when stale).
//
// Fail safe: if the folder exists but cannot be read, the guard vetoes (taking memory that
// something may have pinned is the mistake that cannot be undone). A missing folder means no
// pins. At most max_files entries are looked at (a veto beyond that: the folder is not sane).
//
// Registration: name kPinGuardName ("pin-guard"), priority kPinGuardPriority (90): after the
// reserve guard (100, one meminfo read), before the hook scripts (50), which may do slow work
// (release memory) for an offline a pin would refuse anyway (S8: higher priority first).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "notifier/notifier_chain.h"
#include "sysfs/result.h"

namespace memhp::agent {

inline constexpr std::string_view kPinGuardName = "pin-guard";
inline constexpr int kPinGuardPriority = 90;
inline constexpr std::string_view kDefaultPinFolder = "/run/memhp/pins";

// Guest-physical [start, end), end exclusive.
struct PinRange {
  uint64_t start = 0;
  uint64_t end = 0;
  bool operator==(const PinRange&) const = default;
};

// "START-END" (hex, END inclusive) or "memoryN" with the block size; surrounding whitespace is
// ignored. nullopt for anything else, END < START, or a block range that overflows.
[[nodiscard]] std::optional<PinRange> ParsePinSpec(std::string_view text, uint64_t block_size_bytes);

struct PinGuardOptions {
  std::string folder = std::string(kDefaultPinFolder);
  uint64_t page_size_bytes = 4096;  // S10/S11 are pages
  std::size_t max_files = 1024;
};

// One pin that is held right now.
struct HeldPin {
  std::string file;  // the name in the folder
  PinRange range;
};

// The held pins of `folder` (stale ones removed, unparsable ones skipped). ENOENT folder: none.
// Other errors (EACCES, ENOTDIR, too many files) are the Error.
[[nodiscard]] Result<std::vector<HeldPin>> ScanPins(const std::string& folder,
                                                    uint64_t block_size_bytes,
                                                    std::size_t max_files = 1024);

class PinGuard final : public NotifierBlock {
 public:
  explicit PinGuard(PinGuardOptions options);

  [[nodiscard]] NotifyResult Call(abi::MemoryEvent action, const MemoryNotify& arg,
                                  const NotifyContext& ctx) override;
  [[nodiscard]] std::string VetoReason() const override { return last_veto_reason_; }

  // Why the last veto happened ("" before any): "pinned by <file> [start, end)".
  [[nodiscard]] const std::string& last_veto_reason() const { return last_veto_reason_; }

 private:
  PinGuardOptions options_;
  std::string last_veto_reason_;
};

}  // namespace memhp::agent
