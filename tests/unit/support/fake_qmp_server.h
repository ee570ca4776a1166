// fake_qmp_server — the QEMU end of a QMP socketpair for unit tests: writes what QEMU would
// write, reads the client's command lines while iterating the client's GMainContext. Shared by
// qmp_client_test.cc and memhpd's operation tests (operations_over_qmp_test.cc).
#pragma once

#include <glib.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "qmp/qmp_json.h"

namespace memhp::test_support {

using namespace std::chrono_literals;
using qmp::AsObject;
using qmp::GetInt;
using qmp::GetMember;
using qmp::GetString;
using qmp::JsonNodePtr;
using qmp::ParseJson;
using qmp::ToJson;

// captured from QEMU 7.2.22
inline constexpr char kGreeting[] =
    "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 22, \"minor\": 2, \"major\": 7}, \"package\": "
    "\"Debian 1:7.2+dfsg-7+deb12u18+b3\"}, \"capabilities\": [\"oob\"]}}";

// The server end: writes raw bytes, reads the client's lines while iterating the context.
class FakeServer {
 public:
  FakeServer(GMainContext* context, int fd) : context_(context), fd_(fd) {}
  ~FakeServer() { Close(); }
  FakeServer(const FakeServer&) = delete;
  FakeServer& operator=(const FakeServer&) = delete;

  void Send(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = write(fd_, bytes.data(), bytes.size());
      ASSERT_GT(n, 0) << g_strerror(errno);
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
  }
  void SendLine(std::string_view json) { Send(std::string(json) + "\r\n"); }

  // The next line the client wrote, or nullopt on EOF or timeout.
  std::optional<std::string> ReadLine(std::chrono::milliseconds timeout = 2000ms) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      const auto newline = buffer_.find('\n');
      if (newline != std::string::npos) {
        std::string line = buffer_.substr(0, newline);
        buffer_.erase(0, newline + 1);
        return line;
      }
      if (std::chrono::steady_clock::now() > deadline || fd_ < 0) return std::nullopt;
      while (g_main_context_iteration(context_, FALSE)) {
      }
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 10) > 0) {
        char chunk[4096];
        const ssize_t n = read(fd_, chunk, sizeof(chunk));
        if (n <= 0) return std::nullopt;
        buffer_.append(chunk, static_cast<std::size_t>(n));
      }
    }
  }

  // Reads a command, checks its name, returns its id.
  int64_t ExpectCommand(std::string_view execute, std::string* arguments_json = nullptr) {
    std::optional<std::string> line = ReadLine();
    EXPECT_TRUE(line.has_value()) << "no command " << execute;
    if (!line) return -1;
    memhp::Result<JsonNodePtr> json = ParseJson(*line);
    EXPECT_TRUE(json) << *line;
    if (!json) return -1;
    const JsonObject* o = AsObject(json->get());
    EXPECT_EQ(GetString(o, "execute"), std::string(execute)) << *line;
    if (arguments_json != nullptr) *arguments_json = ToJson(GetMember(o, "arguments"));
    const auto id = GetInt(o, "id");
    EXPECT_TRUE(id.has_value()) << *line;
    return id.value_or(-1);
  }

  void Close() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

 private:
  GMainContext* context_;
  int fd_;
  std::string buffer_;
};

inline std::string Reply(int64_t id, std::string_view value) {
  return R"({"return": )" + std::string(value) + R"(, "id": )" + std::to_string(id) + "}";
}

}  // namespace memhp::test_support
