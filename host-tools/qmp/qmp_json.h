// qmp_json — the little json-glib vocabulary the QMP client speaks.
//
// json-glib is a C API with manual reference counting and getters that abort (g_critical) on
// a type mismatch. QMP input comes from another process, so everything here is owning (RAII
// over JsonNode) and tolerant: a getter on a missing or wrongly typed member answers
// std::nullopt / nullptr instead of asserting. Builders produce the command objects QEMU
// expects ({"execute": ..., "arguments": {...}, "id": N}; qapi/qmp-spec).
//
// json-glib keeps every JSON integer as a gint64; a number above INT64_MAX (QEMU prints its
// uint64 values, e.g. sizes, with PRIu64) wraps to a negative gint64 with the same 64 bits.
// GetUint() therefore reinterprets the bits, which is exact for every uint64 QEMU sends.
#pragma once

#include <json-glib/json-glib.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "qmp/json_limits.h"
#include "base/result.h"

namespace memhp::qmp {

struct JsonNodeUnref {
  void operator()(JsonNode* node) const noexcept {
    if (node != nullptr) json_node_unref(node);
  }
};

// An owned reference to a JsonNode (json_node_unref on destruction).
using JsonNodePtr = std::unique_ptr<JsonNode, JsonNodeUnref>;

// Takes a new reference to `node` (nullptr stays nullptr).
[[nodiscard]] JsonNodePtr RefNode(const JsonNode* node);

// A deep copy of `node` (nullptr stays nullptr).
[[nodiscard]] JsonNodePtr CopyNode(const JsonNode* node);

// Parses one JSON text (one QMP line). Empty or whitespace-only input is an error, and so is a
// text over `limits`, refused before json-glib parses it (json_limits.h says why, and which
// errno each bound fails with); JSON that does not parse is EINVAL.
[[nodiscard]] memhp::Result<JsonNodePtr> ParseJson(std::string_view text,
                                                   const JsonLimits& limits = JsonLimits{});

// Compact JSON text of `node` (no newline); "null" for nullptr.
[[nodiscard]] std::string ToJson(const JsonNode* node);

// --- Tolerant getters: nullptr / nullopt when the member is missing or of another type. ---

[[nodiscard]] JsonObject* AsObject(const JsonNode* node);
[[nodiscard]] JsonArray* AsArray(const JsonNode* node);
[[nodiscard]] const JsonNode* GetMember(const JsonObject* object, const char* key);
[[nodiscard]] JsonObject* GetObject(const JsonObject* object, const char* key);
[[nodiscard]] JsonArray* GetArray(const JsonObject* object, const char* key);
[[nodiscard]] std::optional<std::string> GetString(const JsonObject* object, const char* key);
// JSON integers only (a 1.5 or a "1" is not an integer).
[[nodiscard]] std::optional<int64_t> GetInt(const JsonObject* object, const char* key);
// JSON integers, bits reinterpreted as uint64 (see the top of this file).
[[nodiscard]] std::optional<uint64_t> GetUint(const JsonObject* object, const char* key);
[[nodiscard]] std::optional<bool> GetBool(const JsonObject* object, const char* key);

// The integer held by `node`, if it is a JSON integer.
[[nodiscard]] std::optional<int64_t> NodeInt(const JsonNode* node);

// --- Builders ---

// Builds a JSON object member by member, e.g. the arguments of a command:
//   JsonObjectBuilder().SetString("qom-type", "memory-backend-ram").SetInt("size", n).Build()
class JsonObjectBuilder {
 public:
  JsonObjectBuilder();
  ~JsonObjectBuilder();
  JsonObjectBuilder(const JsonObjectBuilder&) = delete;
  JsonObjectBuilder& operator=(const JsonObjectBuilder&) = delete;

  JsonObjectBuilder& SetString(const char* key, std::string_view value);
  JsonObjectBuilder& SetInt(const char* key, int64_t value);
  // Values above INT64_MAX are written as their two's-complement gint64 (json-glib has no
  // unsigned integers); QEMU sizes and addresses stay far below that.
  JsonObjectBuilder& SetUint(const char* key, uint64_t value);
  JsonObjectBuilder& SetBool(const char* key, bool value);
  JsonObjectBuilder& SetNode(const char* key, JsonNodePtr value);

  // The object node; the builder is empty afterwards.
  [[nodiscard]] JsonNodePtr Build();

 private:
  JsonObject* object_;
};

// {"execute": command, "arguments": arguments, "id": id}; "arguments" is left out when
// `arguments` is nullptr (QMP treats a missing "arguments" as {}).
[[nodiscard]] JsonNodePtr BuildCommand(std::string_view command, const JsonNode* arguments,
                                       int64_t id);

}  // namespace memhp::qmp
