// The runner and the service (daemon/operations/operation_runner.h, operation_service.h) over
// the two ports' fakes (support/fake_ports.h): a plug crosses both ports in the right order —
// the intent reaches the agent before any hardware, the device map after the DIMM, the end after
// the blocks are online in the zone asked; an online sent while a plug runs waits its turn and
// is told so; a journaled plug left unfinished is resumed at start and ends recovered. The agent
// path, which the fake-QEMU test cannot reach, is here.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "daemon/operations/operation_service.h"
#include "../support/fake_ports.h"
#include "../support/framed_peer.h"
#include "../support/status_text.h"

namespace memhp::daemon::operations {
namespace {

using ::testing::HasSubstr;
constexpr uint64_t kMiB = uint64_t{1} << 20;
constexpr uint64_t kAddr = uint64_t{4} << 30;  // blocks 32 and 33

class RunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = "/tmp/memhp-runner.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    devices_.log = &log_;
    agent_.log = &log_;
    devices_.facts.base_memory = 512 * kMiB;
    devices_.facts.max_memory = uint64_t{8} << 30;
    devices_.facts.slots = 4;
    devices_.facts.node_count = 2;
    devices_.plugged.set_id("dimm1");
    devices_.plugged.set_kind(memhp::v1::MEMORY_DEVICE_KIND_DIMM);
    devices_.plugged.set_qmp_type("dimm");
    devices_.plugged.set_address(kAddr);
    devices_.plugged.set_size(256 * kMiB);
    devices_.plugged.set_node(1);
    devices_.plugged.set_memdev("/objects/mem-dimm1");
  }
  void TearDown() override {
    service_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
    g_main_context_unref(context_);
  }
  void StartService() {
    OperationServiceConfig config;
    config.journal_path = dir_ + "/journal.jsonl";
    config.publish = [this](std::string_view name, const google::protobuf::Message& data) {
      if (name == "end") ends_.push_back(dynamic_cast<const memhp::v1::OperationResult&>(data));
    };
    service_ = std::make_unique<OperationService>(config, devices_, agent_, context_);
    ASSERT_EQ(test_support::ErrorText(service_->Start()), "");
  }
  void SetBlocks(memhp::v1::BlockState state, memhp::v1::Zone zone) {
    agent_.inventory.Clear();
    agent_.inventory.set_block_size_bytes(128 * kMiB);
    for (uint32_t id : {32u, 33u}) {
      auto* b = agent_.inventory.add_blocks();
      b->set_id(id);
      b->set_state(state);
      b->set_node(1);
      if (state == memhp::v1::BLOCK_STATE_ONLINE) b->set_zone(zone);
    }
  }
  [[nodiscard]] long At(const std::string& prefix) const {
    auto it = std::find_if(log_.begin(), log_.end(), [&](const std::string& l) { return l.rfind(prefix, 0) == 0; });
    return it == log_.end() ? -1 : it - log_.begin();
  }
  memhp::v1::PlugRequest Request() const {
    memhp::v1::PlugRequest r;
    r.set_device_id("dimm1");
    r.set_size(256 * kMiB);
    r.set_node(1);
    r.set_target(memhp::v1::ONLINE_TARGET_KERNEL);
    return r;
  }

  GMainContext* context_ = g_main_context_new();
  std::string dir_;
  std::vector<std::string> log_;
  test_support::FakeMemoryDevices devices_;
  test_support::FakeGuestAgent agent_;
  std::unique_ptr<OperationService> service_;
  std::vector<memhp::v1::OperationResult> ends_;
};

TEST_F(RunnerTest, APlugCrossesBothPortsIntentFirstMapAfterTheDimm) {
  StartService();
  SetBlocks(memhp::v1::BLOCK_STATE_ONLINE, memhp::v1::ZONE_NORMAL);
  std::vector<memhp::v1::ControlResponse> answers;
  service_->Plug(Request(), [&](memhp::v1::ControlResponse r) { answers.push_back(std::move(r)); });
  ASSERT_TRUE(test_support::RunUntil(context_, [&] { return !answers.empty() && answers.back().has_operation(); }));
  const memhp::v1::OperationResult& r = answers.back().operation();
  EXPECT_EQ(r.outcome(), memhp::v1::OPERATION_OUTCOME_DONE) << r.detail();
  ASSERT_GE(At("agent SendIntent dimm1"), 0) << ::testing::PrintToString(log_);
  EXPECT_LT(At("agent SendIntent dimm1"), At("hw AddBackend mem-dimm1"));
  EXPECT_LT(At("hw AddBackend mem-dimm1"), At("hw AddDimm dimm1"));
  EXPECT_LT(At("hw AddDimm dimm1"), At("agent SendDeviceMap 1"));
  EXPECT_LT(At("agent SendDeviceMap 1"), At("agent Inventory"));
  // The intent names the operation by its journal id, and asks for the zone.
  EXPECT_EQ(log_[At("agent SendIntent")], "agent SendIntent dimm1 op " + std::to_string(r.operation_id()));
  EXPECT_EQ(agent_.intent_target, memhp::v1::ONLINE_TARGET_KERNEL);
  std::vector<std::string> steps;
  for (const auto& s : r.steps()) steps.push_back(s.name());
  EXPECT_EQ(steps, (std::vector<std::string>{"admission", "intent", "object-add", "device_add", "locate", "device-map",
                                             "online"}));
  EXPECT_EQ(r.blocks_size(), 2);
  EXPECT_EQ(service_->journal().ops().back().outcome, memhp::v1::OPERATION_OUTCOME_DONE);
}

