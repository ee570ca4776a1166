// memhp tests — ControlServer, memhpd's control socket, against raw clients on a unix socket in a
// temp folder: bare fds with a FrameDecoder, every wait iterating the test's GMainContext until a
// condition holds or a deadline passes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "daemon/control_server.h"
#include "memhp/v1/control.pb.h"
#include "wire/frame_codec.h"
#include "../support/framed_peer.h"
#include "../support/status_text.h"
#include "../support/unix_sockets.h"

namespace memhp::daemon {
namespace {

using memhp::v1::ControlEnvelope;
using memhp::v1::ControlRequest;
using memhp::v1::ControlResponse;
using ::testing::HasSubstr;
using namespace std::chrono_literals;
using test_support::ConnectUnix;
using test_support::ListenUnix;
using test_support::Peer;
using test_support::RunUntil;
using test_support::TempDir;

ControlEnvelope StatusRequest(uint64_t id, bool refresh) {
  ControlEnvelope envelope;
  envelope.mutable_request()->set_id(id);
  envelope.mutable_request()->mutable_status()->set_refresh_inventory(refresh);
  return envelope;
}

class ControlServerTest : public ::testing::Test {
 protected:
  ControlServerTest() : context_(g_main_context_new()), path_(dir_.File("control.sock")) {
    server_ = std::make_unique<ControlServer>(
        context_, [this](const ControlRequest& request, ControlReply reply) {
          ++handled_;
          if (hold_replies_) {
            held_.emplace_back(request, std::move(reply));
            return;
          }
          reply(EchoStatus(request));
        });
    EXPECT_EQ(test_support::ErrorText(server_->Listen(path_)), "");
  }
  ~ControlServerTest() override {
    held_.clear();
    server_.reset();
    g_main_context_unref(context_);
  }

  // The handler's answer: a VmStatus whose name tells which request it answers.
  static ControlResponse EchoStatus(const ControlRequest& request) {
    ControlResponse response;
    response.mutable_status()->set_vm_name(
        "vm-" + std::to_string(request.id()) +
        (request.status().refresh_inventory() ? "-refreshed" : "-cached"));
    return response;
  }

  std::unique_ptr<Peer<ControlEnvelope>> NewClient() {
    auto client = std::make_unique<Peer<ControlEnvelope>>(ConnectUnix(path_));
    const size_t before = server_->client_count();
    EXPECT_TRUE(RunUntil(context_, [&] { return server_->client_count() == before + 1; }));
    return client;
  }

  // Sends `request` and returns the answer.
  ControlResponse Ask(Peer<ControlEnvelope>& client, const ControlEnvelope& request) {
    client.Send(request);
    std::optional<ControlEnvelope> answer = client.Next(context_);
    EXPECT_TRUE(answer.has_value());
    EXPECT_TRUE(answer && answer->has_response());
    return answer ? answer->response() : ControlResponse{};
  }

  TempDir dir_;
  GMainContext* context_;
  std::string path_;
  std::unique_ptr<ControlServer> server_;
  int handled_ = 0;
  bool hold_replies_ = false;
  std::vector<std::pair<ControlRequest, ControlReply>> held_;  // answered later
};

TEST_F(ControlServerTest, TwoClientsAtOnceEachGetTheirOwnAnswers) {
  auto a = NewClient();
  auto b = NewClient();
  EXPECT_EQ(server_->client_count(), 2u);

  // Both ask before either is answered; ids are per client, so both may use 7.
  hold_replies_ = true;
  a->Send(StatusRequest(7, true));
  b->Send(StatusRequest(7, false));
  b->Send(StatusRequest(8, true));
  ASSERT_TRUE(RunUntil(context_, [&] { return held_.size() == 3; }));
  for (auto it = held_.rbegin(); it != held_.rend(); ++it) {  // answered in reverse order
    it->second(EchoStatus(it->first));
  }

  std::optional<ControlEnvelope> b1 = b->Next(context_);
  std::optional<ControlEnvelope> b2 = b->Next(context_);
  std::optional<ControlEnvelope> a1 = a->Next(context_);
  ASSERT_TRUE(a1 && b1 && b2);
  EXPECT_EQ(a1->response().id(), 7u);
  EXPECT_EQ(a1->response().status().vm_name(), "vm-7-refreshed");
  EXPECT_EQ(b1->response().id(), 8u);
  EXPECT_EQ(b1->response().status().vm_name(), "vm-8-refreshed");
  EXPECT_EQ(b2->response().id(), 7u);
  EXPECT_EQ(b2->response().status().vm_name(), "vm-7-cached");
  EXPECT_EQ(a->pending(), 0u);  // nothing of b's reached a
  EXPECT_EQ(b->pending(), 0u);
}

TEST_F(ControlServerTest, EchoingHandlerAnswersEachRequest) {
  auto client = NewClient();
  const ControlResponse first = Ask(*client, StatusRequest(1, false));
  EXPECT_EQ(first.id(), 1u);
  EXPECT_FALSE(first.has_error());
  EXPECT_EQ(first.status().vm_name(), "vm-1-cached");
  const ControlResponse second = Ask(*client, StatusRequest(2, true));
  EXPECT_EQ(second.id(), 2u);
  EXPECT_EQ(second.status().vm_name(), "vm-2-refreshed");
}

TEST_F(ControlServerTest, GarbageFrameIsMalformedAndTheClientCarriesOn) {
  auto client = NewClient();
  client->SendRaw(wire::EncodeFrame("\xff\xff\xff"));  // a frame, not a ControlEnvelope
  std::optional<ControlEnvelope> answer = client->Next(context_);
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->response().id(), 0u);
  EXPECT_EQ(answer->response().error().code(), memhp::v1::ERROR_CODE_MALFORMED);
  EXPECT_EQ(server_->malformed_count(), 1u);
  EXPECT_EQ(handled_, 0);

