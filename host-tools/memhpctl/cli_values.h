// memhpctl — the values options take, read the one way every verb reads them (pure, no I/O):
//
//   size      a whole number of bytes, then an optional unit as virsh reads it
//             (virScaleInteger, libvirt util/virutil.c): none or B = bytes; K, KiB = 1024;
//             M, MiB; G, GiB; T, TiB (binary); KB, MB, GB, TB = 1000^n (SI); the unit's case does
//             not matter. Or 0x and hex digits, bytes. A bare number is BYTES, on every option.
//   address   a size (a guest-physical address is a byte offset): 0x140000000 or 5G.
//   duration  a whole number, then ms, s, m or h (`30s`, `500ms`, `2m`); a bare number is
//             seconds, as systemd reads its time spans (systemd.time(7)) — except where a
//             number once meant milliseconds, which must now say its unit (BareNumber::kRefused).
//   blocks    memory block ids, comma-separated, each an id or an inclusive range: `40-47,50`
//             (the block numbers of /sys/devices/system/memory/memoryN, as lsmem prints them).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace memhp::cli {

// "256M" -> 268435456, "1KB" -> 1000, "0x1000" -> 4096; nullopt for anything else ("1.5G",
// "12X", "", a value past 2^64 - 1).
[[nodiscard]] std::optional<uint64_t> ParseSize(std::string_view text);

// What a duration without a unit means.
enum class BareNumber {
  kSeconds,  // "30" is 30 s
  kRefused,  // "500" is an error: the option took milliseconds before, so the unit must be said
};

// "30s" -> 30000 ms, "500ms", "2m", "1h", "30" (kSeconds); nullopt for anything else.
[[nodiscard]] std::optional<std::chrono::milliseconds> ParseDuration(std::string_view text, BareNumber bare);

// The most ids one list may name: the agent answers at most this many blocks per request
// (guest-agent/agent/block_operator.h kMaxBlocksPerRequest), so a longer list is refused here
// before a range like 0-4294967295 is ever expanded.
inline constexpr size_t kMaxListedBlocks = 4096;

// "40-47,50" -> {40, ..., 47, 50}, in the order given. An empty item, a range whose end is
// before its start, an id listed twice or more than kMaxListedBlocks ids is an Error (EINVAL,
// or E2BIG for too many) whose message says which.
[[nodiscard]] Result<std::vector<uint32_t>> ParseBlockList(std::string_view text);

}  // namespace memhp::cli
