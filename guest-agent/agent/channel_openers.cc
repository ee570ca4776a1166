// memhp-agent — the two ways to open the host channel (see channel_openers.h).
#include "agent/channel_openers.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "agent/port_locator.h"

namespace memhp::agent {

ChannelOpener VirtioPortOpener(std::string root, std::string port_name) {
  return [root = std::move(root), name = std::move(port_name)]() -> Result<OpenedChannel> {
    Result<std::string> path = FindVirtioPort(root, name);
    if (!path.ok()) return std::move(path).error();
    const int fd = open(path->c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) return Error::FromErrno(errno, "open", *path);
    return OpenedChannel{fd, wire::Transport::kVirtioSerialPort, *path + " (" + name + ")"};
  };
}

ChannelOpener UnixSocketOpener(std::string path) {
  return [path = std::move(path)]() -> Result<OpenedChannel> {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof(addr.sun_path)) {
      return Error{ENAMETOOLONG, "socket path too long: " + path};
    }
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return Error::FromErrno(errno, "socket", path);
    if (connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
      const int err = errno;
      close(fd);
      return Error::FromErrno(err, "connect", path);
    }
    return OpenedChannel{fd, wire::Transport::kSocket, path};
  };
}

}  // namespace memhp::agent
