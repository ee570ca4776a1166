// memhpctl — see json_envelope.h.
#include "memhpctl/json_envelope.h"

#include <json-glib/json-glib.h>

#include "ctl/json_text.h"

namespace memhp::cli {

std::string JsonEnvelope(int exit_code, std::string_view error, std::string_view result_json) {
  g_autoptr(JsonBuilder) builder = json_builder_new();
  json_builder_begin_object(builder);
  json_builder_set_member_name(builder, "ok");
  json_builder_add_boolean_value(builder, exit_code == 0);
  json_builder_set_member_name(builder, "exit_code");
  json_builder_add_int_value(builder, exit_code);
  json_builder_set_member_name(builder, "error");
  if (exit_code == 0 || error.empty()) {
    json_builder_add_null_value(builder);
  } else {
    json_builder_add_string_value(builder, std::string(error).c_str());
  }
  json_builder_set_member_name(builder, "result");
  ctl::AddJsonText(builder, result_json, ctl::EmptyText::kNull);
  json_builder_end_object(builder);
  return ctl::BuiltJson(builder) + "\n";
}

bool WantsJson(const std::vector<std::string>& args) {
  for (const std::string& arg : args) {
    if (arg == "--") return false;
    if (arg == "--json") return true;
    if (arg.size() > 1 && arg[0] == '-' && arg[1] != '-' && arg.find_first_of("jJ") != std::string::npos) return true;
  }
  return false;
}

}  // namespace memhp::cli
