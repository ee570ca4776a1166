// watch_view (see watch_view.h). json-glib builds the line so every string is escaped once.
#include "ctl/watch_view.h"

#include <json-glib/json-glib.h>

#include <string>

namespace memhp::ctl {

std::string RenderWatchLine(const memhp::v1::WatchEvent& event, std::string_view vm, uint64_t seq) {
  g_autoptr(JsonBuilder) builder = json_builder_new();
  json_builder_begin_object(builder);
  json_builder_set_member_name(builder, "vm");
  json_builder_add_string_value(builder, std::string(vm).c_str());
  json_builder_set_member_name(builder, "seq");
  json_builder_add_int_value(builder, static_cast<gint64>(seq));
  json_builder_set_member_name(builder, "time_unix_ns");
  json_builder_add_int_value(builder, static_cast<gint64>(event.time_unix_ns()));
  json_builder_set_member_name(builder, "source");
  json_builder_add_string_value(builder, event.source().c_str());
  json_builder_set_member_name(builder, "name");
  json_builder_add_string_value(builder, event.name().c_str());
  json_builder_set_member_name(builder, "data");
  g_autoptr(JsonParser) parser = json_parser_new();
  const std::string& text = event.data_json();
  if (text.empty()) {
    json_builder_begin_object(builder);
    json_builder_end_object(builder);
  } else if (json_parser_load_from_data(parser, text.data(), static_cast<gssize>(text.size()), nullptr) &&
             json_parser_get_root(parser) != nullptr) {
    json_builder_add_value(builder, json_node_copy(json_parser_get_root(parser)));
  } else {
    json_builder_begin_object(builder);
    json_builder_set_member_name(builder, "unparsed");
    json_builder_add_string_value(builder, text.c_str());
    json_builder_end_object(builder);
  }
  json_builder_end_object(builder);
  g_autoptr(JsonNode) root = json_builder_get_root(builder);
  g_autoptr(JsonGenerator) generator = json_generator_new();
  json_generator_set_root(generator, root);
  g_autofree gchar* line = json_generator_to_data(generator, nullptr);
  return line;
}

}  // namespace memhp::ctl
