// qmp_json — owning, tolerant helpers over json-glib (see qmp_json.h).
//
// json-glib's getters take non-const pointers although they do not modify anything; the
// const_casts below only bridge that C API.
#include "qmp/qmp_json.h"

#include <cmath>
#include <cstring>
#include <optional>

#include <glib-object.h>

namespace memhp::qmp {
namespace {

JsonNode* Mutable(const JsonNode* node) { return const_cast<JsonNode*>(node); }
JsonObject* Mutable(const JsonObject* object) { return const_cast<JsonObject*>(object); }

// A member that holds a JSON scalar of GType `type`, or nullptr.
const JsonNode* ScalarMember(const JsonObject* object, const char* key, GType type) {
  const JsonNode* node = GetMember(object, key);
  if (node == nullptr || !JSON_NODE_HOLDS_VALUE(Mutable(node))) return nullptr;
  if (json_node_get_value_type(Mutable(node)) != type) return nullptr;
  return node;
}

}  // namespace

JsonNodePtr RefNode(const JsonNode* node) {
  if (node == nullptr) return nullptr;
  return JsonNodePtr(json_node_ref(Mutable(node)));
}

JsonNodePtr CopyNode(const JsonNode* node) {
  if (node == nullptr) return nullptr;
  return JsonNodePtr(json_node_copy(Mutable(node)));
}

// json-glib accepts two things it cannot print back as JSON: a number beyond double's range
// (1e999 is read as infinity and printed "inf.0") and a \u escape of a lone UTF-16 surrogate
// (read into a string that is not UTF-8). QEMU sends neither; a line that holds one is refused,
// so nothing memhpd passes on (memhpctl qmp, watch) is invalid JSON. Depth is bounded by
// ScanJsonSize (1024), so the recursion is too.
static std::optional<std::string> Unprintable(JsonNode* node) {
  switch (JSON_NODE_TYPE(node)) {
    case JSON_NODE_VALUE:
      if (json_node_get_value_type(node) == G_TYPE_STRING &&
          !g_utf8_validate(json_node_get_string(node), -1, nullptr)) {
        return "a string that is not UTF-8 (a lone surrogate escape)";
      }
      if (json_node_get_value_type(node) == G_TYPE_DOUBLE && !std::isfinite(json_node_get_double(node))) {
        return "a number beyond the range of a double";
      }
      return std::nullopt;
    case JSON_NODE_ARRAY: {
      JsonArray* array = json_node_get_array(node);
      for (guint i = 0; i < json_array_get_length(array); ++i) {
        if (auto why = Unprintable(json_array_get_element(array, i))) return why;
      }
      return std::nullopt;
    }
    case JSON_NODE_OBJECT: {
      JsonObject* object = json_node_get_object(node);
      GList* members = json_object_get_members(object);
      std::optional<std::string> why;
      for (GList* m = members; m != nullptr && !why; m = m->next) {
        const auto* name = static_cast<const gchar*>(m->data);
        if (!g_utf8_validate(name, -1, nullptr)) {
          why = "a member name that is not UTF-8 (a lone surrogate escape)";
        } else {
          why = Unprintable(json_object_get_member(object, name));
        }
      }
      g_list_free(members);
      return why;
    }
    case JSON_NODE_NULL:
      return std::nullopt;
  }
  return std::nullopt;
}

memhp::Result<JsonNodePtr> ParseJson(std::string_view text, const JsonLimits& limits) {
  if (memhp::Result<JsonSize> size = ScanJsonSize(text, limits); !size) return std::move(size).error();
  JsonParser* parser = json_parser_new();
  GError* error = nullptr;
  const gboolean loaded =
      json_parser_load_from_data(parser, text.data(), static_cast<gssize>(text.size()), &error);
  if (!loaded) {
    std::string why = error != nullptr ? error->message : "unknown json-glib error";
    g_clear_error(&error);
    g_object_unref(parser);
    return memhp::Error::Invalid("invalid JSON: " + why);
  }
  // json-glib accepts empty input and reports no root for it.
  JsonNode* root = json_parser_get_root(parser);
  JsonNodePtr owned = root != nullptr ? JsonNodePtr(json_node_ref(root)) : nullptr;
  g_object_unref(parser);
  if (!owned) return memhp::Error::Invalid("empty JSON text");
  if (auto why = Unprintable(owned.get())) return memhp::Error::Invalid("invalid JSON: " + *why);
  return owned;
}

// memhp writes JSON itself rather than with json_to_string(): json-glib 1.6 prints a double
// whose shortest form has an exponent but no '.' with ".0" appended ("9e-199.0"), which is
// not JSON (found by the qmp fuzz target). Depth is bounded by ParseJson's limits.
static void AppendString(std::string& out, const char* s) {
  out += '"';
  for (const unsigned char* p = reinterpret_cast<const unsigned char*>(s); *p != 0; ++p) {
    switch (*p) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (*p < 0x20) {
          char escaped[8];
          g_snprintf(escaped, sizeof escaped, "\\u%04x", *p);
          out += escaped;
        } else {
          out += static_cast<char>(*p);
        }
    }
  }
  out += '"';
}

