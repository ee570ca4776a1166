// memory_devices — parsing QEMU's memory queries (see memory_devices.h).
#include "qmp/memory_devices.h"

#include <string_view>

namespace memhp::qmp {
namespace {

using memhp::v1::MemoryDevice;
using memhp::v1::MemoryDeviceKind;

MemoryDeviceKind KindOf(std::string_view type) {
  if (type == "dimm") return memhp::v1::MEMORY_DEVICE_KIND_DIMM;
  if (type == "nvdimm") return memhp::v1::MEMORY_DEVICE_KIND_NVDIMM;
  if (type == "virtio-pmem") return memhp::v1::MEMORY_DEVICE_KIND_VIRTIO_PMEM;
  if (type == "virtio-mem") return memhp::v1::MEMORY_DEVICE_KIND_VIRTIO_MEM;
  if (type == "sgx-epc") return memhp::v1::MEMORY_DEVICE_KIND_SGX_EPC;
  return memhp::v1::MEMORY_DEVICE_KIND_OTHER;
}

// Fields every kind may carry under the same name.
void FillCommon(const JsonObject* data, MemoryDevice& device) {
  device.set_id(GetString(data, "id").value_or(""));
  device.set_memdev(GetString(data, "memdev").value_or(""));
  device.set_size(GetUint(data, "size").value_or(0));
  device.set_node(static_cast<int32_t>(GetInt(data, "node").value_or(-1)));
  device.set_slot(-1);
}

// PCDIMMDeviceInfo: dimm and nvdimm.
void FillDimm(const JsonObject* data, MemoryDevice& device) {
  device.set_address(GetUint(data, "addr").value_or(0));
  device.set_slot(static_cast<int32_t>(GetInt(data, "slot").value_or(-1)));
  device.set_hotplugged(GetBool(data, "hotplugged").value_or(false));
  device.set_hotpluggable(GetBool(data, "hotpluggable").value_or(false));
}

// VirtioMEMDeviceInfo. "size" is what the guest has plugged, "requested-size" the target.
void FillVirtioMem(const JsonObject* data, MemoryDevice& device) {
  device.set_address(GetUint(data, "memaddr").value_or(0));
  device.set_requested_size(GetUint(data, "requested-size").value_or(0));
  device.set_max_size(GetUint(data, "max-size").value_or(0));
  device.set_block_size(GetUint(data, "block-size").value_or(0));
}

}  // namespace

ParseResult<std::vector<MemoryDevice>> ParseMemoryDevices(const JsonNode& value) {
  using R = ParseResult<std::vector<MemoryDevice>>;
  JsonArray* array = AsArray(&value);
  if (array == nullptr) return R::Fail("query-memory-devices: the return value is not an array");

  std::vector<MemoryDevice> devices;
  const guint n = json_array_get_length(array);
  devices.reserve(n);
  for (guint i = 0; i < n; ++i) {
    const JsonObject* entry = AsObject(json_array_get_element(array, i));
    const std::string where = "query-memory-devices: entry " + std::to_string(i);
    if (entry == nullptr) return R::Fail(where + " is not an object");
    auto type = GetString(entry, "type");
    if (!type) return R::Fail(where + " has no string \"type\"");
    const JsonObject* data = GetObject(entry, "data");

    MemoryDevice device;
    device.set_kind(KindOf(*type));
    device.set_qmp_type(*type);
    FillCommon(data, device);
    switch (device.kind()) {
      case memhp::v1::MEMORY_DEVICE_KIND_DIMM:
      case memhp::v1::MEMORY_DEVICE_KIND_NVDIMM:
        FillDimm(data, device);
        break;
      case memhp::v1::MEMORY_DEVICE_KIND_VIRTIO_MEM:
        FillVirtioMem(data, device);
        break;
      case memhp::v1::MEMORY_DEVICE_KIND_VIRTIO_PMEM:
      case memhp::v1::MEMORY_DEVICE_KIND_SGX_EPC:
        device.set_address(GetUint(data, "memaddr").value_or(0));
        break;
      default:
        break;
    }
    devices.push_back(std::move(device));
  }
  return R::Ok(std::move(devices));
}

ParseResult<MemorySizeSummary> ParseMemorySizeSummary(const JsonNode& value) {
  using R = ParseResult<MemorySizeSummary>;
  const JsonObject* object = AsObject(&value);
  if (object == nullptr)
    return R::Fail("query-memory-size-summary: the return value is not an object");
  const auto base = GetUint(object, "base-memory");
  if (!base) return R::Fail("query-memory-size-summary: no integer \"base-memory\"");
  return R::Ok(MemorySizeSummary{*base, GetUint(object, "plugged-memory").value_or(0)});
}

ParseResult<RunStatus> ParseStatus(const JsonNode& value) {
  using R = ParseResult<RunStatus>;
  const JsonObject* object = AsObject(&value);
  if (object == nullptr) return R::Fail("query-status: the return value is not an object");
  auto status = GetString(object, "status");
  const auto running = GetBool(object, "running");
  if (!status || !running)
    return R::Fail("query-status: needs string \"status\" and bool \"running\"");
  return R::Ok(RunStatus{std::move(*status), *running});
}

void ApplyTo(const MemorySizeSummary& summary, memhp::v1::QemuInfo& info) {
  info.set_base_memory(summary.base_memory);
  info.set_plugged_memory(summary.plugged_memory);
}

void ApplyTo(const RunStatus& status, memhp::v1::QemuInfo& info) {
  info.set_run_state(status.status);
}

void ApplyTo(const Greeting& greeting, memhp::v1::QemuInfo& info) {
  info.set_version(FormatVersion(greeting.version));
}

}  // namespace memhp::qmp
