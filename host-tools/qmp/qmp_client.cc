// qmp_client — the QMP connection state machine (see qmp_client.h).
//
//   kIdle --Connect--> kConnecting --connected--> kAwaitingGreeting --greeting-->
//   kNegotiating --qmp_capabilities returned--> kReady --EOF/error/Close--> kClosed
//
// Any state can end in kClosed through Teardown(), the single place that fails pending
// commands and tells the owner; that is what makes "exactly once" hold.
#include "qmp/qmp_client.h"

#include <fcntl.h>
#include <glib-unix.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

namespace memhp::qmp {
namespace {

// connect() on a unix socket whose listen backlog is full fails with EAGAIN instead of
// EINPROGRESS; it is retried after this long, within the connect timeout.
constexpr guint kConnectRetryMs = 10;
constexpr std::size_t kReadChunk = 64 * 1024;

// Which way a command or the handshake failed (qmp_client.h, CommandResult).
constexpr memhp::v1::ErrorCode kCommandError = memhp::v1::ERROR_CODE_QMP;
constexpr memhp::v1::ErrorCode kTimeout = memhp::v1::ERROR_CODE_TIMEOUT;
constexpr memhp::v1::ErrorCode kDisconnected = memhp::v1::ERROR_CODE_UNAVAILABLE;
constexpr memhp::v1::ErrorCode kProtocol = memhp::v1::ERROR_CODE_MALFORMED;

// `err` is the errno of the system call that failed; without one, the errno that names the
// failure, so that errno_value is never 0 for a failure of the connection. A command error is
// QEMU's answer, not a failure of ours: errno 0.
memhp::Error MakeError(memhp::v1::ErrorCode code, std::string message, int err = 0) {
  if (err == 0) {
    switch (code) {
      case kTimeout: err = ETIMEDOUT; break;
      case kDisconnected: err = ENOTCONN; break;
      case kProtocol: err = EPROTO; break;
      default: break;
    }
  }
  return memhp::Error{err, std::move(message), code};
}

// At most the first 80 bytes of a peer's text, for an error message.
std::string Abbreviated(std::string text) {
  constexpr std::size_t kMax = 80;
  if (text.size() > kMax) text = text.substr(0, kMax) + "...";
  return text;
}

std::string Errno(std::string_view what, int err) {
  return std::string(what) + ": " + g_strerror(err);
}

guint ClampMs(std::chrono::milliseconds ms) {
  const auto count = ms.count();
  if (count <= 0) return 0;
  return static_cast<guint>(std::min<decltype(count)>(count, G_MAXUINT));
}

struct CommandTimer {
  QmpClient* client;
  int64_t id;
};

struct PostedTask {
  std::set<GSource*>* registry;
  GSource* source;
  std::function<void()> task;
};

}  // namespace

QmpClient::QmpClient(GMainContext* context) : QmpClient(context, QmpClientOptions{}) {}

QmpClient::QmpClient(GMainContext* context, QmpClientOptions options)
    : context_(g_main_context_ref(context != nullptr ? context : g_main_context_default())),
      options_(options),
      lines_(options.json_limits.max_bytes) {}

QmpClient::~QmpClient() {
  alive_.Expire();  // first: nothing below may run into a callback that thinks we are alive
  DestroySource(io_source_);
  DestroySource(out_source_);
  DestroySource(connect_timer_);
  DestroySource(retry_timer_);
  for (auto& [id, pending] : pending_) DestroySource(pending.timer);
  // Copy: destroying a posted source runs its destroy notify, which erases it from posted_.
  const std::set<GSource*> posted = posted_;
  for (GSource* source : posted) g_source_destroy(source);
  fd_.Reset();
  g_main_context_unref(context_);
}

void QmpClient::SetListener(QmpListener listener) { listener_ = std::move(listener); }

bool QmpClient::BeginHandshake(std::string peer, ConnectCallback& done) {
  if (state_ != State::kIdle) {
    Post([done = std::move(done)] {
      done(MakeError(kDisconnected, "QMP client already used; make a new one"));
    });
    return false;
  }
  socket_path_ = std::move(peer);
  connect_done_ = std::move(done);
  state_ = State::kConnecting;
  connect_timer_ = g_timeout_source_new(ClampMs(options_.connect_timeout));
  g_source_set_callback(
      connect_timer_,
      [](gpointer data) -> gboolean {
        auto* self = static_cast<QmpClient*>(data);
        self->Teardown(
            MakeError(kTimeout,
                      "no QMP handshake with " + self->socket_path_ + " within " +
                          std::to_string(self->options_.connect_timeout.count()) + " ms"),
            Notify::kListener);
        return G_SOURCE_REMOVE;
      },
      this, nullptr);
  g_source_attach(connect_timer_, context_);
  return true;
}

void QmpClient::Connect(const std::string& socket_path, ConnectCallback done) {
  if (!BeginHandshake(socket_path, done)) return;
  if (socket_path.size() >= sizeof(sockaddr_un::sun_path)) {
    Post([this] {
      Teardown(
          MakeError(kDisconnected,
                    "QMP socket path too long for a unix socket: " + socket_path_, ENAMETOOLONG),
          Notify::kListener);
    });
    return;
  }
  StartConnect(socket_path);
}

void QmpClient::StartConnect(const std::string& socket_path) {
  fd_.Reset(socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd_.valid()) {
    const int err = errno;
    Post([this, err] {
      Teardown(MakeError(kDisconnected, Errno("socket(AF_UNIX)", err), err),
               Notify::kListener);
    });
    return;
  }
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, socket_path.data(), socket_path.size());
  int rc;
  do {
    rc = connect(fd_.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr));
  } while (rc < 0 && errno == EINTR);
  if (rc == 0) {
    StartReading();
    return;
  }
  const int err = errno;
  if (err == EINPROGRESS) {
    out_source_ = AttachFdSource(G_IO_OUT, [](gint, GIOCondition, gpointer data) -> gboolean {
      static_cast<QmpClient*>(data)->OnConnectWritable();
      return G_SOURCE_REMOVE;
    });
    return;
  }
  fd_.Reset();
  if (err == EAGAIN) {
    retry_timer_ = g_timeout_source_new(kConnectRetryMs);
    g_source_set_callback(
        retry_timer_,
        [](gpointer data) -> gboolean {
          auto* self = static_cast<QmpClient*>(data);
          DestroySource(self->retry_timer_);
          self->StartConnect(self->socket_path_);
          return G_SOURCE_REMOVE;
        },
        this, nullptr);
    g_source_attach(retry_timer_, context_);
    return;
  }
  Post([this, err] {
    Teardown(MakeError(kDisconnected, Errno("connect " + socket_path_, err), err),
             Notify::kListener);
  });
}

