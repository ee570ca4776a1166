// blocks_view — see blocks_view.h.
#include "ctl/blocks_view.h"

#include <json-glib/json-glib.h>

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <optional>

#include "ctl/json_text.h"
#include "ctl/scols_table.h"
#include "ctl/status_view.h"

namespace memhp::ctl {
namespace {

struct ColumnInfo {
  BlockColumn column;
  const char* name;
  Align align;
  JsonKind json;
};

constexpr ColumnInfo kColumns[] = {
    {BlockColumn::kRange, "RANGE", Align::kLeft, JsonKind::kString},
    {BlockColumn::kSize, "SIZE", Align::kRight, JsonKind::kNumber},
    {BlockColumn::kState, "STATE", Align::kRight, JsonKind::kString},
    {BlockColumn::kBlock, "BLOCK", Align::kRight, JsonKind::kString},
    {BlockColumn::kNode, "NODE", Align::kRight, JsonKind::kNumber},
    {BlockColumn::kZones, "ZONES", Align::kRight, JsonKind::kString},
    {BlockColumn::kDevice, "DEVICE", Align::kRight, JsonKind::kString},
    {BlockColumn::kRemovable, "REMOVABLE", Align::kRight, JsonKind::kBoolean},
};

const ColumnInfo& InfoOf(BlockColumn column) {
  for (const ColumnInfo& info : kColumns) {
    if (info.column == column) return info;
  }
  return kColumns[0];  // every BlockColumn has a row above
}

bool Has(const std::vector<BlockColumn>& columns, BlockColumn c) {
  for (BlockColumn x : columns) {
    if (x == c) return true;
  }
  return false;
}

std::string StateName(memhp::v1::BlockState state) {
  switch (state) {
    case memhp::v1::BLOCK_STATE_ONLINE: return "online";
    case memhp::v1::BLOCK_STATE_OFFLINE: return "offline";
    case memhp::v1::BLOCK_STATE_GOING_OFFLINE: return "going-offline";
    default: return "unknown";
  }
}

// lsmem's ZONES: the zone of an online block; where an offline one could go ("/"-joined), or
// "None" (valid_zones printed "none").
std::string ZonesOf(const memhp::v1::MemoryBlock& b) {
  if (b.state() == memhp::v1::BLOCK_STATE_ONLINE && b.zone() != memhp::v1::ZONE_UNSPECIFIED) {
    return std::string(FormatZone(b.zone()));
  }
  std::string out;
  for (int z : b.valid_zones()) out += (out.empty() ? "" : "/") + std::string(FormatZone(static_cast<memhp::v1::Zone>(z)));
  return out.empty() ? "None" : out;
}

// The QEMU device whose guest-physical range holds `address`: a DIMM's [addr, addr + size), a
// virtio-mem device's whole region [memaddr, memaddr + max-size) (its plugged part moves).
std::string DeviceAt(const memhp::v1::VmStatus& status, uint64_t address) {
  for (const memhp::v1::MemoryDevice& d : status.devices()) {
    const uint64_t length = d.kind() == memhp::v1::MEMORY_DEVICE_KIND_VIRTIO_MEM ? d.max_size() : d.size();
    if (address >= d.address() && address - d.address() < length) {
      return d.id().empty() ? FormatDeviceKind(d) : d.id();
    }
  }
  return "";
}

bool SameSplit(const BlockRange& a, const BlockRange& b, const std::vector<BlockColumn>& split) {
  for (BlockColumn c : split) {
    switch (c) {
      case BlockColumn::kState: if (a.state != b.state) return false; break;
      case BlockColumn::kNode: if (a.node != b.node) return false; break;
      case BlockColumn::kZones: if (a.zones != b.zones) return false; break;
      case BlockColumn::kDevice: if (a.device != b.device) return false; break;
      case BlockColumn::kRemovable: if (a.removable != b.removable) return false; break;
      default: break;
    }
  }
  return true;
}

std::string Hex16(uint64_t value) {
  char out[24];
  std::snprintf(out, sizeof out, "0x%016" PRIx64, value);
  return out;
}

std::string Cell(const BlockRange& r, BlockColumn c, bool bytes) {
  switch (c) {
    case BlockColumn::kRange: return Hex16(r.start) + "-" + Hex16(r.start + r.size - 1);
    case BlockColumn::kSize: return bytes ? std::to_string(r.size) : FormatBytes(r.size);
    case BlockColumn::kState: return r.state;
    case BlockColumn::kBlock:
      return r.first_block == r.last_block ? std::to_string(r.first_block)
                                           : std::to_string(r.first_block) + "-" + std::to_string(r.last_block);
    case BlockColumn::kNode: return r.node < 0 ? "-" : std::to_string(r.node);
    case BlockColumn::kZones: return r.zones;
    case BlockColumn::kDevice: return r.device.empty() ? "-" : r.device;
    case BlockColumn::kRemovable: return r.removable ? "yes" : "no";
  }
  return "";
}

// The table of `report`, JSON or text (scols_table.h escapes every cell for the terminal).
std::string Print(const BlocksReport& report, const BlocksViewOptions& options, bool json) {
  std::vector<TableColumn> columns;
  for (BlockColumn c : options.columns) {
    const ColumnInfo& info = InfoOf(c);
    columns.push_back({info.name, info.align, info.json});
  }
  ScolsTable table(std::move(columns));
  for (const BlockRange& r : report.ranges) {
    std::vector<std::optional<std::string>> row;
    for (BlockColumn c : options.columns) {
      if (json && ((c == BlockColumn::kDevice && r.device.empty()) || (c == BlockColumn::kNode && r.node < 0))) {
        row.emplace_back();  // no data: null
      } else if (json && c == BlockColumn::kRemovable) {
        row.emplace_back(r.removable ? "true" : "false");
      } else {
        row.emplace_back(Cell(r, c, options.bytes || json));
      }
    }
    table.AddRow(std::move(row));
  }
  if (json) return table.Json("memory");
  TableStyle style;
  style.raw = options.raw;
  style.noheadings = options.noheadings;
  return table.Text(style);
}

}  // namespace

Result<std::vector<BlockColumn>> ParseBlockColumns(std::string_view list, bool for_split) {
  std::vector<BlockColumn> columns;
  std::string known;
  for (const ColumnInfo& info : kColumns) known += (known.empty() ? "" : ", ") + std::string(info.name);
  if (for_split && g_ascii_strcasecmp(std::string(list).c_str(), "none") == 0) return columns;
  size_t start = 0;
  while (start <= list.size()) {
    const size_t comma = list.find(',', start);
    const std::string name(list.substr(start, comma == std::string_view::npos ? list.npos : comma - start));
    const ColumnInfo* found = nullptr;
    for (const ColumnInfo& info : kColumns) {
      if (g_ascii_strcasecmp(name.c_str(), info.name) == 0) found = &info;
    }
    if (!found) return Error::Invalid("unknown column '" + name + "' (" + known + ")");
    if (for_split && (found->column == BlockColumn::kRange || found->column == BlockColumn::kSize ||
                      found->column == BlockColumn::kBlock)) {
      return Error::Invalid(std::string(found->name) + " does not split ranges (STATE, REMOVABLE, NODE, ZONES, DEVICE or none)");
    }
    if (Has(columns, found->column)) return Error::Invalid("column " + std::string(found->name) + " named twice");
    columns.push_back(found->column);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return columns;
}

Result<BlocksReport> BuildBlocksReport(const memhp::v1::VmStatus& status, const BlocksViewOptions& options) {
  if (!status.agent().has_inventory()) {
    return Error::Invalid(status.agent().connected() ? "the agent sent no inventory yet"
                                                     : "no inventory: the agent is not connected");
  }
  const memhp::v1::Inventory& inventory = status.agent().inventory();
  BlocksReport report;
  report.block_size = inventory.block_size_bytes();
  if (report.block_size == 0) return Error::Invalid("the agent's inventory has no block size");
  std::vector<BlockColumn> split = options.split;
  if (!options.split_given) {
    for (BlockColumn c : options.columns) split.push_back(c);
  }
  for (const memhp::v1::MemoryBlock& b : inventory.blocks()) {
    BlockRange r;
    r.first_block = r.last_block = b.id();
    r.start = b.start_address();
    r.size = report.block_size;
    r.state = StateName(b.state());
    r.node = b.node();
    r.zones = ZonesOf(b);
    r.device = DeviceAt(status, b.start_address());
    r.removable = b.removable();
    (b.state() == memhp::v1::BLOCK_STATE_ONLINE ? report.online_bytes : report.offline_bytes) += report.block_size;
    if (!options.all && !report.ranges.empty()) {
      BlockRange& last = report.ranges.back();
      if (last.last_block + 1 == r.first_block && last.start + last.size == r.start && SameSplit(last, r, split)) {
        last.last_block = r.last_block;
        last.size += r.size;
        continue;
      }
    }
    report.ranges.push_back(std::move(r));
  }
  return report;
}

std::string RenderBlocksText(const BlocksReport& report, const BlocksViewOptions& options) {
  std::string out = Print(report, options, false);
  if (out.empty() || out.back() != '\n') out += '\n';
  auto size = [&options](uint64_t bytes) { return options.bytes ? std::to_string(bytes) : FormatBytes(bytes); };
  // lsmem's summary, after a blank line.
  out += "\nMemory block size:    " + size(report.block_size) + "\n";
  out += "Total online memory:  " + size(report.online_bytes) + "\n";
  out += "Total offline memory: " + size(report.offline_bytes) + "\n";
  return out;
}

std::string RenderBlocksJson(const BlocksReport& report, const BlocksViewOptions& options) {
  const std::string table = Print(report, options, true);
  g_autoptr(JsonParser) parser = json_parser_new();
  JsonNode* root = nullptr;
  if (json_parser_load_from_data(parser, table.c_str(), -1, nullptr)) root = json_parser_get_root(parser);
  g_autoptr(JsonBuilder) builder = json_builder_new();
  json_builder_begin_object(builder);
  json_builder_set_member_name(builder, "memory");
  JsonNode* memory = root && JSON_NODE_HOLDS_OBJECT(root) ? json_object_get_member(json_node_get_object(root), "memory")
                                                           : nullptr;
  if (memory) {
    json_builder_add_value(builder, json_node_copy(memory));
  } else {
    json_builder_begin_array(builder);  // no rows: libsmartcols prints an empty table
    json_builder_end_array(builder);
  }
  for (const auto& [name, value] : {std::pair{"block_size", report.block_size}, std::pair{"online_bytes", report.online_bytes},
                                    std::pair{"offline_bytes", report.offline_bytes}}) {
    json_builder_set_member_name(builder, name);
    json_builder_add_int_value(builder, static_cast<gint64>(value));
  }
  json_builder_end_object(builder);
  return BuiltJson(builder);
}

}  // namespace memhp::ctl
