// memhp — the onlining policy (see online_policy.h).
//
// auto-movable follows mm/memory_hotplug.c (Linux 5.15+): auto_movable_zone_for_pfn() and
// auto_movable_can_online_movable(). What is reproduced, in bytes:
//   - the ratio's base is boot-time KERNEL memory (zone->present_early_pages): /proc/zoneinfo's
//     present pages of DMA, DMA32 and Normal minus the hot-added memory the agent knows is
//     online KERNEL ("ZONE_NORMAL memory provided by one memory device does not allow for more
//     ZONE_MOVABLE memory for a different memory device", memory-hotplug.rst);
//   - MOVABLE is the Movable zone's present pages; the group's size is added, and MOVABLE
//     must stay <= ratio% x KERNEL; 0% never allows MOVABLE;
//   - the check runs system-wide and, when numa_aware, also for the group's node — both must
//     pass, as in the kernel (auto_movable_numa_aware "also applies per NUMA node in addition
//     to the whole system");
//   - a DIMM (static group) with any block online KERNEL onlines the rest KERNEL ("If anything
//     is kernel, we have to online all kernel");
//   - virtio-mem (dynamic groups): the device's own KERNEL memory counts toward its base ("memory
//     hotplugged by a virtio-mem device that got onlined to ZONE_NORMAL will allow for more
//     ZONE_MOVABLE memory within *the same* virtio-mem device"), and every OTHER virtio-mem
//     device is taken out of the sums: its MOVABLE memory, and the boot KERNEL memory it still
//     needs for its own ratio (auto_movable_stats_account_group()'s req_kernel_early_pages).
// Groups (device_groups.h): with the host's device map, a DIMM's new blocks are one group
// (the kernel's static memory group) and a virtio-mem device's are decided block by block with
// the device's accounting updated in between (its dynamic group), as the kernel does; without
// a map, the blocks added in one burst on one node are one group treated as a DIMM. CMA pages (counted MOVABLE by the kernel)
// are not visible in the fields ParseZoneInfo keeps and are counted as KERNEL.
#include "policy/online_policy.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>

#include "sysfs/linux_abi.h"

