// A blocking test client of the memhp-audit plugin's socket (audit.proto in the shared framing),
// for the qemu and vm suites that talk to a real plugin inside a real QEMU.
#pragma once

#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <optional>
#include <string>
#include <string_view>

#include "memhp/v1/audit.pb.h"
#include "wire/frame_codec.h"
#include "wire/unix_connect.h"

namespace memhp::test_support {

class AuditClient {
 public:
  explicit AuditClient(const std::string& path) : fd_(wire::ConnectUnix(path)) {
    if (fd_ < 0) return;
    timeval tv{10, 0};  // a plugin that never answers fails the test instead of hanging it
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  }
  ~AuditClient() {
    if (fd_ >= 0) close(fd_);
  }
  AuditClient(const AuditClient&) = delete;
  AuditClient& operator=(const AuditClient&) = delete;

  [[nodiscard]] bool connected() const { return fd_ >= 0; }

  // Sends `request` and reads its response; nullopt on any I/O or parse failure.
  std::optional<memhp::v1::AuditResponse> Call(const memhp::v1::AuditRequest& request) {
    const std::string frame = wire::EncodeMessage(request);
    if (write(fd_, frame.data(), frame.size()) != static_cast<ssize_t>(frame.size())) return {};
    for (;;) {
      if (std::optional<std::string> payload = decoder_.Next()) {
        memhp::v1::AuditResponse response;
        if (!response.ParseFromString(*payload)) return {};
        return response;
      }
      char buf[4096];
      const ssize_t n = read(fd_, buf, sizeof(buf));
      if (n <= 0) return {};
      decoder_.Feed(std::string_view(buf, static_cast<size_t>(n)));
    }
  }

 private:
  int fd_ = -1;
  wire::FrameDecoder decoder_;
};

}  // namespace memhp::test_support
