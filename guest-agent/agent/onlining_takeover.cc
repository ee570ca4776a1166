// memhp-agent — see onlining_takeover.h.
#include "agent/onlining_takeover.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "base/unique_fd.h"
#include "sysfs/linux_abi.h"

namespace memhp::agent {

Result<std::string> TakeOverOnlining(const SysfsReader& sysfs) {
  Result<std::string> before = sysfs.ReadAutoOnlineBlocks();
  if (!before.ok()) return std::move(before).error();
  if (*before == abi::kOnlineTypeOffline) return before;
  const std::string path = sysfs.Path(abi::MemoryAttr(abi::kAutoOnlineBlocks));
  // No O_CREAT: the kernel makes the file; a tree without it is no kernel's to change. O_TRUNC
  // as a shell's `>` does: sysfs ignores it, a file in a test tree needs it.
  const UniqueFd fd(open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC));
  if (!fd.valid()) return Error::FromErrno(errno, "open", path);
  const std::string_view value = abi::kOnlineTypeOffline;
  // A sysfs store takes the whole buffer in one write or fails it (kernfs_fop_write_iter()).
  const ssize_t n = write(fd.get(), value.data(), value.size());
  if (n < 0) return Error::FromErrno(errno, "write", path);
  if (static_cast<size_t>(n) != value.size()) return Error::FromErrno(EIO, "short write", path);
  return before;
}

}  // namespace memhp::agent
