// memhpctl — the one rewritten progress line on a terminal's stderr, for everything a person
// waits for: an operation's steps (plug, unplug, resize), a launch's boot phases, a stop.
//
// Shown only when stderr is a terminal and neither --json nor --quiet was given: a log or a pipe
// should not fill with carriage returns, and a script reads the answer, not the wait. The line
// is escaped for the terminal (it may carry memhpd's step names and device ids) and cleared
// before the answer is printed.
#pragma once

#include <chrono>
#include <string>

#include "memhpctl/cli_args.h"

namespace memhp::cli {

class ProgressLine {
 public:
  explicit ProgressLine(const Command& command);
  ~ProgressLine();
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

  // Rewrites the line with `text` (one line).
  void Show(const std::string& text);
  // Removes the line, if one is shown.
  void Clear();
  // Seconds since this line was made.
  [[nodiscard]] double Elapsed() const;

 private:
  bool enabled_;
  std::chrono::steady_clock::time_point start_;
  bool shown_ = false;
};

}  // namespace memhp::cli
