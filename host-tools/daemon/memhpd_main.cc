// memhpd — entry point: the per-VM supervisor. Started by `memhpctl launch` or `memhpctl attach`.
//
// Readiness: once QMP is connected and the control socket listens, memhpd prints "ready" on
// stdout and closes it, so the starter (which reads a pipe) knows it can connect; any earlier
// exit closes the pipe without it, and the reason is in memhpd.log (stderr).
#include <fcntl.h>
#include <glib-unix.h>
#include <glib.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "base/unique_fd.h"
#include "daemon/libvirt/libvirt_supervisor.h"
#include "daemon/memhpd_options.h"
#include "daemon/supervisor.h"
#include "memhp_config.h"
#include "vm/pid_file.h"
#include "vm/state_dir.h"

namespace {

// "ready" to the starter, then stdout to /dev/null: the pipe's reader stops reading once it
// has the word, and a later write there must not fail or block. A failure is logged, not
// fatal: the starter that cannot hear us gives up on its own (launcher/process.h, StartDaemon).
void AnnounceReady() {
  if (std::printf("ready\n") < 0 || std::fflush(stdout) != 0) {
    g_warning("cannot tell the starter memhpd is ready (stdout: %s)", g_strerror(errno));
  }
  const memhp::UniqueFd devnull(open("/dev/null", O_WRONLY | O_CLOEXEC));
  if (!devnull.valid()) {
    g_warning("open /dev/null: %s; stdout stays the starter's pipe", g_strerror(errno));
    return;
  }
  if (dup2(devnull.get(), STDOUT_FILENO) < 0) g_warning("dup2 /dev/null to stdout: %s", g_strerror(errno));
}

void RemovePidFile(const memhp::vm::StateDir& dir) {
  if (const memhp::Status removed = memhp::vm::RemovePidFile(dir.memhpd_pidfile()); !removed.ok()) {
    g_warning("%s", removed.error().message.c_str());
  }
}

}  // namespace

int main(int argc, char** argv) {
  const memhp::Result<memhp::daemon::MemhpdOptions> parsed =
      memhp::daemon::ParseMemhpdOptions(std::vector<std::string>(argv, argv + argc));
  if (!parsed.ok()) {
    std::fprintf(stderr, "memhpd: %s\n", parsed.error().message.c_str());
    return 2;
  }
  const memhp::daemon::MemhpdOptions& options = *parsed;
  std::signal(SIGPIPE, SIG_IGN);
  const memhp::vm::StateDir dir(options.state_dir);
  if (const long other = memhp::vm::ReadLivePid(dir.memhpd_pidfile()); other && other != getpid()) {
    std::fprintf(stderr, "memhpd: another memhpd (pid %ld) serves %s\n", other, options.state_dir.c_str());
    return 1;
  }
  // Without its pid file nobody finds this memhpd to stop it (memhpctl stop): no start at all.
  if (const memhp::Status written = memhp::vm::WritePidFile(dir.memhpd_pidfile(), getpid()); !written.ok()) {
    std::fprintf(stderr, "memhpd: %s\n", written.error().message.c_str());
    return 1;
  }

  g_autoptr(GMainLoop) loop = g_main_loop_new(nullptr, FALSE);
  // One of the two engines (docs/architecture.md, "ports"): a QEMU over QMP, or a libvirt domain.
  std::unique_ptr<memhp::daemon::Supervisor> qemu;
  std::unique_ptr<memhp::daemon::libvirt::LibvirtSupervisor> libvirt;
  memhp::Status started = memhp::OkStatus();
  if (!options.libvirt_domain.empty()) {
    libvirt = std::make_unique<memhp::daemon::libvirt::LibvirtSupervisor>(
        memhp::daemon::libvirt::LibvirtSupervisorConfig{
            .vm_name = options.name,
            .state_dir = options.state_dir,
            .control_socket = dir.control_socket(),
            .uri = options.libvirt_uri,
            .domain = options.libvirt_domain,
            .on_stop = options.libvirt_stop_destroys ? memhp::daemon::libvirt::StopAction::kDestroy
                                                     : memhp::daemon::libvirt::StopAction::kLeaveRunning,
        },
        loop);
    started = libvirt->Start();
  } else {
    qemu = std::make_unique<memhp::daemon::Supervisor>(
        memhp::daemon::SupervisorConfig{
            .vm_name = options.name,
            .state_dir = options.state_dir,
            .qmp_socket = options.qmp_socket.empty() ? dir.qmp_socket() : options.qmp_socket,
            .agent_socket = options.agent_socket.empty() ? dir.agent_socket() : options.agent_socket,
            .control_socket = dir.control_socket(),
            .qemu_pidfile = options.qemu_pidfile,
            .accel = options.accel,
            .audit_socket = options.audit_socket,
            .audit_arm = options.audit_arm_on_request ? memhp::daemon::ArmPolicy::kOnRequest
                                                      : memhp::daemon::ArmPolicy::kOnAgentHello,
        },
        loop);
    started = qemu->Start();
  }
  if (!started.ok()) {
    std::fprintf(stderr, "memhpd: %s\n", started.error().message.c_str());
    RemovePidFile(dir);
    return 1;
  }
  auto quit = [](gpointer l) -> gboolean {
    g_main_loop_quit(static_cast<GMainLoop*>(l));
    return G_SOURCE_REMOVE;
  };
  g_unix_signal_add(SIGTERM, quit, loop);
  g_unix_signal_add(SIGINT, quit, loop);

  g_message("memhpd %s serving VM '%s' in %s", MEMHP_VERSION, options.name.c_str(), options.state_dir.c_str());
  AnnounceReady();
  g_main_loop_run(loop);
  RemovePidFile(dir);
  g_message("memhpd stopped");
  return 0;
}
