// memhp-agent — SysfsBlockWriter (see sysfs_block_writer.h).
#include "io/sysfs_block_writer.h"

#include <fcntl.h>
#include <glib.h>
#include <pthread.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <csignal>
#include <cstring>
#include <mutex>
#include <system_error>
#include <thread>
#include <utility>

#include "base/unique_fd.h"
#include "sysfs/linux_abi.h"

namespace memhp::agent {
namespace {

// What one open()+write() came to, as plain values so it can cross threads.
struct Attempt {
  int err = 0;               // errno of the failed call; 0 on success
  const char* call = "";     // "open" or "write"
  ssize_t written = 0;       // write()'s return when it did return
};

Attempt WriteOnce(const std::string& path, std::string_view value) {
  Attempt a;
  // No O_CREAT: a block that vanished must be ENOENT, not a new regular file.
  UniqueFd fd(open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOCTTY));
  if (!fd.valid()) {
    a.err = errno;
    a.call = "open";
    return a;
  }
  a.call = "write";
  // One write(): a sysfs store sees the whole value at once (fs/kernfs/file.c
  // kernfs_fop_write_iter()), and EINTR is not retried — an interrupted write is the answer
  // the deadline asked for.
  a.written = write(fd.get(), value.data(), value.size());
  if (a.written < 0) a.err = errno;
  return a;
}

std::string ValueOp(std::string_view value) {
  return "write " + std::string(value) + " to";
}

// The Status of a finished attempt.
Status ToStatus(const Attempt& a, const std::string& path, std::string_view value) {
  if (a.err != 0) {
    return Error::FromErrno(a.err, std::string_view(a.call) == "open" ? "open" : ValueOp(value),
                            path);
  }
  if (static_cast<size_t>(a.written) != value.size()) {
    return Error{EIO, ValueOp(value) + " " + path + ": short write (" + std::to_string(a.written) +
                          " of " + std::to_string(value.size()) + " bytes)"};
  }
  return OkStatus();
}

// What the kernel finally said to an attempt that was interrupted: "open: Interrupted system
// call (EINTR)", "write: Device or resource busy", "write: 3 of 7 bytes".
std::string KernelAnswer(const Attempt& a, std::string_view value) {
  std::string answer = std::string(a.call) + ": ";
  if (a.err == 0) {
    return answer + std::to_string(a.written) + " of " + std::to_string(value.size()) + " bytes";
  }
  answer += std::strerror(a.err);
  if (a.err == EINTR) answer += " (EINTR)";
  return answer;
}

}  // namespace

SysfsBlockWriter::SysfsBlockWriter(std::string root, const InterruptSignal& interrupt,
                                   SysfsBlockWriterOptions options)
    : root_(std::move(root)), interrupt_(interrupt), options_(options) {
  if (options_.kill_interval.count() <= 0) options_.kill_interval = std::chrono::milliseconds(1);
}

std::string SysfsBlockWriter::StatePath(uint32_t block) const {
  std::string path = root_;
  if (path.empty() || path.back() != '/') path += '/';
  return path + abi::MemoryBlockAttr(block, abi::kBlockState);
}

Status SysfsBlockWriter::Write(uint32_t block, abi::OnlineType target) {
  const std::string_view value = abi::OnlineTypeName(target);
  if (value.empty()) return Error::Invalid("no state name for the requested target");
  const std::string path = StatePath(block);
  if (options_.deadline.count() <= 0) return ToStatus(WriteOnce(path, value), path, value);
  return WriteWithDeadline(path, value);
}

Status SysfsBlockWriter::WriteWithDeadline(const std::string& path,
                                           std::string_view value) const {
  // Shared by the two threads; lives on this stack because the worker is always joined.
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  Attempt attempt;
  const int signo = interrupt_.signo();

  const auto start = std::chrono::steady_clock::now();
  std::thread worker;
  try {
    worker = std::thread([&] {
      // Only our signal may reach this thread; it must, even if the caller had it blocked
      // (the mask is inherited from the creating thread).
      sigset_t mask;
      sigfillset(&mask);
      sigdelset(&mask, signo);
      if (const int rc = pthread_sigmask(SIG_SETMASK, &mask, nullptr); rc != 0) {
        g_warning("pthread_sigmask in the writer thread: %s", std::strerror(rc));
      }
      Attempt a = WriteOnce(path, value);
      {
        std::lock_guard<std::mutex> lock(mu);
        attempt = a;
        done = true;
      }
      cv.notify_one();
    });
  } catch (const std::system_error& e) {
    return Error{e.code().value() != 0 ? e.code().value() : EAGAIN,
                 ValueOp(value) + " " + path + ": cannot start the writer thread: " + e.what()};
  }

  int kills = 0;
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait_until(lock, start + options_.deadline, [&] { return done; });
    while (!done) {
      // Holding `mu`, so the worker has not published its result yet: it is still in (or about
      // to enter) the kernel, or between its write and the lock — where the signal is harmless.
      const int rc = pthread_kill(worker.native_handle(), signo);
      if (rc != 0) g_warning("pthread_kill(%d) for %s: %s", signo, path.c_str(), std::strerror(rc));
      ++kills;
      cv.wait_for(lock, options_.kill_interval, [&] { return done; });
    }
  }
  worker.join();

  Status status = ToStatus(attempt, path, value);
  // In time, or it went through after all (the state did change): the kernel's answer stands.
  if (kills == 0 || status.ok()) return status;
  const char* abbrev = sigabbrev_np(signo);  // "USR2"
  const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start);
  return Error{ETIMEDOUT, ValueOp(value) + " " + path + ": no answer within the " +
                              std::to_string(options_.deadline.count()) +
                              " ms deadline; interrupted it " + std::to_string(kills) +
                              (kills == 1 ? " time" : " times") + " with SIG" +
                              std::string(abbrev != nullptr ? abbrev : "?") +
                              ", then the kernel answered " +
                              KernelAnswer(attempt, value) + " after " +
                              std::to_string(waited.count()) + " ms"};
}

}  // namespace memhp::agent
