// memhpd against a QEMU whose QMP stream turns hostile, end to end: the real QEMU 7.2 (-S, no
// guest), the real memhpd started by `memhpctl attach`, and a QmpProxy between them that
// forwards QMP both ways and injects what a broken or hostile QEMU could write — 100 000 '['
// at the greeting and while running, a 15 MiB array of zeros as an answer, an array as the
// answer to qmp_capabilities, answers with ids memhpd never sent.
//
// What must hold (docs/reliability.md, "QMP input bounds"): memhpd never crashes; at the
// handshake it ends cleanly with its pid file and control socket removed and memhpctl attach
// says why; while running it drops the line, counts it and still answers status; its peak RSS
// (VmHWM) stays under kPeakRssBound; and a status whose QMP part fails says so (exit 1, an
// error naming QMP and what went wrong), in text and with --json.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "../vm/memhpctl_runner.h"
#include "qemu_process.h"
#include "qmp_proxy.h"

namespace memhp::qemu_test {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::Not;
using vmtest::CliRun;
using vmtest::Json;
using vmtest::Memhpctl;

constexpr char kVm[] = "qb";
// memhpd attached to an idle QEMU peaks at ~8 MB (VmHWM, measured). The bound leaves room for
// the largest input the QMP bounds let through — a 4 MiB line buffered, then parsed into at
// most 256 Ki json-glib nodes (~21 MB) and copied once — and is far below the 647 MB a 15 MiB
// array of zeros cost before the bounds. Under AddressSanitizer (the build-asan run) every
// allocation carries redzones and freed memory waits in ASan's quarantine, which measured 168 MB
// for the largest line; the bound is tripled there, still a quarter of the 647 MB.
#if defined(__SANITIZE_ADDRESS__)
constexpr long kPeakRssBoundKb = 3 * 100 * 1024;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr long kPeakRssBoundKb = 3 * 100 * 1024;
#else
constexpr long kPeakRssBoundKb = 100 * 1024;
#endif
#else
constexpr long kPeakRssBoundKb = 100 * 1024;
#endif

// "{"return": [0,0,...], "id": ID}" of about `bytes` bytes.
std::string ZerosAnswer(int64_t id, size_t bytes) {
  std::string line = R"({"return": [0)";
  line.reserve(bytes + 64);
  while (line.size() < bytes) line += ",0";
  return line + R"(], "id": )" + std::to_string(id) + "}";
}

long ReadPidFile(const std::string& path) {
  std::ifstream in(path);
  long pid = 0;
  in >> pid;
  return pid;
}

// VmHWM of `pid` in kB, or -1.
long PeakRssKb(long pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

bool Exists(const std::string& path) { return access(path.c_str(), F_OK) == 0; }

class QmpBoundsQemuTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    qemu_ = QemuProcess::Start(BaseQemuArgs(), 20000ms, &error);
    ASSERT_NE(qemu_, nullptr) << error;
    proxy_ = QmpProxy::Start(qemu_->dir() + "/proxy.sock", qemu_->qmp_socket_path(), &error);
    ASSERT_NE(proxy_, nullptr) << error;
    char root[] = "/tmp/memhp-qmpb-XXXXXX";
    ASSERT_NE(mkdtemp(root), nullptr);
    root_ = root;
    ctl_ = std::make_unique<Memhpctl>(root_);
    state_ = root_ + "/" + kVm;
  }

  void TearDown() override {
    // memhpd was started by memhpctl, not by us: end it by its pid file, and wait until it is gone.
    if (const long pid = ReadPidFile(state_ + "/memhpd.pid"); pid > 0 && kill(pid, SIGTERM) == 0) {
      for (int i = 0; i < 200 && kill(pid, 0) == 0; ++i) std::this_thread::sleep_for(25ms);
      if (kill(pid, 0) == 0) kill(pid, SIGKILL);
    }
    proxy_.reset();
    qemu_.reset();
    const std::string rm = "rm -rf '" + root_ + "'";
    if (!root_.empty()) (void)!system(rm.c_str());
  }

