// memhp tests — the notifier chain (guest-agent/notifier/notifier_chain.h).
//
// Order (S8, and kernel/notifier.c notifier_chain_register() for equal priorities), stopping
// (S15–S17, notifier_call_chain()), the raw values of include/linux/notifier.h, and changes to
// the chain made by handlers during a call.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "notifier/notifier_chain.h"

namespace memhp::agent {
namespace {

using abi::MemoryEvent;
using ::testing::ElementsAre;
using ::testing::Pair;

// A handler that records its name into a shared log and answers `answer`.
NotifierFunction Recorder(std::vector<std::string>& log, std::string name, NotifyResult answer) {
  return [&log, name = std::move(name), answer](MemoryEvent, const MemoryNotify&,
                                                const NotifyContext&) {
    log.push_back(name);
    return answer;
  };
}

ChainOutcome Call(NotifierChain& chain, MemoryEvent event = MemoryEvent::kGoingOnline) {
  return chain.CallChain(event, MemoryNotify{1310720, 32768, -1, -1}, NotifyContext{});
}

TEST(NotifyResultTest, RawValuesAreTheKernels) {
  EXPECT_EQ(NotifyResultRaw(NotifyResult::kDone), 0x0000);
  EXPECT_EQ(NotifyResultRaw(NotifyResult::kOk), 0x0001);
  EXPECT_EQ(NotifyResultRaw(NotifyResult::kBad), 0x8002);
  EXPECT_EQ(NotifyResultRaw(NotifyResult::kStop), 0x8001);
  EXPECT_EQ(kNotifyStopMask, 0x8000);
  EXPECT_EQ(NotifyResultName(NotifyResult::kBad), "NOTIFY_BAD");
  EXPECT_EQ(NotifyResultName(NotifyResult::kStop), "NOTIFY_STOP");
}

TEST(NotifyResultTest, StopMaskAndErrno) {
  EXPECT_FALSE(StopsChain(NotifyResult::kDone));  // S15
  EXPECT_FALSE(StopsChain(NotifyResult::kOk));    // S15
  EXPECT_TRUE(StopsChain(NotifyResult::kBad));    // S16
  EXPECT_TRUE(StopsChain(NotifyResult::kStop));   // S17
  // notifier_to_errno(): only BAD is an error (-EPERM); STOP lets the operation go on (S17).
  EXPECT_EQ(NotifierToErrno(NotifyResult::kDone), 0);
  EXPECT_EQ(NotifierToErrno(NotifyResult::kOk), 0);
  EXPECT_EQ(NotifierToErrno(NotifyResult::kStop), 0);
  EXPECT_EQ(NotifierToErrno(NotifyResult::kBad), -EPERM);
}

TEST(NotifierChainTest, EmptyChainAnswersDone) {
  NotifierChain chain;
  ChainOutcome out = Call(chain);
  EXPECT_EQ(out.final, NotifyResult::kDone);
  EXPECT_EQ(out.calls, 0);
  EXPECT_TRUE(out.stopped_by.empty());
}

TEST(NotifierChainTest, HigherPriorityFirstEqualInRegistrationOrder) {
  // S8; equal priorities: notifier_chain_register() inserts after existing equals.
  std::vector<std::string> log;
  NotifierChain chain;
  ASSERT_TRUE(chain.Register("low", -10, Recorder(log, "low", NotifyResult::kOk)).ok());
  ASSERT_TRUE(chain.Register("mid-a", 0, Recorder(log, "mid-a", NotifyResult::kDone)).ok());
  ASSERT_TRUE(chain.Register("high", 100, Recorder(log, "high", NotifyResult::kOk)).ok());
  ASSERT_TRUE(chain.Register("mid-b", 0, Recorder(log, "mid-b", NotifyResult::kOk)).ok());
  ASSERT_TRUE(chain.Register("mid-c", 0, Recorder(log, "mid-c", NotifyResult::kDone)).ok());
  EXPECT_THAT(chain.Names(), ElementsAre("high", "mid-a", "mid-b", "mid-c", "low"));

  ChainOutcome out = Call(chain);
  EXPECT_THAT(log, ElementsAre("high", "mid-a", "mid-b", "mid-c", "low"));
  EXPECT_EQ(out.calls, 5);
  EXPECT_EQ(out.final, NotifyResult::kOk);  // the last handler's answer (S15: no effect)
  EXPECT_TRUE(out.stopped_by.empty());
  EXPECT_THAT(out.trace, ElementsAre(Pair("high", NotifyResult::kOk),
                                     Pair("mid-a", NotifyResult::kDone),
                                     Pair("mid-b", NotifyResult::kOk),
                                     Pair("mid-c", NotifyResult::kDone),
                                     Pair("low", NotifyResult::kOk)));
}

struct StopCase {
  const char* name;
  NotifyResult middle;
  bool later_called;
};

class StopTest : public ::testing::TestWithParam<StopCase> {};

TEST_P(StopTest, StopMaskEndsTheWalk) {
  std::vector<std::string> log;
  NotifierChain chain;
  ASSERT_TRUE(chain.Register("first", 2, Recorder(log, "first", NotifyResult::kOk)).ok());
  ASSERT_TRUE(chain.Register("middle", 1, Recorder(log, "middle", GetParam().middle)).ok());
  ASSERT_TRUE(chain.Register("last", 0, Recorder(log, "last", NotifyResult::kDone)).ok());
  ChainOutcome out = Call(chain);
  if (GetParam().later_called) {
    EXPECT_THAT(log, ElementsAre("first", "middle", "last"));
    EXPECT_EQ(out.calls, 3);
    EXPECT_TRUE(out.stopped_by.empty());
  } else {
    EXPECT_THAT(log, ElementsAre("first", "middle"));
    EXPECT_EQ(out.calls, 2);
    EXPECT_EQ(out.stopped_by, "middle");
    EXPECT_EQ(out.final, GetParam().middle);
  }
}

INSTANTIATE_TEST_SUITE_P(Table, StopTest,
                         ::testing::Values(StopCase{"Done_S15", NotifyResult::kDone, true},
                                           StopCase{"Ok_S15", NotifyResult::kOk, true},
                                           StopCase{"Bad_S16", NotifyResult::kBad, false},
                                           StopCase{"Stop_S17", NotifyResult::kStop, false}),
                         [](const ::testing::TestParamInfo<StopCase>& p) {
                           return std::string(p.param.name);
                         });

TEST(NotifierChainTest, HandlerSeesActionArgAndContext) {
  // S9: action, arg (memory_notify), plus our context.
  NotifierChain chain;
  MemoryEvent seen_action{};
  MemoryNotify seen_arg;
  NotifyContext seen_ctx;
  ASSERT_TRUE(chain
                  .Register("spy", 0,
                            [&](MemoryEvent a, const MemoryNotify& n, const NotifyContext& c) {
                              seen_action = a;
                              seen_arg = n;
                              seen_ctx = c;
                              return NotifyResult::kOk;
                            })
                  .ok());
  const MemoryNotify arg{1310720, 32768, 1, 1};
  const NotifyContext ctx{40, 1, v1::ZONE_NORMAL, EventOrigin::kHostRequest, 77};
  (void)chain.CallChain(MemoryEvent::kGoingOffline, arg, ctx);
  EXPECT_EQ(seen_action, MemoryEvent::kGoingOffline);
  EXPECT_EQ(seen_arg, arg);
  EXPECT_EQ(seen_ctx.block, 40u);
  EXPECT_EQ(seen_ctx.node, 1);
  EXPECT_EQ(seen_ctx.zone, v1::ZONE_NORMAL);
  EXPECT_EQ(seen_ctx.origin, EventOrigin::kHostRequest);
  EXPECT_EQ(seen_ctx.request_id, 77u);
}

TEST(NotifierChainTest, RegisterErrors) {
  NotifierChain chain;
  auto block = std::make_shared<FunctionNotifier>(
      [](MemoryEvent, const MemoryNotify&, const NotifyContext&) { return NotifyResult::kOk; });
  ASSERT_TRUE(chain.Register("a", 0, block).ok());

  Result<NotifierHandle> same_name = chain.Register("a", 1, block);
  ASSERT_FALSE(same_name.ok());
  EXPECT_EQ(same_name.error().errno_value, EEXIST);
  Result<NotifierHandle> same_block = chain.Register("b", 1, block);  // as the kernel: -EEXIST
  ASSERT_FALSE(same_block.ok());
  EXPECT_EQ(same_block.error().errno_value, EEXIST);
  Result<NotifierHandle> empty = chain.Register("", 0, NotifierFunction{});
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().errno_value, EINVAL);
  Result<NotifierHandle> null_fn = chain.Register("c", 0, NotifierFunction{});
  ASSERT_FALSE(null_fn.ok());
  EXPECT_EQ(null_fn.error().errno_value, EINVAL);
  Result<NotifierHandle> null_block = chain.Register("d", 0, std::shared_ptr<NotifierBlock>{});
  ASSERT_FALSE(null_block.ok());
  EXPECT_EQ(null_block.error().errno_value, EINVAL);
  EXPECT_EQ(chain.size(), 1u);
}

TEST(NotifierChainTest, UnregisterRemovesAndUnknownIsEnoent) {
  std::vector<std::string> log;
  NotifierChain chain;
  Result<NotifierHandle> a = chain.Register("a", 0, Recorder(log, "a", NotifyResult::kOk));
  Result<NotifierHandle> b = chain.Register("b", 0, Recorder(log, "b", NotifyResult::kOk));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_TRUE(chain.Unregister(*a).ok());
  (void)Call(chain);
  EXPECT_THAT(log, ElementsAre("b"));
  Status again = chain.Unregister(*a);  // notifier_chain_unregister(): -ENOENT
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().errno_value, ENOENT);
  // A name is free again once unregistered; the new handle differs from the stale one.
  Result<NotifierHandle> a2 = chain.Register("a", 0, Recorder(log, "a2", NotifyResult::kOk));
  ASSERT_TRUE(a2.ok());
  EXPECT_NE(a2->id, a->id);
  EXPECT_FALSE(chain.Unregister(*a).ok());
  EXPECT_EQ(chain.size(), 2u);
}

