// Tests for daemon/libvirt/: the live domain XML -> memhp's memory facts, the device XML memhp
// sends, the bounded XML tree, and the computed virtio-mem addresses.
//
// "captured" fixtures are what libvirt 9.0.0 (Debian 12) gave for `virsh dumpxml` of a running
// TCG domain (q35, 2 NUMA cells of 256 MiB, maxMemory 16 GiB with 8 slots, a 2 GiB virtio-mem
// device on node 1, the agent channel) and after `virsh attach-device --live` of a 256 MiB
// DIMM with alias ua-dimm1; trimmed to the elements memhp reads and a few it must skip.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "daemon/libvirt/device_memory_layout.h"
#include "daemon/libvirt/domain_xml.h"
#include "daemon/libvirt/xml_tree.h"

namespace memhp::daemon::libvirt {
namespace {

using ::testing::HasSubstr;

constexpr char kCaptured[] = R"(<domain type='qemu' id='1'>
  <name>memhp-explore</name>
  <uuid>a739ecbe-16b3-412c-ab76-203feda1cbe4</uuid>
  <maxMemory slots='8' unit='KiB'>16777216</maxMemory>
  <memory unit='KiB'>2883584</memory>
  <currentMemory unit='KiB'>524288</currentMemory>
  <vcpu placement='static'>2</vcpu>
  <os>
    <type arch='x86_64' machine='pc-q35-7.2'>hvm</type>
    <cmdline>console=ttyS0 memhp_default_state=offline</cmdline>
  </os>
  <features><acpi/></features>
  <cpu mode='custom' match='exact' check='full'>
    <model fallback='forbid'>qemu64</model>
    <numa>
      <cell id='0' cpus='0' memory='262144' unit='KiB'/>
      <cell id='1' cpus='1' memory='262144' unit='KiB'/>
    </numa>
  </cpu>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <channel type='unix'>
      <source mode='bind' path='/var/lib/libvirt/qemu/channel/target/domain-1-memhp-explore/org.memhp.agent.0'/>
      <target type='virtio' name='org.memhp.agent.0' state='connected'/>
      <alias name='channel0'/>
      <address type='virtio-serial' controller='0' bus='0' port='1'/>
    </channel>
    <memballoon model='virtio'><alias name='balloon0'/></memballoon>
    <memory model='virtio-mem'>
      <target>
        <size unit='KiB'>2097152</size>
        <node>1</node>
        <block unit='KiB'>2048</block>
        <requested unit='KiB'>524288</requested>
        <current unit='KiB'>262144</current>
      </target>
      <alias name='ua-vmem1'/>
      <address type='pci' domain='0x0000' bus='0x04' slot='0x00' function='0x0'/>
    </memory>
    <memory model='dimm'>
      <target>
        <size unit='KiB'>262144</size>
        <node>1</node>
      </target>
      <alias name='ua-dimm1'/>
      <address type='dimm' slot='0' base='0x180000000'/>
    </memory>
  </devices>
</domain>)";

DomainMemory ParseOk(const std::string& xml) {
  Result<DomainMemory> parsed = ParseDomainMemory(xml);
  EXPECT_TRUE(parsed.ok()) << (parsed.ok() ? "" : parsed.error().message);
  return parsed.ok() ? std::move(parsed).value() : DomainMemory{};
}

TEST(DomainXml, CapturedDomainGivesTheFactsAdmissionNeeds) {
  const DomainMemory d = ParseOk(kCaptured);
  EXPECT_EQ(d.name, "memhp-explore");
  EXPECT_EQ(d.uuid, "a739ecbe-16b3-412c-ab76-203feda1cbe4");
  EXPECT_EQ(d.max_memory, 16ull << 30);
  EXPECT_EQ(d.slots, 8u);
  EXPECT_EQ(d.node_count, 2u);
  EXPECT_EQ(d.base_memory, 512ull << 20);
  EXPECT_EQ(d.plugged_memory, (256ull << 20) + (256ull << 20));
  EXPECT_TRUE(d.has_agent_channel);
  EXPECT_TRUE(d.agent_channel_connected);
  EXPECT_TRUE(d.problems.empty());
  ASSERT_EQ(d.devices.size(), 2u);
  ASSERT_EQ(d.aliases.size(), 2u);

  const auto& vmem = d.devices[0];
  EXPECT_EQ(vmem.kind(), memhp::v1::MEMORY_DEVICE_KIND_VIRTIO_MEM);
  EXPECT_EQ(vmem.id(), "vmem1");
  EXPECT_EQ(d.aliases[0], "ua-vmem1");
  EXPECT_EQ(vmem.node(), 1);
  EXPECT_EQ(vmem.max_size(), 2ull << 30);
  EXPECT_EQ(vmem.block_size(), 2ull << 20);
  EXPECT_EQ(vmem.requested_size(), 512ull << 20);
  EXPECT_EQ(vmem.size(), 256ull << 20);
  // QEMU 7.2 put this device at 4 GiB (query-memory-devices "memaddr": 4294967296, captured in
  // qmp_memory_devices_test.cc for the same layout).
  EXPECT_EQ(vmem.address(), 0x100000000ull);

  const auto& dimm = d.devices[1];
  EXPECT_EQ(dimm.kind(), memhp::v1::MEMORY_DEVICE_KIND_DIMM);
  EXPECT_EQ(dimm.id(), "dimm1");
  EXPECT_EQ(dimm.size(), 256ull << 20);
  EXPECT_EQ(dimm.node(), 1);
  EXPECT_EQ(dimm.slot(), 0);
  EXPECT_EQ(dimm.address(), 0x180000000ull);
}

TEST(DomainXml, ADomainWithoutMaxMemoryNumaOrChannelSaysSo) {
  const DomainMemory d = ParseOk(
      "<domain><name>plain</name><memory unit='MiB'>1024</memory><devices/></domain>");
  EXPECT_FALSE(d.max_memory.has_value());
  EXPECT_FALSE(d.slots.has_value());
  EXPECT_EQ(d.node_count, 0u);
  EXPECT_EQ(d.base_memory, 1ull << 30);
  EXPECT_FALSE(d.has_agent_channel);
  EXPECT_TRUE(d.devices.empty());
}

TEST(DomainXml, AnUnreadableDeviceIsSkippedWithAProblemNotTheWholeAnswer) {
  const DomainMemory d = ParseOk(R"(<domain><devices>
      <memory model='dimm'><target><size unit='KiB'>banana</size></target><alias name='ua-bad'/></memory>
      <memory model='dimm'><target><size unit='KiB'>262144</size><node>99999</node></target><alias name='ua-far'/></memory>
      <memory model='virtio-mem'><target><size unit='KiB'>2048</size><node>0</node><block unit='KiB'>3</block>
        <requested unit='KiB'>0</requested></target><alias name='ua-odd'/></memory>
      <memory model='virtio-mem'><target><size unit='KiB'>2048</size><node>0</node><block unit='KiB'>2048</block>
        <requested unit='KiB'>4096</requested></target><alias name='ua-over'/></memory>
      <memory model='dimm'><target><size unit='KiB'>262144</size><node>0</node></target><alias name='dimm7'/></memory>
    </devices></domain>)");
  ASSERT_EQ(d.devices.size(), 1u);
  EXPECT_EQ(d.devices[0].id(), "dimm7");  // libvirt's own alias is the id as it is
  ASSERT_EQ(d.problems.size(), 4u);
  EXPECT_THAT(d.problems[0], HasSubstr("ua-bad"));
  EXPECT_THAT(d.problems[1], HasSubstr("past"));
  EXPECT_THAT(d.problems[2], HasSubstr("power of two"));
  EXPECT_THAT(d.problems[3], HasSubstr("past the device's size"));
}

TEST(DomainXml, HostileXmlIsRefusedNotBelieved) {
  const struct {
    std::string xml;
    int errno_value;
  } cases[] = {
      {"<domain><name>x</name>", EINVAL},                     // unterminated
      {"not xml at all", EINVAL},
      {"<network/>", EINVAL},                                  // not a domain
      {std::string(5u << 20, ' '), E2BIG},                     // over the byte bound
      {std::string(200, '<').replace(0, 0, ""), EINVAL},
  };
  for (const auto& c : cases) {
    Result<DomainMemory> r = ParseDomainMemory(c.xml);
    ASSERT_FALSE(r.ok()) << c.xml.substr(0, 40);
    EXPECT_EQ(r.error().errno_value, c.errno_value) << r.error().message;
  }
  std::string deep;
  for (int i = 0; i < 100; ++i) deep += "<a>";
  for (int i = 0; i < 100; ++i) deep += "</a>";
  Result<std::unique_ptr<XmlElement>> tree = ParseXml(deep);
  ASSERT_FALSE(tree.ok());
  EXPECT_EQ(tree.error().errno_value, E2BIG);
  std::string wide = "<domain>";
  for (int i = 0; i < 30000; ++i) wide += "<x/>";
  wide += "</domain>";
  tree = ParseXml(wide);
  ASSERT_FALSE(tree.ok());
  EXPECT_EQ(tree.error().errno_value, E2BIG);
  EXPECT_THAT(tree.error().message, HasSubstr("elements"));
}

TEST(DomainXml, TooManyCellsOrDevicesAreBoundedAndSaid) {
  std::string xml = "<domain><cpu><numa>";
  for (int i = 0; i < 1100; ++i) xml += "<cell id='" + std::to_string(i) + "' memory='1' unit='KiB'/>";
  xml += "</numa></cpu></domain>";
  const DomainMemory d = ParseOk(xml);
  EXPECT_EQ(d.node_count, 1024u);
  EXPECT_THAT(d.problems, ::testing::Contains(HasSubstr("more NUMA cells")));
}

TEST(LibvirtSize, UnitsAndOverflow) {
  const struct {
    const char* text;
    const char* unit;
    uint64_t bytes;
  } ok[] = {
      {"1", "b", 1}, {"1", "bytes", 1}, {"2", "", 2048}, {"2", "KiB", 2048}, {"2", "k", 2048},
      {"1", "KB", 1000}, {"1", "MiB", 1u << 20}, {"1", "M", 1u << 20}, {"1", "MB", 1000000},
      {"1", "GiB", 1ull << 30}, {"1", "GB", 1000000000}, {"1", "TiB", 1ull << 40},
  };
  for (const auto& c : ok) {
    Result<uint64_t> r = ParseLibvirtSize(c.text, c.unit);
    ASSERT_TRUE(r.ok()) << c.text << c.unit;
    EXPECT_EQ(*r, c.bytes) << c.text << c.unit;
  }
  EXPECT_EQ(ParseLibvirtSize("17179869184", "GiB").error().errno_value, EOVERFLOW);
  EXPECT_EQ(ParseLibvirtSize("99999999999999999999", "b").error().errno_value, EOVERFLOW);
  EXPECT_EQ(ParseLibvirtSize("1", "parsec").error().errno_value, EINVAL);
  EXPECT_EQ(ParseLibvirtSize("-1", "KiB").error().errno_value, EINVAL);
  EXPECT_EQ(ParseLibvirtSize("", "KiB").error().errno_value, EINVAL);
  EXPECT_EQ(ParseLibvirtSize("12 ", "KiB").error().errno_value, EINVAL);
}

TEST(DeviceXml, DimmCarriesSizeNodeAndTheUserAlias) {
  Result<std::string> xml = DimmDeviceXml(DimmSpec{"dimm1", "mem-dimm1", 256ull << 20, 1});
  ASSERT_TRUE(xml.ok());
  EXPECT_EQ(*xml,
            "<memory model='dimm'><target><size unit='KiB'>262144</size><node>1</node></target>"
            "<alias name='ua-dimm1'/></memory>");
  // What memhp sends parses back to what it asked for.
  const DomainMemory d = ParseOk("<domain><devices>" + *xml + "</devices></domain>");
  ASSERT_EQ(d.devices.size(), 1u);
  EXPECT_EQ(d.devices[0].id(), "dimm1");
  EXPECT_EQ(d.devices[0].size(), 256ull << 20);
  EXPECT_EQ(d.devices[0].node(), 1);
}

TEST(DeviceXml, BadDimmsAreRefusedBeforeLibvirtSeesThem) {
  EXPECT_FALSE(DimmDeviceXml(DimmSpec{"", "", 1u << 20, 0}).ok());
  EXPECT_FALSE(DimmDeviceXml(DimmSpec{"d", "", 0, 0}).ok());
  EXPECT_FALSE(DimmDeviceXml(DimmSpec{"d", "", 1000, 0}).ok());
  EXPECT_FALSE(DimmDeviceXml(DimmSpec{"d", "", 1u << 20, -1}).ok());
  // An id with XML in it is escaped, never markup (libvirt then refuses the alias itself).
  Result<std::string> xml = DimmDeviceXml(DimmSpec{"a'/><x", "", 1u << 20, 0});
  ASSERT_TRUE(xml.ok());
  EXPECT_THAT(*xml, HasSubstr("ua-a&apos;/&gt;&lt;x"));
  EXPECT_TRUE(ParseXml(*xml).ok());
}

TEST(DeviceXml, VirtioMemUpdateIsTheLiveElementWithRequestedChanged) {
  const DomainMemory d = ParseOk(kCaptured);
  ASSERT_EQ(d.device_xml.size(), 2u);
  Result<std::string> xml = VirtioMemUpdateXml(d.device_xml[0], 1ull << 30);
  ASSERT_TRUE(xml.ok()) << xml.error().message;
  // Everything libvirt compares to find the device stays, the PCI address included.
  EXPECT_EQ(*xml,
            "<memory model='virtio-mem'><target><size unit='KiB'>2097152</size><node>1</node>"
            "<block unit='KiB'>2048</block><requested unit='KiB'>1048576</requested>"
            "<current unit='KiB'>262144</current></target><alias name='ua-vmem1'/>"
            "<address type='pci' domain='0x0000' bus='0x04' slot='0x00' function='0x0'/></memory>");
  EXPECT_FALSE(VirtioMemUpdateXml(d.device_xml[1], 1ull << 30).ok());  // a DIMM
  EXPECT_FALSE(VirtioMemUpdateXml(d.device_xml[0], 1000).ok());
  EXPECT_FALSE(VirtioMemUpdateXml("<memory model='virtio-mem'/>", 1ull << 30).ok());
  EXPECT_FALSE(VirtioMemUpdateXml("<memory", 1ull << 30).ok());
}

TEST(DeviceMemoryLayout, RegionBaseFollowsQemusLowMemorySplit) {
  EXPECT_EQ(DeviceMemoryBase("pc-q35-7.2", 512ull << 20), 4ull << 30);
  EXPECT_EQ(DeviceMemoryBase("pc-q35-7.2", 0xb0000000ull), 5ull << 30);  // 2 GiB low, 0.75 above
  EXPECT_EQ(DeviceMemoryBase("pc-q35-7.2", 8ull << 30), 10ull << 30);
  EXPECT_EQ(DeviceMemoryBase("pc-i440fx-7.2", 4ull << 30), 5ull << 30);  // 3 GiB low, 1 above
}

TEST(DeviceMemoryLayout, FirstFitAroundKnownDevicesInOrder) {
  std::vector<PlacedDevice> devices = {
      {2ull << 30, 2ull << 20, std::nullopt},       // virtio-mem node 0
      {256ull << 20, 0, 0x1a0000000ull},            // a DIMM libvirt knows the base of
      {2ull << 30, 2ull << 20, std::nullopt},       // virtio-mem node 1: after the DIMM
  };
  PlaceDevices(4ull << 30, devices);
  EXPECT_EQ(devices[0].address, 0x100000000ull);
  EXPECT_EQ(devices[2].address, 0x1b0000000ull);
  std::vector<PlacedDevice> huge = {{UINT64_MAX - 10, 0, std::nullopt}};
  PlaceDevices(4ull << 30, huge);
  EXPECT_FALSE(huge[0].address.has_value());
}

}  // namespace
}  // namespace memhp::daemon::libvirt
