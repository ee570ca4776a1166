// memhp tests — the transition driver (guest-agent/notifier/transition_driver.h).
//
// The event sequences of mm/memory_hotplug.c online_pages()/offline_pages() (S1–S6), veto at
// GOING_* (S16), STOP that does not cancel (S17), write failures (EBUSY), our S16 choice at
// ONLINE/OFFLINE (kReportOnly vs kRevert), and that the sink sees exactly what was emitted.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <deque>
#include <string>
#include <utility>
#include <vector>

#include "notifier/transition_driver.h"

namespace memhp::agent {
namespace {

using abi::MemoryEvent;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Pair;

// Records writes; fails the next ones with the queued errnos (0 = succeed).
class FakeBlockWriter : public BlockWriter {
 public:
  Status Write(uint32_t block, abi::OnlineType target) override {
    writes.emplace_back(block, target);
    int err = 0;
    if (!fail_next.empty()) {
      err = fail_next.front();
      fail_next.pop_front();
    }
    if (err != 0) return Error::FromErrno(err, "write", abi::MemoryBlockAttr(block, "state"));
    return OkStatus();
  }
  std::vector<std::pair<uint32_t, abi::OnlineType>> writes;
  std::deque<int> fail_next;
};

// The host reporter's seat: every event the sink got.
struct SinkLog {
  std::vector<MemoryEvent> events;
  std::vector<int> errnos;
  std::vector<MemoryNotify> notifies;
  EventSink Sink() {
    return [this](const EmittedEvent& e, const NotifyContext&) {
      events.push_back(e.event);
      errnos.push_back(e.errno_value);
      notifies.push_back(e.notify);
    };
  }
};

// A handler answering `answer` to `at` and OK to everything else; logs (name, event).
NotifierFunction Answer(std::vector<std::pair<std::string, MemoryEvent>>& log, std::string name,
                        MemoryEvent at, NotifyResult answer) {
  return [&log, name = std::move(name), at, answer](MemoryEvent e, const MemoryNotify&,
                                                    const NotifyContext&) {
    log.emplace_back(name, e);
    return e == at ? answer : NotifyResult::kOk;
  };
}

constexpr MemoryNotify kNotify{1310720, 32768, -1, 1};
constexpr NotifyContext kCtx{40, 1, v1::ZONE_MOVABLE, EventOrigin::kHostRequest, 9};

class TransitionDriverTest : public ::testing::Test {
 protected:
  TransitionDriver Driver(PostEventVeto veto = PostEventVeto::kReportOnly) {
    return TransitionDriver(chain, writer, sink.Sink(), TransitionDriverOptions{veto});
  }
  std::vector<MemoryEvent> Events(const TransitionOutcome& out) {
    std::vector<MemoryEvent> v;
    for (const EmittedEvent& e : out.events) v.push_back(e.event);
    return v;
  }

