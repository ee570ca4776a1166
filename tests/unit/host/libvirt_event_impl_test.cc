// Tests for daemon/libvirt/glib_event_impl: libvirt's event API (virEventAddHandle,
// virEventAddTimeout, ...) dispatched by memhpd's GLib main loop once the implementation is
// installed. The calls go through libvirt's own public functions, so this is what libvirt's
// connection and stream code will get.
#include <glib.h>
#include <gtest/gtest.h>
#include <libvirt/libvirt.h>
#include <unistd.h>

#include "base/unique_fd.h"
#include "daemon/libvirt/glib_event_impl.h"

namespace memhp::daemon::libvirt {
namespace {

// Runs the loop until `done` or 5 s pass; true when done.
template <typename F>
bool RunUntil(GMainContext* context, F done) {
  const gint64 deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
  while (!done() && g_get_monotonic_time() < deadline) g_main_context_iteration(context, FALSE);
  return done();
}

struct Counts {
  int handle_calls = 0;
  int last_events = 0;
  int timer_calls = 0;
  int freed = 0;
};

class EventImpl : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { ASSERT_TRUE(InstallGlibEventImpl(g_main_context_default())); }
  GMainContext* context() { return g_main_context_default(); }
  Counts counts;
};

TEST_F(EventImpl, ASecondContextIsRefusedTheFirstStays) {
  GMainContext* other = g_main_context_new();
  EXPECT_FALSE(InstallGlibEventImpl(other));
  EXPECT_TRUE(InstallGlibEventImpl(g_main_context_default()));
  g_main_context_unref(other);
}

TEST_F(EventImpl, AHandleReportsReadableAndIsFreedLaterNotInsideRemove) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  UniqueFd reader(fds[0]), writer(fds[1]);
  const int watch = virEventAddHandle(
      reader.get(), VIR_EVENT_HANDLE_READABLE,
      [](int, int, int events, void* opaque) {
        auto* c = static_cast<Counts*>(opaque);
        ++c->handle_calls;
        c->last_events = events;
      },
      &counts, [](void* opaque) { ++static_cast<Counts*>(opaque)->freed; });
  ASSERT_GT(watch, 0);
  g_main_context_iteration(context(), FALSE);
  EXPECT_EQ(counts.handle_calls, 0) << "nothing to read yet";
  ASSERT_EQ(write(writer.get(), "x", 1), 1);
  ASSERT_TRUE(RunUntil(context(), [&] { return counts.handle_calls > 0; }));
  EXPECT_TRUE(counts.last_events & VIR_EVENT_HANDLE_READABLE);

  // Watching for nothing: no more calls, though the byte is still unread.
  virEventUpdateHandle(watch, 0);
  const int calls = counts.handle_calls;
  for (int i = 0; i < 10; ++i) g_main_context_iteration(context(), FALSE);
  EXPECT_EQ(counts.handle_calls, calls);

  EXPECT_EQ(virEventRemoveHandle(watch), 0);
  EXPECT_EQ(counts.freed, 0) << "the free callback must not run inside remove";
  ASSERT_TRUE(RunUntil(context(), [&] { return counts.freed == 1; }));
  EXPECT_EQ(virEventRemoveHandle(watch), -1) << "an unknown watch";
}

TEST_F(EventImpl, TimeoutsFireByPeriodStopWhenDisabledAndFreeLater) {
  const int timer = virEventAddTimeout(
      10, [](int, void* opaque) { ++static_cast<Counts*>(opaque)->timer_calls; }, &counts,
      [](void* opaque) { ++static_cast<Counts*>(opaque)->freed; });
  ASSERT_GT(timer, 0);
  ASSERT_TRUE(RunUntil(context(), [&] { return counts.timer_calls >= 3; })) << "a 10 ms period repeats";
  virEventUpdateTimeout(timer, -1);
  const int calls = counts.timer_calls;
  const gint64 until = g_get_monotonic_time() + 100 * 1000;  // ten periods
  while (g_get_monotonic_time() < until) g_main_context_iteration(context(), FALSE);
  EXPECT_EQ(counts.timer_calls, calls) << "a disabled timeout does not fire";
  virEventUpdateTimeout(timer, 0);  // "on every iteration"
  ASSERT_TRUE(RunUntil(context(), [&] { return counts.timer_calls > calls; }));
  EXPECT_EQ(virEventRemoveTimeout(timer), 0);
  EXPECT_EQ(counts.freed, 0);
  ASSERT_TRUE(RunUntil(context(), [&] { return counts.freed == 1; }));
  EXPECT_EQ(virEventRemoveTimeout(timer), -1);
}

}  // namespace
}  // namespace memhp::daemon::libvirt
