// memhp tests — the pin guard (guest-agent/handlers/pin_guard.h, S22): pin files named
// "START-END" / "memoryN" (or saying so inside) veto MEM_GOING_OFFLINE of an overlapping block
// while a flock(2) is held on them — by another open file description of this process or by a
// child process — and are removed as stale once nobody holds them.
#include "handlers/pin_guard.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace memhp::agent {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

constexpr uint64_t kBlock = 128ull << 20;
constexpr uint64_t kPage = 4096;

// ---- ParsePinSpec ----------------------------------------------------------------------------

struct SpecCase {
  const char* text;
  std::optional<PinRange> want;
};

class ParsePinSpecTest : public ::testing::TestWithParam<SpecCase> {};

TEST_P(ParsePinSpecTest, ParsesIomemStyleRangesAndBlockNames) {
  EXPECT_EQ(ParsePinSpec(GetParam().text, kBlock), GetParam().want) << GetParam().text;
}

INSTANTIATE_TEST_SUITE_P(
    Table, ParsePinSpecTest,
    ::testing::Values(
        SpecCase{"100000000-107ffffff", PinRange{0x100000000, 0x108000000}},  // END inclusive
        SpecCase{"0x100000000-0x107FFFFFF", PinRange{0x100000000, 0x108000000}},
        SpecCase{"  1000-1000\n", PinRange{0x1000, 0x1001}},                    // one byte
        SpecCase{"memory32", PinRange{32 * kBlock, 33 * kBlock}},
        SpecCase{"memory0\n", PinRange{0, kBlock}},
        SpecCase{"2000-1000", std::nullopt},                                      // END < START
        SpecCase{"memory", std::nullopt},
        SpecCase{"memoryx", std::nullopt},
        SpecCase{"memory99999999999999999", std::nullopt},                        // overflows
        SpecCase{"10000000000000000-10000000000000001", std::nullopt},            // 17 digits
        SpecCase{"db.pin", std::nullopt},
        SpecCase{"", std::nullopt},
        SpecCase{"-", std::nullopt},
        SpecCase{"12g4-5000", std::nullopt}));

// ---- the folder ------------------------------------------------------------------------------

class PinFolderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (fs::temp_directory_path() / "memhp-pins.XXXXXX").string();
    ASSERT_NE(mkdtemp(templ.data()), nullptr);
    dir_ = templ;
  }
  void TearDown() override {
    for (int fd : fds_) close(fd);
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  std::string Path(const std::string& name) const { return dir_ + "/" + name; }

  void Write(const std::string& name, const std::string& content = "") {
    std::ofstream(Path(name)) << content;
  }
  // Holds a shared flock through a second open file description, as another process would:
  // flock locks belong to the open file description, so the guard's own open conflicts.
  void Hold(const std::string& name) {
    const int fd = open(Path(name).c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(flock(fd, LOCK_SH), 0);
    fds_.push_back(fd);
  }
  void ReleaseAll() {
    for (int fd : fds_) close(fd);
    fds_.clear();
  }

  static MemoryNotify BlockNotify(uint32_t block) {
    return MemoryNotify{.start_pfn = block * (kBlock / kPage), .nr_pages = kBlock / kPage,
                        .status_change_nid_normal = -1, .status_change_nid = -1};
  }
  NotifyResult Offline(PinGuard& guard, uint32_t block, abi::MemoryEvent event = abi::MemoryEvent::kGoingOffline) {
    return guard.Call(event, BlockNotify(block), NotifyContext{.block = block});
  }
  PinGuard Guard() const { return PinGuard(PinGuardOptions{.folder = dir_, .page_size_bytes = kPage, .max_files = 16}); }

  std::string dir_;
  std::vector<int> fds_;
};

TEST_F(PinFolderTest, HeldPinsAreFoundByNameOrContentAndStaleOnesRemoved) {
  Write("100000000-107ffffff");              // held: by name
  Write("db.pin", "memory40\nrest ignored");  // held: by content
  Write("stale", "memory41");                 // nobody holds it
  Write("junk.pin", "no range here");         // held, but says nothing usable
  Hold("100000000-107ffffff");
  Hold("db.pin");
  Hold("junk.pin");
  fs::create_symlink(Path("db.pin"), Path("memory42"));  // a symlink is never a pin

  Result<std::vector<HeldPin>> pins = ScanPins(dir_, kBlock);
  ASSERT_TRUE(pins.ok()) << pins.error().message;
  std::vector<std::string> names;
  for (const HeldPin& p : *pins) names.push_back(p.file);
  EXPECT_THAT(names, ::testing::UnorderedElementsAre("100000000-107ffffff", "db.pin"));
  for (const HeldPin& p : *pins) {
    if (p.file == "db.pin") {
      EXPECT_EQ(p.range, (PinRange{40 * kBlock, 41 * kBlock}));
    }
  }
  EXPECT_FALSE(fs::exists(Path("stale")));
  EXPECT_TRUE(fs::exists(Path("junk.pin")));  // held: not ours to remove
  EXPECT_TRUE(fs::exists(Path("db.pin")));
}

TEST_F(PinFolderTest, AMissingFolderHoldsNoPins) {
  Result<std::vector<HeldPin>> pins = ScanPins(dir_ + "/absent", kBlock);
  ASSERT_TRUE(pins.ok());
  EXPECT_TRUE(pins->empty());
}

TEST_F(PinFolderTest, TheGuardVetoesGoingOfflineOfAPinnedBlockOnly) {
  Write("pin-a", "memory33");
  Hold("pin-a");
  // A one-byte pin at the very end of block 36 pins that block and nothing else.
  const uint64_t last = 37 * kBlock - 1;
  char name[64];
  std::snprintf(name, sizeof name, "%llx-%llx", static_cast<unsigned long long>(last),
                static_cast<unsigned long long>(last));
  Write(name);
  Hold(name);
  PinGuard guard = Guard();
  EXPECT_EQ(Offline(guard, 33), NotifyResult::kBad);
  EXPECT_THAT(guard.last_veto_reason(), HasSubstr("pin-a"));
  EXPECT_EQ(Offline(guard, 36), NotifyResult::kBad);
  EXPECT_EQ(Offline(guard, 32), NotifyResult::kDone);
  EXPECT_EQ(Offline(guard, 34), NotifyResult::kDone);
  EXPECT_EQ(Offline(guard, 37), NotifyResult::kDone);
  // S15/S22: a pin never stands in the way of anything but going offline.
  for (abi::MemoryEvent e : {abi::MemoryEvent::kGoingOnline, abi::MemoryEvent::kOnline,
                             abi::MemoryEvent::kOffline, abi::MemoryEvent::kCancelOffline,
                             abi::MemoryEvent::kCancelOnline}) {
    EXPECT_EQ(Offline(guard, 33, e), NotifyResult::kDone);
  }
  // Once the holder lets go, the same offline passes and the file is cleaned up.
  ReleaseAll();
  EXPECT_EQ(Offline(guard, 33), NotifyResult::kDone);
  EXPECT_FALSE(fs::exists(Path("pin-a")));
}

TEST_F(PinFolderTest, APinHeldByAnotherProcessDiesWithIt) {
  Write("memory50");
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    const int fd = open(Path("memory50").c_str(), O_RDONLY);
    if (fd < 0 || flock(fd, LOCK_SH) != 0) _exit(1);
    (void)!write(ready[1], "x", 1);
    pause();  // holds the pin until killed
    _exit(0);
  }
  close(ready[1]);
  char c = 0;
  ASSERT_EQ(read(ready[0], &c, 1), 1);
  close(ready[0]);
  PinGuard guard = Guard();
  EXPECT_EQ(Offline(guard, 50), NotifyResult::kBad);
  EXPECT_THAT(guard.last_veto_reason(), HasSubstr("memory50"));
  // A crashed pin holder: its lock goes with it, so it never pins for ever.
  kill(child, SIGKILL);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_EQ(Offline(guard, 50), NotifyResult::kDone);
  EXPECT_FALSE(fs::exists(Path("memory50")));
}

TEST_F(PinFolderTest, AnUnreadableFolderVetoesFailSafe) {
  Write("not-a-dir");
  PinGuard guard(PinGuardOptions{.folder = Path("not-a-dir"), .page_size_bytes = kPage, .max_files = 16});
  EXPECT_EQ(Offline(guard, 33), NotifyResult::kBad);
  EXPECT_THAT(guard.last_veto_reason(), HasSubstr("cannot read the pins"));
}

TEST_F(PinFolderTest, TooManyEntriesVetoes) {
  for (int i = 0; i < 17; ++i) Write("f" + std::to_string(i));
  PinGuard guard = Guard();  // max_files 16
  EXPECT_EQ(Offline(guard, 33), NotifyResult::kBad);
  EXPECT_THAT(guard.last_veto_reason(), HasSubstr("more than 16"));
}

}  // namespace
}  // namespace memhp::agent
