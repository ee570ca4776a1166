// qmp_client — an asynchronous QMP client on a GMainContext.
//
// QEMU's QMP monitor takes one client per socket; memhpd owns it and multiplexes. The client
// connects to a unix socket (non-blocking, bounded by a connect timeout), reads the greeting,
// leaves capabilities negotiation with a plain {"execute": "qmp_capabilities"} (no OOB), and
// then runs any number of commands at once. Each command carries a client-chosen increasing
// integer id; QEMU echoes it in the reply, which is how replies find their callback. A reply
// whose id is unknown (a command that already timed out, or one we never sent) is dropped with
// a g_debug. Events go to the listener.
//
// What QEMU writes is bounded before it is parsed (json_limits.h): a line over the byte bound,
// the nesting bound or the value bound, or one QMP does not allow (not an object, none of
// "return"/"error"/"event", members of the wrong type), is a protocol error. During the
// handshake it fails the connect. Once connected it is dropped and counted (stats()), and the
// connection carries on: QMP answers each command on its own line, so one bad line costs at
// most the command it answered — which fails with ERROR_CODE_MALFORMED when the line still
// carried its id, and otherwise times out.
//
// Every callback runs from the GMainContext given at construction, never from inside the call
// that registered it. On a disconnect — EOF, a socket error — every pending command fails with
// ERROR_CODE_UNAVAILABLE exactly once, then the listener's on_disconnected runs once. A command
// that times out fails with ERROR_CODE_TIMEOUT and is forgotten (its late reply is then an
// unknown id). CommandResult below lists the codes.
//
// Callbacks may call Execute or Close; they may also destroy the client (no callback runs
// after that).
#pragma once

#include <glib.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "base/liveness.h"
#include "base/result.h"
#include "base/unique_fd.h"
#include "memhp/v1/error.pb.h"
#include "qmp/qmp_json.h"
#include "qmp/qmp_lines.h"
#include "qmp/qmp_protocol.h"

namespace memhp::qmp {

// What a command produced: its "return" value (never null; JSON null when QEMU returned
// nothing), or why there is none. The Error says which way it failed in `code`, a
// memhp.v1.ErrorCode, so that memhpd can pass it on as it is:
//   ERROR_CODE_QMP          QEMU answered {"error": {"class", "desc"}}; the message is
//                           "<class>: <desc>", both verbatim from QEMU. errno_value 0.
//   ERROR_CODE_TIMEOUT      no reply (or no handshake) within the time allowed. ETIMEDOUT.
//   ERROR_CODE_UNAVAILABLE  not connected, the connection was lost, or connecting failed:
//                           errno_value is the failed system call's (ENOENT for a missing
//                           socket, ...) or ENOTCONN when none failed.
//   ERROR_CODE_MALFORMED    QEMU sent something QMP does not allow, or over the input bounds.
//                           EPROTO.
// One type for all of memhp (base/result.h) rather than a QMP-only one: callers hand these
// errors on without translating them.
using CommandResult = memhp::Result<JsonNodePtr>;

using ResultCallback = std::function<void(CommandResult)>;
// Ok: connected and capabilities negotiated. Errors as for CommandResult.
using ConnectCallback = std::function<void(Status)>;

struct QmpListener {
  // An asynchronous event; `data` is an object ({} when QEMU sent none).
  std::function<void(std::string_view name, const JsonNode& data, const Timestamp& timestamp)>
      on_event;
  // The connection was lost after Connect succeeded. Not called for Close().
  std::function<void(std::string_view reason)> on_disconnected;
};

struct QmpClientOptions {
  // From connect() to the end of capabilities negotiation.
  std::chrono::milliseconds connect_timeout{5000};
  // What one line from QEMU may hold, "\r\n" excluded; json_limits.h has the reasons.
  // json_limits.max_bytes is also the line bound, and so bounds what the client buffers.
  JsonLimits json_limits;
};

// What the client refused or could not match since it connected (memhpd logs each one).
struct QmpClientStats {
  uint64_t dropped_lines = 0;    // protocol errors after the handshake (over a bound, malformed)
  uint64_t unknown_replies = 0;  // replies whose id no pending command had
};

class QmpClient {
 public:
  // `context` is referenced for the client's lifetime; every source is attached to it.
  explicit QmpClient(GMainContext* context);
  QmpClient(GMainContext* context, QmpClientOptions options);
  // Closes the socket and removes every source; pending callbacks are dropped without being
  // called.
  ~QmpClient();
  QmpClient(const QmpClient&) = delete;
  QmpClient& operator=(const QmpClient&) = delete;

