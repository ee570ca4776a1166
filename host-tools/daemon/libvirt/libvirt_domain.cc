// libvirt_domain — see libvirt_domain.h.
#include "daemon/libvirt/libvirt_domain.h"

#include <libvirt/virterror.h>

#include <cerrno>
#include <utility>

#include "memhp/v1/error.pb.h"

namespace memhp::daemon::libvirt {
namespace {

// libvirt codes that mean "the domain is not there to act on" (virerror.h).
bool IsGoneCode(int code) {
  return code == VIR_ERR_NO_DOMAIN || code == VIR_ERR_NO_CONNECT || code == VIR_ERR_INVALID_CONN ||
         code == VIR_ERR_INVALID_DOMAIN;
}

Error Gone(std::string message) {
  Error e{ENOTCONN, std::move(message)};
  e.code = memhp::v1::ERROR_CODE_UNAVAILABLE;
  return e;
}

Error Unreachable(std::string message) {
  Error e{ECONNRESET, std::move(message)};
  e.code = memhp::v1::ERROR_CODE_UNAVAILABLE;
  return e;
}

std::string VersionString(unsigned long v) {
  return std::to_string(v / 1000000) + "." + std::to_string((v / 1000) % 1000) + "." + std::to_string(v % 1000);
}

}  // namespace

Error LastLibvirtError(const std::string& what) {
  const virError* err = virGetLastError();
  if (err == nullptr) {
    Error e{EIO, what + ": libvirt failed without saying why"};
    e.code = memhp::v1::ERROR_CODE_LIBVIRT;
    return e;
  }
  std::string message = what + ": libvirt error " + std::to_string(err->code) + ": " +
                        (err->message ? err->message : "(no message)");
  if (IsGoneCode(err->code)) return Gone(std::move(message));
  Error e{EIO, std::move(message)};
  e.code = memhp::v1::ERROR_CODE_LIBVIRT;
  return e;
}

Result<std::unique_ptr<LibvirtDomain>> LibvirtDomain::Open(const std::string& uri, const std::string& domain) {
  // libvirt's default error handler prints every error to stderr as it happens, including the
  // expected ones (a name looked up as a UUID); memhpd reports the errors it acts on itself.
  virSetErrorFunc(nullptr, [](void*, virErrorPtr) {});
  virConnectPtr conn = virConnectOpen(uri.c_str());
  if (conn == nullptr) {
    Error e = LastLibvirtError("connect to " + uri);
    e.code = memhp::v1::ERROR_CODE_UNAVAILABLE;
    return e;
  }
  virDomainPtr dom = virDomainLookupByName(conn, domain.c_str());
  if (dom == nullptr && domain.size() == VIR_UUID_STRING_BUFLEN - 1) {
    dom = virDomainLookupByUUIDString(conn, domain.c_str());
  }
  if (dom == nullptr) {
    Error e{ENOENT, "no libvirt domain '" + domain + "' on " + uri};
    e.code = memhp::v1::ERROR_CODE_INVALID_ARGUMENT;
    virConnectClose(conn);
    return e;
  }
  const int active = virDomainIsActive(dom);
  if (active != 1) {
    Error e = active < 0 ? LastLibvirtError("domain '" + domain + "'")
                         : Error{ESRCH, "libvirt domain '" + domain + "' is not running (virsh start it first)"};
    if (active == 0) e.code = memhp::v1::ERROR_CODE_INVALID_ARGUMENT;
    virDomainFree(dom);
    virConnectClose(conn);
    return e;
  }
  return std::unique_ptr<LibvirtDomain>(new LibvirtDomain(conn, dom, uri));
}

LibvirtDomain::LibvirtDomain(virConnectPtr conn, virDomainPtr dom, std::string uri)
    : conn_(conn), dom_(dom), uri_(std::move(uri)) {
  if (const char* n = virDomainGetName(dom_)) name_ = n;
  char uuid[VIR_UUID_STRING_BUFLEN];
  if (virDomainGetUUIDString(dom_, uuid) == 0) uuid_ = uuid;
  unsigned long version = 0;
  if (virConnectGetVersion(conn_, &version) == 0) hypervisor_version_ = VersionString(version);
}

LibvirtDomain::~LibvirtDomain() {
  Unregister();
  virDomainFree(dom_);
  virConnectClose(conn_);
}

void LibvirtDomain::Unregister() {
  for (int id : callbacks_) virConnectDomainEventDeregisterAny(conn_, id);
  callbacks_.clear();
  if (close_registered_) virConnectUnregisterCloseCallback(conn_, OnClose);
  close_registered_ = false;
}

bool LibvirtDomain::Alive() const { return connected_ && virConnectIsAlive(conn_) == 1; }

Error LibvirtDomain::Failed(const std::string& what) const {
  Error e = LastLibvirtError(what);
  // A call can fail on a broken connection before libvirt's close callback has run (it is
  // dispatched from the event loop), so the connection is asked, not only the flag.
  if (!Alive()) return Unreachable(e.message + " (the libvirt connection to " + uri_ + " is closed)");
  return e;
}

Status LibvirtDomain::Subscribe(DomainListener listener) {
  listener_ = std::move(listener);
  return Register();
}

Status LibvirtDomain::Reconnect() {
  virConnectPtr conn = virConnectOpen(uri_.c_str());
  if (conn == nullptr) return Unreachable(LastLibvirtError("reconnect to " + uri_).message);
  virDomainPtr dom = virDomainLookupByUUIDString(conn, uuid_.c_str());
  if (dom == nullptr) {
    Error e = LastLibvirtError("find domain " + uuid_);
    virConnectClose(conn);
    return libvirt::Gone("libvirt domain '" + name_ + "' is no longer on " + uri_ + " (" + e.message + ")");
  }
  if (virDomainIsActive(dom) != 1) {
    virDomainFree(dom);
    virConnectClose(conn);
    return libvirt::Gone("libvirt domain '" + name_ + "' no longer runs");
  }
  Unregister();
  virDomainFree(dom_);
  virConnectClose(conn_);
  conn_ = conn;
  dom_ = dom;
  connected_ = true;
  return Register();
}

Status LibvirtDomain::Register() {
  struct Registration {
    int id;
    virConnectDomainEventGenericCallback cb;
  };
  const Registration registrations[] = {
      {VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED, VIR_DOMAIN_EVENT_CALLBACK(OnDeviceRemoved)},
      {VIR_DOMAIN_EVENT_ID_DEVICE_REMOVAL_FAILED, VIR_DOMAIN_EVENT_CALLBACK(OnDeviceRemovalFailed)},
      {VIR_DOMAIN_EVENT_ID_MEMORY_DEVICE_SIZE_CHANGE, VIR_DOMAIN_EVENT_CALLBACK(OnMemorySizeChange)},
      {VIR_DOMAIN_EVENT_ID_LIFECYCLE, VIR_DOMAIN_EVENT_CALLBACK(OnLifecycle)},
  };
  for (const Registration& r : registrations) {
    const int id = virConnectDomainEventRegisterAny(conn_, dom_, r.id, r.cb, this, nullptr);
    if (id < 0) return Failed("register for domain event " + std::to_string(r.id));
    callbacks_.push_back(id);
  }
  if (virConnectRegisterCloseCallback(conn_, OnClose, this, nullptr) != 0) return Failed("register a close callback");
  close_registered_ = true;
  return OkStatus();
}

Result<std::string> LibvirtDomain::LiveXml() {
  char* xml = virDomainGetXMLDesc(dom_, 0);
  if (xml == nullptr) return Failed("virDomainGetXMLDesc");
  std::string out(xml);
  free(xml);  // libvirt allocates with malloc and says to free()
  return out;
}

Status LibvirtDomain::AttachLive(const std::string& device_xml) {
  if (virDomainAttachDeviceFlags(dom_, device_xml.c_str(), VIR_DOMAIN_AFFECT_LIVE) != 0) {
    return Failed("virDomainAttachDeviceFlags");
  }
  return OkStatus();
}

Status LibvirtDomain::DetachAlias(const std::string& alias) {
  if (virDomainDetachDeviceAlias(dom_, alias.c_str(), VIR_DOMAIN_AFFECT_LIVE) != 0) {
    return Failed("virDomainDetachDeviceAlias " + alias);
  }
  return OkStatus();
}

Status LibvirtDomain::UpdateLive(const std::string& device_xml) {
  if (virDomainUpdateDeviceFlags(dom_, device_xml.c_str(), VIR_DOMAIN_AFFECT_LIVE) != 0) {
    return Failed("virDomainUpdateDeviceFlags");
  }
  return OkStatus();
}

Status LibvirtDomain::CheckRunning() {
  if (!Alive()) return Unreachable("the libvirt connection to " + uri_ + " is closed");
  const int active = virDomainIsActive(dom_);
  if (active < 0) return Failed("virDomainIsActive");
  if (active == 0) return libvirt::Gone("libvirt domain '" + name_ + "' is not running");
  return OkStatus();
}

Status LibvirtDomain::Destroy() {
  if (virDomainDestroy(dom_) != 0) return Failed("virDomainDestroy");
  return OkStatus();
}

Result<virStreamPtr> LibvirtDomain::OpenChannel(const std::string& name, bool take_over) {
  virStreamPtr stream = virStreamNew(conn_, VIR_STREAM_NONBLOCK);
  if (stream == nullptr) return Failed("virStreamNew");
  if (virDomainOpenChannel(dom_, name.c_str(), stream, take_over ? VIR_DOMAIN_CHANNEL_FORCE : 0) != 0) {
    Error e = Failed("virDomainOpenChannel " + name);
    virStreamFree(stream);
    return e;
  }
  return stream;
}

void LibvirtDomain::Gone(const std::string& why) {
  if (gone_) return;
  gone_ = true;
  if (listener_.on_gone) listener_.on_gone(why);
}

void LibvirtDomain::OnDeviceRemoved(virConnectPtr, virDomainPtr, const char* alias, void* opaque) {
  auto* self = static_cast<LibvirtDomain*>(opaque);
  if (alias && self->listener_.on_device_removed) self->listener_.on_device_removed(alias);
}

void LibvirtDomain::OnDeviceRemovalFailed(virConnectPtr, virDomainPtr, const char* alias, void* opaque) {
  auto* self = static_cast<LibvirtDomain*>(opaque);
  if (alias && self->listener_.on_device_removal_failed) self->listener_.on_device_removal_failed(alias);
}

void LibvirtDomain::OnMemorySizeChange(virConnectPtr, virDomainPtr, const char* alias, unsigned long long size_kib,
                                       void* opaque) {
  auto* self = static_cast<LibvirtDomain*>(opaque);
  // libvirt reports KiB (qemuProcessHandleMemoryDeviceSizeChange divides QEMU's bytes by 1024).
  if (alias == nullptr || size_kib > UINT64_MAX / 1024 || !self->listener_.on_memory_size_change) return;
  self->listener_.on_memory_size_change(alias, static_cast<uint64_t>(size_kib) * 1024);
}

void LibvirtDomain::OnLifecycle(virConnectPtr, virDomainPtr, int event, int detail, void* opaque) {
  auto* self = static_cast<LibvirtDomain*>(opaque);
  if (event == VIR_DOMAIN_EVENT_STOPPED || event == VIR_DOMAIN_EVENT_UNDEFINED) {
    self->Gone("the libvirt domain " + std::string(event == VIR_DOMAIN_EVENT_STOPPED ? "stopped" : "was undefined") +
               " (detail " + std::to_string(detail) + ")");
  }
}

void LibvirtDomain::OnClose(virConnectPtr, int reason, void* opaque) {
  auto* self = static_cast<LibvirtDomain*>(opaque);
  self->connected_ = false;
  if (self->gone_ || !self->listener_.on_connection_lost) return;
  // virConnectCloseReason: 0 error, 1 end of file (libvirtd exited), 2 keepalive, 3 client.
  self->listener_.on_connection_lost("the libvirt connection to " + self->uri_ + " closed (reason " +
                                     std::to_string(reason) + ")");
}

}  // namespace memhp::daemon::libvirt
