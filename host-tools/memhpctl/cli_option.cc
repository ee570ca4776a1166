// memhpctl — see cli_option.h.
#include "memhpctl/cli_option.h"

#include <glib.h>

#include <charconv>
#include <chrono>
#include <utility>

#include "ctl/status_view.h"

namespace memhp::cli::args {
namespace {

// "1 ms", "30 s", "1 h": the bounds in the duration errors, in the largest whole unit.
std::string FormatMs(uint64_t ms) {
  if (ms != 0 && ms % 3'600'000 == 0) return std::to_string(ms / 3'600'000) + " h";
  if (ms != 0 && ms % 60'000 == 0) return std::to_string(ms / 60'000) + " min";
  if (ms != 0 && ms % 1000 == 0) return std::to_string(ms / 1000) + " s";
  return std::to_string(ms) + " ms";
}

}  // namespace

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

OptionSpec Size(std::string name, std::string help, SizeRule rule, std::function<void(Command&, uint64_t)> set) {
  std::string apply_name = name;
  return OptionSpec{std::move(name), "SIZE", std::move(help),
                    [set, apply_name, rule](Command& c, const std::string& v) -> std::string {
                      const std::optional<uint64_t> n = ParseSize(v);
                      if (n && *n >= rule.min && *n <= rule.max && *n % rule.multiple == 0) {
                        set(c, *n);
                        return "";
                      }
                      std::string want = "--" + apply_name + " takes a size";
                      if (rule.min > 1 || rule.max < UINT64_MAX) {
                        want += " from " + ctl::FormatBytes(rule.min) +
                                (rule.max < UINT64_MAX ? " to " + ctl::FormatBytes(rule.max) : std::string(" up"));
                      }
                      if (rule.multiple > 1) want += " in whole " + ctl::FormatBytes(rule.multiple);
                      // Said every time: --memory took bare MiB before sizes were bytes everywhere.
                      return want + " (256M, 1GiB, 0x10000000; a bare number is bytes), not '" + v + "'";
                    }};
}

OptionSpec Duration(std::string name, std::string help, DurationRule rule,
                    std::function<void(Command&, uint32_t)> set) {
  std::string apply_name = name;
  return OptionSpec{std::move(name), "DURATION", std::move(help),
                    [set, apply_name, rule](Command& c, const std::string& v) -> std::string {
                      const std::optional<std::chrono::milliseconds> d = ParseDuration(v, rule.bare);
                      const uint64_t ms = d && d->count() >= 0 ? static_cast<uint64_t>(d->count()) : 0;
                      if (d && ms >= rule.min_ms && ms <= rule.max_ms) {
                        set(c, static_cast<uint32_t>(ms));
                        return "";
                      }
                      const std::string bare = rule.bare == BareNumber::kSeconds
                                                   ? "a bare number is seconds"
                                                   : "its unit must be given: it took milliseconds before";
                      return "--" + apply_name + " takes a duration from " + FormatMs(rule.min_ms) + " to " +
                             FormatMs(rule.max_ms) + " (500ms, 30s, 2m, 1h; " + bare + "), not '" + v + "'";
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

OptionSpec WithLetter(char letter, OptionSpec option) {
  option.letter = letter;
  return option;
}

OptionSpec Zone(std::string help, std::function<void(Command&, ZoneChoice)> set) {
  static constexpr ZoneChoice kZones[] = {ZoneChoice::kPolicy, ZoneChoice::kDefault, ZoneChoice::kKernel,
                                          ZoneChoice::kMovable};
  return Choice("zone", {"policy", "default", "kernel", "movable"}, std::move(help),
                [set](Command& c, size_t i) { set(c, kZones[i]); }, "ZONE");
}

}  // namespace memhp::cli::args
