// memhp-agent — see agent_daemon.h.
#include "agent/agent_daemon.h"

#include <glib-unix.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "agent/agent.h"
#include "agent/agent_settings.h"
#include "agent/block_operator.h"
#include "agent/competitor_scan.h"
#include "agent/event_log.h"
#include "agent/event_reporter.h"
#include "agent/hotplug_watcher.h"
#include "agent/own_transitions.h"
#include "agent/recording_block_writer.h"
#include "agent/request_handler.h"
#include "agent/udev_takeover.h"
#include "agent/pressure_report.h"
#include "agent/pressure_watch.h"
#include "agent/zone_report.h"
#include "handlers/hook_scripts.h"
#include "handlers/pin_guard.h"
#include "handlers/reserve_guard.h"
#include "io/interrupt_signal.h"
#include "io/sysfs_block_writer.h"
#include "memhp_config.h"
#include "sysfs/linux_abi.h"
#include "notifier/notifier_chain.h"
#include "notifier/transition_driver.h"
#include "sysfs/sysfs_reader.h"

namespace memhp::agent {
namespace {

// The facts of this process and kernel the parts need: the page size (S10/S11 count pages) and
// the kernel release (the hello). Neither call fails on Linux, but a failure must not become a
// page size of 2^64-1 or an empty release silently.
struct HostFacts {
  uint64_t page_size = 0;
  std::string kernel_release;
};

Result<HostFacts> ReadHostFacts() {
  const long page_size = sysconf(_SC_PAGESIZE);
  if (page_size <= 0) return Error::FromErrno(errno, "sysconf", "_SC_PAGESIZE");
  utsname uts{};
  if (uname(&uts) != 0) return Error::FromErrno(errno, "uname", "");
  return HostFacts{.page_size = static_cast<uint64_t>(page_size), .kernel_release = uts.release};
}

Status CheckConfig(const AgentDaemonConfig& config) {
  if (config.event_backlog == 0) return Error::Invalid("the event backlog must hold at least one event");
  if (config.sysfs_root.empty()) return Error::Invalid("the sysfs root must not be empty");
  if (config.pressure_events) {
    if (Status spec = CheckPsiTriggerSpec(config.pressure); !spec.ok()) return spec;
  }
  return OkStatus();
}

}  // namespace

Result<UeventSource> OpenKernelUevents() {
  Result<KernelUeventSocket> socket = OpenKernelUeventSocket();
  if (!socket.ok()) return std::move(socket).error();
  return UeventSource{.fd = std::move(socket->fd), .check = SenderCheck::kKernelOnly};
}

// Every part, in the order they are built: each refers to those before it, so they are
// destroyed in reverse.
struct AgentDaemon::Parts {
  Parts(const AgentDaemonConfig& config, const AgentDaemonSeams& seams, GMainContext* loop_context,
        const HostFacts& host, const std::string& took_onlining_from,
        const std::vector<std::string>& masked_udev_rules)
      : context(loop_context),
        page_size(host.page_size),
        // What the host may change at run time (SetPolicyRequest, DeviceMap, PlugIntent).
        settings{.policy = config.policy, .devices = {}},
        sysfs(config.sysfs_root),
        writer(config.sysfs_root, interrupt),
        log(config.event_backlog),
        reporter(log),
        // The built-in handlers (docs/model.md, S7–S9): the reserve guard first (priority 100,
        // S8), the pin guard (90, S22), then the operator's hook scripts (50).
        guard(std::make_shared<ReserveGuard>(
            ReserveGuardOptions{.reserve_bytes = config.reserve_bytes, .page_size_bytes = page_size},
            MemInfoFromReader(sysfs))),
        pins(std::make_shared<PinGuard>(
            PinGuardOptions{.folder = config.pins_dir, .page_size_bytes = page_size, .max_files = 1024})),
        hooks(std::make_shared<HookScripts>(HookScriptsOptions{.folder = config.hooks_dir})),
        // The uevents of the agent's own writes are expected (and not reported twice); only its
        // successful writes make expectations, through this writer (own_transitions.h).
        recording_writer(writer, sysfs, own_transitions),
        // The host reporter is the driver's event sink.
        driver(chain, recording_writer,
               [this](const EmittedEvent& e, const NotifyContext& c) { reporter.OnEmitted(e, c); }),
        operations(
            sysfs, driver, [this](std::chrono::milliseconds d) { writer.set_deadline(d); }, page_size,
            settings.policy, &settings.devices, &settings.intent),
        // The dry run reads what the reserve guard, the pin guard and the hooks would read.
        estimator(sysfs,
                  UnplugEstimatorOptions{
                      .reserve_bytes = config.reserve_bytes, .pins_dir = config.pins_dir, .page_size = page_size},
                  [this] { return hooks->ListHooks(); }, &settings),
        handler(sysfs,
                AgentIdentity{
                    .kernel_release = host.kernel_release,
                    .page_size = page_size,
                    .pid = static_cast<uint64_t>(getpid()),
                    .policy = std::string(FormatPolicyKind(settings.policy.kind)),
                    .competing_onliners = CompetitorLines(sysfs),
                    .took_onlining_from = took_onlining_from,
                    .masked_udev_rules = masked_udev_rules,
                },
                &operations, &settings, {}, &estimator),
        loop(g_main_loop_new(context, FALSE)),
        agent(handler, reporter, seams.open_channel, context),
        watcher(sysfs, operations, reporter, own_transitions, context, HotplugWatcherOptions{},
                [this] { return ReadZoneReport(sysfs, page_size); }, &settings.intent),
        pressure(
            [this](memhp::v1::PressureCause cause) { return ReadPressure(sysfs, cause); }, reporter, context,
            std::chrono::milliseconds(config.pressure.window_us / 1000), config.pressure.threshold_us) {
    reporter.SetDeviceNamer([this](uint32_t block) { return settings.DeviceIdOf(block); });
    reporter.SetOwnEventObserver([this](const memhp::v1::MemoryEvent& e) { watcher.OnOwnEvent(e); });
  }

