// operation_view_test — how memhpctl shows an operation's end: the headline an operator acts on
// for every outcome, the blocks and steps tables, the progress line, and the exit code each
// outcome and each memhpd error code means (the README's documented exit codes).
#include "ctl/operation_view.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <string>

#include "wire/proto_json.h"
#include "memhpctl/cli_args.h"

namespace memhp::ctl {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

constexpr uint64_t kMiB = 1024 * 1024;

v1::BlockResult* AddBlock(v1::OperationResult& r, uint32_t id, v1::BlockOutcome outcome, v1::Zone zone) {
  v1::BlockResult* b = r.add_blocks();
  b->set_block(id);
  b->set_outcome(outcome);
  b->set_zone(zone);
  b->set_node(1);
  b->set_duration_us(2500);
  return b;
}

v1::OperationResult DonePlug() {
  v1::OperationResult r;
  r.set_kind(v1::OPERATION_KIND_PLUG);
  r.set_outcome(v1::OPERATION_OUTCOME_DONE);
  r.set_device_id("dimm1");
  r.set_node(1);
  r.set_size_requested(256 * kMiB);
  r.set_size_reached(256 * kMiB);
  r.set_address(0x240000000);
  r.set_guest_side_known(true);
  r.set_duration_us(1'400'000);
  AddBlock(r, 72, v1::BLOCK_OUTCOME_DONE, v1::ZONE_MOVABLE);
  AddBlock(r, 73, v1::BLOCK_OUTCOME_DONE, v1::ZONE_MOVABLE);
  v1::OperationStep* step = r.add_steps();
  step->set_name("device_add");
  step->set_duration_us(35'000);
  step->set_ok(true);
  step = r.add_steps();
  step->set_name("online");
  step->set_duration_us(1'200'000);
  step->set_ok(true);
  step->set_detail("2 blocks");
  return r;
}

TEST(OperationHeadlineTest, DonePlugSaysSizeNodeAddressBlocksZoneAndTime) {
  EXPECT_EQ(RenderOperationHeadline(DonePlug()),
            "plugged dimm1: 256 MiB on node 1 at 0x240000000, 2 blocks online in Movable, 1.4 s");
}

TEST(OperationHeadlineTest, PlugWithABlockThatFailedCountsOnlyTheOnlineOnes) {
  v1::OperationResult r = DonePlug();
  r.mutable_blocks(1)->set_outcome(v1::BLOCK_OUTCOME_FAILED);
  EXPECT_THAT(RenderOperationHeadline(r), HasSubstr("1 of 2 blocks online in Movable"));
}

TEST(OperationHeadlineTest, PlugWithoutAgentSaysTheGuestSideIsUnknown) {
  v1::OperationResult r = DonePlug();
  r.clear_blocks();
  r.set_guest_side_known(false);
  const std::string line = RenderOperationHeadline(r);
  EXPECT_THAT(line, HasSubstr("guest side unknown"));
  EXPECT_THAT(line, Not(HasSubstr("blocks online")));
}

TEST(OperationHeadlineTest, RefusedUnplugNamesTheBusyBlockAndThatNothingChanged) {
  v1::OperationResult r;
  r.set_kind(v1::OPERATION_KIND_UNPLUG);
  r.set_outcome(v1::OPERATION_OUTCOME_REFUSED);
  r.set_device_id("dimm1");
  r.set_guest_side_known(true);
  AddBlock(r, 36, v1::BLOCK_OUTCOME_ROLLED_BACK, v1::ZONE_MOVABLE);
  AddBlock(r, 37, v1::BLOCK_OUTCOME_FAILED, v1::ZONE_MOVABLE)->set_errno_value(EBUSY);
  EXPECT_EQ(RenderOperationHeadline(r), "unplug refused: block 37 busy (EBUSY) \xE2\x80\x94 nothing changed");
}

// memhpd's reason for a refused unplug already ends "; nothing changed"
// (unplug_machine.cc): the headline says it once, not "nothing changed — nothing changed".
TEST(OperationHeadlineTest, RefusedUnplugWhoseReasonSaysNothingChangedSaysItOnce) {
  v1::OperationResult r;
  r.set_kind(v1::OPERATION_KIND_UNPLUG);
  r.set_outcome(v1::OPERATION_OUTCOME_REFUSED);
  r.set_device_id("dimm1");
  r.set_guest_side_known(true);
  r.set_detail("the guest refused to offline the DIMM: block 41 vetoed by pin-guard; block 40 offlined, then "
               "online again; nothing changed");
  AddBlock(r, 40, v1::BLOCK_OUTCOME_ROLLED_BACK, v1::ZONE_MOVABLE);
  AddBlock(r, 41, v1::BLOCK_OUTCOME_VETOED, v1::ZONE_MOVABLE)->set_vetoed_by("pin-guard");
  EXPECT_EQ(RenderOperationHeadline(r),
            "unplug refused: the guest refused to offline the DIMM: block 41 vetoed by pin-guard; block 40 "
            "offlined, then online again; nothing changed");
  // The whole text too (headline, block table, steps).
  const std::string text = RenderOperationText(r);
  const std::string phrase = "nothing changed";
  size_t count = 0;
  for (size_t at = text.find(phrase); at != std::string::npos; at = text.find(phrase, at + phrase.size())) ++count;
  EXPECT_EQ(count, 1u) << text;
}

TEST(OperationHeadlineTest, RefusedByAVetoNamesTheHandler) {
  v1::OperationResult r;
  r.set_kind(v1::OPERATION_KIND_UNPLUG);
  r.set_outcome(v1::OPERATION_OUTCOME_REFUSED);
  r.set_guest_side_known(true);
  AddBlock(r, 40, v1::BLOCK_OUTCOME_VETOED, v1::ZONE_MOVABLE)->set_vetoed_by("reserve-guard");
  EXPECT_THAT(RenderOperationHeadline(r), HasSubstr("block 40 vetoed by reserve-guard"));
}

TEST(OperationHeadlineTest, MemhpdsDetailWinsOverTheDerivedReason) {
  v1::OperationResult r;
  r.set_kind(v1::OPERATION_KIND_PLUG);
  r.set_outcome(v1::OPERATION_OUTCOME_REFUSED);
  r.set_guest_side_known(true);
  r.set_detail("size 100 MiB is not a multiple of the guest's block size 128 MiB");
  r.set_guest_side_known(false);  // refused before the guest was asked: nothing to be unknown
  EXPECT_EQ(RenderOperationHeadline(r),
            "plug refused: size 100 MiB is not a multiple of the guest's block size 128 MiB \xE2\x80\x94 nothing changed");
}

TEST(OperationHeadlineTest, PartialResizeSaysHowMuchOfWhat) {
  v1::OperationResult r;
  r.set_kind(v1::OPERATION_KIND_RESIZE);
  r.set_outcome(v1::OPERATION_OUTCOME_PARTIAL);
  r.set_device_id("vmem1");
  r.set_node(1);
  r.set_size_requested(0);
  r.set_size_reached(128 * kMiB);
  r.set_guest_side_known(true);
  r.set_detail("size stopped moving");
  r.set_duration_us(12'000'000);
  EXPECT_THAT(RenderOperationHeadline(r),
              AllOf(StartsWith("resize vmem1 partly done: 128 MiB of 0 B on node 1"), HasSubstr("12.0 s"),
                    HasSubstr("size stopped moving")));
}

TEST(OperationHeadlineTest, TimedOutAndFailedSayWhat) {
  v1::OperationResult r;
  r.set_kind(v1::OPERATION_KIND_UNPLUG);
  r.set_device_id("dimm2");
  r.set_guest_side_known(true);
  r.set_outcome(v1::OPERATION_OUTCOME_TIMED_OUT);
  r.set_duration_us(120'000'000);
  r.set_detail("no DEVICE_DELETED");
  EXPECT_THAT(RenderOperationHeadline(r), AllOf(StartsWith("unplug dimm2 timed out after 120.0 s"),
                                                HasSubstr("no DEVICE_DELETED")));
  r.set_outcome(v1::OPERATION_OUTCOME_FAILED);
  r.clear_detail();
  r.mutable_error()->set_message("device_add: GenericError: slot 0 busy");
  EXPECT_EQ(RenderOperationHeadline(r), "unplug dimm2 failed: device_add: GenericError: slot 0 busy");
}

TEST(OperationHeadlineTest, DoneResizeAndUnplug) {
  v1::OperationResult r;
  r.set_kind(v1::OPERATION_KIND_RESIZE);
  r.set_outcome(v1::OPERATION_OUTCOME_DONE);
  r.set_device_id("vmem1");
  r.set_node(1);
  r.set_size_requested(512 * kMiB);
  r.set_size_reached(512 * kMiB);
  r.set_guest_side_known(true);
  r.set_duration_us(2'000'000);
  EXPECT_EQ(RenderOperationHeadline(r), "resized vmem1: 512 MiB on node 1 (asked 512 MiB), 2.0 s");
  r.set_kind(v1::OPERATION_KIND_UNPLUG);
  r.set_device_id("dimm1");
  r.set_size_requested(256 * kMiB);
  AddBlock(r, 72, v1::BLOCK_OUTCOME_DONE, v1::ZONE_UNSPECIFIED);
  EXPECT_EQ(RenderOperationHeadline(r), "unplugged dimm1: 256 MiB from node 1, 1 block offlined, 2.0 s");
}

TEST(OperationHeadlineTest, AShrinkThatOfflinedFirstCountsOfflinedBlocks) {
  v1::OperationResult r;
  r.set_kind(v1::OPERATION_KIND_RESIZE);
  r.set_outcome(v1::OPERATION_OUTCOME_DONE);
  r.set_device_id("vmem1");
  r.set_node(1);
  r.set_guest_side_known(true);
  r.set_duration_us(238'000);
  AddBlock(r, 80, v1::BLOCK_OUTCOME_DONE, v1::ZONE_MOVABLE);
  AddBlock(r, 81, v1::BLOCK_OUTCOME_DONE, v1::ZONE_MOVABLE);
  r.add_steps()->set_name("offline");
  r.add_steps()->set_name("qom-set");
  EXPECT_EQ(RenderOperationHeadline(r), "resized vmem1: 0 B on node 1 (asked 0 B), 2 blocks offlined, 238 ms");
  r.mutable_steps(0)->set_name("online");  // a grow
  EXPECT_THAT(RenderOperationHeadline(r), HasSubstr("2 blocks online in Movable"));
}

TEST(OperationTextTest, HasTheBlocksAndTheStepsWithDurations) {
  v1::OperationResult r = DonePlug();
  r.mutable_blocks(1)->set_outcome(v1::BLOCK_OUTCOME_FAILED);
  r.mutable_blocks(1)->set_errno_value(EINVAL);
  r.mutable_blocks(1)->set_duration_us(0);  // not measured: shown as "-", not "0.0 ms"
  const std::string text = RenderOperationText(r);
  EXPECT_THAT(text, HasSubstr("  BLOCK  OUTCOME  ZONE     NODE  ERRNO   TIME    DETAIL\n"));
  EXPECT_THAT(text, HasSubstr("  72     DONE     Movable  1     -       2.5 ms  -\n"));
  EXPECT_THAT(text, HasSubstr("  73     FAILED   Movable  1     EINVAL  -       -\n"));
  EXPECT_THAT(text, HasSubstr("  device_add  yes  35 ms  -\n"));
  EXPECT_THAT(text, HasSubstr("  online      yes  1.2 s  2 blocks\n"));
  EXPECT_THAT(text, Not(HasSubstr("error:")));
}

TEST(OperationTextTest, ShowsTheUnderlyingError) {
  v1::OperationResult r = DonePlug();
  r.set_outcome(v1::OPERATION_OUTCOME_FAILED);
  r.mutable_error()->set_code(v1::ERROR_CODE_QMP);
  r.mutable_error()->set_message("GenericError: memory backend exists");
  EXPECT_THAT(RenderOperationText(r), HasSubstr("error: QMP: GenericError: memory backend exists\n"));
}

TEST(OperationJsonTest, UsesTheProtoFieldNames) {
  const std::string json = wire::ProtoToJson(DonePlug());
  EXPECT_THAT(json, HasSubstr("\"device_id\":\"dimm1\""));
  EXPECT_THAT(json, HasSubstr("\"outcome\":\"OPERATION_OUTCOME_DONE\""));
  EXPECT_THAT(json, HasSubstr("\"size_reached\":\"268435456\""));
  EXPECT_THAT(json, HasSubstr("\"guest_side_known\":true"));
  EXPECT_THAT(json, HasSubstr("\"recovered\":false"));  // defaults are printed too
  EXPECT_THAT(json, Not(HasSubstr("deviceId")));
}

TEST(ProgressLineTest, StepDetailBytesAndElapsed) {
  v1::OperationProgress p;
  p.set_step("online");
  p.set_detail("2/4 blocks");
  p.set_done_bytes(256 * kMiB);
  p.set_total_bytes(512 * kMiB);
  EXPECT_EQ(RenderProgressLine("plug", "dimm1", p, 1.23), "plug dimm1: online 2/4 blocks (256 MiB of 512 MiB) 1.2 s");
}

TEST(ProgressLineTest, QueuedBehindOthersAndNoDeviceYet) {
  v1::OperationProgress p;
  p.set_step("queued");
  p.set_queued_behind(2);
  EXPECT_EQ(RenderProgressLine("plug", "", p, 0.5), "plug: waiting behind 2 operations 0.5 s");
}

struct OutcomeCase {
  v1::OperationOutcome outcome;
  int exit_code;
};

class OperationExitCodeTest : public ::testing::TestWithParam<OutcomeCase> {};

TEST_P(OperationExitCodeTest, FollowsTheOutcome) {
  EXPECT_EQ(OperationExitCode(GetParam().outcome), GetParam().exit_code);
}

INSTANTIATE_TEST_SUITE_P(Table, OperationExitCodeTest,
                         ::testing::Values(OutcomeCase{v1::OPERATION_OUTCOME_DONE, cli::kExitOk},
                                           OutcomeCase{v1::OPERATION_OUTCOME_REFUSED, cli::kExitFailed},
                                           OutcomeCase{v1::OPERATION_OUTCOME_FAILED, cli::kExitFailed},
                                           OutcomeCase{v1::OPERATION_OUTCOME_PARTIAL, cli::kExitTimeout},
                                           OutcomeCase{v1::OPERATION_OUTCOME_TIMED_OUT, cli::kExitTimeout},
                                           OutcomeCase{v1::OPERATION_OUTCOME_UNSPECIFIED, cli::kExitFailed}));

TEST(ErrorExitCodeTest, TimeoutIsThreeEverythingElseOne) {
  EXPECT_EQ(ErrorExitCode(v1::ERROR_CODE_TIMEOUT), cli::kExitTimeout);
  for (v1::ErrorCode code : {v1::ERROR_CODE_INVALID_ARGUMENT, v1::ERROR_CODE_UNAVAILABLE, v1::ERROR_CODE_QMP,
                             v1::ERROR_CODE_BUSY, v1::ERROR_CODE_UNSUPPORTED, v1::ERROR_CODE_FAILED}) {
    EXPECT_EQ(ErrorExitCode(code), cli::kExitFailed) << v1::ErrorCode_Name(code);
  }
}

TEST(FormatTest, DurationsAndErrnoNames) {
  EXPECT_EQ(FormatDurationUs(2500), "2.5 ms");
  EXPECT_EQ(FormatDurationUs(420'000), "420 ms");
  EXPECT_EQ(FormatDurationUs(1'400'000), "1.4 s");
  EXPECT_EQ(FormatErrno(EBUSY), "EBUSY");
  EXPECT_EQ(FormatErrno(0), "");
  EXPECT_EQ(FormatErrno(4242), "errno 4242");
}

}  // namespace
}  // namespace memhp::ctl
