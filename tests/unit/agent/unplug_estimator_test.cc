// memhp tests — the dry run in the agent (guest-agent/agent/unplug_estimator.h) through the
// request handler, over a fake guest tree: a range is its present blocks highest first, a list
// keeps its order and names absent blocks, held pins and listed hooks count on the agent's path
// only, nothing in the tree is changed, and bad requests are clear errors.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "agent/request_handler.h"
#include "agent/unplug_estimator.h"
#include "fake_sysfs.h"

namespace memhp::agent {
namespace {

using memhp::v1::AgentRequest;
using memhp::v1::AgentResponse;
using testing::FakeNodes;
using testing::FakeSysfs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr uint64_t kBlock = 128ull << 20;

class EstimatorTest : public ::testing::Test {
 protected:
  EstimatorTest()
      : reader_(guest_.root()),
        estimator_(reader_,
                   UnplugEstimatorOptions{.reserve_bytes = 128ull << 20, .pins_dir = guest_.Path("pins"), .page_size = 4096},
                   [this]() -> Result<std::vector<std::string>> { return hooks_; }),
        handler_(reader_, AgentIdentity{}, nullptr, nullptr, {}, &estimator_) {
    guest_.SetNodes(FakeNodes{"0-1", "0-1", "0", "0"});
    guest_.AddBlock(0, "online", "Normal", 0);
    guest_.AddBlock(1, "online", "Normal", 1);
    // vmem1's region: blocks 40..43 plugged (43 offline), 44 not plugged.
    guest_.AddBlock(40, "online", "Movable", 1);
    guest_.AddBlock(41, "online", "Movable", 1);
    guest_.AddBlock(42, "online", "Movable", 1);
    guest_.AddBlock(43, "offline", "Movable Normal", 1);
    guest_.SetZoneInfo(
        "Node 0, zone   Normal\n  pages free     1000\n        present  32768\n        managed  30000\n"
        "Node 1, zone   Normal\n  pages free     2000\n        present  32768\n        managed  30000\n"
        "Node 1, zone  Movable\n  pages free     50000\n        present  98304\n        managed  98304\n");
    // 400 MiB available: with the 128 MiB reserve, two blocks could go on the agent's path.
    guest_.SetMemInfo("MemTotal: 1048576 kB\nMemAvailable: 409600 kB\n");
  }

  AgentResponse Ask(const memhp::v1::UnplugEstimateRequest& estimate) {
    AgentRequest request;
    request.set_id(7);
    *request.mutable_estimate() = estimate;
    return handler_.Handle(request);
  }
  static memhp::v1::UnplugEstimateRequest Range(uint64_t first, uint64_t count, memhp::v1::EstimatePath path) {
    memhp::v1::UnplugEstimateRequest r;
    r.mutable_selection()->mutable_range()->set_start(first * kBlock);
    r.mutable_selection()->mutable_range()->set_size(count * kBlock);
    r.set_path(path);
    return r;
  }
  static std::vector<uint32_t> Ids(const memhp::v1::UnplugEstimate& e) {
    std::vector<uint32_t> ids;
    for (const auto& b : e.blocks()) ids.push_back(b.block());
    return ids;
  }

