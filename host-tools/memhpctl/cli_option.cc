// memhpctl — see cli_option.h.
#include "memhpctl/cli_option.h"

#include <glib.h>

#include <charconv>
#include <utility>

namespace memhp::cli::args {

std::optional<uint64_t> ParseNumber(const std::string& text, uint64_t lo, uint64_t hi) {
  uint64_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end || value < lo || value > hi) return std::nullopt;
  return value;
}

bool IsDeviceId(const std::string& id) {
  if (id.empty() || id.size() > 128 || !g_ascii_isalpha(id[0])) return false;
  for (char ch : id) {
    if (!g_ascii_isalnum(ch) && ch != '-' && ch != '.' && ch != '_') return false;
  }
  return true;
}

OptionSpec Flag(std::string name, std::string help, std::function<void(Command&)> set) {
  return OptionSpec{std::move(name), "", std::move(help), [set](Command& c, const std::string&) {
                      set(c);
                      return std::string();
                    }};
}

OptionSpec Text(std::string name, std::string metavar, std::string help,
                std::function<void(Command&, const std::string&)> set) {
  return OptionSpec{std::move(name), std::move(metavar), std::move(help), [set](Command& c, const std::string& v) {
                      set(c, v);
                      return std::string();
                    }};
}

OptionSpec Number(std::string name, std::string metavar, std::string help, uint64_t lo, uint64_t hi,
                  std::function<void(Command&, uint64_t)> set) {
  std::string apply_name = name;
  return OptionSpec{std::move(name), std::move(metavar), std::move(help),
                    [set, apply_name, lo, hi](Command& c, const std::string& v) -> std::string {
                      const std::optional<uint64_t> n = ParseNumber(v, lo, hi);
                      if (!n) {
                        return "--" + apply_name + " takes a whole number from " + std::to_string(lo) + " to " +
                               std::to_string(hi) + ", not '" + v + "'";
                      }
                      set(c, *n);
                      return "";
                    }};
}

OptionSpec Size(std::string name, std::string help, bool allow_zero, std::function<void(Command&, uint64_t)> set) {
  std::string apply_name = name;
  return OptionSpec{std::move(name), "SIZE", std::move(help),
                    [set, apply_name, allow_zero](Command& c, const std::string& v) -> std::string {
                      const std::optional<uint64_t> n = ParseSize(v);
                      if (!n || (*n == 0 && !allow_zero)) {
                        return "--" + apply_name + " takes a size like 256M, not '" + v + "'";
                      }
                      set(c, *n);
                      return "";
                    }};
}

OptionSpec Choice(std::string name, std::vector<std::string> words, std::string help,
                  std::function<void(Command&, size_t)> set, std::string metavar) {
  std::string alternatives;  // "a|b|c"
  std::string listed;        // "a, b or c"
  for (size_t i = 0; i < words.size(); ++i) {
    alternatives += (i ? "|" : "") + words[i];
    listed += (i == 0 ? "" : i + 1 == words.size() ? " or " : ", ") + words[i];
  }
  if (metavar.empty()) metavar = alternatives;
  std::string apply_name = name;
  return OptionSpec{std::move(name), std::move(metavar), std::move(help),
                    [set, apply_name, words, listed](Command& c, const std::string& v) -> std::string {
                      for (size_t i = 0; i < words.size(); ++i) {
                        if (v == words[i]) {
                          set(c, i);
                          return "";
                        }
                      }
                      return "--" + apply_name + " takes " + listed + ", not '" + v + "'";
                    }};
}

OptionSpec Zone(std::string help, std::function<void(Command&, ZoneChoice)> set) {
  static constexpr ZoneChoice kZones[] = {ZoneChoice::kPolicy, ZoneChoice::kDefault, ZoneChoice::kKernel,
                                          ZoneChoice::kMovable};
  return Choice("zone", {"policy", "default", "kernel", "movable"}, std::move(help),
                [set](Command& c, size_t i) { set(c, kZones[i]); }, "ZONE");
}

}  // namespace memhp::cli::args
