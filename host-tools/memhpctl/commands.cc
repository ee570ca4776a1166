// memhpctl — the verbs (see commands.h).
#include "memhpctl/commands.h"

#include <fcntl.h>
#include <glib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <cstdio>
#include <optional>
#include <string>
#include <thread>

#include "ctl/status_view.h"
#include "ctl/terminal_text.h"
#include "launcher/installation.h"
#include "launcher/libvirt_create.h"
#include "launcher/libvirt_domain_xml.h"
#include "launcher/process.h"
#include "base/unique_fd.h"
#include "launcher/qemu_command.h"
#include "memhpctl/cli_call.h"
#include "memhpctl/control_client.h"
#include "memhpctl/progress_line.h"
#include "vm/state_dir.h"

namespace memhp::cli {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

bool KvmUsable() {
  return UniqueFd(open("/dev/kvm", O_RDWR | O_CLOEXEC)).valid();
}

// --accel auto: KVM on a bare-metal host; TCG inside a VM (the CPU's "hypervisor" flag). Nested
// KVM was seen to fail on these machines: QEMU 7.2 aborts setting MSR 0x10a with -cpu max, and
// with that feature masked the guest kernel never gets past early boot.
bool PreferKvm() {
  if (!KvmUsable()) return false;
  g_autofree gchar* cpuinfo = nullptr;
  if (!g_file_get_contents("/proc/cpuinfo", &cpuinfo, nullptr, nullptr)) return true;
  return std::strstr(cpuinfo, " hypervisor") == nullptr;
}

std::string ConsoleTail(const vm::StateDir& state) {
  std::string tail = vm::TailFile(state.console_log(), 25);
  return tail.empty() ? "(the console printed nothing)" : tail;
}

// A fresh state folder: old sockets and logs of a VM that is no longer running are removed.
std::string PrepareStateDir(const vm::StateDir& state) {
  if (g_mkdir_with_parents(state.path().c_str(), 0700) != 0) {
    return "cannot create " + state.path() + ": " + g_strerror(errno);
  }
  for (const std::string& f : {state.qmp_socket(), state.agent_socket(), state.console_socket(),
                               state.control_socket(), state.console_log(), state.qemu_pidfile(),
                               state.memhpd_pidfile(), state.audit_report()}) {
    // A stale file left in place would be taken for the new VM's (a socket, a pid).
    if (unlink(f.c_str()) != 0 && errno != ENOENT) return "cannot remove " + f + ": " + g_strerror(errno);
  }
  return "";
}

// Ends a process a failed launch or attach started; "" when it is gone, else the words that
// name the one left behind for the failure message (a stray QEMU or memhpd keeps the VM busy).
std::string EndStarted(const char* what, long pid, std::chrono::milliseconds grace) {
  if (launcher::TerminateProcess(pid, grace)) return "";
  return std::string("; ") + what + " (pid " + std::to_string(pid) + ") could not be ended";
}

// Polls memhpd until the agent has said hello, QEMU has gone, or the deadline passes.
enum class AgentWait { kConnected, kQemuGone, kTimeout };

// The boot phase for the progress line: the guest console's last line while the kernel boots
// (the guest's words: ProgressLine escapes them), then the agent's hello.
std::string BootPhase(const vm::StateDir& state, const memhp::v1::VmStatus& last) {
  if (last.agent().connected()) return "launch: the agent said hello; reading its inventory";
  std::string tail = vm::TailFile(state.console_log(), 1);
  while (!tail.empty() && (tail.back() == '\n' || tail.back() == '\r')) tail.pop_back();
  if (tail.empty()) return "launch: QEMU started; waiting for the kernel";
  constexpr size_t kShown = 60;  // one line on an 80-column terminal, with the rest
  if (tail.size() > kShown) tail = tail.substr(0, kShown) + "...";
  return "launch: booting: " + tail;
}

AgentWait WaitForAgent(const vm::StateDir& state, long qemu_pid, std::chrono::milliseconds timeout,
                       memhp::v1::VmStatus* last, ProgressLine& progress) {
  const auto deadline = Clock::now() + timeout;
  ControlClient client(state.control_socket());
  while (Clock::now() < deadline) {
    if (qemu_pid && !launcher::ProcessAlive(qemu_pid)) return AgentWait::kQemuGone;
    memhp::v1::ControlRequest request;
    request.mutable_status()->set_refresh_inventory(false);
    CallResult result = client.Call(request, 5s);
    if (result.ok() && result.value().has_status()) {
      *last = result.value().status();
      if (last->agent().connected() && last->agent().has_inventory()) return AgentWait::kConnected;
    }
    progress.Show(FormatText("%s %.0f s", BootPhase(state, *last).c_str(), progress.Elapsed()));
    std::this_thread::sleep_for(200ms);
  }
  return AgentWait::kTimeout;
}

std::vector<std::string> MemhpdArgv(const launcher::Installation& installation,
                                    const Command& command, const vm::StateDir& state) {
  return {installation.memhpd_binary, "--state-dir", state.path(), "--name", command.global.vm};
}

// The default VM as a transient libvirt domain, served by memhpd through libvirt; memhpd's
// stop destroys it (it is memhp's), and a failed launch destroys it too.
int LaunchLibvirt(const Command& command, const launcher::QemuLaunchSpec& qemu_spec,
                  const launcher::Installation& installation, Clock::time_point started) {
  const LaunchOptions& opt = command.launch;
  const vm::StateDir& state = qemu_spec.state;
  launcher::LibvirtLaunchSpec spec{
      .domain_name = launcher::LibvirtDomainName(command.global.vm),
      .layout = qemu_spec.layout,
      .accel = qemu_spec.accel,
      .kernel = qemu_spec.kernel,
      .initrd = qemu_spec.initrd,
      .agent_args = qemu_spec.agent_args,
      .kernel_append = qemu_spec.kernel_append,
      .state = state,
  };
  if (Status created = launcher::CreateTransientDomain(opt.libvirt_uri, launcher::BuildLibvirtDomainXml(spec));
      !created.ok()) {
    return Fail(command, kExitFailed, "libvirt did not start the domain: " + created.error().message);
  }
  auto destroy = [&]() -> std::string {
    Status destroyed = launcher::DestroyDomain(opt.libvirt_uri, spec.domain_name);
    return destroyed.ok() ? "" : "; " + destroyed.error().message;
  };
  std::vector<std::string> argv = MemhpdArgv(installation, command, state);
  argv.insert(argv.end(), {"--libvirt", spec.domain_name, "--connect", opt.libvirt_uri, "--on-stop", "destroy"});
  const launcher::DaemonStart daemon = launcher::StartDaemon(argv, state.memhpd_log(), 20s);
  if (!daemon.ready) {
    const std::string left = EndStarted("memhpd", daemon.pid, 2s) + destroy();
    return Fail(command, kExitFailed, "memhpd did not start (" + daemon.why + ")" + left + ":\n" +
                                          vm::TailFile(state.memhpd_log(), 10));
  }
  const std::chrono::milliseconds boot_timeout(opt.boot_timeout_ms ? opt.boot_timeout_ms
                                               : spec.accel == "kvm"  ? 60'000
                                                                      : 180'000);
  memhp::v1::VmStatus status;
  ProgressLine progress(command);
  const AgentWait waited = WaitForAgent(state, 0, boot_timeout, &status, progress);
  progress.Clear();
  if (waited != AgentWait::kConnected) {
    const std::string console = ConsoleTail(state);
    const std::string left = EndStarted("memhpd", daemon.pid, 5s) + destroy();
    return Fail(command, kExitTimeout,
                "the guest agent did not say hello within " + std::to_string(boot_timeout.count()) + " ms" + left +
                    "; the console's last lines:\n" + console);
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
  const std::string& kernel = status.agent().hello().guest().kernel_release();  // the guest's words
  const std::string json = FormatText(
      "{\"vm\": %s, \"state_dir\": %s, \"engine\": \"libvirt\", \"domain\": %s, \"uri\": %s, "
      "\"memhpd_pid\": %ld, \"seconds\": %.2f, \"kernel_release\": %s}\n",
      JsonString(command.global.vm).c_str(), JsonString(state.path()).c_str(), JsonString(spec.domain_name).c_str(),
      JsonString(opt.libvirt_uri).c_str(), daemon.pid, seconds, JsonString(kernel).c_str());
  const std::string text = FormatText(
      "VM '%s' is up in %.1f s: libvirt domain %s on %s, memhpd pid %ld, agent on kernel %s\nstate folder: %s\n",
      command.global.vm.c_str(), seconds, spec.domain_name.c_str(), opt.libvirt_uri.c_str(), daemon.pid,
      ctl::EscapeForTerminal(kernel, ctl::Newlines::kEscape).c_str(), state.path().c_str());
  return PrintAnswer(command, kExitOk, text, json);
}

}  // namespace

int RunLaunch(const Command& command) {
  const auto started = Clock::now();
  ProgressLine progress(command);  // cleared when it goes, before anything is printed after it
  const vm::StateDir state = StateOf(command);
  if (const long pid = vm::ReadLivePid(state.memhpd_pidfile())) {
    return Fail(command, kExitFailed, "VM '" + command.global.vm + "' is already served by memhpd (pid " +
                                          std::to_string(pid) + "); stop it first");
  }
  if (const long pid = vm::ReadLivePid(state.qemu_pidfile())) {
    return Fail(command, kExitFailed, "VM '" + command.global.vm + "' still has a QEMU (pid " +
                                          std::to_string(pid) + "); run memhpctl stop");
  }
  const LaunchOptions& opt = command.launch;
  launcher::QemuLaunchSpec spec;
  spec.layout = launcher::VmLayout{
      .memory_mib = opt.memory_mib,
      .nodes = opt.nodes,
      .cpus = 2,
      .slots = opt.slots,
      .maxmem_mib = opt.maxmem_mib,
      .virtio_mem_max_mib = opt.virtio_mem_max_mib,
  };
  if (std::string bad = launcher::ValidateLayout(spec.layout); !bad.empty()) {
    return Fail(command, kExitUsage, bad);
  }
  if (opt.accel == Accel::kKvm && !KvmUsable()) {
    return Fail(command, kExitFailed, "--accel kvm: /dev/kvm cannot be opened");
  }
  spec.accel = opt.accel == Accel::kKvm || (opt.accel == Accel::kAuto && PreferKvm()) ? "kvm" : "tcg";

  const launcher::Installation installation = launcher::Installation::FromEnvironment();
  spec.kernel = opt.kernel;
  spec.initrd = opt.initrd;
  if (spec.kernel.empty() || spec.initrd.empty() || opt.image == GuestImageKind::kDebian) {
    progress.Show("launch: preparing the guest image");
    launcher::GuestImage image;
    const std::string error = opt.image == GuestImageKind::kDebian
                                  ? launcher::PrepareDebianImage(installation, &image)
                                  : launcher::PrepareDefaultImage(installation, &image);
    if (!error.empty()) {
      progress.Clear();
      return Fail(command, kExitFailed, error);
    }
    if (spec.kernel.empty()) spec.kernel = image.kernel;
    if (spec.initrd.empty()) spec.initrd = image.initrd;
    spec.root_disk = image.root_disk;
  }
  spec.agent_args = opt.agent_args;
  spec.kernel_append = opt.kernel_append;
  spec.state = state;
  if (opt.audit) {
    if (!g_file_test(installation.audit_plugin.c_str(), G_FILE_TEST_IS_REGULAR)) {
      return Fail(command, kExitFailed,
                  "--audit: the memhp-audit plugin was not built (no " + installation.audit_plugin +
                      "); run host-tools/setup/fetch-plugin-header.sh and rebuild, or set "
                      "MEMHP_AUDIT_PLUGIN");
    }
    spec.audit_plugin = installation.audit_plugin;
  }
  if (std::string error = PrepareStateDir(state); !error.empty()) {
    return Fail(command, kExitFailed, error);
  }

  if (opt.engine_libvirt) return LaunchLibvirt(command, spec, installation, started);

  // QEMU daemonizes once its sockets listen; errors before that come back on stderr.
  progress.Show("launch: starting QEMU (" + spec.accel + ")");
  const launcher::RunResult qemu = launcher::RunCapture(launcher::BuildQemuArgv(spec));
  if (qemu.exit_code != 0) {
    progress.Clear();
    return Fail(command, kExitFailed, "QEMU did not start: " + (qemu.err.empty() ? "exit status " + std::to_string(qemu.exit_code) : qemu.err));
  }
  const long qemu_pid = vm::ReadLivePid(state.qemu_pidfile());

  std::vector<std::string> memhpd_argv = MemhpdArgv(installation, command, state);
  memhpd_argv.insert(memhpd_argv.end(), {"--qemu-pidfile", state.qemu_pidfile(), "--accel", spec.accel});
  if (opt.audit) {
    memhpd_argv.insert(memhpd_argv.end(), {"--audit-socket", state.audit_socket(), "--audit-arm",
                                           opt.audit_arm_on_request ? "request" : "hello"});
  }
  progress.Show("launch: QEMU started (pid " + std::to_string(qemu_pid) + "); starting memhpd");
  const launcher::DaemonStart daemon = launcher::StartDaemon(memhpd_argv, state.memhpd_log(), 20s);
  if (!daemon.ready) {
    progress.Clear();
    const std::string left = EndStarted("QEMU", qemu_pid, 5s) + EndStarted("memhpd", daemon.pid, 2s);
    return Fail(command, kExitFailed, "memhpd did not start (" + daemon.why + ")" + left + ":\n" +
                                          vm::TailFile(state.memhpd_log(), 10));
  }

  const std::chrono::milliseconds boot_timeout(opt.boot_timeout_ms ? opt.boot_timeout_ms
                                               : spec.accel == "kvm"  ? 60'000
                                                                      : 180'000);
  memhp::v1::VmStatus status;
  const AgentWait waited = WaitForAgent(state, qemu_pid, boot_timeout, &status, progress);
  progress.Clear();
  if (waited != AgentWait::kConnected) {
    const std::string console = ConsoleTail(state);
    // A failed launch leaves no stray QEMU and no memhpd behind.
    const std::string left = EndStarted("QEMU", qemu_pid, 5s) + EndStarted("memhpd", daemon.pid, 5s);
    const std::string why = waited == AgentWait::kQemuGone
                                ? "QEMU exited before the guest agent said hello"
                                : "the guest agent did not say hello within " +
                                      (boot_timeout.count() % 1000 == 0
                                           ? std::to_string(boot_timeout.count() / 1000) + " s"
                                           : std::to_string(boot_timeout.count()) + " ms");
    return Fail(command, waited == AgentWait::kTimeout ? kExitTimeout : kExitFailed,
                why + left + "; the console's last lines:\n" + console);
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
  const std::string& kernel = status.agent().hello().guest().kernel_release();  // the guest's words
  const std::string json = FormatText(
      "{\"vm\": %s, \"state_dir\": %s, \"qemu_pid\": %ld, \"memhpd_pid\": %ld, \"accel\": \"%s\", "
      "\"seconds\": %.2f, \"kernel_release\": %s}\n",
      JsonString(command.global.vm).c_str(), JsonString(state.path()).c_str(), qemu_pid, daemon.pid,
      spec.accel.c_str(), seconds, JsonString(kernel).c_str());
  const std::string text = FormatText(
      "VM '%s' is up in %.1f s: QEMU pid %ld (%s), memhpd pid %ld, agent on kernel %s\nstate folder: %s\n",
      command.global.vm.c_str(), seconds, qemu_pid, spec.accel.c_str(), daemon.pid,
      ctl::EscapeForTerminal(kernel, ctl::Newlines::kEscape).c_str(), state.path().c_str());
  return PrintAnswer(command, kExitOk, text, json);
}

int RunAttach(const Command& command) {
  const vm::StateDir state = StateOf(command);
  if (const long pid = vm::ReadLivePid(state.memhpd_pidfile())) {
    return Fail(command, kExitFailed, "VM '" + command.global.vm + "' is already served by memhpd (pid " +
                                          std::to_string(pid) + ")");
  }
  if (g_mkdir_with_parents(state.path().c_str(), 0700) != 0) {
    return Fail(command, kExitFailed, "cannot create " + state.path() + ": " + g_strerror(errno));
  }
  const launcher::Installation installation = launcher::Installation::FromEnvironment();
  std::vector<std::string> argv = MemhpdArgv(installation, command, state);
  if (!command.attach.libvirt_domain.empty()) {
    // libvirt owns the domain's monitor and channels: memhpd reaches both through libvirt.
    argv.insert(argv.end(), {"--libvirt", command.attach.libvirt_domain});
    if (!command.attach.libvirt_uri.empty()) argv.insert(argv.end(), {"--connect", command.attach.libvirt_uri});
  } else {
    argv.insert(argv.end(), {"--qmp", command.attach.qmp});
    if (!command.attach.agent.empty()) argv.insert(argv.end(), {"--agent", command.attach.agent});
  }
  // Re-attaching to a VM memhp launched (memhpd died or was restarted): keep its QEMU pid, so
  // stop can still fall back to signalling it.
  if (command.attach.libvirt_domain.empty() && vm::ReadLivePid(state.qemu_pidfile())) argv.insert(argv.end(), {"--qemu-pidfile", state.qemu_pidfile()});
  // A QEMU launched with --audit keeps its plugin: the new memhpd drives it too (it was armed
  // already, or is armed on request).
  if (command.attach.libvirt_domain.empty() && g_file_test(state.audit_socket().c_str(), G_FILE_TEST_EXISTS)) {
    argv.insert(argv.end(), {"--audit-socket", state.audit_socket(), "--audit-arm", "request"});
  }
  const launcher::DaemonStart daemon = launcher::StartDaemon(argv, state.memhpd_log(), 20s);
  if (!daemon.ready) {
    const std::string left = EndStarted("memhpd", daemon.pid, 2s);
    return Fail(command, kExitFailed, "memhpd did not start (" + daemon.why + ")" + left + ":\n" +
                                          vm::TailFile(state.memhpd_log(), 10));
  }
  return PrintAnswer(command, kExitOk,
                     FormatText("memhpd (pid %ld) serves VM '%s'; state folder: %s\n", daemon.pid,
                                command.global.vm.c_str(), state.path().c_str()),
                     FormatText("{\"vm\": %s, \"state_dir\": %s, \"memhpd_pid\": %ld}\n",
                                JsonString(command.global.vm).c_str(), JsonString(state.path()).c_str(), daemon.pid));
}

int RunStatus(const Command& command) {
  if (command.global.all) return RunStatusAll(command);
  const vm::StateDir state = StateOf(command);
  ControlClient client(state.control_socket());
  memhp::v1::ControlRequest request;
  request.mutable_status()->set_refresh_inventory(command.status.refresh);
  CallResult result = client.Call(request, 15s);
  if (!result.ok()) {
    return Fail(command, result.error().code == memhp::v1::ERROR_CODE_TIMEOUT ? kExitTimeout : kExitFailed,
                "VM '" + command.global.vm + "': " + result.error().message);
  }
  if (result.value().has_error()) {
    return Fail(command, kExitFailed, result.value().error().message());
  }
  const memhp::v1::VmStatus& status = result.value().status();
  // A VM launched with --audit: the plugin's heat per device too. Status works without it.
  std::optional<memhp::v1::AuditReport> audit;
  if (command.attach.libvirt_domain.empty() && g_file_test(state.audit_socket().c_str(), G_FILE_TEST_EXISTS)) {
    memhp::v1::ControlRequest audit_request;
    audit_request.mutable_audit();
    CallResult audit_result = client.Call(audit_request, 10s);
    if (audit_result.ok() && audit_result.value().has_audit()) audit = audit_result.value().audit();
  }
  const memhp::v1::AuditReport* heat = audit ? &*audit : nullptr;
  if (command.global.json) return PrintAnswer(command, kExitOk, "", ctl::RenderStatusJson(status, heat));
  return PrintAnswer(command, kExitOk, ctl::RenderStatusText(status, heat), "");
}

int RunStop(const Command& command) {
  const vm::StateDir state = StateOf(command);
  const long qemu_pid = vm::ReadLivePid(state.qemu_pidfile());
  const long memhpd_pid = vm::ReadLivePid(state.memhpd_pidfile());
  const std::chrono::milliseconds timeout(command.stop.timeout_ms);
  bool asked = false;
  ProgressLine progress(command);
  if (memhpd_pid) {
    progress.Show("stop: asking QEMU to quit (QMP quit), waiting up to " +
                  std::to_string(command.stop.timeout_ms / 1000) + " s");
    ControlClient client(state.control_socket());
    memhp::v1::ControlRequest request;
    request.mutable_stop()->set_timeout_ms(command.stop.timeout_ms);
    CallResult result = client.Call(request, timeout);
    asked = result.ok() && result.value().has_stop();
    if (!asked) {
      progress.Clear();
      const std::string why = result.ok() ? result.value().error().message() : result.error().message;
      std::fprintf(stderr, "memhpctl: memhpd did not stop the VM (%s); terminating it\n",
                   ctl::EscapeForTerminal(why, ctl::Newlines::kEscape).c_str());
    }
  } else if (!qemu_pid) {
    return Fail(command, kExitFailed, "VM '" + command.global.vm + "' is not running");
  }
  // Whatever memhpd said, no QEMU and no memhpd of this VM may be left.
  progress.Show("stop: waiting for QEMU and memhpd to end");
  const bool qemu_gone = launcher::TerminateProcess(qemu_pid, asked ? timeout : 5s);
  const bool memhpd_gone = launcher::TerminateProcess(memhpd_pid, 5s);
  progress.Clear();
  if (!qemu_gone || !memhpd_gone) {
    return Fail(command, kExitFailed, "could not end " + std::string(qemu_gone ? "memhpd" : "QEMU"));
  }
  return PrintAnswer(command, kExitOk, FormatText("VM '%s' stopped%s\n", command.global.vm.c_str(), asked ? "" : " (forced)"),
                     FormatText("{\"vm\": %s, \"clean_shutdown\": %s}\n",
                                JsonString(command.global.vm).c_str(), asked ? "true" : "false"));
}

}  // namespace memhp::cli