  CliRun Ctl(std::vector<std::string> args) {
    args.insert(args.begin(), {"--vm", kVm});
    return ctl_->Run(args);
  }
  CliRun Attach() { return Ctl({"attach", "--qmp", proxy_->path()}); }
  long MemhpdPid() const { return ReadPidFile(state_ + "/memhpd.pid"); }
  std::string Log() const {
    std::ifstream in(state_ + "/memhpd.log");
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

  // An attach that must fail at the handshake: memhpd ends by itself, with its files removed.
  void ExpectAttachFailsCleanly(const std::string& why) {
    const CliRun attach = Attach();
    EXPECT_EQ(attach.exit_code, 1) << attach.out << attach.err;
    EXPECT_THAT(attach.err, HasSubstr("memhpd did not start"));
    EXPECT_THAT(attach.err, HasSubstr(why));
    EXPECT_THAT(Log(), HasSubstr("memhpd: QMP " + proxy_->path() + ": QMP protocol error: " + why));
    EXPECT_FALSE(Exists(state_ + "/memhpd.pid")) << "memhpd left its pid file";
    EXPECT_FALSE(Exists(state_ + "/control.sock")) << "memhpd left its control socket";
  }

  std::unique_ptr<QemuProcess> qemu_;
  std::unique_ptr<QmpProxy> proxy_;
  std::unique_ptr<Memhpctl> ctl_;
  std::string root_;
  std::string state_;
};

TEST_F(QmpBoundsQemuTest, DeeplyNestedGreetingFailsTheAttachCleanly) {
  proxy_->ReplaceGreeting(std::string(100000, '['));
  ExpectAttachFailsCleanly("JSON nesting deeper than 1024 levels");
}

TEST_F(QmpBoundsQemuTest, ArrayAsTheAnswerToQmpCapabilitiesFailsTheAttachCleanly) {
  proxy_->SetAnswer([](std::string_view command, int64_t id) -> std::optional<std::string> {
    if (command != "qmp_capabilities") return std::nullopt;
    return R"({"return": [0, 0, 0], "id": )" + std::to_string(id) + "}";
  });
  ExpectAttachFailsCleanly("qmp_capabilities answered JsonArray");
}

TEST_F(QmpBoundsQemuTest, AnswerThatIsNotAnObjectFailsTheAttachCleanly) {
  proxy_->SetAnswer([](std::string_view command, int64_t) -> std::optional<std::string> {
    if (command != "qmp_capabilities") return std::nullopt;
    return "[0, 0, 0]";
  });
  ExpectAttachFailsCleanly("not a JSON object");
}

TEST_F(QmpBoundsQemuTest, HostileLinesWhileRunningAreDroppedAndStatusStillAnswers) {
  const CliRun attach = Attach();
  ASSERT_EQ(attach.exit_code, 0) << attach.err;
  const long pid = MemhpdPid();
  ASSERT_GT(pid, 0);

  proxy_->Inject(std::string(100000, '[') + "\r\n");
  proxy_->Inject(R"({"return": {}, "id": "not ours"})" "\r\n");
  const CliRun status = Ctl({"--json", "status"});
  ASSERT_EQ(status.exit_code, 0) << status.out << status.err << Log();
  Json json = vmtest::ResultOf(status);  // the envelope checked, its result read
  ASSERT_TRUE(json.ok()) << status.out;
  EXPECT_TRUE(json.Bool("qemu.connected")) << status.out;
  EXPECT_EQ(json.String("qemu.run_state"), "prelaunch") << status.out;
  EXPECT_EQ(json.Length("devices"), 1u) << status.out;  // vm0, the virtio-mem device
  EXPECT_THAT(Log(), HasSubstr("line dropped (1 so far): JSON nesting deeper than 1024"));

  // The largest legitimate answer still passes through memhpd whole.
  const CliRun schema = Ctl({"qmp", "query-qmp-schema"});
  ASSERT_EQ(schema.exit_code, 0) << schema.err;
  EXPECT_GT(schema.out.size(), 150000u);
  EXPECT_TRUE(Json(schema.out).ok());

  const long peak = PeakRssKb(pid);
  EXPECT_GT(peak, 0);
  EXPECT_LT(peak, kPeakRssBoundKb);
  RecordProperty("memhpd_vmhwm_kb", std::to_string(peak));
}

TEST_F(QmpBoundsQemuTest, AHugeArrayAnswerIsRefusedWithBoundedMemoryAndStatusFailsClearly) {
  const CliRun attach = Attach();
  ASSERT_EQ(attach.exit_code, 0) << attach.err;
  const long pid = MemhpdPid();
  ASSERT_GT(pid, 0);

  // 15 MiB: under the old 16 MiB line bound, 7.8 M zeros.
  proxy_->SetAnswer([](std::string_view command, int64_t id) -> std::optional<std::string> {
    if (command != "query-memory-devices") return std::nullopt;
    return ZerosAnswer(id, size_t{15} << 20);
  });
  const CliRun broken = Ctl({"status"});
  EXPECT_EQ(broken.exit_code, 1) << broken.out << broken.err;
  EXPECT_THAT(broken.err, HasSubstr("QMP is broken: query-memory-devices: no QMP reply"));
  EXPECT_THAT(broken.err, HasSubstr("lines from QEMU were dropped as protocol errors"));
  EXPECT_THAT(broken.out, Not(HasSubstr("memory:")));  // no made-up "base 0 B"

  // A 2 MiB array: under the byte bound, over the value bound.
  proxy_->SetAnswer([](std::string_view command, int64_t id) -> std::optional<std::string> {
    if (command != "query-memory-devices") return std::nullopt;
    return ZerosAnswer(id, size_t{2} << 20);
  });
  const CliRun many = Ctl({"status"});
  EXPECT_EQ(many.exit_code, 1) << many.out << many.err;
  EXPECT_THAT(Log(), HasSubstr("JSON text with more than 262144 values"));

  proxy_->SetAnswer(nullptr);
  const CliRun healthy = Ctl({"status"});
  EXPECT_EQ(healthy.exit_code, 0) << healthy.err << Log();
  EXPECT_THAT(Log(), HasSubstr("-byte bound"));

  const long peak = PeakRssKb(pid);
  EXPECT_GT(peak, 0);
  EXPECT_LT(peak, kPeakRssBoundKb);
  RecordProperty("memhpd_vmhwm_kb", std::to_string(peak));
}

TEST_F(QmpBoundsQemuTest, TheLargestAnswerWithinTheBoundsIsParsedWithBoundedMemory) {
  const CliRun attach = Attach();
  ASSERT_EQ(attach.exit_code, 0) << attach.err;
  const long pid = MemhpdPid();
  ASSERT_GT(pid, 0);
  // Just under both bounds at once: 262 000 values, 4 MiB of text. json-glib builds all of it
  // (the status then fails: the entries are not objects), so this is what memhpd's heap can be
  // made to hold by one line.
  proxy_->SetAnswer([](std::string_view command, int64_t id) -> std::optional<std::string> {
    if (command != "query-memory-devices") return std::nullopt;
    std::string line = R"({"return": [)";
    for (int i = 0; i < 262000; ++i) line += i == 0 ? R"("xxxxxxxxxxx")" : R"(,"xxxxxxxxxxx")";
    line += R"(], "id": )" + std::to_string(id) + "}";
    line.insert(line.size() - 20, std::string((size_t{4} << 20) - 64 - line.size(), ' '));
    return line;
  });
  const CliRun status = Ctl({"status"});
  EXPECT_EQ(status.exit_code, 1) << status.out << status.err;
  EXPECT_THAT(status.err, HasSubstr("query-memory-devices: entry 0 is not an object"));
  const long peak = PeakRssKb(pid);
  EXPECT_GT(peak, 0);
  EXPECT_LT(peak, kPeakRssBoundKb);
  RecordProperty("memhpd_vmhwm_kb", std::to_string(peak));
}

TEST_F(QmpBoundsQemuTest, RepliesWithWrongIdsMakeStatusFailClearly) {
  const CliRun attach = Attach();
  ASSERT_EQ(attach.exit_code, 0) << attach.err;
  // QEMU answers every query, but never with the id it was given.
  proxy_->SetAnswer([](std::string_view command, int64_t id) -> std::optional<std::string> {
    if (command.rfind("query-", 0) != 0) return std::nullopt;
    return R"({"return": {}, "id": )" + std::to_string(id + 1000) + "}";
  });
  const CliRun text = Ctl({"status"});
  EXPECT_EQ(text.exit_code, 1) << text.out << text.err;
  EXPECT_THAT(text.err, HasSubstr("QMP is broken: "));
  EXPECT_THAT(text.err, HasSubstr("no QMP reply to query-status"));
  EXPECT_THAT(text.err, HasSubstr("within 3000 ms"));
  EXPECT_THAT(text.err, HasSubstr("replies with ids memhp did not send"));
  EXPECT_THAT(text.out, Not(HasSubstr("base 0 B")));

  const CliRun json_run = Ctl({"--json", "status"});
  EXPECT_EQ(json_run.exit_code, 1) << json_run.out << json_run.err;
  Json json(json_run.out);
  ASSERT_TRUE(json.ok()) << json_run.out;
  EXPECT_FALSE(json.Bool("ok"));
  EXPECT_EQ(json.Int("exit_code"), 1);
  EXPECT_THAT(json.String("error"), HasSubstr("QMP is broken: "));
  EXPECT_THAT(json.String("error"), HasSubstr("replies with ids memhp did not send"));

  // memhpd carried on: with QMP answering again, so does status.
  proxy_->SetAnswer(nullptr);
  EXPECT_EQ(Ctl({"status"}).exit_code, 0) << Log();
}

TEST_F(QmpBoundsQemuTest, WrongShapedAnswersMakeStatusFailInsteadOfDefaults) {
  const CliRun attach = Attach();
  ASSERT_EQ(attach.exit_code, 0) << attach.err;
  proxy_->SetAnswer([](std::string_view command, int64_t id) -> std::optional<std::string> {
    if (command == "query-memory-size-summary") return R"({"return": [], "id": )" + std::to_string(id) + "}";
    if (command == "query-memory-devices")
      return R"({"return": [{"type": "virtio-mem", "data": {}}], "id": )" + std::to_string(id) + "}";
    return std::nullopt;
  });
  const CliRun status = Ctl({"status"});
  EXPECT_EQ(status.exit_code, 1) << status.out << status.err;
  EXPECT_THAT(status.err, HasSubstr("query-memory-size-summary: the return value is not an object"));
  EXPECT_THAT(status.err, HasSubstr("query-memory-devices: entry 0 (virtio-mem): \"data\" needs"));
}

}  // namespace
}  // namespace memhp::qemu_test
