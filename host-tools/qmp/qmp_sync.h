// qmp_sync — blocking wrappers over QmpClient for tests and one-shot CLI use.
//
// They iterate the client's GMainContext until the answer arrives, so they must run on the
// thread that owns that context, and never from inside a callback of the same context (that
// would re-enter it). memhpd itself stays asynchronous.
#pragma once

#include <glib.h>

#include <chrono>
#include <functional>
#include <string>
#include <string_view>

#include "qmp/qmp_client.h"

namespace memhp::qmp {

// Iterates `context` until `done()` is true or `timeout` passes; returns `done()`.
[[nodiscard]] bool RunUntil(GMainContext* context, const std::function<bool()>& done,
                            std::chrono::milliseconds timeout);

// Connect(), waited for.
[[nodiscard]] Status ConnectSync(QmpClient& client, const std::string& socket_path);

// Execute(), waited for.
[[nodiscard]] CommandResult ExecuteSync(QmpClient& client, std::string_view command, JsonNodePtr arguments,
                                 std::chrono::milliseconds timeout);

}  // namespace memhp::qmp
