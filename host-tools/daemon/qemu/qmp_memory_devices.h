// qmp_memory_devices — the MemoryDevices port (ports/memory_devices.h) over QEMU's QMP: the one
// file of memhpd's operations that spells QMP, QOM and HMP names (the host's counterpart of the
// agent's sysfs/linux_abi.h).
//
//   ListDevices       query-memory-devices
//   ListBackends      qom-list /objects (the child<...> entries)
//   GatherFacts       query-memory-devices, query-memory-size-summary, qom-get /machine memory,
//                     qom-list /objects, HMP `info numa`, all at once (qemu_facts.h)
//   AddBackend        object-add memory-backend-ram {id, size}
//   AddDimm           device_add pc-dimm {id, memdev, node}
//   DeleteDimm        device_del {id}; the end is DEVICE_DELETED, or the guest's refusal
//   DeleteBackend     object-del {id}
//   SetRequestedSize  qom-set /machine/peripheral/<id> requested-size
//   CheckAlive        query-status
//
// QMP errors map to memhp errors: QEMU's refusal (`{"error": {"class", "desc"}}`) is code QMP
// with "<class>: <desc>" verbatim; no answer in time is TIMEOUT; a lost or absent connection is
// UNAVAILABLE with errno ENOTCONN (IsGone); an answer QMP does not allow is MALFORMED.
// ToDeviceEvent turns the QMP events an operation waits for into DeviceEvents.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

#include "daemon/ports/memory_devices.h"
#include "qmp/qmp_client.h"

namespace memhp::daemon::qemu {

class QmpMemoryDevices final : public MemoryDevices {
 public:
  QmpMemoryDevices(qmp::QmpClient& qmp, std::chrono::milliseconds timeout);

  void ListDevices(Done<std::vector<memhp::v1::MemoryDevice>> done) override;
  void ListBackends(Done<std::vector<std::string>> done) override;
  void GatherFacts(std::function<void(HardwareFacts)> done) override;
  void AddBackend(const DimmSpec& dimm, Done<void> done) override;
  void AddDimm(const DimmSpec& dimm, Done<void> done) override;
  void DeleteDimm(const std::string& device_id, Done<void> done) override;
  void DeleteBackend(const std::string& backend_id, Done<void> done) override;
  void SetRequestedSize(const std::string& device_id, uint64_t size, Done<void> done) override;
  void CheckAlive(Done<void> done) override;
  [[nodiscard]] bool connected() const override { return qmp_.connected(); }

 private:
  void Command(std::string_view command, qmp::JsonNodePtr arguments, Done<void> done);

  qmp::QmpClient& qmp_;
  std::chrono::milliseconds timeout_;
};

// A QMP client's error as this port's (see the header comment): the same but for errno
// ENOTCONN on every UNAVAILABLE, whatever the system call said, so that IsGone holds.
[[nodiscard]] Error FromQmpError(Error error);

// The DeviceEvent a QMP event means for memory devices, or nothing (an event operations do not
// wait for, or one without the members it needs). An ACPI_DEVICE_OST is a refusal only with a
// failure status for an eject (ACPI 6.x, 6.3.5): 0 is success, and 0x84 for an eject request
// (source 3) is "ejection in progress", which Linux's acpi_scan sends before ejecting.
[[nodiscard]] std::optional<DeviceEvent> ToDeviceEvent(std::string_view name, const JsonNode& data);

}  // namespace memhp::daemon::qemu
