// memhp-agent — entry point: parse options, wire the parts, run the main loop.
#include <glib-unix.h>
#include <glib.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <string>

#include "agent/agent.h"
#include "agent/channel_openers.h"
#include "agent/request_handler.h"
#include "memhp_config.h"
#include "sysfs/sysfs_reader.h"

int main(int argc, char** argv) {
  g_autofree gchar* port_name = g_strdup("org.memhp.agent.0");
  g_autofree gchar* socket_path = nullptr;
  g_autofree gchar* sysfs_root = g_strdup("/");
  gboolean version = FALSE;
  GOptionEntry entries[] = {
      {"port-name", 'p', 0, G_OPTION_ARG_STRING, &port_name,
       "virtio-serial port to use (default org.memhp.agent.0)", "NAME"},
      {"socket", 's', 0, G_OPTION_ARG_FILENAME, &socket_path,
       "connect to this unix socket instead of a virtio-serial port (tests)", "PATH"},
      {"sysfs-root", 0, 0, G_OPTION_ARG_FILENAME, &sysfs_root,
       "root the kernel's /sys and /proc paths are read under (default /)", "DIR"},
      {"version", 0, 0, G_OPTION_ARG_NONE, &version, "print the version and exit", nullptr},
      {},
  };
  g_autoptr(GOptionContext) options = g_option_context_new("- memhp guest agent");
  g_option_context_add_main_entries(options, entries, nullptr);
  g_autoptr(GError) error = nullptr;
  if (!g_option_context_parse(options, &argc, &argv, &error)) {
    std::fprintf(stderr, "memhp-agent: %s\n", error->message);
    return 2;
  }
  if (argc > 1) {
    std::fprintf(stderr, "memhp-agent: unexpected argument '%s'\n", argv[1]);
    return 2;
  }
  if (version) {
    std::printf("memhp-agent %s\n", MEMHP_VERSION);
    return 0;
  }
  // A write to a socket whose peer left must be an EPIPE error, not a fatal signal.
  std::signal(SIGPIPE, SIG_IGN);

  utsname uts{};
  uname(&uts);
  memhp::agent::SysfsReader sysfs(sysfs_root);
  memhp::agent::RequestHandler handler(
      sysfs, memhp::agent::AgentIdentity{
                 .kernel_release = uts.release,
                 .page_size = static_cast<uint64_t>(sysconf(_SC_PAGESIZE)),
                 .pid = static_cast<uint64_t>(getpid()),
             });
  memhp::agent::ChannelOpener opener =
      socket_path ? memhp::agent::UnixSocketOpener(socket_path)
                  : memhp::agent::VirtioPortOpener(sysfs_root, port_name);

  g_autoptr(GMainLoop) loop = g_main_loop_new(nullptr, FALSE);
  memhp::agent::Agent agent(handler, std::move(opener), nullptr);
  auto quit = [](gpointer l) -> gboolean {
    g_main_loop_quit(static_cast<GMainLoop*>(l));
    return G_SOURCE_REMOVE;
  };
  g_unix_signal_add(SIGTERM, quit, loop);
  g_unix_signal_add(SIGINT, quit, loop);

  g_message("memhp-agent %s starting (pid %d)", MEMHP_VERSION, static_cast<int>(getpid()));
  agent.Start();
  g_main_loop_run(loop);
  g_message("memhp-agent stopping");
  return 0;
}
