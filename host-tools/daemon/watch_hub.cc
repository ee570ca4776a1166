// memhpd — WatchHub (see watch_hub.h).
#include "daemon/watch_hub.h"

#include <glib.h>
#include <json-glib/json-glib.h>

#include <utility>

#include "wire/proto_json.h"

namespace memhp::daemon {
namespace {

uint64_t RealNow() { return static_cast<uint64_t>(g_get_real_time()) * 1000; }

memhp::v1::WatchEvent Event(std::string_view source, std::string_view name, std::string data_json) {
  memhp::v1::WatchEvent event;
  event.set_source(std::string(source));
  event.set_name(std::string(name));
  event.set_data_json(std::move(data_json));
  return event;
}

std::string_view OperationName(const memhp::v1::ControlRequest& request) {
  switch (request.op_case()) {
    case memhp::v1::ControlRequest::kPlug: return "plug";
    case memhp::v1::ControlRequest::kUnplug: return "unplug";
    case memhp::v1::ControlRequest::kResize: return "resize";
    default: return "";
  }
}

}  // namespace

std::string JsonStringObject(std::initializer_list<std::pair<std::string_view, std::string_view>> fields) {
  g_autoptr(JsonBuilder) builder = json_builder_new();
  json_builder_begin_object(builder);
  for (const auto& [key, value] : fields) {
    json_builder_set_member_name(builder, std::string(key).c_str());
    json_builder_add_string_value(builder, std::string(value).c_str());
  }
  json_builder_end_object(builder);
  g_autoptr(JsonNode) root = json_builder_get_root(builder);
  g_autoptr(JsonGenerator) generator = json_generator_new();
  json_generator_set_root(generator, root);
  g_autofree gchar* text = json_generator_to_data(generator, nullptr);
  return text;
}

std::string AgentEventName(const memhp::v1::AgentEvent& event) {
  switch (event.kind_case()) {
    case memhp::v1::AgentEvent::kMemory: {
      const std::string& name = memhp::v1::MemoryEventKind_Name(event.memory().kind());
      constexpr std::string_view kPrefix = "MEMORY_EVENT_KIND_";
      return name.rfind(kPrefix, 0) == 0 ? name.substr(kPrefix.size()) : name;
    }
    case memhp::v1::AgentEvent::kInventoryChanged: return "inventory_changed";
    case memhp::v1::AgentEvent::kGap: return "gap";
    case memhp::v1::AgentEvent::kZoneReport: return "zone_report";
    case memhp::v1::AgentEvent::kPressure: return "pressure";
    case memhp::v1::AgentEvent::kIntentTaken: return "intent_taken";
    case memhp::v1::AgentEvent::KIND_NOT_SET: break;
  }
  return "unknown";
}

WatchHub::WatchHub(std::string vm_name, WatchHubOptions options, Clock now_unix_ns)
    : vm_name_(std::move(vm_name)),
      options_(options), now_(now_unix_ns ? std::move(now_unix_ns) : Clock(RealNow)) {}

memhp::v1::WatchEvent WatchHub::Stamp(memhp::v1::WatchEvent event) const {
  if (event.time_unix_ns() == 0) event.set_time_unix_ns(now_());
  event.set_vm(vm_name_);
  return event;
}

void WatchHub::ForgetGone() {
  std::erase_if(watchers_, [](const Watcher& w) { return !w.reply.peer().connected; });
}

bool WatchHub::Deliver(Watcher& watcher, memhp::v1::WatchEvent event) {
  const ControlPeer peer = watcher.reply.peer();
  if (!peer.connected) return false;
  event.set_seq(watcher.next_seq++);
  memhp::v1::ControlResponse response;
  if (peer.unsent_bytes > options_.max_unsent_bytes) {
    // It does not read: `event` is lost to it (its number stays used, so the stream shows the
    // gap); one last notice (queued behind what it has not read), then nothing. Its socket queue
    // stays as it is until the client reads or leaves, so memhpd's memory is bounded by
    // max_unsent_bytes plus two events per watcher.
    ++dropped_;
    g_warning("watch: dropping a watcher %zu bytes behind", peer.unsent_bytes);
    memhp::v1::WatchEvent notice =
        Stamp(Event("memhpd", "watch_dropped",
                    "{\"first_lost_seq\":" + std::to_string(event.seq()) +
                        ",\"unsent_bytes\":" + std::to_string(peer.unsent_bytes) +
                        ",\"max_unsent_bytes\":" + std::to_string(options_.max_unsent_bytes) + "}"));
    notice.set_seq(watcher.next_seq++);
    *response.mutable_watch_event() = std::move(notice);
    watcher.reply(std::move(response));
    return false;
  }
  *response.mutable_watch_event() = std::move(event);
  watcher.reply(std::move(response));
  return true;
}

void WatchHub::Subscribe(ControlReply reply, const std::deque<memhp::v1::AgentEvent>& replay) {
  ForgetGone();
  if (watchers_.size() >= options_.max_watchers) {
    memhp::v1::ControlResponse response;
    response.mutable_error()->set_code(memhp::v1::ERROR_CODE_BUSY);
    response.mutable_error()->set_message("watch: " + std::to_string(watchers_.size()) +
                                          " watchers already, the most memhpd serves");
    reply(std::move(response));
    return;
  }
  Watcher watcher{.reply = std::move(reply)};
  for (const memhp::v1::AgentEvent& event : replay) {
    if (!Deliver(watcher, Stamp(Event("agent", AgentEventName(event), wire::ProtoToJson(event))))) return;
  }
  const std::string data = "{\"replayed\":" + std::to_string(replay.size()) + ",\"watchers\":" +
                           std::to_string(watchers_.size() + 1) + "}";
  if (!Deliver(watcher, Stamp(Event("memhpd", "watching", data)))) return;
  watchers_.push_back(std::move(watcher));
}

void WatchHub::Publish(memhp::v1::WatchEvent event) {
  if (watchers_.empty()) return;
  const memhp::v1::WatchEvent stamped = Stamp(std::move(event));
  // Delivering never re-enters the hub (a reply only queues bytes), so erase while iterating.
  std::erase_if(watchers_, [&](Watcher& w) { return !Deliver(w, stamped); });
}

void WatchHub::PublishQmp(std::string_view name, std::string data_json, uint64_t time_unix_ns) {
  memhp::v1::WatchEvent event = Event("qmp", name, data_json.empty() ? "{}" : std::move(data_json));
  event.set_time_unix_ns(time_unix_ns);
  Publish(std::move(event));
}

void WatchHub::PublishAgent(const memhp::v1::AgentEvent& event) {
  if (watchers_.empty()) return;  // spare the JSON when nobody watches
  Publish(Event("agent", AgentEventName(event), wire::ProtoToJson(event)));
}

void WatchHub::PublishNotice(std::string_view name, std::string data_json) {
  Publish(Event("memhpd", name, std::move(data_json)));
}

void WatchHub::PublishNotice(std::string_view name, const google::protobuf::Message& data) {
  if (watchers_.empty()) return;
  Publish(Event("memhpd", name, wire::ProtoToJson(data)));
}

void WatchHub::PublishOperation(std::string_view name, const google::protobuf::Message& data) {
  if (watchers_.empty()) return;
  Publish(Event("operation", name, wire::ProtoToJson(data)));
}

ControlReply WatchHub::TapOperation(const memhp::v1::ControlRequest& request, ControlReply reply) {
  PublishOperation("requested", request);
  const std::string kind(OperationName(request));
  const Liveness::Token alive = alive_.token();
  return ControlReply(
      [this, alive, kind, reply](memhp::v1::ControlResponse response) {
        if (alive.Expired()) {
          reply(std::move(response));
          return;
        }
        if (response.has_progress()) {
          PublishOperation("progress", response.progress());
        } else if (response.has_operation()) {
          PublishOperation("end", response.operation());
        } else if (response.has_error()) {
          memhp::v1::WatchEvent event = Event("operation", "end", "");
          event.set_data_json("{\"kind\":\"" + kind + "\",\"error\":" + wire::ProtoToJson(response.error()) + "}");
          Publish(std::move(event));
        }
        reply(std::move(response));
      },
      [reply] { return reply.peer(); });
}

}  // namespace memhp::daemon
