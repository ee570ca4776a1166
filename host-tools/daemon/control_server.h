// memhpd — ControlServer: the VM's control socket, serving any number of clients at once.
//
// QEMU's QMP and chardev sockets take one client each, so memhpd owns them and offers this
// socket instead (DESIGN.md, "The parts"): memhpctl, scripts and tests connect here, a `watch`
// beside a `plug` beside a `status`. Each client is a framed stream of ControlEnvelopes. The
// server parses, checks the id, and hands each request to the handler with a Reply function
// that stays safe to call after the client has gone (the answer is then dropped). A client that
// sends something that is not a ControlEnvelope request is answered MALFORMED with id 0 (no id
// can be trusted from it) and counted; it is never allowed to grow memhpd's memory past the
// frame and queue bounds.
#pragma once

#include <glib.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "memhp/v1/control.pb.h"
#include "wire/framed_stream.h"

namespace memhp::daemon {

// Sends the answer to one request; a no-op once the client has disconnected.
using ControlReply = std::function<void(memhp::v1::ControlResponse)>;
using ControlHandler = std::function<void(const memhp::v1::ControlRequest&, ControlReply)>;

inline constexpr size_t kMaxControlClients = 64;

class ControlServer {
 public:
  ControlServer(GMainContext* context, ControlHandler handler);
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  // Binds and listens on `path` (a stale socket file from a dead memhpd is replaced).
  // Returns an errno-style message on failure, "" on success.
  [[nodiscard]] std::string Listen(const std::string& path);

  [[nodiscard]] size_t client_count() const { return clients_.size(); }
  [[nodiscard]] uint64_t malformed_count() const { return malformed_; }

 private:
  void Accept();
  void OnFrame(uint64_t client, std::string payload);
  void Drop(uint64_t client);
  void SendTo(uint64_t client, const memhp::v1::ControlResponse& response);

  GMainContext* context_;
  ControlHandler handler_;
  int listen_fd_ = -1;
  std::string path_;
  GSource* accept_source_ = nullptr;
  uint64_t next_client_ = 1;
  std::map<uint64_t, std::unique_ptr<wire::FramedStream>> clients_;
  uint64_t malformed_ = 0;
  // Expires when the server is destroyed, so Reply functions held elsewhere become no-ops.
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace memhp::daemon
