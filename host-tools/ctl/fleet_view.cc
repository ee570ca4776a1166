// fleet_view — see fleet_view.h.
#include "ctl/fleet_view.h"

#include <json-glib/json-glib.h>

#include "ctl/json_text.h"
#include "ctl/status_view.h"
#include "ctl/terminal_text.h"
#include "ctl/scols_table.h"

namespace memhp::ctl {
namespace {

uint64_t MemoryOf(const memhp::v1::VmStatus& status) {
  return status.qemu().base_memory() + status.qemu().plugged_memory();
}

std::string AgentText(const FleetEntry& e) {
  if (!e.status) return "-";
  if (!e.status->agent().connected()) return "no";
  return "connected";
}

void AddStatusMembers(JsonBuilder* b, const FleetEntry& e) {
  json_builder_set_member_name(b, "name");
  json_builder_add_string_value(b, e.name.c_str());
  json_builder_set_member_name(b, "engine");
  json_builder_add_string_value(b, FleetEngine(e).c_str());
  json_builder_set_member_name(b, "state");
  json_builder_add_string_value(b, FleetState(e).c_str());
}

// {"vms": [{"name", "engine", "state", <what `more` adds>}, ...]}
template <typename More>
std::string VmsJson(const std::vector<FleetEntry>& entries, More more) {
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "vms");
  json_builder_begin_array(b);
  for (const FleetEntry& e : entries) {
    json_builder_begin_object(b);
    AddStatusMembers(b, e);
    more(b, e);
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
  json_builder_end_object(b);
  return BuiltJson(b) + "\n";
}

}  // namespace

std::string FleetEngine(const FleetEntry& e) {
  if (!e.status) return e.qemu_pid ? "qemu" : "-";
  if (e.status->has_libvirt()) return "libvirt";
  return e.status->qemu().pid() != 0 ? "qemu" : "qemu-attached";
}

std::string FleetState(const FleetEntry& e) {
  if (e.status) {
    if (!e.status->qemu().connected()) return "QMP not connected";
    return e.status->qemu().run_state().empty() ? "unknown" : e.status->qemu().run_state();
  }
  if (e.memhpd_pid) return "not answering";
  return e.qemu_pid ? "no memhpd" : "stopped";
}

std::string RenderFleetText(const std::vector<FleetEntry>& entries) {
  if (entries.empty()) return "no VMs\n";
  ScolsTable table = ScolsTable::WithHeadings({"NAME", "ENGINE", "STATE", "MEMORY", "AGENT", "WHERE"});
  for (const FleetEntry& e : entries) {
    std::string where;
    if (e.status && e.status->has_libvirt()) {
      where = e.status->libvirt().domain() + " on " + e.status->libvirt().uri();
    } else if (!e.error.empty()) {
      where = e.error;
    }
    table.AddRow({e.name, FleetEngine(e), FleetState(e), e.status ? FormatBytes(MemoryOf(*e.status)) : "-",
                  AgentText(e), where.empty() ? "-" : where});
  }
  std::string out = table.Text(SectionStyle());
  return out;
}

std::string RenderFleetJson(const std::vector<FleetEntry>& entries) {
  return VmsJson(entries, [](JsonBuilder* b, const FleetEntry& e) {
    json_builder_set_member_name(b, "memory_bytes");
    if (e.status) {
      json_builder_add_int_value(b, static_cast<gint64>(MemoryOf(*e.status)));
    } else {
      json_builder_add_null_value(b);
    }
    json_builder_set_member_name(b, "agent_connected");
    json_builder_add_boolean_value(b, e.status && e.status->agent().connected());
    json_builder_set_member_name(b, "memhpd_pid");
    json_builder_add_int_value(b, e.memhpd_pid);
    json_builder_set_member_name(b, "qemu_pid");
    json_builder_add_int_value(b, e.status ? e.status->qemu().pid() : e.qemu_pid);
    if (e.status && e.status->has_libvirt()) {
      json_builder_set_member_name(b, "domain");
      json_builder_add_string_value(b, e.status->libvirt().domain().c_str());
      json_builder_set_member_name(b, "uri");
      json_builder_add_string_value(b, e.status->libvirt().uri().c_str());
    }
    if (!e.error.empty()) {
      json_builder_set_member_name(b, "error");
      json_builder_add_string_value(b, e.error.c_str());
    }
  });
}

std::string RenderAllStatusText(const std::vector<FleetEntry>& entries) {
  if (entries.empty()) return "no VMs\n";
  std::string out;
  for (const FleetEntry& e : entries) {
    if (!out.empty()) out += "\n";
    out += "== VM '" + EscapeForTerminal(e.name, Newlines::kEscape) + "' ==\n";
    if (e.status) {
      out += RenderStatusText(*e.status);
    } else {
      out += FleetState(e) + (e.error.empty() ? "" : ": " + EscapeForTerminal(e.error, Newlines::kEscape)) + "\n";
    }
  }
  return out;
}

std::string RenderAllStatusJson(const std::vector<FleetEntry>& entries) {
  return VmsJson(entries, [](JsonBuilder* b, const FleetEntry& e) {
    json_builder_set_member_name(b, "ok");
    json_builder_add_boolean_value(b, e.status.has_value());
    if (e.status) {
      json_builder_set_member_name(b, "status");
      AddJsonText(b, RenderStatusJson(*e.status), EmptyText::kNull);
    } else {
      json_builder_set_member_name(b, "error");
      json_builder_add_string_value(b, (FleetState(e) + (e.error.empty() ? "" : ": " + e.error)).c_str());
    }
  });
}

}  // namespace memhp::ctl
