// console_shell — a command on the guest's serial console (see console_shell.h).
#include "vm/console_shell.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/unique_fd.h"

namespace memhp::vm {

Result<std::string> RunOnConsole(const std::string& console_socket, const std::string& command,
                                 std::chrono::milliseconds timeout) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (console_socket.size() >= sizeof(addr.sun_path)) {
    return Error::FromErrno(ENAMETOOLONG, "connect", console_socket);
  }
  std::memcpy(addr.sun_path, console_socket.c_str(), console_socket.size() + 1);
  UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return Error::FromErrno(errno, "socket", console_socket);
  if (connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    return Error::FromErrno(errno, "connect", console_socket);
  }
  const std::string nonce = std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
  const std::string marker = "__MEMHP_DONE_" + nonce + "__";
  const std::string line = command + "; echo __MEMHP_\"\"DONE_" + nonce + "__\n";
  if (send(fd.get(), line.data(), line.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(line.size())) {
    return Error::FromErrno(errno ? errno : EIO, "send", console_socket);
  }
  std::string out;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    const size_t at = out.find(marker);
    if (at != std::string::npos) return out.substr(0, at + marker.size());
    if (out.size() > kMaxConsoleOutput) {
      return Error{EFBIG, "the console printed more than " + std::to_string(kMaxConsoleOutput >> 10) + " KiB for one command"};
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      return Error{ETIMEDOUT, "the console did not finish the command within " + std::to_string(timeout.count()) + " ms"};
    }
    pollfd pfd{fd.get(), POLLIN, 0};
    const int ready = poll(&pfd, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno != EINTR) return Error::FromErrno(errno, "poll", console_socket);
    if (ready <= 0) continue;
    char buffer[4096];
    const ssize_t n = recv(fd.get(), buffer, sizeof(buffer), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error::FromErrno(errno, "recv", console_socket);
    if (n == 0) return Error{EPIPE, "the console closed before the command finished"};
    out.append(buffer, static_cast<size_t>(n));
  }
}

}  // namespace memhp::vm
