// memhp-agent — SysfsBlockWriter: the BlockWriter that writes memory<N>/state, with a deadline.
//
// Onlining and offlining go through the block's `state` attribute (drivers/base/memory.c
// state_store() -> device_online()/device_offline(), S20), written as a shell's
// `echo offline > state` would: open(O_WRONLY|O_TRUNC), one write() of the value. A write error
// is the kernel's answer and keeps its errno (EBUSY: pages could not be isolated; EINVAL: a zone
// the block cannot join; ENOENT: the block vanished — a hot-remove; EISDIR/EACCES: not a sysfs
// attribute). A short write is EIO.
//
// Deadline. Offlining may never finish on its own: mm/memory_hotplug.c offline_pages() loops
// migrating pages "until success or a signal" (`if (signal_pending(current)) { ret = -EINTR;
// ...}`). With a deadline, each write runs on a worker thread of its own; when the deadline
// passes, the calling thread sends the worker the InterruptSignal (pthread_kill), again every
// `kill_interval` until the write returns, then joins it. The result is an Error with errno
// ETIMEDOUT naming the block, the deadline and the kernel's answer (normally EINTR). If the
// write succeeded after all, that success is returned: the state did change. No thread outlives
// a Write() call. The worker blocks every signal but the InterruptSignal, so process-directed
// signals (SIGTERM for GLib's handler) never interrupt a write by accident.
//
// Limit: the wait is bounded only while the kernel honours signals. A write the kernel keeps
// restarting regardless (lock_device_hotplug_sysfs() answers restart_syscall(), always
// restarted, while another task holds device_hotplug_lock) keeps Write() waiting until that
// task lets go; Write() does not abandon the thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "io/interrupt_signal.h"
#include "notifier/transition_driver.h"
#include "sysfs/result.h"

namespace memhp::agent {

struct SysfsBlockWriterOptions {
  // How long one write may take; 0 = no deadline (the write runs on the calling thread and
  // blocks as long as the kernel does).
  std::chrono::milliseconds deadline{0};
  // Between two signals to a worker that is still inside the kernel after the deadline.
  std::chrono::milliseconds kill_interval{100};
};

class SysfsBlockWriter final : public BlockWriter {
 public:
  // `root` is the directory sysfs paths are relative to ("/" in production). `interrupt` must
  // be installed (alive) for as long as the writer is used; see interrupt_signal.h.
  SysfsBlockWriter(std::string root, const InterruptSignal& interrupt,
                   SysfsBlockWriterOptions options = {});

  // Writes abi::OnlineTypeName(target) to <root>/sys/devices/system/memory/memory<block>/state.
  [[nodiscard]] Status Write(uint32_t block, abi::OnlineType target) override;

  // Changes the deadline of later writes (each offline request carries its own).
  void set_deadline(std::chrono::milliseconds deadline) { options_.deadline = deadline; }

  // The full path Write() uses for `block`.
  [[nodiscard]] std::string StatePath(uint32_t block) const;

 private:
  [[nodiscard]] Status WriteWithDeadline(const std::string& path, std::string_view value) const;

  std::string root_;
  const InterruptSignal& interrupt_;
  SysfsBlockWriterOptions options_;
};

}  // namespace memhp::agent