void QmpClient::OnConnectWritable() {
  DestroySource(out_source_);
  int err = 0;
  socklen_t len = sizeof(err);
  if (getsockopt(fd_.get(), SOL_SOCKET, SO_ERROR, &err, &len) < 0) err = errno;
  if (err != 0) {
    Teardown(MakeError(kDisconnected, Errno("connect " + socket_path_, err), err),
             Notify::kListener);
    return;
  }
  StartReading();
}

void QmpClient::Adopt(int fd, ConnectCallback done) {
  UniqueFd owned(fd);  // ours from here on, even when refused
  if (!BeginHandshake("fd " + std::to_string(fd), done)) return;
  fd_ = std::move(owned);
  const int flags = fcntl(fd_.get(), F_GETFL);
  const int fd_flags = flags < 0 ? -1 : fcntl(fd_.get(), F_GETFD);
  if (flags < 0 || fd_flags < 0 || fcntl(fd_.get(), F_SETFL, flags | O_NONBLOCK) < 0 ||
      fcntl(fd_.get(), F_SETFD, fd_flags | FD_CLOEXEC) < 0) {
    const int err = errno;
    Post([this, err] {
      Teardown(MakeError(kDisconnected, Errno("fcntl " + socket_path_, err), err),
               Notify::kListener);
    });
    return;
  }
  StartReading();
}

void QmpClient::StartReading() {
  state_ = State::kAwaitingGreeting;
  io_source_ = AttachFdSource(static_cast<GIOCondition>(G_IO_IN | G_IO_HUP | G_IO_ERR),
                              [](gint, GIOCondition, gpointer data) -> gboolean {
                                static_cast<QmpClient*>(data)->OnReadable();
                                return G_SOURCE_CONTINUE;
                              });
}