TEST_F(RunnerTest, AnOnlineSentWhileAPlugRunsWaitsItsTurnAndIsToldSo) {
  StartService();
  SetBlocks(memhp::v1::BLOCK_STATE_OFFLINE, memhp::v1::ZONE_UNSPECIFIED);  // the plug waits for them
  std::vector<std::string> order;
  service_->Plug(Request(), [&](memhp::v1::ControlResponse r) {
    if (r.has_operation()) order.push_back("plug");
  });
  std::vector<uint32_t> queued;
  memhp::v1::BlockOpCommand online;
  online.mutable_online()->mutable_selection()->mutable_blocks()->add_ids(0);
  service_->BlockOp(online, [&](memhp::v1::ControlResponse r) {
    if (r.has_progress() && r.progress().step() == "queued") queued.push_back(r.progress().queued_behind());
    if (r.has_block_op()) order.push_back("online");
  });
  EXPECT_EQ(queued, (std::vector<uint32_t>{1}));
  EXPECT_EQ(At("agent Online"), -1) << "the online ran beside the plug";
  SetBlocks(memhp::v1::BLOCK_STATE_ONLINE, memhp::v1::ZONE_NORMAL);
  ASSERT_TRUE(test_support::RunUntil(context_, [&] { return order.size() == 2; }));
  EXPECT_EQ(order, (std::vector<std::string>{"plug", "online"}));
}

TEST_F(RunnerTest, APolicyReadDoesNotWaitButAPolicyChangeDoes) {
  StartService();
  SetBlocks(memhp::v1::BLOCK_STATE_OFFLINE, memhp::v1::ZONE_UNSPECIFIED);
  service_->Plug(Request(), [](memhp::v1::ControlResponse) {});
  bool read = false;
  service_->Policy(memhp::v1::PolicyCommand(), [&](memhp::v1::ControlResponse r) { read = r.has_policy(); });
  EXPECT_TRUE(read);
  memhp::v1::PolicyCommand change;
  change.mutable_set()->set_policy("online_movable");
  bool changed = false;
  service_->Policy(change, [&](memhp::v1::ControlResponse r) { changed = changed || r.has_policy(); });
  EXPECT_FALSE(changed);
  SetBlocks(memhp::v1::BLOCK_STATE_ONLINE, memhp::v1::ZONE_NORMAL);
  ASSERT_TRUE(test_support::RunUntil(context_, [&] { return changed; }));
}

TEST_F(RunnerTest, AnUnfinishedPlugInTheJournalIsResumedAtStartAndEndsRecovered) {
  {
    Journal journal(dir_ + "/journal.jsonl");
    ASSERT_EQ(test_support::ErrorText(journal.Open()), "");
    JournalParams params;
    params.kind = memhp::v1::OPERATION_KIND_PLUG;
    params.device_id = "dimm1";
    params.memdev_id = "mem-dimm1";
    params.size = 256 * kMiB;
    params.node = 1;
    uint64_t id = 0;
    ASSERT_EQ(test_support::ErrorText(journal.Begin(params, &id)), "");
    ASSERT_EQ(test_support::ErrorText(journal.Step(id, "device-added", "dimm1")), "");
  }
  devices_.devices.push_back(devices_.plugged);
  StartService();
  ASSERT_TRUE(test_support::RunUntil(context_, [&] { return !ends_.empty(); }));
  EXPECT_TRUE(ends_[0].recovered());
  EXPECT_EQ(ends_[0].outcome(), memhp::v1::OPERATION_OUTCOME_DONE);
  EXPECT_THAT(ends_[0].detail(), HasSubstr("dimm1 is plugged"));
  EXPECT_TRUE(service_->journal().Unfinished().empty());
  EXPECT_EQ(At("agent SendIntent"), -1) << "a resumed plug does not plug again";
}

}  // namespace
}  // namespace memhp::daemon::operations
