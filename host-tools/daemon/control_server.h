// memhpd — ControlServer: the VM's control socket, serving any number of clients at once.
//
// QEMU's QMP and chardev sockets take one client each, so memhpd owns them and offers this
// socket instead (docs/architecture.md, "The parts"): memhpctl, scripts and tests connect here,
// a `watch` beside a `plug` beside a `status`. Each client is a framed stream of
// ControlEnvelopes. The server parses, checks the id, and hands each request to the handler
// with a Reply function that stays safe to call after the client has gone (the answer is then
// dropped). A client that sends something that is not a ControlEnvelope request is answered
// MALFORMED with id 0 (no id can be trusted from it) and counted; it is never allowed to grow
// memhpd's memory past the frame and queue bounds.
#pragma once

#include <glib.h>

#include "base/result.h"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <type_traits>

#include "base/liveness.h"
#include "base/unique_fd.h"
#include "memhp/v1/control.pb.h"
#include "wire/framed_stream.h"

namespace memhp::daemon {

// What a long-lived answer (a watch) may learn of the client it answers.
struct ControlPeer {
  bool connected = false;   // false once the client disconnected (or was disconnected)
  size_t unsent_bytes = 0;  // answers queued for the client that it has not read yet
};

// Sends the answer to one request; a no-op once the client has disconnected. Replies made by
// the ControlServer can also say whether their client is still there and how far behind it is
// (peer()), so a watch can stop feeding a client that left or does not read. A reply made from
// any other callable (tests, internal use) has no client to ask: peer() says connected, 0 unsent.
class ControlReply {
 public:
  using SendFn = std::function<void(memhp::v1::ControlResponse)>;
  using PeerFn = std::function<ControlPeer()>;

  ControlReply() = default;
  template <typename F,
            typename = std::enable_if_t<!std::is_same_v<std::decay_t<F>, ControlReply> &&
                                        std::is_invocable_v<F&, memhp::v1::ControlResponse>>>
  ControlReply(F send) : send_(std::move(send)) {}  // NOLINT: implicit, as std::function was
  ControlReply(SendFn send, PeerFn peer) : send_(std::move(send)), peer_(std::move(peer)) {}

  void operator()(memhp::v1::ControlResponse response) const {
    if (send_) send_(std::move(response));
  }
  [[nodiscard]] ControlPeer peer() const { return peer_ ? peer_() : ControlPeer{true, 0}; }
  explicit operator bool() const { return static_cast<bool>(send_); }

 private:
  SendFn send_;
  PeerFn peer_;
};
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
  [[nodiscard]] Status Listen(const std::string& path);

  [[nodiscard]] size_t client_count() const { return clients_.size(); }
  [[nodiscard]] uint64_t malformed_count() const { return malformed_; }

 private:
  void Accept();
  void OnFrame(uint64_t client, std::string payload);
  void Drop(uint64_t client);
  void SendTo(uint64_t client, const memhp::v1::ControlResponse& response);

  GMainContext* context_;
  ControlHandler handler_;
  UniqueFd listen_fd_;
  std::string path_;
  GSource* accept_source_ = nullptr;
  uint64_t next_client_ = 1;
  std::map<uint64_t, std::unique_ptr<wire::FramedStream>> clients_;
  uint64_t malformed_ = 0;
  // Expires when the server is destroyed, so Reply functions held elsewhere become no-ops.
  Liveness alive_;
};

}  // namespace memhp::daemon
