// scenario_report — the scenario report and the comparison of two (see scenario_report.h).
#include "ctl/scenario_report.h"

#include <json-glib/json-glib.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "ctl/json_text.h"
#include "wire/proto_json.h"

namespace memhp::ctl {
namespace {

void Member(JsonBuilder* b, const char* name, uint64_t value) {
  json_builder_set_member_name(b, name);
  json_builder_add_int_value(b, static_cast<gint64>(std::min<uint64_t>(value, INT64_MAX)));
}

void Member(JsonBuilder* b, const char* name, const std::string& value) {
  json_builder_set_member_name(b, name);
  json_builder_add_string_value(b, value.c_str());
}

void AddStep(JsonBuilder* b, const StepRecord& step) {
  json_builder_begin_object(b);
  Member(b, "index", step.index);
  Member(b, "path", step.path);
  Member(b, "line", static_cast<uint64_t>(std::max(step.line, 0)));
  Member(b, "kind", std::string(StepKindName(step.kind)));
  Member(b, "label", step.label);
  Member(b, "vm", step.vm);
  Member(b, "start_ns", step.start_ns);
  Member(b, "duration_ns", step.duration_ns);
  Member(b, "detail", step.detail);
  json_builder_set_member_name(b, "error");
  if (step.error.empty()) json_builder_add_null_value(b);
  else json_builder_add_string_value(b, step.error.c_str());
  if (step.operation) {
    json_builder_set_member_name(b, "operation");
    AddJsonText(b, wire::ProtoToJson(*step.operation), EmptyText::kNull);
    Member(b, "size_before", step.size_before);
  }
  if (step.fraction_unplugged) {
    json_builder_set_member_name(b, "fraction_unplugged");
    json_builder_add_double_value(b, *step.fraction_unplugged);
  }
  if (step.held) {
    json_builder_set_member_name(b, "held");
    json_builder_add_boolean_value(b, *step.held);
    Member(b, "why", step.why);
  }
  json_builder_end_object(b);
}

void AddSample(JsonBuilder* b, const MemorySample& sample) {
  json_builder_begin_object(b);
  Member(b, "t_ns", sample.t_ns);
  Member(b, "after_step", sample.after_step);
  Member(b, "vm", sample.vm);
  Member(b, "mem_total_bytes", sample.mem_total_bytes);
  Member(b, "mem_available_bytes", sample.mem_available_bytes);
  json_builder_set_member_name(b, "zones");
  json_builder_begin_array(b);
  for (const ZoneSample& z : sample.zones) {
    json_builder_begin_object(b);
    Member(b, "node", uint64_t{z.node});
    Member(b, "zone", z.zone);
    Member(b, "present_bytes", z.present_bytes);
    Member(b, "managed_bytes", z.managed_bytes);
    Member(b, "free_bytes", z.free_bytes);
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
  json_builder_set_member_name(b, "devices");
  json_builder_begin_array(b);
  for (const DeviceSample& d : sample.devices) {
    json_builder_begin_object(b);
    Member(b, "id", d.id);
    Member(b, "size", d.size);
    Member(b, "requested_size", d.requested_size);
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
  json_builder_end_object(b);
}

std::string Seconds(uint64_t ns) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.3f", static_cast<double>(ns) / 1e9);
  return text;
}

std::string Fraction(const std::optional<double>& f) {
  if (!f) return "-";
  char text[16];
  std::snprintf(text, sizeof(text), "%.3f", *f);
  return text;
}

std::string Held(const std::optional<bool>& held) { return !held ? "-" : *held ? "held" : "FAILED"; }

// A member that is a string, or "" (and no more than `max` bytes of it).
std::string StringMember(JsonObject* o, const char* name, size_t max = 256) {
  JsonNode* n = json_object_get_member(o, name);
  if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING) return "";
  std::string s = json_node_get_string(n);
  if (s.size() > max) s.resize(max);
  return s;
}

std::string Differences(const ReportStep* a, const ReportStep* b) {
  if (!a || !b) return a ? "only in A" : "only in B";
  std::string diff;
  auto add = [&diff](const char* what) { diff += (diff.empty() ? "" : ",") + std::string(what); };
  if (a->kind != b->kind) add("kind");
  if (a->outcome != b->outcome) add("outcome");
  const bool fa = a->fraction_unplugged.has_value(), fb = b->fraction_unplugged.has_value();
  // Fractions are compared as the table prints them (three decimals).
  if (fa != fb || (fa && Fraction(a->fraction_unplugged) != Fraction(b->fraction_unplugged))) add("fraction");
  if (a->held != b->held) add("expect");
  if (a->error.empty() != b->error.empty()) add("error");
  return diff;
}

const ReportStep* StepAt(const ReportDigest& d, size_t i) { return i < d.steps.size() ? &d.steps[i] : nullptr; }

}  // namespace

std::string RenderScenarioReport(const ScenarioRun& run, const ReportContext& context) {
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  Member(b, "scenario", run.name);
  Member(b, "file", context.file);
  Member(b, "seed", run.seed);
  Member(b, "started_unix_ns", run.started_unix_ns);
  Member(b, "duration_ns", run.duration_ns);
  json_builder_set_member_name(b, "ok");
  json_builder_add_boolean_value(b, ScenarioExitCode(run) == 0);
  Member(b, "expects_held", run.expects_held);
  Member(b, "expects_failed", run.expects_failed);
  Member(b, "step_errors", run.step_errors);
  Member(b, "watch_events", context.watch_events);
  json_builder_set_member_name(b, "watch_problems");
  json_builder_begin_array(b);
  for (const std::string& p : context.watch_problems) json_builder_add_string_value(b, p.c_str());
  json_builder_end_array(b);
  json_builder_set_member_name(b, "svg");
  if (context.svg.empty()) json_builder_add_null_value(b);
  else json_builder_add_string_value(b, context.svg.c_str());
  json_builder_set_member_name(b, "steps");
  json_builder_begin_array(b);
  for (const StepRecord& step : run.steps) AddStep(b, step);
  json_builder_end_array(b);
  json_builder_set_member_name(b, "memory");
  json_builder_begin_array(b);
  for (const MemorySample& sample : run.memory) AddSample(b, sample);
  json_builder_end_array(b);
  json_builder_end_object(b);
  return BuiltJson(b);
}

std::string RenderScenarioSummary(const ScenarioRun& run) {
  std::string text = "scenario " + run.name + ": " + std::to_string(run.steps.size()) + " steps in " +
                     Seconds(run.duration_ns) + " s, " + std::to_string(run.expects_held) + " of " +
                     std::to_string(run.expects_held + run.expects_failed) + " expects held";
  if (run.step_errors) text += ", " + std::to_string(run.step_errors) + " steps could not run";
  text += "\n";
  for (const StepRecord& step : run.steps) {
    if (!step.error.empty()) text += "  step " + step.path + " (line " + std::to_string(step.line) + "): " + step.error + "\n";
    if (step.held && !*step.held) {
      text += "  expect " + step.path + " (line " + std::to_string(step.line) + ") failed: " + step.why + "\n";
    }
  }
  return text;
}

Result<ReportDigest> ParseScenarioReport(std::string_view text) {
  if (text.size() > kMaxReportBytes) return Error::Invalid("the report is larger than " + std::to_string(kMaxReportBytes >> 20) + " MiB");
  g_autoptr(JsonParser) parser = json_parser_new();
  g_autoptr(GError) error = nullptr;
  if (!json_parser_load_from_data(parser, text.data(), static_cast<gssize>(text.size()), &error)) {
    return Error::Invalid(std::string("not JSON: ") + error->message);
  }
  JsonNode* root = json_parser_get_root(parser);
  if (!root || !JSON_NODE_HOLDS_OBJECT(root)) return Error::Invalid("not a scenario report: not a JSON object");
  JsonObject* o = json_node_get_object(root);
  JsonNode* steps = json_object_get_member(o, "steps");
  if (!json_object_has_member(o, "scenario") || !steps || !JSON_NODE_HOLDS_ARRAY(steps)) {
    return Error::Invalid("not a scenario report: no \"scenario\" and \"steps\"");
  }
  ReportDigest digest;
  digest.name = StringMember(o, "scenario");
  digest.duration_ns = JsonUnsignedMember(o, "duration_ns").value_or(0);
  digest.expects_held = JsonUnsignedMember(o, "expects_held").value_or(0);
  digest.expects_failed = JsonUnsignedMember(o, "expects_failed").value_or(0);
  JsonArray* array = json_node_get_array(steps);
  const guint n = json_array_get_length(array);
  if (n > kMaxScenarioSteps + 1) return Error::Invalid("more steps than a scenario can have");
  for (guint i = 0; i < n; ++i) {
    JsonNode* node = json_array_get_element(array, i);
    if (!JSON_NODE_HOLDS_OBJECT(node)) return Error::Invalid("step " + std::to_string(i + 1) + " is not an object");
    JsonObject* s = json_node_get_object(node);
    ReportStep step;
    step.index = JsonUnsignedMember(s, "index").value_or(i + 1);
    step.path = StringMember(s, "path", 64);
    step.kind = StringMember(s, "kind", 16);
    step.label = StringMember(s, "label", 64);
    step.duration_ns = JsonUnsignedMember(s, "duration_ns").value_or(0);
    step.error = StringMember(s, "error", 512);
    JsonNode* op = json_object_get_member(s, "operation");
    if (op && JSON_NODE_HOLDS_OBJECT(op)) {
      std::string outcome = StringMember(json_node_get_object(op), "outcome", 64);
      if (outcome.rfind("OPERATION_OUTCOME_", 0) == 0) outcome = outcome.substr(18);
      step.outcome = outcome;
    }
    JsonNode* f = json_object_get_member(s, "fraction_unplugged");
    if (f && JSON_NODE_HOLDS_VALUE(f) &&
        (json_node_get_value_type(f) == G_TYPE_DOUBLE || json_node_get_value_type(f) == G_TYPE_INT64) &&
        std::isfinite(json_node_get_double(f))) {
      step.fraction_unplugged = json_node_get_double(f);
    }
    JsonNode* held = json_object_get_member(s, "held");
    if (held && JSON_NODE_HOLDS_VALUE(held) && json_node_get_value_type(held) == G_TYPE_BOOLEAN) {
      step.held = static_cast<bool>(json_node_get_boolean(held));
    }
    digest.steps.push_back(std::move(step));
  }
  return digest;
}

ScolsTable CompareReports(const ReportDigest& a, const ReportDigest& b) {
  ScolsTable table({{"STEP", Align::kRight, JsonKind::kNumber},
                    {"KIND"},
                    {"LABEL"},
                    {"A-S", Align::kRight, JsonKind::kNumber},
                    {"B-S", Align::kRight, JsonKind::kNumber},
                    {"DELTA-S", Align::kRight, JsonKind::kNumber},
                    {"A-OUTCOME"},
                    {"B-OUTCOME"},
                    {"A-FRACTION", Align::kRight, JsonKind::kNumber},
                    {"B-FRACTION", Align::kRight, JsonKind::kNumber},
                    {"A-EXPECT"},
                    {"B-EXPECT"},
                    {"DIFF"}});
  const size_t rows = std::max(a.steps.size(), b.steps.size());
  auto opt = [](const std::string& s) -> std::optional<std::string> {
    if (s.empty() || s == "-") return std::nullopt;
    return s;
  };
  for (size_t i = 0; i < rows; ++i) {
    const ReportStep* sa = StepAt(a, i);
    const ReportStep* sb = StepAt(b, i);
    const ReportStep* any = sa ? sa : sb;
    std::optional<std::string> delta;
    if (sa && sb) {
      char text[32];
      // No "+": the column is a JSON number too.
      const double d = (static_cast<double>(sb->duration_ns) - static_cast<double>(sa->duration_ns)) / 1e9;
      std::snprintf(text, sizeof(text), "%.3f", std::fabs(d) < 0.0005 ? 0.0 : d);  // never "-0.000"
      delta = text;
    }
    table.AddRow({std::to_string(i + 1), any->kind, opt(any->label),
                  sa ? std::optional<std::string>(Seconds(sa->duration_ns)) : std::nullopt,
                  sb ? std::optional<std::string>(Seconds(sb->duration_ns)) : std::nullopt, delta,
                  sa ? opt(sa->outcome) : std::nullopt, sb ? opt(sb->outcome) : std::nullopt,
                  sa ? opt(Fraction(sa->fraction_unplugged)) : std::nullopt,
                  sb ? opt(Fraction(sb->fraction_unplugged)) : std::nullopt,
                  sa && sa->held ? std::optional<std::string>(Held(sa->held)) : std::nullopt,
                  sb && sb->held ? std::optional<std::string>(Held(sb->held)) : std::nullopt,
                  opt(Differences(sa, sb))});
  }
  return table;
}

size_t CountDifferences(const ReportDigest& a, const ReportDigest& b) {
  size_t n = 0;
  const size_t rows = std::max(a.steps.size(), b.steps.size());
  for (size_t i = 0; i < rows; ++i) n += !Differences(StepAt(a, i), StepAt(b, i)).empty();
  return n;
}

}  // namespace memhp::ctl
