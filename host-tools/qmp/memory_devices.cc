// memory_devices — parsing QEMU's memory queries (see memory_devices.h).
#include "qmp/memory_devices.h"

#include <cstdint>
#include <string_view>
#include <utility>

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

// Reads the members of one entry's "data"; the first one missing or of the wrong type is the
// entry's error (the rest read as zero).
class Fields {
 public:
  Fields(const JsonObject* data, std::string where) : data_(data), where_(std::move(where)) {}

  uint64_t Uint(const char* key) {
    const auto v = GetUint(data_, key);
    if (!v) Missing(key, "integer");
    return v.value_or(0);
  }
  int32_t Int32(const char* key) {
    const auto v = GetInt(data_, key);
    if (!v || *v < INT32_MIN || *v > INT32_MAX) Missing(key, "integer");
    return v && *v >= INT32_MIN && *v <= INT32_MAX ? static_cast<int32_t>(*v) : 0;
  }
  bool Bool(const char* key) {
    const auto v = GetBool(data_, key);
    if (!v) Missing(key, "bool");
    return v.value_or(false);
  }
  std::string String(const char* key) {
    auto v = GetString(data_, key);
    if (!v) Missing(key, "string");
    return v.value_or("");
  }
  // Optional in QEMU's schema ("*id"): absent reads as "", present must be a string.
  std::string OptionalString(const char* key) {
    if (GetMember(data_, key) == nullptr) return "";
    return String(key);
  }
  uint64_t OptionalUint(const char* key) {
    if (GetMember(data_, key) == nullptr) return 0;
    return Uint(key);
  }

  [[nodiscard]] const std::string& error() const { return error_; }

 private:
  void Missing(const char* key, const char* type) {
    if (error_.empty()) error_ = where_ + ": \"data\" needs " + type + " \"" + key + "\"";
  }

  const JsonObject* data_;
  std::string where_;
  std::string error_;
};

// PCDIMMDeviceInfo (dimm, nvdimm): every member but "id" is mandatory.
void FillDimm(Fields& f, MemoryDevice& device) {
  device.set_id(f.OptionalString("id"));
  device.set_address(f.Uint("addr"));
  device.set_size(f.Uint("size"));
  device.set_slot(f.Int32("slot"));
  device.set_node(f.Int32("node"));
  device.set_memdev(f.String("memdev"));
  device.set_hotplugged(f.Bool("hotplugged"));
  device.set_hotpluggable(f.Bool("hotpluggable"));
}

// VirtioMEMDeviceInfo. "size" is what the guest has plugged, "requested-size" the target.
void FillVirtioMem(Fields& f, MemoryDevice& device) {
  device.set_id(f.OptionalString("id"));
  device.set_address(f.Uint("memaddr"));
  device.set_requested_size(f.Uint("requested-size"));
  device.set_size(f.Uint("size"));
  device.set_max_size(f.Uint("max-size"));
  device.set_block_size(f.Uint("block-size"));
  device.set_node(f.Int32("node"));
  device.set_memdev(f.String("memdev"));
}

// VirtioPMEMDeviceInfo: no node.
void FillVirtioPmem(Fields& f, MemoryDevice& device) {
  device.set_id(f.OptionalString("id"));
  device.set_address(f.Uint("memaddr"));
  device.set_size(f.Uint("size"));
  device.set_memdev(f.String("memdev"));
}

// SgxEPCDeviceInfo.
void FillSgxEpc(Fields& f, MemoryDevice& device) {
  device.set_id(f.OptionalString("id"));
  device.set_address(f.Uint("memaddr"));
  device.set_size(f.Uint("size"));
  device.set_node(f.Int32("node"));
  device.set_memdev(f.String("memdev"));
}

// A type this build does not know: its layout is not guessed, only the members every kind
// names alike are taken — and, when present, must have their usual type.
void FillOther(Fields& f, MemoryDevice& device) {
  device.set_id(f.OptionalString("id"));
  if (f.error().empty()) device.set_memdev(f.OptionalString("memdev"));
  if (f.error().empty()) device.set_size(f.OptionalUint("size"));
}

}  // namespace

memhp::Result<std::vector<MemoryDevice>> ParseMemoryDevices(const JsonNode& value) {
  JsonArray* array = AsArray(&value);
  if (array == nullptr) return memhp::Error::Invalid("query-memory-devices: the return value is not an array");

  std::vector<MemoryDevice> devices;
  const guint n = json_array_get_length(array);
  devices.reserve(n);
  for (guint i = 0; i < n; ++i) {
    const JsonObject* entry = AsObject(json_array_get_element(array, i));
    const std::string where = "query-memory-devices: entry " + std::to_string(i);
    if (entry == nullptr) return memhp::Error::Invalid(where + " is not an object");
    auto type = GetString(entry, "type");
    if (!type) return memhp::Error::Invalid(where + " has no string \"type\"");
    const JsonObject* data = GetObject(entry, "data");
    if (data == nullptr) return memhp::Error::Invalid(where + " (" + *type + ") has no object \"data\"");

    MemoryDevice device;
    device.set_kind(KindOf(*type));
    device.set_qmp_type(*type);
    device.set_node(-1);
    device.set_slot(-1);
    Fields fields(data, where + " (" + *type + ")");
    switch (device.kind()) {
      case memhp::v1::MEMORY_DEVICE_KIND_DIMM:
      case memhp::v1::MEMORY_DEVICE_KIND_NVDIMM:
        FillDimm(fields, device);
        break;
      case memhp::v1::MEMORY_DEVICE_KIND_VIRTIO_MEM:
        FillVirtioMem(fields, device);
        break;
      case memhp::v1::MEMORY_DEVICE_KIND_VIRTIO_PMEM:
        FillVirtioPmem(fields, device);
        break;
      case memhp::v1::MEMORY_DEVICE_KIND_SGX_EPC:
        FillSgxEpc(fields, device);
        break;
      default:
        FillOther(fields, device);
        break;
    }
    if (!fields.error().empty()) return memhp::Error::Invalid(fields.error());
    devices.push_back(std::move(device));
  }
  return devices;
}

memhp::Result<MemorySizeSummary> ParseMemorySizeSummary(const JsonNode& value) {
  const JsonObject* object = AsObject(&value);
  if (object == nullptr)
    return memhp::Error::Invalid("query-memory-size-summary: the return value is not an object");
  const auto base = GetUint(object, "base-memory");
  if (!base) return memhp::Error::Invalid("query-memory-size-summary: no integer \"base-memory\"");
  return MemorySizeSummary{*base, GetUint(object, "plugged-memory").value_or(0)};
}

memhp::Result<RunStatus> ParseStatus(const JsonNode& value) {
  const JsonObject* object = AsObject(&value);
  if (object == nullptr) return memhp::Error::Invalid("query-status: the return value is not an object");
  auto status = GetString(object, "status");
  const auto running = GetBool(object, "running");
  if (!status || !running)
    return memhp::Error::Invalid("query-status: needs string \"status\" and bool \"running\"");
  return RunStatus{std::move(*status), *running};
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
