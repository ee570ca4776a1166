// timeline_model — see timeline_model.h. Each event's data_json is read with json-glib; enum
// names are protobuf's (agent.proto, control.proto), turned back into values with *_Parse.
#include "ctl/timeline_model.h"

#include <json-glib/json-glib.h>

#include <algorithm>
#include <deque>
#include <map>
#include <optional>
#include <string_view>

#include "ctl/json_text.h"
#include "ctl/operation_view.h"

namespace memhp::ctl {
namespace {

namespace v1 = memhp::v1;

// One parsed data_json; `object` is null when it was not a JSON object.
class Data {
 public:
  explicit Data(const std::string& json) : parser_(json_parser_new()) {
    if (json_parser_load_from_data(parser_, json.c_str(), static_cast<gssize>(json.size()), nullptr)) {
      JsonNode* root = json_parser_get_root(parser_);
      if (root && JSON_NODE_HOLDS_OBJECT(root)) object_ = json_node_get_object(root);
    }
  }
  ~Data() { g_object_unref(parser_); }
  Data(const Data&) = delete;
  Data& operator=(const Data&) = delete;
  [[nodiscard]] JsonObject* object() const { return object_; }

 private:
  JsonParser* parser_;
  JsonObject* object_ = nullptr;
};

JsonObject* Child(JsonObject* object, const char* member) {
  if (!object) return nullptr;
  JsonNode* node = json_object_get_member(object, member);
  return node && JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : nullptr;
}

JsonArray* Array(JsonObject* object, const char* member) {
  if (!object) return nullptr;
  JsonNode* node = json_object_get_member(object, member);
  return node && JSON_NODE_HOLDS_ARRAY(node) ? json_node_get_array(node) : nullptr;
}

std::string String(JsonObject* object, const char* member) {
  if (!object) return "";
  JsonNode* node = json_object_get_member(object, member);
  if (!node || !JSON_NODE_HOLDS_VALUE(node) || json_node_get_value_type(node) != G_TYPE_STRING) return "";
  return json_node_get_string(node);
}

bool Bool(JsonObject* object, const char* member) {
  if (!object) return false;
  JsonNode* node = json_object_get_member(object, member);
  return node && JSON_NODE_HOLDS_VALUE(node) && json_node_get_value_type(node) == G_TYPE_BOOLEAN &&
         json_node_get_boolean(node);
}

// "OPERATION_KIND_PLUG" or "plug" -> "plug".
std::string KindWord(const std::string& kind) {
  constexpr std::string_view kPrefix = "OPERATION_KIND_";
  std::string word = kind.rfind(kPrefix, 0) == 0 ? kind.substr(kPrefix.size()) : kind;
  for (char& c : word) c = static_cast<char>(g_ascii_tolower(c));
  return word;
}

// The operation a "requested" names: its kind and device, from the ControlRequest's oneof.
std::pair<std::string, std::string> RequestedKind(JsonObject* request) {
  for (const char* kind : {"plug", "unplug", "resize"}) {
    if (JsonObject* op = Child(request, kind)) return {kind, String(op, "device_id")};
  }
  return {"operation", ""};
}

std::string Label(const std::string& kind, const std::string& device) {
  return device.empty() ? kind : kind + " " + device;
}

struct Builder {
  Timeline out;
  std::deque<size_t> open;  // operations without an "end" yet, oldest first
  std::map<uint32_t, BlockLane> lanes;
  std::map<uint32_t, BlockSpan> current;  // the span each lane is in now
  bool agent_live = true;                 // false until "watching", when there is one

  void Mark(std::vector<TimelineMark>& marks, uint64_t t, std::string label) {
    if (marks.size() >= kMaxTimelineMarks) {
      ++out.not_drawn;
      return;
    }
    marks.push_back({t, std::move(label)});
  }

  void Requested(uint64_t t, JsonObject* data) {
    if (out.operations.size() >= kMaxTimelineOperations) {
      ++out.not_drawn;
      return;
    }
    const auto [kind, device] = RequestedKind(data);
    TimelineOperation op;
    op.label = Label(kind, device);
    op.start_ns = op.end_ns = t;
    open.push_back(out.operations.size());
    out.operations.push_back(std::move(op));
  }

