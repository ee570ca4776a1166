// memhpctl — ControlClient (see control_client.h).
#include "memhpctl/control_client.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "wire/frame_codec.h"
#include "wire/unix_connect.h"

namespace memhp::cli {

Error CallFailure(memhp::v1::ErrorCode code, int errno_value, std::string message) {
  Error e{errno_value, std::move(message)};
  e.code = code;
  return e;
}
namespace {

using Clock = std::chrono::steady_clock;

int RemainingMs(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() > 0 ? static_cast<int>(left.count()) : 0;
}

}  // namespace

ControlClient::~ControlClient() = default;

std::string ControlClient::Connect() {
  const int fd = wire::ConnectUnix(path_);
  if (fd < 0) {
    if (fd == -ENAMETOOLONG) return "control socket path too long: " + path_;
    return "connect " + path_ + ": " + std::strerror(-fd);
  }
  fd_.Reset(fd);
  return "";
}

uint64_t ControlClient::Send(memhp::v1::ControlRequest request, Error& error) {
  if (!fd_.valid()) {
    if (std::string message = Connect(); !message.empty()) {
      error = CallFailure(memhp::v1::ERROR_CODE_UNAVAILABLE, ENOTCONN, "memhpd is not running for this VM (" + message + ")");
      return 0;
    }
  }
  const uint64_t id = next_id_++;
  request.set_id(id);
  memhp::v1::ControlEnvelope envelope;
  *envelope.mutable_request() = std::move(request);
  const std::string frame = wire::EncodeMessage(envelope);
  for (size_t sent = 0; sent < frame.size();) {
    const ssize_t n = send(fd_.get(), frame.data() + sent, frame.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      error = CallFailure(memhp::v1::ERROR_CODE_FAILED, errno, std::string("send: ") + std::strerror(errno));
      return 0;
    }
    sent += static_cast<size_t>(n);
  }
  return id;
}

CallResult ControlClient::Call(memhp::v1::ControlRequest request, std::chrono::milliseconds timeout,
                               const ProgressFn& on_progress) {
  auto deadline = Clock::now() + timeout;
  Error failure;
  const uint64_t id = Send(std::move(request), failure);
  if (id == 0) return failure;

  wire::FrameDecoder decoder;
  char buffer[64 * 1024];
  for (;;) {
    while (std::optional<std::string> payload = decoder.Next()) {
      memhp::v1::ControlEnvelope reply;
      if (!reply.ParseFromString(*payload) || !reply.has_response()) continue;
      if (reply.response().id() != id && reply.response().id() != 0) continue;
      if (reply.response().has_progress()) {
        deadline = Clock::now() + timeout;
        if (on_progress) on_progress(reply.response().progress());
        continue;
      }
      return reply.response();
    }
    pollfd pfd{fd_.get(), POLLIN, 0};
    const int ready = poll(&pfd, 1, RemainingMs(deadline));
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0) return CallFailure(memhp::v1::ERROR_CODE_TIMEOUT, ETIMEDOUT, "memhpd did not answer in time");
    if (ready < 0) return CallFailure(memhp::v1::ERROR_CODE_FAILED, errno, std::string("poll: ") + std::strerror(errno));
    const ssize_t n = recv(fd_.get(), buffer, sizeof(buffer), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = n == 0 ? ECONNRESET : errno;
      return CallFailure(memhp::v1::ERROR_CODE_FAILED, err,
                         n == 0 ? "memhpd closed the connection" : std::string("recv: ") + std::strerror(err));
    }
    decoder.Feed(std::string_view(buffer, static_cast<size_t>(n)));
  }
}

}  // namespace memhp::cli

namespace memhp::cli {

ControlClient::StreamResult ControlClient::Stream(
    memhp::v1::ControlRequest request,
    const std::function<bool(const memhp::v1::ControlResponse&)>& on_response,
    const volatile std::sig_atomic_t* stop) {
  Error failure;
  const uint64_t id = Send(std::move(request), failure);
  if (id == 0) return {StreamEnd::kError, failure.message};
  wire::FrameDecoder decoder;
  char buffer[64 * 1024];
  for (;;) {
    while (std::optional<std::string> payload = decoder.Next()) {
      memhp::v1::ControlEnvelope reply;
      if (!reply.ParseFromString(*payload) || !reply.has_response()) continue;
      if (reply.response().id() != id && reply.response().id() != 0) continue;
      if (!on_response(reply.response())) return {StreamEnd::kCallbackDone, ""};
    }
    if (stop && *stop) return {StreamEnd::kStopped, ""};
    // A signal may land between the check above and poll(); the short timeout bounds that.
    pollfd pfd{fd_.get(), POLLIN, 0};
    const int ready = poll(&pfd, 1, 200);
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0) continue;
    if (ready < 0) return {StreamEnd::kError, std::string("poll: ") + std::strerror(errno)};
    const ssize_t n = recv(fd_.get(), buffer, sizeof(buffer), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) return {StreamEnd::kClosed, "memhpd closed the connection"};
    if (n < 0) return {StreamEnd::kError, std::string("recv: ") + std::strerror(errno)};
    decoder.Feed(std::string_view(buffer, static_cast<size_t>(n)));
  }
}

}  // namespace memhp::cli
