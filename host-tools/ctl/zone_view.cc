// zone_view (see zone_view.h).
#include "ctl/zone_view.h"

#include "ctl/pressure_view.h"
#include "ctl/status_view.h"
#include "ctl/scols_table.h"

namespace memhp::ctl {
namespace {

const char* YesNo(bool value) { return value ? "yes" : "no"; }

}  // namespace

std::string RenderZonesText(const memhp::v1::ZoneReport& report) {
  // /proc/zoneinfo counts pages of the guest's page size; 4 KiB when the report left it out.
  const uint64_t page = report.page_size() ? report.page_size() : 4096;
  std::string out;
  if (report.nodes_size() == 0) out += "no nodes reported\n";
  for (const memhp::v1::NodeReport& node : report.nodes()) {
    out += "node " + std::to_string(node.node()) + ": N_MEMORY " + YesNo(node.has_memory()) +
           ", N_NORMAL_MEMORY " + YesNo(node.has_normal_memory()) + "\n";
    if (node.zones_size() == 0) {
      out += "  no zones\n";
      continue;
    }
    ScolsTable table = ScolsTable::WithHeadings({"ZONE", "PRESENT", "MANAGED", "FREE"});
    for (const memhp::v1::ZoneStats& zone : node.zones()) {
      table.AddRow({std::string(FormatZone(zone.zone())), FormatBytes(zone.present_pages() * page),
                 FormatBytes(zone.managed_pages() * page), FormatBytes(zone.free_pages() * page)});
    }
    out += table.Text(SectionStyle());
  }
  out += "MemTotal " + FormatBytes(report.mem_total_bytes()) + ", MemAvailable " +
         FormatBytes(report.mem_available_bytes()) + "\n";
  if (report.has_pressure()) out += RenderPressureLine(report.pressure());
  return out;
}

std::string RenderPolicyText(const memhp::v1::PolicyState& state) {
  std::string out = "policy: " + (state.policy().empty() ? std::string("unknown") : state.policy());
  // The ratio only matters to auto-movable (memhpd still reports the one it would use).
  if (state.policy() == "auto-movable" && state.movable_ratio_percent() != 0) {
    out += " (auto-movable ratio: MOVABLE <= " + std::to_string(state.movable_ratio_percent()) + " % of KERNEL)";
  }
  return out + "\n";
}

}  // namespace memhp::ctl
