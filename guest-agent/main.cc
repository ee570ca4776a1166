// memhp-agent — entry point: parse options, wire the parts, run the main loop.
#include <glib-unix.h>
#include <glib.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <chrono>
#include <cerrno>
#include <csignal>
#include <map>
#include <memory>
#include <string_view>
#include <tuple>
#include <vector>
#include <cstdio>
#include <string>

#include "agent/agent.h"
#include "agent/agent_settings.h"
#include "agent/block_operator.h"
#include "agent/channel_openers.h"
#include "agent/event_log.h"
#include "agent/event_reporter.h"
#include "agent/hotplug_watcher.h"
#include "agent/own_transitions.h"
#include "agent/recording_block_writer.h"
#include "agent/request_handler.h"
#include "agent/zone_report.h"
#include "handlers/hook_scripts.h"
#include "handlers/pin_guard.h"
#include "handlers/reserve_guard.h"
#include "io/interrupt_signal.h"
#include "io/sysfs_block_writer.h"
#include "io/uevent_monitor.h"
#include "notifier/notifier_chain.h"
#include "notifier/transition_driver.h"
#include "policy/competing_onliners.h"
#include "policy/online_policy.h"
#include "memhp_config.h"
#include "pin_command.h"
#include "sysfs/sysfs_reader.h"

namespace {

// What else onlines memory here: the kernel's auto_online_blocks, its command line, and udev
// rules in the usual folders (a distribution rule that writes "online" to memory blocks).
std::vector<memhp::agent::CompetingOnliner> FindCompetitors(const memhp::agent::SysfsReader& sysfs) {
  const memhp::agent::Result<std::string> auto_online = sysfs.ReadAutoOnlineBlocks();
  g_autofree gchar* cmdline = nullptr;
  g_file_get_contents(sysfs.Path("proc/cmdline").c_str(), &cmdline, nullptr, nullptr);
  std::map<std::string, std::string> rules;
  // udev's precedence: /etc over /run over /lib; the folders are read lowest first.
  for (const char* dir : {"usr/lib/udev/rules.d", "lib/udev/rules.d", "run/udev/rules.d", "etc/udev/rules.d"}) {
    g_autoptr(GDir) d = g_dir_open(sysfs.Path(dir).c_str(), 0, nullptr);
    if (!d) continue;
    while (const gchar* name = g_dir_read_name(d)) {
      if (!g_str_has_suffix(name, ".rules")) continue;
      g_autofree gchar* text = nullptr;
      gsize length = 0;
      const std::string path = sysfs.Path(std::string(dir) + "/" + name);
      if (g_file_get_contents(path.c_str(), &text, &length, nullptr) && length < (1u << 20)) {
        rules[name] = text;  // a same-named file in a later folder overrides
      }
    }
  }
  return memhp::agent::FindCompetingOnliners(auto_online.ok() ? *auto_online : "", cmdline ? cmdline : "", rules);
}

}  // namespace

