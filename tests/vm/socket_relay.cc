// memhp vm tests — SocketRelay (see socket_relay.h).
#include "socket_relay.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <utility>

namespace memhp::vmtest {
namespace {

sockaddr_un Address(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  return addr;
}

}  // namespace

SocketRelay::SocketRelay(std::string listen_path, std::string upstream_path)
    : listen_path_(std::move(listen_path)), upstream_path_(std::move(upstream_path)) {
  unlink(listen_path_.c_str());
  if (pipe2(wake_, O_CLOEXEC) != 0) return;
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const sockaddr_un addr = Address(listen_path_);
  if (fd < 0 || bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0 || listen(fd, 16) != 0) {
    if (fd >= 0) close(fd);
    return;
  }
  listen_fd_ = fd;
  acceptor_ = std::thread([this] { AcceptLoop(); });
}

SocketRelay::~SocketRelay() {
  if (wake_[1] >= 0) (void)!write(wake_[1], "x", 1);
  if (acceptor_.joinable()) acceptor_.join();
  Cut();
  if (listen_fd_ >= 0) close(listen_fd_);
  for (int fd : wake_) {
    if (fd >= 0) close(fd);
  }
  unlink(listen_path_.c_str());
}

void SocketRelay::AcceptLoop() {
  for (;;) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) continue;
    if (fds[1].revents != 0) return;
    const int client = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    if (refusing_) {
      close(client);
      ++refused_;
      continue;
    }
    const int upstream = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const sockaddr_un addr = Address(upstream_path_);
    if (upstream < 0 || connect(upstream, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
      close(client);
      if (upstream >= 0) close(upstream);
      continue;
    }
    ++accepted_;
    std::lock_guard<std::mutex> lock(mutex_);
    Pair& p = pairs_.emplace_back();
    p.client = client;
    p.upstream = upstream;
    p.pump = std::thread(&SocketRelay::Pump, client, upstream);
  }
}

// Copies both ways until either side closes or Cut() shuts both down.
void SocketRelay::Pump(int a, int b) {
  char buf[65536];
  for (;;) {
    pollfd fds[2] = {{a, POLLIN, 0}, {b, POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) continue;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].revents == 0) continue;
      const ssize_t n = read(fds[i].fd, buf, sizeof(buf));
      if (n <= 0) {
        shutdown(a, SHUT_RDWR);
        shutdown(b, SHUT_RDWR);
        return;
      }
      const int to = i == 0 ? b : a;
      for (ssize_t off = 0; off < n;) {
        // MSG_NOSIGNAL: a side that went away must end this pump, not the test (SIGPIPE).
        const ssize_t w = send(to, buf + off, static_cast<size_t>(n - off), MSG_NOSIGNAL);
        if (w <= 0) {
          shutdown(a, SHUT_RDWR);
          shutdown(b, SHUT_RDWR);
          return;
        }
        off += w;
      }
    }
  }
}

void SocketRelay::Cut() {
  std::vector<Pair> pairs;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    pairs.swap(pairs_);
  }
  for (Pair& p : pairs) {
    shutdown(p.client, SHUT_RDWR);
    shutdown(p.upstream, SHUT_RDWR);
    if (p.pump.joinable()) p.pump.join();
    close(p.client);
    close(p.upstream);
  }
}

}  // namespace memhp::vmtest
