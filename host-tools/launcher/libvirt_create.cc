// memhp launcher — see libvirt_create.h.
#include "launcher/libvirt_create.h"

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include <cerrno>

namespace memhp::launcher {
namespace {

Error LastError(const std::string& what) {
  const virError* err = virGetLastError();
  return Error{EIO, what + ": " + (err && err->message ? err->message : "libvirt failed without saying why")};
}

}  // namespace

Status CreateTransientDomain(const std::string& uri, const std::string& xml) {
  virConnectPtr conn = virConnectOpen(uri.c_str());
  if (conn == nullptr) return LastError("connect to " + uri);
  virDomainPtr dom = virDomainCreateXML(conn, xml.c_str(), 0);
  Status out = dom ? OkStatus() : Status(LastError("virDomainCreateXML"));
  if (dom) virDomainFree(dom);
  virConnectClose(conn);
  return out;
}

Status DestroyDomain(const std::string& uri, const std::string& name) {
  virConnectPtr conn = virConnectOpen(uri.c_str());
  if (conn == nullptr) return LastError("connect to " + uri);
  Status out = OkStatus();
  if (virDomainPtr dom = virDomainLookupByName(conn, name.c_str())) {
    if (virDomainDestroy(dom) != 0) out = LastError("virDomainDestroy " + name);
    virDomainFree(dom);
  }
  virConnectClose(conn);
  return out;
}

}  // namespace memhp::launcher
