// json_text — see json_text.h.
#include "ctl/json_text.h"

namespace memhp::ctl {

void AddJsonText(JsonBuilder* builder, std::string_view text, EmptyText empty) {
  g_autoptr(JsonParser) parser = json_parser_new();
  const std::string owned(text);
  if (owned.empty()) {
    if (empty == EmptyText::kNull) {
      json_builder_add_null_value(builder);
    } else {
      json_builder_begin_object(builder);
      json_builder_end_object(builder);
    }
  } else if (json_parser_load_from_data(parser, owned.c_str(), static_cast<gssize>(owned.size()), nullptr) &&
             json_parser_get_root(parser) != nullptr) {
    json_builder_add_value(builder, json_node_copy(json_parser_get_root(parser)));
  } else {
    json_builder_begin_object(builder);
    json_builder_set_member_name(builder, "unparsed");
    json_builder_add_string_value(builder, owned.c_str());
    json_builder_end_object(builder);
  }
}

std::string BuiltJson(JsonBuilder* builder) {
  g_autoptr(JsonNode) root = json_builder_get_root(builder);
  g_autoptr(JsonGenerator) generator = json_generator_new();
  json_generator_set_root(generator, root);
  g_autofree gchar* text = json_generator_to_data(generator, nullptr);
  return text;
}

}  // namespace memhp::ctl
