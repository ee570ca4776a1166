// memhpd — AuditRanges (see audit_ranges.h).
#include "daemon/audit_ranges.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <utility>

namespace memhp::daemon {
namespace {

namespace v1 = memhp::v1;

std::vector<std::string_view> Lines(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);  // HMP answers end in CRLF
    lines.push_back(line);
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return lines;
}

std::vector<std::string_view> Words(std::string_view line) {
  std::vector<std::string_view> words;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
    const size_t begin = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t' && line[i] != '\r') ++i;
    if (i > begin) words.push_back(line.substr(begin, i - begin));
  }
  return words;
}

std::optional<uint64_t> ParseHex(std::string_view text) {
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) text.remove_prefix(2);
  if (text.empty() || text.size() > 16) return std::nullopt;
  uint64_t value = 0;
  for (char c : text) {
    int digit;
    if (c >= '0' && c <= '9') digit = c - '0';
    else if (c >= 'a' && c <= 'f') digit = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') digit = c - 'A' + 10;
    else return std::nullopt;
    value = value << 4 | static_cast<uint64_t>(digit);
  }
  return value;
}

std::string Hex(uint64_t value) {
  char buffer[24];
  std::snprintf(buffer, sizeof buffer, "0x%" PRIx64, value);
  return buffer;
}

bool Overlaps(uint64_t a, uint64_t a_size, uint64_t b, uint64_t b_size) {
  return a < b + b_size && b < a + a_size;
}

std::string_view BackendId(std::string_view memdev_path) {
  const size_t slash = memdev_path.rfind('/');
  return slash == std::string_view::npos ? memdev_path : memdev_path.substr(slash + 1);
}

}  // namespace

std::optional<std::vector<RamBlockInfo>> ParseRamBlocks(std::string_view text, std::string* error) {
  std::vector<RamBlockInfo> blocks;
  bool header = false;
  for (std::string_view line : Lines(text)) {
    const std::vector<std::string_view> words = Words(line);
    if (words.empty()) continue;
    if (!header) {
      // "Block Name    PSize    Offset    Used    Total"
      if (words.size() >= 2 && words[0] == "Block" && words[1] == "Name") {
        header = true;
        continue;
      }
      *error = "info ramblock: no header line";
      return std::nullopt;
    }
    // NAME  PSIZE UNIT  OFFSET  USED  TOTAL. A block whose owner was unrealized (a DIMM after
    // DEVICE_DELETED, before object-del) has lost its name (qemu_ram_unset_idstr): 5 words.
    if (words.size() < 5) {
      *error = "info ramblock: short row '" + std::string(line) + "'";
      return std::nullopt;
    }
    const auto offset = ParseHex(words[words.size() - 3]);
    const auto used = ParseHex(words[words.size() - 2]);
    if (!offset || !used) {
      *error = "info ramblock: bad numbers in '" + std::string(line) + "'";
      return std::nullopt;
    }
    blocks.push_back(RamBlockInfo{words.size() >= 6 ? std::string(words[0]) : std::string(), *offset, *used});
  }
  if (!header) {
    *error = "info ramblock: empty answer";
    return std::nullopt;
  }
  return blocks;
}

std::map<std::string, uint64_t> ParseMtreeRegionOffsets(std::string_view text) {
  // "  0000000100000000-00000006dfffffff (prio 0, i/o): device-memory"
  // "    0000000200000000-000000020fffffff (prio 0, ram): mem-d1"
  // Two spaces of indent per level; printed addresses are absolute within the section's root,
  // so a region's own offset is its start minus its parent's.
  std::map<std::string, uint64_t> offsets;
  std::vector<std::pair<size_t, uint64_t>> stack;  // (depth, start) of the open parents
  for (std::string_view line : Lines(text)) {
    size_t indent = 0;
    while (indent < line.size() && line[indent] == ' ') ++indent;
    std::string_view rest = line.substr(indent);
    const size_t dash = rest.find('-');
    const size_t open = rest.find(" (prio ");
    const size_t close = rest.find("): ");
    if (indent == 0 || dash == std::string_view::npos || open == std::string_view::npos ||
        close == std::string_view::npos || dash > open || open > close) {
      stack.clear();  // "address-space: ...", "memory-region: ...", blank
      continue;
    }
    const auto start = ParseHex(rest.substr(0, dash));
    if (!start) {
      stack.clear();
      continue;
    }
    const size_t depth = indent / 2;
    while (!stack.empty() && stack.back().first >= depth) stack.pop_back();
    const uint64_t parent = stack.empty() ? 0 : stack.back().second;
    stack.emplace_back(depth, *start);

    const std::string_view attrs = rest.substr(open + 7, close - open - 7);  // "0, ram"
    const size_t comma = attrs.find(", ");
    const std::string_view type = comma == std::string_view::npos ? "" : attrs.substr(comma + 2);
    const std::string_view name = rest.substr(close + 3);
    if (name.rfind("alias ", 0) == 0 || name.empty()) continue;
    if (type != "ram" && type != "rom" && type != "romd" && type != "ramd") continue;
    offsets.emplace(std::string(name), *start - parent);
  }
  return offsets;
}

const RamBlockInfo* FindRamBlock(const std::vector<RamBlockInfo>& blocks, std::string_view backend_id) {
  if (backend_id.empty()) return nullptr;
  for (const RamBlockInfo& b : blocks) {
    const std::string_view name = b.name;
    if (name == backend_id) return &b;
    if (name.size() > backend_id.size() && name.ends_with(backend_id) &&
        name[name.size() - backend_id.size() - 1] == '/') {
      return &b;
    }
  }
  return nullptr;
}

