// memhpctl — ControlClient: a blocking client of memhpd's control socket.
//
// The CLI does one thing per run, so it waits: connect, send one ControlRequest, read frames
// until the response naming its id arrives or the deadline passes. Frames that are not the
// answer (another id, garbage) are skipped; the decoder resynchronises by itself.
//
// A long operation (plug, unplug, resize) may first send OperationProgress responses with the
// request's id (control.proto): they are not the answer. Call hands each to `on_progress` and
// keeps waiting; each one also restarts the deadline, since memhpd is evidently alive and the
// operation may have waited its turn behind others. Stream (watch) hands every response to its
// callback until the callback, the caller's stop flag or memhpd ends it.
#pragma once

#include <chrono>
#include <csignal>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "base/result.h"
#include "base/unique_fd.h"
#include "memhp/v1/control.pb.h"

namespace memhp::cli {

// Why a call got no answer (see CallResult).
[[nodiscard]] Error CallFailure(memhp::v1::ErrorCode code, int errno_value, std::string message);

// The answer memhpd sent (which may itself carry memhpd's error), or why there is none: an Error
// whose code says which (UNAVAILABLE: no memhpd for the VM; TIMEOUT: no answer in time; FAILED:
// the socket failed, errno set).
using CallResult = Result<memhp::v1::ControlResponse>;

class ControlClient {
 public:
  explicit ControlClient(std::string socket_path) : path_(std::move(socket_path)) {}
  ~ControlClient();
  ControlClient(const ControlClient&) = delete;
  ControlClient& operator=(const ControlClient&) = delete;

  using ProgressFn = std::function<void(const memhp::v1::OperationProgress&)>;

  // Connects if not yet connected, sends `request` (id assigned here), waits for its answer.
  [[nodiscard]] CallResult Call(memhp::v1::ControlRequest request,
                                std::chrono::milliseconds timeout,
                                const ProgressFn& on_progress = nullptr);

  // Why Stream returned.
  enum class StreamEnd { kStopped, kCallbackDone, kClosed, kError };
  struct StreamResult {
    StreamEnd end = StreamEnd::kClosed;
    std::string message;  // kError / kClosed: what happened
  };
  // Sends `request` and hands every response naming its id to `on_response`, until it returns
  // false (kCallbackDone), `*stop` becomes non-zero (kStopped; checked at least every 200 ms,
  // e.g. set from a SIGINT handler), memhpd closes the connection (kClosed) or I/O fails.
  [[nodiscard]] StreamResult Stream(memhp::v1::ControlRequest request,
                                    const std::function<bool(const memhp::v1::ControlResponse&)>& on_response,
                                    const volatile std::sig_atomic_t* stop);

 private:
  [[nodiscard]] std::string Connect();
  // Connects if needed and sends `request` with a fresh id; returns the id, or 0 and `error`.
  [[nodiscard]] uint64_t Send(memhp::v1::ControlRequest request, Error& error);

  std::string path_;
  UniqueFd fd_;
  uint64_t next_id_ = 1;
};

}  // namespace memhp::cli
