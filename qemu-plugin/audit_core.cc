// memhp-audit — AuditCore (see audit_core.h).
#include "audit_core.h"

#include <algorithm>
#include <limits>
#include <map>
#include <tuple>
#include <utility>

namespace memhp::audit {
namespace {

constexpr uint64_t kNotTouched = std::numeric_limits<uint64_t>::max();
// Bound on the counters the core allocates (all banks together), so a bad SetRanges (a huge
// range with a small block size) is refused rather than exhausting QEMU's memory.
constexpr uint64_t kMaxCounterBytes = uint64_t{256} << 20;
constexpr uint64_t kWriteBit = uint64_t{1} << 11;  // in the violation key, above the vCPU bits

bool IsPowerOfTwo(uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }

size_t NextPowerOfTwo(size_t v) {
  size_t p = 1;
  while (p < v) p <<= 1;
  return p;
}

// A single writer per row (a vCPU index runs on one thread at a time, in MTTCG and in
// round-robin TCG alike), so a relaxed load + store is a correct increment and avoids the
// locked read-modify-write of fetch_add.
inline void Bump(std::atomic<uint64_t>& counter) {
  counter.store(counter.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

}  // namespace

const char* RangeStateName(RangeState state) {
  switch (state) {
    case RangeState::kOnline: return "online";
    case RangeState::kOffline: return "offline";
    case RangeState::kUnplugged: return "unplugged";
  }
  return "unknown";
}

const char* AccessName(Access access) { return access == Access::kWrite ? "write" : "read"; }

// Counters of `blocks` blocks for every vCPU, allocated once and never moved. Row v (one per
// vCPU) holds reads and writes of each block; rows are padded to whole cache lines.
struct AuditCore::Bank {
  Bank(size_t n_blocks, unsigned n_vcpus)
      : blocks(n_blocks),
        stride((2 * n_blocks + 7) / 8 * 8),
        counters(new std::atomic<uint64_t>[stride * n_vcpus]()),
        first_touch(new std::atomic<uint64_t>[n_blocks]()) {
    for (size_t i = 0; i < n_blocks; ++i) first_touch[i].store(kNotTouched);
  }
  std::atomic<uint64_t>& counter(unsigned vcpu, size_t slot, Access access) {
    return counters[vcpu * stride + 2 * slot + (access == Access::kWrite ? 1 : 0)];
  }
  const size_t blocks;
  const size_t stride;
  std::unique_ptr<std::atomic<uint64_t>[]> counters;
  std::unique_ptr<std::atomic<uint64_t>[]> first_touch;  // kNotTouched or ns since the plug
};

struct AuditCore::BlockRef {
  Bank* bank = nullptr;
  size_t slot = 0;
};

struct AuditCore::Range {
  uint64_t hw_start = 0;  // as Record() sees addresses
  uint64_t hw_end = 0;    // exclusive
  uint64_t start = 0;     // guest-physical
  RangeState state = RangeState::kOnline;
  std::string label;
  uint64_t plugged_at_ns = 0;
  uint64_t first_block = 0;     // start / block_size
  std::vector<BlockRef> blocks;  // blocks first_block.. covering the range
};

// Immutable once published.
struct AuditCore::Table {
  std::vector<Range> ranges;  // by hw_start, non-overlapping
  uint64_t lo = std::numeric_limits<uint64_t>::max();
  uint64_t hi = 0;

  const Range* Find(uint64_t addr) const {
    if (addr < lo || addr >= hi) return nullptr;  // the common case: boot memory
    auto it = std::upper_bound(ranges.begin(), ranges.end(), addr,
                               [](uint64_t a, const Range& r) { return a < r.hw_start; });
    if (it == ranges.begin()) return nullptr;
    --it;
    return addr < it->hw_end ? &*it : nullptr;
  }
};

struct AuditCore::ViolationSlot {
  std::atomic<uint64_t> key{0};  // violation key + 1; 0 = empty
  std::atomic<uint64_t> count{0};  // > 0 once the fields below are set (release/acquire)
  std::atomic<uint64_t> first_ns{0};
  std::atomic<uint64_t> last_ns{0};
  std::atomic<const Range*> range{nullptr};  // the range at the first access (tables live on)
};

AuditCore::AuditCore(const CoreOptions& options, Clock* clock)
    : options_(options), clock_(clock) {
  auto* empty = new Table();
  tables_.emplace_back(empty);
  table_.store(empty, std::memory_order_release);
  const size_t slots = NextPowerOfTwo(std::max<size_t>(2 * options_.max_violations, 2));
  violation_slots_.reset(new ViolationSlot[slots]);
  violation_mask_ = slots - 1;
  outside_.reset(new PaddedCounter[options_.vcpus]);
}

AuditCore::~AuditCore() = default;

std::string AuditCore::ValidateOptions(const CoreOptions& options) {
  if (!IsPowerOfTwo(options.block_size) || options.block_size < kPageSize) {
    return "block size must be a power of two of at least 4096 bytes";
  }
  if (options.vcpus == 0 || options.vcpus > kMaxVcpus) {
    return "vCPU count must be between 1 and " + std::to_string(kMaxVcpus);
  }
  if (options.max_violations == 0 || options.max_violations > (size_t{1} << 20)) {
    return "max_violations must be between 1 and 1048576";
  }
  return "";
}

size_t AuditCore::range_count() const {
  return table_.load(std::memory_order_acquire)->ranges.size();
}

std::string AuditCore::SetRanges(const std::vector<RangeSpec>& specs) {
  std::lock_guard<std::mutex> lock(control_mu_);
  const uint64_t bs = options_.block_size;
  const Table* old = table_.load(std::memory_order_acquire);

  auto table = std::make_unique<Table>();
  for (size_t i = 0; i < specs.size(); ++i) {
    const RangeSpec& s = specs[i];
    const std::string what = "range " + std::to_string(i) + " (" + s.label + ")";
    const uint64_t hw = s.plugin_start.value_or(s.start);
    if (s.size == 0) return what + ": size is 0";
    if (s.start > UINT64_MAX - s.size || hw > UINT64_MAX - s.size) {
      return what + ": start + size overflows 64 bits";
    }
    Range r;
    r.hw_start = hw;
    r.hw_end = hw + s.size;
    r.start = s.start;
    r.state = s.state;
    r.label = s.label;
    r.plugged_at_ns = s.plugged_at_ns;
    r.first_block = s.start / bs;
    table->ranges.push_back(std::move(r));
  }
  // No overlap, neither in guest-physical space nor in what the plugin API reports.
  std::vector<std::pair<uint64_t, uint64_t>> gpa;
  for (const Range& r : table->ranges) gpa.emplace_back(r.start, r.start + (r.hw_end - r.hw_start));
  std::sort(gpa.begin(), gpa.end());
  for (size_t i = 1; i < gpa.size(); ++i) {
    if (gpa[i].first < gpa[i - 1].second) return "ranges overlap";
  }
  std::sort(table->ranges.begin(), table->ranges.end(),
            [](const Range& a, const Range& b) { return a.hw_start < b.hw_start; });
  for (size_t i = 1; i < table->ranges.size(); ++i) {
    if (table->ranges[i].hw_start < table->ranges[i - 1].hw_end) {
      return "ranges overlap in plugin addresses (plugin_start)";
    }
  }

  // Blocks: one seen before keeps its counters; new ones get slots in one new bank. Counted
  // arithmetically first, so a huge range is refused before anything is walked.
  const uint64_t max_blocks = kMaxCounterBytes / (16 * options_.vcpus);
  uint64_t wanted = 0;
  for (const Range& r : table->ranges) {
    wanted += (r.start + (r.hw_end - r.hw_start) - 1) / bs - r.first_block + 1;
    if (wanted > max_blocks + table->ranges.size()) break;
  }
  std::vector<uint64_t> fresh;
  if (wanted <= max_blocks + table->ranges.size()) {
    for (const Range& r : table->ranges) {
      const uint64_t last = (r.start + (r.hw_end - r.hw_start) - 1) / bs;
      for (uint64_t b = r.first_block; b <= last; ++b) {
        if (!block_slots_.count(b)) fresh.push_back(b);
      }
    }
    std::sort(fresh.begin(), fresh.end());
    fresh.erase(std::unique(fresh.begin(), fresh.end()), fresh.end());
  }
  const uint64_t fresh_bytes = (2 * fresh.size() + 7) / 8 * 64 * options_.vcpus;
  if (wanted > max_blocks + table->ranges.size() || counter_bytes_ + fresh_bytes > kMaxCounterBytes) {
    return "too many blocks of " + std::to_string(bs) + " bytes (counters are bounded to " +
           std::to_string(kMaxCounterBytes >> 20) + " MiB)";
  }
  if (!fresh.empty()) {
    banks_.push_back(std::make_unique<Bank>(fresh.size(), options_.vcpus));
    counter_bytes_ += fresh_bytes;
    for (size_t i = 0; i < fresh.size(); ++i) block_slots_[fresh[i]] = BlockRef{banks_.back().get(), i};
  }

  const uint64_t now = clock_->NowNs();
  for (Range& r : table->ranges) {
    const uint64_t last = (r.start + (r.hw_end - r.hw_start) - 1) / bs;
    for (uint64_t b = r.first_block; b <= last; ++b) r.blocks.push_back(block_slots_.at(b));
    table->lo = std::min(table->lo, r.hw_start);
    table->hi = std::max(table->hi, r.hw_end);
    if (r.state != RangeState::kOnline) continue;
    // Online now: same plug as in the old table (online there too, same plug time asked), or a
    // new one, which restarts time to first use for its blocks.
    const Range* before = nullptr;
    for (const Range& o : old->ranges) {
      if (o.start == r.start && o.state == RangeState::kOnline) before = &o;
    }
    if (before && (r.plugged_at_ns == 0 || r.plugged_at_ns == before->plugged_at_ns)) {
      r.plugged_at_ns = before->plugged_at_ns;
      continue;
    }
    if (r.plugged_at_ns == 0) r.plugged_at_ns = now;
    for (const BlockRef& ref : r.blocks) {
      ref.bank->first_touch[ref.slot].store(kNotTouched,
                                                                std::memory_order_relaxed);
    }
  }

  const Table* published = table.get();
  tables_.push_back(std::move(table));
  table_.store(published, std::memory_order_release);
  return "";
}

void AuditCore::Record(unsigned vcpu, uint64_t addr, Access access) {
  if (vcpu >= options_.vcpus) {
    bad_vcpu_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  const Table* table = table_.load(std::memory_order_acquire);
  const Range* range = table->Find(addr);
  if (range == nullptr) {
    Bump(outside_[vcpu].value);
    return;
  }
  const uint64_t gpa = range->start + (addr - range->hw_start);
  const BlockRef& ref = range->blocks[gpa / options_.block_size - range->first_block];
  Bank* bank = ref.bank;
  Bump(bank->counter(vcpu, ref.slot, access));
  if (range->state == RangeState::kOnline) {
    std::atomic<uint64_t>& first = bank->first_touch[ref.slot];
    if (first.load(std::memory_order_relaxed) == kNotTouched) {
      const uint64_t now = clock_->NowNs();
      uint64_t expected = kNotTouched;
      const uint64_t since = now > range->plugged_at_ns ? now - range->plugged_at_ns : 0;
      first.compare_exchange_strong(expected, since, std::memory_order_relaxed);
    }
    return;
  }
  RecordViolation(vcpu, gpa & ~(kPageSize - 1), access, *range);
}

void AuditCore::RecordViolation(unsigned vcpu, uint64_t page, Access access,
                                const Range& range) {
  violations_total_.fetch_add(1, std::memory_order_relaxed);
  const uint64_t key = page | vcpu | (access == Access::kWrite ? kWriteBit : 0);
  const uint64_t stored = key + 1;  // a guest-physical page is far below 2^64 - 4096
  const uint64_t now = clock_->NowNs();
  size_t i = static_cast<size_t>((key * 0x9E3779B97F4A7C15ull) >> 20) & violation_mask_;
  // Linear probing with no deletion: an empty slot ends the key's chain.
  for (size_t probes = 0; probes <= violation_mask_; ++probes, i = (i + 1) & violation_mask_) {
    ViolationSlot& slot = violation_slots_[i];
    uint64_t seen = slot.key.load(std::memory_order_acquire);
    if (seen == 0) {
      if (violation_distinct_.fetch_add(1, std::memory_order_relaxed) >= options_.max_violations) {
        violation_distinct_.fetch_sub(1, std::memory_order_relaxed);
        violations_dropped_.fetch_add(1, std::memory_order_relaxed);
        return;
      }
      if (slot.key.compare_exchange_strong(seen, stored, std::memory_order_acq_rel)) {
        slot.first_ns.store(now, std::memory_order_relaxed);
        slot.last_ns.store(now, std::memory_order_relaxed);
        slot.range.store(&range, std::memory_order_relaxed);
        slot.count.fetch_add(1, std::memory_order_release);
        return;
      }
      violation_distinct_.fetch_sub(1, std::memory_order_relaxed);  // someone else's slot now
    }
    if (seen == stored) {
      slot.count.fetch_add(1, std::memory_order_relaxed);
      slot.last_ns.store(now, std::memory_order_relaxed);
      return;
    }
  }
  violations_dropped_.fetch_add(1, std::memory_order_relaxed);  // unreachable: mask >= 2 * max
}

Snapshot AuditCore::TakeSnapshot() const {
  Snapshot snap;
  snap.armed = armed();
  snap.block_size = options_.block_size;
  snap.vcpus = options_.vcpus;
  snap.max_violations = options_.max_violations;

  const Table* table = table_.load(std::memory_order_acquire);
  std::map<uint64_t, BlockReport> blocks;  // by block number; a shared block goes to one range
  for (const Range& r : table->ranges) {
    for (size_t b = 0; b < r.blocks.size(); ++b) {
      auto [it, inserted] = blocks.try_emplace(r.first_block + b);
      if (!inserted) continue;
      BlockReport& out = it->second;
      Bank* bank = r.blocks[b].bank;
      const size_t slot = r.blocks[b].slot;
      out.start = (r.first_block + b) * options_.block_size;
      out.label = r.label;
      out.state = r.state;
      for (unsigned v = 0; v < options_.vcpus; ++v) {
        out.reads += bank->counter(v, slot, Access::kRead).load(std::memory_order_relaxed);
        out.writes += bank->counter(v, slot, Access::kWrite).load(std::memory_order_relaxed);
      }
      const uint64_t first = bank->first_touch[slot].load(std::memory_order_relaxed);
      if (r.state == RangeState::kOnline && first != kNotTouched) out.first_touch_ns = first;
    }
  }
  for (auto& [number, block] : blocks) snap.blocks.push_back(std::move(block));

  for (size_t i = 0; i <= violation_mask_; ++i) {
    const ViolationSlot& slot = violation_slots_[i];
    const uint64_t stored = slot.key.load(std::memory_order_acquire);
    const uint64_t count = slot.count.load(std::memory_order_acquire);
    if (stored == 0 || count == 0) continue;  // empty, or being filled right now
    const uint64_t key = stored - 1;
    const Range* range = slot.range.load(std::memory_order_relaxed);
    ViolationReport v;
    v.page = key & ~(kPageSize - 1);
    v.vcpu = static_cast<unsigned>(key & (kWriteBit - 1));
    v.access = (key & kWriteBit) ? Access::kWrite : Access::kRead;
    v.state = range->state;
    v.label = range->label;
    v.count = count;
    v.first_ns = slot.first_ns.load(std::memory_order_relaxed);
    v.last_ns = slot.last_ns.load(std::memory_order_relaxed);
    snap.violations.push_back(std::move(v));
  }
  std::sort(snap.violations.begin(), snap.violations.end(),
            [](const ViolationReport& a, const ViolationReport& b) {
              return std::tie(a.page, a.vcpu, a.access) < std::tie(b.page, b.vcpu, b.access);
            });
  snap.violations_total = violations_total_.load(std::memory_order_relaxed);
  snap.violations_dropped = violations_dropped_.load(std::memory_order_relaxed);
  for (unsigned v = 0; v < options_.vcpus; ++v) {
    snap.outside_accesses += outside_[v].value.load(std::memory_order_relaxed);
  }
  return snap;
}

}  // namespace memhp::audit
