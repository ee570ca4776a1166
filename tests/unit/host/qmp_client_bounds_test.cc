// Tests for qmp/qmp_client's bounds on what QEMU sends: overlong lines (partial, complete, at
// the greeting), nesting deeper than QEMU's own parser allows, answers over the value bound,
// malformed or wrongly shaped answers — each dropped or failed, and the client carries on.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstddef>
#include <string>

#include "qmp/qmp_client.h"
#include "qmp_client_fixture.h"

namespace memhp::qmp {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

QmpClientOptions LineBound(std::size_t bytes) {
  QmpClientOptions options;
  options.json_limits.max_bytes = bytes;
  return options;
}

TEST_F(QmpClientTest, OverlongPartialLineIsDroppedUpToItsNewlineAndTheClientCarriesOn) {
  StartPair(LineBound(1024));
  Handshake();
  Outcome pending;
  client_->Execute("query-memory-devices", nullptr, 5000ms, pending.Callback());
  const int64_t id = server_->ExpectCommand("query-memory-devices");
  server_->Send(std::string(2000, 'x'));  // no newline yet: over the bound already
  ASSERT_TRUE(Run([&] { return client_->stats().dropped_lines == 1; }));
  server_->Send(std::string(3000, 'x'));  // the rest of the same line, dropped as it comes
  server_->Send("\r\n" + Reply(id, "[]") + "\r\n");
  ASSERT_TRUE(Run([&] { return pending.calls > 0; }));
  ASSERT_TRUE(pending.result->ok()) << pending.result->error().message;
  EXPECT_EQ(client_->stats().dropped_lines, 1u);
  EXPECT_TRUE(client_->connected());
  EXPECT_TRUE(disconnects_.empty());
}

TEST_F(QmpClientTest, OverlongCompleteLineIsDroppedAndCounted) {
  StartPair(LineBound(1024));
  Handshake();
  server_->SendLine(R"({"return": ")" + std::string(1100, 'y') + R"(", "id": 99})");
  ASSERT_TRUE(Run([&] { return client_->stats().dropped_lines == 1; }));
  EXPECT_TRUE(client_->connected());
  EXPECT_TRUE(disconnects_.empty());
}

TEST_F(QmpClientTest, OverlongGreetingFailsTheConnect) {
  StartPair(LineBound(1024));
  server_->Send(std::string(4096, '{'));
  ASSERT_TRUE(Run([&] { return connect_calls_ > 0; }));
  ASSERT_TRUE(connect_error_.has_value());
  EXPECT_EQ(connect_error_->code, memhp::v1::ERROR_CODE_MALFORMED);
  EXPECT_THAT(connect_error_->message, HasSubstr("1024-byte bound"));
}

TEST_F(QmpClientTest, DeeplyNestedGreetingFailsTheConnectWithoutCrashing) {
  StartPair();
  server_->SendLine(std::string(100000, '['));
  ASSERT_TRUE(Run([&] { return connect_calls_ > 0; }));
  ASSERT_TRUE(connect_error_.has_value());
  EXPECT_EQ(connect_error_->code, memhp::v1::ERROR_CODE_MALFORMED);
  EXPECT_THAT(connect_error_->message, HasSubstr("nesting deeper than 1024"));
  EXPECT_FALSE(client_->connected());
}

TEST_F(QmpClientTest, DeeplyNestedLineWhileConnectedIsDroppedAndTheClientCarriesOn) {
  StartPair();
  Handshake();
  Outcome outcome;
  client_->Execute("query-status", nullptr, 5000ms, outcome.Callback());
  const int64_t id = server_->ExpectCommand("query-status");
  server_->SendLine(std::string(100000, '['));
  server_->SendLine(Reply(id, R"({"status": "prelaunch", "running": false})"));
  ASSERT_TRUE(Run([&] { return outcome.calls > 0; }));
  EXPECT_TRUE(outcome.result->ok());
  EXPECT_EQ(client_->stats().dropped_lines, 1u);
  EXPECT_TRUE(client_->connected());
}

TEST_F(QmpClientTest, AnswerOverTheValueBoundFailsTheCommandItCannotBeMatchedTo) {
  // The answer's id is inside the refused text, so the command is not told at once: it times
  // out, and its error says what happened meanwhile.
  QmpClientOptions options;
  options.json_limits.max_values = 100;
  StartPair(options);
  Handshake();
  Outcome outcome;
  client_->Execute("query-memory-devices", nullptr, 200ms, outcome.Callback());
  const int64_t id = server_->ExpectCommand("query-memory-devices");
  std::string zeros = "[0";
  for (int i = 0; i < 200; ++i) zeros += ",0";
  server_->SendLine(Reply(id, zeros + "]"));
  ASSERT_TRUE(Run([&] { return outcome.calls > 0; }));
  ASSERT_FALSE(outcome.result->ok());
  EXPECT_EQ(outcome.result->error().code, memhp::v1::ERROR_CODE_TIMEOUT);
  EXPECT_THAT(outcome.result->error().message, HasSubstr("1 lines from QEMU were dropped"));
  EXPECT_TRUE(client_->connected());
}

TEST_F(QmpClientTest, MalformedReplyCarryingItsIdFailsThatCommand) {
  StartPair();
  Handshake();
  Outcome outcome;
  client_->Execute("query-status", nullptr, 5000ms, outcome.Callback());
  const int64_t id = server_->ExpectCommand("query-status");
  server_->SendLine(R"({"error": "no class", "id": )" + std::to_string(id) + "}");
  ASSERT_TRUE(Run([&] { return outcome.calls > 0; }));
  ASSERT_FALSE(outcome.result->ok());
  EXPECT_EQ(outcome.result->error().code, memhp::v1::ERROR_CODE_MALFORMED);
  EXPECT_THAT(outcome.result->error().message, HasSubstr("reply to query-status"));
  EXPECT_TRUE(client_->connected());
}

TEST_F(QmpClientTest, TimeoutSaysQemuAnsweredWithOtherIds) {
  StartPair();
  Handshake();
  Outcome outcome;
  client_->Execute("query-status", nullptr, 200ms, outcome.Callback());
  const int64_t id = server_->ExpectCommand("query-status");
  server_->SendLine(Reply(id + 1000, "{}"));
  server_->SendLine(Reply(id + 1001, "{}"));
  ASSERT_TRUE(Run([&] { return outcome.calls > 0; }));
  EXPECT_EQ(outcome.result->error().code, memhp::v1::ERROR_CODE_TIMEOUT);
  EXPECT_THAT(outcome.result->error().message,
              HasSubstr("meanwhile QEMU sent 2 replies with ids memhp did not send"));
  EXPECT_EQ(client_->stats().unknown_replies, 2u);
}

TEST_F(QmpClientTest, CapabilitiesAnsweredWithAnArrayFailTheConnect) {
  StartPair();
  server_->SendLine(kGreeting);
  const int64_t id = server_->ExpectCommand("qmp_capabilities");
  server_->SendLine(Reply(id, "[0, 0, 0]"));
  ASSERT_TRUE(Run([&] { return connect_calls_ > 0; }));
  ASSERT_TRUE(connect_error_.has_value());
  EXPECT_EQ(connect_error_->code, memhp::v1::ERROR_CODE_MALFORMED);
  EXPECT_THAT(connect_error_->message, HasSubstr("qmp_capabilities answered"));
  EXPECT_FALSE(client_->connected());
}

TEST_F(QmpClientTest, AnArrayLineInsteadOfTheCapabilitiesAnswerFailsTheConnect) {
  StartPair();
  server_->SendLine(kGreeting);
  (void)server_->ExpectCommand("qmp_capabilities");
  server_->SendLine("[0, 0, 0]");
  ASSERT_TRUE(Run([&] { return connect_calls_ > 0; }));
  ASSERT_TRUE(connect_error_.has_value());
  EXPECT_EQ(connect_error_->code, memhp::v1::ERROR_CODE_MALFORMED);
  EXPECT_THAT(connect_error_->message, HasSubstr("not a JSON object"));
}

TEST_F(QmpClientTest, LineAtTheBoundIsAccepted) {
  StartPair(LineBound(1024));
  Handshake();
  Outcome outcome;
  client_->Execute("echo", nullptr, 1000ms, outcome.Callback());
  const int64_t id = server_->ExpectCommand("echo");
  std::string line = Reply(id, R"(")" + std::string(0, 'z') + R"(")");
  line = Reply(id, R"(")" + std::string(1024 - line.size(), 'z') + R"(")");
  ASSERT_EQ(line.size(), 1024u);
  // Sent in pieces, as a slow writer would.
  server_->Send(line.substr(0, 500));
  Settle();
  server_->Send(line.substr(500) + "\r");
  Settle();
  server_->Send("\n");
  ASSERT_TRUE(Run([&] { return outcome.calls > 0; }));
  EXPECT_TRUE(outcome.result->ok());
  EXPECT_TRUE(client_->connected());
}

TEST_F(QmpClientTest, MalformedLineIsDroppedAndCounted) {
  StartPair();
  Handshake();
  server_->SendLine("this is not QMP");
  server_->SendLine(R"({"QMP": {"version": {"qemu": {"major": 7, "minor": 2, "micro": 0}}, "capabilities": []}})");
  ASSERT_TRUE(Run([&] { return client_->stats().dropped_lines == 2; }));
  EXPECT_TRUE(client_->connected());
  EXPECT_TRUE(disconnects_.empty());
}

}  // namespace
}  // namespace memhp::qmp
