// fake_ports — the two ports of memhpd's operations (daemon/ports/) as small fakes for tests:
// each call is logged ("hw AddDimm dimm1", "agent SendIntent dimm1") and answered at once from
// what the test set up, so a test checks the order of calls across both ports and the end.
// Answering from inside the call is allowed by the ports' contract only in the sense that the
// runner must cope with it (operation_runner.h queues such answers); real adapters answer later.
#pragma once

#include <string>
#include <vector>

#include "daemon/ports/guest_agent.h"
#include "daemon/ports/memory_devices.h"

namespace memhp::test_support {

class FakeMemoryDevices : public daemon::MemoryDevices {
 public:
  std::vector<std::string>* log = nullptr;
  std::vector<memhp::v1::MemoryDevice> devices;  // what ListDevices answers
  daemon::HardwareFacts facts;                   // what GatherFacts answers (devices copied in)
  memhp::v1::MemoryDevice plugged;               // what AddDimm adds to `devices`

  void ListDevices(daemon::Done<std::vector<memhp::v1::MemoryDevice>> done) override {
    Log("ListDevices");
    done(devices);
  }
  void ListBackends(daemon::Done<std::vector<std::string>> done) override {
    Log("ListBackends");
    done(std::vector<std::string>{});
  }
  void GatherFacts(std::function<void(daemon::HardwareFacts)> done) override {
    Log("GatherFacts");
    daemon::HardwareFacts f = facts;
    f.devices = devices;
    f.devices_known = true;
    done(f);
  }
  void AddBackend(const daemon::DimmSpec& dimm, daemon::Done<void> done) override {
    Log("AddBackend " + dimm.backend_id);
    done(OkStatus());
  }
  void AddDimm(const daemon::DimmSpec& dimm, daemon::Done<void> done) override {
    Log("AddDimm " + dimm.device_id);
    devices.push_back(plugged);
    done(OkStatus());
  }
  void DeleteDimm(const std::string& id, daemon::Done<void> done) override {
    Log("DeleteDimm " + id);
    done(OkStatus());
  }
  void DeleteBackend(const std::string& id, daemon::Done<void> done) override {
    Log("DeleteBackend " + id);
    done(OkStatus());
  }
  void SetRequestedSize(const std::string& id, uint64_t size, daemon::Done<void> done) override {
    Log("SetRequestedSize " + id + " " + std::to_string(size));
    done(OkStatus());
  }
  void CheckAlive(daemon::Done<void> done) override {
    Log("CheckAlive");
    done(OkStatus());
  }
  [[nodiscard]] bool connected() const override { return true; }

 private:
  void Log(const std::string& what) {
    if (log) log->push_back("hw " + what);
  }
};

class FakeGuestAgent : public daemon::GuestAgent {
 public:
  std::vector<std::string>* log = nullptr;
  bool is_connected = true;
  memhp::v1::Inventory inventory;  // what Inventory answers
  memhp::v1::OnlineTarget intent_target = memhp::v1::ONLINE_TARGET_UNSPECIFIED;  // the last intent's
  memhp::v1::UnplugEstimate estimate;            // what Estimate answers
  memhp::v1::UnplugEstimateRequest last_estimate;  // what Estimate was asked last

  [[nodiscard]] bool connected() const override { return is_connected; }
  [[nodiscard]] uint64_t block_size() const override { return uint64_t{128} << 20; }
  void Inventory(daemon::Done<memhp::v1::Inventory> done) override {
    Log("Inventory");
    done(inventory);
  }
  void ZoneReport(daemon::Done<memhp::v1::ZoneReport> done) override {
    Log("ZoneReport");
    done(memhp::v1::ZoneReport());
  }
  void Estimate(const memhp::v1::UnplugEstimateRequest& request,
                daemon::Done<memhp::v1::UnplugEstimate> done) override {
    Log("Estimate");
    last_estimate = request;
    done(estimate);
  }
  void Policy(const memhp::v1::SetPolicyRequest& request, daemon::Done<memhp::v1::PolicyState> done) override {
    Log("Policy " + request.policy());
    memhp::v1::PolicyState state;
    state.set_policy(request.policy().empty() ? "auto-movable" : request.policy());
    done(state);
  }
  void Online(const memhp::v1::OnlineRequest&, std::chrono::milliseconds,
              daemon::Done<memhp::v1::BlockOpResult> done) override {
    Log("Online");
    memhp::v1::BlockOpResult r;
    r.set_all_done(true);
    done(r);
  }
  void Offline(const memhp::v1::OfflineRequest&, std::chrono::milliseconds,
               daemon::Done<memhp::v1::BlockOpResult> done) override {
    Log("Offline");
    memhp::v1::BlockOpResult r;
    r.set_all_done(true);
    done(r);
  }
  void SendDeviceMap(const memhp::v1::DeviceMap& map, daemon::Done<uint32_t> done) override {
    Log("SendDeviceMap " + std::to_string(map.devices_size()));
    done(static_cast<uint32_t>(map.devices_size()));
  }
  void SendIntent(const memhp::v1::PlugIntent& intent, daemon::Done<void> done) override {
    Log("SendIntent " + intent.device_id() + " op " + std::to_string(intent.operation_id()));
    intent_target = intent.target();
    done(OkStatus());
  }

 private:
  void Log(const std::string& what) {
    if (log) log->push_back("agent " + what);
  }
};

}  // namespace memhp::test_support