  NotifierChain chain;
  FakeBlockWriter writer;
  SinkLog sink;
  std::vector<std::pair<std::string, MemoryEvent>> log;
};

TEST_F(TransitionDriverTest, OnlineHappyPath) {
  ASSERT_TRUE(chain.Register("a", 0, Answer(log, "a", MemoryEvent::kOnline,
                                            NotifyResult::kOk)).ok());
  TransitionDriver d = Driver();
  TransitionOutcome out = d.Online(kCtx, kNotify, abi::OnlineType::kOnlineMovable);
  EXPECT_EQ(out.result, TransitionResult::kDone);
  EXPECT_THAT(Events(out), ElementsAre(MemoryEvent::kGoingOnline, MemoryEvent::kOnline));  // S1,S3
  EXPECT_THAT(writer.writes, ElementsAre(Pair(40u, abi::OnlineType::kOnlineMovable)));
  EXPECT_EQ(out.final_state, v1::BLOCK_STATE_ONLINE);
  EXPECT_EQ(out.errno_value, 0);
  EXPECT_EQ(sink.events, Events(out));
  // The same memory_notify accompanies every event of one transition (S10–S13).
  EXPECT_THAT(sink.notifies, ElementsAre(kNotify, kNotify));
}

TEST_F(TransitionDriverTest, BadAtGoingOnlineNoWriteCancelLaterNotCalled) {
  // S16: veto at GOING_ONLINE -> block untouched, CANCEL_ONLINE (S2) to the whole chain.
  ASSERT_TRUE(chain.Register("guard", 10, Answer(log, "guard", MemoryEvent::kGoingOnline,
                                                 NotifyResult::kBad)).ok());
  ASSERT_TRUE(chain.Register("later", 0, Answer(log, "later", MemoryEvent::kGoingOnline,
                                                NotifyResult::kOk)).ok());
  TransitionDriver d = Driver();
  TransitionOutcome out = d.Online(kCtx, kNotify);
  EXPECT_EQ(out.result, TransitionResult::kVetoed);
  EXPECT_THAT(writer.writes, IsEmpty());
  EXPECT_THAT(Events(out), ElementsAre(MemoryEvent::kGoingOnline, MemoryEvent::kCancelOnline));
  EXPECT_THAT(log, ElementsAre(Pair("guard", MemoryEvent::kGoingOnline),
                               Pair("guard", MemoryEvent::kCancelOnline),
                               Pair("later", MemoryEvent::kCancelOnline)));
  EXPECT_EQ(out.vetoed_by, "guard");
  EXPECT_EQ(out.vetoed_at, MemoryEvent::kGoingOnline);
  EXPECT_EQ(out.errno_value, EPERM);  // notifier_to_errno(NOTIFY_BAD)
  EXPECT_THAT(out.message, HasSubstr("vetoed by guard"));
  EXPECT_EQ(out.final_state, v1::BLOCK_STATE_OFFLINE);
  EXPECT_THAT(sink.events, ElementsAre(MemoryEvent::kGoingOnline, MemoryEvent::kCancelOnline));
  EXPECT_THAT(sink.errnos, ElementsAre(0, EPERM));
}

TEST_F(TransitionDriverTest, StopAtGoingOnlineSkipsLaterButOnlines) {
  // S17: STOP ends the walk, not the operation.
  ASSERT_TRUE(chain.Register("stopper", 10, Answer(log, "stopper", MemoryEvent::kGoingOnline,
                                                   NotifyResult::kStop)).ok());
  ASSERT_TRUE(chain.Register("later", 0, Answer(log, "later", MemoryEvent::kGoingOnline,
                                                NotifyResult::kOk)).ok());
  TransitionDriver d = Driver();
  TransitionOutcome out = d.Online(kCtx, kNotify);
  EXPECT_EQ(out.result, TransitionResult::kDone);
  EXPECT_THAT(writer.writes, ElementsAre(Pair(40u, abi::OnlineType::kOnline)));
  EXPECT_THAT(log, ElementsAre(Pair("stopper", MemoryEvent::kGoingOnline),
                               Pair("stopper", MemoryEvent::kOnline),
                               Pair("later", MemoryEvent::kOnline)));
  EXPECT_EQ(out.events[0].chain.stopped_by, "stopper");
  EXPECT_TRUE(out.vetoed_by.empty());
}

TEST_F(TransitionDriverTest, OnlineWriteFailureCancelsWithErrno) {
  writer.fail_next = {EINVAL};
  TransitionDriver d = Driver();
  TransitionOutcome out = d.Online(kCtx, kNotify, abi::OnlineType::kOnlineKernel);
  EXPECT_EQ(out.result, TransitionResult::kWriteFailed);
  EXPECT_THAT(Events(out), ElementsAre(MemoryEvent::kGoingOnline, MemoryEvent::kCancelOnline));
  EXPECT_EQ(out.errno_value, EINVAL);
  EXPECT_EQ(out.final_state, v1::BLOCK_STATE_OFFLINE);
  EXPECT_THAT(out.message, HasSubstr("online_kernel"));
}

TEST_F(TransitionDriverTest, OfflineHappyPath) {
  TransitionDriver d = Driver();
  TransitionOutcome out = d.Offline(kCtx, kNotify);
  EXPECT_EQ(out.result, TransitionResult::kDone);
  EXPECT_THAT(sink.events, ElementsAre(MemoryEvent::kGoingOffline, MemoryEvent::kOffline));
  EXPECT_THAT(writer.writes, ElementsAre(Pair(40u, abi::OnlineType::kOffline)));
  EXPECT_EQ(out.final_state, v1::BLOCK_STATE_OFFLINE);
}

TEST_F(TransitionDriverTest, OfflineWriteEbusyCancelsOfflineWithEbusy) {
  // The kernel could not migrate the pages away: CANCEL_OFFLINE (S5), errno EBUSY.
  writer.fail_next = {EBUSY};
  TransitionDriver d = Driver();
  TransitionOutcome out = d.Offline(kCtx, kNotify);
  EXPECT_EQ(out.result, TransitionResult::kWriteFailed);
  EXPECT_EQ(out.errno_value, EBUSY);
  EXPECT_THAT(sink.events, ElementsAre(MemoryEvent::kGoingOffline, MemoryEvent::kCancelOffline));
  EXPECT_THAT(sink.errnos, ElementsAre(0, EBUSY));
  EXPECT_EQ(out.final_state, v1::BLOCK_STATE_ONLINE);
  EXPECT_THAT(out.message, HasSubstr("memory40/state"));
}

TEST_F(TransitionDriverTest, BadAtGoingOfflineNoWrite) {
  ASSERT_TRUE(chain.Register("db-hook", 0, Answer(log, "db-hook", MemoryEvent::kGoingOffline,
                                                  NotifyResult::kBad)).ok());
  TransitionDriver d = Driver();
  TransitionOutcome out = d.Offline(kCtx, kNotify);
  EXPECT_EQ(out.result, TransitionResult::kVetoed);
  EXPECT_THAT(writer.writes, IsEmpty());
  EXPECT_THAT(sink.events, ElementsAre(MemoryEvent::kGoingOffline, MemoryEvent::kCancelOffline));
  EXPECT_EQ(out.vetoed_by, "db-hook");
  EXPECT_EQ(out.final_state, v1::BLOCK_STATE_ONLINE);
  // The CANCEL_OFFLINE itself names who caused it (its own chain walk vetoed nothing), so the
  // host's report of the cancel says "vetoed by db-hook" (agent.proto MemoryEvent.vetoed_by).
  ASSERT_EQ(out.events.size(), 2u);
  EXPECT_EQ(out.events[1].vetoed_by, "db-hook");
  EXPECT_NE(out.events[1].chain.final, NotifyResult::kBad);
  EXPECT_TRUE(out.events[0].vetoed_by.empty());
}

TEST_F(TransitionDriverTest, BadAtOfflineReportOnlyKeepsOffline) {
  // S16, default: kernel semantics — recorded, not undone.
  ASSERT_TRUE(chain.Register("late-objector", 0, Answer(log, "late-objector",
                                                        MemoryEvent::kOffline,
                                                        NotifyResult::kBad)).ok());
  TransitionDriver d = Driver(PostEventVeto::kReportOnly);
  TransitionOutcome out = d.Offline(kCtx, kNotify);
  EXPECT_EQ(out.result, TransitionResult::kPostEventVetoReported);
  EXPECT_THAT(writer.writes, ElementsAre(Pair(40u, abi::OnlineType::kOffline)));
  EXPECT_THAT(sink.events, ElementsAre(MemoryEvent::kGoingOffline, MemoryEvent::kOffline));
  EXPECT_EQ(out.vetoed_by, "late-objector");
  EXPECT_EQ(out.vetoed_at, MemoryEvent::kOffline);
  EXPECT_EQ(out.final_state, v1::BLOCK_STATE_OFFLINE);
  EXPECT_EQ(out.errno_value, 0);
}

TEST_F(TransitionDriverTest, BadAtOfflineRevertWritesBackThenCancels) {
  // S16, wider reading: write back (to the zone it left: Movable), then CANCEL_OFFLINE.
  ASSERT_TRUE(chain.Register("late-objector", 0, Answer(log, "late-objector",
                                                        MemoryEvent::kOffline,
                                                        NotifyResult::kBad)).ok());
  TransitionDriver d = Driver(PostEventVeto::kRevert);
  TransitionOutcome out = d.Offline(kCtx, kNotify);
  EXPECT_EQ(out.result, TransitionResult::kReverted);
  EXPECT_THAT(writer.writes, ElementsAre(Pair(40u, abi::OnlineType::kOffline),
                                         Pair(40u, abi::OnlineType::kOnlineMovable)));
  EXPECT_THAT(sink.events, ElementsAre(MemoryEvent::kGoingOffline, MemoryEvent::kOffline,
                                       MemoryEvent::kCancelOffline));
  EXPECT_THAT(sink.errnos, ElementsAre(0, 0, EPERM));
  EXPECT_EQ(out.final_state, v1::BLOCK_STATE_ONLINE);
  EXPECT_EQ(out.vetoed_by, "late-objector");
}

TEST_F(TransitionDriverTest, BadAtOnlineRevertFailsNoCancel) {
  ASSERT_TRUE(chain.Register("late-objector", 0, Answer(log, "late-objector",
                                                        MemoryEvent::kOnline,
                                                        NotifyResult::kBad)).ok());
  writer.fail_next = {0, EBUSY};  // the online works, the write-back offline does not
  TransitionDriver d = Driver(PostEventVeto::kRevert);
  TransitionOutcome out = d.Online(kCtx, kNotify);
  EXPECT_EQ(out.result, TransitionResult::kRevertFailed);
  EXPECT_THAT(writer.writes, ElementsAre(Pair(40u, abi::OnlineType::kOnline),
                                         Pair(40u, abi::OnlineType::kOffline)));
  EXPECT_THAT(sink.events, ElementsAre(MemoryEvent::kGoingOnline, MemoryEvent::kOnline));
  EXPECT_EQ(out.final_state, v1::BLOCK_STATE_ONLINE);
  EXPECT_EQ(out.errno_value, EBUSY);
}

TEST_F(TransitionDriverTest, KernelZoneOfflineRevertsWithOnlineKernel) {
  ASSERT_TRUE(chain.Register("late-objector", 0, Answer(log, "late-objector",
                                                        MemoryEvent::kOffline,
                                                        NotifyResult::kBad)).ok());
  TransitionDriver d = Driver(PostEventVeto::kRevert);
  NotifyContext ctx = kCtx;
  ctx.zone = v1::ZONE_NORMAL;
  TransitionOutcome out = d.Offline(ctx, kNotify);
  EXPECT_EQ(out.result, TransitionResult::kReverted);
  EXPECT_THAT(writer.writes, ElementsAre(Pair(40u, abi::OnlineType::kOffline),
                                         Pair(40u, abi::OnlineType::kOnlineKernel)));
}

TEST_F(TransitionDriverTest, OnlineToOfflineTargetIsRejected) {
  TransitionDriver d = Driver();
  TransitionOutcome out = d.Online(kCtx, kNotify, abi::OnlineType::kOffline);
  EXPECT_EQ(out.result, TransitionResult::kRejected);
  EXPECT_EQ(out.errno_value, EINVAL);
  EXPECT_THAT(sink.events, IsEmpty());
  EXPECT_THAT(writer.writes, IsEmpty());
}

TEST_F(TransitionDriverTest, ReentrantTransitionFromHandlerIsRejected) {
  // S21: one transition at a time; the kernel would deadlock on mem_hotplug_lock.
  TransitionDriver d = Driver();
  TransitionResult inner = TransitionResult::kDone;
  int inner_errno = 0;
  ASSERT_TRUE(chain
                  .Register("reenter", 0,
                            [&](MemoryEvent e, const MemoryNotify&, const NotifyContext&) {
                              if (e == MemoryEvent::kGoingOnline) {
                                TransitionOutcome o = d.Offline(kCtx, kNotify);
                                inner = o.result;
                                inner_errno = o.errno_value;
                              }
                              return NotifyResult::kOk;
                            })
                  .ok());
  TransitionOutcome out = d.Online(kCtx, kNotify);
  EXPECT_EQ(inner, TransitionResult::kRejected);
  EXPECT_EQ(inner_errno, EDEADLK);
  EXPECT_EQ(out.result, TransitionResult::kDone);
  EXPECT_THAT(sink.events, ElementsAre(MemoryEvent::kGoingOnline, MemoryEvent::kOnline));
  // The flag is cleared afterwards: a next transition runs.
  EXPECT_EQ(d.Offline(kCtx, kNotify).result, TransitionResult::kDone);
}

TEST_F(TransitionDriverTest, HandlerUnregistersItselfDuringTransition) {
  NotifierHandle self{};
  Result<NotifierHandle> h = chain.Register(
      "one-shot", 5, [&](MemoryEvent e, const MemoryNotify&, const NotifyContext&) {
        log.emplace_back("one-shot", e);
        EXPECT_TRUE(chain.Unregister(self).ok());
        return NotifyResult::kOk;
      });
  ASSERT_TRUE(h.ok());
  self = *h;
  ASSERT_TRUE(chain.Register("steady", 0, Answer(log, "steady", MemoryEvent::kOnline,
                                                 NotifyResult::kOk)).ok());
  TransitionDriver d = Driver();
  TransitionOutcome out = d.Online(kCtx, kNotify);
  EXPECT_EQ(out.result, TransitionResult::kDone);
  EXPECT_THAT(log, ElementsAre(Pair("one-shot", MemoryEvent::kGoingOnline),
                               Pair("steady", MemoryEvent::kGoingOnline),
                               Pair("steady", MemoryEvent::kOnline)));
}

TEST_F(TransitionDriverTest, EmptySinkIsAllowed) {
  TransitionDriver d(chain, writer, EventSink{});
  EXPECT_EQ(d.Online(kCtx, kNotify).result, TransitionResult::kDone);
}

TEST(TransitionNamesTest, TargetStateNamesAreTheKernels) {
  EXPECT_EQ(abi::OnlineTypeName(abi::OnlineType::kOnline), "online");
  EXPECT_EQ(abi::OnlineTypeName(abi::OnlineType::kOnlineKernel), "online_kernel");
  EXPECT_EQ(abi::OnlineTypeName(abi::OnlineType::kOnlineMovable), "online_movable");
  EXPECT_EQ(abi::OnlineTypeName(abi::OnlineType::kOffline), "offline");
  EXPECT_EQ(TransitionResultName(TransitionResult::kVetoed), "vetoed");
}

// A handler that says why it vetoes (as the hook scripts, reserve guard and pin guard do).
class ExplainingVeto final : public NotifierBlock {
 public:
  NotifyResult Call(MemoryEvent action, const MemoryNotify&, const NotifyContext&) override {
    return action == MemoryEvent::kGoingOffline ? NotifyResult::kBad : NotifyResult::kDone;
  }
  std::string VetoReason() const override { return "the database still uses it"; }
};

TEST_F(TransitionDriverTest, TheVetoingHandlersReasonReachesTheMessageAndTheCancel) {
  ASSERT_TRUE(chain.Register("db", 0, std::make_shared<ExplainingVeto>()).ok());
  TransitionDriver d = Driver();
  TransitionOutcome out = d.Offline(kCtx, kNotify);
  EXPECT_EQ(out.result, TransitionResult::kVetoed);
  EXPECT_THAT(out.message, HasSubstr("vetoed by db at MEM_GOING_OFFLINE: the database still uses it"));
  ASSERT_EQ(out.events.size(), 2u);
  EXPECT_EQ(out.events[0].chain.veto_reason, "the database still uses it");
  EXPECT_EQ(out.events[1].event, MemoryEvent::kCancelOffline);
  EXPECT_EQ(out.events[1].vetoed_by, "db");
  EXPECT_THAT(out.events[1].detail, HasSubstr("the database still uses it"));
}

}  // namespace
}  // namespace memhp::agent
