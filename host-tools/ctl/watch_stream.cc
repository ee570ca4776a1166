// watch_stream — see watch_stream.h. json-glib parses each line; the "data" object is written
// back compact so the model reads it with the same parser as memhpd's data_json.
#include "ctl/watch_stream.h"

#include <json-glib/json-glib.h>

#include <cstdlib>
#include <optional>
#include <string>

#include "ctl/json_text.h"

namespace memhp::ctl {
namespace {

std::optional<std::string> String(JsonObject* object, const char* member) {
  JsonNode* node = json_object_get_member(object, member);
  if (!node || !JSON_NODE_HOLDS_VALUE(node) || json_node_get_value_type(node) != G_TYPE_STRING) return std::nullopt;
  return std::string(json_node_get_string(node));
}

std::string Compact(JsonNode* node) {
  g_autoptr(JsonGenerator) generator = json_generator_new();
  json_generator_set_root(generator, node);
  g_autofree gchar* text = json_generator_to_data(generator, nullptr);
  return text ? text : "{}";
}

Result<memhp::v1::WatchEvent> ParseLine(std::string_view line) {
  g_autoptr(JsonParser) parser = json_parser_new();
  g_autoptr(GError) error = nullptr;
  if (!json_parser_load_from_data(parser, line.data(), static_cast<gssize>(line.size()), &error)) {
    return Error::Invalid(std::string("not JSON: ") + error->message);
  }
  JsonNode* root = json_parser_get_root(parser);
  if (!root || !JSON_NODE_HOLDS_OBJECT(root)) return Error::Invalid("not a JSON object");
  JsonObject* object = json_node_get_object(root);
  memhp::v1::WatchEvent event;
  const std::optional<std::string> source = String(object, "source");
  const std::optional<std::string> name = String(object, "name");
  if (!source || !name) return Error::Invalid("no \"source\" or \"name\" string: not a watch line");
  event.set_source(*source);
  event.set_name(*name);
  event.set_vm(String(object, "vm").value_or(""));
  event.set_seq(JsonUnsignedMember(object, "seq").value_or(0));
  event.set_time_unix_ns(JsonUnsignedMember(object, "time_unix_ns").value_or(0));
  JsonNode* data = json_object_get_member(object, "data");
  event.set_data_json(data && JSON_NODE_HOLDS_OBJECT(data) ? Compact(data) : "{}");
  return event;
}

}  // namespace

Result<std::vector<memhp::v1::WatchEvent>> ParseWatchStream(std::string_view text) {
  std::vector<memhp::v1::WatchEvent> events;
  size_t line_number = 0;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(start, end - start);
    start = end + 1;
    ++line_number;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    const std::string where = "line " + std::to_string(line_number) + ": ";
    if (line.size() > kMaxWatchLineBytes) {
      return Error::Invalid(where + "longer than " + std::to_string(kMaxWatchLineBytes) + " bytes");
    }
    if (events.size() == kMaxWatchEvents) {
      return Error::Invalid(where + "more than " + std::to_string(kMaxWatchEvents) + " events");
    }
    Result<memhp::v1::WatchEvent> event = ParseLine(line);
    if (!event.ok()) return Error::Invalid(where + event.error().message);
    events.push_back(std::move(*event));
  }
  return events;
}

}  // namespace memhp::ctl
