// memhp host tools — writing and removing a pid file (reading one: vm::ReadLivePid, state_dir.h).
//
// The pid file is how memhpctl finds a VM's memhpd (and QEMU): a pid file that was not written
// is a memhpd nobody can stop or find, so both operations report their errors.
#pragma once

#include <string>

#include "base/result.h"

namespace memhp::vm {

// Writes "<pid>\n" to `path`: to a temporary file beside it, renamed over `path`, so a reader
// never sees a half-written number. Errors name the call and the path.
[[nodiscard]] Status WritePidFile(const std::string& path, long pid);

// Removes `path`; one that is gone already is no error.
[[nodiscard]] Status RemovePidFile(const std::string& path);

}  // namespace memhp::vm