void QmpClient::Execute(std::string_view command, JsonNodePtr arguments,
                        std::chrono::milliseconds timeout, ResultCallback done) {
  if (state_ != State::kReady) {
    Post([done = std::move(done), command = std::string(command)] {
      done(MakeError(kDisconnected, "QMP not connected: cannot run " + command));
    });
    return;
  }
  SendCommand(command, arguments.get(), timeout, std::move(done));
}

void QmpClient::SendCommand(std::string_view command, const JsonNode* arguments,
                            std::chrono::milliseconds timeout, ResultCallback done) {
  const int64_t id = next_id_++;
  const JsonNodePtr message = BuildCommand(command, arguments, id);
  out_ += ToJson(message.get());
  out_ += '\n';

  Pending pending{std::string(command), std::move(done), nullptr, timeout, stats_};
  if (timeout.count() > 0) {
    pending.timer = g_timeout_source_new(ClampMs(timeout));
    g_source_set_callback(
        pending.timer,
        [](gpointer data) -> gboolean {
          const auto* timer = static_cast<CommandTimer*>(data);
          timer->client->OnCommandTimeout(timer->id);
          return G_SOURCE_REMOVE;
        },
        new CommandTimer{this, id}, [](gpointer data) { delete static_cast<CommandTimer*>(data); });
    g_source_attach(pending.timer, context_);
  }
  pending_.emplace(id, std::move(pending));
  Flush();
}

void QmpClient::Flush() {
  while (!out_.empty() && fd_.valid()) {
    const ssize_t n = send(fd_.get(), out_.data(), out_.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n >= 0) {
      out_.erase(0, static_cast<std::size_t>(n));
      continue;
    }
    const int err = errno;
    if (err == EINTR) continue;
    if (err == EAGAIN || err == EWOULDBLOCK) {
      if (out_source_ == nullptr) {
        out_source_ = AttachFdSource(G_IO_OUT, [](gint, GIOCondition, gpointer data) -> gboolean {
          static_cast<QmpClient*>(data)->Flush();
          return G_SOURCE_CONTINUE;
        });
      }
      return;
    }
    // Flush runs inside Execute too; tell the owner from the context, not from its own call.
    out_.clear();
    Post([this, err] {
      Teardown(MakeError(kDisconnected, Errno("write to QMP", err), err),
               Notify::kListener);
    });
    return;
  }
  DestroySource(out_source_);
}

void QmpClient::OnReadable() {
  char chunk[kReadChunk];
  const ssize_t n = read(fd_.get(), chunk, sizeof(chunk));
  if (n < 0) {
    const int err = errno;
    if (err == EINTR || err == EAGAIN || err == EWOULDBLOCK) return;
    Teardown(MakeError(kDisconnected, Errno("read from QMP", err), err),
             Notify::kListener);
    return;
  }
  if (n == 0) {
    Teardown(MakeError(kDisconnected, "QEMU closed the QMP connection"),
             Notify::kListener);
    return;
  }
  // The line bound is checked as bytes arrive (qmp_lines.h), so memhpd never holds more than
  // one line within the bound plus one read; a longer line is dropped up to its '\n' and, once
  // the handshake is done, the stream goes on.
  lines_.Append(std::string_view(chunk, static_cast<std::size_t>(n)));
  for (;;) {
    std::string_view line;
    switch (lines_.NextLine(&line)) {
      case LineSplitter::Next::kNeedMore:
        return;
      case LineSplitter::Next::kTooLong:
        if (!OnProtocolError("a line over the " + std::to_string(options_.json_limits.max_bytes) +
                                 "-byte bound",
                             std::nullopt)) {
          return;
        }
        break;
      case LineSplitter::Next::kLine:
        // `line` points into lines_, which HandleLine may destroy along with the client.
        if (!HandleLine(line)) return;
        break;
    }
  }
}

