// unix_connect — a stream connection to a unix socket path, for the daemons' clients of QEMU's
// chardev socket and the audit plugin's socket.
#pragma once

#include <string>

namespace memhp::wire {

// A connected SOCK_STREAM | SOCK_CLOEXEC fd, or -errno (-ENAMETOOLONG when the path does not fit
// sockaddr_un). The fd is blocking; callers make it non-blocking as they need.
[[nodiscard]] int ConnectUnix(const std::string& path);

}  // namespace memhp::wire
