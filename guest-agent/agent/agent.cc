// memhp-agent — Agent (see agent.h).
#include "agent/agent.h"

#include <utility>

namespace memhp::agent {
Agent::Agent(RequestHandler& handler, EventReporter& reporter, ChannelOpener opener,
             GMainContext* context, BackoffPolicy backoff)
    : handler_(handler),
      reporter_(reporter),
      link_(std::move(opener), context,
            HostLinkCallbacks{
                .on_connected = [this] { OnConnected(); },
                .on_message = [this](memhp::v1::AgentEnvelope e) { OnMessage(std::move(e)); },
                .on_disconnected = [this] { host_said_hello_ = false; },
            },
            backoff) {
  reporter_.SetTransport([this](const memhp::v1::AgentEnvelope& envelope) {
    return link_.connected() ? link_.Send(envelope) : wire::SendStatus::kClosed;
  });
}

void Agent::SendOrLog(const memhp::v1::AgentEnvelope& envelope, const char* what) {
  const wire::SendStatus status = link_.Send(envelope);
  if (status != wire::SendStatus::kQueued) {
    g_warning("could not send %s to the host: %s", what, wire::SendStatusName(status));
  }
}

void Agent::OnConnected() {
  memhp::v1::AgentEnvelope envelope;
  auto* request = envelope.mutable_request();
  pending_hello_id_ = next_request_id_++;
  request->set_id(pending_hello_id_);
  *request->mutable_hello() = handler_.MakeHello();
  SendOrLog(envelope, "hello");
  // What the previous host did not acknowledge first, then where things stand now.
  reporter_.ReplayUnacknowledged();
  SendInventoryEvent();
}

void Agent::SendInventoryEvent() {
  Result<memhp::v1::Inventory> inventory = handler_.ReadInventory();
  if (!inventory.ok()) {
    g_warning("inventory not sent: %s", inventory.error().message.c_str());
    return;
  }
  memhp::v1::AgentEvent event;
  *event.mutable_inventory_changed() = std::move(inventory).value();
  reporter_.Report(std::move(event));
  ++stats_.events_sent;
}

void Agent::OnMessage(memhp::v1::AgentEnvelope envelope) {
  switch (envelope.kind_case()) {
    case memhp::v1::AgentEnvelope::kRequest: {
      ++stats_.requests;
      const bool is_hello = envelope.request().has_hello();
      memhp::v1::AgentEnvelope reply;
      *reply.mutable_response() = handler_.Handle(envelope.request());
      SendOrLog(reply, "response");
      if (is_hello && !reply.response().has_error()) {
        // The host (re)introduced itself: it is alive, and it wants a fresh picture.
        host_said_hello_ = true;
        link_.ResetBackoff();
      }
      return;
    }
    case memhp::v1::AgentEnvelope::kResponse: {
      const auto& response = envelope.response();
      if (response.id() == 0 || response.id() != pending_hello_id_) {
        // Answers to unknown ids are dropped (docs/architecture.md, "The wires").
        ++stats_.dropped_responses;
        return;
      }
      pending_hello_id_ = 0;
      if (response.has_error()) {
        g_warning("host refused our hello: %s", response.error().message().c_str());
        return;
      }
      host_said_hello_ = true;
      link_.ResetBackoff();
      g_message("host said hello (memhp %s)", response.hello().software_version().c_str());
      return;
    }
    case memhp::v1::AgentEnvelope::kAck:
      reporter_.Ack(envelope.ack().seq());
      stats_.acked_seq = reporter_.log().stats().acked_seq;
      return;
    case memhp::v1::AgentEnvelope::kEvent:
    case memhp::v1::AgentEnvelope::KIND_NOT_SET:
      ++stats_.dropped_responses;
      return;
  }
}

}  // namespace memhp::agent
