// memhp fuzz — memhpd's QMP input path on arbitrary bytes: lines, JSON, message kinds.
//
// QEMU is trusted more than the guest, but a QMP socket is a byte stream memhpd parses in full:
// LineSplitter cuts it into lines (the client's read path), ParseJson turns a line into a json-glib
// tree, ClassifyLine/ClassifyNode decide greeting, return, error, event or malformed. Input
// layout: byte 0 picks the line bound, byte 1 seeds the chunk sizes, the rest is the stream.
//
// Invariants beyond "no crash":
//   - the lines do not depend on how the stream was split into reads: fed in chunks they are
//     exactly the lines of a plain split of the whole stream at '\n' ("\r" stripped, blank
//     lines skipped), and a line over the bound ends both the same way;
//   - a return has a value and an event has an object as its data, as the client assumes;
//   - what ParseJson accepts prints (ToJson) as JSON that parses again and prints the same —
//     memhpd's control replies (`memhpctl qmp`) and watch events rely on that round trip.
//     This target found json-glib accepting two things it cannot print back — a number that
//     overflows a double (1e999, read as inf, printed `inf.0`) and a lone surrogate escape
//     ("\uDDDD", read into a string that is not UTF-8); ParseJson now refuses both, and the
//     seeds non-finite and lone-surrogate keep them replayed.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "fuzz_check.h"
#include "qmp/qmp_json.h"
#include "qmp/qmp_lines.h"
#include "qmp/qmp_protocol.h"

namespace {

using memhp::qmp::LineSplitter;

constexpr size_t kBounds[] = {8, 64, 4096};

struct Split {
  std::vector<std::string> lines;
  bool too_long = false;
};

// The lines by definition, from the whole stream at once.
Split Reference(std::string_view stream, size_t bound) {
  Split out;
  size_t start = 0;
  for (size_t nl; (nl = stream.find('\n', start)) != std::string_view::npos; start = nl + 1) {
    std::string_view line = stream.substr(start, nl - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.size() > bound) {
      out.too_long = true;
      return out;
    }
    if (line.find_first_not_of(" \t\r") != std::string_view::npos) out.lines.emplace_back(line);
  }
  out.too_long = stream.size() - start > bound + 1;
  return out;
}

Split Chunked(std::string_view stream, size_t bound, uint32_t seed) {
  Split out;
  LineSplitter splitter(bound);
  uint32_t state = seed * 2654435761u + 1;  // never zero for xorshift
  size_t pos = 0;
  while (pos < stream.size() && !out.too_long) {
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    const std::string_view chunk = stream.substr(pos, 1 + state % 97);
    pos += chunk.size();
    splitter.Append(chunk);
    for (;;) {
      std::string_view line;
      const LineSplitter::Next next = splitter.NextLine(&line);
      if (next == LineSplitter::Next::kNeedMore) break;
      if (next == LineSplitter::Next::kTooLong) {
        out.too_long = true;
        break;
      }
      out.lines.emplace_back(line);
    }
    if (!out.too_long) FUZZ_CHECK(splitter.buffered() <= bound + 1);
  }
  return out;
}

bool HasUnprintableValue(JsonNode* node) {
  switch (JSON_NODE_TYPE(node)) {
    case JSON_NODE_VALUE:
      if (json_node_get_value_type(node) == G_TYPE_STRING) {
        return !g_utf8_validate(json_node_get_string(node), -1, nullptr);
      }
      return json_node_get_value_type(node) == G_TYPE_DOUBLE && !std::isfinite(json_node_get_double(node));
    case JSON_NODE_ARRAY: {
      JsonArray* array = json_node_get_array(node);
      for (guint i = 0; i < json_array_get_length(array); ++i) {
        if (HasUnprintableValue(json_array_get_element(array, i))) return true;
      }
      return false;
    }
    case JSON_NODE_OBJECT: {
      bool found = false;
      json_object_foreach_member(
          json_node_get_object(node),
          [](JsonObject*, const gchar* name, JsonNode* member, gpointer found_ptr) {
            if (!g_utf8_validate(name, -1, nullptr) || HasUnprintableValue(member)) {
              *static_cast<bool*>(found_ptr) = true;
            }
          },
          &found);
      return found;
    }
    case JSON_NODE_NULL:
      return false;
  }
  return false;
}

void CheckMessage(std::string_view line) {
  const memhp::qmp::Message message = memhp::qmp::ClassifyLine(line);
  if (const auto* ret = std::get_if<memhp::qmp::Return>(&message)) {
    FUZZ_CHECK(ret->value != nullptr);
  } else if (const auto* event = std::get_if<memhp::qmp::Event>(&message)) {
    FUZZ_CHECK(event->data != nullptr && memhp::qmp::AsObject(event->data.get()) != nullptr);
    FUZZ_CHECK(!event->name.empty());
  } else if (const auto* malformed = std::get_if<memhp::qmp::Malformed>(&message)) {
    FUZZ_CHECK(!malformed->reason.empty());
  }

  memhp::Result<memhp::qmp::JsonNodePtr> parsed = memhp::qmp::ParseJson(line);
  if (!parsed) {
    FUZZ_CHECK(!parsed.error().message.empty());
    return;
  }
  // The classification of a parsed tree is the classification of its line.
  FUZZ_CHECK(memhp::qmp::ClassifyNode(*parsed->get()).index() == message.index());
  // ParseJson refuses what json-glib could not print back (non-finite numbers, lone surrogates).
  FUZZ_CHECK(!HasUnprintableValue(parsed->get()));
  const std::string printed = memhp::qmp::ToJson(parsed->get());
  memhp::Result<memhp::qmp::JsonNodePtr> again = memhp::qmp::ParseJson(printed);
  FUZZ_CHECK(again);
  FUZZ_CHECK(memhp::qmp::ToJson(again->get()) == printed);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const size_t bound = kBounds[data[0] % (sizeof(kBounds) / sizeof(kBounds[0]))];
  const std::string_view stream(reinterpret_cast<const char*>(data) + 2, size - 2);

  const Split reference = Reference(stream, bound);
  const Split chunked = Chunked(stream, bound, data[1]);
  FUZZ_CHECK(chunked.lines == reference.lines);
  FUZZ_CHECK(chunked.too_long == reference.too_long);

  for (const std::string& line : chunked.lines) CheckMessage(line);
  // A whole input as one line too: the line bound must not hide the parser from long texts.
  if (stream.find('\n') == std::string_view::npos) CheckMessage(stream);
  return 0;
}