  void End(uint64_t t, JsonObject* data) {
    JsonObject* error = Child(data, "error");
    const std::string kind = KindWord(String(data, "kind"));
    const std::string device = String(data, "device_id");
    // The oldest open operation of this kind (memhpd answers them in turn, per device).
    TimelineOperation* op = nullptr;
    for (auto it = open.begin(); it != open.end(); ++it) {
      if (out.operations[*it].label.rfind(kind, 0) == 0) {
        op = &out.operations[*it];
        open.erase(it);
        break;
      }
    }
    const uint64_t duration_ns = JsonUnsignedMember(data, "duration_us").value_or(0) * 1000;
    if (!op) {
      if (out.operations.size() >= kMaxTimelineOperations) {
        ++out.not_drawn;
        return;
      }
      out.operations.push_back({});
      op = &out.operations.back();
      op->start_ns = t > duration_ns ? t - duration_ns : 0;
    }
    if (!device.empty()) op->label = Label(kind, device);
    const bool streamed_steps = !op->steps.empty();
    op->end_ns = t;
    op->finished = true;
    constexpr std::string_view kPrefix = "OPERATION_OUTCOME_";
    const std::string outcome = String(data, "outcome");
    op->outcome = error ? "error" : outcome.rfind(kPrefix, 0) == 0 ? outcome.substr(kPrefix.size()) : outcome;
    // Steps back to back, the last ending at the end (their durations are all memhpd gives).
    JsonArray* steps = streamed_steps ? nullptr : Array(data, "steps");
    if (steps) {
      uint64_t total = 0;
      std::vector<TimelineStep> laid;
      for (guint i = 0; i < json_array_get_length(steps); ++i) {
        JsonNode* node = json_array_get_element(steps, i);
        JsonObject* step = node && JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : nullptr;
        if (!step) continue;
        const uint64_t d = JsonUnsignedMember(step, "duration_us").value_or(0) * 1000;
        laid.push_back({String(step, "name"), total, total + d, Bool(step, "ok")});
        total += d;
      }
      const uint64_t span = op->end_ns - op->start_ns;
      // Longer than the bar (clocks differ by the queueing): scaled down to fit it.
      const double scale = total > span && total > 0 ? static_cast<double>(span) / static_cast<double>(total) : 1.0;
      const uint64_t first = op->end_ns - static_cast<uint64_t>(static_cast<double>(total) * scale);
      for (TimelineStep& s : laid) {
        s.start_ns = first + static_cast<uint64_t>(static_cast<double>(s.start_ns) * scale);
        s.end_ns = first + static_cast<uint64_t>(static_cast<double>(s.end_ns) * scale);
        op->steps.push_back(std::move(s));
      }
    }
  }

  // A step memhpd closed at `t`: it belongs to the operation running, the oldest open one.
  void Step(uint64_t t, JsonObject* step) {
    if (open.empty() || !step) return;
    TimelineOperation& op = out.operations[open.front()];
    if (op.steps.size() >= kMaxTimelineMarks) {
      ++out.not_drawn;
      return;
    }
    const uint64_t d = JsonUnsignedMember(step, "duration_us").value_or(0) * 1000;
    op.steps.push_back({String(step, "name"), std::max(op.start_ns, t > d ? t - d : 0), t, Bool(step, "ok")});
  }

  // The lane of `block`, or nullptr when there are too many lanes already.
  BlockLane* Lane(uint32_t block) {
    auto it = lanes.find(block);
    if (it != lanes.end()) return &it->second;
    if (lanes.size() >= kMaxTimelineBlockLanes) return nullptr;
    BlockLane& lane = lanes[block];
    lane.block = block;
    return &lane;
  }

  void Enter(BlockLane& lane, uint64_t t, std::optional<BlockSpan> next) {
    auto it = current.find(lane.block);
    if (it != current.end()) {
      if (next && it->second.phase == next->phase && it->second.zone == next->zone) return;  // no change
      it->second.end_ns = t;
      if (it->second.end_ns > it->second.start_ns || !next) lane.spans.push_back(it->second);
      current.erase(it);
    }
    if (next) {
      next->start_ns = t;
      current[lane.block] = *next;
    }
  }