  const ControlResponse valid = Ask(*client, StatusRequest(3, false));
  EXPECT_EQ(valid.id(), 3u);
  EXPECT_EQ(valid.status().vm_name(), "vm-3-cached");
  EXPECT_EQ(server_->client_count(), 1u);
}

TEST_F(ControlServerTest, EnvelopeWithoutARequestIsMalformed) {
  auto client = NewClient();
  ControlEnvelope response_only;
  response_only.mutable_response()->set_id(4);
  const ControlResponse answer = Ask(*client, response_only);
  EXPECT_EQ(answer.error().code(), memhp::v1::ERROR_CODE_MALFORMED);
  EXPECT_EQ(handled_, 0);
}

TEST_F(ControlServerTest, IdZeroIsMalformedAndUnknownOpUnsupported) {
  auto client = NewClient();
  const ControlResponse no_id = Ask(*client, StatusRequest(0, false));
  EXPECT_EQ(no_id.id(), 0u);
  EXPECT_EQ(no_id.error().code(), memhp::v1::ERROR_CODE_MALFORMED);
  EXPECT_THAT(no_id.error().message(), HasSubstr("id"));
  EXPECT_FALSE(no_id.has_status());

  ControlEnvelope no_op;
  no_op.mutable_request()->set_id(12);
  const ControlResponse unknown = Ask(*client, no_op);
  EXPECT_EQ(unknown.id(), 12u);
  EXPECT_EQ(unknown.error().code(), memhp::v1::ERROR_CODE_UNSUPPORTED);
  EXPECT_EQ(handled_, 0);
}

TEST_F(ControlServerTest, ReplyAfterTheClientLeftIsHarmless) {
  hold_replies_ = true;
  auto leaving = NewClient();
  leaving->Send(StatusRequest(5, false));
  ASSERT_TRUE(RunUntil(context_, [&] { return held_.size() == 1; }));
  leaving.reset();
  ASSERT_TRUE(RunUntil(context_, [&] { return server_->client_count() == 0; }));

  held_[0].second(EchoStatus(held_[0].first));  // dropped: nobody to send it to

  hold_replies_ = false;
  auto next = NewClient();
  const ControlResponse answer = Ask(*next, StatusRequest(6, true));
  EXPECT_EQ(answer.id(), 6u);
  EXPECT_EQ(answer.status().vm_name(), "vm-6-refreshed");
  EXPECT_EQ(next->pending(), 0u);  // the dropped answer did not leak to the new client
}

TEST_F(ControlServerTest, ReplyAfterTheServerIsGoneIsANoOp) {
  hold_replies_ = true;
  auto client = NewClient();
  client->Send(StatusRequest(9, false));
  ASSERT_TRUE(RunUntil(context_, [&] { return held_.size() == 1; }));
  server_.reset();
  held_[0].second(EchoStatus(held_[0].first));
  EXPECT_TRUE(client->saw_eof());  // the server closed its end, sending nothing
  EXPECT_EQ(client->pending(), 0u);
}

TEST_F(ControlServerTest, ListenReplacesAStaleSocketFile) {
  const std::string stale = dir_.File("stale.sock");
  const int old_fd = ListenUnix(stale);  // a dead memhpd's socket file
  ASSERT_GE(old_fd, 0);
  close(old_fd);
  ControlServer second(context_, [](const ControlRequest&, ControlReply) {});
  EXPECT_EQ(test_support::ErrorText(second.Listen(stale)), "");
}

}  // namespace
}  // namespace memhp::daemon
