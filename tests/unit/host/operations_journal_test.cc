// memhpd's operation journal (daemon/operations/journal.h) on a temp file, the reconcile
// decisions a restarted memhpd takes from it (reconcile.h), and how a plugged range's blocks are
// judged from the agent's inventory (block_progress.h).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "daemon/operations/block_progress.h"
#include "daemon/operations/journal.h"
#include "daemon/operations/reconcile.h"
#include "../support/status_text.h"

namespace memhp::daemon::operations {
namespace {

using ::memhp::test_support::ErrorText;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr uint64_t kMiB = uint64_t{1} << 20;

class TempJournal : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = "/tmp/memhp-journal-test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/journal.jsonl";
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::string Text() const {
    std::ifstream in(path_);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  size_t Lines() const {
    const std::string t = Text();
    return static_cast<size_t>(std::count(t.begin(), t.end(), '\n'));
  }
  static JournalParams PlugParams(const std::string& id) {
    return JournalParams{memhp::v1::OPERATION_KIND_PLUG, id, "mem-" + id, 256 * kMiB, 1,
                         memhp::v1::ONLINE_TARGET_MOVABLE};
  }

  std::string dir_;
  std::string path_;
};

TEST_F(TempJournal, RoundTripsEveryRecord) {
  {
    Journal journal(path_);
    ASSERT_EQ(ErrorText(journal.Open()), "");
    uint64_t id = 0;
    ASSERT_EQ(ErrorText(journal.Begin(PlugParams("dimm1"), &id)), "");
    EXPECT_EQ(id, 1u);
    ASSERT_EQ(ErrorText(journal.Step(id, "object-added", "mem-dimm1")), "");
    ASSERT_EQ(ErrorText(journal.Step(id, "device-added")), "");
    ASSERT_EQ(ErrorText(journal.End(id, memhp::v1::OPERATION_OUTCOME_DONE, "256 MiB online", false, 256 * kMiB)), "");
  }
  EXPECT_EQ(Lines(), 4u);
  Journal again(path_);
  ASSERT_EQ(ErrorText(again.Open()), "");
  ASSERT_EQ(again.ops().size(), 1u);
  const JournalOp& op = again.ops().front();
  EXPECT_EQ(op.id, 1u);
  EXPECT_EQ(op.params.kind, memhp::v1::OPERATION_KIND_PLUG);
  EXPECT_EQ(op.params.device_id, "dimm1");
  EXPECT_EQ(op.params.memdev_id, "mem-dimm1");
  EXPECT_EQ(op.params.size, 256 * kMiB);
  EXPECT_EQ(op.params.node, 1);
  EXPECT_EQ(op.params.target, memhp::v1::ONLINE_TARGET_MOVABLE);
  ASSERT_EQ(op.steps.size(), 2u);
  EXPECT_EQ(op.steps[0].name, "object-added");
  EXPECT_EQ(op.steps[0].detail, "mem-dimm1");
  EXPECT_TRUE(op.ended);
  EXPECT_EQ(op.outcome, memhp::v1::OPERATION_OUTCOME_DONE);
  EXPECT_EQ(op.detail, "256 MiB online");
  EXPECT_EQ(op.size_reached, 256 * kMiB);
  EXPECT_TRUE(again.Unfinished().empty());
}

TEST_F(TempJournal, ToleratesATornLastLineAndCutsIt) {
  {
    Journal journal(path_);
    ASSERT_EQ(ErrorText(journal.Open()), "");
    uint64_t id = 0;
    ASSERT_EQ(ErrorText(journal.Begin(PlugParams("dimm1"), &id)), "");
    ASSERT_EQ(ErrorText(journal.Step(id, "object-added")), "");
  }
  { std::ofstream(path_, std::ios::app) << R"({"op":1,"rec":"step","t":5,"step":"devi)"; }
  Journal journal(path_);
  ASSERT_EQ(ErrorText(journal.Open()), "");
  EXPECT_TRUE(journal.torn_tail_dropped());
  ASSERT_EQ(journal.Unfinished().size(), 1u);
  EXPECT_EQ(journal.Unfinished()[0].steps.size(), 1u);
  // The next record starts on its own line.
  ASSERT_EQ(ErrorText(journal.End(1, memhp::v1::OPERATION_OUTCOME_FAILED, "recovered", true, 0)), "");
  EXPECT_THAT(Text(), Not(HasSubstr(R"("step":"devi)")));
  Journal third(path_);
  ASSERT_EQ(ErrorText(third.Open()), "");
  EXPECT_EQ(third.skipped_lines(), 0u);
  EXPECT_TRUE(third.ops().front().recovered);
}

TEST_F(TempJournal, SkipsAGarbledMiddleLine) {
  { std::ofstream(path_) << "{not json\n" << R"({"op":3,"rec":"begin","kind":"resize","device":"vm0","size":4})" << "\n"; }
  Journal journal(path_);
  ASSERT_EQ(ErrorText(journal.Open()), "");
  EXPECT_EQ(journal.skipped_lines(), 1u);
  ASSERT_EQ(journal.Unfinished().size(), 1u);
  EXPECT_EQ(journal.Unfinished()[0].params.kind, memhp::v1::OPERATION_KIND_RESIZE);
}

TEST_F(TempJournal, IdsContinueAfterARestart) {
  {
    Journal journal(path_);
    ASSERT_EQ(ErrorText(journal.Open()), "");
    uint64_t id = 0;
    for (int i = 0; i < 3; ++i) ASSERT_EQ(ErrorText(journal.Begin(PlugParams("d" + std::to_string(i)), &id)), "");
    EXPECT_EQ(id, 3u);
  }
  Journal journal(path_);
  ASSERT_EQ(ErrorText(journal.Open()), "");
  uint64_t id = 0;
  ASSERT_EQ(ErrorText(journal.Begin(PlugParams("d9"), &id)), "");
  EXPECT_EQ(id, 4u);
}

TEST_F(TempJournal, CompactsKeepingUnfinishedAndTheLastFinished) {
  Journal journal(path_, JournalLimits{.max_records = 40, .keep_finished = 3});
  ASSERT_EQ(ErrorText(journal.Open()), "");
  uint64_t unfinished = 0;
  ASSERT_EQ(ErrorText(journal.Begin(PlugParams("stuck"), &unfinished)), "");
  ASSERT_EQ(ErrorText(journal.Step(unfinished, "object-added")), "");
  uint64_t id = 0;
  for (int i = 0; i < 30; ++i) {
    ASSERT_EQ(ErrorText(journal.Begin(PlugParams("d" + std::to_string(i)), &id)), "");
    ASSERT_EQ(ErrorText(journal.End(id, memhp::v1::OPERATION_OUTCOME_DONE, "", false, 0)), "");
  }
  EXPECT_LE(Lines(), 40u);
  Journal reread(path_);
  ASSERT_EQ(ErrorText(reread.Open()), "");
  ASSERT_EQ(reread.Unfinished().size(), 1u);
  EXPECT_EQ(reread.Unfinished()[0].id, unfinished);
  EXPECT_TRUE(reread.Unfinished()[0].HasStep("object-added"));
  size_t finished = 0;
  for (const auto& op : reread.ops()) finished += op.ended;
  EXPECT_LE(finished, 20u);
  EXPECT_GE(finished, 3u);
  EXPECT_EQ(reread.ops().back().id, id);  // the newest is kept
  EXPECT_EQ(reread.next_id(), id + 1);
}

TEST_F(TempJournal, AFailedCompactionSaysWhyKeepsEveryRecordAndLeavesNoTempFile) {
  Journal journal(path_, JournalLimits{.max_records = 6, .keep_finished = 1});
  ASSERT_EQ(ErrorText(journal.Open()), "");
  uint64_t id = 0;
  ASSERT_EQ(ErrorText(journal.Begin(PlugParams("a"), &id)), "");
  ASSERT_EQ(ErrorText(journal.End(id, memhp::v1::OPERATION_OUTCOME_DONE, "", false, 0)), "");
  // The journal's name now holds a folder that is not empty: rename(2) onto it fails (EISDIR),
  // while the open file keeps taking appends.
  const std::string moved = dir_ + "/journal.moved";
  ASSERT_EQ(rename(path_.c_str(), moved.c_str()), 0);
  ASSERT_EQ(mkdir(path_.c_str(), 0700), 0);
  std::ofstream(path_ + "/keep") << "x";
  Status failed = OkStatus();
  for (int i = 0; i < 4 && failed.ok(); ++i) {
    if (failed = journal.Begin(PlugParams("b" + std::to_string(i)), &id); failed.ok()) {
      failed = journal.End(id, memhp::v1::OPERATION_OUTCOME_DONE, "", false, 0);
    }
  }
  EXPECT_THAT(ErrorText(failed), HasSubstr("rename " + path_ + ".tmp to " + path_));
  EXPECT_THAT(ErrorText(failed), HasSubstr("Is a directory"));
  EXPECT_FALSE(std::filesystem::exists(path_ + ".tmp"));
  // Nothing was lost: the file memhpd had open holds every record, up to the begin of b2 whose
  // append (the 7th record, over max_records) ran the compaction that failed.
  std::ifstream in(moved);
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 7);
  EXPECT_THAT(text, HasSubstr("\"b2\""));
}

TEST_F(TempJournal, ReportsAnUnwritableFolder) {
  Journal journal(dir_ + "/missing/journal.jsonl");
  EXPECT_THAT(ErrorText(journal.Open()), HasSubstr("missing/journal.jsonl"));
  uint64_t id = 0;
  EXPECT_THAT(ErrorText(journal.Begin(PlugParams("x"), &id)), HasSubstr("not open"));
}

// --- Reconcile decisions ---

memhp::v1::MemoryDevice Device(const std::string& id, uint64_t size) {
  memhp::v1::MemoryDevice d;
  d.set_id(id);
  d.set_size(size);
  return d;
}

JournalOp Op(memhp::v1::OperationKind kind, const std::string& id, const std::string& memdev, uint64_t size,
             std::vector<std::string> steps = {}) {
  JournalOp op;
  op.id = 7;
  op.params = JournalParams{kind, id, memdev, size, 1, memhp::v1::ONLINE_TARGET_UNSPECIFIED};
  for (auto& s : steps) op.steps.push_back({s, ""});
  return op;
}

TEST(Reconcile, Decisions) {
  using memhp::v1::OPERATION_KIND_PLUG;
  using memhp::v1::OPERATION_KIND_RESIZE;
  using memhp::v1::OPERATION_KIND_UNPLUG;
  struct Case {
    const char* name;
    JournalOp op;
    QemuMemoryState qemu;
    memhp::v1::OperationOutcome outcome;
    std::optional<std::string> object_del;
    uint64_t size_reached;
    const char* detail;
  } cases[] = {
      {"plug, device present", Op(OPERATION_KIND_PLUG, "dimm1", "mem-dimm1", 256 * kMiB, {"object-added", "device-added"}),
       {{Device("dimm1", 256 * kMiB)}, {"mem-dimm1"}}, memhp::v1::OPERATION_OUTCOME_DONE, std::nullopt, 256 * kMiB,
       "dimm1 is plugged"},
      {"plug, backend only", Op(OPERATION_KIND_PLUG, "dimm1", "mem-dimm1", 256 * kMiB, {"object-added"}),
       {{}, {"m0", "mem-dimm1"}}, memhp::v1::OPERATION_OUTCOME_FAILED, "mem-dimm1", 0, "backend mem-dimm1 removed"},
      {"plug, nothing", Op(OPERATION_KIND_PLUG, "dimm1", "mem-dimm1", 256 * kMiB), {{}, {"m0"}},
       memhp::v1::OPERATION_OUTCOME_FAILED, std::nullopt, 0, "nothing was plugged"},
      {"unplug, gone, backend left", Op(OPERATION_KIND_UNPLUG, "dimm1", "mem-dimm1", 256 * kMiB, {"device-del-sent"}),
       {{}, {"mem-dimm1"}}, memhp::v1::OPERATION_OUTCOME_DONE, "mem-dimm1", 0, "dimm1 is gone"},
      {"unplug, gone, backend gone", Op(OPERATION_KIND_UNPLUG, "dimm1", "mem-dimm1", 256 * kMiB), {{}, {}},
       memhp::v1::OPERATION_OUTCOME_DONE, std::nullopt, 0, "dimm1 is gone"},
      {"unplug, still there", Op(OPERATION_KIND_UNPLUG, "dimm1", "mem-dimm1", 256 * kMiB, {"agent-offlined"}),
       {{Device("dimm1", 256 * kMiB)}, {"mem-dimm1"}}, memhp::v1::OPERATION_OUTCOME_FAILED, std::nullopt, 256 * kMiB,
       "the guest had offlined its blocks"},
      {"resize reached", Op(OPERATION_KIND_RESIZE, "vm0", "", 512 * kMiB), {{Device("vm0", 512 * kMiB)}, {}},
       memhp::v1::OPERATION_OUTCOME_DONE, std::nullopt, 512 * kMiB, "size"},
      {"resize short", Op(OPERATION_KIND_RESIZE, "vm0", "", 512 * kMiB), {{Device("vm0", 256 * kMiB)}, {}},
       memhp::v1::OPERATION_OUTCOME_PARTIAL, std::nullopt, 256 * kMiB, "size 268435456 of 536870912"},
      {"resize, device gone", Op(OPERATION_KIND_RESIZE, "vm0", "", 512 * kMiB), {{}, {}},
       memhp::v1::OPERATION_OUTCOME_FAILED, std::nullopt, 0, "vm0 is gone"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const ReconcileDecision d = DecideReconcile(c.op, c.qemu);
    EXPECT_EQ(d.outcome, c.outcome);
    EXPECT_EQ(d.object_del, c.object_del);
    EXPECT_EQ(d.size_reached, c.size_reached);
    EXPECT_THAT(d.detail, HasSubstr(c.detail));
    EXPECT_THAT(d.detail, HasSubstr("recovered"));
  }
}

// --- Block progress ---

memhp::v1::Inventory InventoryWith(std::vector<std::pair<uint32_t, memhp::v1::BlockState>> blocks) {
  memhp::v1::Inventory inv;
  inv.set_block_size_bytes(128 * kMiB);
  for (auto [id, state] : blocks) {
    auto* b = inv.add_blocks();
    b->set_id(id);
    b->set_state(state);
    b->set_node(1);
    if (state == memhp::v1::BLOCK_STATE_ONLINE) b->set_zone(memhp::v1::ZONE_MOVABLE);
  }
  return inv;
}

TEST(BlockProgress, JudgesEachBlockOfTheRange) {
  const BlockRange range{32 * 128 * kMiB, 3 * 128 * kMiB, 128 * kMiB};  // blocks 32, 33, 34
  const auto inv = InventoryWith({{0, memhp::v1::BLOCK_STATE_ONLINE},
                                  {32, memhp::v1::BLOCK_STATE_ONLINE},
                                  {33, memhp::v1::BLOCK_STATE_OFFLINE}});
  BlockProgress p = EvaluateBlocks(range, inv, {}, "dimm1");
  ASSERT_EQ(p.blocks.size(), 3u);
  EXPECT_EQ(p.blocks[0].block(), 32u);
  EXPECT_EQ(p.blocks[0].outcome(), memhp::v1::BLOCK_OUTCOME_DONE);
  EXPECT_EQ(p.blocks[0].zone(), memhp::v1::ZONE_MOVABLE);
  EXPECT_EQ(p.blocks[0].node(), 1);
  EXPECT_EQ(p.blocks[0].device_id(), "dimm1");
  EXPECT_EQ(p.blocks[1].outcome(), memhp::v1::BLOCK_OUTCOME_LEFT_OFFLINE);
  EXPECT_EQ(p.blocks[2].outcome(), memhp::v1::BLOCK_OUTCOME_NOT_FOUND);
  EXPECT_EQ(p.online_bytes, 128 * kMiB);
  EXPECT_FALSE(p.all_present);
  EXPECT_FALSE(p.all_settled);

  // Block 33's onlining was vetoed; 34 came online: settled, one failure.
  const auto later = InventoryWith({{32, memhp::v1::BLOCK_STATE_ONLINE},
                                    {33, memhp::v1::BLOCK_STATE_OFFLINE},
                                    {34, memhp::v1::BLOCK_STATE_ONLINE}});
  p = EvaluateBlocks(range, later, {{33, CancelledOnline{0, "reserve-guard", ""}}}, "dimm1");
  EXPECT_TRUE(p.all_present);
  EXPECT_TRUE(p.all_settled);
  EXPECT_FALSE(p.all_online);
  EXPECT_EQ(p.failed, 1u);
  EXPECT_EQ(p.blocks[1].outcome(), memhp::v1::BLOCK_OUTCOME_VETOED);
  EXPECT_EQ(p.blocks[1].vetoed_by(), "reserve-guard");
}

TEST(BlockProgress, IsBoundedWhateverTheGuestSends) {
  const BlockRange huge{0, uint64_t{1} << 50, 128 * kMiB};
  EXPECT_EQ(huge.block_count(), kMaxBlocksPerOperation);
  memhp::v1::Inventory inv;
  for (uint32_t i = 0; i < 10000; ++i) inv.add_blocks()->set_id(i);  // duplicates and all
  EXPECT_EQ(EvaluateBlocks(huge, inv, {}, "x").blocks.size(), kMaxBlocksPerOperation);
  EXPECT_TRUE(EvaluateBlocks(BlockRange{0, 128 * kMiB, 0}, inv, {}, "x").blocks.empty());
}

}  // namespace
}  // namespace memhp::daemon::operations
