// memhp — pure parsers for the values the kernel prints in sysfs and procfs.
//
// No I/O here: each function takes the text of one file as a string_view and returns a value,
// so every case is a table row in tests/unit/agent/sysfs_parse_test.cc. The formats are the
// kernel's (see linux_abi.h for which function prints what). Common rules:
//   - a trailing newline and surrounding spaces/tabs are tolerated (sysfs_emit adds "\n");
//   - anything else that does not match the format is rejected (nullopt or an EINVAL Error),
//     never guessed — the one exception is `state`, whose unknown values map to
//     BLOCK_STATE_UNKNOWN because the wire keeps them (memory.proto);
//   - numbers are bounds-checked; overflow is a rejection.
// Single values return std::optional; multi-line files return Result<T> so the error says
// which line was bad. Netlink uevents have their own parser in uevent_parse.h.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "memhp/v1/memory.pb.h"
#include "sysfs/result.h"

namespace memhp::agent {

// Strips leading and trailing spaces, tabs and newlines.
[[nodiscard]] std::string_view TrimSpace(std::string_view s);

// A hexadecimal number without "0x" ("8000000\n"), as block_size_bytes and phys_index print.
// Empty, non-hex characters, a "0x" prefix or more than 64 bits -> nullopt.
[[nodiscard]] std::optional<uint64_t> ParseHexU64(std::string_view text);
// A decimal number ("42\n"). Empty, a sign, non-digits or overflow -> nullopt.
[[nodiscard]] std::optional<uint64_t> ParseDecU64(std::string_view text);

// block_size_bytes: hex; must be a non-zero power of two (the kernel's
// memory_block_size_bytes() always is) — anything else means we are not reading what we think.
[[nodiscard]] std::optional<uint64_t> ParseBlockSizeBytes(std::string_view text);

// phys_index: hex section number ("%08lx").
[[nodiscard]] std::optional<uint64_t> ParsePhysIndex(std::string_view text);

// state: "online" / "offline" / "going-offline" -> the matching BlockState; any other text
// (including the kernel's "ERROR-UNKNOWN-%ld" and empty) -> BLOCK_STATE_UNKNOWN.
[[nodiscard]] memhp::v1::BlockState ParseBlockState(std::string_view text);

// The text of a state: "online", "offline", "going-offline"; "" for UNSPECIFIED/UNKNOWN.
[[nodiscard]] std::string_view BlockStateName(memhp::v1::BlockState state);

// removable: "0" or "1".
[[nodiscard]] std::optional<bool> ParseRemovable(std::string_view text);

// A zone name as zone_names[] spells it ("DMA", "DMA32", "Normal", "Movable", "Device"), exact
// case. "none", "HighMem" and anything else -> nullopt.
[[nodiscard]] std::optional<memhp::v1::Zone> ZoneFromName(std::string_view name);
// The kernel's name of a zone; "none" for ZONE_UNSPECIFIED (valid_zones' word for no zone).
[[nodiscard]] std::string_view ZoneName(memhp::v1::Zone zone);

// valid_zones: space-separated zone names, in the kernel's order (default zone first for an
// offline block); "none" -> empty vector. Empty text, an unknown name, a repeated name or
// "none" mixed with names -> nullopt.
[[nodiscard]] std::optional<std::vector<memhp::v1::Zone>> ParseValidZones(std::string_view text);

// A nodemask list as node/possible, has_memory, ... print it ("0-1,3\n"; "\n" when empty):
// comma-separated ids or inclusive ranges, ascending. -> sorted, unique ids. Ranges must not be
// reversed; ids above kMaxNodeId are rejected (NODES_SHIFT is at most 10: 1024 nodes).
inline constexpr uint32_t kMaxNodeId = 4095;
[[nodiscard]] std::optional<std::vector<uint32_t>> ParseNodeList(std::string_view text);

// "memory<N>" -> N (a directory name in kMemoryDir; "memory" alone, signs, leading zeros other
// than "memory0", or trailing text -> nullopt). Same for "node<N>".
[[nodiscard]] std::optional<uint32_t> ParseMemoryBlockDirName(std::string_view name);
[[nodiscard]] std::optional<uint32_t> ParseNodeDirName(std::string_view name);
// The general form: "<prefix><decimal u32>" exactly, no sign, no leading zero but for "0".
[[nodiscard]] std::optional<uint32_t> ParseIdAfterPrefix(std::string_view text,
                                                         std::string_view prefix);

// One zone of one node in /proc/zoneinfo (counts are in pages).
struct ZoneInfoEntry {
  uint32_t node = 0;
  memhp::v1::Zone zone = memhp::v1::ZONE_UNSPECIFIED;
  uint64_t present_pages = 0;  // "present": pages physically present in the zone's span
  uint64_t managed_pages = 0;  // "managed": present pages handed to the buddy allocator
  uint64_t free_pages = 0;     // "pages free"
  bool operator==(const ZoneInfoEntry&) const = default;
};

// The kernel prints every zone of every online node, populated or not (mm/vmstat.c walks
// zones with populated == false); zones with present == 0 are KEPT so that callers see, e.g.,
// an empty Movable zone before any block is onlined movable. Order is the file's order
// (node, then zone index). Each "Node N, zone NAME" record must have "pages free", "present"
// and "managed"; an unknown zone name ("HighMem" included), text before the first record, a
// malformed count or more than kZoneInfoMaxEntries records is an EINVAL Error naming the line.
inline constexpr std::size_t kZoneInfoMaxEntries = 4096;
[[nodiscard]] Result<std::vector<ZoneInfoEntry>> ParseZoneInfo(std::string_view text);

// MemTotal and MemAvailable of /proc/meminfo, in bytes (the file prints kB = KiB).
struct MemInfo {
  uint64_t mem_total_bytes = 0;
  uint64_t mem_available_bytes = 0;
  bool operator==(const MemInfo&) const = default;
};

// Every non-empty line must be "Key: <decimal> [kB]"; both keys must be present and appear
// once. Other keys are skipped. Errors are EINVAL and name the line.
[[nodiscard]] Result<MemInfo> ParseMemInfo(std::string_view text);

// One line of /proc/pressure/memory: averages in hundredths of a percent (0..10000).
struct PsiValues {
  uint32_t avg10 = 0;
  uint32_t avg60 = 0;
  uint32_t avg300 = 0;
  uint64_t total_us = 0;
  bool operator==(const PsiValues&) const = default;
};
struct PsiMemory {
  PsiValues some;
  PsiValues full;
  bool operator==(const PsiMemory&) const = default;
};

// kernel/sched/psi.c psi_show(): exactly a "some" line then a "full" line, each
// "<kind> avg10=<P> avg60=<P> avg300=<P> total=<decimal>" where P is "%lu.%02lu" and at most
// 100.00. Errors are EINVAL and name the line.
[[nodiscard]] Result<PsiMemory> ParsePsiMemory(std::string_view text);

// The reclaim and OOM counters of /proc/vmstat (mm/vmstat.c vmstat_text: "name value" lines).
struct ReclaimCounters {
  uint64_t pgscan = 0;    // pgscan_kswapd + pgscan_direct + pgscan_khugepaged
  uint64_t pgsteal = 0;   // pgsteal_kswapd + pgsteal_direct + pgsteal_khugepaged
  uint64_t oom_kill = 0;
  bool operator==(const ReclaimCounters&) const = default;
};

// Every non-empty line must be "<name> <decimal>"; oom_kill and at least one pgscan_* and one
// pgsteal_* must be there, each once (their sums may not overflow). Others are skipped.
[[nodiscard]] Result<ReclaimCounters> ParseVmstatReclaim(std::string_view text);

// boot_id: a UUID "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (hex, either case). -> a 64-bit
// FNV-1a hash of its 16 bytes, stable across agent restarts and different on every boot.
[[nodiscard]] std::optional<uint64_t> ParseBootIdHash(std::string_view text);

}  // namespace memhp::agent