  FakeSysfs guest_;
  SysfsReader reader_;
  std::vector<std::string> hooks_ = {"10-db"};
  UnplugEstimator estimator_;
  RequestHandler handler_;
};

TEST_F(EstimatorTest, ARangeIsItsPresentBlocksHighestFirst) {
  AgentResponse r = Ask(Range(40, 8, memhp::v1::ESTIMATE_PATH_DRIVER));
  ASSERT_FALSE(r.has_error()) << r.error().message();
  ASSERT_TRUE(r.has_estimate());
  const auto& e = r.estimate();
  EXPECT_THAT(Ids(e), ElementsAre(43, 42, 41, 40));
  EXPECT_EQ(e.blocks(0).verdict(), memhp::v1::ESTIMATE_VERDICT_ALREADY_OFFLINE);
  // The driver's path: 400 MiB of room, three online blocks of 128 MiB fit (16 MiB left).
  EXPECT_EQ(e.blocks(3).verdict(), memhp::v1::ESTIMATE_VERDICT_WOULD_GO) << e.blocks(3).reason();
  EXPECT_EQ(e.could_go_bytes(), 4 * kBlock);
  EXPECT_EQ(e.mem_available_bytes(), 409600ull * 1024);
  EXPECT_EQ(e.free_bytes(), (1000ull + 2000 + 50000) * 4096);
  EXPECT_EQ(e.movable_free_bytes(), 50000ull * 4096);
  EXPECT_EQ(e.hooks_size(), 0);  // the driver runs no hooks
  EXPECT_EQ(e.reserve_bytes(), 0u);
  EXPECT_EQ(e.block_size_bytes(), kBlock);
}

TEST_F(EstimatorTest, TheAgentsPathCountsTheReserveAPinAndListsTheHooks) {
  // A held pin over block 42 (a shared flock, as memhp-agent pin takes it).
  guest_.WriteFile("pins/memory42", "memory42\n");
  const int fd = open(guest_.Path("pins/memory42").c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(flock(fd, LOCK_SH), 0);
  AgentResponse r = Ask(Range(40, 4, memhp::v1::ESTIMATE_PATH_AGENT));
  close(fd);
  ASSERT_FALSE(r.has_error()) << r.error().message();
  const auto& e = r.estimate();
  ASSERT_THAT(Ids(e), ElementsAre(43, 42, 41, 40));
  EXPECT_EQ(e.blocks(1).verdict(), memhp::v1::ESTIMATE_VERDICT_PINNED);
  EXPECT_THAT(e.blocks(1).reason(), HasSubstr("memory42"));
  // 400 MiB: block 41 leaves 272, block 40 would leave 144 (>= 128): both go.
  EXPECT_EQ(e.blocks(2).verdict(), memhp::v1::ESTIMATE_VERDICT_WOULD_GO);
  EXPECT_EQ(e.blocks(3).verdict(), memhp::v1::ESTIMATE_VERDICT_WOULD_GO);
  EXPECT_THAT(e.hooks(), ElementsAre("10-db"));
  EXPECT_EQ(e.reserve_bytes(), 128ull << 20);
  EXPECT_EQ(e.could_go_bytes(), 3 * kBlock);
  EXPECT_EQ(e.blocked_bytes(), kBlock);
}

TEST_F(EstimatorTest, AListKeepsItsOrderAndNamesAbsentBlocks) {
  memhp::v1::UnplugEstimateRequest request;
  for (uint32_t id : {41u, 99u, 0u}) request.mutable_selection()->mutable_blocks()->add_ids(id);
  request.set_path(memhp::v1::ESTIMATE_PATH_AGENT);
  request.set_all_or_nothing(true);
  AgentResponse r = Ask(request);
  ASSERT_FALSE(r.has_error()) << r.error().message();
  const auto& e = r.estimate();
  ASSERT_THAT(Ids(e), ElementsAre(41, 99, 0));
  EXPECT_EQ(e.blocks(1).verdict(), memhp::v1::ESTIMATE_VERDICT_NOT_FOUND);
  EXPECT_EQ(e.blocks(2).verdict(), memhp::v1::ESTIMATE_VERDICT_KERNEL_ZONE);
  // All or nothing: the boot block stops the others.
  EXPECT_EQ(e.blocks(0).verdict(), memhp::v1::ESTIMATE_VERDICT_SKIPPED);
  EXPECT_EQ(e.could_go_bytes(), 0u);
}

TEST_F(EstimatorTest, ADryRunChangesNothing) {
  const std::string before = guest_.ReadFile(FakeSysfs::BlockAttr(41, "state"));
  AgentResponse r = Ask(Range(40, 4, memhp::v1::ESTIMATE_PATH_AGENT));
  ASSERT_FALSE(r.has_error()) << r.error().message();
  EXPECT_EQ(guest_.ReadFile(FakeSysfs::BlockAttr(41, "state")), before);
  EXPECT_EQ(guest_.ReadFile(FakeSysfs::BlockAttr(43, "state")), "offline\n");
}

TEST_F(EstimatorTest, BadRequestsAreClearErrors) {
  memhp::v1::UnplugEstimateRequest amount;
  amount.mutable_selection()->mutable_amount()->set_node(1);
  amount.mutable_selection()->mutable_amount()->set_bytes(kBlock);
  amount.set_path(memhp::v1::ESTIMATE_PATH_AGENT);
  AgentResponse r = Ask(amount);
  ASSERT_TRUE(r.has_error());
  EXPECT_EQ(r.error().code(), memhp::v1::ERROR_CODE_INVALID_ARGUMENT);
  EXPECT_THAT(r.error().message(), HasSubstr("a block list or a range"));

  memhp::v1::UnplugEstimateRequest no_path = Range(40, 4, memhp::v1::ESTIMATE_PATH_UNSPECIFIED);
  r = Ask(no_path);
  ASSERT_TRUE(r.has_error());
  EXPECT_THAT(r.error().message(), HasSubstr("path"));

  memhp::v1::UnplugEstimateRequest partial = Range(40, 1, memhp::v1::ESTIMATE_PATH_DRIVER);
  partial.mutable_selection()->mutable_range()->set_size(kBlock / 2);
  r = Ask(partial);
  ASSERT_TRUE(r.has_error());
  EXPECT_THAT(r.error().message(), HasSubstr("whole memory blocks"));

  memhp::v1::UnplugEstimateRequest huge = Range(0, 5000, memhp::v1::ESTIMATE_PATH_DRIVER);
  r = Ask(huge);
  ASSERT_TRUE(r.has_error());
  EXPECT_EQ(r.error().code(), memhp::v1::ERROR_CODE_TOO_LARGE);
}

TEST_F(EstimatorTest, AnUnreadableMeminfoIsAnErrorNotAGuess) {
  guest_.ReplaceWithDirectory("proc/meminfo");
  AgentResponse r = Ask(Range(40, 4, memhp::v1::ESTIMATE_PATH_DRIVER));
  ASSERT_TRUE(r.has_error());
  EXPECT_EQ(r.error().code(), memhp::v1::ERROR_CODE_FAILED);
}

TEST(EstimatorHello, TheHelloSaysEstimateOnlyWithAnEstimator) {
  FakeSysfs guest;
  SysfsReader reader(guest.root());
  UnplugEstimator estimator(reader, UnplugEstimatorOptions{}, {});
  RequestHandler with(reader, AgentIdentity{}, nullptr, nullptr, {}, &estimator);
  RequestHandler without(reader, AgentIdentity{});
  EXPECT_THAT(with.MakeHello().capabilities(), ::testing::Contains("estimate"));
  EXPECT_THAT(without.MakeHello().capabilities(), ::testing::Not(::testing::Contains("estimate")));
  AgentRequest request;
  request.set_id(3);
  request.mutable_estimate()->set_path(memhp::v1::ESTIMATE_PATH_DRIVER);
  AgentResponse r = without.Handle(request);
  ASSERT_TRUE(r.has_error());
  EXPECT_EQ(r.error().code(), memhp::v1::ERROR_CODE_UNSUPPORTED);
}

}  // namespace
}  // namespace memhp::agent
