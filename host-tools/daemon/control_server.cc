// memhpd — ControlServer (see control_server.h).
#include "daemon/control_server.h"

#include <glib-unix.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace memhp::daemon {

ControlServer::ControlServer(GMainContext* context, ControlHandler handler)
    : context_(context), handler_(std::move(handler)) {}

ControlServer::~ControlServer() {
  if (accept_source_) {
    g_source_destroy(accept_source_);
    g_source_unref(accept_source_);
  }
  clients_.clear();
  if (listen_fd_.valid()) {
    listen_fd_.Reset();
    unlink(path_.c_str());
  }
}

Status ControlServer::Listen(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) return Error{ENAMETOOLONG, "control socket path too long: " + path};
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd.valid()) return Error{errno, std::string("socket: ") + g_strerror(errno)};
  unlink(path.c_str());  // memhpd.pid guards against a live twin; this is a dead one's file
  if (bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0 ||
      chmod(path.c_str(), 0600) != 0 || listen(fd.get(), 16) != 0) {
    const int err = errno;
    return Error{err, "bind/listen " + path + ": " + g_strerror(err)};
  }
  listen_fd_ = std::move(fd);
  path_ = path;
  accept_source_ = g_unix_fd_source_new(listen_fd_.get(), G_IO_IN);
  g_source_set_callback(
      accept_source_,
      G_SOURCE_FUNC(+[](gint, GIOCondition, gpointer self) -> gboolean {
        static_cast<ControlServer*>(self)->Accept();
        return G_SOURCE_CONTINUE;
      }),
      this, nullptr);
  g_source_attach(accept_source_, context_);
  return OkStatus();
}

void ControlServer::Accept() {
  for (;;) {
    UniqueFd fd(accept4(listen_fd_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
    if (!fd.valid()) {
      if (errno != EAGAIN && errno != EINTR) g_warning("control accept: %s", g_strerror(errno));
      return;
    }
    if (clients_.size() >= kMaxControlClients) {
      g_warning("control socket: refusing a client, %zu already connected", clients_.size());
      continue;  // `fd` closes it
    }
    const uint64_t id = next_client_++;
    clients_[id] = std::make_unique<wire::FramedStream>(
        fd.Release(), context_,
        wire::FramedStreamCallbacks{
            .on_frame = [this, id](std::string payload) { OnFrame(id, std::move(payload)); },
            .on_closed = [this, id](wire::CloseReason, int) { Drop(id); },
            .on_drained = nullptr,
        });
  }
}

void ControlServer::Drop(uint64_t client) { clients_.erase(client); }

void ControlServer::SendTo(uint64_t client, const memhp::v1::ControlResponse& response) {
  auto it = clients_.find(client);
  if (it == clients_.end()) return;  // the client left before its answer was ready
  memhp::v1::ControlEnvelope envelope;
  *envelope.mutable_response() = response;
  const wire::SendStatus status = it->second->SendMessage(envelope);
  if (status != wire::SendStatus::kQueued) {
    // A client that does not read its answers is not allowed to grow our queue.
    g_warning("control client %llu: %s; disconnecting it",
              static_cast<unsigned long long>(client), wire::SendStatusName(status));
    clients_.erase(it);
  }
}

void ControlServer::OnFrame(uint64_t client, std::string payload) {
  memhp::v1::ControlEnvelope envelope;
  if (!envelope.ParseFromString(payload) || !envelope.has_request()) {
    ++malformed_;
    memhp::v1::ControlResponse response;
    response.mutable_error()->set_code(memhp::v1::ERROR_CODE_MALFORMED);
    response.mutable_error()->set_message("not a ControlEnvelope carrying a request");
    SendTo(client, response);
    return;
  }
  const memhp::v1::ControlRequest& request = envelope.request();
  if (request.id() == 0 || request.op_case() == memhp::v1::ControlRequest::OP_NOT_SET) {
    memhp::v1::ControlResponse response;
    response.set_id(request.id());
    response.mutable_error()->set_code(request.id() == 0 ? memhp::v1::ERROR_CODE_MALFORMED
                                                         : memhp::v1::ERROR_CODE_UNSUPPORTED);
    response.mutable_error()->set_message(request.id() == 0 ? "request without an id"
                                                            : "unknown request kind");
    SendTo(client, response);
    return;
  }
  const Liveness::Token alive = alive_.token();
  const uint64_t id = request.id();
  handler_(request, ControlReply(
                        [this, alive, client, id](memhp::v1::ControlResponse response) {
                          if (alive.Expired()) return;
                          response.set_id(id);
                          SendTo(client, response);
                        },
                        [this, alive, client]() -> ControlPeer {
                          if (alive.Expired()) return {};
                          auto it = clients_.find(client);
                          if (it == clients_.end() || !it->second->is_open()) return {};
                          return {true, it->second->queued_bytes()};
                        }));
}

}  // namespace memhp::daemon
