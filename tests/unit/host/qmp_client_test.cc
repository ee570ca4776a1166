// Tests for qmp/qmp_client against a fake QMP server driven in-process: the test holds the
// server end of a socketpair (or of a temp unix socket) and writes what QEMU would write. The
// bounds on what QEMU may send (line length, nesting, value size, shapes) are in
// qmp_client_bounds_test.cc.
#include "qmp/qmp_client.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "qmp/qmp_sync.h"
#include "../support/fake_qmp_server.h"
#include "../support/status_text.h"
#include "qmp_client_fixture.h"

namespace memhp::qmp {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

TEST_F(QmpClientTest, HandshakeReadsGreetingAndNegotiatesCapabilities) {
  StartPair();
  EXPECT_FALSE(client_->connected());
  server_->SendLine(kGreeting);
  const std::optional<std::string> line = server_->ReadLine();
  ASSERT_TRUE(line);
  EXPECT_EQ(*line, R"({"execute":"qmp_capabilities","id":1})");
  EXPECT_FALSE(client_->connected());  // not before QEMU answered
  server_->SendLine(Reply(1, "{}"));
  ASSERT_TRUE(Run([&] { return connect_calls_ > 0; }));
  EXPECT_FALSE(connect_error_.has_value());
  EXPECT_TRUE(client_->connected());
  ASSERT_NE(client_->greeting(), nullptr);
  EXPECT_EQ(FormatVersion(client_->greeting()->version), "7.2.22");
  EXPECT_THAT(client_->greeting()->capabilities, ::testing::ElementsAre("oob"));
  Settle();
  EXPECT_EQ(connect_calls_, 1);
}

TEST_F(QmpClientTest, CommandReturnsItsValue) {
  StartPair();
  Handshake();
  Outcome outcome;
  client_->Execute("query-status", nullptr, 1000ms, outcome.Callback());
  const int64_t id = server_->ExpectCommand("query-status");
  EXPECT_EQ(id, 2);  // ids increase from the capabilities command's
  server_->SendLine(Reply(id, R"({"status": "prelaunch", "singlestep": false, "running": false})"));
  ASSERT_TRUE(Run([&] { return outcome.calls > 0; }));
  ASSERT_TRUE(outcome.result->ok());
  EXPECT_EQ(GetString(AsObject(outcome.result->value().get()), "status"), "prelaunch");
  EXPECT_EQ(client_->pending_count(), 0u);
}

TEST_F(QmpClientTest, CommandCarriesItsArguments) {
  StartPair();
  Handshake();
  Outcome outcome;
  client_->Execute("device_add",
                   JsonObjectBuilder()
                       .SetString("driver", "pc-dimm")
                       .SetString("id", "dimm0")
                       .SetString("memdev", "dimm0mem")
                       .SetInt("node", 1)
                       .Build(),
                   1000ms, outcome.Callback());
  std::string arguments;
  const int64_t id = server_->ExpectCommand("device_add", &arguments);
  EXPECT_EQ(arguments, R"({"driver":"pc-dimm","id":"dimm0","memdev":"dimm0mem","node":1})");
  server_->SendLine(Reply(id, "{}"));
  ASSERT_TRUE(Run([&] { return outcome.calls > 0; }));
  EXPECT_TRUE(outcome.result->ok());
}

TEST_F(QmpClientTest, ErrorReplyCarriesClassAndDescVerbatim) {
  StartPair();
  Handshake();
  Outcome outcome;
  client_->Execute("object-add", nullptr, 1000ms, outcome.Callback());
  const int64_t id = server_->ExpectCommand("object-add");
  server_->SendLine(
      R"({"id": )" + std::to_string(id) +
      R"(, "error": {"class": "GenericError", "desc": "Duplicate ID 'm0' for object"}})");
  ASSERT_TRUE(Run([&] { return outcome.calls > 0; }));
  ASSERT_FALSE(outcome.result->ok());
  const memhp::Error& e = outcome.result->error();
  EXPECT_EQ(e.code, memhp::v1::ERROR_CODE_QMP);
  // "<class>: <desc>", both verbatim.
  EXPECT_EQ(e.message, "GenericError: Duplicate ID 'm0' for object");
  EXPECT_TRUE(client_->connected());
}

TEST_F(QmpClientTest, EventsReachTheListener) {
  StartPair();
  Handshake();
  // captured, two in one write as QEMU does for quit
  server_->Send(
      "{\"timestamp\": {\"seconds\": 1795619344, \"microseconds\": 406891}, \"event\": "
      "\"SHUTDOWN\", "
      "\"data\": {\"guest\": false, \"reason\": \"host-qmp-quit\"}}\r\n"
      "{\"timestamp\": {\"seconds\": 1795619355, \"microseconds\": 911740}, \"event\": "
      "\"RESUME\"}\r\n");
  ASSERT_TRUE(Run([&] { return events_.size() == 2; }));
  EXPECT_EQ(events_[0], R"(SHUTDOWN {"guest":false,"reason":"host-qmp-quit"} 1795619344.406891)");
  EXPECT_EQ(events_[1], "RESUME {} 1795619355.911740");
}

TEST_F(QmpClientTest, ReplyWithUnknownIdIsDropped) {
  StartPair();
  Handshake();
  Outcome outcome;
  client_->Execute("query-status", nullptr, 1000ms, outcome.Callback());
  const int64_t id = server_->ExpectCommand("query-status");
  server_->SendLine(Reply(id + 100, R"("not yours")"));
  server_->SendLine(R"({"return": {}, "id": "str"})");
  server_->SendLine(R"({"return": {}})");
  server_->SendLine(R"({"error": {"class": "GenericError", "desc": "JSON parse error"}})");
  Settle();
  EXPECT_EQ(outcome.calls, 0);
  EXPECT_EQ(client_->pending_count(), 1u);
  server_->SendLine(Reply(id, R"("yours")"));
  ASSERT_TRUE(Run([&] { return outcome.calls > 0; }));
  ASSERT_TRUE(outcome.result->ok());
  EXPECT_EQ(ToJson(outcome.result->value().get()), R"("yours")");
  Settle();
  EXPECT_EQ(outcome.calls, 1);
  EXPECT_TRUE(client_->connected());
}

TEST_F(QmpClientTest, CommandTimesOutAndItsLateReplyIsDropped) {
  StartPair();
  Handshake();
  Outcome slow;
  Outcome fast;
  client_->Execute("query-memory-devices", nullptr, 50ms, slow.Callback());
  client_->Execute("query-status", nullptr, 5000ms, fast.Callback());
  const int64_t slow_id = server_->ExpectCommand("query-memory-devices");
  const int64_t fast_id = server_->ExpectCommand("query-status");
  ASSERT_TRUE(Run([&] { return slow.calls > 0; }));
  ASSERT_FALSE(slow.result->ok());
  EXPECT_EQ(slow.result->error().code, memhp::v1::ERROR_CODE_TIMEOUT);
  EXPECT_THAT(slow.result->error().message, HasSubstr("query-memory-devices"));
  EXPECT_EQ(fast.calls, 0);

  server_->SendLine(Reply(slow_id, "[]"));
  server_->SendLine(Reply(fast_id, "{}"));
  ASSERT_TRUE(Run([&] { return fast.calls > 0; }));
  EXPECT_TRUE(fast.result->ok());
  Settle();
  EXPECT_EQ(slow.calls, 1);
  EXPECT_TRUE(client_->connected());
}

TEST_F(QmpClientTest, DisconnectFailsEveryPendingCommandOnce) {
  StartPair();
  Handshake();
  Outcome a;
  Outcome b;
  Outcome c;
  client_->Execute("device_del", nullptr, 0ms, a.Callback());
  client_->Execute("query-status", nullptr, 5000ms, b.Callback());
  (void)server_->ExpectCommand("device_del");  // read, so closing is an EOF and not a reset
  (void)server_->ExpectCommand("query-status");
  server_->Close();
  ASSERT_TRUE(Run([&] { return !disconnects_.empty(); }));
  for (Outcome* o : {&a, &b}) {
    EXPECT_EQ(o->calls, 1);
    ASSERT_TRUE(o->result.has_value());
    EXPECT_EQ(o->result->error().code, memhp::v1::ERROR_CODE_UNAVAILABLE);
    EXPECT_THAT(o->result->error().message, HasSubstr("QEMU closed the QMP connection"));
  }
  EXPECT_FALSE(client_->connected());
  EXPECT_EQ(client_->pending_count(), 0u);

  // Later commands fail too, from the context rather than inside Execute.
  client_->Execute("query-status", nullptr, 1000ms, c.Callback());
  EXPECT_EQ(c.calls, 0);
  ASSERT_TRUE(Run([&] { return c.calls > 0; }));
  EXPECT_EQ(c.result->error().code, memhp::v1::ERROR_CODE_UNAVAILABLE);

  client_->Close();
  Settle();
  EXPECT_EQ(a.calls, 1);
  EXPECT_EQ(b.calls, 1);
  EXPECT_EQ(disconnects_.size(), 1u);
}

TEST_F(QmpClientTest, CloseFailsPendingButDoesNotCallOnDisconnected) {
  StartPair();
  Handshake();
  Outcome outcome;
  client_->Execute("query-status", nullptr, 1000ms, outcome.Callback());
  client_->Close();
  EXPECT_EQ(outcome.calls, 1);
  EXPECT_EQ(outcome.result->error().code, memhp::v1::ERROR_CODE_UNAVAILABLE);
  Settle();
  EXPECT_TRUE(disconnects_.empty());
  EXPECT_FALSE(client_->connected());
}

TEST_F(QmpClientTest, ExecuteBeforeConnectingFailsLater) {
  StartPair();
  Outcome outcome;
  client_->Execute("query-status", nullptr, 1000ms, outcome.Callback());
  EXPECT_EQ(outcome.calls, 0);
  ASSERT_TRUE(Run([&] { return outcome.calls > 0; }));
  EXPECT_EQ(outcome.result->error().code, memhp::v1::ERROR_CODE_UNAVAILABLE);
}

TEST_F(QmpClientTest, HandshakeTimesOutWithoutAGreeting) {
  QmpClientOptions options;
  options.connect_timeout = 100ms;
  StartPair(options);
  ASSERT_TRUE(Run([&] { return connect_calls_ > 0; }));
  ASSERT_TRUE(connect_error_.has_value());
  EXPECT_EQ(connect_error_->code, memhp::v1::ERROR_CODE_TIMEOUT);
  EXPECT_TRUE(disconnects_.empty());  // it never was connected
}

TEST_F(QmpClientTest, HandshakeTimesOutWithoutACapabilitiesReply) {
  QmpClientOptions options;
  options.connect_timeout = 100ms;
  StartPair(options);
  server_->SendLine(kGreeting);
  (void)server_->ExpectCommand("qmp_capabilities");
  ASSERT_TRUE(Run([&] { return connect_calls_ > 0; }));
  EXPECT_EQ(connect_error_->code, memhp::v1::ERROR_CODE_TIMEOUT);
  Settle();
  EXPECT_EQ(connect_calls_, 1);
}

TEST_F(QmpClientTest, MessageBeforeTheGreetingIsAProtocolError) {
  StartPair();
  server_->SendLine(R"({"return": {}, "id": 1})");
  ASSERT_TRUE(Run([&] { return connect_calls_ > 0; }));
  ASSERT_TRUE(connect_error_.has_value());
  EXPECT_EQ(connect_error_->code, memhp::v1::ERROR_CODE_MALFORMED);
  EXPECT_THAT(connect_error_->message, HasSubstr("before the greeting"));
}

TEST_F(QmpClientTest, RefusedCapabilitiesFailTheConnect) {
  StartPair();
  server_->SendLine(kGreeting);
  const int64_t id = server_->ExpectCommand("qmp_capabilities");
  server_->SendLine(
      R"({"id": )" + std::to_string(id) +
      R"(, "error": {"class": "CommandNotFound", "desc": "Capabilities negotiation is already complete, command ignored"}})");
  ASSERT_TRUE(Run([&] { return connect_calls_ > 0; }));
  ASSERT_TRUE(connect_error_.has_value());
  EXPECT_EQ(connect_error_->code, memhp::v1::ERROR_CODE_QMP);
  EXPECT_EQ(connect_error_->message,
            "qmp_capabilities failed: CommandNotFound: Capabilities negotiation is already complete, command ignored");
  EXPECT_FALSE(client_->connected());
}

TEST_F(QmpClientTest, EofDuringHandshakeFailsTheConnectOnce) {
  StartPair();
  server_->Close();
  ASSERT_TRUE(Run([&] { return connect_calls_ > 0; }));
  EXPECT_EQ(connect_error_->code, memhp::v1::ERROR_CODE_UNAVAILABLE);
  Settle();
  EXPECT_EQ(connect_calls_, 1);
  EXPECT_TRUE(disconnects_.empty());
}

TEST_F(QmpClientTest, ClientMayBeDestroyedFromACallback) {
  StartPair();
  Handshake();
  Outcome second;
  int first_calls = 0;
  client_->Execute("a", nullptr, 0ms, [&](CommandResult) {
    ++first_calls;
    client_.reset();
  });
  client_->Execute("b", nullptr, 0ms, second.Callback());
  server_->Close();
  ASSERT_TRUE(Run([&] { return first_calls > 0; }));
  Settle();
  EXPECT_EQ(first_calls, 1);
  EXPECT_EQ(second.calls, 0);  // dropped with the client
  EXPECT_TRUE(disconnects_.empty());
}

TEST_F(QmpClientTest, ListenerMayRunCommands) {
  StartPair();
  Handshake();
  Outcome outcome;
  client_->SetListener(QmpListener{[&](std::string_view name, const JsonNode&, const Timestamp&) {
                                     if (name == "DEVICE_DELETED")
                                       client_->Execute("object-del", nullptr, 1000ms,
                                                        outcome.Callback());
                                   },
                                   nullptr});
  server_->SendLine(
      R"({"timestamp": {"seconds": 1, "microseconds": 2}, "event": "DEVICE_DELETED", "data": {"device": "dimm0", "path": "/machine/peripheral/dimm0"}})");
  const int64_t id = server_->ExpectCommand("object-del");
  server_->SendLine(Reply(id, "{}"));
  ASSERT_TRUE(Run([&] { return outcome.calls > 0; }));
  EXPECT_TRUE(outcome.result->ok());
}

// The real Connect path: a unix socket in a temp folder, accepted by the test.
class QmpClientSocketTest : public ::testing::Test {
 protected:
  void SetUp() override {
    GError* error = nullptr;
    char* dir = g_dir_make_tmp("memhp-qmp-test-XXXXXX", &error);
    ASSERT_NE(dir, nullptr) << error->message;
    dir_ = dir;
    g_free(dir);
    path_ = dir_ + "/qmp.sock";
  }
  void TearDown() override {
    if (listen_fd_ >= 0) close(listen_fd_);
    unlink(path_.c_str());
    rmdir(dir_.c_str());
    g_main_context_unref(context_);
  }
  void Listen() {
    listen_fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(listen_fd_, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    ASSERT_LT(path_.size(), sizeof(addr.sun_path));
    path_.copy(addr.sun_path, path_.size());
    ASSERT_EQ(bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    ASSERT_EQ(listen(listen_fd_, 1), 0);
  }

  GMainContext* context_ = g_main_context_new();
  std::string dir_;
  std::string path_;
  int listen_fd_ = -1;
};

TEST_F(QmpClientSocketTest, ConnectsAndNegotiates) {
  Listen();
  QmpClient client(context_);
  int calls = 0;
  std::optional<memhp::Error> result;
  client.Connect(path_, [&](Status status) {
    ++calls;
    result = ErrorOf(std::move(status));
  });
  EXPECT_EQ(calls, 0);
  const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
  ASSERT_GE(fd, 0);
  FakeServer server(context_, fd);
  server.SendLine(kGreeting);
  const int64_t id = server.ExpectCommand("qmp_capabilities");
  server.SendLine(Reply(id, "{}"));
  ASSERT_TRUE(RunUntil(
      context_, [&] { return calls > 0; }, 2000ms));
  EXPECT_FALSE(result.has_value()) << result->message;
  EXPECT_TRUE(client.connected());

  // ExecuteSync against the same fake.
  Outcome unused;
  client.Execute("query-status", nullptr, 1000ms, unused.Callback());
  const int64_t status_id = server.ExpectCommand("query-status");
  server.SendLine(Reply(status_id, R"({"status": "running", "running": true})"));
  ASSERT_TRUE(RunUntil(
      context_, [&] { return unused.calls > 0; }, 2000ms));
  EXPECT_TRUE(unused.result->ok());
}

TEST_F(QmpClientSocketTest, MissingSocketFailsWithErrno) {
  QmpClient client(context_);
  const std::optional<memhp::Error> error = ErrorOf(ConnectSync(client, path_));
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->code, memhp::v1::ERROR_CODE_UNAVAILABLE);
  EXPECT_EQ(error->errno_value, ENOENT);
  EXPECT_THAT(error->message, HasSubstr(path_));
}

TEST_F(QmpClientSocketTest, ListenerThatNeverGreetsTimesOut) {
  Listen();
  QmpClientOptions options;
  options.connect_timeout = 100ms;
  QmpClient client(context_, options);
  // The listener never greets: only the connect timeout can end the wait (its kind says so).
  const std::optional<memhp::Error> error = ErrorOf(ConnectSync(client, path_));
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->code, memhp::v1::ERROR_CODE_TIMEOUT);
}

TEST_F(QmpClientSocketTest, OverlongPathIsRefused) {
  QmpClient client(context_);
  const std::optional<memhp::Error> error = ErrorOf(ConnectSync(client, "/" + std::string(200, 'p')));
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->errno_value, ENAMETOOLONG);
}

TEST_F(QmpClientSocketTest, ExecuteSyncTimesOut) {
  Listen();
  QmpClient client(context_);
  client.Connect(path_, [](Status) {});
  const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
  ASSERT_GE(fd, 0);
  FakeServer server(context_, fd);
  server.SendLine(kGreeting);
  server.SendLine(Reply(server.ExpectCommand("qmp_capabilities"), "{}"));
  ASSERT_TRUE(RunUntil(
      context_, [&] { return client.connected(); }, 2000ms));
  const CommandResult result = ExecuteSync(client, "query-status", nullptr, 50ms);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, memhp::v1::ERROR_CODE_TIMEOUT);
}

}  // namespace
}  // namespace memhp::qmp
