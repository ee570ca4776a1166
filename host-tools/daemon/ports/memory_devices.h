// memory_devices — the port through which memhpd's operations reach the VM's hardware.
//
// What the hardware does, in memhp's words: list the memory devices, add a DIMM with its
// backend, delete a DIMM (the end is reported later, as a DeviceEvent), delete a backend, set a
// virtio-mem device's requested size, say whether the VM's manager is still there, and the facts
// admission checks a plug against. QEMU over QMP is the first adapter (qemu/qmp_memory_devices.h);
// QMP, QOM and HMP names are spelled there only. A second adapter (libvirt) implements the same
// calls; where its manager adds a DIMM and its backend in one step, AddBackend does nothing and
// AddDimm does both.
//
// Every call answers once, through its callback, from the main loop (never from inside the
// call). An Error whose errno is ENOTCONN (IsGone) means the manager went away — QEMU exited
// or its socket closed — which the operations treat as "the VM is gone", not as a failed
// command. Error.code is a memhp.v1.ErrorCode: QMP for the manager's own refusal (its message
// verbatim), TIMEOUT, UNAVAILABLE, MALFORMED for an answer of the wrong shape.
#pragma once

#include <cerrno>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "memhp/v1/control.pb.h"

namespace memhp::daemon {

template <typename T>
using Done = std::function<void(Result<T>)>;

// True when `error` says the hardware's manager went away (see the header comment).
[[nodiscard]] inline bool IsGone(const Error& error) { return error.errno_value == ENOTCONN; }

// True when `error` says the connection to the manager broke while the VM may well run on (a
// libvirtd restarted; errno ECONNRESET): nothing can be known of the hardware until memhpd is
// connected again, so an operation in flight is left open in the journal and resumed then,
// neither failed nor rolled back on a guess. QEMU's adapter never answers it (a closed QMP
// socket is QEMU gone).
[[nodiscard]] inline bool IsUnreachable(const Error& error) { return error.errno_value == ECONNRESET; }

// A DIMM to add: its device id, the id of the RAM backend it is made of, its size and node.
struct DimmSpec {
  std::string device_id;
  std::string backend_id;
  uint64_t size = 0;
  int32_t node = 0;
};

// What the hardware knows of the VM's memory that admission checks a plug against. Each
// optional is unset when the manager did not say; `problems` says why, one line per query.
struct HardwareFacts {
  std::vector<memhp::v1::MemoryDevice> devices;
  bool devices_known = false;               // the device list was read (without it: do not go on)
  std::vector<std::string> backend_ids;     // memory backends that exist
  std::optional<uint64_t> base_memory;
  std::optional<uint64_t> plugged_memory;
  std::optional<uint64_t> max_memory;       // maxmem
  std::optional<uint32_t> slots;
  std::optional<uint32_t> node_count;       // 0: no NUMA (node 0 only)
  std::vector<std::string> problems;
  bool connected = true;                    // the manager was connected when the answers were in
};

// What the hardware reports after a request, about one device.
enum class DeviceEventKind {
  kDeleted,         // the device is gone (QEMU: DEVICE_DELETED)
  kUnplugRefused,   // the guest will not eject it (an _OST failure, DEVICE_UNPLUG_GUEST_ERROR)
  kSizeChanged,     // a virtio-mem device's size moved (QEMU: MEMORY_DEVICE_SIZE_CHANGE)
};

struct DeviceEvent {
  DeviceEventKind kind = DeviceEventKind::kDeleted;
  std::string device_id;
  std::string detail;  // kUnplugRefused: what the guest said, for people
  uint64_t size = 0;   // kSizeChanged: the size the event carried (rate-limited; list to be sure)
};

class MemoryDevices {
 public:
  virtual ~MemoryDevices() = default;

  virtual void ListDevices(Done<std::vector<memhp::v1::MemoryDevice>> done) = 0;
  virtual void ListBackends(Done<std::vector<std::string>> done) = 0;
  // Everything admission needs from the hardware, asked all at once; never fails as a whole.
  virtual void GatherFacts(std::function<void(HardwareFacts)> done) = 0;
  virtual void AddBackend(const DimmSpec& dimm, Done<void> done) = 0;
  virtual void AddDimm(const DimmSpec& dimm, Done<void> done) = 0;
  // Asks for the DIMM's removal; ok means asked. The end comes as a DeviceEvent (kDeleted, or
  // kUnplugRefused), possibly before this call's answer.
  virtual void DeleteDimm(const std::string& device_id, Done<void> done) = 0;
  virtual void DeleteBackend(const std::string& backend_id, Done<void> done) = 0;
  virtual void SetRequestedSize(const std::string& device_id, uint64_t size, Done<void> done) = 0;
  // Ok when the manager answers at all (a cheap query); an IsGone error when it is gone.
  virtual void CheckAlive(Done<void> done) = 0;
  // Whether the manager is connected right now (for choosing an error code, not for deciding).
  [[nodiscard]] virtual bool connected() const = 0;
};

}  // namespace memhp::daemon
