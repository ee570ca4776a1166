// memhp wire — tests for Crc32c.
//
// The standard check value pins the algorithm (polynomial, reflection, init and final xor);
// the rest pin the properties the frame codec relies on: seeding composes, and every length
// around the four-byte fast path gives the same answer as a plain bitwise reference.
#include "wire/crc32c.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

namespace memhp::wire {
namespace {

// Bit-at-a-time CRC-32C, the textbook definition, to check the table-driven one against.
uint32_t ReferenceCrc32c(std::string_view data) {
  uint32_t crc = 0xFFFFFFFFu;
  for (unsigned char c : data) {
    crc ^= c;
    for (int bit = 0; bit < 8; ++bit) {
      crc = (crc & 1u) != 0 ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
    }
  }
  return ~crc;
}

TEST(Crc32cTest, StandardCheckValue) { EXPECT_EQ(Crc32c("123456789"), 0xE3069283u); }

TEST(Crc32cTest, EmptyIsZero) { EXPECT_EQ(Crc32c(""), 0u); }

TEST(Crc32cTest, KnownVectors) {
  // RFC 3720 (iSCSI) appendix B.4: 32 bytes of zeros, of 0xFF, and an ascending sequence.
  EXPECT_EQ(Crc32c(std::string(32, '\0')), 0x8A9136AAu);
  EXPECT_EQ(Crc32c(std::string(32, '\xFF')), 0x62A8AB43u);
  std::string ascending;
  for (int i = 0; i < 32; ++i) {
    ascending.push_back(static_cast<char>(i));
  }
  EXPECT_EQ(Crc32c(ascending), 0x46DD794Eu);
}

TEST(Crc32cTest, MatchesBitwiseReferenceAtEveryLength) {
  std::string data;
  for (int i = 0; i < 300; ++i) {
    EXPECT_EQ(Crc32c(data), ReferenceCrc32c(data)) << "length " << data.size();
    data.push_back(static_cast<char>((i * 131 + 7) & 0xFF));
  }
}

TEST(Crc32cTest, SeedContinuesAChecksum) {
  const std::string a = "memory hot";
  const std::string b = "plug for QEMU";
  EXPECT_EQ(Crc32c(b, Crc32c(a)), Crc32c(a + b));
  EXPECT_EQ(Crc32c("", Crc32c(a)), Crc32c(a));
}

}  // namespace
}  // namespace memhp::wire
