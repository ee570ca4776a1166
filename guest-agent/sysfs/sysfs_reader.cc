// memhp — SysfsReader: sysfs/procfs I/O around the pure parsers (see sysfs_reader.h).
#include "sysfs/sysfs_reader.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <map>
#include <memory>
#include <optional>

#include "sysfs/linux_abi.h"

namespace memhp::agent {
namespace {

// Closes a descriptor on every return path.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  [[nodiscard]] int get() const { return fd_; }

 private:
  int fd_;
};

struct DirCloser {
  void operator()(DIR* d) const { ::closedir(d); }
};

// A content error: EINVAL, naming the file and quoting (the start of) what was in it.
Error BadContent(const std::string& path, std::string_view what, std::string_view content) {
  constexpr std::size_t kQuoteMax = 64;
  return Error::Invalid("parse " + path + ": " + std::string(what) + ": \"" +
                        std::string(TrimSpace(content).substr(0, kQuoteMax)) + "\"");
}

bool IsVanished(const Error& e) { return e.errno_value == ENOENT; }

}  // namespace

uint64_t SystemWallClockNs() {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(now).count());
}

SysfsReader::SysfsReader(std::string root, WallClockNs clock)
    : root_(std::move(root)), clock_(std::move(clock)) {
  if (root_.empty()) root_ = "/";
  while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
}

std::string SysfsReader::Path(std::string_view relative) const {
  if (root_ == "/") return "/" + std::string(relative);
  return root_ + "/" + std::string(relative);
}

Result<std::string> SysfsReader::ReadFile(std::string_view relative, std::size_t max_bytes) const {
  const std::string path = Path(relative);
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (fd.get() < 0) return Error::FromErrno(errno, "open", path);
  std::string data;
  // sysfs files report st_size 4096 whatever they hold, so read to EOF instead of trusting it.
  char buf[4096];
  while (true) {
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::FromErrno(errno, "read", path);
    }
    if (n == 0) break;
    if (data.size() + static_cast<std::size_t>(n) > max_bytes) {
      Error e = Error::FromErrno(EFBIG, "read", path);
      e.message += " (limit " + std::to_string(max_bytes) + " bytes)";
      return e;
    }
    data.append(buf, static_cast<std::size_t>(n));
  }
  return data;
}

Result<std::vector<std::string>> SysfsReader::ListDir(std::string_view relative) const {
  const std::string path = Path(relative);
  std::unique_ptr<DIR, DirCloser> dir(::opendir(path.c_str()));
  if (!dir) return Error::FromErrno(errno, "opendir", path);
  std::vector<std::string> names;
  while (true) {
    errno = 0;
    const dirent* ent = ::readdir(dir.get());
    if (ent == nullptr) {
      if (errno != 0) return Error::FromErrno(errno, "readdir", path);
      break;
    }
    const std::string_view name = ent->d_name;
    if (name == "." || name == "..") continue;
    names.emplace_back(name);
  }
  return names;
}

Result<uint64_t> SysfsReader::ReadBlockSize() const {
  const std::string rel = abi::MemoryAttr(abi::kBlockSizeBytes);
  Result<std::string> text = ReadFile(rel);
  if (!text.ok()) return std::move(text).error();
  const std::optional<uint64_t> size = ParseBlockSizeBytes(*text);
  if (!size) return BadContent(Path(rel), "not a power-of-two hex size", *text);
  return *size;
}

Result<std::string> SysfsReader::ReadAutoOnlineBlocks() const {
  Result<std::string> text = ReadFile(abi::MemoryAttr(abi::kAutoOnlineBlocks));
  if (!text.ok()) return std::move(text).error();
  return std::string(TrimSpace(*text));
}

