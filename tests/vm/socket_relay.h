// memhp vm tests — a unix-socket relay in front of a daemon's socket, whose connections a test
// can cut and let back: what a client sees when that daemon restarts, without restarting a
// daemon other VMs and users share (vm-libvirt puts it before libvirtd's socket).
//
// A thread accepts on `listen_path` and copies bytes both ways between each client and a new
// connection to `target_path`. Cut() closes every relayed connection and the listening socket
// (its file goes too, so a client's reconnect fails as it would against a stopped daemon);
// Restore() listens again.
#pragma once

#include <atomic>
#include <mutex>
#include <string>
#include <thread>

namespace memhp::vmtest {

class SocketRelay {
 public:
  SocketRelay(std::string listen_path, std::string target_path);
  ~SocketRelay();
  SocketRelay(const SocketRelay&) = delete;
  SocketRelay& operator=(const SocketRelay&) = delete;

  [[nodiscard]] bool listening() const { return listening_; }
  void Cut();
  [[nodiscard]] bool Restore();

 private:
  void Run();
  void Wake();
  [[nodiscard]] int Listen();

  std::string listen_path_;
  std::string target_path_;
  int wake_[2] = {-1, -1};
  std::mutex mutex_;
  int pending_listener_ = -1;  // handed to the thread by Restore()
  bool cut_ = false;           // asked of the thread by Cut()
  std::atomic<bool> stop_{false};
  std::atomic<bool> listening_{false};
  std::atomic<bool> cut_done_{false};
  std::thread thread_;
};

}  // namespace memhp::vmtest
