// memhp-audit — the plugin's arguments, parsed once in qemu_plugin_install.
//
// QEMU passes `-plugin file=libmemhp-audit.so,ARG=VALUE,...` to the plugin as argv strings
// "ARG=VALUE". Accepted:
//   block_size=BYTES      block size for heat and time to first use; a power of two >= 4096;
//                         suffixes K, M, G (powers of 1024); default 128M (the x86 guest's)
//   max_violations=N      distinct violation records kept; 1..1048576, default 1024
//   armed=on|off          instrument memory accesses from the start (default off); also
//                         yes/no/true/false, like qemu_plugin_bool_parse
//   socket=PATH           listen for the audit wire (proto/memhp/v1/audit.proto) on this unix
//                         socket; a stale socket file there is replaced
//   report=PATH           write the JSON report to PATH at exit
// Anything else — an unknown or repeated key, a missing '=', a bad value — is an error that
// names the argument, and the plugin refuses to load.
#ifndef MEMHP_QEMU_PLUGIN_AUDIT_ARGS_H_
#define MEMHP_QEMU_PLUGIN_AUDIT_ARGS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace memhp::audit {

struct AuditArgs {
  uint64_t block_size = uint64_t{128} << 20;
  size_t max_violations = 1024;
  bool armed = false;
  std::string socket_path;  // "" = no control socket
  std::string report_path;  // "" = no report at exit
};

struct [[nodiscard]] ArgsResult {
  std::optional<AuditArgs> args;  // set on success
  std::string error;              // set on failure, e.g. "block_size=3: not a power of two"
};

[[nodiscard]] ArgsResult ParseAuditArgs(const std::vector<std::string_view>& argv);

// "128M" -> 134217728. nullopt for anything but digits with an optional K/M/G suffix, or on
// overflow.
[[nodiscard]] std::optional<uint64_t> ParseSize(std::string_view text);

}  // namespace memhp::audit

#endif  // MEMHP_QEMU_PLUGIN_AUDIT_ARGS_H_
