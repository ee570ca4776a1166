// memhp fuzz — writes the seed corpora of tests/fuzz/corpus/ (committed; rerun after a wire
// change):   build/tests/fuzz/fuzz-make-seeds tests/fuzz/corpus
//
// Seeds are small, well-formed examples of what each target's peer sends (real messages built
// with the generated protobuf code, real journal and QMP lines, real memhpctl command lines),
// so the fuzzers start from deep inside the parsers instead of rediscovering the formats.
#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "fuzz_frames.h"
#include "memhp/v1/agent.pb.h"
#include "memhp/v1/control.pb.h"
#include "wire/frame_codec.h"

namespace {

using memhp::fuzz::JoinRecords;
using memhp::v1::AgentEnvelope;

std::string g_root;
int g_written = 0;

void Write(const std::string& target, const std::string& name, const std::string& bytes) {
  const std::string dir = g_root + "/" + target;
  mkdir(g_root.c_str(), 0755);
  mkdir(dir.c_str(), 0755);
  std::ofstream(dir + "/" + name, std::ios::binary) << bytes;
  ++g_written;
}

std::string Str(const AgentEnvelope& e) { return e.SerializeAsString(); }

AgentEnvelope Request(uint64_t id) {
  AgentEnvelope e;
  e.mutable_request()->set_id(id);
  return e;
}

AgentEnvelope AgentHello(uint64_t pid, bool as_response, uint64_t id) {
  AgentEnvelope e;
  memhp::v1::Hello* h = as_response ? e.mutable_response()->mutable_hello()
                                    : e.mutable_request()->mutable_hello();
  if (as_response) {
    e.mutable_response()->set_id(id);
  } else {
    e.mutable_request()->set_id(id);
  }
  h->set_role(memhp::v1::PEER_ROLE_AGENT);
  h->set_protocol(memhp::v1::AGENT_PROTOCOL_V1);
  h->set_software_version("0.1.0");
  h->set_agent_pid(pid);
  h->add_capabilities("online");
  h->mutable_guest()->set_block_size_bytes(uint64_t{128} << 20);
  h->mutable_guest()->set_kernel_release("6.1.0-18-amd64");
  return e;
}

AgentEnvelope MemoryEvent(uint64_t seq, uint32_t block) {
  AgentEnvelope e;
  e.mutable_event()->set_seq(seq);
  auto* m = e.mutable_event()->mutable_memory();
  m->set_kind(memhp::v1::MemoryEventKind(1));
  m->set_block(block);
  m->set_node(0);
  m->set_detail("online");
  return e;
}

void AgentRequestSeeds() {
  const char* t = "agent_request";
  AgentEnvelope hello = Request(1);
  hello.mutable_request()->mutable_hello()->set_role(memhp::v1::PEER_ROLE_HOST);
  hello.mutable_request()->mutable_hello()->set_protocol(memhp::v1::AGENT_PROTOCOL_V1);
  AgentEnvelope ping = Request(2);
  ping.mutable_request()->mutable_ping()->set_payload("ping");
  AgentEnvelope inventory = Request(3);
  inventory.mutable_request()->mutable_inventory();
  Write(t, "hello-ping-inventory", JoinRecords({Str(hello), Str(ping), Str(inventory)}));

  AgentEnvelope online = Request(4);
  for (uint32_t id : {64u, 65u, 70u}) online.mutable_request()->mutable_online()->mutable_selection()->mutable_blocks()->add_ids(id);
  online.mutable_request()->mutable_online()->set_target(memhp::v1::ONLINE_TARGET_MOVABLE);
  Write(t, "online-list", JoinRecords({Str(online)}));

  AgentEnvelope offline = Request(5);
  auto* off = offline.mutable_request()->mutable_offline();
  off->mutable_selection()->mutable_range()->set_start(uint64_t{8} << 27);
  off->mutable_selection()->mutable_range()->set_size(uint64_t{2} << 27);
  off->set_all_or_nothing(true);
  off->set_timeout_ms(500);
  AgentEnvelope amount = Request(6);
  amount.mutable_request()->mutable_offline()->mutable_selection()->mutable_amount()->set_node(0);
  amount.mutable_request()->mutable_offline()->mutable_selection()->mutable_amount()->set_bytes(uint64_t{3} << 27);
  Write(t, "offline-range-amount", JoinRecords({Str(offline), Str(amount)}));

  AgentEnvelope policy = Request(7);
  policy.mutable_request()->mutable_set_policy()->set_policy("auto-movable");
  policy.mutable_request()->mutable_set_policy()->set_movable_ratio_percent(200);
  AgentEnvelope map = Request(8);
  auto* d = map.mutable_request()->mutable_device_map()->add_devices();
  d->set_device_id("dimm1");
  d->set_kind(memhp::v1::MEMORY_DEVICE_KIND_DIMM);
  d->set_start(uint64_t{64} << 27);
  d->set_size(uint64_t{4} << 27);
  auto* v = map.mutable_request()->mutable_device_map()->add_devices();
  v->set_device_id("vmem0");
  v->set_kind(memhp::v1::MEMORY_DEVICE_KIND_VIRTIO_MEM);
  v->set_start(uint64_t{68} << 27);
  v->set_size(uint64_t{4} << 27);
  v->set_node(1);
  v->set_target(memhp::v1::ONLINE_TARGET_KERNEL);
  AgentEnvelope by_policy = Request(9);
  by_policy.mutable_request()->mutable_online()->mutable_selection()->mutable_range()->set_start(uint64_t{64} << 27);
  by_policy.mutable_request()->mutable_online()->mutable_selection()->mutable_range()->set_size(uint64_t{8} << 27);
  AgentEnvelope zones = Request(10);
  zones.mutable_request()->mutable_zone_report();
  Write(t, "policy-map-online-zones", JoinRecords({Str(policy), Str(map), Str(by_policy), Str(zones)}));
  Write(t, "no-id", JoinRecords({Str(Request(0)), Str(Request(11))}));

  // The host's plug intent before the hardware: a DIMM on node 0 with no address yet (it claims
  // the fake guest's offline blocks 64-67 when they are onlined by policy), a virtio-mem device
  // with its region (replacing the first), then the device map that names it and ends it.
  AgentEnvelope dimm_intent = Request(12);
  auto* di = dimm_intent.mutable_request()->mutable_intent();
  di->set_operation_id(5);
  di->set_device_id("dimm2");
  di->set_kind(memhp::v1::MEMORY_DEVICE_KIND_DIMM);
  di->set_node(0);
  di->set_expected_size(uint64_t{2} << 27);
  di->set_target(memhp::v1::ONLINE_TARGET_KERNEL);
  di->set_deadline_ms(30000);
  AgentEnvelope claim = Request(13);
  claim.mutable_request()->mutable_online()->mutable_selection()->mutable_range()->set_start(uint64_t{64} << 27);
  claim.mutable_request()->mutable_online()->mutable_selection()->mutable_range()->set_size(uint64_t{4} << 27);
  AgentEnvelope vmem_intent = Request(14);
  auto* vi = vmem_intent.mutable_request()->mutable_intent();
  vi->set_operation_id(6);
  vi->set_device_id("vmem1");
  vi->set_kind(memhp::v1::MEMORY_DEVICE_KIND_VIRTIO_MEM);
  vi->set_node(1);
  vi->set_start(uint64_t{68} << 27);
  vi->set_size(uint64_t{4} << 27);
  vi->set_expected_size(uint64_t{1} << 27);
  vi->set_target(memhp::v1::ONLINE_TARGET_MOVABLE);
  vi->set_deadline_ms(1000);
  AgentEnvelope map_names_it = Request(15);
  auto* m = map_names_it.mutable_request()->mutable_device_map()->add_devices();
  m->set_device_id("vmem1");
  m->set_kind(memhp::v1::MEMORY_DEVICE_KIND_VIRTIO_MEM);
  m->set_start(uint64_t{68} << 27);
  m->set_size(uint64_t{4} << 27);
  m->set_node(1);
  Write(t, "intent-online-map", JoinRecords({Str(dimm_intent), Str(claim), Str(vmem_intent), Str(map_names_it)}));
}

void AgentChannelSeeds() {
  const char* t = "agent_channel";
  Write(t, "hello-events", JoinRecords({Str(AgentHello(100, false, 1)), Str(MemoryEvent(1, 64)),
                                        Str(MemoryEvent(2, 65)), Str(MemoryEvent(2, 65))}));
  AgentEnvelope gap;
  gap.mutable_event()->set_seq(3);
  gap.mutable_event()->mutable_gap()->set_first_seq(3);
  gap.mutable_event()->mutable_gap()->set_count(10);
  AgentEnvelope inv;
  inv.mutable_event()->set_seq(4);
  auto* i = inv.mutable_event()->mutable_inventory_changed();
  i->set_block_size_bytes(uint64_t{128} << 20);
  i->add_blocks()->set_id(64);
  Write(t, "reply-hello-gap-inventory",
        JoinRecords({Str(AgentHello(200, true, 1)), Str(MemoryEvent(1, 3)), Str(gap), Str(inv),
                     Str(AgentHello(201, false, 7)), Str(MemoryEvent(1, 4))}));
  AgentEnvelope stray;
  stray.mutable_response()->set_id(99);
  stray.mutable_response()->mutable_pong()->set_payload("x");
  AgentEnvelope ack;
  ack.mutable_ack()->set_seq(5);
  AgentEnvelope ping = Request(3);
  ping.mutable_request()->mutable_ping();
  Write(t, "stray-ack-request", JoinRecords({Str(stray), Str(ack), Str(ping), "\x08\x01garbage"}));
}

void FrameDecoderSeeds() {
  const char* t = "frame_decoder";
  Write(t, "two-frames", std::string("\x04\x00", 2) + memhp::wire::EncodeFrame(Str(AgentHello(1, false, 1))) +
                             memhp::wire::EncodeFrame(Str(MemoryEvent(1, 2))));
  memhp::v1::ControlEnvelope c;
  c.mutable_request()->set_id(1);
  c.mutable_request()->mutable_stop()->set_timeout_ms(100);
  Write(t, "garbage-control", std::string("\x02\x07", 2) + "noise" + memhp::wire::EncodeFrame(c.SerializeAsString()));
}

void QmpSeeds() {
  const char* t = "qmp";
  // Byte 0: line bound 4096 (index 2), byte 1: chunk seed.
  const std::string head("\x02\x05", 2);
  Write(t, "greeting-return",
        head + R"({"QMP": {"version": {"qemu": {"micro": 19, "minor": 2, "major": 7}, "package": "Debian 1:7.2+dfsg-7+deb12u18"}, "capabilities": ["oob"]}})" "\r\n"
               R"({"return": {}, "id": 1})" "\r\n");
  Write(t, "event-error",
        head + R"({"timestamp": {"seconds": 1700000000, "microseconds": 12}, "event": "MEMORY_DEVICE_SIZE_CHANGE", "data": {"id": "vmem0", "size": 1073741824, "qom-path": "/machine/peripheral/vmem0"}})" "\r\n"
               "\r\n"
               R"({"id": 7, "error": {"class": "DeviceNotFound", "desc": "Device 'dimm9' not found"}})" "\r\n"
               R"({"event": "STOP", "timestamp": {"seconds": -1, "microseconds": -1}})" "\n");
  Write(t, "memory-devices",
        head + R"({"return": [{"type": "dimm", "data": {"slot": 0, "node": 0, "addr": 4294967296, "memdev": "/objects/mem-dimm1", "id": "dimm1", "hotpluggable": true, "hotplugged": true, "size": 536870912}}, {"type": "virtio-mem", "data": {"size": 0, "max-size": 4294967296, "block-size": 2097152, "memaddr": 8589934592, "requested-size": 0, "node": 1, "id": "vmem0", "memdev": "/objects/mem-vmem0"}}], "id": 3})" "\r\n");
  Write(t, "short-bound", std::string("\x00\x01", 2) + "{\"return\": 1}\r\n{\"id\": 18446744073709551615, \"return\": [1.5e300, -0.0, \"\\u00e9\"]}\n");
  Write(t, "single-text", head + R"({"a": [[1, 2, {"b": null}], true, "x\ny"]})");
  // json-glib reads these but cannot print them back as JSON (qmp_fuzz.cc).
  Write(t, "non-finite", head + R"({"return": [1e999, -1e999], "id": 1})" "\n");
  Write(t, "lone-surrogate", head + R"({"return": ["\uDDDD", "\uD800x"], "id": 2})" "\n");
}

void JournalSeeds() {
  const char* t = "journal";
  Write(t, "plug-done-unplug-open",
        R"({"op":1,"rec":"begin","t":1700000000000000000,"kind":"plug","device":"dimm1","memdev":"mem-dimm1","size":536870912,"node":0,"target":"movable"})" "\n"
        R"({"op":1,"rec":"step","t":1700000000000000001,"step":"device_add","detail":""})" "\n"
        R"({"op":1,"rec":"end","t":1700000000000000002,"outcome":"done","detail":"","recovered":false,"size_reached":536870912})" "\n"
        R"({"op":2,"rec":"begin","t":1700000000000000003,"kind":"unplug","device":"dimm1","memdev":"mem-dimm1","size":536870912,"node":-1,"target":"policy"})" "\n"
        R"({"op":2,"rec":"step","t":1700000000000000004,"step":"offline","detail":"blocks 32-35"})" "\n");
  Write(t, "resize-torn",
        R"({"op":5,"rec":"begin","t":1,"kind":"resize","device":"vmem0","memdev":"","size":1073741824,"node":1,"target":"kernel"})" "\n"
        R"({"op":5,"rec":"end","t":2,"outcome":"partial","detail":"guest full","recovered":true,"size_reached":268435456})" "\n"
        R"({"op":6,"rec":"beg)");
  // An id of UINT64_MAX wrapped next_id below the ids held (the journal target's next-id check).
  Write(t, "id-wraps", "{\"op\":18446744073709551615,\"rec\":\"begin\"}\n{\"op\":-1,\"rec\":\"end\"}\n");
  Write(t, "junk-lines", "not json\n\n[1,2]\n{\"op\":0,\"rec\":\"begin\"}\n{\"op\":3,\"rec\":\"step\"}\n{\"op\":\"4\",\"rec\":\"end\"}\n");
}

void CliSeeds() {
  const char* t = "cli_args";
  auto argv = [](std::vector<std::string> args) {
    std::string out;
    for (const auto& a : args) out += a + std::string(1, '\0');
    return out;
  };
  Write(t, "launch", argv({"--vm", "test", "launch", "--accel", "tcg", "--memory", "512M", "--nodes", "2", "--slots", "4", "--maxmem", "4G", "--audit"}));
  Write(t, "online-range", argv({"online", "--range", "4G:512M", "--zone", "movable", "--json"}));
  Write(t, "offline-size", argv({"--state-root=/tmp/x", "offline", "--size", "256M", "--node", "1", "--block-timeout", "5s", "--all-or-nothing"}));
  Write(t, "plug-unplug", argv({"plug", "--size", "1G", "--node", "0"}));
  Write(t, "resize", argv({"resize", "vmem0", "2G"}));
  Write(t, "qmp-status", argv({"qmp", "query-memory-devices"}));
  Write(t, "audit", argv({"audit", "--arm"}));
  Write(t, "bad", argv({"online", "--range", "1:0", "--zone"}));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_ROOT\n", argv[0]);
    return 2;
  }
  g_root = argv[1];
  AgentRequestSeeds();
  AgentChannelSeeds();
  FrameDecoderSeeds();
  QmpSeeds();
  JournalSeeds();
  CliSeeds();
  std::printf("%d seeds under %s\n", g_written, g_root.c_str());
  return 0;
}
