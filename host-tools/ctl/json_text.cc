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

std::optional<uint64_t> JsonUnsignedMember(JsonObject* object, const char* member) {
  JsonNode* node = object ? json_object_get_member(object, member) : nullptr;
  if (!node || !JSON_NODE_HOLDS_VALUE(node)) return std::nullopt;
  if (json_node_get_value_type(node) == G_TYPE_INT64) {
    const gint64 v = json_node_get_int(node);
    return v < 0 ? std::nullopt : std::optional<uint64_t>(static_cast<uint64_t>(v));
  }
  guint64 v = 0;
  if (json_node_get_value_type(node) == G_TYPE_STRING &&
      g_ascii_string_to_unsigned(json_node_get_string(node), 10, 0, G_MAXUINT64, &v, nullptr)) {
    return v;
  }
  return std::nullopt;
}

}  // namespace memhp::ctl
