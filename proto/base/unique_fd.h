// memhp — UniqueFd: a move-only owner of one file descriptor.
//
// Every memhp process hands descriptors around: the agent's io/ edges pass sockets from the
// code that opens them (a netlink socket, a test's socketpair) to the code that reads them;
// memhpd's journal, control socket and QMP connection hold theirs for their lifetime; the
// launcher closes pipe ends after a fork. Ownership moves with the value and the fd is closed
// exactly once, on every return path, instead of by a close() on each early return.
//
// close() errors are not reported: for the sockets, pipes and files held here the kernel has
// nothing left to tell us at close (what must reach the disk is fsync'd before, as the journal
// does; unsent socket bytes are being dropped on purpose), and the fd is released either way —
// POSIX.1-2008 leaves that unspecified, Linux always frees it even on EINTR/EIO (fs/open.c), so
// there is nothing to retry.
#pragma once

#include <unistd.h>

#include <utility>

namespace memhp {

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

}  // namespace memhp
