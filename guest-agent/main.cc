// memhp-agent — entry point: parse options, wire the parts, run the main loop.
#include <glib-unix.h>
#include <glib.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <memory>
#include <cstdio>
#include <string>

#include "agent/agent.h"
#include "agent/block_operator.h"
#include "agent/channel_openers.h"
#include "agent/event_log.h"
#include "agent/event_reporter.h"
#include "agent/hotplug_watcher.h"
#include "agent/request_handler.h"
#include "io/interrupt_signal.h"
#include "io/sysfs_block_writer.h"
#include "io/uevent_monitor.h"
#include "notifier/notifier_chain.h"
#include "notifier/transition_driver.h"
#include "policy/online_policy.h"
#include "memhp_config.h"
#include "sysfs/sysfs_reader.h"

int main(int argc, char** argv) {
  g_autofree gchar* port_name = g_strdup("org.memhp.agent.0");
  g_autofree gchar* socket_path = nullptr;
  g_autofree gchar* sysfs_root = g_strdup("/");
  g_autofree gchar* policy_name = g_strdup("auto-movable");
  gint movable_ratio = 301;
  gint backlog = 4096;
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

  memhp::agent::Result<memhp::agent::PolicyKind> policy_kind = memhp::agent::ParsePolicyKind(policy_name);
  if (!policy_kind.ok() || movable_ratio < 0 || backlog <= 0) {
    std::fprintf(stderr, "memhp-agent: %s\n",
                 policy_kind.ok() ? "--movable-ratio and --event-backlog must be positive"
                                  : policy_kind.error().message.c_str());
    return 2;
  }
  const memhp::agent::PolicyConfig policy{.kind = *policy_kind,
                                          .movable_ratio_percent = static_cast<uint32_t>(movable_ratio),
                                          .numa_aware = true};
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
  memhp::agent::TransitionDriver driver(
      chain, writer, [&reporter](const memhp::agent::EmittedEvent& e, const memhp::agent::NotifyContext& c) {
        reporter.OnEmitted(e, c);
      });
  memhp::agent::BlockOperator operations(
      sysfs, driver, [&writer](std::chrono::milliseconds d) { writer.set_deadline(d); }, page_size, policy);
  memhp::agent::RequestHandler handler(
      sysfs,
      memhp::agent::AgentIdentity{
          .kernel_release = uts.release,
          .page_size = page_size,
          .pid = static_cast<uint64_t>(getpid()),
      },
      &operations);
  memhp::agent::ChannelOpener opener =
      socket_path ? memhp::agent::UnixSocketOpener(socket_path)
                  : memhp::agent::VirtioPortOpener(sysfs_root, port_name);

  g_autoptr(GMainLoop) loop = g_main_loop_new(context, FALSE);
  memhp::agent::Agent agent(handler, reporter, std::move(opener), context);
  memhp::agent::HotplugWatcher watcher(sysfs, operations, reporter, context);
  reporter.SetObserver([&watcher](const memhp::v1::MemoryEvent& e) { watcher.OnOwnEvent(e); });

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
