// memhp tests — FakeSysfs: a throw-away directory shaped like the guest's sysfs and procfs.
//
// SysfsReader (and later the block writer) take a root directory, so a test builds the
// kernel's layout under a temp dir instead of needing a guest: memory/memoryN with phys_index,
// state, valid_zones, removable and the nodeM link; node/nodeM with memoryN back-links and the
// possible/has_* masks; block_size_bytes, auto_online_blocks; proc/zoneinfo, proc/meminfo and
// proc/sys/kernel/random/boot_id. Values are written in the kernel's own formats (hex without
// "0x", "%08lx" phys_index, newline-terminated), so the parsers see what a kernel prints.
//
// Failure injection the kernel can produce for a reader: a file replaced by a directory (read
// gives EISDIR — chmod 000 does not stop root, which the tests may run as), a dangling symlink
// (open gives ENOENT, as when a block vanishes between listing and reading), a removed block.
// Setup failures are reported with ADD_FAILURE() against the running test. The directory is
// removed by the destructor.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace memhp::agent::testing {

// Which of the two node <-> block links drivers/base/node.c creates the fake should create.
enum class NodeLinks {
  kBoth,          // memoryN/nodeM and nodeM/memoryN, as current kernels do
  kNodeSideOnly,  // nodeM/memoryN only, as older kernels did
  kNone,          // no node knows the block
};

struct FakeBlock {
  uint32_t id = 0;
  std::string state = "online";       // written verbatim + "\n"
  std::string valid_zones = "Normal"; // written verbatim + "\n"
  uint32_t node = 0;
  NodeLinks links = NodeLinks::kBoth;
  bool removable = true;
  // Default: id * sections per block (block size / 128 MiB, at least 1), as on x86_64.
  std::optional<uint64_t> phys_index;
};

// The node masks of node/, as nodemask lists ("0-1", "" for empty).
struct FakeNodes {
  std::string possible = "0";
  std::string has_memory = "0";
  std::string has_normal_memory = "0";
  std::string has_cpu = "0";
};

class FakeSysfs {
 public:
  // An empty tree with block_size_bytes = 128 MiB, auto_online_blocks "offline", node 0 only,
  // and a fixed boot_id.
  FakeSysfs();
  ~FakeSysfs();
  FakeSysfs(const FakeSysfs&) = delete;
  FakeSysfs& operator=(const FakeSysfs&) = delete;

  [[nodiscard]] const std::string& root() const { return root_; }
  // root + "/" + relative.
  [[nodiscard]] std::string Path(std::string_view relative) const;

  // Writes (creating parent directories) exactly `content`.
  void WriteFile(std::string_view relative, std::string_view content);
  // The current content of a file ("" and a test failure if it cannot be read).
  [[nodiscard]] std::string ReadFile(std::string_view relative) const;
  // Removes a file, link or directory tree.
  void Remove(std::string_view relative);

  void SetBlockSize(uint64_t bytes);                 // "%lx\n"
  void SetAutoOnlineBlocks(std::string_view value);  // value + "\n"
  // Writes the masks and creates node/nodeN for every possible node.
  void SetNodes(const FakeNodes& nodes);
  // Removes the whole node/ directory (a kernel without CONFIG_NUMA).
  void RemoveNodeDir();

  void AddBlock(const FakeBlock& block);
  // The common case: both node links, removable, default phys_index.
  void AddBlock(uint32_t id, std::string_view state, std::string_view valid_zones, uint32_t node);
  void SetBlockState(uint32_t id, std::string_view state);
  void SetValidZones(uint32_t id, std::string_view zones);
  // Removes memoryN and every nodeM/memoryN link to it, as a hot-remove does.
  void RemoveBlock(uint32_t id);

  // Replaces a file by an empty directory: open() succeeds, read() fails with EISDIR.
  void ReplaceWithDirectory(std::string_view relative);
  // Replaces a file by a symlink to nowhere: open() fails with ENOENT.
  void ReplaceWithDanglingSymlink(std::string_view relative);

  void SetZoneInfo(std::string_view text);
  void SetMemInfo(std::string_view text);
  void SetBootId(std::string_view uuid);  // uuid + "\n"

  // Relative paths of a block and of one of its attributes.
  [[nodiscard]] static std::string BlockDir(uint32_t id);
  [[nodiscard]] static std::string BlockAttr(uint32_t id, std::string_view attr);

 private:
  void MakeDirs(std::string_view relative);
  void Symlink(const std::string& target, std::string_view relative);

  std::string root_;
  uint64_t block_size_ = uint64_t{1} << 27;
};

}  // namespace memhp::agent::testing
