// libvirt_memory_devices — the MemoryDevices port (ports/memory_devices.h) over a libvirt
// domain: the second adapter beside qemu/qmp_memory_devices.h. Never raw QMP (libvirt marks a
// domain that gets it "tainted").
//
//   ListDevices       the live domain XML's <memory> devices (domain_xml.h)
//   ListBackends      none: libvirt creates and removes a DIMM's backend with the DIMM
//   GatherFacts       the live XML: devices, <maxMemory slots>, NUMA cells, boot memory
//   AddBackend        nothing (see ListBackends)
//   AddDimm           virDomainAttachDeviceFlags(LIVE) of <memory model='dimm'> with alias
//                     ua-<id>; libvirt adds backend and device, or neither
//   DeleteDimm        virDomainDetachDeviceAlias(ua-<id>, LIVE); the end is the domain's
//                     DEVICE_REMOVED or DEVICE_REMOVAL_FAILED event, turned into a DeviceEvent
//                     by ToDeviceEvent — memhp's deadline decides, not libvirt's 5 s wait
//   DeleteBackend     nothing
//   SetRequestedSize  virDomainUpdateDeviceFlags(LIVE) of the device with <requested> changed
//   CheckAlive        virDomainIsActive; while it says active, the domain's lifecycle event
//                     is awaited for up to kStopEventGrace first (see CheckAlive)
//
// Every answer is posted to the main loop (never from inside the call), as the port asks.
#pragma once

#include <glib.h>

#include <string>

#include "daemon/libvirt/domain_xml.h"
#include "daemon/libvirt/libvirt_domain.h"
#include "daemon/ports/memory_devices.h"

namespace memhp::daemon::libvirt {

// How long CheckAlive waits for libvirt to report a stop before it believes "active".
inline constexpr guint kStopEventGraceMs = 5000;

class LibvirtMemoryDevices final : public MemoryDevices {
 public:
  LibvirtMemoryDevices(LibvirtDomain& domain, GMainContext* context);

  void ListDevices(Done<std::vector<memhp::v1::MemoryDevice>> done) override;
  void ListBackends(Done<std::vector<std::string>> done) override;
  void GatherFacts(std::function<void(HardwareFacts)> done) override;
  void AddBackend(const DimmSpec& dimm, Done<void> done) override;
  void AddDimm(const DimmSpec& dimm, Done<void> done) override;
  void DeleteDimm(const std::string& device_id, Done<void> done) override;
  void DeleteBackend(const std::string& backend_id, Done<void> done) override;
  void SetRequestedSize(const std::string& device_id, uint64_t size, Done<void> done) override;
  void CheckAlive(Done<void> done) override;
  [[nodiscard]] bool connected() const override { return domain_.connected(); }

 private:
  // The live domain and the index of the device with memhp id `id` in it.
  struct Located {
    DomainMemory domain;
    size_t index = 0;
  };
  [[nodiscard]] Result<Located> Locate(const std::string& id);
  template <typename T>
  void Post(Done<T> done, Result<T> result);

  LibvirtDomain& domain_;
  GMainContext* context_;
};

// The DeviceEvent a libvirt domain event means: removal, refusal, or a size change, with the
// device's memhp id (domain_xml.h, IdFromAlias).
enum class LibvirtDeviceEvent { kRemoved, kRemovalFailed, kSizeChanged };
[[nodiscard]] DeviceEvent ToDeviceEvent(LibvirtDeviceEvent kind, const std::string& alias, uint64_t size);

}  // namespace memhp::daemon::libvirt
