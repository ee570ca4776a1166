// memhpctl — see cli_values.h.
#include "memhpctl/cli_values.h"

#include <cerrno>
#include <charconv>
#include <set>
#include <string>

namespace memhp::cli {
namespace {

// Leading decimal digits of `text` as a number; `rest` is what follows them. nullopt when there
// are none or they overflow.
std::optional<uint64_t> LeadingNumber(std::string_view text, int base, std::string_view* rest) {
  uint64_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value, base);
  if (ec != std::errc() || ptr == text.data()) return std::nullopt;
  *rest = text.substr(static_cast<size_t>(ptr - text.data()));
  return value;
}

char Lower(char ch) { return ch >= 'A' && ch <= 'Z' ? static_cast<char>(ch - 'A' + 'a') : ch; }

bool EqualsIgnoringCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

// The multiplier a size unit means, or nullopt for no unit memhpctl knows.
std::optional<uint64_t> SizeUnit(std::string_view unit) {
  if (unit.empty() || EqualsIgnoringCase(unit, "b")) return 1;
  static constexpr std::string_view kPrefixes = "kmgt";
  const size_t power = kPrefixes.find(Lower(unit[0]));
  if (power == std::string_view::npos) return std::nullopt;
  const std::string_view after = unit.substr(1);
  uint64_t base = 0;
  if (after.empty() || EqualsIgnoringCase(after, "ib")) {
    base = 1024;  // K, KiB
  } else if (EqualsIgnoringCase(after, "b")) {
    base = 1000;  // KB: SI, as virsh reads it
  } else {
    return std::nullopt;
  }
  uint64_t multiplier = 1;
  for (size_t i = 0; i <= power; ++i) multiplier *= base;
  return multiplier;
}

}  // namespace

std::optional<uint64_t> ParseSize(std::string_view text) {
  std::string_view rest;
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    // Hex is bytes, without a unit: "0x10M" would read as a typo either way.
    const std::optional<uint64_t> value = LeadingNumber(text.substr(2), 16, &rest);
    if (!value || !rest.empty()) return std::nullopt;
    return value;
  }
  const std::optional<uint64_t> value = LeadingNumber(text, 10, &rest);
  if (!value) return std::nullopt;
  const std::optional<uint64_t> unit = SizeUnit(rest);
  if (!unit || (*value != 0 && *value > UINT64_MAX / *unit)) return std::nullopt;
  return *value * *unit;
}

std::optional<std::chrono::milliseconds> ParseDuration(std::string_view text, BareNumber bare) {
  std::string_view unit;
  const std::optional<uint64_t> value = LeadingNumber(text, 10, &unit);
  if (!value) return std::nullopt;
  uint64_t ms_per_unit = 0;
  if (unit.empty()) {
    if (bare == BareNumber::kRefused) return std::nullopt;
    ms_per_unit = 1000;
  } else if (unit == "ms") {
    ms_per_unit = 1;
  } else if (unit == "s") {
    ms_per_unit = 1000;
  } else if (unit == "m" || unit == "min") {
    ms_per_unit = 60'000;
  } else if (unit == "h") {
    ms_per_unit = 3'600'000;
  } else {
    return std::nullopt;
  }
  // A millisecond count past int64 is no duration anyone waits; refusing it keeps the cast exact.
  if (*value > static_cast<uint64_t>(INT64_MAX) / ms_per_unit) return std::nullopt;
  return std::chrono::milliseconds(static_cast<int64_t>(*value * ms_per_unit));
}

Result<std::vector<uint32_t>> ParseBlockList(std::string_view text) {
  std::vector<uint32_t> ids;
  std::set<uint32_t> seen;
  const std::string whole(text);
  auto bad = [&whole](const std::string& why) {
    return Error::Invalid("'" + whole + "': " + why + " (block ids like 40-47,50)");
  };
  size_t start = 0;
  while (true) {
    const size_t comma = text.find(',', start);
    const std::string_view item = text.substr(start, comma == std::string_view::npos ? text.npos : comma - start);
    if (item.empty()) return bad("an empty item");
    std::string_view rest;
    const std::optional<uint64_t> first = LeadingNumber(item, 10, &rest);
    std::optional<uint64_t> last = first;
    if (first && !rest.empty() && rest[0] == '-') {
      std::string_view after;
      last = LeadingNumber(rest.substr(1), 10, &after);
      rest = last ? after : rest;
    }
    if (!first || !last || !rest.empty() || item[0] == '+' || *last > UINT32_MAX) {
      return bad("'" + std::string(item) + "' is no block id or range");
    }
    if (*last < *first) return bad("the range '" + std::string(item) + "' ends before it starts");
    // Bounded before expanding: a range can name four billion ids.
    if (*last - *first >= kMaxListedBlocks - ids.size()) {
      Error error = bad("more than " + std::to_string(kMaxListedBlocks) + " blocks");
      error.errno_value = E2BIG;
      return error;
    }
    for (uint64_t id = *first; id <= *last; ++id) {
      if (!seen.insert(static_cast<uint32_t>(id)).second) return bad("block " + std::to_string(id) + " is listed twice");
      ids.push_back(static_cast<uint32_t>(id));
    }
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return ids;
}

}  // namespace memhp::cli
