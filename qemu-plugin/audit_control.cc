// memhp-audit — AuditService and AuditControlServer (see audit_control.h).
#include "audit_control.h"

#include <glib-unix.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <map>
#include <utility>
#include <vector>

#include "audit_report.h"
#include "wire/framed_stream.h"

namespace memhp::audit {
namespace {

namespace v1 = memhp::v1;

v1::AuditRangeState ToProto(RangeState state) {
  switch (state) {
    case RangeState::kOnline: return v1::AUDIT_RANGE_STATE_ONLINE;
    case RangeState::kOffline: return v1::AUDIT_RANGE_STATE_OFFLINE;
    case RangeState::kUnplugged: return v1::AUDIT_RANGE_STATE_UNPLUGGED;
  }
  return v1::AUDIT_RANGE_STATE_UNSPECIFIED;
}

std::optional<RangeState> FromProto(v1::AuditRangeState state) {
  switch (state) {
    case v1::AUDIT_RANGE_STATE_ONLINE: return RangeState::kOnline;
    case v1::AUDIT_RANGE_STATE_OFFLINE: return RangeState::kOffline;
    case v1::AUDIT_RANGE_STATE_UNPLUGGED: return RangeState::kUnplugged;
    default: return std::nullopt;
  }
}

v1::AuditResponse Fail(uint64_t id, v1::ErrorCode code, std::string message) {
  v1::AuditResponse response;
  response.set_id(id);
  response.mutable_error()->set_code(code);
  response.mutable_error()->set_message(std::move(message));
  return response;
}

}  // namespace

v1::AuditReport ToProto(const Snapshot& s) {
  v1::AuditReport report;
  report.set_armed(s.armed);
  report.set_block_size(s.block_size);
  report.set_vcpus(s.vcpus);
  for (const BlockReport& b : s.blocks) {
    v1::AuditBlock* out = report.add_blocks();
    out->set_start(b.start);
    out->set_label(b.label);
    out->set_state(ToProto(b.state));
    out->set_reads(b.reads);
    out->set_writes(b.writes);
    out->set_touched(b.first_touch_ns.has_value());
    out->set_first_touch_ns(b.first_touch_ns.value_or(0));
  }
  for (const ViolationReport& v : s.violations) {
    v1::AuditViolation* out = report.add_violations();
    out->set_page(v.page);
    out->set_vcpu(v.vcpu);
    out->set_access(v.access == Access::kWrite ? v1::AUDIT_ACCESS_WRITE : v1::AUDIT_ACCESS_READ);
    out->set_state(ToProto(v.state));
    out->set_label(v.label);
    out->set_count(v.count);
    out->set_first_monotonic_ns(v.first_ns);
    out->set_last_monotonic_ns(v.last_ns);
  }
  report.set_violations_total(s.violations_total);
  report.set_violations_dropped(s.violations_dropped);
  report.set_max_violations(s.max_violations);
  report.set_outside_accesses(s.outside_accesses);
  return report;
}

AuditService::AuditService(AuditCore* core, std::function<void(bool armed)> set_armed)
    : core_(core), set_armed_(std::move(set_armed)) {}

v1::AuditResponse AuditService::Malformed() {
  return Fail(0, v1::ERROR_CODE_MALFORMED, "not an AuditRequest");
}

v1::AuditResponse AuditService::Handle(const v1::AuditRequest& request) {
  const uint64_t id = request.id();
  if (id == 0) return Fail(0, v1::ERROR_CODE_MALFORMED, "request without an id");
  v1::AuditResponse response;
  response.set_id(id);
  switch (request.op_case()) {
    case v1::AuditRequest::kSetRanges: {
      const auto& ranges = request.set_ranges().ranges();
      if (ranges.size() > kMaxAuditRanges) {
        return Fail(id, v1::ERROR_CODE_TOO_LARGE,
                    "more than " + std::to_string(kMaxAuditRanges) + " ranges");
      }
      std::vector<RangeSpec> specs;
      for (int i = 0; i < ranges.size(); ++i) {
        const v1::AuditRange& r = ranges[i];
        const std::optional<RangeState> state = FromProto(r.state());
        if (!state) {
          return Fail(id, v1::ERROR_CODE_INVALID_ARGUMENT,
                      "range " + std::to_string(i) + " (" + r.label() + "): no valid state");
        }
        RangeSpec spec;
        spec.start = r.start();
        spec.size = r.size();
        spec.state = *state;
        spec.label = r.label();
        spec.plugged_at_ns = r.plugged_at_monotonic_ns();
        if (r.has_plugin_start()) spec.plugin_start = r.plugin_start();
        specs.push_back(std::move(spec));
      }
      const std::string error = core_->SetRanges(specs);
      if (!error.empty()) return Fail(id, v1::ERROR_CODE_INVALID_ARGUMENT, error);
      response.set_ranges(static_cast<uint32_t>(core_->range_count()));
      return response;
    }
    case v1::AuditRequest::kArm:
      set_armed_(request.arm().armed());
      response.set_armed(core_->armed());
      return response;
    case v1::AuditRequest::kReport: {
      const Snapshot snapshot = core_->TakeSnapshot();
      *response.mutable_report() = ToProto(snapshot);
      if (request.report().include_json()) response.mutable_report()->set_json(RenderJson(snapshot));
      return response;
    }
    case v1::AuditRequest::OP_NOT_SET:
      break;
  }
  return Fail(id, v1::ERROR_CODE_UNSUPPORTED, "unknown request kind");
}

// Owned by the server thread once it runs; built and torn down around it.
struct AuditControlServer::Loop {
  GMainContext* context = g_main_context_new();
  std::atomic<bool> stop{false};  // set by Stop(), then the context is woken
  int listen_fd = -1;
  std::string path;
  GSource* accept_source = nullptr;
  std::map<uint64_t, std::unique_ptr<wire::FramedStream>> clients;
  uint64_t next_client = 1;
  AuditService* service = nullptr;

