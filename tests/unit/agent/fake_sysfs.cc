// memhp tests — FakeSysfs (see fake_sysfs.h).
#include "fake_sysfs.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include "sysfs/linux_abi.h"

namespace memhp::agent::testing {
namespace fs = std::filesystem;

namespace {

std::string Hex(uint64_t v, int width) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%0*" PRIx64 "\n", width, v);
  return buf;
}

}  // namespace

FakeSysfs::FakeSysfs() {
  std::error_code ec;
  fs::path base = fs::temp_directory_path(ec);
  if (ec) base = "/tmp";
  std::string tmpl = (base / "memhp-fake-sysfs.XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) {
    ADD_FAILURE() << "mkdtemp " << tmpl << " failed";
    return;
  }
  root_ = tmpl;
  MakeDirs(abi::kMemoryDir);
  MakeDirs(abi::kNodeDir);
  MakeDirs(abi::kVirtioPortsDir);
  SetBlockSize(block_size_);
  SetAutoOnlineBlocks(abi::kOnlineTypeOffline);
  SetNodes(FakeNodes{});
  SetBootId("0b3a4f0e-54d8-4c2c-9a47-1f1f4c0f9c11");
}

FakeSysfs::~FakeSysfs() {
  if (root_.empty()) return;
  std::error_code ec;
  fs::remove_all(root_, ec);
}

std::string FakeSysfs::Path(std::string_view relative) const {
  return root_ + "/" + std::string(relative);
}

std::string FakeSysfs::BlockDir(uint32_t id) { return abi::MemoryBlockDir(id); }

std::string FakeSysfs::BlockAttr(uint32_t id, std::string_view attr) {
  return abi::MemoryBlockAttr(id, attr);
}

void FakeSysfs::MakeDirs(std::string_view relative) {
  std::error_code ec;
  fs::create_directories(Path(relative), ec);
  if (ec) ADD_FAILURE() << "mkdir -p " << Path(relative) << ": " << ec.message();
}

void FakeSysfs::Symlink(const std::string& target, std::string_view relative) {
  std::error_code ec;
  fs::create_symlink(target, Path(relative), ec);
  if (ec) ADD_FAILURE() << "symlink " << Path(relative) << " -> " << target << ": " << ec.message();
}

void FakeSysfs::WriteFile(std::string_view relative, std::string_view content) {
  const fs::path p = Path(relative);
  MakeDirs(fs::path(relative).parent_path().string());
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  out.close();
  if (!out) ADD_FAILURE() << "write " << p.string() << " failed";
}

