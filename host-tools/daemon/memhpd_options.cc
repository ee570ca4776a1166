// memhpd — see memhpd_options.h.
#include "daemon/memhpd_options.h"

#include <glib.h>

#include <utility>

namespace memhp::daemon {

Result<MemhpdOptions> ParseMemhpdOptions(const std::vector<std::string>& args) {
  g_autofree gchar* state_dir = nullptr;
  // String options start unset and take their defaults after parsing: GOption does not free a
  // value it overwrites, so a g_strdup'd default would leak whenever the option is given.
  g_autofree gchar* name = nullptr;
  g_autofree gchar* qmp = nullptr;
  g_autofree gchar* agent = nullptr;
  g_autofree gchar* qemu_pidfile = nullptr;
  g_autofree gchar* accel = nullptr;
  g_autofree gchar* audit_socket = nullptr;
  g_autofree gchar* audit_arm = nullptr;
  g_autofree gchar* libvirt_domain = nullptr;
  g_autofree gchar* libvirt_uri = nullptr;
  g_autofree gchar* on_stop = nullptr;
  GOptionEntry entries[] = {
      {"state-dir", 'd', 0, G_OPTION_ARG_FILENAME, &state_dir, "the VM's state folder (required)", "DIR"},
      {"name", 'n', 0, G_OPTION_ARG_STRING, &name, "the VM's name", "NAME"},
      {"qmp", 0, 0, G_OPTION_ARG_FILENAME, &qmp, "QEMU's QMP socket (default DIR/qmp.sock)", "PATH"},
      {"agent", 0, 0, G_OPTION_ARG_FILENAME, &agent, "the agent's chardev socket (default DIR/agent.sock)", "PATH"},
      {"qemu-pidfile", 0, 0, G_OPTION_ARG_FILENAME, &qemu_pidfile, "QEMU's pid file, when memhp launched it", "PATH"},
      {"accel", 0, 0, G_OPTION_ARG_STRING, &accel, "the accelerator QEMU runs with (for status)", "kvm|tcg"},
      {"audit-socket", 0, 0, G_OPTION_ARG_FILENAME, &audit_socket, "the memhp-audit plugin's control socket, when QEMU runs it", "PATH"},
      {"audit-arm", 0, 0, G_OPTION_ARG_STRING, &audit_arm, "arm the plugin when the agent says hello (boot done), or only on request (default hello)", "hello|request"},
      {"libvirt", 0, 0, G_OPTION_ARG_STRING, &libvirt_domain, "serve this libvirt domain (name or UUID) instead of a QEMU over QMP", "DOMAIN"},
      {"on-stop", 0, 0, G_OPTION_ARG_STRING, &on_stop, "with --libvirt: what stop does to the domain (default leave)", "leave|destroy"},
      {"connect", 0, 0, G_OPTION_ARG_STRING, &libvirt_uri, "the libvirt connection URI (default qemu:///system)", "URI"},
      {},
  };
  g_autoptr(GOptionContext) context = g_option_context_new("- memhp per-VM supervisor");
  g_option_context_add_main_entries(context, entries, nullptr);
  // The parser removes what it took from the vector it is given (and frees it): a copy.
  g_auto(GStrv) argv = g_new0(gchar*, args.size() + 1);
  for (size_t i = 0; i < args.size(); ++i) argv[i] = g_strdup(args[i].c_str());
  g_autoptr(GError) error = nullptr;
  if (!g_option_context_parse_strv(context, &argv, &error)) return Error::Invalid(error->message);
  if (!state_dir || (argv[0] && argv[1])) {
    return Error::Invalid("--state-dir is required and no other arguments are taken");
  }
  const std::string arm = audit_arm ? audit_arm : "hello";
  if (arm != "hello" && arm != "request") return Error::Invalid("--audit-arm takes hello or request, not '" + arm + "'");
  // A path given empty is a mistake in the starter, not a request for the default.
  for (const auto& [option, value] : {std::pair{"--state-dir", state_dir}, std::pair{"--qmp", qmp},
                                      std::pair{"--agent", agent}, std::pair{"--qemu-pidfile", qemu_pidfile},
                                      std::pair{"--audit-socket", audit_socket}}) {
    if (value && !*value) return Error::Invalid(std::string(option) + " must not be empty");
  }
  if ((libvirt_uri || on_stop) && !libvirt_domain) return Error::Invalid("--connect and --on-stop go with --libvirt");
  const std::string stop = on_stop ? on_stop : "leave";
  if (stop != "leave" && stop != "destroy") return Error::Invalid("--on-stop takes leave or destroy, not '" + stop + "'");
  if (libvirt_domain && (qmp || agent || qemu_pidfile || audit_socket)) {
    return Error::Invalid("--libvirt takes no --qmp, --agent, --qemu-pidfile or --audit-socket: libvirt owns them");
  }
  if ((libvirt_domain && !*libvirt_domain) || (libvirt_uri && !*libvirt_uri)) {
    return Error::Invalid("--libvirt and --connect must not be empty");
  }
  MemhpdOptions options;
  options.state_dir = state_dir;
  options.name = name ? name : "default";
  options.qmp_socket = qmp ? qmp : "";
  options.agent_socket = agent ? agent : "";
  options.qemu_pidfile = qemu_pidfile ? qemu_pidfile : "";
  options.accel = accel ? accel : "";
  options.audit_socket = audit_socket ? audit_socket : "";
  options.audit_arm_on_request = arm == "request";
  options.libvirt_domain = libvirt_domain ? libvirt_domain : "";
  if (libvirt_uri) options.libvirt_uri = libvirt_uri;
  options.libvirt_stop_destroys = stop == "destroy";
  return options;
}

}  // namespace memhp::daemon