  void SetListener(QmpListener listener);

  // Connects to QEMU's QMP unix socket and negotiates capabilities; `done` runs once. Only
  // from the idle state (a client connects once; make a new one to reconnect).
  void Connect(const std::string& socket_path, ConnectCallback done);

  // As Connect, over an already connected stream socket (e.g. one end of a socketpair, or an
  // fd passed by a launcher). Takes ownership of `fd` and makes it non-blocking.
  void Adopt(int fd, ConnectCallback done);

  // Sends {"execute": command, "arguments": arguments, "id": N}. `arguments` may be null (no
  // arguments). `timeout` of zero means no timeout. `done` runs exactly once. Before the
  // client is connected, or after it disconnected, `done` gets ERROR_CODE_UNAVAILABLE.
  void Execute(std::string_view command, JsonNodePtr arguments, std::chrono::milliseconds timeout,
               ResultCallback done);

  // Disconnects: pending commands (and a connect in progress) fail with ERROR_CODE_UNAVAILABLE;
  // on_disconnected is not called. Idempotent.
  void Close();

  // Capabilities were negotiated and the connection is up.
  [[nodiscard]] bool connected() const { return state_ == State::kReady; }
  // QEMU's greeting, once received; nullptr before.
  [[nodiscard]] const Greeting* greeting() const { return greeting_ ? &*greeting_ : nullptr; }
  [[nodiscard]] GMainContext* context() const { return context_; }
  [[nodiscard]] const QmpClientOptions& options() const { return options_; }
  [[nodiscard]] std::size_t pending_count() const { return pending_.size(); }
  [[nodiscard]] const QmpClientStats& stats() const { return stats_; }

 private:
  enum class State { kIdle, kConnecting, kAwaitingGreeting, kNegotiating, kReady, kClosed };
  enum class Notify { kListener, kQuiet };

  struct Pending {
    std::string command;
    ResultCallback done;
    GSource* timer = nullptr;
    std::chrono::milliseconds timeout{0};
    QmpClientStats stats_at_send;  // to say, on a timeout, what went wrong meanwhile
  };

  // From kIdle: records the peer and `done`, starts the connect timer. Otherwise fails `done`
  // (later) and returns false.
  bool BeginHandshake(std::string peer, ConnectCallback& done);
  void StartConnect(const std::string& socket_path);
  void OnConnectWritable();
  void StartReading();
  void SendCommand(std::string_view command, const JsonNode* arguments,
                   std::chrono::milliseconds timeout, ResultCallback done);
  void Flush();
  void OnReadable();
  // Returns false when the client was torn down or destroyed while handling the line.
  bool HandleLine(std::string_view line);
  // A line QMP does not allow: fails the handshake, or is dropped once connected (see the top
  // of the file). Returns as HandleLine does.
  bool OnProtocolError(std::string reason, std::optional<int64_t> id);
  void HandleGreeting(Greeting greeting);
  void HandleReply(std::optional<int64_t> id, CommandResult result);
  void OnCommandTimeout(int64_t id);
  void OnNegotiated(CommandResult result);
  // Ends the connection; see the top of the file for who is told what.
  void Teardown(memhp::Error why, Notify notify);
  // Runs `task` from the context, later; dropped if the client is destroyed first.
  void Post(std::function<void()> task);

  GSource* AttachFdSource(GIOCondition condition,
                          gboolean (*callback)(gint, GIOCondition, gpointer));
  static void DestroySource(GSource*& source);

  GMainContext* context_;
  QmpClientOptions options_;
  State state_ = State::kIdle;
  UniqueFd fd_;
  std::string socket_path_;
  ConnectCallback connect_done_;
  QmpListener listener_;
  std::optional<Greeting> greeting_;

  GSource* io_source_ = nullptr;      // G_IO_IN while connected
  GSource* out_source_ = nullptr;     // G_IO_OUT while a write is pending or connect() is
  GSource* connect_timer_ = nullptr;  // the connect timeout
  GSource* retry_timer_ = nullptr;    // connect() again after EAGAIN (listen backlog full)
  std::set<GSource*> posted_;

  LineSplitter lines_;  // a line over json_limits.max_bytes is dropped, up to its '\n'
  QmpClientStats stats_;
  std::string out_;

  int64_t next_id_ = 1;
  std::map<int64_t, Pending> pending_;

  // Expires when the client is destroyed; lets loops that call user code stop in time.
  Liveness alive_;
};

}  // namespace memhp::qmp
