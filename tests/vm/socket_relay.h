// memhp vm tests — SocketRelay: a Unix-socket relay between a client and a server, which the
// test can cut. memhpd reaches libvirtd through it (qemu+unix:///system?socket=<relay>), so a
// test can take memhpd's libvirt connection away mid-operation, as a libvirtd restart or a
// broken network would, without touching the libvirtd other clients use.
#pragma once

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace memhp::vmtest {

class SocketRelay {
 public:
  // Listens on `listen_path` and relays each connection to `upstream_path`.
  SocketRelay(std::string listen_path, std::string upstream_path);
  ~SocketRelay();
  SocketRelay(const SocketRelay&) = delete;
  SocketRelay& operator=(const SocketRelay&) = delete;

  [[nodiscard]] bool listening() const { return listen_fd_ >= 0; }
  // Closes every relayed connection, both ends, now; new connections are relayed again.
  void Cut();
  // While refusing, each new connection is closed as soon as it is accepted, as a libvirtd that
  // is restarting would; the client's handshake fails and it must try again.
  void Refuse(bool refuse) { refusing_ = refuse; }
  // How many connections were relayed, and how many refused, so far.
  [[nodiscard]] int accepted() const { return accepted_.load(); }
  [[nodiscard]] int refused() const { return refused_.load(); }

 private:
  struct Pair {
    int client = -1;
    int upstream = -1;
    std::thread pump;
  };
  void AcceptLoop();
  static void Pump(int a, int b);

  std::string listen_path_;
  std::string upstream_path_;
  int listen_fd_ = -1;
  int wake_[2] = {-1, -1};
  std::atomic<int> accepted_{0};
  std::atomic<int> refused_{0};
  std::atomic<bool> refusing_{false};
  std::thread acceptor_;
  std::mutex mutex_;
  std::vector<Pair> pairs_;
};

}  // namespace memhp::vmtest
