// memhp tests — kernel uevent parser (guest-agent/sysfs/uevent_parse.h). Buffers are built the
// way lib/kobject_uevent.c sends them: "<action>@<devpath>\0KEY=VALUE\0...".
#include "sysfs/uevent_parse.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <initializer_list>
#include <string>
#include <string_view>

namespace memhp::agent {
namespace {

using ::testing::HasSubstr;

// Joins the parts with NULs and terminates the buffer with one, as the kernel does.
std::string Buf(std::initializer_list<std::string_view> parts) {
  std::string b;
  for (std::string_view p : parts) {
    b.append(p);
    b.push_back('\0');
  }
  return b;
}

TEST(Uevent, MemoryBlockAdd) {
  // A DIMM or virtio-mem device added memory40 (S18: the block exists, not yet online).
  const std::string b = Buf({"add@/devices/system/memory/memory40", "ACTION=add",
                             "DEVPATH=/devices/system/memory/memory40", "SUBSYSTEM=memory",
                             "SEQNUM=2314"});
  Result<Uevent> ev = ParseUevent(b);
  ASSERT_TRUE(ev.ok()) << ev.error().message;
  EXPECT_EQ(ev->action, UeventAction::kAdd);
  EXPECT_EQ(ev->action_name, "add");
  EXPECT_EQ(ev->devpath, "/devices/system/memory/memory40");
  EXPECT_EQ(ev->subsystem, "memory");
  EXPECT_EQ(ev->seqnum, 2314u);
  EXPECT_EQ(ev->env.size(), 4u);
  EXPECT_EQ(MemoryBlockIdFromDevpath(ev->devpath), 40u);
  EXPECT_EQ(NodeIdFromDevpath(ev->devpath), std::nullopt);
}

TEST(Uevent, MemoryBlockOnlineAndOffline) {
  // device_online()/device_offline() (S20) send KOBJ_ONLINE/KOBJ_OFFLINE.
  for (std::string_view action : {"online", "offline"}) {
    SCOPED_TRACE(action);
    const std::string b =
        Buf({std::string(action) + "@/devices/system/memory/memory41",
             "ACTION=" + std::string(action), "DEVPATH=/devices/system/memory/memory41",
             "SUBSYSTEM=memory", "SEQNUM=2320"});
    Result<Uevent> ev = ParseUevent(b);
    ASSERT_TRUE(ev.ok()) << ev.error().message;
    EXPECT_EQ(ev->action,
              action == "online" ? UeventAction::kOnline : UeventAction::kOffline);
    EXPECT_EQ(MemoryBlockIdFromDevpath(ev->devpath), 41u);
  }
}

TEST(Uevent, MemoryBlockRemove) {
  const std::string b = Buf({"remove@/devices/system/memory/memory41", "ACTION=remove",
                             "DEVPATH=/devices/system/memory/memory41", "SUBSYSTEM=memory",
                             "SEQNUM=2401"});
  Result<Uevent> ev = ParseUevent(b);
  ASSERT_TRUE(ev.ok()) << ev.error().message;
  EXPECT_EQ(ev->action, UeventAction::kRemove);
  EXPECT_EQ(ev->seqnum, 2401u);
}

TEST(Uevent, NodeAdd) {
  // A memoryless node gaining its first memory registers node1 (drivers/base/node.c).
  const std::string b = Buf({"add@/devices/system/node/node1", "ACTION=add",
                             "DEVPATH=/devices/system/node/node1", "SUBSYSTEM=node",
                             "SEQNUM=2310"});
  Result<Uevent> ev = ParseUevent(b);
  ASSERT_TRUE(ev.ok()) << ev.error().message;
  EXPECT_EQ(ev->subsystem, "node");
  EXPECT_EQ(NodeIdFromDevpath(ev->devpath), 1u);
  EXPECT_EQ(MemoryBlockIdFromDevpath(ev->devpath), std::nullopt);
}

TEST(Uevent, AcpiDimmWithExtraKeysAndUnknownAction) {
  const std::string b =
      Buf({"add@/devices/LNXSYSTM:00/LNXSYBUS:00/PNP0A06:00/PNP0C80:00", "ACTION=add",
           "DEVPATH=/devices/LNXSYSTM:00/LNXSYBUS:00/PNP0A06:00/PNP0C80:00", "SUBSYSTEM=acpi",
           "MODALIAS=acpi:PNP0C80:", "SEQNUM=2309"});
  Result<Uevent> ev = ParseUevent(b);
  ASSERT_TRUE(ev.ok()) << ev.error().message;
  EXPECT_EQ(ev->subsystem, "acpi");
  EXPECT_EQ(ev->env.at("MODALIAS"), "acpi:PNP0C80:");
  EXPECT_EQ(MemoryBlockIdFromDevpath(ev->devpath), std::nullopt);

  Result<Uevent> other = ParseUevent(Buf({"frob@/devices/x", "ACTION=frob", "DEVPATH=/devices/x"}));
  ASSERT_TRUE(other.ok()) << other.error().message;
  EXPECT_EQ(other->action, UeventAction::kOther);
  EXPECT_EQ(other->action_name, "frob");
  EXPECT_EQ(other->subsystem, "");
  EXPECT_EQ(other->seqnum, std::nullopt);
}

TEST(Uevent, EmptyValueAllowed) {
  Result<Uevent> ev =
      ParseUevent(Buf({"change@/devices/x", "ACTION=change", "DEVPATH=/devices/x", "DRIVER="}));
  ASSERT_TRUE(ev.ok()) << ev.error().message;
  EXPECT_EQ(ev->env.at("DRIVER"), "");
}

TEST(Uevent, Rejects) {
  std::string unterminated = Buf({"add@/devices/x", "ACTION=add", "DEVPATH=/devices/x"});
  unterminated.pop_back();
  std::string too_many = Buf({"add@/devices/x", "ACTION=add", "DEVPATH=/devices/x"});
  for (int i = 0; i < 63; ++i) too_many += Buf({"K" + std::to_string(i) + "=v"});
  const struct {
    std::string name;
    std::string buffer;
    std::string why;
    int err;
  } cases[] = {
      {"empty", "", "not NUL-terminated", EINVAL},
      {"not NUL-terminated",
       unterminated, "not NUL-terminated", EINVAL},
      {"no @ in header", Buf({"add /devices/x", "ACTION=add", "DEVPATH=/devices/x"}),
       "no <action>@<devpath> header", EINVAL},
      {"libudev monitor message", std::string("libudev\0\xfe\xed\xca\xfe", 12) + '\0',
       "no <action>@<devpath> header", EINVAL},
      {"empty action", Buf({"@/devices/x", "ACTION=", "DEVPATH=/devices/x"}),
       "no <action>@<devpath> header", EINVAL},
      {"empty devpath", Buf({"add@", "ACTION=add", "DEVPATH="}), "no <action>@<devpath> header",
       EINVAL},
      {"relative devpath", Buf({"add@devices/x", "ACTION=add", "DEVPATH=devices/x"}),
       "not absolute", EINVAL},
      {"no ACTION", Buf({"add@/devices/x", "DEVPATH=/devices/x"}), "no ACTION", EINVAL},
      {"ACTION differs", Buf({"add@/devices/x", "ACTION=remove", "DEVPATH=/devices/x"}),
       "ACTION does not match", EINVAL},
      {"no DEVPATH", Buf({"add@/devices/x", "ACTION=add"}), "no DEVPATH", EINVAL},
      {"DEVPATH differs", Buf({"add@/devices/x", "ACTION=add", "DEVPATH=/devices/y"}),
       "DEVPATH does not match", EINVAL},
      {"entry without =", Buf({"add@/devices/x", "ACTION=add", "DEVPATH=/devices/x", "JUNK"}),
       "entry without KEY=", EINVAL},
      {"entry with empty key", Buf({"add@/devices/x", "ACTION=add", "DEVPATH=/devices/x", "=v"}),
       "entry without KEY=", EINVAL},
      {"empty entry", Buf({"add@/devices/x", "ACTION=add", "", "DEVPATH=/devices/x"}),
       "entry without KEY=", EINVAL},
      {"repeated key",
       Buf({"add@/devices/x", "ACTION=add", "DEVPATH=/devices/x", "SEQNUM=1", "SEQNUM=2"}),
       "repeated key SEQNUM", EINVAL},
      {"bad SEQNUM", Buf({"add@/devices/x", "ACTION=add", "DEVPATH=/devices/x", "SEQNUM=12a"}),
       "bad SEQNUM", EINVAL},
      {"oversized",
       Buf({"add@/devices/x", "ACTION=add", "DEVPATH=/devices/x", "PAD=" + std::string(8200, 'p')}),
       "over the limit", EMSGSIZE},
      {"too many entries", too_many, "more than 64 entries", EMSGSIZE},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    Result<Uevent> ev = ParseUevent(c.buffer);
    ASSERT_FALSE(ev.ok());
    EXPECT_EQ(ev.error().errno_value, c.err);
    EXPECT_THAT(ev.error().message, HasSubstr(c.why));
  }
}

TEST(Uevent, SixtyFourEntriesAccepted) {
  std::string b = Buf({"add@/devices/x", "ACTION=add", "DEVPATH=/devices/x"});
  for (int i = 0; i < 62; ++i) b += Buf({"K" + std::to_string(i) + "=v"});
  Result<Uevent> ev = ParseUevent(b);
  ASSERT_TRUE(ev.ok()) << ev.error().message;
  EXPECT_EQ(ev->env.size(), 64u);
}

TEST(Uevent, DevpathIds) {
  EXPECT_EQ(MemoryBlockIdFromDevpath("/devices/system/memory/memory0"), 0u);
  EXPECT_EQ(MemoryBlockIdFromDevpath("/devices/system/memory/memory40/"), std::nullopt);
  EXPECT_EQ(MemoryBlockIdFromDevpath("/devices/system/memory/memory040"), std::nullopt);
  EXPECT_EQ(MemoryBlockIdFromDevpath("/devices/system/memory/memory"), std::nullopt);
  EXPECT_EQ(MemoryBlockIdFromDevpath("/sys/devices/system/memory/memory4"), std::nullopt);
  EXPECT_EQ(NodeIdFromDevpath("/devices/system/node/node3"), 3u);
  EXPECT_EQ(NodeIdFromDevpath("/devices/system/node/node3x"), std::nullopt);
}

}  // namespace
}  // namespace memhp::agent
