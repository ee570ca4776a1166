// json_limits — the lexical pre-scan of JSON texts from QEMU (see json_limits.h).
#include "qmp/json_limits.h"

#include <cerrno>
#include <string>

namespace memhp::qmp {
namespace {

bool IsJsonSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Characters that end a bare scalar (a number or true/false/null) outside a string.
bool IsDelimiter(char c) {
  return IsJsonSpace(c) || c == '[' || c == ']' || c == '{' || c == '}' || c == ',' || c == ':' ||
         c == '"';
}

}  // namespace

memhp::Result<JsonSize> ScanJsonSize(std::string_view text, const JsonLimits& limits) {
  if (text.size() > limits.max_bytes) {
    return memhp::Error{EFBIG, "JSON text of " + std::to_string(text.size()) + " bytes, over the " +
                                   std::to_string(limits.max_bytes) + "-byte bound"};
  }
  JsonSize size;
  size.bytes = text.size();
  std::size_t depth = 0;
  bool in_string = false;
  bool in_scalar = false;
  const auto count_value = [&]() -> bool { return ++size.values <= limits.max_values; };
  const auto too_many = [&] {
    return memhp::Error{E2BIG, "JSON text with more than " + std::to_string(limits.max_values) + " values"};
  };

  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;  // the escaped character, whatever it is, cannot end the string
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (in_scalar) {
      if (!IsDelimiter(c)) continue;
      in_scalar = false;
    }
    switch (c) {
      case '[':
      case '{':
        if (++depth > limits.max_depth) {
          return memhp::Error{E2BIG, "JSON nesting deeper than " + std::to_string(limits.max_depth) +
                                         " levels (at byte " + std::to_string(i) + ")"};
        }
        if (depth > size.depth) size.depth = depth;
        if (!count_value()) return too_many();
        break;
      case ']':
      case '}':
        if (depth > 0) --depth;  // an unbalanced close is json-glib's to report
        break;
      case '"':
        in_string = true;
        if (!count_value()) return too_many();
        break;
      case ',':
      case ':':
        break;
      default:
        if (IsJsonSpace(c)) break;
        in_scalar = true;
        if (!count_value()) return too_many();
        break;
    }
  }
  return size;
}

}  // namespace memhp::qmp
