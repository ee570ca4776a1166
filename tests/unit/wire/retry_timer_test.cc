// memhp wire — tests for RetryTimer on a manually run GMainContext.
//
// The delays asserted are the ones the timer will use next (next_delay_ms), not measured times;
// the tests that fire a timer run the context until it fired (10 s at most, then they fail).
#include "wire/retry_timer.h"

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <vector>

namespace memhp::wire {
namespace {

class RetryTimerTest : public ::testing::Test {
 protected:
  void SetUp() override { context_ = g_main_context_new(); }
  void TearDown() override {
    timer_.reset();
    g_main_context_unref(context_);
  }
  bool RunUntil(const std::function<bool()>& done) {
    const gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    while (!done()) {
      if (g_get_monotonic_time() > deadline) return false;
      g_main_context_iteration(context_, TRUE);
    }
    return true;
  }
  // A timer of the test's own, later than any the RetryTimer has armed.
  void Marker(guint ms, bool* fired) {
    GSource* source = g_timeout_source_new(ms);
    g_source_set_callback(
        source, [](gpointer f) -> gboolean { *static_cast<bool*>(f) = true; return G_SOURCE_REMOVE; },
        fired, nullptr);
    g_source_attach(source, context_);
    g_source_unref(source);
  }

  GMainContext* context_ = nullptr;
  std::unique_ptr<RetryTimer> timer_;
  int fired_ = 0;
};

TEST_F(RetryTimerTest, DelayDoublesUpToTheMaximumAndResetStartsOver) {
  timer_ = std::make_unique<RetryTimer>(context_, Backoff{.initial_ms = 100, .max_ms = 700},
                                        [this] { ++fired_; });
  std::vector<uint32_t> delays;
  for (int i = 0; i < 5; ++i) {
    delays.push_back(timer_->next_delay_ms());
    timer_->Schedule();
    timer_->Cancel();
  }
  EXPECT_EQ(delays, (std::vector<uint32_t>{100, 200, 400, 700, 700}));
  timer_->Reset();
  EXPECT_EQ(timer_->next_delay_ms(), 100u);
  EXPECT_EQ(fired_, 0);
}

TEST_F(RetryTimerTest, AFixedIntervalIsInitialEqualToMax) {
  timer_ = std::make_unique<RetryTimer>(context_, Backoff{.initial_ms = 1000, .max_ms = 1000},
                                        [this] { ++fired_; });
  timer_->Schedule();
  timer_->Cancel();
  timer_->Schedule();
  EXPECT_EQ(timer_->next_delay_ms(), 1000u);
}

TEST_F(RetryTimerTest, AMaximumBelowTheInitialDelayNeverShrinksIt) {
  timer_ = std::make_unique<RetryTimer>(context_, Backoff{.initial_ms = 500, .max_ms = 10},
                                        [this] { ++fired_; });
  timer_->Schedule();
  EXPECT_EQ(timer_->next_delay_ms(), 500u);
}

TEST_F(RetryTimerTest, ANearMaximalDelayDoesNotWrap) {
  timer_ = std::make_unique<RetryTimer>(context_, Backoff{.initial_ms = 0x90000000u, .max_ms = 0xF0000000u},
                                        [this] { ++fired_; });
  timer_->Schedule();
  EXPECT_EQ(timer_->next_delay_ms(), 0xF0000000u);
}

TEST_F(RetryTimerTest, ScheduleWhilePendingIsOneTryAndTheCallbackMayScheduleTheNext) {
  timer_ = std::make_unique<RetryTimer>(context_, Backoff{.initial_ms = 1, .max_ms = 2}, [this] {
    if (++fired_ < 3) timer_->Schedule();
  });
  timer_->Schedule();
  timer_->Schedule();  // already pending: no second try, no extra doubling
  EXPECT_TRUE(timer_->pending());
  EXPECT_EQ(timer_->next_delay_ms(), 2u);
  ASSERT_TRUE(RunUntil([&] { return fired_ == 3; }));
  EXPECT_FALSE(timer_->pending());
  bool marker = false;
  Marker(10, &marker);
  ASSERT_TRUE(RunUntil([&] { return marker; }));
  EXPECT_EQ(fired_, 3);
}

TEST_F(RetryTimerTest, CancelAndDestructionStopAPendingTry) {
  timer_ = std::make_unique<RetryTimer>(context_, Backoff{.initial_ms = 1, .max_ms = 1},
                                        [this] { ++fired_; });
  timer_->Schedule();
  timer_->Cancel();
  EXPECT_FALSE(timer_->pending());
  timer_->Schedule();
  timer_.reset();
  bool marker = false;
  Marker(10, &marker);
  ASSERT_TRUE(RunUntil([&] { return marker; }));
  EXPECT_EQ(fired_, 0);
}

}  // namespace
}  // namespace memhp::wire