int main(int argc, char** argv) {
  // `memhp-agent pin ...`: take a pin from a shell (S22) instead of running the agent.
  if (argc > 1 && std::string_view(argv[1]) == "pin") return memhp::agent::RunPinCommand(argc - 1, argv + 1);
  g_autofree gchar* port_name = g_strdup("org.memhp.agent.0");
  g_autofree gchar* socket_path = nullptr;
  g_autofree gchar* sysfs_root = g_strdup("/");
  g_autofree gchar* policy_name = g_strdup("auto-movable");
  gint movable_ratio = 301;
  gint backlog = 4096;
  gint reserve_mib = 128;
  g_autofree gchar* hooks_dir = g_strdup(std::string(memhp::agent::kDefaultHookFolder).c_str());
  g_autofree gchar* pins_dir = g_strdup(std::string(memhp::agent::kDefaultPinFolder).c_str());
  gboolean version = FALSE;
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
      {"version", 0, 0, G_OPTION_ARG_NONE, &version, "print the version and exit", nullptr},
      {},
  };
  g_autoptr(GOptionContext) options = g_option_context_new("- memhp guest agent");
  g_option_context_add_main_entries(options, entries, nullptr);
  g_option_context_set_summary(options,
                               "Also: memhp-agent pin [--pins-dir DIR] START-END|memoryN [-- CMD...]\n"
                               "  holds a pin that vetoes offlining that range while it runs (S22).");
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

  memhp::agent::Result<memhp::agent::PolicyKind> policy_kind = memhp::agent::ParsePolicyKind(policy_name);
  if (!policy_kind.ok() || movable_ratio < 0 || backlog <= 0 || reserve_mib < 0) {
    std::fprintf(stderr, "memhp-agent: %s\n",
                 policy_kind.ok() ? "--movable-ratio, --event-backlog and --reserve-mib must be positive"
                                  : policy_kind.error().message.c_str());
    return 2;
  }
  // What the host may change at run time (SetPolicyRequest, DeviceMap, PlugIntent).
  memhp::agent::AgentSettings settings{
      .policy = {.kind = *policy_kind,
                 .movable_ratio_percent = static_cast<uint32_t>(movable_ratio),
                 .numa_aware = true},
      .devices = {}};
  // The loop's context is made explicit so every part attaches to the same one.
  GMainContext* context = g_main_context_default();

  utsname uts{};
  uname(&uts);
  const uint64_t page_size = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  memhp::agent::SysfsReader sysfs(sysfs_root);
  // Offlines are interrupted at their deadline by a signal (see io/interrupt_signal.h).
  memhp::agent::InterruptSignal interrupt;
  memhp::agent::SysfsBlockWriter writer(sysfs_root, interrupt);
  memhp::agent::EventLog log(static_cast<size_t>(backlog));
  memhp::agent::EventReporter reporter(log);
  memhp::agent::NotifierChain chain;
  // The built-in handlers (docs/model.md, S7–S9): the reserve guard first (priority 100, S8),
  // the pin guard (90, S22), then the operator's hook scripts (50). The host reporter is the
  // driver's event sink.
  auto guard = std::make_shared<memhp::agent::ReserveGuard>(
      memhp::agent::ReserveGuardOptions{.reserve_bytes = static_cast<uint64_t>(reserve_mib) << 20,
                                        .page_size_bytes = page_size},
      memhp::agent::MemInfoFromReader(sysfs));
  auto hooks = std::make_shared<memhp::agent::HookScripts>(memhp::agent::HookScriptsOptions{.folder = hooks_dir});
  // The pins folder is made (root-only writable) so guest software finds it; an operator who
  // wants unprivileged pins changes its mode.
  if (g_mkdir_with_parents(pins_dir, 0755) != 0) g_warning("cannot create %s: %s", pins_dir, g_strerror(errno));
  auto pins = std::make_shared<memhp::agent::PinGuard>(
      memhp::agent::PinGuardOptions{.folder = pins_dir, .page_size_bytes = page_size, .max_files = 1024});
  for (auto& [name, priority, block] :
       std::vector<std::tuple<std::string_view, int, std::shared_ptr<memhp::agent::NotifierBlock>>>{
           {memhp::agent::kReserveGuardName, memhp::agent::kReserveGuardPriority, guard},
           {memhp::agent::kPinGuardName, memhp::agent::kPinGuardPriority, pins},
           {memhp::agent::kHookScriptsName, memhp::agent::kHookScriptsPriority, hooks}}) {
    if (auto handle = chain.Register(std::string(name), priority, block); !handle.ok()) {
      std::fprintf(stderr, "memhp-agent: %s\n", handle.error().message.c_str());
      return 1;
    }
  }
  // The uevents of the agent's own writes are expected (and not reported twice); only its
  // successful writes make expectations, through this writer (own_transitions.h).
  memhp::agent::OwnTransitions own_transitions;
  memhp::agent::RecordingBlockWriter recording_writer(writer, sysfs, own_transitions);
  memhp::agent::TransitionDriver driver(
      chain, recording_writer, [&reporter](const memhp::agent::EmittedEvent& e, const memhp::agent::NotifyContext& c) {
        reporter.OnEmitted(e, c);
      });
  memhp::agent::BlockOperator operations(
      sysfs, driver, [&writer](std::chrono::milliseconds d) { writer.set_deadline(d); }, page_size, settings.policy,
      &settings.devices, &settings.intent);
  std::vector<std::string> competitors;
  for (const auto& c : FindCompetitors(sysfs)) {
    g_warning("another onliner competes with memhp's policy: %s: %s", c.where.c_str(), c.message.c_str());
    competitors.push_back(c.where + ": " + c.message);
  }
  memhp::agent::RequestHandler handler(
      sysfs,
      memhp::agent::AgentIdentity{
          .kernel_release = uts.release,
          .page_size = page_size,
          .pid = static_cast<uint64_t>(getpid()),
          .policy = std::string(memhp::agent::FormatPolicyKind(settings.policy.kind)),
          .competing_onliners = std::move(competitors),
      },
      &operations, &settings);
  memhp::agent::ChannelOpener opener =
      socket_path ? memhp::agent::UnixSocketOpener(socket_path)
                  : memhp::agent::VirtioPortOpener(sysfs_root, port_name);

  g_autoptr(GMainLoop) loop = g_main_loop_new(context, FALSE);
  memhp::agent::Agent agent(handler, reporter, std::move(opener), context);
  memhp::agent::HotplugWatcher watcher(
      sysfs, operations, reporter, own_transitions, context, memhp::agent::HotplugWatcherOptions{},
      [&sysfs, page_size] { return memhp::agent::ReadZoneReport(sysfs, page_size); });
  reporter.SetDeviceNamer([&settings](uint32_t block) { return settings.DeviceIdOf(block); });
  reporter.SetOwnEventObserver([&watcher](const memhp::v1::MemoryEvent& e) { watcher.OnOwnEvent(e); });

  std::unique_ptr<memhp::agent::UeventMonitor> uevents;
  if (auto socket = memhp::agent::OpenKernelUeventSocket(); socket.ok()) {
    uevents = std::make_unique<memhp::agent::UeventMonitor>(
        std::move(socket->fd), memhp::agent::SenderCheck::kKernelOnly, context,
        memhp::agent::UeventMonitorCallbacks{
            .on_uevent = [&watcher](const memhp::agent::Uevent& u) { watcher.OnUevent(u); },
            .on_overflow = [&watcher] { watcher.OnOverflow(); },
        });
  } else {
    g_warning("no kernel uevents (%s): hotplug is not watched", socket.error().message.c_str());
  }
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
