// memhpctl — see progress_line.h.
#include "memhpctl/progress_line.h"

#include <unistd.h>

#include <cstdio>

#include "ctl/terminal_text.h"

namespace memhp::cli {

ProgressLine::ProgressLine(const Command& command)
    : enabled_(!command.global.json && !command.global.quiet && isatty(STDERR_FILENO)),
      start_(std::chrono::steady_clock::now()) {}

ProgressLine::~ProgressLine() { Clear(); }

double ProgressLine::Elapsed() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void ProgressLine::Show(const std::string& text) {
  if (!enabled_) return;
  // ESC [ K (erase to end of line, ECMA-48 EL) after the carriage return: a shorter line
  // leaves nothing of the longer one before it.
  std::fprintf(stderr, "\r\033[K%s", ctl::EscapeForTerminal(text, ctl::Newlines::kEscape).c_str());
  std::fflush(stderr);
  shown_ = true;
}

void ProgressLine::Clear() {
  if (!shown_) return;
  std::fputs("\r\033[K", stderr);
  std::fflush(stderr);
  shown_ = false;
}

}  // namespace memhp::cli
