// qmp_sync — blocking wrappers over QmpClient (see qmp_sync.h).
//
// The answer slots are shared with the callbacks: if a wait gives up early, a late callback
// writes into a slot that is still alive instead of into a dead stack frame.
#include "qmp/qmp_sync.h"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <memory>
#include <optional>
#include <utility>

namespace memhp::qmp {
namespace {

// The client's own timers guarantee an answer; this margin only guards against a stuck loop.
constexpr std::chrono::milliseconds kMargin{1000};

}  // namespace

bool RunUntil(GMainContext* context, const std::function<bool()>& done,
              std::chrono::milliseconds timeout) {
  if (done()) return true;
  bool timed_out = false;
  const int64_t ms = std::clamp<int64_t>(timeout.count(), 0, G_MAXUINT);
  GSource* timer = g_timeout_source_new(static_cast<guint>(ms));
  g_source_set_callback(
      timer,
      [](gpointer data) -> gboolean {
        *static_cast<bool*>(data) = true;
        return G_SOURCE_REMOVE;
      },
      &timed_out, nullptr);
  g_source_attach(timer, context);
  while (!done() && !timed_out) g_main_context_iteration(context, TRUE);
  g_source_destroy(timer);
  g_source_unref(timer);
  return done();
}

Status ConnectSync(QmpClient& client, const std::string& socket_path) {
  struct Slot {
    std::optional<Status> status;
  };
  auto slot = std::make_shared<Slot>();
  client.Connect(socket_path, [slot](Status status) { slot->status = std::move(status); });
  if (!RunUntil(
          client.context(), [&] { return slot->status.has_value(); },
          client.options().connect_timeout + kMargin)) {
    return memhp::Error{ETIMEDOUT, "QMP connect did not finish", memhp::v1::ERROR_CODE_TIMEOUT};
  }
  return std::move(*slot->status);
}

CommandResult ExecuteSync(QmpClient& client, std::string_view command, JsonNodePtr arguments,
                          std::chrono::milliseconds timeout) {
  struct Slot {
    std::optional<CommandResult> result;
  };
  auto slot = std::make_shared<Slot>();
  client.Execute(command, std::move(arguments), timeout,
                 [slot](CommandResult result) { slot->result = std::move(result); });
  const std::chrono::milliseconds wait =
      timeout.count() > 0 ? timeout + kMargin : std::chrono::milliseconds(G_MAXINT);
  if (!RunUntil(
          client.context(), [&] { return slot->result.has_value(); }, wait)) {
    return memhp::Error{ETIMEDOUT, "no QMP reply to " + std::string(command),
                        memhp::v1::ERROR_CODE_TIMEOUT};
  }
  return std::move(*slot->result);
}

}  // namespace memhp::qmp
