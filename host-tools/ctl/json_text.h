// json_text — the json-glib steps memhpctl's JSON shares: embedding a JSON text that came from
// elsewhere (QEMU's data, a peer's result, libsmartcols' table) as a value, reading a number
// back (a recorded watch stream), and printing a built document as one compact line.
#pragma once

#include <json-glib/json-glib.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace memhp::ctl {

// What an empty text stands for.
enum class EmptyText { kNull, kEmptyObject };

// Adds `text` to `builder` as the JSON value it holds. Text that does not parse (a peer's broken
// JSON) is kept as {"unparsed": "<text>"}, so the document stays valid JSON.
void AddJsonText(JsonBuilder* builder, std::string_view text, EmptyText empty);

// A member that is a JSON integer >= 0 or a decimal string holding one (proto JSON prints 64-bit
// numbers as strings); nullopt for anything else, a missing member or a null object.
[[nodiscard]] std::optional<uint64_t> JsonUnsignedMember(JsonObject* object, const char* member);

// The builder's document, compact, without a trailing newline.
[[nodiscard]] std::string BuiltJson(JsonBuilder* builder);

}  // namespace memhp::ctl
