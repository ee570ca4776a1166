// The audit wire: AuditService's answers (pure), and AuditControlServer on a real unix socket in
// a temp folder, spoken to with the memhp framing by a plain blocking client.
#include "audit_control.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <json-glib/json-glib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "wire/frame_codec.h"

namespace memhp::audit {
namespace {

namespace v1 = memhp::v1;
using ::testing::HasSubstr;

constexpr uint64_t kGiB = uint64_t{1} << 30;

class FakeClock final : public Clock {
 public:
  uint64_t NowNs() override { return 42; }
};

v1::AuditRequest SetRanges(uint64_t id, std::vector<v1::AuditRange> ranges) {
  v1::AuditRequest request;
  request.set_id(id);
  for (auto& r : ranges) *request.mutable_set_ranges()->add_ranges() = r;
  return request;
}

v1::AuditRange ProtoRange(uint64_t start, uint64_t size, v1::AuditRangeState state) {
  v1::AuditRange r;
  r.set_start(start);
  r.set_size(size);
  r.set_state(state);
  r.set_label("dimm0");
  return r;
}

class AuditServiceTest : public ::testing::Test {
 protected:
  AuditServiceTest() : core_(Options(), &clock_), service_(&core_, [this](bool armed) {
    arm_calls_.push_back(armed);
    core_.SetArmed(armed);
  }) {}
  static CoreOptions Options() {
    CoreOptions options;
    options.vcpus = 2;
    return options;
  }

