// libvirt_domain — one libvirt connection and one domain on it: the only file of memhpd that
// calls libvirt's C API for the domain (the stream bridge, stream_bridge.h, does the channel).
//
// Opening connects to the URI (qemu:///system by default; any URI libvirt offers, remote ones
// included), looks the domain up by name (or UUID), and refuses one that is not running.
// Every call is libvirt's synchronous API on memhpd's thread; libvirt answers these from the
// QEMU driver within the time of one QMP command (an attach waits for device_add, a detach
// only asks — its end is the DEVICE_REMOVED event — an update waits for qom-set), and memhp's
// own deadlines bound the operations above.
//
// libvirt's errors become memhp Errors with code ERROR_CODE_LIBVIRT and libvirt's own
// message and code number verbatim ("libvirt error 55 (VIR_ERR_OPERATION_INVALID): ...").
// A domain that stopped or no longer exists carries errno ENOTCONN (IsGone,
// ports/memory_devices.h) with code UNAVAILABLE. A call on a connection that broke (libvirtd
// restarted or died; the domain's QEMU runs on, libvirtd reconnects to it when it is back)
// carries ECONNRESET (IsUnreachable) with code UNAVAILABLE, until Reconnect() succeeds.
//
// Events (needs glib_event_impl.h installed before Open): DEVICE_REMOVED and
// DEVICE_REMOVAL_FAILED with the device's alias, MEMORY_DEVICE_SIZE_CHANGE with the alias and
// the new size, the domain stopping or being undefined (LIFECYCLE), and the connection closing.
#pragma once

#include <libvirt/libvirt.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"

namespace memhp::daemon::libvirt {

struct DomainListener {
  std::function<void(const std::string& alias)> on_device_removed;
  std::function<void(const std::string& alias)> on_device_removal_failed;
  std::function<void(const std::string& alias, uint64_t size_bytes)> on_memory_size_change;
  std::function<void(const std::string& why)> on_gone;  // the domain stopped or was undefined
  // The connection closed (libvirt's close callback): the domain may run on; Reconnect().
  std::function<void(const std::string& why)> on_connection_lost;
};

// libvirt's last error on this thread as a memhp Error, prefixed by what was being done.
[[nodiscard]] Error LastLibvirtError(const std::string& what);

class LibvirtDomain {
 public:
  // Connects and finds the domain; a domain that is not running is an error.
  [[nodiscard]] static Result<std::unique_ptr<LibvirtDomain>> Open(const std::string& uri, const std::string& domain);
  ~LibvirtDomain();
  LibvirtDomain(const LibvirtDomain&) = delete;
  LibvirtDomain& operator=(const LibvirtDomain&) = delete;

  // Registers the domain's events with `listener` (once).
  [[nodiscard]] Status Subscribe(DomainListener listener);
  // After on_connection_lost: a new connection to the same URI, the same domain found by its
  // UUID, the events registered again. An IsUnreachable error while libvirtd does not answer;
  // IsGone when the domain is no longer there or no longer runs.
  [[nodiscard]] Status Reconnect();
  // Whether the connection is open and libvirt still thinks it alive (virConnectIsAlive).
  [[nodiscard]] bool Alive() const;

  [[nodiscard]] Result<std::string> LiveXml();
  [[nodiscard]] Status AttachLive(const std::string& device_xml);
  [[nodiscard]] Status DetachAlias(const std::string& alias);
  [[nodiscard]] Status UpdateLive(const std::string& device_xml);
  [[nodiscard]] Status CheckRunning();
  // Ends the domain now (virDomainDestroy); a transient domain is then gone for good.
  [[nodiscard]] Status Destroy();
  // A new non-blocking stream on the channel named `name` (virDomainOpenChannel). Without
  // `take_over` a channel another client holds is refused ("in use"); with it the holder's
  // stream is aborted (VIR_DOMAIN_CHANNEL_FORCE) — for memhpd's own stream left on a connection
  // that died, which libvirtd releases only once it notices the client is gone.
  [[nodiscard]] Result<virStreamPtr> OpenChannel(const std::string& name, bool take_over = false);

  [[nodiscard]] bool connected() const { return connected_; }
  // Whether libvirt said the domain stopped or was undefined (the lifecycle event).
  [[nodiscard]] bool gone() const { return gone_; }
  [[nodiscard]] const std::string& name() const { return name_; }
  [[nodiscard]] const std::string& uuid() const { return uuid_; }
  [[nodiscard]] const std::string& uri() const { return uri_; }
  [[nodiscard]] const std::string& hypervisor_version() const { return hypervisor_version_; }

 private:
  LibvirtDomain(virConnectPtr conn, virDomainPtr dom, std::string uri);
  [[nodiscard]] Error Failed(const std::string& what) const;
  [[nodiscard]] Status Register();
  void Unregister();
  void Gone(const std::string& why);

  static void OnDeviceRemoved(virConnectPtr, virDomainPtr, const char* alias, void* opaque);
  static void OnDeviceRemovalFailed(virConnectPtr, virDomainPtr, const char* alias, void* opaque);
  static void OnMemorySizeChange(virConnectPtr, virDomainPtr, const char* alias, unsigned long long size_kib,
                                 void* opaque);
  static void OnLifecycle(virConnectPtr, virDomainPtr, int event, int detail, void* opaque);
  static void OnClose(virConnectPtr, int reason, void* opaque);

  virConnectPtr conn_;
  virDomainPtr dom_;
  std::string uri_;
  std::string name_;
  std::string uuid_;
  std::string hypervisor_version_;
  DomainListener listener_;
  std::vector<int> callbacks_;
  bool close_registered_ = false;
  bool connected_ = true;
  bool gone_ = false;
};

}  // namespace memhp::daemon::libvirt
