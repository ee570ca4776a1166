// qmp_proxy — a man in the middle on QEMU's QMP socket, for the 'qemu' suite's hostile-input
// tests.
//
// The proxy listens on its own unix socket; when memhpd connects, it connects to QEMU's QMP
// socket and forwards both ways, line by line from memhpd to QEMU and byte for byte back. A
// test can, at any time, replace QEMU's greeting, answer chosen commands itself instead of
// passing them to QEMU (with any line: a huge array, a wrong id, no JSON at all), and inject
// bytes towards memhpd as if QEMU had written them. Everything runs on one thread of its own;
// the destructor stops it and closes every socket.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

namespace memhp::qemu_test {

class QmpProxy {
 public:
  // The line to send memhpd instead of forwarding `command` (id `id`) to QEMU; nullopt
  // forwards it. "\r\n" is appended.
  using Answer = std::function<std::optional<std::string>(std::string_view command, int64_t id)>;

  // Listens on `listen_path` and forwards to `upstream_path`. nullptr and `error` set on failure.
  static std::unique_ptr<QmpProxy> Start(const std::string& listen_path, const std::string& upstream_path,
                                         std::string* error);
  ~QmpProxy();
  QmpProxy(const QmpProxy&) = delete;
  QmpProxy& operator=(const QmpProxy&) = delete;

  [[nodiscard]] const std::string& path() const { return listen_path_; }

  // QEMU's greeting is dropped and `line` sent in its place.
  void ReplaceGreeting(std::string line);
  void SetAnswer(Answer answer);
  // Bytes for memhpd, queued after whatever QEMU or the proxy already queued for it.
  void Inject(std::string bytes);
  // Commands memhpd sent so far (answered by the proxy or forwarded).
  [[nodiscard]] int commands_seen() const { return commands_seen_.load(); }

 private:
  QmpProxy() = default;
  void Run();
  void Wake();
  void OnClientLine(const std::string& line);

  std::string listen_path_;
  std::string upstream_path_;
  int listen_fd_ = -1;
  int wake_[2] = {-1, -1};
  int client_fd_ = -1;
  int upstream_fd_ = -1;
  bool greeting_pending_ = true;
  std::string from_client_;
  std::string from_upstream_;  // only while waiting for the greeting line
  std::string to_upstream_;

  std::mutex mutex_;  // guards what the test thread sets
  std::optional<std::string> greeting_;
  Answer answer_;
  std::string to_client_;

  std::atomic<bool> stop_{false};
  std::atomic<int> commands_seen_{0};
  std::thread thread_;
};

}  // namespace memhp::qemu_test
