// audit_view — see audit_view.h.
#include "ctl/audit_view.h"

#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <string>
#include <vector>

#include "ctl/scols_table.h"
#include "ctl/status_view.h"

namespace memhp::ctl {
namespace {

namespace v1 = memhp::v1;

constexpr size_t kBarWidth = 20;

std::string Hex(uint64_t value) {
  char buffer[24];
  std::snprintf(buffer, sizeof buffer, "0x%" PRIx64, value);
  return buffer;
}

std::string StateName(v1::AuditRangeState state) {
  switch (state) {
    case v1::AUDIT_RANGE_STATE_ONLINE: return "online";
    case v1::AUDIT_RANGE_STATE_OFFLINE: return "offline";
    case v1::AUDIT_RANGE_STATE_UNPLUGGED: return "unplugged";
    default: return "-";
  }
}

std::string Seconds(uint64_t ns) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.3f s", static_cast<double>(ns) / 1e9);
  return buffer;
}

// A bar of '#' proportional to value / max; at least one '#' for any non-zero value.
std::string Bar(uint64_t value, uint64_t max) {
  if (value == 0 || max == 0) return "";
  const size_t n = std::max<size_t>(1, static_cast<size_t>(
                                           static_cast<double>(value) / static_cast<double>(max) * kBarWidth + 0.5));
  return std::string(std::min(n, kBarWidth), '#');
}

}  // namespace

std::string FormatCount(uint64_t count) {
  static constexpr const char* kUnits[] = {"", "K", "M", "G", "T"};
  if (count < 1000) return std::to_string(count);
  double value = static_cast<double>(count);
  size_t unit = 0;
  while (value >= 1000 && unit + 1 < std::size(kUnits)) {
    value /= 1000;
    ++unit;
  }
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, value < 10 ? "%.1f%s" : "%.0f%s", value, kUnits[unit]);
  return buffer;
}

std::optional<uint64_t> LabelHeat(const v1::AuditReport& report, std::string_view label) {
  std::optional<uint64_t> sum;
  for (const v1::AuditBlock& block : report.blocks()) {
    if (block.label() == label) sum = sum.value_or(0) + block.reads() + block.writes();
  }
  return sum;
}

std::string RenderAuditText(const v1::AuditReport& report) {
  std::string out = std::string("audit: ") + (report.armed() ? "armed" : "disarmed (nothing is counted)") +
                    ", block " + FormatBytes(report.block_size()) + ", " +
                    std::to_string(report.vcpus()) + " vCPUs; violations " +
                    std::to_string(report.violations_total()) + " (" +
                    std::to_string(report.violations_size()) + " records, " +
                    std::to_string(report.violations_dropped()) + " accesses unrecorded); " +
                    FormatCount(report.outside_accesses()) + " accesses outside the ranges\n\n";

  uint64_t hottest = 0;
  for (const v1::AuditBlock& b : report.blocks()) hottest = std::max(hottest, b.reads() + b.writes());
  ScolsTable rows = ScolsTable::WithHeadings({"BLOCK", "DEVICE", "STATE", "READS", "WRITES", "HEAT", "FIRST USE"});
  size_t quiet_unplugged = 0;
  for (const v1::AuditBlock& b : report.blocks()) {
    const uint64_t heat = b.reads() + b.writes();
    if (heat == 0 && b.state() == v1::AUDIT_RANGE_STATE_UNPLUGGED) {
      ++quiet_unplugged;
      continue;
    }
    rows.AddRow({Hex(b.start()), b.label().empty() ? "-" : b.label(), StateName(b.state()),
                    FormatCount(b.reads()), FormatCount(b.writes()),
                    heat == 0 ? "-" : Bar(heat, hottest), b.touched() ? Seconds(b.first_touch_ns()) : "-"});
  }
  out += "Heat per block (FIRST USE: from the plug to the first access once online)\n";
  if (rows.row_count() == 0) {
    out += "  no watched blocks\n";
  } else {
    out += rows.Text(SectionStyle());
  }
  if (quiet_unplugged != 0) {
    out += "  (" + std::to_string(quiet_unplugged) + " unplugged blocks without accesses not shown)\n";
  }

  out += "\nViolations (accesses to offline or unplugged memory)\n";
  if (report.violations_size() == 0) {
    out += "  none\n";
    return out;
  }
  ScolsTable vrows =
      ScolsTable::WithHeadings({"PAGE", "DEVICE", "STATE", "VCPU", "ACCESS", "COUNT", "FIRST (monotonic)", "LAST"});
  for (const v1::AuditViolation& v : report.violations()) {
    vrows.AddRow({Hex(v.page()), v.label().empty() ? "-" : v.label(), StateName(v.state()),
                     std::to_string(v.vcpu()), v.access() == v1::AUDIT_ACCESS_WRITE ? "write" : "read",
                     std::to_string(v.count()), Seconds(v.first_monotonic_ns()),
                     Seconds(v.last_monotonic_ns())});
  }
  out += vrows.Text(SectionStyle());
  if (report.violations_dropped() != 0) {
    out += "  (the list is full at " + std::to_string(report.max_violations()) + " records; " +
           std::to_string(report.violations_dropped()) + " accesses were counted without one)\n";
  }
  return out;
}

std::string RenderAuditJson(const v1::AuditReport& report) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string out;
  if (!google::protobuf::util::MessageToJsonString(report, &out, options).ok()) {
    return "{\"render_error\": \"protobuf JSON\"}\n";
  }
  return out + "\n";
}

}  // namespace memhp::ctl
