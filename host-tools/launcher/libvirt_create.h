// memhp launcher — starting and ending a transient libvirt domain through libvirt's C API
// (memhpctl launch --engine libvirt). A transient domain (virDomainCreateXML) exists only while
// it runs: destroying it leaves nothing defined behind.
#pragma once

#include <string>

#include "base/result.h"

namespace memhp::launcher {

// Creates and starts the domain described by `xml` on `uri`; libvirt's error verbatim.
[[nodiscard]] Status CreateTransientDomain(const std::string& uri, const std::string& xml);
// Destroys the running domain `name` on `uri` (ok when it is already gone).
[[nodiscard]] Status DestroyDomain(const std::string& uri, const std::string& name);

}  // namespace memhp::launcher
