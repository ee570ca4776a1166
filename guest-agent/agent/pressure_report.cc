// memhp-agent — the memory-pressure report (see pressure_report.h).
#include "agent/pressure_report.h"

namespace memhp::agent {
namespace {

void SetLine(const PsiValues& values, memhp::v1::PsiLine* line) {
  line->set_avg10_centipercent(values.avg10);
  line->set_avg60_centipercent(values.avg60);
  line->set_avg300_centipercent(values.avg300);
  line->set_total_us(values.total_us);
}

}  // namespace

memhp::v1::MemoryPressure AssemblePressure(const std::optional<PsiMemory>& psi, const MemInfo& meminfo,
                                           const ReclaimCounters& reclaim, memhp::v1::PressureCause cause,
                                           uint64_t read_at_unix_ns) {
  memhp::v1::MemoryPressure pressure;
  pressure.set_psi_available(psi.has_value());
  if (psi) {
    SetLine(psi->some, pressure.mutable_some());
    SetLine(psi->full, pressure.mutable_full());
  }
  pressure.set_mem_total_bytes(meminfo.mem_total_bytes);
  pressure.set_mem_available_bytes(meminfo.mem_available_bytes);
  pressure.set_pgscan(reclaim.pgscan);
  pressure.set_pgsteal(reclaim.pgsteal);
  pressure.set_oom_kill(reclaim.oom_kill);
  pressure.set_cause(cause);
  pressure.set_read_at_unix_ns(read_at_unix_ns);
  return pressure;
}

Result<memhp::v1::MemoryPressure> ReadPressure(const SysfsReader& sysfs, memhp::v1::PressureCause cause,
                                               const WallClockNs& clock) {
  Result<std::optional<PsiMemory>> psi = sysfs.ReadPsiMemory();
  if (!psi.ok()) return std::move(psi).error();
  Result<MemInfo> meminfo = sysfs.ReadMemInfo();
  if (!meminfo.ok()) return std::move(meminfo).error();
  Result<ReclaimCounters> reclaim = sysfs.ReadReclaimCounters();
  if (!reclaim.ok()) return std::move(reclaim).error();
  return AssemblePressure(*psi, *meminfo, *reclaim, cause, clock ? clock() : 0);
}

}  // namespace memhp::agent