  FakeClock clock_;
  AuditCore core_;
  std::vector<bool> arm_calls_;
  AuditService service_;
};

TEST_F(AuditServiceTest, SetRangesThenReport) {
  v1::AuditResponse r = service_.Handle(
      SetRanges(7, {ProtoRange(4 * kGiB, 256 << 20, v1::AUDIT_RANGE_STATE_UNPLUGGED)}));
  EXPECT_EQ(r.id(), 7u);
  EXPECT_FALSE(r.has_error()) << r.error().message();
  EXPECT_EQ(r.ranges(), 1u);

  core_.Record(1, 4 * kGiB + 0x2000, Access::kWrite);
  v1::AuditRequest report;
  report.set_id(8);
  report.mutable_report()->set_include_json(true);
  r = service_.Handle(report);
  ASSERT_TRUE(r.has_report());
  const v1::AuditReport& rep = r.report();
  EXPECT_EQ(rep.block_size(), 128u << 20);
  EXPECT_EQ(rep.vcpus(), 2u);
  ASSERT_EQ(rep.blocks_size(), 2);
  EXPECT_EQ(rep.blocks(0).start(), 4 * kGiB);
  EXPECT_EQ(rep.blocks(0).writes(), 1u);
  EXPECT_EQ(rep.blocks(0).state(), v1::AUDIT_RANGE_STATE_UNPLUGGED);
  EXPECT_FALSE(rep.blocks(0).touched());
  ASSERT_EQ(rep.violations_size(), 1);
  EXPECT_EQ(rep.violations(0).page(), 4 * kGiB + 0x2000);
  EXPECT_EQ(rep.violations(0).vcpu(), 1u);
  EXPECT_EQ(rep.violations(0).access(), v1::AUDIT_ACCESS_WRITE);
  EXPECT_EQ(rep.violations(0).first_monotonic_ns(), 42u);
  EXPECT_EQ(rep.violations_total(), 1u);
  EXPECT_THAT(rep.json(), HasSubstr("\"records\""));
}

TEST_F(AuditServiceTest, PluginStartIsHonoured) {
  v1::AuditRange range = ProtoRange(4 * kGiB, 128 << 20, v1::AUDIT_RANGE_STATE_ONLINE);
  range.set_plugin_start(0);  // explicitly zero: not the same as unset
  ASSERT_FALSE(service_.Handle(SetRanges(1, {range})).has_error());
  core_.Record(0, 0x1000, Access::kRead);
  const Snapshot s = core_.TakeSnapshot();
  EXPECT_EQ(s.blocks.at(0).reads, 1u);
  EXPECT_EQ(s.outside_accesses, 0u);
}

TEST_F(AuditServiceTest, ArmCallsTheHookAndAnswersTheState) {
  v1::AuditRequest arm;
  arm.set_id(3);
  arm.mutable_arm()->set_armed(true);
  v1::AuditResponse r = service_.Handle(arm);
  EXPECT_TRUE(r.armed());
  arm.mutable_arm()->set_armed(false);
  r = service_.Handle(arm);
  EXPECT_EQ(r.result_case(), v1::AuditResponse::kArmed);
  EXPECT_FALSE(r.armed());
  EXPECT_EQ(arm_calls_, (std::vector<bool>{true, false}));
}

TEST_F(AuditServiceTest, BadRequestsAreAnsweredAndChangeNothing) {
  ASSERT_FALSE(service_.Handle(SetRanges(1, {ProtoRange(4 * kGiB, 128 << 20,
                                                        v1::AUDIT_RANGE_STATE_ONLINE)}))
                   .has_error());
  v1::AuditResponse r = service_.Handle(SetRanges(0, {}));
  EXPECT_EQ(r.error().code(), v1::ERROR_CODE_MALFORMED);

  v1::AuditRequest empty;
  empty.set_id(2);
  r = service_.Handle(empty);
  EXPECT_EQ(r.id(), 2u);
  EXPECT_EQ(r.error().code(), v1::ERROR_CODE_UNSUPPORTED);

  r = service_.Handle(SetRanges(3, {ProtoRange(8 * kGiB, 1, v1::AUDIT_RANGE_STATE_UNSPECIFIED)}));
  EXPECT_EQ(r.error().code(), v1::ERROR_CODE_INVALID_ARGUMENT);
  EXPECT_THAT(r.error().message(), HasSubstr("no valid state"));

  r = service_.Handle(SetRanges(4, {ProtoRange(8 * kGiB, 2 * kGiB, v1::AUDIT_RANGE_STATE_ONLINE),
                                    ProtoRange(9 * kGiB, kGiB, v1::AUDIT_RANGE_STATE_OFFLINE)}));
  EXPECT_EQ(r.error().code(), v1::ERROR_CODE_INVALID_ARGUMENT);
  EXPECT_THAT(r.error().message(), HasSubstr("overlap"));

  std::vector<v1::AuditRange> many;
  for (int i = 0; i <= kMaxAuditRanges; ++i) {
    many.push_back(ProtoRange(uint64_t(i) * kGiB, 4096, v1::AUDIT_RANGE_STATE_ONLINE));
  }
  r = service_.Handle(SetRanges(5, many));
  EXPECT_EQ(r.error().code(), v1::ERROR_CODE_TOO_LARGE);

  EXPECT_EQ(core_.range_count(), 1u);
  EXPECT_EQ(AuditService::Malformed().error().code(), v1::ERROR_CODE_MALFORMED);
}

// A blocking client of the memhp framing.
class Client {
 public:
  explicit Client(const std::string& path) {
    fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
    timeval tv{10, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  }
  ~Client() { close(fd_); }
  bool connected() const { return connected_; }

  bool SendRaw(const std::string& bytes) {
    return write(fd_, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size());
  }
  std::optional<v1::AuditResponse> Call(const v1::AuditRequest& request) {
    if (!SendRaw(wire::EncodeMessage(request))) return std::nullopt;
    return Receive();
  }
  std::optional<v1::AuditResponse> Receive() {
    for (;;) {
      if (std::optional<std::string> payload = decoder_.Next()) {
        v1::AuditResponse response;
        if (!response.ParseFromString(*payload)) return std::nullopt;
        return response;
      }
      char buf[4096];
      const ssize_t n = read(fd_, buf, sizeof(buf));
      if (n <= 0) return std::nullopt;
      decoder_.Feed(std::string_view(buf, static_cast<size_t>(n)));
    }
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
  wire::FrameDecoder decoder_;
};

class AuditServerTest : public AuditServiceTest {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/memhp-audit-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/audit.sock";
  }
  void TearDown() override {
    unlink(path_.c_str());
    rmdir(dir_.c_str());
  }
  std::string dir_;
  std::string path_;
};

TEST_F(AuditServerTest, ServesRequestsOverTheSocket) {
  AuditControlServer server(&service_);
  ASSERT_EQ(server.Start(path_), "");
  struct stat st {};
  ASSERT_EQ(stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  Client a(path_);
  Client b(path_);
  ASSERT_TRUE(a.connected() && b.connected());
  std::optional<v1::AuditResponse> r =
      a.Call(SetRanges(11, {ProtoRange(4 * kGiB, 128 << 20, v1::AUDIT_RANGE_STATE_OFFLINE)}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->id(), 11u);
  EXPECT_EQ(r->ranges(), 1u);

  core_.Record(0, 4 * kGiB + 8, Access::kRead);
  v1::AuditRequest report;
  report.set_id(12);
  report.mutable_report()->set_include_json(true);
  r = b.Call(report);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->report().violations_total(), 1u);
  JsonParser* parser = json_parser_new();
  EXPECT_TRUE(json_parser_load_from_data(parser, r->report().json().c_str(), -1, nullptr));
  g_object_unref(parser);

  // A frame that is not an AuditRequest gets a MALFORMED answer; the stream goes on.
  ASSERT_TRUE(a.SendRaw(wire::EncodeFrame("\xff\xff\xff")));
  r = a.Receive();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->error().code(), v1::ERROR_CODE_MALFORMED);
  v1::AuditRequest arm;
  arm.set_id(13);
  arm.mutable_arm()->set_armed(true);
  r = a.Call(arm);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->armed());

  server.Stop();
  EXPECT_NE(stat(path_.c_str(), &st), 0);  // the socket file is gone
  EXPECT_FALSE(a.Receive());               // and the client was closed
}

TEST_F(AuditServerTest, ReplacesAStaleSocketButNotOtherFiles) {
  {
    AuditControlServer first(&service_);
    ASSERT_EQ(first.Start(path_), "");
    // Leave the file behind as a crashed QEMU would.
    const int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, (dir_ + "/stale.sock").c_str(), sizeof(addr.sun_path) - 1);
    ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    close(fd);
  }
  const std::string stale = dir_ + "/stale.sock";
  AuditControlServer server(&service_);
  EXPECT_EQ(server.Start(stale), "");
  server.Stop();

  const std::string regular = dir_ + "/regular";
  FILE* f = std::fopen(regular.c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fclose(f);
  AuditControlServer refused(&service_);
  EXPECT_THAT(refused.Start(regular), HasSubstr("bind/listen"));
  unlink(regular.c_str());
}

TEST_F(AuditServerTest, StopRightAfterStartDoesNotHang) {
  for (int i = 0; i < 20; ++i) {
    AuditControlServer server(&service_);
    ASSERT_EQ(server.Start(path_), "");
  }
}

}  // namespace
}  // namespace memhp::audit
