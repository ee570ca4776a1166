// memhp-agent — EventReporter (see event_reporter.h).
#include "agent/event_reporter.h"

#include <glib.h>

#include <utility>

namespace memhp::agent {

memhp::v1::MemoryEventKind ToWireKind(abi::MemoryEvent event) {
  switch (event) {
    case abi::MemoryEvent::kGoingOnline: return memhp::v1::MEMORY_EVENT_KIND_GOING_ONLINE;
    case abi::MemoryEvent::kCancelOnline: return memhp::v1::MEMORY_EVENT_KIND_CANCEL_ONLINE;
    case abi::MemoryEvent::kOnline: return memhp::v1::MEMORY_EVENT_KIND_ONLINE;
    case abi::MemoryEvent::kGoingOffline: return memhp::v1::MEMORY_EVENT_KIND_GOING_OFFLINE;
    case abi::MemoryEvent::kCancelOffline: return memhp::v1::MEMORY_EVENT_KIND_CANCEL_OFFLINE;
    case abi::MemoryEvent::kOffline: return memhp::v1::MEMORY_EVENT_KIND_OFFLINE;
  }
  return memhp::v1::MEMORY_EVENT_KIND_UNSPECIFIED;
}

memhp::v1::EventOrigin ToWireOrigin(EventOrigin origin) {
  switch (origin) {
    case EventOrigin::kHostRequest: return memhp::v1::EVENT_ORIGIN_AGENT_REQUEST;
    case EventOrigin::kPolicy: return memhp::v1::EVENT_ORIGIN_AGENT_POLICY;
    case EventOrigin::kObserved: return memhp::v1::EVENT_ORIGIN_OTHER;
    case EventOrigin::kUnspecified: break;
  }
  return memhp::v1::EVENT_ORIGIN_UNSPECIFIED;
}

void EventReporter::Send(const memhp::v1::AgentEvent& event) {
  if (!transport_) return;  // kept in the log; replayed when a channel opens
  memhp::v1::AgentEnvelope envelope;
  *envelope.mutable_event() = event;
  const wire::SendStatus status = transport_(envelope);
  if (status != wire::SendStatus::kQueued && status != wire::SendStatus::kClosed) {
    g_warning("event %llu not sent now (%s); it stays in the backlog",
              static_cast<unsigned long long>(event.seq()), wire::SendStatusName(status));
  }
}

memhp::v1::AgentEvent EventReporter::LogAndSend(memhp::v1::AgentEvent event) {
  if (event.has_memory() && namer_ && event.memory().device_id().empty()) {
    event.mutable_memory()->set_device_id(namer_(event.memory().block()));
  }
  memhp::v1::AgentEvent stamped = log_.Append(std::move(event));
  Send(stamped);
  return stamped;
}

void EventReporter::Report(memhp::v1::AgentEvent event) { (void)LogAndSend(std::move(event)); }

void EventReporter::OnEmitted(const EmittedEvent& emitted, const NotifyContext& ctx) {
  memhp::v1::AgentEvent event;
  memhp::v1::MemoryEvent* m = event.mutable_memory();
  m->set_kind(ToWireKind(emitted.event));
  m->set_block(ctx.block);
  m->mutable_notify()->set_start_pfn(emitted.notify.start_pfn);
  m->mutable_notify()->set_nr_pages(emitted.notify.nr_pages);
  m->mutable_notify()->set_status_change_nid_normal(emitted.notify.status_change_nid_normal);
  m->mutable_notify()->set_status_change_nid(emitted.notify.status_change_nid);
  m->set_zone(ctx.zone);
  m->set_node(ctx.node);
  m->set_origin(ToWireOrigin(ctx.origin));
  m->set_request_id(ctx.request_id);
  m->set_errno_value(emitted.errno_value);
  if (!emitted.detail.empty()) m->set_detail(emitted.detail);
  if (!emitted.vetoed_by.empty()) {
    m->set_vetoed_by(emitted.vetoed_by);  // CANCEL_*: who caused it
  } else if (emitted.chain.final == NotifyResult::kBad) {
    m->set_vetoed_by(emitted.chain.stopped_by);  // the GOING_* that was vetoed
  }
  const memhp::v1::AgentEvent stamped = LogAndSend(std::move(event));
  // Only here: the agent's own transition. An observed one (ReportObserved) is not ours.
  if (observer_) observer_(stamped.memory());
}

void EventReporter::ReportObserved(memhp::v1::MemoryEventKind kind, uint32_t block,
                                   memhp::v1::Zone zone, int node, memhp::v1::EventOrigin origin,
                                   std::string detail) {
  memhp::v1::AgentEvent event;
  memhp::v1::MemoryEvent* m = event.mutable_memory();
  m->set_kind(kind);
  m->set_block(block);
  m->set_zone(zone);
  m->set_node(node);
  m->set_origin(origin);
  m->set_detail(std::move(detail));
  Report(std::move(event));
}

void EventReporter::ReplayUnacknowledged() {
  for (const memhp::v1::AgentEvent& event : log_.Replay()) Send(event);
}

}  // namespace memhp::agent
