// memhp-audit — AuditCore: what the plugin knows and counts, with no QEMU types.
//
// The plugin shim (memhp_audit.cc) calls Record() from every vCPU thread on every memory access
// while armed; the control thread calls SetRanges()/SetArmed() and Snapshot(). So:
//  * The range map is an immutable RangeTable published through an atomic pointer (RCU-style):
//    SetRanges builds a new table and swaps it in; a vCPU reads whichever table it loaded. Old
//    tables are kept until the core is destroyed (never, in the plugin: vCPU threads may still
//    run at exit), so no reader ever touches freed memory and no grace period is needed.
//  * Counters are per vCPU and per block (block_size, default 128 MiB, aligned in guest-physical
//    space): each vCPU writes only its own row of relaxed atomics, so the hot path takes no lock
//    and shares no cache line with another vCPU. A block keeps its counters across SetRanges.
//  * Time to first use: per block, ns from the range's plug time to the first access after the
//    range came online, set once with compare-exchange.
//  * Violations (an access to an offline or unplugged range) go to a bounded, lock-free,
//    open-addressing table keyed by page + vCPU + read/write. Past max_violations distinct keys,
//    known keys keep counting and new ones count in `dropped`; `total` counts every violation.
//
// Addresses: QEMU 7.2's qemu_plugin_hwaddr_phys_addr() reports, for RAM outside the low boot
// memory, the RAMBlock offset plus the region's offset in its container rather than the
// guest-physical address (plugins/api.c). Each range therefore has a `plugin_start`: the address
// Record() receives for `start`. Reports always speak guest-physical addresses.
#ifndef MEMHP_QEMU_PLUGIN_AUDIT_CORE_H_
#define MEMHP_QEMU_PLUGIN_AUDIT_CORE_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace memhp::audit {

inline constexpr uint64_t kDefaultBlockSize = uint64_t{128} << 20;
inline constexpr size_t kDefaultMaxViolations = 1024;
inline constexpr uint64_t kPageSize = 4096;
// vCPU indexes must fit in the 12 low bits of a page address (the violation key).
inline constexpr unsigned kMaxVcpus = 2048;

enum class RangeState : uint8_t { kOnline, kOffline, kUnplugged };
enum class Access : uint8_t { kRead, kWrite };

[[nodiscard]] const char* RangeStateName(RangeState state);
[[nodiscard]] const char* AccessName(Access access);

// CLOCK_MONOTONIC in the plugin; a fake in tests. Called only off the common path (first touch,
// violations), never per access.
class Clock {
 public:
  virtual ~Clock() = default;
  [[nodiscard]] virtual uint64_t NowNs() = 0;
};

struct CoreOptions {
  uint64_t block_size = kDefaultBlockSize;  // power of two, >= kPageSize
  unsigned vcpus = 1;                       // counters kept for vCPUs 0..vcpus-1; <= kMaxVcpus
  size_t max_violations = kDefaultMaxViolations;  // > 0
};

// One hotpluggable range, as given by the control wire.
struct RangeSpec {
  uint64_t start = 0;  // guest-physical
  uint64_t size = 0;
  RangeState state = RangeState::kOnline;
  std::string label;
  uint64_t plugged_at_ns = 0;                // CLOCK_MONOTONIC; 0 = when first seen online
  std::optional<uint64_t> plugin_start;      // see the file comment; unset = start
};

// What Snapshot() returns: plain values, summed over vCPUs.
struct BlockReport {
  uint64_t start = 0;  // guest-physical
  std::string label;
  RangeState state = RangeState::kOnline;
  uint64_t reads = 0;
  uint64_t writes = 0;
  std::optional<uint64_t> first_touch_ns;  // time to first use; unset = not touched
};

struct ViolationReport {
  uint64_t page = 0;  // guest-physical
  unsigned vcpu = 0;
  Access access = Access::kRead;
  RangeState state = RangeState::kOffline;
  std::string label;
  uint64_t count = 0;
  uint64_t first_ns = 0;
  uint64_t last_ns = 0;
};

struct Snapshot {
  bool armed = false;
  uint64_t block_size = 0;
  unsigned vcpus = 0;
  std::vector<BlockReport> blocks;          // by address
  std::vector<ViolationReport> violations;  // by page, vcpu, access
  uint64_t violations_total = 0;
  uint64_t violations_dropped = 0;
  uint64_t max_violations = 0;
  uint64_t outside_accesses = 0;
};

class AuditCore {
 public:
  // `options` must be valid (ValidateOptions); `clock` outlives the core.
  AuditCore(const CoreOptions& options, Clock* clock);
  ~AuditCore();
  AuditCore(const AuditCore&) = delete;
  AuditCore& operator=(const AuditCore&) = delete;

  // "" when the options are usable, else why not.
  [[nodiscard]] static std::string ValidateOptions(const CoreOptions& options);

  // Control thread. Replaces the set of ranges; "" on success, else why nothing changed
  // (empty or overflowing range, overlap, too many blocks).
  [[nodiscard]] std::string SetRanges(const std::vector<RangeSpec>& ranges);
  void SetArmed(bool armed) { armed_.store(armed, std::memory_order_relaxed); }
  [[nodiscard]] bool armed() const { return armed_.load(std::memory_order_relaxed); }
  [[nodiscard]] size_t range_count() const;

  // vCPU threads, the hot path: one RAM access at `addr` (as the plugin API reports it).
  // Lock-free; allocates nothing.
  void Record(unsigned vcpu, uint64_t addr, Access access);

  // Any thread; a consistent-enough view (counters are read one by one while vCPUs run).
  [[nodiscard]] Snapshot TakeSnapshot() const;

  [[nodiscard]] const CoreOptions& options() const { return options_; }

 private:
  struct Bank;
  struct BlockRef;
  struct Range;
  struct Table;
  struct ViolationSlot;

  void RecordViolation(unsigned vcpu, uint64_t page, Access access, const Range& range);

  const CoreOptions options_;
  Clock* const clock_;
  std::atomic<bool> armed_{false};
  std::atomic<const Table*> table_;

  // Control side, under control_mu_: every table and counter bank ever published.
  mutable std::mutex control_mu_;
  std::vector<std::unique_ptr<const Table>> tables_;
  std::vector<std::unique_ptr<Bank>> banks_;
  std::map<uint64_t, BlockRef> block_slots_;  // block number -> its counters, once seen
  uint64_t counter_bytes_ = 0;                // allocated by banks_

  // Violations: a fixed open-addressing table of 2^k >= 2 * max_violations slots.
  std::unique_ptr<ViolationSlot[]> violation_slots_;
  size_t violation_mask_ = 0;
  std::atomic<size_t> violation_distinct_{0};
  std::atomic<uint64_t> violations_total_{0};
  std::atomic<uint64_t> violations_dropped_{0};

  // Per-vCPU counts of accesses outside every range, one cache line each.
  struct alignas(64) PaddedCounter {
    std::atomic<uint64_t> value{0};
  };
  std::unique_ptr<PaddedCounter[]> outside_;
  std::atomic<uint64_t> bad_vcpu_{0};  // Record() with vcpu >= options_.vcpus (not counted)
};

}  // namespace memhp::audit

#endif  // MEMHP_QEMU_PLUGIN_AUDIT_CORE_H_
