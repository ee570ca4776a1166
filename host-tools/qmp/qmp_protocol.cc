// qmp_protocol — classification of QMP lines (see qmp_protocol.h).
#include "qmp/qmp_protocol.h"

#include <array>

namespace memhp::qmp {
namespace {

Message Bad(std::string reason) { return Malformed{std::move(reason), std::nullopt}; }

// The echoed id, if it is an integer. A present-but-odd id is not an error: QEMU echoes
// whatever the command carried, and the caller drops ids it does not know.
std::optional<int64_t> EchoedId(const JsonObject* object) { return GetInt(object, "id"); }

Message ClassifyGreeting(const JsonObject* root) {
  const JsonObject* qmp = GetObject(root, "QMP");
  if (qmp == nullptr) return Bad("greeting: \"QMP\" is not an object");
  const JsonObject* version = GetObject(qmp, "version");
  const JsonObject* qemu = GetObject(version, "qemu");
  if (qemu == nullptr) return Bad("greeting: no version.qemu object");
  Greeting greeting;
  const auto major = GetInt(qemu, "major");
  const auto minor = GetInt(qemu, "minor");
  const auto micro = GetInt(qemu, "micro");
  if (!major || !minor || !micro)
    return Bad("greeting: version.qemu needs integer major/minor/micro");
  greeting.version.major = *major;
  greeting.version.minor = *minor;
  greeting.version.micro = *micro;
  greeting.version.package = GetString(version, "package").value_or("");

  JsonArray* caps = GetArray(qmp, "capabilities");
  if (caps == nullptr) return Bad("greeting: \"capabilities\" is not an array");
  const guint n = json_array_get_length(caps);
  for (guint i = 0; i < n; ++i) {
    JsonNode* cap = json_array_get_element(caps, i);
    if (!JSON_NODE_HOLDS_VALUE(cap) || json_node_get_value_type(cap) != G_TYPE_STRING) {
      return Bad("greeting: capability " + std::to_string(i) + " is not a string");
    }
    greeting.capabilities.emplace_back(json_node_get_string(cap));
  }
  return greeting;
}

Message ClassifyReturn(const JsonObject* root) {
  return Return{EchoedId(root), CopyNode(GetMember(root, "return"))};
}

Message ClassifyError(const JsonObject* root) {
  const JsonObject* error = GetObject(root, "error");
  if (error == nullptr) return Bad("error: \"error\" is not an object");
  auto error_class = GetString(error, "class");
  auto desc = GetString(error, "desc");
  if (!error_class || !desc) return Bad("error: needs string \"class\" and \"desc\"");
  return Error{EchoedId(root), std::move(*error_class), std::move(*desc)};
}

Message ClassifyEvent(const JsonObject* root) {
  auto name = GetString(root, "event");
  if (!name) return Bad("event: \"event\" is not a string");
  // QAPI event names are identifiers (qapi/*.json); an empty one names nothing a listener could
  // act on. Found by the qmp fuzz target's invariant.
  if (name->empty()) return Bad("event: the event name is empty");
  Event event;
  event.name = std::move(*name);
  const JsonNode* data = GetMember(root, "data");
  if (data == nullptr) {
    event.data = JsonObjectBuilder().Build();
  } else if (AsObject(data) != nullptr) {
    event.data = CopyNode(data);
  } else {
    return Bad("event " + event.name + ": \"data\" is not an object");
  }
  const JsonObject* ts = GetObject(root, "timestamp");
  const auto seconds = GetInt(ts, "seconds");
  const auto microseconds = GetInt(ts, "microseconds");
  if (!seconds || !microseconds) {
    return Bad("event " + event.name + ": timestamp needs integer seconds/microseconds");
  }
  event.timestamp = Timestamp{*seconds, *microseconds};
  return event;
}

// What a JSON object from QEMU is, by the one member that says so.
Message ClassifyObject(const JsonObject* root) {
  // Exactly one member says what the message is.
  static constexpr std::array<const char*, 4> kKinds = {"QMP", "return", "error", "event"};
  const char* kind = nullptr;
  int found = 0;
  for (const char* k : kKinds) {
    if (GetMember(root, k) != nullptr) {
      kind = k;
      ++found;
    }
  }
  if (found == 0) return Bad("none of \"QMP\", \"return\", \"error\", \"event\"");
  if (found > 1) return Bad("more than one of \"QMP\", \"return\", \"error\", \"event\"");

  const std::string_view k = kind;
  if (k == "QMP") return ClassifyGreeting(root);
  if (k == "return") return ClassifyReturn(root);
  if (k == "error") return ClassifyError(root);
  return ClassifyEvent(root);
}

}  // namespace

std::string FormatVersion(const QemuVersion& version) {
  return std::to_string(version.major) + "." + std::to_string(version.minor) + "." +
         std::to_string(version.micro);
}

Message ClassifyNode(const JsonNode& node) {
  const JsonObject* root = AsObject(&node);
  if (root == nullptr) return Bad("not a JSON object");
  Message message = ClassifyObject(root);
  if (auto* malformed = std::get_if<Malformed>(&message)) malformed->id = EchoedId(root);
  return message;
}

Message ClassifyLine(std::string_view line, const JsonLimits& limits) {
  memhp::Result<JsonNodePtr> parsed = ParseJson(line, limits);
  if (!parsed) return Bad(parsed.error().message);
  return ClassifyNode(**parsed);
}

}  // namespace memhp::qmp