  ~Parts() {
    // The loop's sources of ours go with it: a later daemon on the same context must not
    // find them (g_source_remove() would only look in the default context).
    for (GSource* source : signal_sources) {
      g_source_destroy(source);
      g_source_unref(source);
    }
    g_main_loop_unref(loop);
  }

  Parts(const Parts&) = delete;
  Parts& operator=(const Parts&) = delete;

  // The findings, warned about once here and carried in every hello.
  static std::vector<std::string> CompetitorLines(const SysfsReader& sysfs) {
    std::vector<std::string> lines;
    for (const CompetingOnliner& c : ScanCompetingOnliners(sysfs)) {
      g_warning("another onliner competes with memhp's policy: %s: %s", c.where.c_str(), c.message.c_str());
      lines.push_back(c.where + ": " + c.message);
    }
    return lines;
  }

  GMainContext* context;
  uint64_t page_size;
  AgentSettings settings;
  SysfsReader sysfs;
  // Offlines are interrupted at their deadline by a signal (see io/interrupt_signal.h).
  InterruptSignal interrupt;
  SysfsBlockWriter writer;
  EventLog log;
  EventReporter reporter;
  NotifierChain chain;
  std::shared_ptr<ReserveGuard> guard;
  std::shared_ptr<PinGuard> pins;
  std::shared_ptr<HookScripts> hooks;
  OwnTransitions own_transitions;
  RecordingBlockWriter recording_writer;
  TransitionDriver driver;
  BlockOperator operations;
  UnplugEstimator estimator;
  RequestHandler handler;
  GMainLoop* loop;
  Agent agent;
  HotplugWatcher watcher;
  PressureWatch pressure;
  std::unique_ptr<PsiTrigger> pressure_trigger;  // none: pressure is reported on request only
  std::unique_ptr<UeventMonitor> uevents;
  std::vector<GSource*> signal_sources;  // SIGTERM, SIGINT; each holds a reference
};

AgentDaemon::AgentDaemon(AgentDaemonConfig config, AgentDaemonSeams seams)
    : config_(std::move(config)), seams_(std::move(seams)) {}

AgentDaemon::~AgentDaemon() = default;

Status AgentDaemon::Start() {
  if (parts_) return Error::Invalid("the agent daemon was started already");
  if (!seams_.open_channel) return Error::Invalid("no way to open the host channel was given");
  if (Status valid = CheckConfig(config_); !valid.ok()) return valid;
  Result<HostFacts> host = ReadHostFacts();
  if (!host.ok()) return std::move(host).error();
  // A write to a socket whose peer left must be an EPIPE error, not a fatal signal.
  if (seams_.own_process_signals) std::signal(SIGPIPE, SIG_IGN);
  // The pins folder is made (root-only writable) so guest software finds it; an operator who
  // wants unprivileged pins changes its mode. Without it the agent still runs: no pin can be
  // taken, so the pin guard vetoes nothing.
  if (g_mkdir_with_parents(config_.pins_dir.c_str(), 0755) != 0) {
    g_warning("cannot create %s: %s", config_.pins_dir.c_str(), g_strerror(errno));
  }
  // Before the competitors are looked for, so the hello lists what is still competing. A failed
  // take-over is no reason not to run: the log says it, and the competitor stays in the hello.
  std::string took_onlining_from;
  std::vector<std::string> masked_udev_rules;
  if (config_.onlining == OnliningOwnership::kTakeOver) {
    if (Result<std::string> before = TakeOverOnlining(SysfsReader(config_.sysfs_root)); before.ok()) {
      took_onlining_from = *before;
      g_message("took over onlining: auto_online_blocks was %s, is offline now (--take-onlining)",
                took_onlining_from.c_str());
    } else {
      g_warning("could not take over onlining (--take-onlining): %s", before.error().message.c_str());
    }
    masked_udev_rules = MaskDistributionOnliningRules(SysfsReader(config_.sysfs_root));
  }
  // The loop's context is made explicit so every part attaches to the same one.
  GMainContext* context = seams_.context ? seams_.context : g_main_context_default();
  auto parts = std::make_unique<Parts>(config_, seams_, context, *host, took_onlining_from, masked_udev_rules);
  for (auto& [name, priority, block] :
       std::vector<std::tuple<std::string_view, int, std::shared_ptr<NotifierBlock>>>{
           {kReserveGuardName, kReserveGuardPriority, parts->guard},
           {kPinGuardName, kPinGuardPriority, parts->pins},
           {kHookScriptsName, kHookScriptsPriority, parts->hooks}}) {
    if (Result<NotifierHandle> handle = parts->chain.Register(std::string(name), priority, block); !handle.ok()) {
      return std::move(handle).error();
    }
  }
  if (Result<UeventSource> source = seams_.open_uevents ? seams_.open_uevents()
                                                        : Result<UeventSource>(Error::Invalid("no uevent source given"));
      source.ok()) {
    HotplugWatcher& watcher = parts->watcher;
    parts->uevents = std::make_unique<UeventMonitor>(
        std::move(source->fd), source->check, context,
        UeventMonitorCallbacks{
            .on_uevent = [&watcher](const Uevent& u) { watcher.OnUevent(u); },
            .on_overflow = [&watcher] { watcher.OnOverflow(); },
        });
  } else {
    g_warning("no kernel uevents (%s): hotplug is not watched", source.error().message.c_str());
  }
  if (config_.pressure_events) {
    PressureWatch& watch = parts->pressure;
    Result<std::unique_ptr<PsiTrigger>> trigger = PsiTrigger::Open(
        parts->sysfs.Path(abi::kProcPressureMemory), config_.pressure, context, [&watch] { watch.OnStalled(); });
    if (trigger.ok()) {
      parts->pressure_trigger = std::move(trigger).value();
    } else {
      // A kernel without PSI, or no CAP_SYS_RESOURCE: the zone reports still carry what can be read.
      g_warning("no memory pressure events (%s)", trigger.error().message.c_str());
    }
  }
  if (seams_.own_process_signals) {
    auto quit = [](gpointer loop) -> gboolean {
      g_main_loop_quit(static_cast<GMainLoop*>(loop));
      return G_SOURCE_REMOVE;
    };
    // Not g_unix_signal_add(): it attaches to the default context, not necessarily ours.
    for (int signo : {SIGTERM, SIGINT}) {
      GSource* source = g_unix_signal_source_new(signo);
      g_source_set_callback(source, quit, parts->loop, nullptr);
      g_source_attach(source, context);
      parts->signal_sources.push_back(source);
    }
  }
  g_message("memhp-agent %s starting (pid %d)", MEMHP_VERSION, static_cast<int>(getpid()));
  parts->agent.Start();
  parts_ = std::move(parts);
  return OkStatus();
}

Status AgentDaemon::Run() {
  if (!parts_) {
    if (Status started = Start(); !started.ok()) return started;
  }
  g_main_loop_run(parts_->loop);
  g_message("memhp-agent stopping");
  return OkStatus();
}

void AgentDaemon::Quit() {
  if (parts_) g_main_loop_quit(parts_->loop);
}

bool AgentDaemon::host_connected() const { return parts_ && parts_->agent.link().connected(); }

uint64_t AgentDaemon::uevents_delivered() const {
  return parts_ && parts_->uevents ? parts_->uevents->stats().delivered : 0;
}

}  // namespace memhp::agent