Result<std::vector<uint32_t>> SysfsReader::ListBlockIds() const {
  Result<std::vector<std::string>> names = ListDir(abi::kMemoryDir);
  if (!names.ok()) return std::move(names).error();
  std::vector<uint32_t> ids;
  for (const std::string& name : *names) {
    const std::optional<uint32_t> id = ParseMemoryBlockDirName(name);
    if (!id) continue;  // block_size_bytes, probe, power, uevent, ...
    if (ids.size() >= kMaxBlocks) {
      Error e = Error::FromErrno(E2BIG, "list", Path(abi::kMemoryDir));
      e.message += " (more than " + std::to_string(kMaxBlocks) + " memory blocks)";
      return e;
    }
    ids.push_back(*id);
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

Result<std::optional<std::string>> SysfsReader::ReadOptionalBlockAttr(uint32_t id,
                                                                      std::string_view attr) const {
  Result<std::string> text = ReadFile(abi::MemoryBlockAttr(id, attr));
  if (text.ok()) return std::optional<std::string>(std::move(text).value());
  if (!IsVanished(text.error())) return std::move(text).error();
  // Missing: either the attribute does not exist on this kernel, or the block just went away.
  struct stat st{};
  const std::string dir = Path(abi::MemoryBlockDir(id));
  if (::stat(dir.c_str(), &st) != 0) return Error::FromErrno(errno, "stat", dir);
  return std::optional<std::string>();
}

Result<int32_t> SysfsReader::FindBlockNode(uint32_t id) const {
  Result<std::vector<std::string>> names = ListDir(abi::MemoryBlockDir(id));
  if (!names.ok()) return std::move(names).error();
  // Kernels that let a block span nodes linked it to each; take the lowest, deterministically.
  std::optional<uint32_t> best;
  for (const std::string& name : *names) {
    const std::optional<uint32_t> nid = ParseNodeDirName(name);
    if (nid && *nid <= kMaxNodeId && (!best || *nid < *best)) best = nid;
  }
  if (best) return static_cast<int32_t>(*best);

  // No memoryN/nodeM link (older kernels): look for nodeM/memoryN instead.
  Result<std::vector<std::string>> nodes = ListDir(abi::kNodeDir);
  if (!nodes.ok()) {
    if (IsVanished(nodes.error())) return -1;  // no CONFIG_NUMA
    return std::move(nodes).error();
  }
  const std::string block_name = std::string(abi::kBlockDirPrefix) + std::to_string(id);
  for (const std::string& name : *nodes) {
    const std::optional<uint32_t> nid = ParseNodeDirName(name);
    if (!nid || *nid > kMaxNodeId || (best && *nid >= *best)) continue;
    const std::string link = Path(abi::NodeDir(*nid)) + "/" + block_name;
    struct stat st{};
    if (::lstat(link.c_str(), &st) == 0) {
      best = nid;
    } else if (errno != ENOENT) {
      return Error::FromErrno(errno, "lstat", link);
    }
  }
  return best ? static_cast<int32_t>(*best) : -1;
}

Result<memhp::v1::MemoryBlock> SysfsReader::ReadBlock(uint32_t id) const {
  Result<uint64_t> block_size = ReadBlockSize();
  if (!block_size.ok()) return std::move(block_size).error();
  return ReadBlock(id, *block_size);
}

Result<memhp::v1::MemoryBlock> SysfsReader::ReadBlock(uint32_t id,
                                                      uint64_t block_size_bytes) const {
  memhp::v1::MemoryBlock block;
  block.set_id(id);

  uint64_t start = 0;
  if (__builtin_mul_overflow(static_cast<uint64_t>(id), block_size_bytes, &start)) {
    Error e = Error::FromErrno(EOVERFLOW, "address of", Path(abi::MemoryBlockDir(id)));
    return e;
  }
  block.set_start_address(start);

  const std::string phys_rel = abi::MemoryBlockAttr(id, abi::kBlockPhysIndex);
  Result<std::string> phys_text = ReadFile(phys_rel);
  if (!phys_text.ok()) return std::move(phys_text).error();
  const std::optional<uint64_t> phys = ParsePhysIndex(*phys_text);
  if (!phys) return BadContent(Path(phys_rel), "not a hex section number", *phys_text);
  block.set_phys_index(*phys);

  Result<std::string> state_text = ReadFile(abi::MemoryBlockAttr(id, abi::kBlockState));
  if (!state_text.ok()) return std::move(state_text).error();
  block.set_state(ParseBlockState(*state_text));

  Result<int32_t> node = FindBlockNode(id);
  if (!node.ok()) return std::move(node).error();
  block.set_node(*node);

  // A block whose add is not complete must not have valid_zones read (S18). The kernel emits the
  // "add" uevent from add_memory_block() with mem->nid = NUMA_NO_NODE, and sets the nid (and
  // makes the memoryN/nodeM link) only later, in register_memory_blocks_under_node(). Reading
  // valid_zones in that window makes Linux 6.1 dereference NODE_DATA(-1) in
  // zone_for_pfn_range() and oops (seen with virtio-mem growth: the guest then hangs). So an
  // offline block without a node link is reported with no valid_zones; its add is still going on.
  const bool add_complete = *node >= 0 || block.state() == memhp::v1::BLOCK_STATE_ONLINE;
  Result<std::optional<std::string>> zones_text =
      add_complete ? ReadOptionalBlockAttr(id, abi::kBlockValidZones)
                   : Result<std::optional<std::string>>(std::optional<std::string>());
  if (!zones_text.ok()) return std::move(zones_text).error();
  if (zones_text->has_value()) {
    const std::optional<std::vector<memhp::v1::Zone>> zones = ParseValidZones(**zones_text);
    if (!zones) {
      return BadContent(Path(abi::MemoryBlockAttr(id, abi::kBlockValidZones)),
                        "not a list of zone names", **zones_text);
    }
    for (memhp::v1::Zone z : *zones) block.add_valid_zones(z);
    // valid_zones_show(): an online block prints exactly the zone it is in.
    if (block.state() == memhp::v1::BLOCK_STATE_ONLINE && zones->size() == 1) {
      block.set_zone(zones->front());
    }
  }

  Result<std::optional<std::string>> removable_text =
      ReadOptionalBlockAttr(id, abi::kBlockRemovable);
  if (!removable_text.ok()) return std::move(removable_text).error();
  if (removable_text->has_value()) {
    const std::optional<bool> removable = ParseRemovable(**removable_text);
    if (!removable) {
      return BadContent(Path(abi::MemoryBlockAttr(id, abi::kBlockRemovable)), "not 0 or 1",
                        **removable_text);
    }
    block.set_removable(*removable);
  }

  return block;
}

Result<std::vector<uint32_t>> SysfsReader::ReadPossibleNodes() const {
  const std::string rel = abi::NodeAttr(abi::kNodePossible);
  Result<std::string> text = ReadFile(rel);
  if (!text.ok()) {
    // Without CONFIG_NUMA there is no node directory at all; report no nodes.
    if (IsVanished(text.error())) return std::vector<uint32_t>();
    return std::move(text).error();
  }
  std::optional<std::vector<uint32_t>> ids = ParseNodeList(*text);
  if (!ids) return BadContent(Path(rel), "not a node list", *text);
  return std::move(*ids);
}

Result<std::vector<memhp::v1::Node>> SysfsReader::ReadNodes() const {
  Result<std::vector<uint32_t>> possible = ReadPossibleNodes();
  if (!possible.ok()) return std::move(possible).error();
  std::vector<memhp::v1::Node> nodes;
  if (possible->empty()) return nodes;

  // Each mask is a node list; a node is in it or not.
  auto read_mask = [this](std::string_view attr) -> Result<std::vector<uint32_t>> {
    const std::string rel = abi::NodeAttr(attr);
    Result<std::string> text = ReadFile(rel);
    if (!text.ok()) return std::move(text).error();
    std::optional<std::vector<uint32_t>> ids = ParseNodeList(*text);
    if (!ids) return BadContent(Path(rel), "not a node list", *text);
    return std::move(*ids);
  };
  Result<std::vector<uint32_t>> has_memory = read_mask(abi::kNodeHasMemory);
  if (!has_memory.ok()) return std::move(has_memory).error();
  Result<std::vector<uint32_t>> has_normal = read_mask(abi::kNodeHasNormalMemory);
  if (!has_normal.ok()) return std::move(has_normal).error();
  Result<std::vector<uint32_t>> has_cpu = read_mask(abi::kNodeHasCpu);
  if (!has_cpu.ok()) return std::move(has_cpu).error();

  auto in = [](const std::vector<uint32_t>& sorted, uint32_t id) {
    return std::binary_search(sorted.begin(), sorted.end(), id);
  };
  for (uint32_t id : *possible) {
    memhp::v1::Node n;
    n.set_id(id);
    n.set_has_memory(in(*has_memory, id));
    n.set_has_normal_memory(in(*has_normal, id));
    n.set_has_cpu(in(*has_cpu, id));
    nodes.push_back(std::move(n));
  }
  return nodes;
}

Result<memhp::v1::Inventory> SysfsReader::ReadInventory() const {
  memhp::v1::Inventory inv;
  inv.set_read_at_unix_ns(clock_());

  Result<uint64_t> block_size = ReadBlockSize();
  if (!block_size.ok()) return std::move(block_size).error();
  inv.set_block_size_bytes(*block_size);

  Result<std::string> auto_online = ReadAutoOnlineBlocks();
  if (!auto_online.ok()) return std::move(auto_online).error();
  inv.set_auto_online_blocks(*auto_online);

  Result<std::vector<memhp::v1::Node>> nodes = ReadNodes();
  if (!nodes.ok()) return std::move(nodes).error();
  std::map<int32_t, memhp::v1::Node*> by_id;
  for (memhp::v1::Node& n : *nodes) {
    memhp::v1::Node* added = inv.add_nodes();
    *added = std::move(n);
    by_id[static_cast<int32_t>(added->id())] = added;
  }

  Result<std::vector<uint32_t>> ids = ListBlockIds();
  if (!ids.ok()) return std::move(ids).error();
  for (uint32_t id : *ids) {
    Result<memhp::v1::MemoryBlock> block = ReadBlock(id, *block_size);
    if (!block.ok()) {
      if (IsVanished(block.error())) continue;  // removed under us: not part of this snapshot
      return std::move(block).error();
    }
    if (auto it = by_id.find(block->node()); it != by_id.end()) {
      memhp::v1::Node* n = it->second;
      if (block->state() == memhp::v1::BLOCK_STATE_ONLINE) {
        n->set_online_blocks(n->online_blocks() + 1);
      } else {
        n->set_offline_blocks(n->offline_blocks() + 1);
      }
    }
    *inv.add_blocks() = std::move(block).value();
  }
  return inv;
}

Result<std::vector<ZoneInfoEntry>> SysfsReader::ReadZoneInfo() const {
  Result<std::string> text = ReadFile(abi::kProcZoneInfo, kMaxZoneInfoBytes);
  if (!text.ok()) return std::move(text).error();
  Result<std::vector<ZoneInfoEntry>> entries = ParseZoneInfo(*text);
  if (!entries.ok()) {
    return Error::Invalid("parse " + Path(abi::kProcZoneInfo) + ": " + entries.error().message);
  }
  return entries;
}

Result<MemInfo> SysfsReader::ReadMemInfo() const {
  Result<std::string> text = ReadFile(abi::kProcMemInfo);
  if (!text.ok()) return std::move(text).error();
  Result<MemInfo> info = ParseMemInfo(*text);
  if (!info.ok()) {
    return Error::Invalid("parse " + Path(abi::kProcMemInfo) + ": " + info.error().message);
  }
  return info;
}

Result<std::optional<PsiMemory>> SysfsReader::ReadPsiMemory() const {
  Result<std::string> text = ReadFile(abi::kProcPressureMemory);
  if (!text.ok()) {
    const int err = text.error().errno_value;
    if (err == ENOENT || err == EOPNOTSUPP) return std::optional<PsiMemory>();
    return std::move(text).error();
  }
  Result<PsiMemory> psi = ParsePsiMemory(*text);
  if (!psi.ok()) return Error::Invalid("parse " + Path(abi::kProcPressureMemory) + ": " + psi.error().message);
  return std::optional<PsiMemory>(*psi);
}

Result<ReclaimCounters> SysfsReader::ReadReclaimCounters() const {
  // ~170 lines of ~25 bytes on 6.1: well inside the default bound.
  Result<std::string> text = ReadFile(abi::kProcVmstat);
  if (!text.ok()) return std::move(text).error();
  Result<ReclaimCounters> counters = ParseVmstatReclaim(*text);
  if (!counters.ok()) {
    return Error::Invalid("parse " + Path(abi::kProcVmstat) + ": " + counters.error().message);
  }
  return counters;
}

Result<uint64_t> SysfsReader::ReadBootIdHash() const {
  Result<std::string> text = ReadFile(abi::kProcBootId);
  if (!text.ok()) return std::move(text).error();
  const std::optional<uint64_t> hash = ParseBootIdHash(*text);
  if (!hash) return BadContent(Path(abi::kProcBootId), "not a UUID", *text);
  return *hash;
}

Result<uint64_t> SysfsReader::ReadUeventSeqnum() const {
  Result<std::string> text = ReadFile(abi::kUeventSeqnumFile);
  if (!text.ok()) return std::move(text).error();
  const std::optional<uint64_t> seqnum = ParseDecU64(TrimSpace(*text));
  if (!seqnum) return BadContent(Path(abi::kUeventSeqnumFile), "not a decimal number", *text);
  return *seqnum;
}

Result<memhp::v1::GuestInfo> SysfsReader::ReadGuestInfo(std::string_view kernel_release,
                                                        uint64_t page_size) const {
  memhp::v1::GuestInfo info;
  info.set_kernel_release(std::string(kernel_release));
  info.set_page_size(page_size);

  Result<uint64_t> block_size = ReadBlockSize();
  if (!block_size.ok()) return std::move(block_size).error();
  info.set_block_size_bytes(*block_size);

  Result<std::vector<uint32_t>> nodes = ReadPossibleNodes();
  if (!nodes.ok()) return std::move(nodes).error();
  for (uint32_t n : *nodes) info.add_nodes(n);

  Result<std::string> auto_online = ReadAutoOnlineBlocks();
  if (!auto_online.ok()) return std::move(auto_online).error();
  info.set_auto_online_blocks(*auto_online);

  Result<uint64_t> boot = ReadBootIdHash();
  if (!boot.ok()) return std::move(boot).error();
  info.set_boot_id_hash(*boot);
  return info;
}

}  // namespace memhp::agent
