// memhp-agent — the zone/node report (see zone_report.h).
#include "agent/zone_report.h"

#include <glib.h>

#include <algorithm>
#include <map>

#include "agent/pressure_report.h"

namespace memhp::agent {

memhp::v1::ZoneReport AssembleZoneReport(const std::vector<memhp::v1::Node>& nodes,
                                         const std::vector<ZoneInfoEntry>& zoneinfo,
                                         const MemInfo& meminfo, uint64_t page_size,
                                         uint64_t read_at_unix_ns) {
  std::map<uint32_t, memhp::v1::NodeReport> by_node;
  for (const memhp::v1::Node& n : nodes) {
    memhp::v1::NodeReport& r = by_node[n.id()];
    r.set_node(n.id());
    r.set_has_memory(n.has_memory());
    r.set_has_normal_memory(n.has_normal_memory());
  }
  for (const ZoneInfoEntry& z : zoneinfo) {
    memhp::v1::NodeReport& r = by_node[z.node];
    r.set_node(z.node);
    memhp::v1::ZoneStats* s = r.add_zones();
    s->set_zone(z.zone);
    s->set_present_pages(z.present_pages);
    s->set_managed_pages(z.managed_pages);
    s->set_free_pages(z.free_pages);
  }
  memhp::v1::ZoneReport report;
  for (auto& [id, r] : by_node) *report.add_nodes() = std::move(r);
  report.set_mem_total_bytes(meminfo.mem_total_bytes);
  report.set_mem_available_bytes(meminfo.mem_available_bytes);
  report.set_page_size(page_size);
  report.set_read_at_unix_ns(read_at_unix_ns);
  return report;
}

Result<memhp::v1::ZoneReport> ReadZoneReport(const SysfsReader& sysfs, uint64_t page_size,
                                             const WallClockNs& clock) {
  Result<std::vector<ZoneInfoEntry>> zoneinfo = sysfs.ReadZoneInfo();
  if (!zoneinfo.ok()) return std::move(zoneinfo).error();
  Result<std::vector<memhp::v1::Node>> nodes = sysfs.ReadNodes();
  if (!nodes.ok()) return std::move(nodes).error();
  Result<MemInfo> meminfo = sysfs.ReadMemInfo();
  if (!meminfo.ok()) return std::move(meminfo).error();
  memhp::v1::ZoneReport report = AssembleZoneReport(*nodes, *zoneinfo, *meminfo, page_size, clock ? clock() : 0);
  // The pressure rides along, but is not the report: without it the zones are still true.
  if (Result<memhp::v1::MemoryPressure> pressure = ReadPressure(sysfs, memhp::v1::PRESSURE_CAUSE_REQUEST, clock);
      pressure.ok()) {
    *report.mutable_pressure() = std::move(pressure).value();
  } else {
    g_warning("zone report without pressure: %s", pressure.error().message.c_str());
  }
  return report;
}

}  // namespace memhp::agent
