// memhp fuzz — memhpctl's command-line parser on arbitrary arguments.
//
// Scripts build memhpctl command lines from variables (sizes, device ids, VM names), so the
// parser sees whatever they hold. The input is split at NUL bytes into argv (as execve would
// pass them; at most 32 arguments) and given to ParseCommandLine, with ParseSize on each
// argument as well.
//
// Invariants beyond "no crash": the outcome is a command or an error with a message, never
// both nor neither; parsing is deterministic (the same arguments give the same verdict and
// verb); a size ParseSize accepts (cli_values.h) is a whole number of its unit (it never wraps).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_check.h"
#include "memhpctl/cli_args.h"
#include "memhpctl/cli_values.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::string> args;
  std::string current;
  for (size_t i = 0; i < size && args.size() < 32; ++i) {
    if (data[i] == '\0') {
      args.push_back(std::move(current));
      current.clear();
    } else {
      current += static_cast<char>(data[i]);
    }
  }
  if (args.size() < 32 && !current.empty()) args.push_back(std::move(current));

  const memhp::cli::ParseOutcome outcome = memhp::cli::ParseCommandLine(args);
  FUZZ_CHECK(outcome.command.has_value() != !outcome.error.empty());

  const memhp::cli::ParseOutcome again = memhp::cli::ParseCommandLine(args);
  FUZZ_CHECK(again.command.has_value() == outcome.command.has_value());
  FUZZ_CHECK(again.error == outcome.error);
  if (outcome.command) FUZZ_CHECK(again.command->verb == outcome.command->verb);

  for (const std::string& arg : args) {
    const std::optional<uint64_t> bytes = memhp::cli::ParseSize(arg);
    if (!bytes) continue;
    // An accepted size is a whole number of its unit and at least the digits' value.
    const char last = arg.empty() ? '\0' : arg.back();
    uint64_t unit = 1;
    if (last == 'K' || last == 'k') unit = uint64_t{1} << 10;
    if (last == 'M' || last == 'm') unit = uint64_t{1} << 20;
    if (last == 'G' || last == 'g') unit = uint64_t{1} << 30;
    if (last == 'T' || last == 't') unit = uint64_t{1} << 40;
    FUZZ_CHECK(*bytes % unit == 0);
  }
  return 0;
}
