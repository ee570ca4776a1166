// memhp vm tests — the socket relay (see socket_relay.h).
#include "socket_relay.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <utility>
#include <vector>

namespace memhp::vmtest {
namespace {

bool FillAddress(const std::string& path, sockaddr_un* addr) {
  *addr = {};
  addr->sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr->sun_path)) return false;
  std::memcpy(addr->sun_path, path.c_str(), path.size() + 1);
  return true;
}

int ConnectTo(const std::string& path) {
  sockaddr_un addr;
  if (!FillAddress(path, &addr)) return -1;
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// Copies what `from` has to `to`; false when either end is done.
bool Pump(int from, int to) {
  char buffer[65536];
  const ssize_t n = read(from, buffer, sizeof(buffer));
  if (n <= 0) return false;
  for (ssize_t off = 0; off < n;) {
    const ssize_t w = write(to, buffer + off, static_cast<size_t>(n - off));
    if (w <= 0) return false;
    off += w;
  }
  return true;
}

}  // namespace

SocketRelay::SocketRelay(std::string listen_path, std::string target_path)
    : listen_path_(std::move(listen_path)), target_path_(std::move(target_path)) {
  if (pipe2(wake_, O_CLOEXEC | O_NONBLOCK) != 0) return;
  pending_listener_ = Listen();
  listening_ = pending_listener_ >= 0;
  thread_ = std::thread([this] { Run(); });
}

SocketRelay::~SocketRelay() {
  stop_ = true;
  Wake();
  if (thread_.joinable()) thread_.join();
  if (pending_listener_ >= 0) close(pending_listener_);
  for (int fd : wake_) {
    if (fd >= 0) close(fd);
  }
  unlink(listen_path_.c_str());
}

int SocketRelay::Listen() {
  sockaddr_un addr;
  if (!FillAddress(listen_path_, &addr)) return -1;
  unlink(listen_path_.c_str());
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0 || listen(fd, 16) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

void SocketRelay::Wake() {
  if (wake_[1] >= 0) (void)!write(wake_[1], "x", 1);
}

void SocketRelay::Cut() {
  cut_done_ = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    cut_ = true;
  }
  Wake();
  // The thread closes everything on its next wake-up; wait for it (bounded).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!cut_done_ && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

bool SocketRelay::Restore() {
  const int fd = Listen();
  if (fd < 0) return false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (pending_listener_ >= 0) close(pending_listener_);
    pending_listener_ = fd;
  }
  listening_ = true;
  Wake();
  return true;
}

void SocketRelay::Run() {
  int listener = -1;
  std::vector<std::pair<int, int>> pairs;  // client, target
  auto close_all = [&] {
    for (auto& [a, b] : pairs) {
      close(a);
      close(b);
    }
    pairs.clear();
    if (listener >= 0) close(listener);
    listener = -1;
  };
  while (!stop_) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (cut_) {
        cut_ = false;
        close_all();
        unlink(listen_path_.c_str());
        listening_ = false;
        cut_done_ = true;
      }
      if (pending_listener_ >= 0) {
        if (listener >= 0) close(listener);
        listener = pending_listener_;
        pending_listener_ = -1;
      }
    }
    std::vector<pollfd> fds;
    fds.push_back({wake_[0], POLLIN, 0});
    if (listener >= 0) fds.push_back({listener, POLLIN, 0});
    const size_t first_pair = fds.size();
    for (auto& [a, b] : pairs) {
      fds.push_back({a, POLLIN, 0});
      fds.push_back({b, POLLIN, 0});
    }
    if (poll(fds.data(), fds.size(), -1) < 0) continue;
    if (fds[0].revents) {
      char drain[64];
      while (read(wake_[0], drain, sizeof(drain)) > 0) {
      }
    }
    if (listener >= 0 && fds[1].revents & POLLIN) {
      const int client = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
      if (client >= 0) {
        const int target = ConnectTo(target_path_);
        if (target < 0) {
          close(client);
        } else {
          pairs.emplace_back(client, target);
        }
      }
    }
    std::vector<std::pair<int, int>> kept;
    for (size_t i = 0; i < pairs.size() && first_pair + 2 * i + 1 < fds.size(); ++i) {
      const auto [a, b] = pairs[i];
      bool ok = true;
      if (fds[first_pair + 2 * i].revents) ok = Pump(a, b);
      if (ok && fds[first_pair + 2 * i + 1].revents) ok = Pump(b, a);
      if (ok) {
        kept.push_back(pairs[i]);
      } else {
        close(a);
        close(b);
      }
    }
    // Pairs accepted this round were not polled yet; keep them.
    for (size_t i = (fds.size() - first_pair) / 2; i < pairs.size(); ++i) kept.push_back(pairs[i]);
    pairs = std::move(kept);
  }
  close_all();
}

}  // namespace memhp::vmtest
