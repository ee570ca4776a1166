// memhp — SysfsReader: the guest's memory blocks and nodes, read from sysfs into wire values.
//
// The reader is the thin I/O edge around sysfs_parse.h: it lists and reads files under an
// injected root ("/" in production, a temp dir built by tests/unit/agent/fake_sysfs.h in
// tests) and returns memhp::v1 messages. It only reads; writing `state` is another seam.
//
// Races are normal here: the virtio-mem driver or an ACPI unplug can remove a memory block
// between the directory listing and the read of its files (the kernel removes the whole
// memoryN directory). ReadBlock() reports that as an ENOENT Error; ReadInventory() skips such a
// block. Every other failure is an Error carrying the errno and the path that failed.
//
// Bounds: at most kMaxBlocks block directories; no file over kMaxSysfsFileBytes is read
// (kMaxZoneInfoBytes for /proc/zoneinfo, which grows with CPUs and zones) — EFBIG otherwise.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "memhp/v1/agent.pb.h"
#include "memhp/v1/memory.pb.h"
#include "sysfs/result.h"
#include "sysfs/sysfs_parse.h"

namespace memhp::agent {

inline constexpr std::size_t kMaxBlocks = std::size_t{1} << 20;
inline constexpr std::size_t kMaxSysfsFileBytes = 64 * 1024;
inline constexpr std::size_t kMaxZoneInfoBytes = 1024 * 1024;

// Wall-clock time in nanoseconds since the Unix epoch; a seam so tests can pin
// Inventory.read_at_unix_ns.
using WallClockNs = std::function<uint64_t()>;
[[nodiscard]] uint64_t SystemWallClockNs();

class SysfsReader {
 public:
  // root: the directory the kernel paths of linux_abi.h are relative to; "" means "/".
  explicit SysfsReader(std::string root, WallClockNs clock = SystemWallClockNs);

  [[nodiscard]] const std::string& root() const { return root_; }
  // root joined with a relative kernel path: Path("proc/meminfo") == "/proc/meminfo" for "/".
  [[nodiscard]] std::string Path(std::string_view relative) const;

  // memory/block_size_bytes.
  [[nodiscard]] Result<uint64_t> ReadBlockSize() const;
  // memory/auto_online_blocks, trailing newline stripped ("offline", "online", ...).
  [[nodiscard]] Result<std::string> ReadAutoOnlineBlocks() const;
  // The ids of every memoryN directory, ascending; E2BIG over kMaxBlocks.
  [[nodiscard]] Result<std::vector<uint32_t>> ListBlockIds() const;

  // One block. start_address = id * block_size_bytes: memory block N spans
  // [N * block_size, (N + 1) * block_size) by drivers/base/memory.c's definition
  // (memory_block_id()); on x86_64 this equals phys_index * 128 MiB. zone is set for an online
  // block from valid_zones (which then names its one zone; "none" when it spans zones leaves it
  // UNSPECIFIED). node comes from the memoryN/nodeM link, else from a nodeM/memoryN link, else
  // -1. A missing valid_zones (kernel without CONFIG_MEMORY_HOTREMOVE) or removable reads as
  // empty / false while the block directory exists. ENOENT when the block is gone.
  [[nodiscard]] Result<memhp::v1::MemoryBlock> ReadBlock(uint32_t id) const;
  // The same with a block size already read (ReadInventory reads it once).
  [[nodiscard]] Result<memhp::v1::MemoryBlock> ReadBlock(uint32_t id,
                                                         uint64_t block_size_bytes) const;

  // node/possible expanded; empty when the node directory does not exist (no CONFIG_NUMA).
  [[nodiscard]] Result<std::vector<uint32_t>> ReadPossibleNodes() const;
  // Every possible node with its has_memory / has_normal_memory / has_cpu bits; block counts
  // are left 0 (ReadInventory fills them).
  [[nodiscard]] Result<std::vector<memhp::v1::Node>> ReadNodes() const;

  // Everything in one pass: block size, blocks ordered by id (vanished ones skipped), nodes
  // ordered by id with online/offline block counts (a block whose node is -1 or not possible is
  // counted nowhere), auto_online_blocks and the time of the read.
  [[nodiscard]] Result<memhp::v1::Inventory> ReadInventory() const;

  // /proc/zoneinfo and /proc/meminfo, parsed.
  [[nodiscard]] Result<std::vector<ZoneInfoEntry>> ReadZoneInfo() const;
  [[nodiscard]] Result<MemInfo> ReadMemInfo() const;
  // /proc/pressure/memory parsed; nullopt when the kernel offers no PSI (ENOENT, EOPNOTSUPP).
  [[nodiscard]] Result<std::optional<PsiMemory>> ReadPsiMemory() const;
  // /proc/vmstat's reclaim and OOM-kill counters (ParseVmstatReclaim).
  [[nodiscard]] Result<ReclaimCounters> ReadReclaimCounters() const;
  // /proc/sys/kernel/random/boot_id, hashed (ParseBootIdHash).
  [[nodiscard]] Result<uint64_t> ReadBootIdHash() const;
  // /sys/kernel/uevent_seqnum: the SEQNUM of the last uevent the kernel sent.
  [[nodiscard]] Result<uint64_t> ReadUeventSeqnum() const;

  // The GuestInfo of Hello. uname(2) and sysconf(_SC_PAGESIZE) are the caller's business (the
  // production wiring), so the reader stays a pure function of the tree.
  [[nodiscard]] Result<memhp::v1::GuestInfo> ReadGuestInfo(std::string_view kernel_release,
                                                           uint64_t page_size) const;

 private:
  // Reads a whole file of at most max_bytes. Errors: "read <path>: <strerror>" with errno.
  [[nodiscard]] Result<std::string> ReadFile(std::string_view relative,
                                             std::size_t max_bytes = kMaxSysfsFileBytes) const;
  // The names in a directory, "." and ".." excluded, unsorted.
  [[nodiscard]] Result<std::vector<std::string>> ListDir(std::string_view relative) const;
  // An optional block attribute: its text, or nullopt when it is missing but the block is not.
  [[nodiscard]] Result<std::optional<std::string>> ReadOptionalBlockAttr(
      uint32_t id, std::string_view attr) const;
  // The node of a block: its memoryN/nodeM link, else a nodeM/memoryN link, else -1.
  [[nodiscard]] Result<int32_t> FindBlockNode(uint32_t id) const;

  std::string root_;
  WallClockNs clock_;
};

}  // namespace memhp::agent