namespace memhp::agent {
namespace {

using abi::OnlineType;
using memhp::v1::Zone;

__extension__ using U128 = unsigned __int128;  // ratio x bytes does not fit 64 bits in general

uint64_t SatAdd(uint64_t a, uint64_t b) { return a > UINT64_MAX - b ? UINT64_MAX : a + b; }
uint64_t SatSub(uint64_t a, uint64_t b) { return a > b ? a - b : 0; }
uint64_t SatMul(uint64_t a, uint64_t b) {
  const U128 p = U128{a} * b;
  return p > UINT64_MAX ? UINT64_MAX : static_cast<uint64_t>(p);
}

bool IsKernelZone(Zone z) {
  return z == memhp::v1::ZONE_DMA || z == memhp::v1::ZONE_DMA32 || z == memhp::v1::ZONE_NORMAL;
}

// "768 MiB", or "1.5 MiB" when not a whole number of MiB.
std::string MiB(uint64_t bytes) {
  constexpr uint64_t kMiB = uint64_t{1} << 20;
  char buf[48];
  if (bytes % kMiB == 0) {
    std::snprintf(buf, sizeof buf, "%" PRIu64 " MiB", bytes / kMiB);
  } else {
    std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(bytes) / kMiB);
  }
  return buf;
}

std::string Percent(uint32_t p) { return std::to_string(p) + "%"; }

// ---------------------------------------------------------------------------------------------
// auto-movable accounting for one scope (the system, or one node).
// ---------------------------------------------------------------------------------------------
struct Scope {
  bool whole_system = true;
  uint32_t node = 0;
  bool Has(uint32_t n) const { return whole_system || n == node; }
  std::string Name() const { return whole_system ? "system" : "node " + std::to_string(node); }
};

struct RatioCheck {
  bool fits = false;
  std::string text;  // "node 1 MOVABLE 768 MiB + 256 MiB ≤ 301% of KERNEL 384 MiB (...)"
};

RatioCheck CheckRatio(const PolicyInput& in, const Scope& scope, uint64_t group_bytes) {
  const uint32_t ratio = in.config.movable_ratio_percent;
  uint64_t kernel = 0, movable = 0;
  for (const ZoneInfoEntry& z : in.zoneinfo) {
    if (!scope.Has(z.node)) continue;
    const uint64_t bytes = SatMul(z.present_pages, in.page_size_bytes);
    if (IsKernelZone(z.zone)) kernel = SatAdd(kernel, bytes);
    if (z.zone == memhp::v1::ZONE_MOVABLE) movable = SatAdd(movable, bytes);
  }
  // Boot KERNEL only: hot-added KERNEL memory of every device is not a base for anyone...
  uint64_t hot_kernel = in.device_kind == DeviceKind::kBootMemory ? 0 : in.device_kernel_bytes;
  uint64_t other_vm_movable = 0, other_vm_req = 0;
  for (const DeviceMemory& d : in.other_devices) {
    if (!scope.Has(d.node)) continue;
    hot_kernel = SatAdd(hot_kernel, d.kernel_bytes);
    if (d.kind != DeviceKind::kVirtioMem) continue;
    // ...and another virtio-mem device keeps the boot KERNEL its own MOVABLE needs.
    const uint64_t needs = static_cast<uint64_t>(U128{d.movable_bytes} * 100 / ratio);
    other_vm_req = SatAdd(other_vm_req, SatSub(needs, d.kernel_bytes));
    other_vm_movable = SatAdd(other_vm_movable, d.movable_bytes);
  }
  uint64_t base = SatSub(kernel, hot_kernel);
  RatioCheck out;
  if (base <= other_vm_req && other_vm_req > 0) {
    out.text = scope.Name() + " boot KERNEL " + MiB(base) + " is all needed by other virtio-mem "
               "devices' MOVABLE memory at " + Percent(ratio);
    return out;
  }
  base -= other_vm_req;
  movable = SatSub(movable, other_vm_movable);
  const uint64_t own_kernel =
      in.device_kind == DeviceKind::kVirtioMem ? in.device_kernel_bytes : 0;
  base = SatAdd(base, own_kernel);

  // The kernel: movable_pages <= ratio * kernel_early_pages / 100 (integer division), which
  // for whole numbers is exactly 100 * movable <= ratio * kernel.
  out.fits = U128{movable} * 100 + U128{group_bytes} * 100 <= U128{base} * ratio;
  out.text = scope.Name() + " MOVABLE " + MiB(movable) + " + " + MiB(group_bytes) +
             (out.fits ? " ≤ " : " > ") + Percent(ratio) + " of KERNEL " + MiB(base);
  std::vector<std::string> notes;
  if (hot_kernel > 0) notes.push_back("boot memory only: " + MiB(hot_kernel) +
                                      " hot-added KERNEL not counted");
  if (own_kernel > 0) notes.push_back("incl. " + MiB(own_kernel) +
                                      " KERNEL of this virtio-mem device");
  if (other_vm_movable > 0 || other_vm_req > 0) {
    notes.push_back("other virtio-mem devices: " + MiB(other_vm_movable) + " MOVABLE and " +
                    MiB(other_vm_req) + " KERNEL set aside");
  }
  for (std::size_t i = 0; i < notes.size(); ++i) out.text += (i == 0 ? " (" : "; ") + notes[i];
  if (!notes.empty()) out.text += ")";
  return out;
}

// ---------------------------------------------------------------------------------------------
// Policy -> wanted zone class, then valid_zones -> what to write.
// ---------------------------------------------------------------------------------------------
// What the policy wants written, before valid_zones had their say.
struct Choice {
  OnlineType want = OnlineType::kOffline;
  std::string reason;
};

Choice AutoMovable(const PolicyInput& in, uint64_t group_bytes) {
  const std::string p = "auto-movable: ";
  if (in.config.movable_ratio_percent == 0) {
    return {OnlineType::kOnlineKernel, p + "ratio 0% never allows MOVABLE"};
  }
  if (in.device_kind == DeviceKind::kDimm && in.device_kernel_bytes > 0) {
    return {OnlineType::kOnlineKernel, p + "the DIMM already has " + MiB(in.device_kernel_bytes) +
                               " online KERNEL; the rest follows (one zone per DIMM)"};
  }
  RatioCheck sys = CheckRatio(in, Scope{}, group_bytes);
  if (!sys.fits) return {OnlineType::kOnlineKernel, p + sys.text};
  if (!in.config.numa_aware) return {OnlineType::kOnlineMovable, p + sys.text};
  RatioCheck node = CheckRatio(in, Scope{false, in.node}, group_bytes);
  if (!node.fits) return {OnlineType::kOnlineKernel, p + node.text};
  return {OnlineType::kOnlineMovable, p + node.text + "; " + sys.text};
}

Choice ChooseByPolicy(const PolicyInput& in, uint64_t group_bytes) {
  switch (in.requested_zone) {
    case ZoneRequest::kKernel: return {OnlineType::kOnlineKernel, "host requested KERNEL"};
    case ZoneRequest::kMovable: return {OnlineType::kOnlineMovable, "host requested MOVABLE"};
    case ZoneRequest::kDefault: return {OnlineType::kOnline, "host requested the default zone"};
    case ZoneRequest::kNone: break;
  }
  if (in.config.kind == PolicyKind::kAutoMovable) return AutoMovable(in, group_bytes);
  const std::optional<OnlineType> fixed = PolicyOnlineType(in.config.kind);
  if (!fixed) return {OnlineType::kOffline, "unknown policy: left offline"};
  switch (*fixed) {
    case OnlineType::kOffline: return {*fixed, "manual: left offline"};
    case OnlineType::kOnline: return {*fixed, "online: the kernel's default zone"};
    case OnlineType::kOnlineKernel:
    case OnlineType::kOnlineMovable: return {*fixed, std::string(abi::OnlineTypeName(*fixed))};
  }
  return {OnlineType::kOffline, "unknown policy: left offline"};
}

bool Allows(const GroupBlock& b, OnlineType want) {
  if (!b.valid_zones) return true;
  const std::vector<Zone>& zs = *b.valid_zones;
  if (want == OnlineType::kOnlineMovable) {
    return std::find(zs.begin(), zs.end(), memhp::v1::ZONE_MOVABLE) != zs.end();
  }
  return std::any_of(zs.begin(), zs.end(), IsKernelZone);
}

std::string ZonesText(const GroupBlock& b) {
  std::string s;
  for (Zone z : *b.valid_zones) s += (s.empty() ? "" : " ") + std::string(ZoneName(z));
  return s.empty() ? std::string(abi::kZoneNone) : s;
}

std::string ClassName(OnlineType w) {
  return w == OnlineType::kOnlineMovable ? "Movable" : "a kernel zone";
}

OnlineDecision Offline(std::string reason) {
  OnlineDecision d;
  d.reason = std::move(reason);
  return d;
}

OnlineDecision Finish(const PolicyInput& in, OnlineType action, Zone zone, bool fell_back,
                      std::string reason) {
  OnlineDecision d;
  d.action = action;
  d.zone = zone;
  d.fell_back = fell_back;
  d.reason = std::move(reason);
  for (const GroupBlock& b : in.blocks) d.writes.push_back({b.id, abi::OnlineTypeName(action)});
  return d;
}

// The kernel zone a kernel online lands in: the first kernel zone valid_zones lists (the
// kernel prints the default zone first), Normal when no block's valid_zones is known.
Zone KernelZoneOf(const PolicyInput& in) {
  for (const GroupBlock& b : in.blocks) {
    if (!b.valid_zones) continue;
    for (Zone z : *b.valid_zones) {
      if (IsKernelZone(z)) return z;
    }
  }
  return memhp::v1::ZONE_NORMAL;
}

OnlineDecision ResolveClass(const PolicyInput& in, OnlineType want, std::string reason) {
  const GroupBlock* refusing = nullptr;
  for (const GroupBlock& b : in.blocks) {
    if (!Allows(b, want)) {
      refusing = &b;
      break;
    }
  }
  bool fell_back = false;
  if (refusing != nullptr) {
    const OnlineType other =
        want == OnlineType::kOnlineMovable ? OnlineType::kOnlineKernel : OnlineType::kOnlineMovable;
    reason += "; block " + std::to_string(refusing->id) + "'s valid_zones (" +
              ZonesText(*refusing) + ") do not allow " + ClassName(want);
    for (const GroupBlock& b : in.blocks) {
      if (!Allows(b, other)) {
        return Offline(reason + ", and block " + std::to_string(b.id) + "'s (" + ZonesText(b) +
                       ") do not allow " + ClassName(other) +
                       ": no zone every block can take, left offline");
      }
    }
    want = other;
    fell_back = true;
  }
  if (want == OnlineType::kOnlineMovable) {
    if (fell_back) reason += ": onlining Movable instead";
    return Finish(in, OnlineType::kOnlineMovable, memhp::v1::ZONE_MOVABLE, fell_back, reason);
  }
  const Zone zone = KernelZoneOf(in);
  if (fell_back) reason += ": onlining " + std::string(ZoneName(zone)) + " instead";
  return Finish(in, OnlineType::kOnlineKernel, zone, fell_back, reason);
}

// "online": the kernel picks each block's zone (zone_for_pfn_range(MMOP_ONLINE, ...)), which
// valid_zones prints first. If the blocks' defaults differ, the group is pinned explicitly to
// the first block's so that it still lands in one zone.
OnlineDecision ResolveDefault(const PolicyInput& in, std::string reason) {
  std::optional<Zone> first;
  for (const GroupBlock& b : in.blocks) {
    if (!b.valid_zones) continue;
    const Zone z = b.valid_zones->front();
    if (!first) {
      first = z;
    } else if (z != *first) {
      reason += " differs between blocks (block " + std::to_string(b.id) + ": " +
                std::string(ZoneName(z)) + "), pinning the group to " +
                std::string(ZoneName(*first));
      return ResolveClass(
          in, *first == memhp::v1::ZONE_MOVABLE ? OnlineType::kOnlineMovable : OnlineType::kOnlineKernel,
          std::move(reason));
    }
  }
  if (!first) return Finish(in, OnlineType::kOnline, memhp::v1::ZONE_UNSPECIFIED, false,
                            reason + " (valid_zones unknown)");
  return Finish(in, OnlineType::kOnline, *first, false,
                reason + " (" + std::string(ZoneName(*first)) + ")");
}

}  // namespace

