// memhp-audit — the control side: the audit wire's request handler, and the unix-socket server
// thread that runs it inside QEMU.
//
// AuditService turns one AuditRequest (proto/memhp/v1/audit.proto) into one AuditResponse over
// an AuditCore; it is pure and unit-tested without sockets. A peer's bad request (no id, unknown
// op, a bad range) is answered with an Error, never a crash, and changes nothing.
//
// AuditControlServer listens on a unix socket and serves any number of clients (up to
// kMaxAuditClients) from one thread of its own with its own GMainContext, so it never touches
// QEMU's main loop or takes QEMU's locks: arming only sets flags that the vCPU threads act on
// (memhp_audit.cc). Frames are the memhp framing (proto/wire/framed_stream.h).
#ifndef MEMHP_QEMU_PLUGIN_AUDIT_CONTROL_H_
#define MEMHP_QEMU_PLUGIN_AUDIT_CONTROL_H_

#include <glib.h>

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "audit_core.h"
#include "memhp/v1/audit.pb.h"

namespace memhp::audit {

inline constexpr size_t kMaxAuditClients = 8;
inline constexpr int kMaxAuditRanges = 4096;

// The report as the wire carries it.
[[nodiscard]] memhp::v1::AuditReport ToProto(const Snapshot& snapshot);

class AuditService {
 public:
  // `set_armed` applies an arm/disarm (the plugin: flip the core's flag, schedule a TB flush);
  // both outlive the service.
  AuditService(AuditCore* core, std::function<void(bool armed)> set_armed);

  [[nodiscard]] memhp::v1::AuditResponse Handle(const memhp::v1::AuditRequest& request);
  // A frame that is not an AuditRequest: a MALFORMED answer with id 0.
  [[nodiscard]] static memhp::v1::AuditResponse Malformed();

 private:
  AuditCore* core_;
  std::function<void(bool)> set_armed_;
};

class AuditControlServer {
 public:
  explicit AuditControlServer(AuditService* service);
  ~AuditControlServer();  // Stop()
  AuditControlServer(const AuditControlServer&) = delete;
  AuditControlServer& operator=(const AuditControlServer&) = delete;

  // Binds and listens on `path` (a stale socket file is replaced; mode 0600), then starts the
  // server thread. "" on success, else what failed with errno text.
  [[nodiscard]] std::string Start(const std::string& path);
  // Stops the thread, closes every client and removes the socket file. Idempotent.
  void Stop();

 private:
  struct Loop;  // everything the server thread owns
  std::unique_ptr<Loop> loop_;
  std::thread thread_;
  AuditService* service_;
};

}  // namespace memhp::audit

#endif  // MEMHP_QEMU_PLUGIN_AUDIT_CONTROL_H_
