// json_text — the two json-glib steps memhpctl's JSON answers share: embedding a JSON text that
// came from elsewhere (QEMU's data, a peer's result, libsmartcols' table) as a value, and
// printing a built document as one compact line.
#pragma once

#include <json-glib/json-glib.h>

#include <string>
#include <string_view>

namespace memhp::ctl {

// What an empty text stands for.
enum class EmptyText { kNull, kEmptyObject };

// Adds `text` to `builder` as the JSON value it holds. Text that does not parse (a peer's broken
// JSON) is kept as {"unparsed": "<text>"}, so the document stays valid JSON.
void AddJsonText(JsonBuilder* builder, std::string_view text, EmptyText empty);

// The builder's document, compact, without a trailing newline.
[[nodiscard]] std::string BuiltJson(JsonBuilder* builder);

}  // namespace memhp::ctl