std::string FakeSysfs::ReadFile(std::string_view relative) const {
  std::ifstream in(Path(relative), std::ios::binary);
  if (!in) {
    ADD_FAILURE() << "read " << Path(relative) << " failed";
    return "";
  }
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void FakeSysfs::Remove(std::string_view relative) {
  std::error_code ec;
  fs::remove_all(Path(relative), ec);
  if (ec) ADD_FAILURE() << "rm -r " << Path(relative) << ": " << ec.message();
}

void FakeSysfs::SetBlockSize(uint64_t bytes) {
  block_size_ = bytes;
  WriteFile(abi::MemoryAttr(abi::kBlockSizeBytes), Hex(bytes, 0));
}

void FakeSysfs::SetAutoOnlineBlocks(std::string_view value) {
  WriteFile(abi::MemoryAttr(abi::kAutoOnlineBlocks), std::string(value) + "\n");
}

void FakeSysfs::SetNodes(const FakeNodes& nodes) {
  WriteFile(abi::NodeAttr(abi::kNodePossible), nodes.possible + "\n");
  WriteFile(abi::NodeAttr(abi::kNodeOnline), nodes.possible + "\n");
  WriteFile(abi::NodeAttr(abi::kNodeHasMemory), nodes.has_memory + "\n");
  WriteFile(abi::NodeAttr(abi::kNodeHasNormalMemory), nodes.has_normal_memory + "\n");
  WriteFile(abi::NodeAttr(abi::kNodeHasCpu), nodes.has_cpu + "\n");
  // Create nodeN for each id of the possible list (simple "a-b,c" lists only).
  std::string_view list = nodes.possible;
  while (!list.empty()) {
    const std::size_t comma = list.find(',');
    const std::string item(list.substr(0, comma));
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    const std::size_t dash = item.find('-');
    const unsigned long lo = std::stoul(item.substr(0, dash));
    const unsigned long hi = dash == std::string::npos ? lo : std::stoul(item.substr(dash + 1));
    for (unsigned long n = lo; n <= hi; ++n) MakeDirs(abi::NodeDir(static_cast<uint32_t>(n)));
  }
}

void FakeSysfs::RemoveNodeDir() { Remove(abi::kNodeDir); }

void FakeSysfs::AddBlock(const FakeBlock& block) {
  const uint64_t sections_per_block =
      block_size_ >= abi::kX86_64SectionSizeBytes ? block_size_ / abi::kX86_64SectionSizeBytes : 1;
  const uint64_t phys = block.phys_index.value_or(block.id * sections_per_block);
  MakeDirs(BlockDir(block.id));
  WriteFile(BlockAttr(block.id, abi::kBlockPhysIndex), Hex(phys, 8));
  WriteFile(BlockAttr(block.id, abi::kBlockState), block.state + "\n");
  WriteFile(BlockAttr(block.id, abi::kBlockValidZones), block.valid_zones + "\n");
  WriteFile(BlockAttr(block.id, abi::kBlockRemovable), block.removable ? "1\n" : "0\n");
  // The device core's own files, which the reader must ignore.
  WriteFile(BlockAttr(block.id, "uevent"), "");
  MakeDirs(BlockAttr(block.id, "power"));

  const std::string node_name = std::string(abi::kNodeDirPrefix) + std::to_string(block.node);
  const std::string block_name = std::string(abi::kBlockDirPrefix) + std::to_string(block.id);
  if (block.links == NodeLinks::kBoth) {
    Symlink("../../node/" + node_name, BlockAttr(block.id, node_name));
  }
  if (block.links != NodeLinks::kNone) {
    MakeDirs(abi::NodeDir(block.node));
    Symlink("../../memory/" + block_name, abi::NodeDir(block.node) + "/" + block_name);
  }
}

void FakeSysfs::AddBlock(uint32_t id, std::string_view state, std::string_view valid_zones,
                         uint32_t node) {
  FakeBlock b;
  b.id = id;
  b.state = std::string(state);
  b.valid_zones = std::string(valid_zones);
  b.node = node;
  AddBlock(b);
}

void FakeSysfs::SetBlockState(uint32_t id, std::string_view state) {
  WriteFile(BlockAttr(id, abi::kBlockState), std::string(state) + "\n");
}

void FakeSysfs::SetValidZones(uint32_t id, std::string_view zones) {
  WriteFile(BlockAttr(id, abi::kBlockValidZones), std::string(zones) + "\n");
}

void FakeSysfs::RemoveBlock(uint32_t id) {
  const std::string block_name = std::string(abi::kBlockDirPrefix) + std::to_string(id);
  std::error_code ec;
  for (const auto& ent : fs::directory_iterator(Path(abi::kNodeDir), ec)) {
    fs::remove(ent.path() / block_name, ec);
  }
  Remove(BlockDir(id));
}

void FakeSysfs::ReplaceWithDirectory(std::string_view relative) {
  Remove(relative);
  MakeDirs(relative);
}

void FakeSysfs::ReplaceWithDanglingSymlink(std::string_view relative) {
  Remove(relative);
  Symlink(Path("does-not-exist/anywhere"), relative);
}

void FakeSysfs::SetZoneInfo(std::string_view text) { WriteFile(abi::kProcZoneInfo, text); }

void FakeSysfs::SetMemInfo(std::string_view text) { WriteFile(abi::kProcMemInfo, text); }

void FakeSysfs::SetBootId(std::string_view uuid) {
  WriteFile(abi::kProcBootId, std::string(uuid) + "\n");
}

}  // namespace memhp::agent::testing
