// memhpd — entry point: the per-VM supervisor. Started by `memhpctl launch` or `memhpctl attach`.
//
// Readiness: once QMP is connected and the control socket listens, memhpd prints "ready" on
// stdout and closes it, so the starter (which reads a pipe) knows it can connect; any earlier
// exit closes the pipe without it, and the reason is in memhpd.log (stderr).
#include <fcntl.h>
#include <glib-unix.h>
#include <glib.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <string>

#include "base/unique_fd.h"
#include "daemon/supervisor.h"
#include "memhp_config.h"
#include "vm/state_dir.h"

int main(int argc, char** argv) {
  g_autofree gchar* state_dir = nullptr;
  g_autofree gchar* name = g_strdup("default");
  g_autofree gchar* qmp = nullptr;
  g_autofree gchar* agent = nullptr;
  g_autofree gchar* qemu_pidfile = nullptr;
  g_autofree gchar* accel = g_strdup("");
  g_autofree gchar* audit_socket = nullptr;
  g_autofree gchar* audit_arm = g_strdup("hello");
  GOptionEntry entries[] = {
      {"state-dir", 'd', 0, G_OPTION_ARG_FILENAME, &state_dir, "the VM's state folder (required)", "DIR"},
      {"name", 'n', 0, G_OPTION_ARG_STRING, &name, "the VM's name", "NAME"},
      {"qmp", 0, 0, G_OPTION_ARG_FILENAME, &qmp, "QEMU's QMP socket (default DIR/qmp.sock)", "PATH"},
      {"agent", 0, 0, G_OPTION_ARG_FILENAME, &agent, "the agent's chardev socket (default DIR/agent.sock)", "PATH"},
      {"qemu-pidfile", 0, 0, G_OPTION_ARG_FILENAME, &qemu_pidfile, "QEMU's pid file, when memhp launched it", "PATH"},
      {"accel", 0, 0, G_OPTION_ARG_STRING, &accel, "the accelerator QEMU runs with (for status)", "kvm|tcg"},
      {"audit-socket", 0, 0, G_OPTION_ARG_FILENAME, &audit_socket, "the memhp-audit plugin's control socket, when QEMU runs it", "PATH"},
      {"audit-arm", 0, 0, G_OPTION_ARG_STRING, &audit_arm, "arm the plugin when the agent says hello (boot done), or only on request (default hello)", "hello|request"},
      {},
  };
  g_autoptr(GOptionContext) options = g_option_context_new("- memhp per-VM supervisor");
  g_option_context_add_main_entries(options, entries, nullptr);
  g_autoptr(GError) error = nullptr;
  if (!g_option_context_parse(options, &argc, &argv, &error)) {
    std::fprintf(stderr, "memhpd: %s\n", error->message);
    return 2;
  }
  if (!state_dir || argc > 1) {
    std::fprintf(stderr, "memhpd: --state-dir is required and no other arguments are taken\n");
    return 2;
  }
  const std::string arm = audit_arm;
  if (arm != "hello" && arm != "request") {
    std::fprintf(stderr, "memhpd: --audit-arm takes hello or request, not '%s'\n", audit_arm);
    return 2;
  }
  std::signal(SIGPIPE, SIG_IGN);
  memhp::vm::StateDir dir(state_dir);
  if (const long other = memhp::vm::ReadLivePid(dir.memhpd_pidfile()); other && other != getpid()) {
    std::fprintf(stderr, "memhpd: another memhpd (pid %ld) serves %s\n", other, state_dir);
    return 1;
  }
  std::ofstream(dir.memhpd_pidfile()) << getpid() << "\n";

  g_autoptr(GMainLoop) loop = g_main_loop_new(nullptr, FALSE);
  memhp::daemon::Supervisor supervisor(
      memhp::daemon::SupervisorConfig{
          .vm_name = name,
          .state_dir = state_dir,
          .qmp_socket = qmp ? qmp : dir.qmp_socket(),
          .agent_socket = agent ? agent : dir.agent_socket(),
          .control_socket = dir.control_socket(),
          .qemu_pidfile = qemu_pidfile ? qemu_pidfile : "",
          .accel = accel,
          .audit_socket = audit_socket ? audit_socket : "",
          .audit_arm = arm == "hello" ? memhp::daemon::ArmPolicy::kOnAgentHello
                                      : memhp::daemon::ArmPolicy::kOnRequest,
      },
      loop);
  const std::string failure = supervisor.Start();
  if (!failure.empty()) {
    std::fprintf(stderr, "memhpd: %s\n", failure.c_str());
    unlink(dir.memhpd_pidfile().c_str());
    return 1;
  }
  auto quit = [](gpointer l) -> gboolean {
    g_main_loop_quit(static_cast<GMainLoop*>(l));
    return G_SOURCE_REMOVE;
  };
  g_unix_signal_add(SIGTERM, quit, loop);
  g_unix_signal_add(SIGINT, quit, loop);

  g_message("memhpd %s serving VM '%s' in %s", MEMHP_VERSION, name, state_dir);
  std::printf("ready\n");
  std::fflush(stdout);
  if (const memhp::UniqueFd devnull(open("/dev/null", O_WRONLY | O_CLOEXEC)); devnull.valid()) {
    dup2(devnull.get(), STDOUT_FILENO);
  }
  g_main_loop_run(loop);
  unlink(dir.memhpd_pidfile().c_str());
  g_message("memhpd stopped");
  return 0;
}
