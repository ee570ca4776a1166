// parse_result — a value parsed from a peer's input, or the reason there is none. Shared by the
// JSON helpers, the input bounds and the parsers of QEMU's answers.
#pragma once

#include <optional>
#include <string>
#include <utility>

namespace memhp::qmp {

// Checked with `if (result)` before `*result.value`.
template <typename T>
struct [[nodiscard]] ParseResult {
  std::optional<T> value;
  std::string error;  // empty when value is set

  static ParseResult Ok(T v) { return ParseResult{std::move(v), {}}; }
  static ParseResult Fail(std::string why) { return ParseResult{std::nullopt, std::move(why)}; }
  explicit operator bool() const { return value.has_value(); }
};

}  // namespace memhp::qmp