Result<PolicyKind> ParsePolicyKind(std::string_view text) {
  for (PolicyKind k : {PolicyKind::kManual, PolicyKind::kOnline, PolicyKind::kOnlineKernel,
                       PolicyKind::kOnlineMovable, PolicyKind::kAutoMovable}) {
    if (text == FormatPolicyKind(k)) return k;
  }
  return Error::Invalid("unknown onlining policy '" + std::string(text) +
                        "' (expected manual, online, online_kernel, online_movable or "
                        "auto-movable)");
}

std::string_view FormatPolicyKind(PolicyKind kind) {
  switch (kind) {
    case PolicyKind::kManual: return "manual";
    case PolicyKind::kAutoMovable: return "auto-movable";  // online_policy_to_str[]
    case PolicyKind::kOnline:
    case PolicyKind::kOnlineKernel:
    case PolicyKind::kOnlineMovable:
      return abi::OnlineTypeName(*PolicyOnlineType(kind));  // online_type_to_str[]
  }
  return "";
}

std::optional<OnlineType> PolicyOnlineType(PolicyKind kind) {
  switch (kind) {
    case PolicyKind::kManual: return OnlineType::kOffline;
    case PolicyKind::kOnline: return OnlineType::kOnline;
    case PolicyKind::kOnlineKernel: return OnlineType::kOnlineKernel;
    case PolicyKind::kOnlineMovable: return OnlineType::kOnlineMovable;
    case PolicyKind::kAutoMovable: return std::nullopt;
  }
  return std::nullopt;
}

OnlineDecision Decide(const PolicyInput& in) {
  if (in.blocks.empty()) return Offline("no blocks to online");
  if (in.block_size_bytes == 0) return Offline("block size unknown (0): left offline");
  const uint64_t group_bytes = SatMul(in.block_size_bytes, in.blocks.size());
  Choice c = ChooseByPolicy(in, group_bytes);
  if (c.want == OnlineType::kOffline) return Offline(std::move(c.reason));
  // valid_zones "none": the kernel offers no zone at all (valid_zones_show()).
  for (const GroupBlock& b : in.blocks) {
    if (b.valid_zones && b.valid_zones->empty()) {
      return Offline(c.reason + "; block " + std::to_string(b.id) +
                     "'s valid_zones is none: no zone to online it to, left offline");
    }
  }
  if (c.want == OnlineType::kOnline) return ResolveDefault(in, std::move(c.reason));
  return ResolveClass(in, c.want, std::move(c.reason));
}

}  // namespace memhp::agent