std::vector<PluginWindow> PluginWindows(const std::vector<RamBlockInfo>& blocks,
                                        const std::map<std::string, uint64_t>& region_offsets) {
  std::vector<PluginWindow> windows;
  for (const RamBlockInfo& b : blocks) {
    // The region is named like the block, without the device path before the last '/'.
    auto it = region_offsets.find(b.name);
    if (it == region_offsets.end()) {
      const size_t slash = b.name.rfind('/');
      if (slash != std::string::npos) it = region_offsets.find(b.name.substr(slash + 1));
    }
    if (it == region_offsets.end()) continue;  // not mapped (fw_cfg blobs): never accessed
    windows.push_back(PluginWindow{b.name, b.offset + it->second, b.used});
  }
  return windows;
}

AuditPlan BuildAuditPlan(const AuditInputs& in) {
  AuditPlan plan;
  const uint64_t bs = in.block_size;
  if (bs == 0) return plan;
  const std::vector<PluginWindow> windows = PluginWindows(in.ramblocks, in.region_offsets);
  std::map<uint64_t, uint64_t> scratch;
  std::map<uint64_t, uint64_t>& first_seen = in.first_seen ? *in.first_seen : scratch;
  std::set<std::string> present;

  for (const v1::MemoryDevice& dev : in.devices) {
    const bool dimm = dev.kind() == v1::MEMORY_DEVICE_KIND_DIMM;
    const bool vmem = dev.kind() == v1::MEMORY_DEVICE_KIND_VIRTIO_MEM;
    if ((!dimm && !vmem) || dev.id().empty()) continue;
    present.insert(dev.id());
    const uint64_t size = dimm ? dev.size() : dev.max_size();
    const std::string_view backend = BackendId(dev.memdev());
    const RamBlockInfo* rb = FindRamBlock(in.ramblocks, backend);
    const auto region = in.region_offsets.find(std::string(backend));
    if (rb == nullptr || region == in.region_offsets.end()) {
      plan.skipped.push_back(dev.id() + ": no RAMBlock or region for backend '" +
                             std::string(backend) + "'");
      continue;
    }
    if (dev.address() % bs != 0 || size % bs != 0 || size == 0) {
      plan.skipped.push_back(dev.id() + ": not whole guest blocks");
      continue;
    }
    // The block size comes from the guest (checked, guest_claims.h); a plan still never grows
    // past kMaxAuditRanges, whatever the devices and the block size multiply to.
    if (size / bs > kMaxAuditRanges - plan.ranges.size()) {
      plan.skipped.push_back(dev.id() + ": more than " + std::to_string(kMaxAuditRanges) +
                             " ranges in all");
      continue;
    }
    for (uint64_t b = dev.address(); b < dev.address() + size; b += bs) {
      const uint64_t plugin_start = rb->offset + region->second + (b - dev.address());
      const PluginWindow* clash = nullptr;
      for (const PluginWindow& w : windows) {
        if (w.ramblock != rb->name && Overlaps(plugin_start, bs, w.start, w.size)) clash = &w;
      }
      if (clash != nullptr) {
        plan.skipped.push_back(dev.id() + " " + Hex(b) + ": the plugin sees it where it sees " +
                               clash->ramblock + " too");
        continue;
      }
      v1::AuditRange range;
      range.set_start(b);
      range.set_size(bs);
      range.set_label(dev.id());
      range.set_plugin_start(plugin_start);
      const auto guest = in.guest_blocks.find(b);
      if (guest != in.guest_blocks.end()) {
        range.set_state(guest->second == GuestBlockState::kOnline ? v1::AUDIT_RANGE_STATE_ONLINE
                                                                  : v1::AUDIT_RANGE_STATE_OFFLINE);
      } else {
        range.set_state(dimm ? v1::AUDIT_RANGE_STATE_OFFLINE : v1::AUDIT_RANGE_STATE_UNPLUGGED);
      }
      if (range.state() == v1::AUDIT_RANGE_STATE_UNPLUGGED) {
        first_seen.erase(b);
      } else {
        const uint64_t seen = first_seen.emplace(b, in.now_ns).first->second;
        range.set_plugged_at_monotonic_ns(seen);
      }
      if (dimm) plan.by_device[dev.id()].push_back(range);
      plan.ranges.push_back(std::move(range));
    }
  }

  // Deleted DIMMs stay watched as UNPLUGGED until their place is taken, in the guest-physical
  // space (a new device) or in the plugin's (a new RAMBlock reusing the ram_addr offsets).
  for (const auto& [id, ranges] : in.deleted) {
    if (present.count(id)) {
      plan.stale_deleted.insert(id);
      continue;
    }
    bool stale = false;
    for (const v1::AuditRange& r : ranges) {
      for (const PluginWindow& w : windows) stale |= Overlaps(r.plugin_start(), r.size(), w.start, w.size);
      for (const v1::AuditRange& live : plan.ranges) stale |= Overlaps(r.start(), r.size(), live.start(), live.size());
    }
    if (stale) {
      plan.stale_deleted.insert(id);
      continue;
    }
    for (v1::AuditRange r : ranges) {
      r.set_state(v1::AUDIT_RANGE_STATE_UNPLUGGED);
      first_seen.erase(r.start());
      plan.ranges.push_back(std::move(r));
    }
  }
  std::sort(plan.ranges.begin(), plan.ranges.end(),
            [](const v1::AuditRange& a, const v1::AuditRange& b) { return a.start() < b.start(); });
  return plan;
}

}  // namespace memhp::daemon
