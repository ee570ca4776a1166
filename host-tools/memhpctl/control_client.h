// memhpctl — ControlClient: a blocking client of memhpd's control socket.
//
// The CLI does one thing per run, so it waits: connect, send one ControlRequest, read frames
// until the response naming its id arrives or the deadline passes. Frames that are not the
// answer (another id, garbage) are skipped; the decoder resynchronises by itself.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "memhp/v1/control.pb.h"

namespace memhp::cli {

enum class CallError { kNone, kNoDaemon, kTimeout, kIo };

struct CallResult {
  std::optional<memhp::v1::ControlResponse> response;
  CallError error = CallError::kNone;
  std::string message;  // set with error
};

class ControlClient {
 public:
  explicit ControlClient(std::string socket_path) : path_(std::move(socket_path)) {}
  ~ControlClient();
  ControlClient(const ControlClient&) = delete;
  ControlClient& operator=(const ControlClient&) = delete;

  // Connects if not yet connected, sends `request` (id assigned here), waits for its answer.
  [[nodiscard]] CallResult Call(memhp::v1::ControlRequest request,
                                std::chrono::milliseconds timeout);

 private:
  [[nodiscard]] std::string Connect();

  std::string path_;
  int fd_ = -1;
  uint64_t next_id_ = 1;
};

}  // namespace memhp::cli
