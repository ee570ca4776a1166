// memhp-agent — InterruptSignal (see interrupt_signal.h).
#include "io/interrupt_signal.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace memhp::agent {
namespace {

// Async-signal-safe by doing nothing: the point is the EINTR, not the handler.
void IgnoreInterrupt(int /*signo*/) {}

}  // namespace

InterruptSignal::InterruptSignal(int signo) : signo_(signo) {
  struct sigaction action {};
  action.sa_handler = &IgnoreInterrupt;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;  // no SA_RESTART: blocked calls must return EINTR (see the header)
  if (sigaction(signo_, &action, &previous_) != 0) {
    std::fprintf(stderr, "memhp: sigaction(%d): %s\n", signo_, std::strerror(errno));
    std::abort();
  }
}

InterruptSignal::~InterruptSignal() {
  if (sigaction(signo_, &previous_, nullptr) != 0) {
    std::fprintf(stderr, "memhp: restoring sigaction(%d): %s\n", signo_, std::strerror(errno));
  }
}

}  // namespace memhp::agent
