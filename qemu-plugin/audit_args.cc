// memhp-audit — argument parsing (see audit_args.h).
#include "audit_args.h"

#include <sys/un.h>

#include <set>

#include "audit_core.h"

namespace memhp::audit {
namespace {

std::optional<uint64_t> ParseUnsigned(std::string_view text) {
  if (text.empty()) return std::nullopt;
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (value > (UINT64_MAX - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  return value;
}

std::optional<bool> ParseBool(std::string_view text) {
  if (text == "on" || text == "yes" || text == "true") return true;
  if (text == "off" || text == "no" || text == "false") return false;
  return std::nullopt;
}

}  // namespace

std::optional<uint64_t> ParseSize(std::string_view text) {
  unsigned shift = 0;
  if (!text.empty()) {
    switch (text.back()) {
      case 'K': case 'k': shift = 10; break;
      case 'M': case 'm': shift = 20; break;
      case 'G': case 'g': shift = 30; break;
      default: break;
    }
  }
  if (shift != 0) text.remove_suffix(1);
  const std::optional<uint64_t> value = ParseUnsigned(text);
  if (!value || (shift != 0 && *value > (UINT64_MAX >> shift))) return std::nullopt;
  return *value << shift;
}

ArgsResult ParseAuditArgs(const std::vector<std::string_view>& argv) {
  AuditArgs args;
  std::set<std::string_view> seen;
  auto fail = [](std::string_view arg, std::string_view why) {
    return ArgsResult{std::nullopt, std::string(arg) + ": " + std::string(why)};
  };
  for (std::string_view arg : argv) {
    const size_t eq = arg.find('=');
    if (eq == std::string_view::npos) return fail(arg, "expected KEY=VALUE");
    const std::string_view key = arg.substr(0, eq);
    const std::string_view value = arg.substr(eq + 1);
    if (!seen.insert(key).second) return fail(arg, "given more than once");
    if (key == "block_size") {
      const std::optional<uint64_t> size = ParseSize(value);
      if (!size) return fail(arg, "not a size (bytes, or a number with K, M or G)");
      if (*size < kPageSize || (*size & (*size - 1)) != 0) {
        return fail(arg, "must be a power of two of at least 4096");
      }
      args.block_size = *size;
    } else if (key == "max_violations") {
      const std::optional<uint64_t> n = ParseUnsigned(value);
      if (!n || *n == 0 || *n > (uint64_t{1} << 20)) {
        return fail(arg, "must be a whole number from 1 to 1048576");
      }
      args.max_violations = static_cast<size_t>(*n);
    } else if (key == "armed") {
      const std::optional<bool> armed = ParseBool(value);
      if (!armed) return fail(arg, "must be on or off");
      args.armed = *armed;
    } else if (key == "socket") {
      if (value.empty()) return fail(arg, "empty path");
      if (value.size() >= sizeof(sockaddr_un{}.sun_path)) {
        return fail(arg, "path too long for a unix socket (107 bytes at most)");
      }
      args.socket_path = std::string(value);
    } else if (key == "report") {
      if (value.empty()) return fail(arg, "empty path");
      args.report_path = std::string(value);
    } else {
      return fail(arg, "unknown argument (known: block_size, max_violations, armed, socket, "
                       "report)");
    }
  }
  return ArgsResult{args, ""};
}

}  // namespace memhp::audit
