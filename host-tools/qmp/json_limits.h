// json_limits — how big and how deep a JSON text from QEMU may be, checked before json-glib
// sees it.
//
// json-glib's parser recurses once per nesting level and builds a JsonNode (about 80 bytes of
// heap, measured) for every value, so the length of a line alone bounds neither the stack nor
// the heap: a 100 KB line of '[' overflows memhpd's stack, and a 15 MiB array of zeros becomes
// ~650 MB of nodes. ScanJsonSize() walks the text once, without building anything and without
// recursion, and refuses it as soon as one bound is crossed, so an over-limit text costs
// memhpd no more than the bytes it already holds.
//
// The bounds mirror what QEMU's own JSON parser enforces on what it reads
// (qobject/json-streamer.c: MAX_NESTING = 1024 open brackets and braces together,
// MAX_TOKEN_COUNT = 2 Mi tokens and MAX_TOKEN_SIZE = 64 MiB per message). The nesting bound is
// QEMU's; the byte and value bounds are tighter, because memhpd knows what QEMU writes: QEMU's
// token budget would still allow ~90 MB of json-glib nodes (1 Mi values at ~83 bytes), twice
// that with the copy a reply makes. QEMU 7.2's largest answer, query-qmp-schema, is 207 000
// bytes and 26 194 values (member names included) at nesting depth 7. See docs/reliability.md ("QMP input bounds").
#pragma once

#include <cstddef>
#include <string_view>

#include "base/result.h"

namespace memhp::qmp {

struct JsonLimits {
  // Bytes of one JSON text (one QMP line without its "\r\n"): 20x query-qmp-schema.
  std::size_t max_bytes = std::size_t{4} << 20;
  // Open arrays and objects at once, counted together as QEMU does (MAX_NESTING).
  std::size_t max_depth = 1024;
  // JSON values (objects, arrays, strings, numbers, true/false/null) plus member names: 10x
  // query-qmp-schema, and at most ~21 MB of json-glib nodes.
  std::size_t max_values = std::size_t{256} << 10;
};

// What a scan found in a text within its limits.
struct JsonSize {
  std::size_t bytes = 0;
  std::size_t depth = 0;   // the deepest nesting reached (0 for a scalar)
  std::size_t values = 0;  // as JsonLimits::max_values counts them
};

// Walks `text` lexically (strings and their escapes are skipped, so brackets inside a string
// do not count) and fails with the first bound it crosses: EFBIG over max_bytes, E2BIG over
// max_depth or max_values. It does not validate the JSON: json-glib does that afterwards,
// within these bounds.
[[nodiscard]] memhp::Result<JsonSize> ScanJsonSize(std::string_view text, const JsonLimits& limits);

}  // namespace memhp::qmp
