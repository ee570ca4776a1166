// memhp wire — tests for PendingRequests and NoReply on a manually run GMainContext.
//
// Deadlines are real GLib timers of a few milliseconds; each test runs the context until the
// condition it waits for holds (RunUntil gives up after 10 s, which fails the test), never for
// a fixed time. What a test asserts is who was called, how often and with what — never when.
#include "wire/pending_requests.h"

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "memhp/v1/agent.pb.h"

namespace memhp::wire {
namespace {

using namespace std::chrono_literals;
using Table = PendingRequests<memhp::v1::AgentResponse>;
using Reply = Table::Reply;

memhp::v1::AgentResponse Answer(uint64_t id) {
  memhp::v1::AgentResponse response;
  response.set_id(id);
  return response;
}

class PendingRequestsTest : public ::testing::Test {
 protected:
  void SetUp() override { context_ = g_main_context_new(); }
  void TearDown() override {
    table_.reset();  // its timers go before the context they are attached to
    g_main_context_unref(context_);
  }

  bool RunUntil(const std::function<bool()>& done) {
    const gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    while (!done()) {
      if (g_get_monotonic_time() > deadline) return false;
      g_main_context_iteration(context_, TRUE);  // blocks until a source is ready
    }
    return true;
  }

  // Waits for `id` and records every reply it gets.
  void Record(uint64_t id, std::chrono::milliseconds timeout) {
    table_->Wait(id, timeout, [this, id](Reply reply) { replies_[id].push_back(std::move(reply)); });
  }

