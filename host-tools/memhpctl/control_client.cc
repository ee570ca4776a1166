// memhpctl — ControlClient (see control_client.h).
#include "memhpctl/control_client.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "wire/frame_codec.h"

namespace memhp::cli {
namespace {

using Clock = std::chrono::steady_clock;

int RemainingMs(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() > 0 ? static_cast<int>(left.count()) : 0;
}

}  // namespace

ControlClient::~ControlClient() {
  if (fd_ >= 0) close(fd_);
}

std::string ControlClient::Connect() {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path_.size() >= sizeof(addr.sun_path)) return "control socket path too long: " + path_;
  std::memcpy(addr.sun_path, path_.c_str(), path_.size() + 1);
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::string("socket: ") + std::strerror(errno);
  if (connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    const int err = errno;
    close(fd);
    return "connect " + path_ + ": " + std::strerror(err);
  }
  fd_ = fd;
  return "";
}

CallResult ControlClient::Call(memhp::v1::ControlRequest request, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  if (fd_ < 0) {
    if (std::string error = Connect(); !error.empty()) {
      return {std::nullopt, CallError::kNoDaemon, "memhpd is not running for this VM (" + error + ")"};
    }
  }
  const uint64_t id = next_id_++;
  request.set_id(id);
  memhp::v1::ControlEnvelope envelope;
  *envelope.mutable_request() = std::move(request);
  const std::string frame = wire::EncodeMessage(envelope);
  for (size_t sent = 0; sent < frame.size();) {
    const ssize_t n = send(fd_, frame.data() + sent, frame.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return {std::nullopt, CallError::kIo, std::string("send: ") + std::strerror(errno)};
    sent += static_cast<size_t>(n);
  }

  wire::FrameDecoder decoder;
  char buffer[64 * 1024];
  for (;;) {
    while (std::optional<std::string> payload = decoder.Next()) {
      memhp::v1::ControlEnvelope reply;
      if (!reply.ParseFromString(*payload) || !reply.has_response()) continue;
      if (reply.response().id() != id && reply.response().id() != 0) continue;
      return {reply.response(), CallError::kNone, ""};
    }
    pollfd pfd{fd_, POLLIN, 0};
    const int ready = poll(&pfd, 1, RemainingMs(deadline));
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0) return {std::nullopt, CallError::kTimeout, "memhpd did not answer in time"};
    if (ready < 0) return {std::nullopt, CallError::kIo, std::string("poll: ") + std::strerror(errno)};
    const ssize_t n = recv(fd_, buffer, sizeof(buffer), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      return {std::nullopt, CallError::kIo,
              n == 0 ? "memhpd closed the connection" : std::string("recv: ") + std::strerror(errno)};
    }
    decoder.Feed(std::string_view(buffer, static_cast<size_t>(n)));
  }
}

}  // namespace memhp::cli
