// scenario_file — the scenario parser (see scenario_file.h).
#include "ctl/scenario_file.h"

#include <json-glib/json-glib.h>

#include <cerrno>
#include <cmath>
#include <map>
#include <set>
#include <utility>
#include <vector>

namespace memhp::ctl {
namespace {

// Each object's first line, recorded while json-glib parses (object-start pushes the line,
// object-end pairs it with the finished object).
struct LineMap {
  std::vector<int> open;
  std::map<const JsonObject*, int> lines;
};

void OnObjectStart(JsonParser* parser, gpointer data) {
  static_cast<LineMap*>(data)->open.push_back(static_cast<int>(json_parser_get_current_line(parser)));
}

void OnObjectEnd(JsonParser*, JsonObject* object, gpointer data) {
  auto* map = static_cast<LineMap*>(data);
  if (map->open.empty()) return;
  map->lines[object] = map->open.back();
  map->open.pop_back();
}

// Reads one object's members, each at most once, and says which were not known.
class Reader {
 public:
  Reader(JsonObject* object, const LineMap& lines, std::string what)
      : object_(object), what_(std::move(what)) {
    const auto it = lines.lines.find(object);
    line_ = it == lines.lines.end() ? 0 : it->second;
  }
  [[nodiscard]] int line() const { return line_; }
  [[nodiscard]] Error Fail(const std::string& message) const {
    return Error::Invalid("line " + std::to_string(line_) + ": " + what_ + ": " + message);
  }
  [[nodiscard]] bool Has(const char* member) {
    known_.insert(member);
    return json_object_has_member(object_, member);
  }
  [[nodiscard]] Result<std::string> String(const char* member, size_t max_bytes = 256) {
    JsonNode* node = json_object_get_member(object_, member);
    if (!JSON_NODE_HOLDS_VALUE(node) || json_node_get_value_type(node) != G_TYPE_STRING) {
      return Fail(std::string("\"") + member + "\" must be a string");
    }
    std::string value = json_node_get_string(node);
    if (value.size() > max_bytes) return Fail(std::string("\"") + member + "\" is longer than " + std::to_string(max_bytes) + " bytes");
    return value;
  }
  [[nodiscard]] Result<uint64_t> Unsigned(const char* member, uint64_t min, uint64_t max) {
    JsonNode* node = json_object_get_member(object_, member);
    if (!JSON_NODE_HOLDS_VALUE(node) || json_node_get_value_type(node) != G_TYPE_INT64 ||
        json_node_get_int(node) < 0 || static_cast<uint64_t>(json_node_get_int(node)) < min ||
        static_cast<uint64_t>(json_node_get_int(node)) > max) {
      return Fail(std::string("\"") + member + "\" must be a whole number from " + std::to_string(min) + " to " +
                  std::to_string(max));
    }
    return static_cast<uint64_t>(json_node_get_int(node));
  }
  [[nodiscard]] Result<double> Fraction(const char* member, bool open_interval) {
    JsonNode* node = json_object_get_member(object_, member);
    const GType type = JSON_NODE_HOLDS_VALUE(node) ? json_node_get_value_type(node) : G_TYPE_INVALID;
    if (type != G_TYPE_DOUBLE && type != G_TYPE_INT64) return Fail(std::string("\"") + member + "\" must be a number");
    const double value = json_node_get_double(node);
    const bool in = open_interval ? (value > 0 && value < 1) : (value >= 0 && value <= 1);
    if (!std::isfinite(value) || !in) {
      return Fail(std::string("\"") + member + "\" must be " + (open_interval ? "between 0 and 1" : "from 0 to 1"));
    }
    return value;
  }
  [[nodiscard]] Result<bool> Bool(const char* member) {
    JsonNode* node = json_object_get_member(object_, member);
    if (!JSON_NODE_HOLDS_VALUE(node) || json_node_get_value_type(node) != G_TYPE_BOOLEAN) {
      return Fail(std::string("\"") + member + "\" must be true or false");
    }
    return static_cast<bool>(json_node_get_boolean(node));
  }
  // A member nobody asked for is a typo more often than not: refused, named.
  [[nodiscard]] std::optional<Error> Unknown() const {
    g_autoptr(GList) members = json_object_get_members(object_);
    for (GList* m = members; m; m = m->next) {
      const char* name = static_cast<const char*>(m->data);
      if (!known_.count(name)) return Fail(std::string("unknown member \"") + name + "\"");
    }
    return std::nullopt;
  }
  JsonObject* object() const { return object_; }

