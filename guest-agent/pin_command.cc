// memhp-agent pin (see pin_command.h).
#include "pin_command.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "handlers/pin_guard.h"
#include "base/unique_fd.h"

namespace memhp::agent {
namespace {

constexpr int kMaxAttempts = 100;  // each retry means the guard removed our file as stale

int Usage(const char* why) {
  std::fprintf(stderr,
               "memhp-agent pin: %s\n"
               "usage: memhp-agent pin [--pins-dir DIR] START-END|memoryN [-- CMD [ARGS...]]\n"
               "  START-END: guest-physical hex, END inclusive (as /proc/iomem prints it)\n",
               why);
  return 2;
}

// Opens and share-locks DIR/SPEC, making sure the locked file is the one the path names.
UniqueFd TakePin(const std::string& path) {
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    UniqueFd fd(open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644));
    if (!fd.valid()) {
      std::fprintf(stderr, "memhp-agent pin: open %s: %s\n", path.c_str(), std::strerror(errno));
      return UniqueFd();
    }
    if (flock(fd.get(), LOCK_SH) != 0) {
      std::fprintf(stderr, "memhp-agent pin: flock %s: %s\n", path.c_str(), std::strerror(errno));
      return UniqueFd();
    }
    struct stat locked {}, named {};
    if (fstat(fd.get(), &locked) == 0 && stat(path.c_str(), &named) == 0 &&
        locked.st_dev == named.st_dev && locked.st_ino == named.st_ino) {
      return fd;
    }
    // The guard took it for stale between our open() and flock(): start over.
  }
  std::fprintf(stderr, "memhp-agent pin: %s kept disappearing; giving up\n", path.c_str());
  return UniqueFd();
}

}  // namespace

int RunPinCommand(int argc, char** argv) {
  std::string dir(kDefaultPinFolder);
  int i = 1;
  if (i < argc && std::string_view(argv[i]) == "--pins-dir") {
    if (i + 1 >= argc) return Usage("--pins-dir needs a folder");
    dir = argv[i + 1];
    i += 2;
  } else if (i < argc && std::string_view(argv[i]).substr(0, 11) == "--pins-dir=") {
    dir = argv[i] + 11;
    ++i;
  }
  if (i >= argc) return Usage("which range?");
  const std::string spec = argv[i++];
  // The block size only matters for memoryN, which any non-zero size validates the same way.
  if (!ParsePinSpec(spec, 1) || spec.find('/') != std::string::npos) {
    return Usage(("'" + spec + "' is neither START-END (hex) nor memoryN").c_str());
  }
  std::vector<char*> command;
  if (i < argc) {
    if (std::string_view(argv[i]) != "--") return Usage("the command goes after --");
    for (++i; i < argc; ++i) command.push_back(argv[i]);
    if (command.empty()) return Usage("nothing after --");
    command.push_back(nullptr);
  }
  if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    std::fprintf(stderr, "memhp-agent pin: mkdir %s: %s\n", dir.c_str(), std::strerror(errno));
    return 1;
  }
  const std::string path = dir + "/" + spec;
  // Block the signals we wait for before the pin exists, so none is lost in between.
  sigset_t waited;
  sigemptyset(&waited);
  sigaddset(&waited, SIGTERM);
  sigaddset(&waited, SIGINT);
  if (command.empty() && sigprocmask(SIG_BLOCK, &waited, nullptr) != 0) {
    std::fprintf(stderr, "memhp-agent pin: sigprocmask: %s\n", std::strerror(errno));
    return 1;
  }
  UniqueFd pin = TakePin(path);
  if (!pin.valid()) return 1;
  std::fprintf(stderr, "memhp-agent pin: holding %s\n", path.c_str());
  if (command.empty()) {
    int signal_number = 0;
    // sigwait() returns its error instead of setting errno.
    if (const int err = sigwait(&waited, &signal_number); err != 0) {
      std::fprintf(stderr, "memhp-agent pin: sigwait: %s\n", std::strerror(err));
      return 1;
    }
    return 0;
  }
  const pid_t child = fork();
  if (child < 0) {
    std::fprintf(stderr, "memhp-agent pin: fork: %s\n", std::strerror(errno));
    return 1;
  }
  if (child == 0) {
    execvp(command[0], command.data());  // the pin's fd is O_CLOEXEC: the lock stays with us
    std::fprintf(stderr, "memhp-agent pin: %s: %s\n", command[0], std::strerror(errno));
    _exit(127);
  }
  int status = 0;
  pid_t waited_for = 0;
  while ((waited_for = waitpid(child, &status, 0)) < 0 && errno == EINTR) {}
  if (waited_for < 0) {
    // Never the status 0 we did not read: the command's outcome is unknown.
    std::fprintf(stderr, "memhp-agent pin: waitpid %d: %s\n", static_cast<int>(child), std::strerror(errno));
    return 1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace memhp::agent
