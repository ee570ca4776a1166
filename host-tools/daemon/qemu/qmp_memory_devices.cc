// qmp_memory_devices — see qmp_memory_devices.h.
#include "daemon/qemu/qmp_memory_devices.h"

#include <cstdio>
#include <memory>

#include "daemon/qemu/qemu_facts.h"
#include "qmp/memory_devices.h"
#include "qmp/qmp_json.h"

namespace memhp::daemon::qemu {
namespace {

constexpr int64_t kOstSourceEject = 3;
constexpr int64_t kOstEjectInProgress = 0x84;

Error Malformed(std::string message) {
  Error e{EINVAL, std::move(message)};
  e.code = memhp::v1::ERROR_CODE_MALFORMED;
  return e;
}

}  // namespace

Error FromQmpError(Error error) {
  // The client already carries the code (qmp_client.h); a lost connection keeps the errno of
  // the system call that failed, which this port does not pass on.
  if (error.code == memhp::v1::ERROR_CODE_UNAVAILABLE) error.errno_value = ENOTCONN;
  return error;
}

QmpMemoryDevices::QmpMemoryDevices(qmp::QmpClient& qmp, std::chrono::milliseconds timeout)
    : qmp_(qmp), timeout_(timeout) {}

void QmpMemoryDevices::Command(std::string_view command, qmp::JsonNodePtr arguments, Done<void> done) {
  qmp_.Execute(command, std::move(arguments), timeout_, [done = std::move(done)](qmp::CommandResult r) {
    if (!r.ok()) {
      done(FromQmpError(std::move(r).error()));
      return;
    }
    done(Status());
  });
}

void QmpMemoryDevices::ListDevices(Done<std::vector<memhp::v1::MemoryDevice>> done) {
  qmp_.Execute("query-memory-devices", nullptr, timeout_, [done = std::move(done)](qmp::CommandResult r) {
    if (!r.ok()) {
      Error e = FromQmpError(std::move(r).error());
      e.message = "query-memory-devices: " + e.message;
      done(std::move(e));
      return;
    }
    auto parsed = qmp::ParseMemoryDevices(*r.value());
    if (!parsed) {
      done(Malformed(parsed.error().message));  // it names the query already
      return;
    }
    done(std::move(*parsed));
  });
}

void QmpMemoryDevices::ListBackends(Done<std::vector<std::string>> done) {
  qmp_.Execute("qom-list", qmp::JsonObjectBuilder().SetString("path", "/objects").Build(), timeout_,
               [done = std::move(done)](qmp::CommandResult r) {
                 if (!r.ok()) {
                   Error e = FromQmpError(std::move(r).error());
                   e.message = "qom-list /objects: " + e.message;
                   done(std::move(e));
                   return;
                 }
                 done(ParseQomChildren(*r.value()));
               });
}

namespace {

// The five answers of GatherFacts, joined as they come.
struct Gather {
  HardwareFacts out;
  int outstanding = 5;
  std::function<void(HardwareFacts)> done;
  qmp::QmpClient* qmp = nullptr;
  void Finish() {
    if (--outstanding != 0) return;
    out.connected = qmp->connected();
    done(std::move(out));
  }
};

}  // namespace

void QmpMemoryDevices::GatherFacts(std::function<void(HardwareFacts)> done) {
  auto g = std::make_shared<Gather>();
  g->done = std::move(done);
  g->qmp = &qmp_;
  ListDevices([g](Result<std::vector<memhp::v1::MemoryDevice>> r) {
    if (r.ok()) {
      g->out.devices = std::move(r).value();
      g->out.devices_known = true;
    } else {
      g->out.problems.push_back(r.error().message);
    }
    g->Finish();
  });
  qmp_.Execute("query-memory-size-summary", nullptr, timeout_, [g](qmp::CommandResult r) {
    if (!r.ok()) {
      g->out.problems.push_back("query-memory-size-summary: " + r.error().message);
    } else if (auto s = qmp::ParseMemorySizeSummary(*r.value())) {
      g->out.base_memory = s->base_memory;
      g->out.plugged_memory = s->plugged_memory;
    } else {
      g->out.problems.push_back(s.error().message);  // a wrong shape is not "no memory"
    }
    g->Finish();
  });
  qmp_.Execute("qom-get", qmp::JsonObjectBuilder().SetString("path", "/machine").SetString("property", "memory").Build(),
               timeout_, [g](qmp::CommandResult r) {
                 if (r.ok()) {
                   if (auto m = ParseMachineMemory(*r.value())) {
                     if (m->max_size > 0) g->out.max_memory = m->max_size;
                     g->out.slots = m->slots;
                     if (!g->out.base_memory) g->out.base_memory = m->size;
                   } else {
                     g->out.problems.push_back(m.error().message);
                   }
                 } else {
                   g->out.problems.push_back("qom-get /machine memory: " + r.error().message);
                 }
                 g->Finish();
               });
  ListBackends([g](Result<std::vector<std::string>> r) {
    if (r.ok()) {
      g->out.backend_ids = std::move(r).value();
    } else {
      g->out.problems.push_back(r.error().message);
    }
    g->Finish();
  });
  qmp_.Execute("human-monitor-command", qmp::JsonObjectBuilder().SetString("command-line", "info numa").Build(),
               timeout_, [g](qmp::CommandResult r) {
                 if (r.ok()) {
                   JsonNode* node = r->get();  // json-glib takes non-const
                   const char* text = JSON_NODE_HOLDS_VALUE(node) && json_node_get_value_type(node) == G_TYPE_STRING
                                          ? json_node_get_string(node)
                                          : nullptr;
                   if (text) g->out.node_count = ParseInfoNumaNodeCount(text);
                 } else {
                   g->out.problems.push_back("info numa: " + r.error().message);
                 }
                 g->Finish();
               });
}

void QmpMemoryDevices::AddBackend(const DimmSpec& dimm, Done<void> done) {
  Command("object-add",
          qmp::JsonObjectBuilder()
              .SetString("qom-type", "memory-backend-ram")
              .SetString("id", dimm.backend_id)
              .SetUint("size", dimm.size)
              .Build(),
          std::move(done));
}

void QmpMemoryDevices::AddDimm(const DimmSpec& dimm, Done<void> done) {
  Command("device_add",
          qmp::JsonObjectBuilder()
              .SetString("driver", "pc-dimm")
              .SetString("id", dimm.device_id)
              .SetString("memdev", dimm.backend_id)
              .SetInt("node", dimm.node)
              .Build(),
          std::move(done));
}

void QmpMemoryDevices::DeleteDimm(const std::string& device_id, Done<void> done) {
  Command("device_del", qmp::JsonObjectBuilder().SetString("id", device_id).Build(), std::move(done));
}

void QmpMemoryDevices::DeleteBackend(const std::string& backend_id, Done<void> done) {
  Command("object-del", qmp::JsonObjectBuilder().SetString("id", backend_id).Build(), std::move(done));
}

void QmpMemoryDevices::SetRequestedSize(const std::string& device_id, uint64_t size, Done<void> done) {
  Command("qom-set",
          qmp::JsonObjectBuilder()
              .SetString("path", "/machine/peripheral/" + device_id)
              .SetString("property", "requested-size")
              .SetUint("value", size)
              .Build(),
          std::move(done));
}

void QmpMemoryDevices::CheckAlive(Done<void> done) { Command("query-status", nullptr, std::move(done)); }

std::optional<DeviceEvent> ToDeviceEvent(std::string_view name, const JsonNode& data) {
  JsonObject* object = qmp::AsObject(&data);
  if (name == "DEVICE_DELETED") {
    // "device" is absent for devices without an id; those are not memhp's.
    auto device = qmp::GetString(object, "device");
    if (!device || device->empty()) return std::nullopt;
    return DeviceEvent{DeviceEventKind::kDeleted, *device, "", 0};
  }
  if (name == "ACPI_DEVICE_OST") {
    JsonObject* info = qmp::GetObject(object, "info");
    auto device = qmp::GetString(info, "device");
    if (!device || device->empty()) return std::nullopt;
    const int64_t status = qmp::GetInt(info, "status").value_or(0);
    const int64_t source = qmp::GetInt(info, "source").value_or(0);
    // Anything but success or "in progress" (1 failure, 0x80 not supported, 0x81 in use, 0x82
    // busy, 0x83 dependency) means the guest will not eject.
    if (status == 0 || (source == kOstSourceEject && status == kOstEjectInProgress)) return std::nullopt;
    char hex[32];
    std::snprintf(hex, sizeof(hex), "0x%llx", static_cast<unsigned long long>(status));
    return DeviceEvent{DeviceEventKind::kUnplugRefused, *device,
                       std::string("the guest reported an _OST failure for the eject: status ") + hex + " (source " +
                           std::to_string(source) + ")",
                       0};
  }
  if (name == "DEVICE_UNPLUG_GUEST_ERROR") {  // QEMU >= 6.2
    auto device = qmp::GetString(object, "device");
    if (!device || device->empty()) return std::nullopt;
    return DeviceEvent{DeviceEventKind::kUnplugRefused, *device, "DEVICE_UNPLUG_GUEST_ERROR: the guest failed the unplug",
                       0};
  }
  if (name == "MEMORY_DEVICE_SIZE_CHANGE") {
    auto id = qmp::GetString(object, "id");
    if (!id || id->empty()) return std::nullopt;
    return DeviceEvent{DeviceEventKind::kSizeChanged, *id, "", qmp::GetUint(object, "size").value_or(0)};
  }
  return std::nullopt;
}

}  // namespace memhp::daemon::qemu
