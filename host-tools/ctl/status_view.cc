// status_view — see status_view.h. The JSON is protobuf's own mapping, re-read with json-glib
// only to add the "summary" member; the text is built from small libsmartcols tables.
#include "ctl/status_view.h"

#include <google/protobuf/util/json_util.h>
#include <json-glib/json-glib.h>

#include <algorithm>
#include <array>
#include <cinttypes>
#include <cstdio>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ctl/audit_view.h"
#include "ctl/autoscale_view.h"
#include "ctl/pressure_view.h"
#include "ctl/status_summary.h"
#include "ctl/terminal_text.h"
#include "ctl/scols_table.h"

namespace memhp::ctl {

namespace {

// The zones the JSON summary always names, in the kernel's order.
constexpr std::array<memhp::v1::Zone, 5> kNamedZones = {
    memhp::v1::ZONE_DMA, memhp::v1::ZONE_DMA32, memhp::v1::ZONE_NORMAL,
    memhp::v1::ZONE_MOVABLE, memhp::v1::ZONE_DEVICE};

// ---------------------------------------------------------------- JSON

// json-glib keeps integers as gint64; a sum above INT64_MAX (16 EiB of memory) cannot happen,
// but saturate rather than print a negative number if it ever does.
gint64 JsonInt(uint64_t value) {
  constexpr uint64_t kMax = static_cast<uint64_t>(G_MAXINT64);
  return static_cast<gint64>(std::min(value, kMax));
}

JsonNode* BuildSummary(const StatusSummary& summary) {
  g_autoptr(JsonBuilder) builder = json_builder_new();
  json_builder_begin_object(builder);
  json_builder_set_member_name(builder, "agent_connected");
  json_builder_add_boolean_value(builder, summary.agent_connected);
  json_builder_set_member_name(builder, "block_size_bytes");
  json_builder_add_int_value(builder, JsonInt(summary.block_size_bytes));

  json_builder_set_member_name(builder, "nodes");
  json_builder_begin_array(builder);
  for (const NodeSummary& node : summary.nodes) {
    json_builder_begin_object(builder);
    json_builder_set_member_name(builder, "node");
    json_builder_add_int_value(builder, node.node);
    json_builder_set_member_name(builder, "online_blocks");
    json_builder_add_int_value(builder, node.online_blocks);
    json_builder_set_member_name(builder, "offline_blocks");
    json_builder_add_int_value(builder, node.offline_blocks);
    json_builder_set_member_name(builder, "zones");
    json_builder_begin_object(builder);
    for (memhp::v1::Zone zone : kNamedZones) {
      auto it = node.zones.find(zone);
      json_builder_set_member_name(builder, std::string(FormatZone(zone)).c_str());
      json_builder_add_int_value(builder, it == node.zones.end() ? 0 : it->second);
    }
    for (const auto& [zone, count] : node.zones) {
      if (std::find(kNamedZones.begin(), kNamedZones.end(), zone) != kNamedZones.end()) continue;
      json_builder_set_member_name(builder, "-");
      json_builder_add_int_value(builder, count);
    }
    json_builder_end_object(builder);
    json_builder_end_object(builder);
  }
  json_builder_end_array(builder);

  json_builder_set_member_name(builder, "devices");
  json_builder_add_int_value(builder, JsonInt(summary.devices));
  json_builder_set_member_name(builder, "plugged_bytes");
  json_builder_add_int_value(builder, JsonInt(summary.plugged_bytes));
  json_builder_end_object(builder);
  return json_builder_get_root(builder);
}

std::string ToCompactJson(JsonNode* root) {
  g_autoptr(JsonGenerator) generator = json_generator_new();
  json_generator_set_root(generator, root);
  g_autofree gchar* text = json_generator_to_data(generator, nullptr);
  return std::string(text) + "\n";
}

// Neither step can fail for a VmStatus (it holds no Any); should one ever, the script still
// gets one JSON object that says why, rather than an empty line.
std::string RenderError(const std::string& why, JsonNode* summary) {
  g_autoptr(JsonObject) object = json_object_new();
  json_object_set_string_member(object, "render_error", why.c_str());
  json_object_set_member(object, "summary", summary);
  g_autoptr(JsonNode) root = json_node_init_object(json_node_alloc(), object);
  return ToCompactJson(root);
}

// ---------------------------------------------------------------- text

std::string Hex(uint64_t value) {
  char buffer[24];
  std::snprintf(buffer, sizeof buffer, "0x%" PRIx64, value);
  return buffer;
}

std::string YesNo(bool value) { return value ? "yes" : "no"; }

std::string Join(const std::vector<std::string>& parts, std::string_view separator) {
  std::string out;
  for (const std::string& part : parts) {
    if (!out.empty()) out += separator;
    out += part;
  }
  return out;
}

// "VM default  (QEMU 7.2.22, running, kvm, pid 1234; memhpd pid 1240)"
std::string HeaderLine(const memhp::v1::VmStatus& status) {
  const memhp::v1::QemuInfo& qemu = status.qemu();
  std::vector<std::string> facts;
  if (qemu.connected()) {
    facts.push_back(qemu.version().empty() ? "QEMU" : "QEMU " + qemu.version());
    if (!qemu.run_state().empty()) facts.push_back(qemu.run_state());
  } else {
    facts.push_back("QEMU not connected");
  }
  if (!qemu.accel().empty()) facts.push_back(qemu.accel());
  if (qemu.pid() != 0) facts.push_back("pid " + std::to_string(qemu.pid()));
  std::string line = "VM " + (status.vm_name().empty() ? std::string("-") : status.vm_name());
  line += "  (" + Join(facts, ", ");
  if (status.memhpd_pid() != 0) line += "; memhpd pid " + std::to_string(status.memhpd_pid());
  line += ")\n";
  return line;
}

// "libvirt: domain memhp-lv on qemu:///system (uuid ...)" for a libvirt domain, else "".
std::string LibvirtLine(const memhp::v1::VmStatus& status) {
  if (!status.has_libvirt()) return "";
  const memhp::v1::LibvirtInfo& lv = status.libvirt();
  return "libvirt: domain " + lv.domain() + " on " + lv.uri() + " (uuid " + lv.uuid() + ")" +
         (lv.agent_channel() ? "" : ", no org.memhp.agent.0 channel: guest side unknown") + "\n";
}

std::string MemoryLine(const memhp::v1::QemuInfo& qemu) {
  if (!qemu.connected()) return "memory: unknown (QEMU not connected)\n";
  return "memory: base " + FormatBytes(qemu.base_memory()) + ", plugged " +
         FormatBytes(qemu.plugged_memory()) + "\n";
}

// "agent: connected — kernel 6.1.0-56-amd64, page 4 KiB, block 128 MiB, memhp 0.1.0"
std::string AgentLine(const memhp::v1::AgentStatus& agent, const StatusSummary& summary) {
  if (!agent.connected()) return "agent: not connected\n";
  const memhp::v1::Hello& hello = agent.hello();
  const memhp::v1::GuestInfo& guest = hello.guest();
  std::vector<std::string> facts;
  if (!guest.kernel_release().empty()) facts.push_back("kernel " + guest.kernel_release());
  if (guest.page_size() != 0) facts.push_back("page " + FormatBytes(guest.page_size()));
  if (summary.block_size_bytes != 0) {
    facts.push_back("block " + FormatBytes(summary.block_size_bytes));
  }
  const std::string& auto_online = agent.has_inventory() ? agent.inventory().auto_online_blocks()
                                                         : guest.auto_online_blocks();
  if (!auto_online.empty()) facts.push_back("auto_online_blocks " + auto_online);
  if (!hello.software_version().empty()) facts.push_back("memhp " + hello.software_version());
  if (facts.empty()) return "agent: connected\n";
  return "agent: connected \xE2\x80\x94 " + Join(facts, ", ") + "\n";  // U+2014 em dash
}

// The guest's own words, on one terminal line each (terminal_text.h); memhpd has bounded their
// length (guest_claims.h).
std::string GuestText(std::string_view text) { return EscapeForTerminal(text, Newlines::kEscape); }

// Who onlines memory: the agent's policy in force (memhpd keeps the hello's and each
// `memhpctl policy` answer since), from the hello a take-over the agent was told to make
// (--take-onlining), then each competing onliner it found at start.
std::string OnliningLines(const memhp::v1::AgentStatus& agent) {
  if (!agent.connected()) return "";
  const memhp::v1::Hello& hello = agent.hello();
  std::string out;
  if (agent.has_policy() && !agent.policy().policy().empty()) {
    out += "policy: " + GuestText(agent.policy().policy());
    if (agent.policy().policy() == "auto-movable" && agent.policy().movable_ratio_percent() != 0) {
      out += ", movable ratio " + std::to_string(agent.policy().movable_ratio_percent()) + "%";
    }
    out += "\n";
  }
  if (!hello.took_onlining_from().empty()) {
    out += "onlining: taken over by the agent (auto_online_blocks was " +
           GuestText(hello.took_onlining_from()) + ")\n";
  }
  for (const std::string& m : hello.masked_udev_rules()) out += "onlining: udev rule masked by the agent: " + GuestText(m) + "\n";
  for (const std::string& c : hello.competing_onliners()) out += "competing onliner: " + GuestText(c) + "\n";
  return out;
}

void AppendDevices(const memhp::v1::VmStatus& status, const memhp::v1::AuditReport* audit,
                   std::string& out) {
  out += "QEMU memory devices\n";
  if (status.devices_size() == 0) {
    out += status.qemu().connected() ? "  none\n" : "  unknown (QEMU not connected)\n";
    return;
  }
  std::vector<std::string> header = {"ID", "KIND", "NODE", "SLOT", "ADDRESS", "SIZE", "REQUESTED", "MAX"};
  if (audit) header.push_back("HEAT");
  ScolsTable table = ScolsTable::WithHeadings(header);
  for (const memhp::v1::MemoryDevice& device : status.devices()) {
    const bool has_slot = device.kind() == memhp::v1::MEMORY_DEVICE_KIND_DIMM ||
                          device.kind() == memhp::v1::MEMORY_DEVICE_KIND_NVDIMM;
    const bool is_virtio_mem = device.kind() == memhp::v1::MEMORY_DEVICE_KIND_VIRTIO_MEM;
    std::vector<std::optional<std::string>> row = {
        device.id().empty() ? "-" : device.id(),
        FormatDeviceKind(device),
        device.node() < 0 ? "-" : std::to_string(device.node()),
        has_slot && device.slot() >= 0 ? std::to_string(device.slot()) : "-",
        Hex(device.address()),
        FormatBytes(device.size()),
        is_virtio_mem ? FormatBytes(device.requested_size()) : "-",
        is_virtio_mem ? FormatBytes(device.max_size()) : "-",
    };
    if (audit) {
      const std::optional<uint64_t> heat = device.id().empty() ? std::nullopt : LabelHeat(*audit, device.id());
      row.push_back(heat ? FormatCount(*heat) : "-");
    }
    table.AddRow(std::move(row));
  }
  out += table.Text(SectionStyle());
}

std::string ZonesCell(const NodeSummary& node) {
  std::vector<std::string> parts;
  for (const auto& [zone, count] : node.zones) {
    parts.push_back(std::string(FormatZone(zone)) + ":" + std::to_string(count));
  }
  return parts.empty() ? "-" : Join(parts, " ");
}

void AppendBlocks(const StatusSummary& summary, std::string& out) {
  if (!summary.has_inventory) {
    // The last inventory is shown only if there is one; a connected agent without one yet
    // still gets its section, so the absence is visible.
    if (summary.agent_connected) out += "Guest memory blocks (agent)\n  no inventory yet\n";
    return;
  }
  out += summary.agent_connected
             ? "Guest memory blocks (agent)\n"
             : "Guest memory blocks (agent) \xE2\x80\x94 STALE: last inventory before the agent "
               "disconnected\n";
  if (summary.nodes.empty()) {
    out += "  none\n";
    return;
  }
  ScolsTable table = ScolsTable::WithHeadings({"NODE", "ONLINE", "OFFLINE", "ZONES (online blocks)", "N_MEMORY", "N_NORMAL"});
  uint32_t going_offline = 0;
  uint32_t unknown_state = 0;
  for (const NodeSummary& node : summary.nodes) {
    table.AddRow({
        node.node < 0 ? "-" : std::to_string(node.node),
        std::to_string(node.online_blocks),
        std::to_string(node.offline_blocks),
        ZonesCell(node),
        node.kernel_node ? YesNo(node.kernel_node->has_memory()) : "-",
        node.kernel_node ? YesNo(node.kernel_node->has_normal_memory()) : "-",
    });
    going_offline += node.going_offline_blocks;
    unknown_state += node.unknown_state_blocks;
  }
  out += table.Text(SectionStyle());
  // OFFLINE counts every block that is not online; say which of those are not plainly offline.
  if (going_offline != 0) {
    out += "  (" + std::to_string(going_offline) + " of the offline blocks going offline)\n";
  }
  if (unknown_state != 0) {
    out += "  (" + std::to_string(unknown_state) + " of the offline blocks in an unknown state)\n";
  }
}

}  // namespace

std::string RenderStatusJson(const memhp::v1::VmStatus& status) {
  return RenderStatusJson(status, nullptr);
}

std::string RenderStatusJson(const memhp::v1::VmStatus& status, const memhp::v1::AuditReport* audit) {
  JsonNode* summary = BuildSummary(Summarize(status));  // owned until handed to an object

  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  options.always_print_enums_as_ints = false;
  options.add_whitespace = false;
  std::string proto_json;
  const auto converted = google::protobuf::util::MessageToJsonString(status, &proto_json, options);
  if (!converted.ok()) return RenderError("protobuf JSON: " + converted.ToString(), summary);

  g_autoptr(JsonParser) parser = json_parser_new();
  g_autoptr(GError) error = nullptr;
  if (!json_parser_load_from_data(parser, proto_json.c_str(),
                                  static_cast<gssize>(proto_json.size()), &error)) {
    return RenderError(std::string("re-reading protobuf JSON: ") + error->message, summary);
  }
  JsonNode* root = json_parser_get_root(parser);
  if (root == nullptr || !JSON_NODE_HOLDS_OBJECT(root)) {
    return RenderError("protobuf JSON is not an object", summary);
  }
  json_object_set_member(json_node_get_object(root), "summary", summary);
  if (audit) {
    JsonObject* heat = json_object_new();
    json_object_set_boolean_member(heat, "armed", audit->armed());
    JsonObject* devices = json_object_new();
    for (const memhp::v1::MemoryDevice& device : status.devices()) {
      if (device.id().empty()) continue;
      if (const std::optional<uint64_t> h = LabelHeat(*audit, device.id())) {
        json_object_set_int_member(devices, device.id().c_str(), JsonInt(*h));
      }
    }
    json_object_set_object_member(heat, "devices", devices);
    json_object_set_object_member(json_node_get_object(root), "audit_heat", heat);
  }
  return ToCompactJson(root);
}

std::string RenderStatusText(const memhp::v1::VmStatus& status) {
  return RenderStatusText(status, nullptr);
}

std::string RenderStatusText(const memhp::v1::VmStatus& status, const memhp::v1::AuditReport* audit) {
  const StatusSummary summary = Summarize(status);
  // QEMU's version and run state, the guest's kernel release and versions: each line escaped
  // whole (it ends in its one newline).
  auto one_line = [](const std::string& line) {
    return EscapeForTerminal(std::string_view(line).substr(0, line.size() - 1), Newlines::kEscape) + "\n";
  };
  // (A header and a libvirt line escaped as one showed the newline between them as "\x0a".)
  std::string out = one_line(HeaderLine(status));
  if (std::string libvirt = LibvirtLine(status); !libvirt.empty()) out += one_line(libvirt);
  out += MemoryLine(status.qemu());
  out += one_line(AgentLine(status.agent(), summary));
  out += OnliningLines(status.agent());
  if (status.agent().guest_violations() > 0) {
    // memhpd's own words about what it refused; no guest text is quoted in them.
    out += "guest: " + std::to_string(status.agent().guest_violations()) +
           " message(s) refused for breaking the rules, last: " +
           EscapeForTerminal(status.agent().last_guest_violation(), Newlines::kEscape) + "\n";
  }
  if (status.agent().has_pressure()) out += RenderPressureLine(status.agent().pressure());
  if (status.autoscale().on() || status.autoscale().decisions() > 0) {
    out += EscapeForTerminal(RenderAutoscaleLine(status.autoscale()), Newlines::kEscape) + "\n";
  }
  out += "\n";
  AppendDevices(status, audit, out);
  if (summary.has_inventory || summary.agent_connected) {
    out += "\n";
    AppendBlocks(summary, out);
  }
  return out;
}

std::string FormatBytes(uint64_t bytes) {
  static constexpr std::array<const char*, 5> kUnits = {"B", "KiB", "MiB", "GiB", "TiB"};
  size_t unit = 0;
  uint64_t divisor = 1;
  while (unit + 1 < kUnits.size() && bytes / divisor >= 1024) {
    divisor *= 1024;
    ++unit;
  }
  uint64_t whole = bytes / divisor;
  // Hundredths of the unit, rounded half up; rem < divisor <= 2^40, so rem * 100 fits.
  const uint64_t rem = bytes % divisor;
  uint64_t hundredths = (rem * 100 + divisor / 2) / divisor;
  if (hundredths == 100) {
    ++whole;
    hundredths = 0;
  }
  if (whole == 1024 && unit + 1 < kUnits.size()) {  // 1023.999 KiB reads as 1 MiB
    whole = 1;
    ++unit;
  }
  std::string out = std::to_string(whole);
  if (hundredths != 0) {
    out += '.';
    out += static_cast<char>('0' + hundredths / 10);
    if (hundredths % 10 != 0) out += static_cast<char>('0' + hundredths % 10);
  }
  return out + " " + kUnits[unit];
}

std::string_view FormatZone(memhp::v1::Zone zone) {
  switch (zone) {
    case memhp::v1::ZONE_DMA: return "DMA";
    case memhp::v1::ZONE_DMA32: return "DMA32";
    case memhp::v1::ZONE_NORMAL: return "Normal";
    case memhp::v1::ZONE_MOVABLE: return "Movable";
    case memhp::v1::ZONE_DEVICE: return "Device";
    default: return "-";
  }
}

std::string FormatDeviceKind(const memhp::v1::MemoryDevice& device) {
  switch (device.kind()) {
    case memhp::v1::MEMORY_DEVICE_KIND_DIMM: return "dimm";
    case memhp::v1::MEMORY_DEVICE_KIND_NVDIMM: return "nvdimm";
    case memhp::v1::MEMORY_DEVICE_KIND_VIRTIO_PMEM: return "virtio-pmem";
    case memhp::v1::MEMORY_DEVICE_KIND_VIRTIO_MEM: return "virtio-mem";
    case memhp::v1::MEMORY_DEVICE_KIND_SGX_EPC: return "sgx-epc";
    default: return device.qmp_type().empty() ? "other" : device.qmp_type();
  }
}

}  // namespace memhp::ctl
