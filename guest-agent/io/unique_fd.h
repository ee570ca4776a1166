// memhp-agent — UniqueFd: a move-only owner of one file descriptor.
//
// The io/ edges hand sockets from the code that opens them (a netlink socket, a test's
// socketpair) to the code that reads them; ownership moves with the value, and the fd is closed
// exactly once. close() errors are not reported: for the sockets and sysfs files held here the
// kernel has nothing left to tell us at close (no buffered data to lose), and the fd is released
// either way (POSIX.1-2008 leaves it unspecified, Linux always frees it: fs/open.c).
#pragma once

#include <unistd.h>

#include <utility>

namespace memhp::agent {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { Reset(); }

  UniqueFd(UniqueFd&& other) noexcept : fd_(other.Release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) Reset(other.Release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  [[nodiscard]] int get() const { return fd_; }
  [[nodiscard]] bool valid() const { return fd_ >= 0; }
  // Gives up ownership; the caller closes the returned fd.
  [[nodiscard]] int Release() { return std::exchange(fd_, -1); }
  // Closes the held fd (if any) and holds `fd` instead.
  void Reset(int fd = -1) {
    const int old = std::exchange(fd_, fd);
    if (old >= 0) ::close(old);  // see the file comment: nothing to report at close
  }

 private:
  int fd_ = -1;
};

}  // namespace memhp::agent
