// qemu_facts — see qemu_facts.h.
#include "daemon/operations/qemu_facts.h"

#include <cstdlib>
#include <memory>

#include "qmp/memory_devices.h"
#include "qmp/qmp_json.h"

namespace memhp::daemon::operations {

qmp::ParseResult<MachineMemory> ParseMachineMemory(const JsonNode& value) {
  JsonObject* object = qmp::AsObject(&value);
  if (object == nullptr) return qmp::ParseResult<MachineMemory>::Fail("/machine memory is not an object");
  const auto size = qmp::GetUint(object, "size");
  const auto slots = qmp::GetUint(object, "slots");
  const auto max_size = qmp::GetUint(object, "max-size");
  if (!size || !slots || !max_size) {
    return qmp::ParseResult<MachineMemory>::Fail("/machine memory lacks size, slots or max-size");
  }
  return qmp::ParseResult<MachineMemory>::Ok(
      MachineMemory{*size, static_cast<uint32_t>(*slots), *max_size});
}

std::optional<uint32_t> ParseInfoNumaNodeCount(const std::string& text) {
  const size_t pos = text.find(" nodes");
  if (pos == std::string::npos || pos == 0) return std::nullopt;
  size_t start = pos;
  while (start > 0 && text[start - 1] >= '0' && text[start - 1] <= '9') --start;
  if (start == pos || start != 0) return std::nullopt;  // "<N> nodes" opens the text
  return static_cast<uint32_t>(std::strtoul(text.substr(0, pos).c_str(), nullptr, 10));
}

std::vector<std::string> ParseQomChildren(const JsonNode& value) {
  std::vector<std::string> names;
  JsonArray* array = qmp::AsArray(&value);
  if (array == nullptr) return names;
  const guint n = json_array_get_length(array);
  for (guint i = 0; i < n && i < 4096; ++i) {
    JsonObject* entry = qmp::AsObject(json_array_get_element(array, i));
    const auto name = qmp::GetString(entry, "name");
    const auto type = qmp::GetString(entry, "type");
    if (name && type && type->rfind("child<", 0) == 0) names.push_back(*name);
  }
  return names;
}

std::vector<NodeZones> NodeZonesFrom(const memhp::v1::ZoneReport& report) {
  std::vector<NodeZones> out;
  const uint64_t page = report.page_size() ? report.page_size() : 4096;
  for (const auto& node : report.nodes()) {
    NodeZones z;
    z.node = node.node();
    for (const auto& zone : node.zones()) {
      const uint64_t bytes = zone.present_pages() * page;
      if (zone.zone() == memhp::v1::ZONE_MOVABLE) {
        z.movable_bytes += bytes;
      } else if (zone.zone() == memhp::v1::ZONE_DMA || zone.zone() == memhp::v1::ZONE_DMA32 ||
                 zone.zone() == memhp::v1::ZONE_NORMAL) {
        z.kernel_bytes += bytes;
      }
    }
    out.push_back(z);
  }
  return out;
}

namespace {

struct Gather {
  GatheredFacts out;
  int outstanding = 0;
  std::function<void(GatheredFacts)> done;
  void Finish() {
    if (--outstanding == 0) done(std::move(out));
  }
};

}  // namespace

void GatherFacts(qmp::QmpClient& qmp, AgentChannel& agent, FactsTimeouts timeouts,
                 std::function<void(GatheredFacts)> done) {
  auto g = std::make_shared<Gather>();
  g->done = std::move(done);
  g->outstanding = 6;  // five QMP questions + the agent's part
  if (agent.hello() && agent.hello()->guest().block_size_bytes() > 0) {
    g->out.facts.guest_block_size = agent.hello()->guest().block_size_bytes();
  }
  qmp.Execute("query-memory-devices", nullptr, timeouts.qmp, [g](qmp::Result r) {
    if (!r.ok()) {
      g->out.problems.push_back("query-memory-devices: " + r.error().message);
    } else if (auto devices = qmp::ParseMemoryDevices(*r.value())) {
      g->out.facts.devices = std::move(*devices.value);
      g->out.devices_ok = true;
    } else {
      g->out.problems.push_back(devices.error);  // it names the query already
    }
    g->Finish();
  });
  qmp.Execute("query-memory-size-summary", nullptr, timeouts.qmp, [g](qmp::Result r) {
    if (!r.ok()) {
      g->out.problems.push_back("query-memory-size-summary: " + r.error().message);
    } else if (auto s = qmp::ParseMemorySizeSummary(*r.value())) {
      g->out.facts.base_memory = s.value->base_memory;
      g->out.facts.plugged_memory = s.value->plugged_memory;
    } else {
      g->out.problems.push_back(s.error);  // a wrong shape is not "no memory"
    }
    g->Finish();
  });
  qmp.Execute("qom-get",
              qmp::JsonObjectBuilder().SetString("path", "/machine").SetString("property", "memory").Build(),
              timeouts.qmp, [g](qmp::Result r) {
                if (r.ok()) {
                  if (auto m = ParseMachineMemory(*r.value())) {
                    if (m.value->max_size > 0) g->out.facts.max_memory = m.value->max_size;
                    g->out.facts.slots = m.value->slots;
                    if (!g->out.facts.base_memory) g->out.facts.base_memory = m.value->size;
                  } else {
                    g->out.problems.push_back(m.error);
                  }
                } else {
                  g->out.problems.push_back("qom-get /machine memory: " + r.error().message);
                }
                g->Finish();
              });
  qmp.Execute("qom-list", qmp::JsonObjectBuilder().SetString("path", "/objects").Build(), timeouts.qmp,
              [g](qmp::Result r) {
                if (r.ok()) {
                  g->out.facts.object_ids = ParseQomChildren(*r.value());
                } else {
                  g->out.problems.push_back("qom-list /objects: " + r.error().message);
                }
                g->Finish();
              });
  qmp.Execute("human-monitor-command", qmp::JsonObjectBuilder().SetString("command-line", "info numa").Build(),
              timeouts.qmp, [g](qmp::Result r) {
                if (r.ok()) {
                  JsonNode* node = const_cast<JsonNode*>(r.value());  // json-glib takes non-const
                  const char* text = JSON_NODE_HOLDS_VALUE(node) && json_node_get_value_type(node) == G_TYPE_STRING
                                         ? json_node_get_string(node)
                                         : nullptr;
                  if (text) g->out.facts.node_count = ParseInfoNumaNodeCount(text);
                } else {
                  g->out.problems.push_back("info numa: " + r.error().message);
                }
                g->Finish();
              });
  if (!agent.agent_connected()) {
    g->Finish();
    return;
  }
  // The agent's part: its zone report, then its policy (an empty SetPolicyRequest reads it).
  memhp::v1::AgentRequest zones;
  zones.mutable_zone_report();
  agent.Request(std::move(zones), timeouts.agent, [g, &agent, timeouts](AgentReply r) {
    if (r.response && r.response->has_zone_report()) {
      const auto& report = r.response->zone_report();
      if (report.mem_available_bytes() > 0) g->out.facts.mem_available = report.mem_available_bytes();
      g->out.facts.zones = NodeZonesFrom(report);
    } else {
      g->out.problems.push_back("agent zone report: " + (r.response ? r.response->error().message() : r.error));
    }
    memhp::v1::AgentRequest policy;
    policy.mutable_set_policy();
    agent.Request(std::move(policy), timeouts.agent, [g](AgentReply p) {
      if (p.response && p.response->has_policy() && p.response->policy().movable_ratio_percent() > 0) {
        g->out.facts.movable_ratio_percent = p.response->policy().movable_ratio_percent();
      }
      g->Finish();
    });
  });
}

}  // namespace memhp::daemon::operations
