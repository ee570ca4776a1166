// memhp-agent — the project's one result type (base/result.h), named in the agent's namespace.
#pragma once

#include "base/result.h"

namespace memhp::agent {

using memhp::Error;
using memhp::OkStatus;
using memhp::Result;
using memhp::Status;

}  // namespace memhp::agent