bool QmpClient::OnProtocolError(std::string reason, std::optional<int64_t> id) {
  if (state_ != State::kReady) {
    Teardown(MakeError(kProtocol, "QMP protocol error: " + reason),
             Notify::kListener);
    return false;
  }
  ++stats_.dropped_lines;
  g_warning("QMP protocol error, line dropped (%" G_GUINT64_FORMAT " so far): %s",
            static_cast<guint64>(stats_.dropped_lines), reason.c_str());
  auto it = id ? pending_.find(*id) : pending_.end();
  if (it == pending_.end()) return true;
  const Liveness::Token alive = alive_.token();
  const std::string command = it->second.command;
  HandleReply(id, MakeError(kProtocol, "QMP protocol error in the reply to " + command + ": " + reason));
  return !alive.Expired() && state_ != State::kClosed;
}

bool QmpClient::HandleLine(std::string_view line) {
  const Liveness::Token alive = alive_.token();
  Message message = ClassifyLine(line, options_.json_limits);

  if (auto* greeting = std::get_if<Greeting>(&message)) {
    if (state_ != State::kAwaitingGreeting) return OnProtocolError("a second greeting", std::nullopt);
    HandleGreeting(std::move(*greeting));
  } else if (auto* malformed = std::get_if<Malformed>(&message)) {
    return OnProtocolError(std::move(malformed->reason), malformed->id);
  } else if (state_ == State::kAwaitingGreeting) {
    Teardown(
        MakeError(kProtocol, "QMP protocol error: a message before the greeting"),
        Notify::kListener);
  } else if (auto* ret = std::get_if<Return>(&message)) {
    // A command that returns nothing still has a value: JSON null (CommandResult).
    JsonNodePtr value = ret->value ? std::move(ret->value) : JsonNodePtr(json_node_new(JSON_NODE_NULL));
    HandleReply(ret->id, std::move(value));
  } else if (auto* error = std::get_if<Error>(&message)) {
    if (!error->id) {
      // QEMU answers a command it could not parse with an error that has no id; ours are
      // always well formed, so this cannot be matched to one of them.
      g_warning("QMP error without an id: %s: %s", error->error_class.c_str(), error->desc.c_str());
    } else {
      HandleReply(error->id, MakeError(kCommandError, error->error_class + ": " + error->desc));
    }
  } else if (auto* event = std::get_if<Event>(&message)) {
    if (listener_.on_event) {
      const auto on_event = listener_.on_event;  // the listener may be replaced from inside
      on_event(event->name, *event->data, event->timestamp);
    }
  }
  return !alive.Expired() && state_ != State::kClosed;
}

void QmpClient::HandleGreeting(Greeting greeting) {
  greeting_ = std::move(greeting);
  state_ = State::kNegotiating;
  // No "enable": memhp does not use out-of-band execution.
  SendCommand("qmp_capabilities", nullptr, std::chrono::milliseconds(0),
              [this](CommandResult result) { OnNegotiated(std::move(result)); });
}

void QmpClient::OnNegotiated(CommandResult result) {
  if (state_ == State::kClosed) return;  // Teardown is failing us; it tells connect_done_
  if (!result.ok()) {
    memhp::Error e = std::move(result).error();
    e.message = "qmp_capabilities failed: " + e.message;
    Teardown(std::move(e), Notify::kListener);
    return;
  }
  // QEMU answers qmp_capabilities with {"return": {}} (qapi/control.json: it returns
  // nothing); anything else is not a QEMU that negotiated.
  const JsonObject* value = AsObject(result->get());
  if (value == nullptr || json_object_get_size(const_cast<JsonObject*>(value)) != 0) {
    Teardown(MakeError(kProtocol,
                       "QMP protocol error: qmp_capabilities answered " +
                           std::string(json_node_type_name(result->get())) + " " +
                           Abbreviated(ToJson(result->get())) + ", not {}"),
             Notify::kListener);
    return;
  }
  state_ = State::kReady;
  DestroySource(connect_timer_);
  ConnectCallback done = std::move(connect_done_);
  connect_done_ = nullptr;
  if (done) done(OkStatus());
}

void QmpClient::HandleReply(std::optional<int64_t> id, CommandResult result) {
  auto it = id ? pending_.find(*id) : pending_.end();
  if (it == pending_.end()) {
    ++stats_.unknown_replies;
    g_message("dropping a QMP reply to unknown id %s (%" G_GUINT64_FORMAT " so far)",
              id ? std::to_string(*id).c_str() : "(none or not an integer)",
              static_cast<guint64>(stats_.unknown_replies));
    return;
  }
  Pending pending = std::move(it->second);
  pending_.erase(it);
  DestroySource(pending.timer);
  pending.done(std::move(result));
}

