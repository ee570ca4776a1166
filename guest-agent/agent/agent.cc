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
                .on_disconnected = [this] { OnDisconnected(); },
            },
            backoff),
      requests_(context, "the host") {
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

void Agent::OnDisconnected() {
  host_said_hello_ = false;
  // An answer to this channel's hello can no longer come; the next one says hello again.
  requests_.FailAll(memhp::v1::ERROR_CODE_UNAVAILABLE, "the host channel closed");
}

void Agent::OnConnected() {
  memhp::v1::AgentEnvelope envelope;
  auto* request = envelope.mutable_request();
  const uint64_t id = requests_.NextId();
  request->set_id(id);
  *request->mutable_hello() = handler_.MakeHello();
  if (link_.Send(envelope) == wire::SendStatus::kQueued) {
    requests_.Wait(id, wire::kUntilClosed, [this](Result<memhp::v1::AgentResponse> reply) {
      OnHostHello(std::move(reply));
    });
  } else {
    g_warning("could not send hello to the host (its own hello still introduces it)");
  }
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
      if (envelope.request().has_intent() && !reply.response().has_error()) {
        // After the answer: the operation's start on the guest's clock (agent.proto
        // PlugIntentTaken), in the same event stream as the blocks it will bring.
        memhp::v1::AgentEvent taken;
        taken.mutable_intent_taken()->set_operation_id(envelope.request().intent().operation_id());
        taken.mutable_intent_taken()->set_device_id(envelope.request().intent().device_id());
        reporter_.Report(std::move(taken));
      }
      if (is_hello && !reply.response().has_error()) {
        // The host (re)introduced itself: it is alive, and it wants a fresh picture.
        host_said_hello_ = true;
        link_.ResetBackoff();
      }
      return;
    }
    case memhp::v1::AgentEnvelope::kResponse: {
      const uint64_t id = envelope.response().id();
      if (!requests_.Finish(id, std::move(*envelope.mutable_response()))) {
        // Answers to unknown ids are dropped (docs/architecture.md, "The wires").
        ++stats_.dropped_responses;
      }
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

void Agent::OnHostHello(Result<memhp::v1::AgentResponse> reply) {
  if (!reply.ok()) return;  // the channel closed before the host answered
  const memhp::v1::AgentResponse& response = reply.value();
  if (response.has_error()) {
    g_warning("host refused our hello: %s", response.error().message().c_str());
    return;
  }
  host_said_hello_ = true;
  link_.ResetBackoff();
  g_message("host said hello (memhp %s)", response.hello().software_version().c_str());
}

}  // namespace memhp::agent
