// memhp tests — the fixture of the QMP client tests (qmp_client_test.cc and
// qmp_client_bounds_test.cc): a QmpClient on one end of a socketpair, a FakeServer on the other,
// driven by a private GMainContext; the test writes what QEMU would write.
#pragma once

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "qmp/qmp_client.h"
#include "qmp/qmp_sync.h"
#include "../support/fake_qmp_server.h"
#include "../support/status_text.h"

namespace memhp::qmp {

using test_support::ErrorOf;
using test_support::FakeServer;
using test_support::kGreeting;
using test_support::Reply;

// Collects a command's outcomes; more than one is a bug the tests look for.
struct Outcome {
  int calls = 0;
  std::optional<CommandResult> result;
  ResultCallback Callback() {
    return [this](CommandResult r) {
      ++calls;
      result = std::move(r);
    };
  }
};

class QmpClientTest : public ::testing::Test {
 protected:
  void TearDown() override {
    client_.reset();
    server_.reset();
    g_main_context_unref(context_);
  }

  // A client adopting one end of a socketpair; connect_result_ gets the handshake outcome.
  void StartPair(QmpClientOptions options = {}) {
    int fds[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    server_ = std::make_unique<test_support::FakeServer>(context_, fds[1]);
    client_ = std::make_unique<QmpClient>(context_, options);
    client_->SetListener(QmpListener{
        [this](std::string_view name, const JsonNode& data, const Timestamp& ts) {
          events_.push_back(std::string(name) + " " + ToJson(&data) + " " +
                            std::to_string(ts.seconds) + "." + std::to_string(ts.microseconds));
        },
        [this](std::string_view reason) { disconnects_.emplace_back(reason); }});
    client_->Adopt(fds[0], [this](Status status) {
      ++connect_calls_;
      connect_error_ = test_support::ErrorOf(std::move(status));
    });
  }

  void Handshake() {
    server_->SendLine(test_support::kGreeting);
    const int64_t id = server_->ExpectCommand("qmp_capabilities");
    server_->SendLine(test_support::Reply(id, "{}"));
    ASSERT_TRUE(Run([&] { return connect_calls_ > 0; }));
    ASSERT_FALSE(connect_error_.has_value()) << connect_error_->message;
    ASSERT_TRUE(client_->connected());
  }

  bool Run(const std::function<bool()>& done,
           std::chrono::milliseconds timeout = std::chrono::milliseconds(2000)) {
    return RunUntil(context_, done, timeout);
  }
  // Lets queued I/O and idle callbacks run.
  void Settle() {
    (void)Run([] { return false; }, std::chrono::milliseconds(50));
  }

  GMainContext* context_ = g_main_context_new();
  std::unique_ptr<QmpClient> client_;
  std::unique_ptr<test_support::FakeServer> server_;
  int connect_calls_ = 0;
  std::optional<memhp::Error> connect_error_;
  std::vector<std::string> events_;
  std::vector<std::string> disconnects_;
};

}  // namespace memhp::qmp
