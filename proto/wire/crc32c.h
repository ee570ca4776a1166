// memhp wire — CRC-32C (Castagnoli) checksum.
//
// Every frame on a memhp byte stream carries two CRC-32C values (frame_codec.h): one over the
// header, so a receiver that lost sync never trusts a length it read from garbage, and one over
// the payload. CRC-32C is used rather than zlib's CRC-32 for its better error detection on short
// messages and because it is the checksum of iSCSI, ext4 and virtio-blk's integrity data, so any
// tool can check a captured stream. This is our own table-driven implementation: no dependency.
#ifndef MEMHP_WIRE_CRC32C_H_
#define MEMHP_WIRE_CRC32C_H_

#include <cstdint>
#include <string_view>

namespace memhp::wire {

// CRC-32C (reflected polynomial 0x82F63B78, initial value and final xor 0xFFFFFFFF) of `data`.
// `seed` is the CRC of the bytes that precede `data`, so a checksum can be computed in pieces:
//   Crc32c(b, Crc32c(a)) == Crc32c(a + b), and Crc32c("") == 0.
// Standard check value: Crc32c("123456789") == 0xE3069283.
[[nodiscard]] uint32_t Crc32c(std::string_view data, uint32_t seed = 0);

}  // namespace memhp::wire

#endif  // MEMHP_WIRE_CRC32C_H_
