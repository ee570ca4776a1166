// memhp tests — memhpd's WatchHub (daemon/watch_hub.h): what a watcher receives and in which
// order (replayed agent events, then "watching", then every published event in order, stamped),
// the bound (a watcher that does not read gets "watch_dropped" and nothing more), clients that
// left (forgotten, never written to), the most watchers at once, the operation tap, and the same
// against the real ControlServer on a unix socket with a client that leaves or never reads.
#include "daemon/watch_hub.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "daemon/control_server.h"
#include "../support/framed_peer.h"
#include "../support/status_text.h"

namespace memhp::daemon {
namespace {

using memhp::v1::AgentEvent;
using memhp::v1::ControlEnvelope;
using memhp::v1::ControlRequest;
using memhp::v1::ControlResponse;
using memhp::v1::WatchEvent;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using test_support::Peer;
using test_support::RunUntil;

// A watcher whose client we control: what it was sent, whether it is there, how far behind.
struct FakeWatcher {
  std::vector<ControlResponse> received;
  ControlPeer peer{true, 0};

  ControlReply Reply() {
    return ControlReply([this](ControlResponse r) { received.push_back(std::move(r)); },
                        [this] { return peer; });
  }
  // "source/name" of every watch event received, in order.
  // The seq memhpd stamped on every watch event received, in order.
  std::vector<uint64_t> Seqs() const {
    std::vector<uint64_t> seqs;
    for (const auto& r : received) seqs.push_back(r.has_watch_event() ? r.watch_event().seq() : 0);
    return seqs;
  }
  std::vector<std::string> Names() const {
    std::vector<std::string> names;
    for (const auto& r : received) {
      names.push_back(r.has_watch_event() ? r.watch_event().source() + "/" + r.watch_event().name()
                                          : "not-an-event");
    }
    return names;
  }
};

AgentEvent MemoryEvent(uint64_t seq, memhp::v1::MemoryEventKind kind, uint32_t block) {
  AgentEvent event;
  event.set_seq(seq);
  event.mutable_memory()->set_kind(kind);
  event.mutable_memory()->set_block(block);
  return event;
}

class WatchHubTest : public ::testing::Test {
 protected:
  WatchHub hub_{"default", WatchHubOptions{.max_watchers = 3, .max_unsent_bytes = 1000}, [this] { return ++clock_; }};
  uint64_t clock_ = 1000;
};

TEST_F(WatchHubTest, ReplayFirstThenWatchingThenEventsInPublishOrder) {
  FakeWatcher w;
  hub_.Subscribe(w.Reply(), {MemoryEvent(1, memhp::v1::MEMORY_EVENT_KIND_BLOCK_ADDED, 40),
                             MemoryEvent(2, memhp::v1::MEMORY_EVENT_KIND_ONLINE, 40)});
  hub_.PublishQmp("ACPI_DEVICE_OST", R"({"info":{"source":1}})", 42'000'000'000);
  AgentEvent inventory;
  inventory.mutable_inventory_changed()->set_block_size_bytes(128 << 20);
  hub_.PublishAgent(inventory);
  hub_.PublishNotice("agent_lost");
  EXPECT_THAT(w.Names(), ElementsAre("agent/BLOCK_ADDED", "agent/ONLINE", "memhpd/watching", "qmp/ACPI_DEVICE_OST",
                                     "agent/inventory_changed", "memhpd/agent_lost"));
  // Stamped by the hub's clock in order, except QMP's own timestamp, which is kept.
  EXPECT_EQ(w.received[0].watch_event().time_unix_ns(), 1001u);
  EXPECT_EQ(w.received[3].watch_event().time_unix_ns(), 42'000'000'000u);
  EXPECT_LT(w.received[2].watch_event().time_unix_ns(), w.received[4].watch_event().time_unix_ns());
  // Data: QEMU's object as given; the agent event as proto JSON with snake_case names.
  EXPECT_EQ(w.received[3].watch_event().data_json(), R"({"info":{"source":1}})");
  EXPECT_THAT(w.received[1].watch_event().data_json(), HasSubstr(R"("kind":"MEMORY_EVENT_KIND_ONLINE")"));
  EXPECT_THAT(w.received[4].watch_event().data_json(), HasSubstr(R"("block_size_bytes":"134217728")"));
  EXPECT_THAT(w.received[2].watch_event().data_json(), HasSubstr(R"("replayed":2)"));
}

TEST_F(WatchHubTest, EveryWatcherGetsEveryEvent) {
  FakeWatcher a, b;
  hub_.Subscribe(a.Reply(), {});
  hub_.Subscribe(b.Reply(), {});
  hub_.PublishNotice("agent_connected");
  EXPECT_THAT(a.Names(), ElementsAre("memhpd/watching", "memhpd/agent_connected"));
  EXPECT_THAT(b.Names(), ElementsAre("memhpd/watching", "memhpd/agent_connected"));
  EXPECT_EQ(hub_.watcher_count(), 2u);
}

TEST_F(WatchHubTest, AWatcherTooFarBehindGetsOneFinalNoticeAndNothingMore) {
  FakeWatcher slow, fine;
  hub_.Subscribe(slow.Reply(), {});
  hub_.Subscribe(fine.Reply(), {});
  slow.peer.unsent_bytes = 1001;  // over max_unsent_bytes: it does not read
  hub_.PublishNotice("agent_lost");
  hub_.PublishNotice("agent_connected");
  EXPECT_THAT(slow.Names(), ElementsAre("memhpd/watching", "memhpd/watch_dropped"));
  EXPECT_THAT(slow.received.back().watch_event().data_json(), HasSubstr(R"("unsent_bytes":1001)"));
  EXPECT_THAT(fine.Names(), ElementsAre("memhpd/watching", "memhpd/agent_lost", "memhpd/agent_connected"));
  EXPECT_EQ(hub_.dropped_count(), 1u);
  EXPECT_EQ(hub_.watcher_count(), 1u);
}

TEST_F(WatchHubTest, EachStreamIsNumberedFromOneAndNamesItsVm) {
  FakeWatcher a, b;
  WatchHub hub("web-1", WatchHubOptions{.max_watchers = 3, .max_unsent_bytes = 1000}, [] { return uint64_t{7}; });
  memhp::v1::AgentEvent replayed;
  replayed.mutable_memory()->set_kind(memhp::v1::MEMORY_EVENT_KIND_ONLINE);
  hub.Subscribe(a.Reply(), {replayed});
  hub.PublishNotice("agent_lost");
  hub.Subscribe(b.Reply(), {});
  hub.PublishNotice("agent_connected");
  EXPECT_THAT(a.Seqs(), ElementsAre(1u, 2u, 3u, 4u)) << "replayed, watching, agent_lost, agent_connected";
  EXPECT_THAT(b.Seqs(), ElementsAre(1u, 2u)) << "a later watcher's stream starts at 1 too";
  for (const auto& r : a.received) EXPECT_EQ(r.watch_event().vm(), "web-1");
}

TEST_F(WatchHubTest, TheEventADroppedWatcherLostLeavesAGapBeforeTheNotice) {
  FakeWatcher slow;
  hub_.Subscribe(slow.Reply(), {});
  hub_.PublishNotice("agent_connected");
  slow.peer.unsent_bytes = 1001;
  hub_.PublishNotice("agent_lost");  // not delivered: seq 3 is lost
  hub_.PublishNotice("qemu_gone");   // nothing more
  EXPECT_THAT(slow.Names(), ElementsAre("memhpd/watching", "memhpd/agent_connected", "memhpd/watch_dropped"));
  EXPECT_THAT(slow.Seqs(), ElementsAre(1u, 2u, 4u));
  EXPECT_THAT(slow.received.back().watch_event().data_json(), HasSubstr(R"("first_lost_seq":3)"));
}

TEST_F(WatchHubTest, AWatcherAtTheBoundIsStillFed) {
  FakeWatcher w;
  hub_.Subscribe(w.Reply(), {});
  w.peer.unsent_bytes = 1000;
  hub_.PublishNotice("agent_lost");
  EXPECT_THAT(w.Names(), ElementsAre("memhpd/watching", "memhpd/agent_lost"));
}

TEST_F(WatchHubTest, AClientThatLeftIsForgottenAndNeverWrittenTo) {
  FakeWatcher gone, stays;
  hub_.Subscribe(gone.Reply(), {});
  hub_.Subscribe(stays.Reply(), {});
  gone.peer.connected = false;
  hub_.PublishNotice("agent_lost");
  EXPECT_THAT(gone.Names(), ElementsAre("memhpd/watching"));
  EXPECT_EQ(hub_.watcher_count(), 1u);
  EXPECT_EQ(hub_.dropped_count(), 0u);  // leaving is not being dropped
}

TEST_F(WatchHubTest, OneWatcherTooManyIsBusyButLeftClientsFreeTheirPlace) {
  FakeWatcher w[4];
  for (int i = 0; i < 3; ++i) hub_.Subscribe(w[i].Reply(), {});
  hub_.Subscribe(w[3].Reply(), {});
  ASSERT_EQ(w[3].received.size(), 1u);
  EXPECT_EQ(w[3].received[0].error().code(), memhp::v1::ERROR_CODE_BUSY);
  EXPECT_EQ(hub_.watcher_count(), 3u);
  w[0].peer.connected = false;
  FakeWatcher late;
  hub_.Subscribe(late.Reply(), {});
  EXPECT_THAT(late.Names(), ElementsAre("memhpd/watching"));
}

TEST_F(WatchHubTest, NoWatcherMeansNothingIsBuilt) {
  hub_.PublishNotice("agent_lost");
  hub_.PublishAgent(MemoryEvent(1, memhp::v1::MEMORY_EVENT_KIND_ONLINE, 1));
  EXPECT_EQ(clock_, 1000u);  // never stamped
}

TEST_F(WatchHubTest, TapShowsTheOperationAndForwardsEveryAnswerUnchanged) {
  FakeWatcher w, client;
  hub_.Subscribe(w.Reply(), {});
  ControlRequest request;
  request.set_id(9);
  request.mutable_plug()->set_size(256 << 20);
  ControlReply tapped = hub_.TapOperation(request, client.Reply());
  ControlResponse progress;
  progress.mutable_progress()->set_step("online");
  tapped(progress);
  ControlResponse done;
  done.mutable_operation()->set_device_id("dimm1");
  tapped(done);
  EXPECT_THAT(w.Names(), ElementsAre("memhpd/watching", "operation/requested", "operation/progress", "operation/end"));
  EXPECT_THAT(w.received[1].watch_event().data_json(), HasSubstr(R"("size":"268435456")"));
  EXPECT_THAT(w.received[3].watch_event().data_json(), HasSubstr(R"("device_id":"dimm1")"));
  ASSERT_EQ(client.received.size(), 2u);
  EXPECT_EQ(client.received[0].progress().step(), "online");
  EXPECT_EQ(client.received[1].operation().device_id(), "dimm1");
  // The tapped reply asks the real client whether it is there.
  client.peer.connected = false;
  EXPECT_FALSE(tapped.peer().connected);
}

TEST_F(WatchHubTest, TapShowsAnErrorAnswerAsAnEnd) {
  FakeWatcher w, client;
  hub_.Subscribe(w.Reply(), {});
  ControlRequest request;
  request.mutable_unplug()->set_device_id("dimm9");
  ControlReply tapped = hub_.TapOperation(request, client.Reply());
  ControlResponse error;
  error.mutable_error()->set_code(memhp::v1::ERROR_CODE_INVALID_ARGUMENT);
  error.mutable_error()->set_message("no device dimm9");
  tapped(error);
  ASSERT_EQ(w.received.size(), 3u);
  EXPECT_EQ(w.received[2].watch_event().name(), "end");
  EXPECT_THAT(w.received[2].watch_event().data_json(), HasSubstr(R"("kind":"unplug")"));
  EXPECT_THAT(w.received[2].watch_event().data_json(), HasSubstr("no device dimm9"));
  EXPECT_EQ(client.received.at(0).error().message(), "no device dimm9");
}

TEST(WatchHubNamesTest, AgentEventNames) {
  EXPECT_EQ(AgentEventName(MemoryEvent(1, memhp::v1::MEMORY_EVENT_KIND_GOING_OFFLINE, 3)), "GOING_OFFLINE");
  EXPECT_EQ(AgentEventName(MemoryEvent(1, memhp::v1::MEMORY_EVENT_KIND_BLOCK_REMOVED, 3)), "BLOCK_REMOVED");
  AgentEvent event;
  event.mutable_gap()->set_count(4);
  EXPECT_EQ(AgentEventName(event), "gap");
  event.mutable_zone_report();
  EXPECT_EQ(AgentEventName(event), "zone_report");
  EXPECT_EQ(AgentEventName(AgentEvent()), "unknown");
}

TEST(WatchHubNamesTest, JsonStringObjectEscapes) {
  EXPECT_EQ(JsonStringObject({{"reason", "QMP \"closed\"\n"}}), R"({"reason":"QMP \"closed\"\n"})");
}

// ---------------------------------------------------------------------------------------------
// With the real ControlServer: watch requests from socket clients.

int ConnectUnix(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    ADD_FAILURE() << "connect " << path << ": " << std::strerror(errno);
  }
  return fd;
}

class WatchOverSocketTest : public ::testing::Test {
 protected:
  WatchOverSocketTest() : context_(g_main_context_new()) {
    std::string tmpl = "/tmp/memhp-watch-test.XXXXXX";
    EXPECT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    server_ = std::make_unique<ControlServer>(context_, [this](const ControlRequest& request, ControlReply reply) {
      if (request.has_watch()) hub_.Subscribe(std::move(reply), {});
    });
    EXPECT_EQ(test_support::ErrorText(server_->Listen(dir_ + "/control.sock")), "");
  }
  ~WatchOverSocketTest() override {
    server_.reset();
    g_main_context_unref(context_);
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  // Connects, sends a watch request with `id`, waits for the "watching" notice.
  std::unique_ptr<Peer<ControlEnvelope>> Watch(uint64_t id) {
    auto client = std::make_unique<Peer<ControlEnvelope>>(ConnectUnix(dir_ + "/control.sock"));
    ControlEnvelope request;
    request.mutable_request()->set_id(id);
    request.mutable_request()->mutable_watch();
    client->Send(request);
    std::optional<ControlEnvelope> first = client->Next(context_);
    EXPECT_TRUE(first && first->response().watch_event().name() == "watching");
    return client;
  }

  GMainContext* context_;
  std::string dir_;
  WatchHub hub_{"default", WatchHubOptions{.max_watchers = 8, .max_unsent_bytes = 64 * 1024}};
  std::unique_ptr<ControlServer> server_;
};

TEST_F(WatchOverSocketTest, EventsArriveWithTheWatchRequestsIdInOrder) {
  auto client = Watch(17);
  hub_.PublishNotice("agent_connected");
  hub_.PublishQmp("DEVICE_DELETED", R"({"device":"dimm1"})", 0);
  std::optional<ControlEnvelope> a = client->Next(context_);
  std::optional<ControlEnvelope> b = client->Next(context_);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->response().id(), 17u);
  EXPECT_EQ(a->response().watch_event().name(), "agent_connected");
  EXPECT_EQ(b->response().id(), 17u);
  EXPECT_EQ(b->response().watch_event().name(), "DEVICE_DELETED");
}

TEST_F(WatchOverSocketTest, AClientThatDisconnectsIsForgotten) {
  auto client = Watch(1);
  auto other = Watch(2);
  EXPECT_EQ(hub_.watcher_count(), 2u);
  client->Close();
  ASSERT_TRUE(RunUntil(context_, [&] { return server_->client_count() == 1; }));
  hub_.PublishNotice("agent_lost");
  EXPECT_EQ(hub_.watcher_count(), 1u);
  EXPECT_EQ(hub_.dropped_count(), 0u);
  std::optional<ControlEnvelope> event = other->Next(context_);
  ASSERT_TRUE(event);
  EXPECT_EQ(event->response().watch_event().name(), "agent_lost");
}

TEST_F(WatchOverSocketTest, AClientThatNeverReadsIsDroppedAndMemhpdsQueueStaysBounded) {
  auto reader = Watch(1);
  auto sleeper = Watch(2);  // never reads again
  const std::string big(16 * 1024, 'x');
  const std::string data = JsonStringObject({{"filler", big}});
  int published = 0;
  // Socket buffers take a few hundred KiB first; then memhpd's own queue grows to the bound.
  while (hub_.dropped_count() == 0 && published < 2000) {
    hub_.PublishQmp("FILLER", data, 0);
    ++published;
    for (int i = 0; i < 8; ++i) g_main_context_iteration(context_, FALSE);
    reader->Pump();  // the reader keeps up
  }
  EXPECT_EQ(hub_.dropped_count(), 1u) << "after " << published << " events";
  EXPECT_EQ(hub_.watcher_count(), 1u);
  EXPECT_EQ(server_->client_count(), 2u);  // dropped from the stream, not disconnected
  hub_.PublishQmp("AFTER", "{}", 0);
  // The reader saw every event, in order, and the last one.
  size_t filler = 0;
  bool saw_after = false;
  while (std::optional<ControlEnvelope> e = reader->Next(context_)) {
    const std::string& name = e->response().watch_event().name();
    if (name == "FILLER") ++filler;
    if (name == "AFTER") {
      saw_after = true;
      break;
    }
  }
  EXPECT_EQ(filler, static_cast<size_t>(published));
  EXPECT_TRUE(saw_after);
  // The sleeper, when it finally reads, finds a contiguous prefix and the final notice last.
  std::vector<std::string> names;
  while (std::optional<ControlEnvelope> e = sleeper->Next(context_)) {
    names.push_back(e->response().watch_event().name());
    if (names.back() == "watch_dropped") break;
  }
  ASSERT_FALSE(names.empty());
  EXPECT_EQ(names.back(), "watch_dropped");
  EXPECT_LT(names.size(), static_cast<size_t>(published) + 1);
}

}  // namespace
}  // namespace memhp::daemon
