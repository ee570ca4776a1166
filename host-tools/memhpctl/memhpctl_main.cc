// memhpctl — entry point: the command line to RunCommandLine (run_command_line.h), its exit code
// to the shell.
#include <csignal>
#include <string>
#include <vector>

#include "memhpctl/run_command_line.h"

int main(int argc, char** argv) {
  // A reader that went away (memhpctl watch | head) is a write error to handle, not a signal.
  std::signal(SIGPIPE, SIG_IGN);
  return memhp::cli::RunCommandLine(std::vector<std::string>(argv + 1, argv + argc));
}
