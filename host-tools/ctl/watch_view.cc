// watch_view (see watch_view.h). json-glib builds the line so every string is escaped once.
#include "ctl/watch_view.h"

#include <json-glib/json-glib.h>

#include "ctl/json_text.h"

#include <string>

namespace memhp::ctl {

std::string RenderWatchLine(const memhp::v1::WatchEvent& event) {
  g_autoptr(JsonBuilder) builder = json_builder_new();
  json_builder_begin_object(builder);
  json_builder_set_member_name(builder, "vm");
  json_builder_add_string_value(builder, event.vm().c_str());
  json_builder_set_member_name(builder, "seq");
  json_builder_add_int_value(builder, static_cast<gint64>(event.seq()));
  json_builder_set_member_name(builder, "time_unix_ns");
  json_builder_add_int_value(builder, static_cast<gint64>(event.time_unix_ns()));
  json_builder_set_member_name(builder, "source");
  json_builder_add_string_value(builder, event.source().c_str());
  json_builder_set_member_name(builder, "name");
  json_builder_add_string_value(builder, event.name().c_str());
  json_builder_set_member_name(builder, "data");
  AddJsonText(builder, event.data_json(), EmptyText::kEmptyObject);
  json_builder_end_object(builder);
  return BuiltJson(builder);
}

}  // namespace memhp::ctl
