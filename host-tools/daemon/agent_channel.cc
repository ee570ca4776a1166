// memhpd — AgentChannel (see agent_channel.h).
#include "daemon/agent_channel.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "memhp_config.h"
#include "wire/unix_connect.h"

namespace memhp::daemon {

namespace {

// A lost or refused socket is tried again after 100 ms, doubling up to 2 s.
constexpr wire::Backoff kReconnect{.initial_ms = 100, .max_ms = 2000};

uint64_t NowUnixNs() { return static_cast<uint64_t>(g_get_real_time()) * 1000; }

// A one-shot delay as a RetryTimer policy (never less than 1 ms).
wire::Backoff Fixed(std::chrono::milliseconds delay) {
  const auto ms = static_cast<uint32_t>(std::max<int64_t>(1, delay.count()));
  return wire::Backoff{.initial_ms = ms, .max_ms = ms};
}

}  // namespace

AgentConnector UnixSocketConnector(std::string socket_path) {
  return [socket_path = std::move(socket_path)]() -> Result<UniqueFd> {
    const int fd = wire::ConnectUnix(socket_path);
    if (fd < 0) return Error{-fd, "connect " + socket_path + ": " + g_strerror(-fd)};
    return UniqueFd(fd);
  };
}

AgentChannel::AgentChannel(std::string socket_path, GMainContext* context,
                           AgentChannelListener listener, AgentChannelTimeouts timeouts)
    : AgentChannel(UnixSocketConnector(std::move(socket_path)), context, std::move(listener), timeouts) {}

AgentChannel::AgentChannel(AgentConnector connector, GMainContext* context,
                           AgentChannelListener listener, AgentChannelTimeouts timeouts)
    : connector_(std::move(connector)),
      context_(context),
      listener_(std::move(listener)),
      reconnect_timer_(context, kReconnect, [this] { TryConnect(); }),
      hello_timer_(context, Fixed(timeouts.hello), [this] { OnHelloOverdue(); }),
      hangup_timer_(context, Fixed(timeouts.hangup_gap), [this] { TryConnect(); }),
      pending_(context, "the agent") {}

AgentChannel::~AgentChannel() = default;

void AgentChannel::Start() { TryConnect(); }

memhp::v1::Hello AgentChannel::HostHello() const {
  memhp::v1::Hello hello;
  hello.set_role(memhp::v1::PEER_ROLE_HOST);
  hello.set_protocol(memhp::v1::AGENT_PROTOCOL_V1);
  hello.set_software_version(MEMHP_VERSION);
  hello.add_capabilities("ping");
  hello.add_capabilities("inventory");
  return hello;
}

void AgentChannel::TryConnect() {
  Result<UniqueFd> connected = connector_();
  if (!connected.ok()) {
    std::string why = connected.error().message;
    if (why != last_connect_error_) g_message("agent channel: %s (retrying)", why.c_str());
    last_connect_error_ = std::move(why);
    ScheduleReconnect();
    return;
  }
  last_connect_error_.clear();
  reconnect_timer_.Reset();
  ++stats_.connects;
  stream_ = std::make_unique<wire::FramedStream>(
      connected->Release(), context_,
      wire::FramedStreamCallbacks{
          .on_frame = [this](std::string payload) { OnFrame(std::move(payload)); },
          .on_closed = [this](wire::CloseReason reason, int error) { OnClosed(reason, error); },
          .on_drained = nullptr,
      });
  hello_timer_.Schedule();
  memhp::v1::AgentEnvelope envelope;
  const uint64_t id = pending_.NextId();
  envelope.mutable_request()->set_id(id);
  *envelope.mutable_request()->mutable_hello() = HostHello();
  // Send logged a failure; the agent's own hello (it says one whenever it opens its port)
  // still connects us.
  if (!Send(envelope)) return;
  hello_request_id_ = id;
  pending_.Wait(id, wire::kUntilClosed, [this](AgentReply reply) { OnHelloAnswer(std::move(reply)); });
}

void AgentChannel::OnHelloAnswer(AgentReply reply) {
  hello_request_id_ = 0;
  if (!reply.ok()) return;  // the stream closed first; the next connect says hello again
  const memhp::v1::AgentResponse& response = reply.value();
  if (!response.has_hello() || response.hello().role() != memhp::v1::PEER_ROLE_AGENT ||
      response.hello().protocol() != memhp::v1::AGENT_PROTOCOL_V1) {
    g_warning("agent refused our hello: %s", response.error().message().c_str());
    return;
  }
  if (Status claims = CheckHello(response.hello(), limits_); !claims.ok()) {
    Violation("hello refused: " + claims.error().message);
    return;
  }
  OnAgentHello(response.hello());
}

void AgentChannel::OnHelloOverdue() {
  if (!stream_ || hello_) return;
  ++stats_.hello_timeouts;
  // Once per silence, not once per retry: a guest without an agent stays silent for good.
  if (!hello_timeout_logged_) {
    g_message("agent channel: no hello on the stream; hanging up so that the guest sees it and the agent "
              "reopens its port (retrying quietly)");
    hello_timeout_logged_ = true;
  }
  stream_.reset();
  pending_.FailAll(memhp::v1::ERROR_CODE_UNAVAILABLE, "the agent did not say hello");
  hangup_timer_.Schedule();
}

void AgentChannel::ScheduleReconnect() { reconnect_timer_.Schedule(); }

bool AgentChannel::Send(const memhp::v1::AgentEnvelope& envelope) {
  if (!stream_) return false;
  const wire::SendStatus status = stream_->SendMessage(envelope);
  if (status != wire::SendStatus::kQueued) {
    g_warning("agent channel: send failed: %s", wire::SendStatusName(status));
    return false;
  }
  return true;
}

void AgentChannel::Request(memhp::v1::AgentRequest request, std::chrono::milliseconds timeout,
                           AgentReplyCallback done) {
  if (!agent_connected()) {
    done(NoReply(memhp::v1::ERROR_CODE_UNAVAILABLE, "the agent is not connected"));
    return;
  }
  const uint64_t id = pending_.NextId();
  request.set_id(id);
  memhp::v1::AgentEnvelope envelope;
  *envelope.mutable_request() = std::move(request);
  if (!Send(envelope)) {
    done(NoReply(memhp::v1::ERROR_CODE_UNAVAILABLE, "could not send to the agent"));
    return;
  }
  pending_.Wait(id, timeout, std::move(done));
}

void AgentChannel::OnAgentHello(const memhp::v1::Hello& hello) {
  hello_timer_.Cancel();
  hello_timeout_logged_ = false;
  hello_ = hello;
  policy_.reset();
  if (!hello.policy().empty()) {
    policy_.emplace();
    policy_->set_policy(hello.policy());
    policy_->set_movable_ratio_percent(hello.movable_ratio_percent());
  }
  if (hello.agent_pid() != agent_pid_) {
    agent_pid_ = hello.agent_pid();
    last_seq_ = 0;  // a new agent process numbers its events from 1
  }
  g_message("agent said hello: memhp %s, kernel %s, pid %llu", hello.software_version().c_str(),
            hello.guest().kernel_release().c_str(),
            static_cast<unsigned long long>(hello.agent_pid()));
  if (listener_.on_hello) listener_.on_hello(hello);
}

void AgentChannel::OnFrame(std::string payload) {
  memhp::v1::AgentEnvelope envelope;
  if (!envelope.ParseFromString(payload)) {
    ++stats_.malformed;
    g_warning("agent channel: dropped a malformed envelope (%zu bytes)", payload.size());
    return;
  }
  // Unknown fields would ride along in what memhpd keeps (recent events, the inventory).
  envelope.DiscardUnknownFields();
  last_seen_unix_ns_ = NowUnixNs();
  switch (envelope.kind_case()) {
    case memhp::v1::AgentEnvelope::kRequest: {
      const auto& request = envelope.request();
      memhp::v1::AgentEnvelope reply;
      auto* response = reply.mutable_response();
      response->set_id(request.id());
      if (request.has_hello() && request.hello().role() == memhp::v1::PEER_ROLE_AGENT &&
          request.hello().protocol() == memhp::v1::AGENT_PROTOCOL_V1) {
        if (Status claims = CheckHello(request.hello(), limits_); !claims.ok()) {
          response->mutable_error()->set_code(memhp::v1::ERROR_CODE_INVALID_ARGUMENT);
          response->mutable_error()->set_message("hello refused: " + claims.error().message);
          if (!Send(reply)) g_warning("agent channel: the hello refusal was not sent");
          Violation(claims.error().message);
          return;
        }
        *response->mutable_hello() = HostHello();
        if (!Send(reply)) return;  // Send logged it; the agent says hello again on reconnect
        OnAgentHello(request.hello());
        return;
      }
      response->mutable_error()->set_code(memhp::v1::ERROR_CODE_UNSUPPORTED);
      response->mutable_error()->set_message(request.has_hello()
                                                 ? "hello refused: expected an agent speaking protocol 1"
                                                 : "the host serves no requests from the agent");
      if (!Send(reply)) g_warning("agent channel: the refusal was not sent");
      return;
    }
    case memhp::v1::AgentEnvelope::kResponse: {
      const auto& response = envelope.response();
      if (!pending_.Waiting(response.id())) {
        // Answers to unknown ids are dropped (docs/architecture.md, "The wires").
        ++stats_.dropped_replies;
        return;
      }
      if (response.id() == hello_request_id_) {
        // The hello's waiter checks the agent's hello against the guest rules itself.
        pending_.Finish(response.id(), AgentReply(response));
        return;
      }
      if (Status claims = CheckResponse(response, block_size(), limits_); !claims.ok()) {
        Violation("answer refused: " + claims.error().message);
        pending_.Finish(response.id(), NoReply(memhp::v1::ERROR_CODE_MALFORMED,
                                               "the agent's answer broke the protocol: " + claims.error().message));
        return;
      }
      if (response.has_policy()) policy_ = response.policy();
      pending_.Finish(response.id(), AgentReply(response));
      return;
    }
    case memhp::v1::AgentEnvelope::kEvent: {
      const auto& event = envelope.event();
      ++stats_.events;
      memhp::v1::AgentEnvelope ack;
      ack.mutable_ack()->set_seq(event.seq());
      if (event.seq() != 0 && event.seq() <= last_seq_) {
        ++stats_.duplicates;  // replayed after a reconnect, but we had it: acknowledge again
        if (!Send(ack)) g_warning("agent channel: ack %llu not sent", static_cast<unsigned long long>(event.seq()));
        return;
      }
      last_seq_ = event.seq();
      if (Status claims = CheckEvent(event, block_size(), limits_); !claims.ok()) {
        // Acknowledged all the same: the agent must not replay it forever; it is simply not
        // believed. The next inventory the agent sends puts the host in step again.
        if (!Send(ack)) g_warning("agent channel: ack %llu not sent", static_cast<unsigned long long>(event.seq()));
        ++stats_.refused_events;
        Violation("event " + std::to_string(event.seq()) + " refused: " + claims.error().message);
        return;
      }
      if (event.has_inventory_changed()) inventory_ = event.inventory_changed();
      // Only the trigger's events: a zone report's reading (cause REQUEST) would hide the last
      // episode (STALLED, RECOVERED) that status is there to show.
      if (event.has_pressure()) pressure_ = event.pressure();
      if (event.has_gap()) {
        ++stats_.gaps;
        g_warning("the agent dropped %llu events from seq %llu",
                  static_cast<unsigned long long>(event.gap().count()),
                  static_cast<unsigned long long>(event.gap().first_seq()));
      }
      if (event.has_memory() || event.has_gap()) {
        ++stats_.memory_events;
        recent_.push_back(event);
        recent_bytes_ += event.ByteSizeLong();
        while (recent_.size() > kRecentEvents || recent_bytes_ > kRecentEventBytes) {
          recent_bytes_ -= recent_.front().ByteSizeLong();
          recent_.pop_front();
        }
      }
      if (!Send(ack)) g_warning("agent channel: ack %llu not sent", static_cast<unsigned long long>(event.seq()));
      if (listener_.on_event) listener_.on_event(event);
      return;
    }
    case memhp::v1::AgentEnvelope::kAck:
    case memhp::v1::AgentEnvelope::KIND_NOT_SET:
      ++stats_.malformed;
      return;
  }
}

void AgentChannel::Violation(const std::string& why) {
  ++stats_.violations;
  last_violation_ = why;
  g_warning("agent channel: the guest broke the protocol: %s", why.c_str());
  if (listener_.on_violation) listener_.on_violation(why);
}

void AgentChannel::OnClosed(wire::CloseReason reason, int error) {
  const bool was_connected = agent_connected();
  g_message("agent socket closed: %s%s%s", wire::CloseReasonName(reason), error ? ": " : "",
            error ? g_strerror(error) : "");
  stream_.reset();
  hello_.reset();
  hello_timer_.Cancel();
  pending_.FailAll(memhp::v1::ERROR_CODE_UNAVAILABLE, "the agent channel closed");
  if (was_connected && listener_.on_lost) listener_.on_lost();
  ScheduleReconnect();
}

}  // namespace memhp::daemon