  GMainContext* context_ = nullptr;
  std::unique_ptr<Table> table_;
  std::map<uint64_t, std::vector<Reply>> replies_;
};

TEST(NoReplyTest, ErrnoFollowsTheCode) {
  EXPECT_EQ(NoReply(memhp::v1::ERROR_CODE_UNAVAILABLE, "x").errno_value, ENOTCONN);
  EXPECT_EQ(NoReply(memhp::v1::ERROR_CODE_TIMEOUT, "x").errno_value, ETIMEDOUT);
  EXPECT_EQ(NoReply(memhp::v1::ERROR_CODE_MALFORMED, "x").errno_value, EPROTO);
  EXPECT_EQ(NoReply(memhp::v1::ERROR_CODE_FAILED, "x").errno_value, EIO);
  const Error e = NoReply(memhp::v1::ERROR_CODE_TIMEOUT, "the agent did not answer");
  EXPECT_EQ(e.code, memhp::v1::ERROR_CODE_TIMEOUT);
  EXPECT_EQ(e.message, "the agent did not answer");
}

TEST_F(PendingRequestsTest, IdsAreNeverZeroAndNeverRepeat) {
  table_ = std::make_unique<Table>(context_, "the peer");
  std::set<uint64_t> seen;
  for (int i = 0; i < 1000; ++i) {
    const uint64_t id = table_->NextId();
    EXPECT_NE(id, 0u);
    EXPECT_TRUE(seen.insert(id).second) << id;
  }
  EXPECT_FALSE(table_->Waiting(0));
}

TEST_F(PendingRequestsTest, AnAnswerReachesItsWaiterOnceAndALateOneIsRefused) {
  table_ = std::make_unique<Table>(context_, "the peer");
  const uint64_t a = table_->NextId();
  const uint64_t b = table_->NextId();
  Record(a, 10s);
  Record(b, 10s);
  EXPECT_EQ(table_->size(), 2u);

  EXPECT_TRUE(table_->Finish(b, Answer(b)));
  EXPECT_FALSE(table_->Finish(b, Answer(b)));    // the same answer again: nobody waits
  EXPECT_FALSE(table_->Finish(999, Answer(999)));  // an id never sent
  ASSERT_EQ(replies_[b].size(), 1u);
  ASSERT_TRUE(replies_[b][0].ok());
  EXPECT_EQ(replies_[b][0]->id(), b);
  EXPECT_TRUE(replies_[a].empty());
  EXPECT_TRUE(table_->Waiting(a));
  EXPECT_FALSE(table_->Waiting(b));
}

TEST_F(PendingRequestsTest, ADeadlineEndsTheWaitWithTimeoutAndTheLateAnswerIsDropped) {
  table_ = std::make_unique<Table>(context_, "the audit plugin");
  const uint64_t id = table_->NextId();
  Record(id, 1ms);
  ASSERT_TRUE(RunUntil([&] { return !replies_[id].empty(); }));
  ASSERT_EQ(replies_[id].size(), 1u);
  ASSERT_FALSE(replies_[id][0].ok());
  EXPECT_EQ(replies_[id][0].error().code, memhp::v1::ERROR_CODE_TIMEOUT);
  EXPECT_EQ(replies_[id][0].error().errno_value, ETIMEDOUT);
  EXPECT_EQ(replies_[id][0].error().message, "the audit plugin did not answer in time");
  EXPECT_FALSE(table_->Finish(id, Answer(id)));
  EXPECT_EQ(replies_[id].size(), 1u);
  EXPECT_EQ(table_->size(), 0u);
}

TEST_F(PendingRequestsTest, AnAnswerBeforeTheDeadlineCancelsIt) {
  table_ = std::make_unique<Table>(context_, "the peer");
  const uint64_t answered = table_->NextId();
  const uint64_t marker = table_->NextId();
  Record(answered, 1ms);
  Record(marker, 5ms);
  ASSERT_TRUE(table_->Finish(answered, Answer(answered)));
  // The marker's deadline comes later than the cancelled one would have.
  ASSERT_TRUE(RunUntil([&] { return !replies_[marker].empty(); }));
  ASSERT_EQ(replies_[answered].size(), 1u);
  EXPECT_TRUE(replies_[answered][0].ok());
}

TEST_F(PendingRequestsTest, UntilClosedHasNoDeadline) {
  table_ = std::make_unique<Table>(context_, "the peer");
  const uint64_t hello = table_->NextId();
  const uint64_t quick = table_->NextId();
  Record(hello, kUntilClosed);
  Record(quick, 1ms);
  ASSERT_TRUE(RunUntil([&] { return !replies_[quick].empty(); }));
  EXPECT_TRUE(table_->Waiting(hello));
  EXPECT_TRUE(replies_[hello].empty());
}

TEST_F(PendingRequestsTest, FailAllEndsEveryWaiterOnceAndKeepsWhatTheyStart) {
  table_ = std::make_unique<Table>(context_, "the peer");
  std::vector<uint64_t> ids;
  for (int i = 0; i < 3; ++i) ids.push_back(table_->NextId());
  Record(ids[0], kUntilClosed);
  Record(ids[2], 10s);
  // One waiter sends a new request from its callback (to the stream the owner has now).
  const uint64_t resend = table_->NextId();
  table_->Wait(ids[1], 10s, [&](Reply reply) {
    replies_[ids[1]].push_back(std::move(reply));
    Record(resend, 10s);
  });
  table_->FailAll(memhp::v1::ERROR_CODE_UNAVAILABLE, "the channel closed");
  for (uint64_t id : ids) {
    ASSERT_EQ(replies_[id].size(), 1u) << id;
    ASSERT_FALSE(replies_[id][0].ok());
    EXPECT_EQ(replies_[id][0].error().code, memhp::v1::ERROR_CODE_UNAVAILABLE);
    EXPECT_EQ(replies_[id][0].error().errno_value, ENOTCONN);
    EXPECT_EQ(replies_[id][0].error().message, "the channel closed");
  }
  EXPECT_TRUE(table_->Waiting(resend));
  EXPECT_TRUE(replies_[resend].empty());
  EXPECT_EQ(table_->size(), 1u);
}

TEST_F(PendingRequestsTest, WaitingAgainForAnIdReplacesTheWaiterAndItsDeadline) {
  table_ = std::make_unique<Table>(context_, "the peer");
  const uint64_t id = table_->NextId();
  const uint64_t marker = table_->NextId();
  int first = 0;
  table_->Wait(id, 1ms, [&](Reply) { ++first; });
  Record(id, 10s);
  Record(marker, 5ms);
  ASSERT_TRUE(RunUntil([&] { return !replies_[marker].empty(); }));
  EXPECT_EQ(first, 0);  // its 1 ms deadline went with it
  EXPECT_TRUE(table_->Waiting(id));
  ASSERT_TRUE(table_->Finish(id, Answer(id)));
  EXPECT_EQ(replies_[id].size(), 1u);
}

TEST_F(PendingRequestsTest, AWaiterMayFinishAnotherFromItsCallback) {
  table_ = std::make_unique<Table>(context_, "the peer");
  const uint64_t first = table_->NextId();
  const uint64_t second = table_->NextId();
  Record(second, 10s);
  table_->Wait(first, 10s, [&](Reply) { EXPECT_TRUE(table_->Finish(second, Answer(second))); });
  ASSERT_TRUE(table_->Finish(first, Answer(first)));
  ASSERT_EQ(replies_[second].size(), 1u);
  EXPECT_EQ(table_->size(), 0u);
}

TEST_F(PendingRequestsTest, TheOwnerMayDestroyTheTableFromACallback) {
  table_ = std::make_unique<Table>(context_, "the peer");
  const uint64_t first = table_->NextId();
  const uint64_t second = table_->NextId();
  int called = 0;
  table_->Wait(first, 10s, [&](Reply) {
    ++called;
    table_.reset();  // the owner tearing down while failing its requests
  });
  table_->Wait(second, 10s, [&](Reply) { ++called; });
  table_->FailAll(memhp::v1::ERROR_CODE_UNAVAILABLE, "closed");
  EXPECT_EQ(called, 1);  // the second waiter went with the table, uncalled (ASan: no use after free)
  EXPECT_EQ(table_, nullptr);
}

TEST_F(PendingRequestsTest, ADeadlineMayDestroyTheTable) {
  table_ = std::make_unique<Table>(context_, "the peer");
  const uint64_t id = table_->NextId();
  bool called = false;
  table_->Wait(id, 1ms, [&](Reply reply) {
    called = true;
    EXPECT_FALSE(reply.ok());
    table_.reset();
  });
  ASSERT_TRUE(RunUntil([&] { return called; }));
  EXPECT_EQ(table_, nullptr);
}

TEST_F(PendingRequestsTest, DestroyingTheTableCancelsDeadlinesAndCallsNobody) {
  table_ = std::make_unique<Table>(context_, "the peer");
  const uint64_t id = table_->NextId();
  Record(id, 1ms);
  table_.reset();
  // A later timer of the test's own: once it fired, the cancelled 1 ms one would have too.
  bool marker = false;
  GSource* source = g_timeout_source_new(5);
  g_source_set_callback(
      source, [](gpointer flag) -> gboolean { *static_cast<bool*>(flag) = true; return G_SOURCE_REMOVE; },
      &marker, nullptr);
  g_source_attach(source, context_);
  g_source_unref(source);
  ASSERT_TRUE(RunUntil([&] { return marker; }));
  EXPECT_TRUE(replies_[id].empty());
}

}  // namespace
}  // namespace memhp::wire
