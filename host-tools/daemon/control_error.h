// control_error — the one way memhpd answers a control request with an error: a
// ControlResponse whose `error` has a memhp.v1.ErrorCode and the message for the user.
#pragma once

#include <string>
#include <utility>

#include "memhp/v1/control.pb.h"

namespace memhp::daemon {

[[nodiscard]] inline memhp::v1::ControlResponse ErrorResponse(memhp::v1::ErrorCode code, std::string message) {
  memhp::v1::ControlResponse response;
  response.mutable_error()->set_code(code);
  response.mutable_error()->set_message(std::move(message));
  return response;
}

}  // namespace memhp::daemon
