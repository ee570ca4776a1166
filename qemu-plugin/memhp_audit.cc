// memhp-audit — the QEMU TCG plugin: a thin C-ABI shim over AuditCore.
//
//   qemu-system-x86_64 -accel tcg ...
//       -plugin file=libmemhp-audit.so,socket=PATH,report=PATH[,armed=on][,block_size=128M]
//
// Only qemu_plugin_install and qemu_plugin_version are exported (-fvisibility=hidden, and
// --exclude-libs for the static wire library). Arguments are parsed once, here; the hot path
// (OnMem) takes no lock; the report is written at exit (audit_args.h lists the arguments).
//
// Arming. Disarmed, no memory callback exists at all: OnTbTrans instruments a translation block
// only while armed. QEMU 7.2's API has no way to re-translate code except qemu_plugin_reset(),
// which unregisters all of a plugin's callbacks and, when called on a vCPU thread, flushes the
// translation cache in an exclusive section (plugins/loader.c, plugin_reset_uninstall: it only
// flushes when current_cpu is set; called from any other thread it skips the flush and tears the
// callbacks down without stopping the vCPUs). So the control thread only flips the core's armed
// flag and sets flush_pending; the next vCPU-thread callback — a translation, or a vCPU going
// idle or waking up (MTTCG's qemu_wait_io_event) — calls qemu_plugin_reset(), and OnReset
// registers the callbacks again. Until that flush, old blocks keep their old instrumentation:
// OnMem checks the flag, so disarming stops counting at once; arming counts only newly
// translated code until the flush. (QEMU 7.2.18 fixed a lock leak in that reset path; Debian's
// 7.2.22 has the fix.)
//
// The plugin API's callbacks carry no user data for translation, so the plugin's state is one
// object behind a file-local pointer, created at install and never freed: vCPU threads may still
// run when the atexit callback does.
#include <time.h>

#include <atomic>
#include <cstdio>
#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "audit_args.h"
#include "audit_control.h"
#include "audit_core.h"
#include "audit_report.h"

extern "C" {
#include <qemu-plugin.h>
}