  void Memory(uint64_t t, JsonObject* memory) {
    const std::optional<uint64_t> block = JsonUnsignedMember(memory, "block");
    if (!block || *block > UINT32_MAX) return;
    BlockLane* lane = Lane(static_cast<uint32_t>(*block));
    if (!lane) {
      ++out.not_drawn;
      return;
    }
    v1::MemoryEventKind kind = v1::MEMORY_EVENT_KIND_UNSPECIFIED;
    if (!v1::MemoryEventKind_Parse(String(memory, "kind"), &kind)) return;
    v1::Zone zone = v1::ZONE_UNSPECIFIED;
    if (!v1::Zone_Parse(String(memory, "zone"), &zone)) zone = v1::ZONE_UNSPECIFIED;
    const auto now = current.find(lane->block);
    const v1::Zone was_zone = now == current.end() ? v1::ZONE_UNSPECIFIED : now->second.zone;
    auto span = [](BlockPhase phase, v1::Zone z) { return std::optional<BlockSpan>(BlockSpan{0, 0, phase, z}); };
    switch (kind) {
      case v1::MEMORY_EVENT_KIND_BLOCK_ADDED:
      case v1::MEMORY_EVENT_KIND_OFFLINE:
        Enter(*lane, t, span(BlockPhase::kOffline, v1::ZONE_UNSPECIFIED));
        break;
      case v1::MEMORY_EVENT_KIND_GOING_ONLINE:
        Enter(*lane, t, span(BlockPhase::kGoingOnline, zone));
        break;
      case v1::MEMORY_EVENT_KIND_ONLINE:
        Enter(*lane, t, span(BlockPhase::kOnline, zone != v1::ZONE_UNSPECIFIED ? zone : was_zone));
        break;
      case v1::MEMORY_EVENT_KIND_GOING_OFFLINE:
        Enter(*lane, t, span(BlockPhase::kGoingOffline, zone != v1::ZONE_UNSPECIFIED ? zone : was_zone));
        break;
      case v1::MEMORY_EVENT_KIND_CANCEL_ONLINE:
      case v1::MEMORY_EVENT_KIND_CANCEL_OFFLINE: {
        const std::string by = String(memory, "vetoed_by");
        const uint64_t err = JsonUnsignedMember(memory, "errno_value").value_or(0);
        std::string label = kind == v1::MEMORY_EVENT_KIND_CANCEL_ONLINE ? "online refused" : "offline refused";
        if (!by.empty()) label += ": vetoed by " + by;
        else if (err != 0 && err < 4096) label += ": " + FormatErrno(static_cast<int>(err));
        Mark(lane->vetoes, t, std::move(label));
        if (kind == v1::MEMORY_EVENT_KIND_CANCEL_ONLINE) {
          Enter(*lane, t, span(BlockPhase::kOffline, v1::ZONE_UNSPECIFIED));
        } else {
          Enter(*lane, t, span(BlockPhase::kOnline, was_zone));
        }
        break;
      }
      case v1::MEMORY_EVENT_KIND_BLOCK_REMOVED:
        Enter(*lane, t, std::nullopt);
        break;
      default:
        break;
    }
  }

  void Add(const v1::WatchEvent& e) {
    const uint64_t t = e.time_unix_ns();
    Data data(e.data_json());
    if (e.source() == "operation") {
      if (e.name() == "requested") Requested(t, data.object());
      if (e.name() == "step") Step(t, data.object());
      if (e.name() == "end") End(t, data.object());
    } else if (e.source() == "qmp") {
      Mark(out.qmp, t, e.name());
    } else if (e.source() == "memhpd") {
      if (e.name() == "watching") agent_live = true;
      Mark(out.notices, t, e.name());
    } else if (e.source() == "agent" && agent_live) {
      if (JsonObject* memory = Child(data.object(), "memory")) Memory(t, memory);
      if (e.name() == "gap") Mark(out.notices, t, "agent gap");
    }
  }
};

}  // namespace

Timeline BuildTimeline(const std::vector<v1::WatchEvent>& events) {
  Builder b;
  b.out.events = events.size();
  uint64_t last_seq = 0;
  bool first = true;
  for (const v1::WatchEvent& e : events) {
    if (e.source() == "memhpd" && e.name() == "watching") b.agent_live = false;  // replayed come first
  }
  for (const v1::WatchEvent& e : events) {
    // Agent events before "watching" are memhpd's replay (see the header).
    if (b.out.vm.empty()) b.out.vm = e.vm();
    if (e.seq() != 0) {
      if (last_seq != 0 && e.seq() > last_seq + 1) b.out.missing_events += e.seq() - last_seq - 1;
      last_seq = e.seq();
    }
    if (e.time_unix_ns() != 0) {
      b.out.start_ns = first ? e.time_unix_ns() : std::min(b.out.start_ns, e.time_unix_ns());
      b.out.end_ns = first ? e.time_unix_ns() : std::max(b.out.end_ns, e.time_unix_ns());
      first = false;
    }
    b.Add(e);
  }
  // Open spans and operations run to the end of the recording.
  for (auto& [block, span] : b.current) {
    span.end_ns = std::max(b.out.end_ns, span.start_ns);
    b.lanes[block].spans.push_back(span);
  }
  for (size_t i : b.open) b.out.operations[i].end_ns = std::max(b.out.end_ns, b.out.operations[i].start_ns);
  std::stable_sort(b.out.operations.begin(), b.out.operations.end(),
                   [](const TimelineOperation& x, const TimelineOperation& y) { return x.start_ns < y.start_ns; });
  for (auto& [block, lane] : b.lanes) b.out.blocks.push_back(std::move(lane));
  return b.out;
}

}  // namespace memhp::ctl
