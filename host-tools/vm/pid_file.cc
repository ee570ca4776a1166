// memhp host tools — see pid_file.h.
#include "vm/pid_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace memhp::vm {

Status WritePidFile(const std::string& path, long pid) {
  const std::string temporary = path + ".tmp";
  const int fd = open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Error::FromErrno(errno, "open", temporary);
  const std::string text = std::to_string(pid) + "\n";
  const ssize_t written = write(fd, text.data(), text.size());
  const int write_errno = errno;
  // close() can report a failed write-back (NFS, a full disk): it counts as a failed write.
  const int closed = close(fd);
  const int close_errno = errno;
  if (written != static_cast<ssize_t>(text.size()) || closed != 0) {
    unlink(temporary.c_str());
    if (written < 0) return Error::FromErrno(write_errno, "write", temporary);
    if (closed != 0) return Error::FromErrno(close_errno, "close", temporary);
    return Error::FromErrno(EIO, "write (short)", temporary);
  }
  if (rename(temporary.c_str(), path.c_str()) != 0) {
    const int err = errno;
    unlink(temporary.c_str());
    return Error::FromErrno(err, "rename to " + path, temporary);
  }
  return OkStatus();
}

Status RemovePidFile(const std::string& path) {
  if (unlink(path.c_str()) != 0 && errno != ENOENT) return Error::FromErrno(errno, "unlink", path);
  return OkStatus();
}

}  // namespace memhp::vm
