// memhp unit tests — unix sockets in a temp folder for the daemons' socket tests: a short-pathed
// folder, a listening socket, accepting and connecting while a GMainContext runs.
#pragma once

#include <glib.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <string>
#include <system_error>

#include "framed_peer.h"

namespace memhp::test_support {

// Iterates `context` for `duration`, whatever happens.
inline void RunFor(GMainContext* context, std::chrono::milliseconds duration) {
  const gint64 end = g_get_monotonic_time() + duration.count() * 1000;
  while (g_get_monotonic_time() < end) {
    if (!g_main_context_iteration(context, FALSE)) g_usleep(200);
  }
}

// A short-pathed temp folder for sockets (sun_path holds 108 bytes), removed at the end.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = "/tmp/memhp-socket-test.XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) {
      ADD_FAILURE() << "mkdtemp: " << std::strerror(errno);
      return;
    }
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  [[nodiscard]] std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline sockaddr_un UnixAddress(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  EXPECT_LT(path.size(), sizeof(addr.sun_path));
  std::memcpy(addr.sun_path, path.c_str(), std::min(path.size() + 1, sizeof(addr.sun_path)));
  return addr;
}

// A non-blocking listening socket at `path` (a previous socket file there is replaced).
inline int ListenUnix(const std::string& path) {
  unlink(path.c_str());
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  const sockaddr_un addr = UnixAddress(path);
  if (fd < 0 || bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0 ||
      listen(fd, 4) != 0) {
    ADD_FAILURE() << "listen " << path << ": " << std::strerror(errno);
    if (fd >= 0) close(fd);
    return -1;
  }
  return fd;
}

// Accepts one connection on `listen_fd`, iterating `context` meanwhile; -1 after the deadline.
inline int AcceptOne(GMainContext* context, int listen_fd) {
  int fd = -1;
  if (!RunUntil(context, [&] {
        fd = accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
        return fd >= 0;
      })) {
    ADD_FAILURE() << "nobody connected";
  }
  return fd;
}

inline int ConnectUnix(const std::string& path) {
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const sockaddr_un addr = UnixAddress(path);
  if (fd < 0 || connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    ADD_FAILURE() << "connect " << path << ": " << std::strerror(errno);
    if (fd >= 0) close(fd);
    return -1;
  }
  return fd;
}

}  // namespace memhp::test_support
