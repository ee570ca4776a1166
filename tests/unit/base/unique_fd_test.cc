// memhp tests — UniqueFd (proto/base/unique_fd.h): one owner, closed exactly once.
#include "base/unique_fd.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

namespace memhp {
namespace {

bool IsOpen(int fd) { return fcntl(fd, F_GETFD) != -1 || errno != EBADF; }

// Both ends of a pipe, the read end owned by a UniqueFd; the raw write end closed here.
struct Pipe {
  Pipe() {
    int fds[2];
    EXPECT_EQ(pipe2(fds, O_CLOEXEC), 0);
    read_end = fds[0];
    ::close(fds[1]);
  }
  int read_end = -1;
};

TEST(UniqueFd, ClosesWhenDestroyed) {
  Pipe p;
  {
    UniqueFd fd(p.read_end);
    EXPECT_TRUE(fd.valid());
    EXPECT_EQ(fd.get(), p.read_end);
  }
  EXPECT_FALSE(IsOpen(p.read_end));
}

TEST(UniqueFd, ReleaseGivesUpOwnership) {
  Pipe p;
  int raw = -1;
  {
    UniqueFd fd(p.read_end);
    raw = fd.Release();
    EXPECT_FALSE(fd.valid());
  }
  EXPECT_TRUE(IsOpen(raw));
  ::close(raw);
}

TEST(UniqueFd, MovingTransfersOwnership) {
  Pipe p;
  UniqueFd to;
  {
    UniqueFd from(p.read_end);
    to = std::move(from);
    EXPECT_FALSE(from.valid());  // NOLINT(bugprone-use-after-move): the moved-from state is the point
  }
  EXPECT_TRUE(IsOpen(p.read_end));
  to.Reset();
  EXPECT_FALSE(IsOpen(p.read_end));
}

TEST(UniqueFd, ResetClosesTheOldFdAndHoldsTheNew) {
  Pipe a;
  Pipe b;
  UniqueFd fd(a.read_end);
  fd.Reset(b.read_end);
  EXPECT_FALSE(IsOpen(a.read_end));
  EXPECT_TRUE(IsOpen(b.read_end));
  EXPECT_EQ(fd.get(), b.read_end);
}

}  // namespace
}  // namespace memhp