  ~Loop() {
    clients.clear();
    if (accept_source) {
      g_source_destroy(accept_source);
      g_source_unref(accept_source);
    }
    if (listen_fd >= 0) {
      close(listen_fd);
      unlink(path.c_str());
    }
    g_main_context_unref(context);
  }

  void Accept() {
    for (;;) {
      const int fd = accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
      if (fd < 0) {
        if (errno != EAGAIN && errno != EINTR) g_warning("memhp-audit accept: %s", g_strerror(errno));
        return;
      }
      if (clients.size() >= kMaxAuditClients) {
        close(fd);  // refused: a client that asks for too much gets nothing from QEMU's memory
        continue;
      }
      const uint64_t id = next_client++;
      clients[id] = std::make_unique<wire::FramedStream>(
          fd, context,
          wire::FramedStreamCallbacks{
              .on_frame = [this, id](std::string payload) { OnFrame(id, payload); },
              .on_closed = [this, id](wire::CloseReason, int) { clients.erase(id); },
              .on_drained = nullptr,
          });
    }
  }

  void OnFrame(uint64_t client, const std::string& payload) {
    v1::AuditRequest request;
    const v1::AuditResponse response = wire::ParseMessage(payload, &request)
                                           ? service->Handle(request)
                                           : AuditService::Malformed();
    auto it = clients.find(client);
    if (it == clients.end()) return;
    wire::SendStatus status = it->second->SendMessage(response);
    if (status == wire::SendStatus::kTooLarge) {
      status = it->second->SendMessage(Fail(response.id(), v1::ERROR_CODE_TOO_LARGE,
                                            "the answer is larger than a frame may be"));
    }
    if (status != wire::SendStatus::kQueued) clients.erase(it);  // a client that does not read
  }
};

AuditControlServer::AuditControlServer(AuditService* service) : service_(service) {}

AuditControlServer::~AuditControlServer() { Stop(); }

std::string AuditControlServer::Start(const std::string& path) {
  if (loop_) return "already started";
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) return "socket path too long: " + path;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return std::string("socket: ") + g_strerror(errno);
  struct stat st {};
  if (lstat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) unlink(path.c_str());  // stale
  if (bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0 ||
      chmod(path.c_str(), 0600) != 0 || listen(fd, 8) != 0) {
    const int err = errno;
    close(fd);
    return "bind/listen " + path + ": " + g_strerror(err);
  }
  auto loop = std::make_unique<Loop>();
  loop->listen_fd = fd;
  loop->path = path;
  loop->service = service_;
  loop->accept_source = g_unix_fd_source_new(fd, G_IO_IN);
  g_source_set_callback(loop->accept_source,
                        G_SOURCE_FUNC(+[](gint, GIOCondition, gpointer self) -> gboolean {
                          static_cast<Loop*>(self)->Accept();
                          return G_SOURCE_CONTINUE;
                        }),
                        loop.get(), nullptr);
  g_source_attach(loop->accept_source, loop->context);
  loop_ = std::move(loop);
  Loop* raw = loop_.get();
  thread_ = std::thread([raw] {
    g_main_context_push_thread_default(raw->context);
    while (!raw->stop.load()) g_main_context_iteration(raw->context, TRUE);
    raw->clients.clear();  // FramedStreams go on the thread that ran their context
    g_main_context_pop_thread_default(raw->context);
  });
  return "";
}

void AuditControlServer::Stop() {
  if (!loop_) return;
  loop_->stop.store(true);
  g_main_context_wakeup(loop_->context);  // thread-safe
  if (thread_.joinable()) thread_.join();
  loop_.reset();
}

}  // namespace memhp::audit