TEST(NotifierChainTest, HandlerUnregistersItselfDuringCall) {
  std::vector<std::string> log;
  NotifierChain chain;
  NotifierHandle self{};
  Result<NotifierHandle> h = chain.Register(
      "once", 10, [&](MemoryEvent, const MemoryNotify&, const NotifyContext&) {
        log.push_back("once");
        EXPECT_TRUE(chain.Unregister(self).ok());  // the object stays alive through this call
        log.push_back("once-after-unregister");
        return NotifyResult::kOk;
      });
  ASSERT_TRUE(h.ok());
  self = *h;
  ASSERT_TRUE(chain.Register("next", 0, Recorder(log, "next", NotifyResult::kOk)).ok());
  ChainOutcome first = Call(chain);
  EXPECT_THAT(log, ElementsAre("once", "once-after-unregister", "next"));
  EXPECT_EQ(first.calls, 2);
  log.clear();
  (void)Call(chain);
  EXPECT_THAT(log, ElementsAre("next"));
}

TEST(NotifierChainTest, HandlerUnregistersALaterOneWhichIsSkipped) {
  std::vector<std::string> log;
  NotifierChain chain;
  Result<NotifierHandle> victim = chain.Register("victim", 0,
                                                 Recorder(log, "victim", NotifyResult::kOk));
  ASSERT_TRUE(victim.ok());
  ASSERT_TRUE(chain
                  .Register("remover", 5,
                            [&](MemoryEvent, const MemoryNotify&, const NotifyContext&) {
                              log.push_back("remover");
                              EXPECT_TRUE(chain.Unregister(*victim).ok());
                              return NotifyResult::kDone;
                            })
                  .ok());
  ChainOutcome out = Call(chain);
  EXPECT_THAT(log, ElementsAre("remover"));
  EXPECT_EQ(out.calls, 1);
  EXPECT_EQ(chain.size(), 1u);
}

TEST(NotifierChainTest, HandlerRegisteredDuringCallRunsFromNextEvent) {
  std::vector<std::string> log;
  NotifierChain chain;
  bool added = false;
  ASSERT_TRUE(chain
                  .Register("adder", 0,
                            [&](MemoryEvent, const MemoryNotify&, const NotifyContext&) {
                              log.push_back("adder");
                              if (!added) {
                                added = true;
                                EXPECT_TRUE(chain.Register("late", -1, Recorder(log, "late",
                                                           NotifyResult::kOk)).ok());
                              }
                              return NotifyResult::kOk;
                            })
                  .ok());
  (void)Call(chain);
  EXPECT_THAT(log, ElementsAre("adder"));
  (void)Call(chain);
  EXPECT_THAT(log, ElementsAre("adder", "adder", "late"));
}

}  // namespace
}  // namespace memhp::agent
