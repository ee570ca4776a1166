// memhp-agent — Agent: the daemon's core, tying the host channel to the request handler.
//
// On every (re)connection the agent introduces itself (a hello request carrying the guest's
// kernel release, page size, block size and nodes) and then sends its inventory as an event,
// so a host that connects late, or an agent that restarted, is in step at once. Requests from
// the host are answered in arrival order from the one main loop: one operation at a time in
// the agent (S18/S21), and the agent never waits on the host while it handles one (S19's
// lesson applied to memhp's lock order: host operation -> agent operation, never inverted).
#pragma once

#include <glib.h>

#include <cstdint>

#include "agent/event_reporter.h"
#include "agent/host_link.h"
#include "agent/request_handler.h"
#include "wire/pending_requests.h"

namespace memhp::agent {

struct AgentStats {
  uint64_t requests = 0;
  uint64_t events_sent = 0;
  uint64_t acked_seq = 0;
  uint64_t dropped_responses = 0;  // answers to ids we never asked, or arrived twice
};

class Agent {
 public:
  // Events reach the host through `reporter`, whose transport the Agent installs.
  Agent(RequestHandler& handler, EventReporter& reporter, ChannelOpener opener,
        GMainContext* context, BackoffPolicy backoff = {});

  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  void Start() { link_.Start(); }
  [[nodiscard]] const AgentStats& stats() const { return stats_; }
  [[nodiscard]] const HostLink& link() const { return link_; }
  [[nodiscard]] bool host_said_hello() const { return host_said_hello_; }

 private:
  void OnConnected();
  void OnDisconnected();
  void OnMessage(memhp::v1::AgentEnvelope envelope);
  void SendInventoryEvent();
  void SendOrLog(const memhp::v1::AgentEnvelope& envelope, const char* what);
  void OnHostHello(Result<memhp::v1::AgentResponse> reply);

  RequestHandler& handler_;
  EventReporter& reporter_;
  HostLink link_;
  // Our hello, the one request the agent sends; it waits as long as the channel stays open.
  wire::PendingRequests<memhp::v1::AgentResponse> requests_;
  bool host_said_hello_ = false;
  AgentStats stats_;
};

}  // namespace memhp::agent