 private:
  JsonObject* object_;
  std::string what_;
  int line_ = 0;
  std::set<std::string> known_;
};

#define MEMHP_TAKE(target, expr)         \
  do {                                   \
    auto taken_ = (expr);                \
    if (!taken_.ok()) return taken_.error(); \
    target = std::move(*taken_);         \
  } while (0)

constexpr std::pair<std::string_view, StepKind> kKinds[] = {
    {"plug", StepKind::kPlug},     {"unplug", StepKind::kUnplug},     {"resize", StepKind::kResize},
    {"policy", StepKind::kPolicy}, {"workload", StepKind::kWorkload}, {"wait", StepKind::kWait},
    {"expect", StepKind::kExpect}, {"repeat", StepKind::kRepeat},
};

constexpr std::string_view kPolicies[] = {"manual", "online", "online_kernel", "online_movable", "auto-movable"};
constexpr std::string_view kOutcomes[] = {"DONE", "REFUSED", "PARTIAL", "TIMED_OUT", "FAILED"};
constexpr std::string_view kZones[] = {"DMA", "DMA32", "Normal", "Movable"};

template <size_t N>
bool OneOf(const std::string& value, const std::string_view (&names)[N]) {
  for (std::string_view n : names) {
    if (value == n) return true;
  }
  return false;
}

Result<std::vector<ScenarioStep>> ParseSteps(JsonNode* node, const LineMap& lines, const Reader& owner, int depth);

Status ParsePlug(Reader& r, PlugStep& plug) {
  if (r.Has("device")) MEMHP_TAKE(plug.device, r.String("device", 64));
  if (!r.Has("size_mib")) return r.Fail("\"size_mib\" is required");
  MEMHP_TAKE(plug.size_mib, r.Unsigned("size_mib", 1, kMaxScenarioMib));
  if (!r.Has("node")) return r.Fail("\"node\" is required");
  uint64_t node = 0;
  MEMHP_TAKE(node, r.Unsigned("node", 0, 4095));
  plug.node = static_cast<int32_t>(node);
  if (r.Has("zone")) {
    std::string zone;
    MEMHP_TAKE(zone, r.String("zone"));
    if (zone == "policy") plug.zone = ZoneAsk::kPolicy;
    else if (zone == "default") plug.zone = ZoneAsk::kDefault;
    else if (zone == "kernel") plug.zone = ZoneAsk::kKernel;
    else if (zone == "movable") plug.zone = ZoneAsk::kMovable;
    else return r.Fail("\"zone\" must be policy, default, kernel or movable");
  }
  if (r.Has("timeout_s")) MEMHP_TAKE(plug.timeout_s, r.Unsigned("timeout_s", 1, kMaxWaitSeconds));
  return Status();
}

Status ParseUnplug(Reader& r, UnplugStep& unplug) {
  if (!r.Has("device")) return r.Fail("\"device\" is required");
  MEMHP_TAKE(unplug.device, r.String("device", 64));
  if (r.Has("force")) MEMHP_TAKE(unplug.force, r.Bool("force"));
  if (r.Has("timeout_s")) MEMHP_TAKE(unplug.timeout_s, r.Unsigned("timeout_s", 1, kMaxWaitSeconds));
  return Status();
}

Status ParseResize(Reader& r, ResizeStep& resize) {
  if (!r.Has("device")) return r.Fail("\"device\" is required");
  MEMHP_TAKE(resize.device, r.String("device", 64));
  const bool sized = r.Has("size_mib");
  // Both asked, so both count as known members.
  const bool has_min = r.Has("min_mib");
  const bool has_max = r.Has("max_mib");
  const bool ranged = has_min || has_max;
  if (sized == ranged) return r.Fail("give either \"size_mib\" or \"min_mib\" and \"max_mib\"");
  if (sized) {
    uint64_t size = 0;
    MEMHP_TAKE(size, r.Unsigned("size_mib", 0, kMaxScenarioMib));
    resize.size_mib = size;
  } else {
    if (!has_min || !has_max) {
      return r.Fail("a drawn size needs both \"min_mib\" and \"max_mib\"");
    }
    MEMHP_TAKE(resize.min_mib, r.Unsigned("min_mib", 0, kMaxScenarioMib));
    MEMHP_TAKE(resize.max_mib, r.Unsigned("max_mib", 0, kMaxScenarioMib));
    if (resize.min_mib > resize.max_mib) return r.Fail("\"min_mib\" is above \"max_mib\"");
  }
  if (r.Has("align_mib")) MEMHP_TAKE(resize.align_mib, r.Unsigned("align_mib", 1, 1024));
  if (r.Has("offline_first")) MEMHP_TAKE(resize.offline_first, r.Bool("offline_first"));
  if (r.Has("timeout_s")) MEMHP_TAKE(resize.timeout_s, r.Unsigned("timeout_s", 1, kMaxWaitSeconds));
  return Status();
}

Status ParsePolicy(Reader& r, PolicyStep& policy) {
  if (!r.Has("set")) return r.Fail("\"set\" is required");
  MEMHP_TAKE(policy.policy, r.String("set"));
  if (!OneOf(policy.policy, kPolicies)) {
    return r.Fail("\"set\" must be manual, online, online_kernel, online_movable or auto-movable");
  }
  if (r.Has("ratio_percent")) MEMHP_TAKE(policy.ratio_percent, r.Unsigned("ratio_percent", 1, 100000));
  return Status();
}

Status ParseWorkload(Reader& r, WorkloadStep& workload) {
  if (!r.Has("action")) return r.Fail("\"action\" is required (start or stop)");
  std::string action;
  MEMHP_TAKE(action, r.String("action"));
  if (action != "start" && action != "stop") return r.Fail("\"action\" must be start or stop");
  workload.action = action == "start" ? WorkloadAction::kStart : WorkloadAction::kStop;
  if (r.Has("name")) {
    MEMHP_TAKE(workload.name, r.String("name", 32));
    for (char c : workload.name) {
      if (!g_ascii_isalnum(c) && c != '-' && c != '_') return r.Fail("\"name\" may hold letters, digits, - and _ only");
    }
    if (workload.name.empty()) return r.Fail("\"name\" is empty");
  }
  if (r.Has("timeout_s")) MEMHP_TAKE(workload.timeout_s, r.Unsigned("timeout_s", 1, kMaxWaitSeconds));
  if (workload.action == WorkloadAction::kStop) return Status();
  if (r.Has("memory")) {
    std::string memory;
    MEMHP_TAKE(memory, r.String("memory"));
    if (memory != "anon") {
      return r.Fail("\"memory\" must be anon: memhp-touch makes anonymous memory only (no page cache or slab)");
    }
  }
  const bool sized = r.Has("size_mib");
  const bool fraction = r.Has("fraction");
  if (sized == fraction) return r.Fail("give either \"size_mib\" or \"fraction\"");
  if (sized) {
    uint64_t mib = 0;
    MEMHP_TAKE(mib, r.Unsigned("size_mib", 1, kMaxScenarioMib));
    workload.size_mib = mib;
  } else {
    double f = 0;
    MEMHP_TAKE(f, r.Fraction("fraction", true));
    workload.fraction = f;
  }
  if (r.Has("node")) {
    uint64_t node = 0;
    MEMHP_TAKE(node, r.Unsigned("node", 0, 4095));
    workload.node = static_cast<int32_t>(node);
  }
  return Status();
}

Status ParseWait(Reader& r, WaitStep& wait) {
  if (r.Has("until")) {
    std::string until;
    MEMHP_TAKE(until, r.String("until"));
    if (until != "all_blocks_online") return r.Fail("\"until\" must be all_blocks_online");
    wait.until = WaitUntil::kAllBlocksOnline;
    if (!r.Has("timeout_s")) return r.Fail("a condition needs its deadline, \"timeout_s\"");
    MEMHP_TAKE(wait.seconds, r.Unsigned("timeout_s", 1, kMaxWaitSeconds));
    return Status();
  }
  if (!r.Has("seconds")) return r.Fail("give \"seconds\" or \"until\" with \"timeout_s\"");
  MEMHP_TAKE(wait.seconds, r.Unsigned("seconds", 0, kMaxWaitSeconds));
  return Status();
}

Status ParseExpect(Reader& r, ExpectStep& expect) {
  if (r.Has("of")) MEMHP_TAKE(expect.of, r.String("of", 64));
  int given = 0;
  if (r.Has("outcome")) {
    ++given;
    expect.kind = ExpectKind::kOutcome;
    MEMHP_TAKE(expect.outcome, r.String("outcome"));
    if (!OneOf(expect.outcome, kOutcomes)) return r.Fail("\"outcome\" must be DONE, REFUSED, PARTIAL, TIMED_OUT or FAILED");
  }
  if (r.Has("zone")) {
    ++given;
    expect.kind = ExpectKind::kZone;
    MEMHP_TAKE(expect.zone, r.String("zone"));
    if (!OneOf(expect.zone, kZones)) return r.Fail("\"zone\" must be DMA, DMA32, Normal or Movable");
  }
  if (r.Has("fraction_unplugged")) {
    ++given;
    expect.kind = ExpectKind::kFractionUnplugged;
    JsonNode* node = json_object_get_member(r.object(), "fraction_unplugged");
    if (!JSON_NODE_HOLDS_OBJECT(node)) return r.Fail("\"fraction_unplugged\" must be an object {\"min\": F, \"max\": F}");
    // The bounds' object is read with this step's line: it is the step's own detail.
    JsonObject* bounds = json_node_get_object(node);
    for (const char* bound : {"min", "max"}) {
      if (!json_object_has_member(bounds, bound)) continue;
      JsonNode* b = json_object_get_member(bounds, bound);
      const GType type = JSON_NODE_HOLDS_VALUE(b) ? json_node_get_value_type(b) : G_TYPE_INVALID;
      const double v = (type == G_TYPE_DOUBLE || type == G_TYPE_INT64) ? json_node_get_double(b) : -1;
      if (!(v >= 0 && v <= 1)) return r.Fail(std::string("fraction_unplugged \"") + bound + "\" must be a number from 0 to 1");
      (bound[1] == 'i' ? expect.min_fraction : expect.max_fraction) = v;
    }
    if (json_object_get_size(bounds) == 0) return r.Fail("\"fraction_unplugged\" needs \"min\" or \"max\"");
    if (expect.min_fraction > expect.max_fraction) return r.Fail("fraction_unplugged \"min\" is above \"max\"");
  }
  if (r.Has("no_audit_violations")) {
    ++given;
    expect.kind = ExpectKind::kNoAuditViolations;
    bool yes = false;
    MEMHP_TAKE(yes, r.Bool("no_audit_violations"));
    if (!yes) return r.Fail("\"no_audit_violations\" can only be true");
  }
  if (given != 1) return r.Fail("give exactly one of outcome, zone, fraction_unplugged, no_audit_violations");
  return Status();
}

Result<ScenarioStep> ParseStep(JsonNode* node, const LineMap& lines, const Reader& owner, size_t index, int depth) {
  if (!JSON_NODE_HOLDS_OBJECT(node)) return owner.Fail("step " + std::to_string(index + 1) + " is not an object");
  JsonObject* object = json_node_get_object(node);
  Reader first(object, lines, "step");
  if (!json_object_has_member(object, "step")) return first.Fail("\"step\" is required");
  std::string kind_name;
  MEMHP_TAKE(kind_name, first.String("step"));
  ScenarioStep step;
  bool found = false;
  for (const auto& [name, kind] : kKinds) {
    if (kind_name == name) {
      step.kind = kind;
      found = true;
    }
  }
  if (!found) return first.Fail("unknown step \"" + kind_name + "\"");
  Reader r(object, lines, kind_name);
  (void)r.Has("step");  // read above
  step.line = r.line();
  if (r.Has("label")) MEMHP_TAKE(step.label, r.String("label", 64));
  if (r.Has("vm")) MEMHP_TAKE(step.vm, r.String("vm", 64));
  Status parsed;
  switch (step.kind) {
    case StepKind::kPlug: parsed = ParsePlug(r, step.plug); break;
    case StepKind::kUnplug: parsed = ParseUnplug(r, step.unplug); break;
    case StepKind::kResize: parsed = ParseResize(r, step.resize); break;
    case StepKind::kPolicy: parsed = ParsePolicy(r, step.policy); break;
    case StepKind::kWorkload: parsed = ParseWorkload(r, step.workload); break;
    case StepKind::kWait: parsed = ParseWait(r, step.wait); break;
    case StepKind::kExpect: parsed = ParseExpect(r, step.expect); break;
    case StepKind::kRepeat: {
      if (!r.Has("times")) return r.Fail("\"times\" is required");
      MEMHP_TAKE(step.times, r.Unsigned("times", 1, kMaxRepeat));
      if (!r.Has("steps")) return r.Fail("\"steps\" is required");
      if (depth >= 4) return r.Fail("repeats nest at most 4 deep");
      MEMHP_TAKE(step.steps, ParseSteps(json_object_get_member(object, "steps"), lines, r, depth + 1));
      break;
    }
  }
  if (!parsed.ok()) return parsed.error();
  if (std::optional<Error> unknown = r.Unknown()) return *unknown;
  return step;
}

Result<std::vector<ScenarioStep>> ParseSteps(JsonNode* node, const LineMap& lines, const Reader& owner, int depth) {
  if (!JSON_NODE_HOLDS_ARRAY(node)) return owner.Fail("\"steps\" must be a list");
  JsonArray* array = json_node_get_array(node);
  const guint n = json_array_get_length(array);
  if (n == 0) return owner.Fail("\"steps\" is empty");
  if (n > kMaxScenarioSteps) return owner.Fail("more than " + std::to_string(kMaxScenarioSteps) + " steps");
  std::vector<ScenarioStep> steps;
  for (guint i = 0; i < n; ++i) {
    ScenarioStep step;
    MEMHP_TAKE(step, ParseStep(json_array_get_element(array, i), lines, owner, i, depth));
    steps.push_back(std::move(step));
  }
  return steps;
}

// Every expect's "of" names a labelled operation step before it (the unrolled order does not
// matter: a repeat's later iterations see the same labels).
Status CheckLabels(const std::vector<ScenarioStep>& steps, std::set<std::string>& seen) {
  for (const ScenarioStep& step : steps) {
    if (step.kind == StepKind::kRepeat) {
      if (Status s = CheckLabels(step.steps, seen); !s.ok()) return s;
      continue;
    }
    if (step.kind == StepKind::kExpect && !step.expect.of.empty() && !seen.count(step.expect.of)) {
      return Error::Invalid("line " + std::to_string(step.line) + ": expect: \"of\": no operation step labelled \"" +
                            step.expect.of + "\" before it");
    }
    const bool operation = step.kind == StepKind::kPlug || step.kind == StepKind::kUnplug || step.kind == StepKind::kResize;
    if (!step.label.empty() && operation) seen.insert(step.label);
  }
  return Status();
}

}  // namespace

std::string_view StepKindName(StepKind kind) {
  for (const auto& [name, k] : kKinds) {
    if (k == kind) return name;
  }
  return "?";
}

size_t UnrolledStepCount(const std::vector<ScenarioStep>& steps) {
  size_t n = 0;
  for (const ScenarioStep& step : steps) {
    if (step.kind != StepKind::kRepeat) {
      ++n;
      continue;
    }
    const size_t inner = UnrolledStepCount(step.steps);
    // Saturates instead of overflowing; the caller compares with kMaxScenarioSteps.
    n += inner > kMaxScenarioSteps ? kMaxScenarioSteps + 1 : inner * step.times;
    if (n > kMaxScenarioSteps) return kMaxScenarioSteps + 1;
  }
  return n;
}

Result<Scenario> ParseScenario(std::string_view text) {
  if (text.size() > kMaxScenarioBytes) {
    return Error::Invalid("the file is larger than " + std::to_string(kMaxScenarioBytes >> 10) + " KiB");
  }
  g_autoptr(JsonParser) parser = json_parser_new();
  LineMap lines;
  g_signal_connect(parser, "object-start", G_CALLBACK(OnObjectStart), &lines);
  g_signal_connect(parser, "object-end", G_CALLBACK(OnObjectEnd), &lines);
  g_autoptr(GError) error = nullptr;
  // json-glib's message starts with "<line>:<column>: " (json-parser.c, "%s:%d:%d: Parse error").
  if (!json_parser_load_from_data(parser, text.data(), static_cast<gssize>(text.size()), &error)) {
    // Without a file name json-glib says "<data>:" first; the line and column are what helps.
    std::string_view message = error->message;
    if (message.rfind("<data>:", 0) == 0) message.remove_prefix(7);
    return Error::Invalid("not JSON: " + std::string(message));
  }
  JsonNode* root = json_parser_get_root(parser);
  if (!root || !JSON_NODE_HOLDS_OBJECT(root)) return Error::Invalid("line 1: the file must hold one JSON object");
  Reader r(json_node_get_object(root), lines, "scenario");
  Scenario scenario;
  if (!r.Has("name")) return r.Fail("\"name\" is required");
  MEMHP_TAKE(scenario.name, r.String("name", 128));
  if (r.Has("description")) MEMHP_TAKE(scenario.description, r.String("description", 4096));
  if (r.Has("vm")) MEMHP_TAKE(scenario.vm, r.String("vm", 64));
  if (r.Has("seed")) MEMHP_TAKE(scenario.seed, r.Unsigned("seed", 0, uint64_t{1} << 53));
  if (!r.Has("steps")) return r.Fail("\"steps\" is required");
  MEMHP_TAKE(scenario.steps, ParseSteps(json_object_get_member(r.object(), "steps"), lines, r, 0));
  if (std::optional<Error> unknown = r.Unknown()) return *unknown;
  if (UnrolledStepCount(scenario.steps) > kMaxScenarioSteps) {
    return Error::Invalid("the repeats unroll to more than " + std::to_string(kMaxScenarioSteps) + " steps");
  }
  std::set<std::string> seen;
  if (Status s = CheckLabels(scenario.steps, seen); !s.ok()) return s.error();
  return scenario;
}

}  // namespace memhp::ctl