static void AppendJson(std::string& out, JsonNode* node) {
  switch (JSON_NODE_TYPE(node)) {
    case JSON_NODE_NULL:
      out += "null";
      return;
    case JSON_NODE_VALUE: {
      const GType type = json_node_get_value_type(node);
      if (type == G_TYPE_STRING) {
        AppendString(out, json_node_get_string(node));
      } else if (type == G_TYPE_BOOLEAN) {
        out += json_node_get_boolean(node) ? "true" : "false";
      } else if (type == G_TYPE_DOUBLE) {
        char text[G_ASCII_DTOSTR_BUF_SIZE];
        g_ascii_dtostr(text, sizeof text, json_node_get_double(node));  // shortest round trip
        out += text;
        // Keep it a double when read back: "1" would come back as an integer.
        if (std::strpbrk(text, ".eEn") == nullptr) out += ".0";
      } else {
        out += std::to_string(json_node_get_int(node));
      }
      return;
    }
    case JSON_NODE_ARRAY: {
      JsonArray* array = json_node_get_array(node);
      out += '[';
      for (guint i = 0; i < json_array_get_length(array); ++i) {
        if (i > 0) out += ',';
        AppendJson(out, json_array_get_element(array, i));
      }
      out += ']';
      return;
    }
    case JSON_NODE_OBJECT: {
      JsonObject* object = json_node_get_object(node);
      GList* members = json_object_get_members(object);
      out += '{';
      for (GList* m = members; m != nullptr; m = m->next) {
        const auto* name = static_cast<const gchar*>(m->data);
        if (m != members) out += ',';
        AppendString(out, name);
        out += ':';
        AppendJson(out, json_object_get_member(object, name));
      }
      out += '}';
      g_list_free(members);
      return;
    }
  }
}

std::string ToJson(const JsonNode* node) {
  if (node == nullptr) return "null";
  std::string out;
  AppendJson(out, Mutable(node));
  return out;
}

JsonObject* AsObject(const JsonNode* node) {
  if (node == nullptr || !JSON_NODE_HOLDS_OBJECT(Mutable(node))) return nullptr;
  return json_node_get_object(Mutable(node));
}

JsonArray* AsArray(const JsonNode* node) {
  if (node == nullptr || !JSON_NODE_HOLDS_ARRAY(Mutable(node))) return nullptr;
  return json_node_get_array(Mutable(node));
}

const JsonNode* GetMember(const JsonObject* object, const char* key) {
  if (object == nullptr) return nullptr;
  return json_object_get_member(Mutable(object), key);
}

JsonObject* GetObject(const JsonObject* object, const char* key) {
  return AsObject(GetMember(object, key));
}

JsonArray* GetArray(const JsonObject* object, const char* key) {
  return AsArray(GetMember(object, key));
}

std::optional<std::string> GetString(const JsonObject* object, const char* key) {
  const JsonNode* node = ScalarMember(object, key, G_TYPE_STRING);
  if (node == nullptr) return std::nullopt;
  const char* s = json_node_get_string(Mutable(node));
  return std::string(s != nullptr ? s : "");
}

std::optional<int64_t> NodeInt(const JsonNode* node) {
  if (node == nullptr || !JSON_NODE_HOLDS_VALUE(Mutable(node))) return std::nullopt;
  if (json_node_get_value_type(Mutable(node)) != G_TYPE_INT64) return std::nullopt;
  return json_node_get_int(Mutable(node));
}

std::optional<int64_t> GetInt(const JsonObject* object, const char* key) {
  return NodeInt(GetMember(object, key));
}

std::optional<uint64_t> GetUint(const JsonObject* object, const char* key) {
  const std::optional<int64_t> v = GetInt(object, key);
  if (!v) return std::nullopt;
  return static_cast<uint64_t>(*v);
}

std::optional<bool> GetBool(const JsonObject* object, const char* key) {
  const JsonNode* node = ScalarMember(object, key, G_TYPE_BOOLEAN);
  if (node == nullptr) return std::nullopt;
  return json_node_get_boolean(Mutable(node)) != FALSE;
}

JsonObjectBuilder::JsonObjectBuilder() : object_(json_object_new()) {}

JsonObjectBuilder::~JsonObjectBuilder() {
  if (object_ != nullptr) json_object_unref(object_);
}

JsonObjectBuilder& JsonObjectBuilder::SetString(const char* key, std::string_view value) {
  json_object_set_string_member(object_, key, std::string(value).c_str());
  return *this;
}

JsonObjectBuilder& JsonObjectBuilder::SetInt(const char* key, int64_t value) {
  json_object_set_int_member(object_, key, value);
  return *this;
}

JsonObjectBuilder& JsonObjectBuilder::SetUint(const char* key, uint64_t value) {
  json_object_set_int_member(object_, key, static_cast<int64_t>(value));
  return *this;
}

JsonObjectBuilder& JsonObjectBuilder::SetBool(const char* key, bool value) {
  json_object_set_boolean_member(object_, key, value ? TRUE : FALSE);
  return *this;
}

JsonObjectBuilder& JsonObjectBuilder::SetNode(const char* key, JsonNodePtr value) {
  if (value) {
    json_object_set_member(object_, key, value.release());  // the object takes the reference
  } else {
    json_object_set_null_member(object_, key);
  }
  return *this;
}

JsonNodePtr JsonObjectBuilder::Build() {
  JsonNode* node = json_node_new(JSON_NODE_OBJECT);
  json_node_take_object(node, object_);  // the node takes our reference
  object_ = json_object_new();
  return JsonNodePtr(node);
}

JsonNodePtr BuildCommand(std::string_view command, const JsonNode* arguments, int64_t id) {
  JsonObjectBuilder builder;
  builder.SetString("execute", command);
  if (arguments != nullptr) builder.SetNode("arguments", CopyNode(arguments));
  builder.SetInt("id", id);
  return builder.Build();
}

}  // namespace memhp::qmp