namespace memhp::audit {
namespace {

class MonotonicClock final : public Clock {
 public:
  uint64_t NowNs() override {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000000000u + static_cast<uint64_t>(ts.tv_nsec);
  }
};

struct Plugin {
  qemu_plugin_id_t id = 0;
  MonotonicClock clock;
  std::unique_ptr<AuditCore> core;
  std::unique_ptr<AuditService> service;
  std::unique_ptr<AuditControlServer> server;
  std::string report_path;
  std::atomic<bool> flush_pending{false};   // the armed flag changed; re-translate
  std::atomic<bool> reset_in_flight{false};  // qemu_plugin_reset called, OnReset not yet run
};

Plugin* g_plugin = nullptr;

void OnMem(unsigned int vcpu, qemu_plugin_meminfo_t info, uint64_t vaddr, void*) {
  AuditCore& core = *g_plugin->core;
  if (!core.armed()) return;  // disarmed, waiting for the flush
  const qemu_plugin_hwaddr* hw = qemu_plugin_get_hwaddr(info, vaddr);
  if (hw == nullptr || qemu_plugin_hwaddr_is_io(hw)) return;  // MMIO is not RAM
  core.Record(vcpu, qemu_plugin_hwaddr_phys_addr(hw),
              qemu_plugin_mem_is_store(info) ? Access::kWrite : Access::kRead);
}

void RegisterCallbacks(qemu_plugin_id_t id);

void OnReset(qemu_plugin_id_t id) {
  RegisterCallbacks(id);
  g_plugin->reset_in_flight.store(false);
}

// On a vCPU thread (current_cpu set): start the flush an arm/disarm asked for.
void MaybeFlush() {
  Plugin& p = *g_plugin;
  if (!p.flush_pending.load(std::memory_order_relaxed)) return;
  if (p.reset_in_flight.exchange(true)) return;  // OnReset will clear it; pending stays set
  if (p.flush_pending.exchange(false)) {
    qemu_plugin_reset(p.id, OnReset);
  } else {
    p.reset_in_flight.store(false);
  }
}

void OnTbTrans(qemu_plugin_id_t, struct qemu_plugin_tb* tb) {
  MaybeFlush();
  if (!g_plugin->core->armed()) return;
  const size_t n = qemu_plugin_tb_n_insns(tb);
  for (size_t i = 0; i < n; ++i) {
    qemu_plugin_register_vcpu_mem_cb(qemu_plugin_tb_get_insn(tb, i), OnMem,
                                     QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_MEM_RW, nullptr);
  }
}

void OnIdleOrResume(qemu_plugin_id_t, unsigned int) { MaybeFlush(); }

bool WriteReport(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  FILE* f = std::fopen(tmp.c_str(), "w");
  if (f == nullptr) return false;
  const bool written = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  const bool closed = std::fclose(f) == 0;
  return written && closed && std::rename(tmp.c_str(), path.c_str()) == 0;
}

void OnExit(qemu_plugin_id_t, void*) {
  Plugin& p = *g_plugin;
  try {
    if (p.server) p.server->Stop();
    if (!p.report_path.empty()) {
      const std::string json = RenderJson(p.core->TakeSnapshot());
      if (!WriteReport(p.report_path, json)) {
        std::perror(("memhp-audit: writing the report " + p.report_path).c_str());
      }
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "memhp-audit: at exit: %s\n", e.what());
  }
}

void RegisterCallbacks(qemu_plugin_id_t id) {
  qemu_plugin_register_vcpu_tb_trans_cb(id, OnTbTrans);
  qemu_plugin_register_vcpu_idle_cb(id, OnIdleOrResume);
  qemu_plugin_register_vcpu_resume_cb(id, OnIdleOrResume);
  qemu_plugin_register_atexit_cb(id, OnExit, nullptr);
}

int Install(qemu_plugin_id_t id, const qemu_info_t* info, int argc, char** argv) {
  if (!info->system_emulation) {
    std::fprintf(stderr, "memhp-audit: needs system emulation (guest-physical addresses)\n");
    return -1;
  }
  std::vector<std::string_view> args(argv, argv + argc);
  ArgsResult parsed = ParseAuditArgs(args);
  if (!parsed.args) {
    std::fprintf(stderr, "memhp-audit: %s\n", parsed.error.c_str());
    return -1;
  }
  const AuditArgs& a = *parsed.args;
  CoreOptions options;
  options.block_size = a.block_size;
  options.max_violations = a.max_violations;
  options.vcpus = static_cast<unsigned>(info->system.max_vcpus > 0 ? info->system.max_vcpus : 1);
  if (const std::string why = AuditCore::ValidateOptions(options); !why.empty()) {
    std::fprintf(stderr, "memhp-audit: %s\n", why.c_str());
    return -1;
  }

  auto p = std::make_unique<Plugin>();
  p->id = id;
  p->core = std::make_unique<AuditCore>(options, &p->clock);
  p->core->SetArmed(a.armed);
  p->report_path = a.report_path;
  Plugin* raw = p.get();
  p->service = std::make_unique<AuditService>(raw->core.get(), [raw](bool armed) {
    if (raw->core->armed() == armed) return;
    raw->core->SetArmed(armed);
    raw->flush_pending.store(true);
  });
  if (!a.socket_path.empty()) {
    p->server = std::make_unique<AuditControlServer>(p->service.get());
    if (const std::string why = p->server->Start(a.socket_path); !why.empty()) {
      std::fprintf(stderr, "memhp-audit: socket=%s: %s\n", a.socket_path.c_str(), why.c_str());
      return -1;
    }
  }
  g_plugin = p.release();  // lives until the process ends (see the file comment)
  RegisterCallbacks(id);
  return 0;
}

}  // namespace
}  // namespace memhp::audit

extern "C" {

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t* info,
                                           int argc, char** argv) {
  try {
    return memhp::audit::Install(id, info, argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "memhp-audit: %s\n", e.what());
    return -1;
  }
}

}  // extern "C"
