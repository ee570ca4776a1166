// memhp-audit — JSON rendering (see audit_report.h).
#include "audit_report.h"

#include <cstdio>

namespace memhp::audit {
namespace {

// Appends `"name": ` after a comma unless it opens an object.
void Key(std::string& out, std::string_view name) {
  if (!out.empty() && out.back() != '{') out += ", ";
  out += JsonString(name);
  out += ": ";
}

void Field(std::string& out, std::string_view name, uint64_t value) {
  Key(out, name);
  out += std::to_string(value);
}

void Field(std::string& out, std::string_view name, std::string_view value) {
  Key(out, name);
  out += JsonString(value);
}

}  // namespace

std::string JsonString(std::string_view text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);  // UTF-8 passes through; labels come from memhpd
        }
    }
  }
  out += '"';
  return out;
}

std::string RenderJson(const Snapshot& s) {
  std::string out = "{";
  Key(out, "armed");
  out += s.armed ? "true" : "false";
  Field(out, "block_size", s.block_size);
  Field(out, "vcpus", s.vcpus);
  Field(out, "outside_accesses", s.outside_accesses);
  Key(out, "blocks");
  out += "[";
  for (size_t i = 0; i < s.blocks.size(); ++i) {
    const BlockReport& b = s.blocks[i];
    out += i ? ",\n  {" : "\n  {";
    Field(out, "start", b.start);
    Field(out, "label", b.label);
    Field(out, "state", RangeStateName(b.state));
    Field(out, "reads", b.reads);
    Field(out, "writes", b.writes);
    Key(out, "first_touch_ns");
    out += b.first_touch_ns ? std::to_string(*b.first_touch_ns) : "null";
    out += "}";
  }
  out += "]";
  Key(out, "violations");
  out += "{";
  Field(out, "total", s.violations_total);
  Field(out, "dropped", s.violations_dropped);
  Field(out, "max", s.max_violations);
  Key(out, "records");
  out += "[";
  for (size_t i = 0; i < s.violations.size(); ++i) {
    const ViolationReport& v = s.violations[i];
    out += i ? ",\n  {" : "\n  {";
    Field(out, "page", v.page);
    Field(out, "vcpu", v.vcpu);
    Field(out, "access", AccessName(v.access));
    Field(out, "state", RangeStateName(v.state));
    Field(out, "label", v.label);
    Field(out, "count", v.count);
    Field(out, "first_ns", v.first_ns);
    Field(out, "last_ns", v.last_ns);
    out += "}";
  }
  out += "]}}\n";
  return out;
}

}  // namespace memhp::audit
