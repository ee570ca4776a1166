// memhpctl — see run_command_line.h.
#include "memhpctl/run_command_line.h"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "ctl/terminal_text.h"
#include "memhpctl/cli_args.h"
#include "memhpctl/json_envelope.h"
#include "memhpctl/verb_table.h"

namespace memhp::cli {
namespace {

// Whether stdout is a pipe (or socket) whose reader closed it: poll() says POLLERR then. An
// earlier write's EPIPE may no longer be in errno by the time the verb returns.
bool ReaderLeft() {
  pollfd p{STDOUT_FILENO, POLLOUT, 0};
  return poll(&p, 1, 0) == 1 && (p.revents & POLLERR) != 0;
}

}  // namespace

int RunCommandLine(const std::vector<std::string>& args) {
  const ParseOutcome parsed = ParseCommandLine(args);
  if (!parsed.command) {
    // A script that asked for JSON gets its usage error in JSON too (the envelope, on stdout).
    if (WantsJson(args)) {
      std::fputs(ctl::EscapeJsonForTerminal(JsonEnvelope(kExitUsage, parsed.error, "")).c_str(), stdout);
      std::fflush(stdout);
      return kExitUsage;
    }
    // The error quotes the word that was wrong, which a script may have filled from anywhere.
    std::fprintf(stderr, "memhpctl: %s\n", ctl::EscapeForTerminal(parsed.error, ctl::Newlines::kEscape).c_str());
    return kExitUsage;
  }
  const int code = SpecOf(parsed.command->verb).run(*parsed.command);
  // The verbs print their answer to stdout without checking each write: one check here, so an
  // answer lost to a full disk or a broken file is no exit 0. A reader that left (EPIPE:
  // `memhpctl watch | head`) took all it wanted; that is no failure.
  errno = 0;
  if (std::fflush(stdout) == 0 && !std::ferror(stdout)) return code;
  const int err = errno;  // the flush's; 0 when only an earlier write failed
  if (err == EPIPE || ReaderLeft()) return code;
  std::fprintf(stderr, "memhpctl: writing the answer to stdout failed: %s\n", err ? std::strerror(err) : "write error");
  return code == kExitOk ? kExitFailed : code;
}

}  // namespace memhp::cli