void QmpClient::OnCommandTimeout(int64_t id) {
  auto it = pending_.find(id);
  if (it == pending_.end()) return;
  Pending pending = std::move(it->second);
  pending_.erase(it);
  // This runs from the timer's own dispatch: drop our reference, GLib removes the source.
  g_source_unref(pending.timer);
  pending.timer = nullptr;
  std::string why = "no QMP reply to " + pending.command + " (id " + std::to_string(id) +
                    ") within " + std::to_string(pending.timeout.count()) + " ms";
  if (const uint64_t k = stats_.unknown_replies - pending.stats_at_send.unknown_replies) {
    why += "; meanwhile QEMU sent " + std::to_string(k) + " replies with ids memhp did not send " +
           "or had given up on";
  }
  if (const uint64_t k = stats_.dropped_lines - pending.stats_at_send.dropped_lines) {
    why += "; meanwhile " + std::to_string(k) + " lines from QEMU were dropped as protocol errors";
  }
  pending.done(MakeError(kTimeout, std::move(why)));
}

void QmpClient::Close() {
  Teardown(MakeError(kDisconnected, "QMP connection closed by its owner"),
           Notify::kQuiet);
}

void QmpClient::Teardown(memhp::Error why, Notify notify) {
  if (state_ == State::kClosed) return;
  const bool was_ready = state_ == State::kReady;
  state_ = State::kClosed;
  DestroySource(io_source_);
  DestroySource(out_source_);
  DestroySource(connect_timer_);
  DestroySource(retry_timer_);
  fd_.Reset();
  lines_.Clear();
  out_.clear();
  if (was_ready) g_debug("QMP disconnected: %s", why.message.c_str());

  std::map<int64_t, Pending> pending;
  pending.swap(pending_);
  ConnectCallback connect_done = std::move(connect_done_);
  connect_done_ = nullptr;
  for (auto& [id, p] : pending) DestroySource(p.timer);

  const Liveness::Token alive = alive_.token();
  for (auto& [id, p] : pending) {
    // The system call's errno when the connection failed; ENOTCONN when it ended otherwise
    // (a handshake timeout or protocol error fails only the handshake's own command).
    p.done(MakeError(kDisconnected, "no QMP reply to " + p.command + ": " + why.message,
                     why.code == kDisconnected ? why.errno_value : 0));
    if (alive.Expired()) return;
  }
  if (connect_done) {
    connect_done(std::move(why));
    return;
  }
  if (was_ready && notify == Notify::kListener && listener_.on_disconnected) {
    const auto on_disconnected = listener_.on_disconnected;
    on_disconnected(why.message);
  }
}

void QmpClient::Post(std::function<void()> task) {
  GSource* source = g_idle_source_new();
  auto* posted = new PostedTask{&posted_, source, std::move(task)};
  g_source_set_callback(
      source,
      [](gpointer data) -> gboolean {
        auto* p = static_cast<PostedTask*>(data);
        // Unregister first: the task may destroy the client, and with it the registry.
        p->registry->erase(p->source);
        p->registry = nullptr;
        p->task();
        return G_SOURCE_REMOVE;
      },
      posted,
      [](gpointer data) {
        auto* p = static_cast<PostedTask*>(data);
        if (p->registry != nullptr) p->registry->erase(p->source);
        delete p;
      });
  posted_.insert(source);
  g_source_attach(source, context_);
  g_source_unref(source);  // the context owns it; posted_ only names it until it runs
}

GSource* QmpClient::AttachFdSource(GIOCondition condition,
                                   gboolean (*callback)(gint, GIOCondition, gpointer)) {
  GSource* source = g_unix_fd_source_new(fd_.get(), condition);
  g_source_set_callback(source, G_SOURCE_FUNC(callback), this, nullptr);
  g_source_attach(source, context_);
  return source;
}

void QmpClient::DestroySource(GSource*& source) {
  if (source == nullptr) return;
  g_source_destroy(source);
  g_source_unref(source);
  source = nullptr;
}

}  // namespace memhp::qmp
