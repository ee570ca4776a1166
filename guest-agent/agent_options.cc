// memhp-agent — see agent_options.h.
#include "agent_options.h"

#include <glib.h>

#include <cstdint>

namespace memhp::agent {
namespace {

// GLib parses G_OPTION_ARG_INT strictly (the whole word, within gint); the ranges are ours.
Status CheckAtLeast(const char* option, gint value, gint lowest) {
  if (value >= lowest) return OkStatus();
  return Error::Invalid(std::string(option) + " must be at least " + std::to_string(lowest) + ", not " +
                        std::to_string(value));
}

}  // namespace

Result<AgentOptions> ParseAgentOptions(const std::vector<std::string>& args) {
  const AgentOptions defaults;
  // String options start unset and take their defaults after parsing: GOption does not free a
  // value it overwrites, so a g_strdup'd default would leak whenever the option is given.
  g_autofree gchar* port_name = nullptr;
  g_autofree gchar* socket_path = nullptr;
  g_autofree gchar* sysfs_root = nullptr;
  g_autofree gchar* policy_name = nullptr;
  gint movable_ratio = static_cast<gint>(defaults.daemon.policy.movable_ratio_percent);
  gint backlog = static_cast<gint>(defaults.daemon.event_backlog);
  gint reserve_mib = static_cast<gint>(defaults.daemon.reserve_bytes >> 20);
  g_autofree gchar* hooks_dir = nullptr;
  g_autofree gchar* pins_dir = nullptr;
  gint pressure_threshold_ms = static_cast<gint>(defaults.daemon.pressure.threshold_us / 1000);
  gint pressure_window_ms = static_cast<gint>(defaults.daemon.pressure.window_us / 1000);
  gboolean version = FALSE;
  gboolean take_onlining = FALSE;
  GOptionEntry entries[] = {
      {"port-name", 'p', 0, G_OPTION_ARG_STRING, &port_name,
       "virtio-serial port to use (default org.memhp.agent.0)", "NAME"},
      {"socket", 's', 0, G_OPTION_ARG_FILENAME, &socket_path,
       "connect to this unix socket instead of a virtio-serial port (tests)", "PATH"},
      {"sysfs-root", 0, 0, G_OPTION_ARG_FILENAME, &sysfs_root,
       "root the kernel's /sys and /proc paths are read under (default /)", "DIR"},
      {"policy", 0, 0, G_OPTION_ARG_STRING, &policy_name,
       "onlining policy: manual, online, online_kernel, online_movable, auto-movable (default)", "POLICY"},
      {"movable-ratio", 0, 0, G_OPTION_ARG_INT, &movable_ratio,
       "auto-movable: MOVABLE may be at most this % of KERNEL memory (default 301)", "PERCENT"},
      {"event-backlog", 0, 0, G_OPTION_ARG_INT, &backlog,
       "unacknowledged events kept for replay (default 4096)", "N"},
      {"reserve-mib", 0, 0, G_OPTION_ARG_INT, &reserve_mib,
       "veto an offline that would leave less MemAvailable than this (default 128; 0: off)", "MIB"},
      {"hooks-dir", 0, 0, G_OPTION_ARG_FILENAME, &hooks_dir,
       "hook scripts run for every memory event; non-zero at GOING_* vetoes (default /etc/memhp/hooks.d)", "DIR"},
      {"pins-dir", 0, 0, G_OPTION_ARG_FILENAME, &pins_dir,
       "pin files (a held flock on \"START-END\" or \"memoryN\") veto offlining their range, S22 "
       "(default /run/memhp/pins)", "DIR"},
      {"take-onlining", 0, 0, G_OPTION_ARG_NONE, &take_onlining,
       "own the onlining of new memory: write \"offline\" to auto_online_blocks and mask a "
       "distribution's onlining udev rule (a copy in /run/udev/rules.d) at start", nullptr},
      {"pressure-threshold-ms", 0, 0, G_OPTION_ARG_INT, &pressure_threshold_ms,
       "report memory pressure when tasks stall this long on memory within one window "
       "(default 100; 0: no pressure events)", "MS"},
      {"pressure-window-ms", 0, 0, G_OPTION_ARG_INT, &pressure_window_ms,
       "the pressure window, 500 to 10000 (default 1000)", "MS"},
      {"version", 0, 0, G_OPTION_ARG_NONE, &version, "print the version and exit", nullptr},
      {},
  };
  g_autoptr(GOptionContext) context = g_option_context_new("- memhp guest agent");
  g_option_context_add_main_entries(context, entries, nullptr);
  g_option_context_set_summary(context,
                               "Also: memhp-agent pin [--pins-dir DIR] START-END|memoryN [-- CMD...]\n"
                               "  holds a pin that vetoes offlining that range while it runs (S22).");
  // The parser removes what it took from the vector it is given (and frees it): a copy.
  g_auto(GStrv) argv = g_new0(gchar*, args.size() + 1);
  for (size_t i = 0; i < args.size(); ++i) argv[i] = g_strdup(args[i].c_str());
  g_autoptr(GError) error = nullptr;
  if (!g_option_context_parse_strv(context, &argv, &error)) return Error::Invalid(error->message);
  if (argv[0] && argv[1]) return Error::Invalid(std::string("unexpected argument '") + argv[1] + "'");

  AgentOptions options;
  // --version answers whatever else the line says, as it always did.
  if (version) {
    options.version = true;
    return options;
  }
  options.port_name = port_name ? port_name : defaults.port_name;
  options.socket_path = socket_path ? socket_path : "";
  if (options.port_name.empty()) return Error::Invalid("--port-name must not be empty");
  if (options.socket_path.empty() && socket_path) return Error::Invalid("--socket must not be empty");
  Result<PolicyKind> kind =
      ParsePolicyKind(policy_name ? std::string(policy_name) : std::string(FormatPolicyKind(defaults.daemon.policy.kind)));
  if (!kind.ok()) return std::move(kind).error();
  for (const Status& range : {CheckAtLeast("--movable-ratio", movable_ratio, 0),
                              CheckAtLeast("--event-backlog", backlog, 1),
                              CheckAtLeast("--reserve-mib", reserve_mib, 0),
                              CheckAtLeast("--pressure-threshold-ms", pressure_threshold_ms, 0),
                              CheckAtLeast("--pressure-window-ms", pressure_window_ms, 0)}) {
    if (!range.ok()) return range.error();
  }
  options.daemon.sysfs_root = sysfs_root ? sysfs_root : defaults.daemon.sysfs_root;
  if (options.daemon.sysfs_root.empty()) return Error::Invalid("--sysfs-root must not be empty");
  options.daemon.policy = PolicyConfig{
      .kind = *kind, .movable_ratio_percent = static_cast<uint32_t>(movable_ratio), .numa_aware = true};
  options.daemon.event_backlog = static_cast<size_t>(backlog);
  options.daemon.reserve_bytes = static_cast<uint64_t>(reserve_mib) << 20;
  options.daemon.hooks_dir = hooks_dir ? hooks_dir : defaults.daemon.hooks_dir;
  options.daemon.pins_dir = pins_dir ? pins_dir : defaults.daemon.pins_dir;
  options.daemon.onlining = take_onlining ? OnliningOwnership::kTakeOver : OnliningOwnership::kShare;
  options.daemon.pressure_events = pressure_threshold_ms != 0;
  // Milliseconds to microseconds in 64 bits: an int's worth of ms does not fit 32-bit us.
  const uint64_t threshold_us = static_cast<uint64_t>(pressure_threshold_ms) * 1000;
  const uint64_t window_us = static_cast<uint64_t>(pressure_window_ms) * 1000;
  if (window_us > UINT32_MAX || threshold_us > UINT32_MAX) {
    return Error::Invalid("--pressure-window-ms and --pressure-threshold-ms must be at most 10000");
  }
  options.daemon.pressure = PsiTriggerSpec{.threshold_us = static_cast<uint32_t>(threshold_us),
                                           .window_us = static_cast<uint32_t>(window_us)};
  if (options.daemon.pressure_events) {
    if (Status spec = CheckPsiTriggerSpec(options.daemon.pressure); !spec.ok()) {
      return Error::Invalid("--pressure-*: " + spec.error().message);
    }
  }
  return options;
}

}  // namespace memhp::agent
