// memhp-agent — EventReporter: every memory event, numbered, kept until acknowledged, sent.
//
// The agent's host reporter (docs/model.md). It is the TransitionDriver's EventSink rather than
// a handler in the chain: the sink sees each event after the whole chain answered, so a
// CANCEL_* report can name the handler that vetoed, and no handler's answer can keep the host
// from hearing of a transition (S15-S17 apply to the chain, not to the report). Transitions the
// agent did not make (the kernel's hot-add, auto-online, another tool, the virtio-mem driver)
// are reported through ReportObserved with their origin. Events go into the EventLog first,
// then to the host if it is connected; after a reconnect the unacknowledged ones are replayed.
#pragma once

#include <functional>
#include <string>

#include "agent/event_log.h"
#include "memhp/v1/agent.pb.h"
#include "notifier/transition_driver.h"
#include "wire/framed_stream.h"

namespace memhp::agent {

class EventReporter {
 public:
  using Transport = std::function<wire::SendStatus(const memhp::v1::AgentEnvelope&)>;

  explicit EventReporter(EventLog& log) : log_(log) {}

  // How events reach the host; the Agent installs it. Events reported before are kept.
  void SetTransport(Transport transport) { transport_ = std::move(transport); }

  // Logs `event` and sends it (when a transport can take it).
  void Report(memhp::v1::AgentEvent event);
  // The TransitionDriver's EventSink.
  void OnEmitted(const EmittedEvent& emitted, const NotifyContext& ctx);
  // A transition or block change the agent saw but did not make.
  void ReportObserved(memhp::v1::MemoryEventKind kind, uint32_t block, memhp::v1::Zone zone,
                      int node, memhp::v1::EventOrigin origin, std::string detail);
  // A new channel: send what the host has not acknowledged (with an EventGap if any was lost).
  void ReplayUnacknowledged();
  void Ack(uint64_t seq) { log_.Ack(seq); }

  [[nodiscard]] const EventLog& log() const { return log_; }
  // Names the device whose range holds a block (the host's DeviceMap), "" for none; every
  // memory event gets its device_id from it. Unset: device_id stays "".
  void SetDeviceNamer(std::function<std::string(uint32_t block)> namer) { namer_ = std::move(namer); }
  // Told of every memory event of a transition the agent made itself (OnEmitted), after
  // logging — never of one it only observed (ReportObserved), which is no change of ours.
  void SetOwnEventObserver(std::function<void(const memhp::v1::MemoryEvent&)> observer) {
    observer_ = std::move(observer);
  }

 private:
  void Send(const memhp::v1::AgentEvent& event);
  // Names the device, logs, sends; the event as logged (with its seq).
  memhp::v1::AgentEvent LogAndSend(memhp::v1::AgentEvent event);

  EventLog& log_;
  Transport transport_;
  std::function<void(const memhp::v1::MemoryEvent&)> observer_;
  std::function<std::string(uint32_t)> namer_;
};

// The wire's name of a kernel notifier event (S1-S6).
[[nodiscard]] memhp::v1::MemoryEventKind ToWireKind(abi::MemoryEvent event);
[[nodiscard]] memhp::v1::EventOrigin ToWireOrigin(EventOrigin origin);

}  // namespace memhp::agent
