// memhp wire — the frame format of every memhp byte stream, and its decoder.
//
// virtio-serial ports and unix sockets carry bytes, not messages, and a virtio-serial port keeps
// whatever a previous agent or host process left half-written in it. So every message travels in
// a frame that a receiver can find again after any damage:
//
//   offset  size  field        value
//   0       4     magic        0x3150484D, little-endian (the bytes "MHP1")
//   4       4     length       payload bytes, little-endian; at most the receiver's maximum
//   8       4     payload_crc  CRC-32C (crc32c.h) of the payload
//   12      4     header_crc   CRC-32C of header bytes 0..11
//   16      length payload     one serialized protobuf message (memhp/v1/*.proto)
//
// A zero-length payload is a valid frame. The receiver checks `length` against its hard maximum
// (kDefaultMaxPayload unless configured) before it keeps anything for the payload; it trusts
// `length` only once header_crc matches. After a bad magic, a bad header_crc, an oversized length
// or a bad payload_crc it drops one byte past the start of the bad header and searches the
// following bytes for the next magic — a frame hidden behind a truncated one (a peer that
// restarted mid-write) is still found — counts the error, and carries on (docs/architecture.md,
// "The wires").
#ifndef MEMHP_WIRE_FRAME_CODEC_H_
#define MEMHP_WIRE_FRAME_CODEC_H_

#include <climits>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace google::protobuf {
class MessageLite;
}  // namespace google::protobuf

namespace memhp::wire {

inline constexpr uint32_t kFrameMagic = 0x3150484Du;  // "MHP1" on the wire
inline constexpr size_t kFrameHeaderSize = 16;
inline constexpr size_t kDefaultMaxPayload = size_t{1} << 20;  // 1 MiB
// The largest payload the 32-bit length field can describe.
inline constexpr size_t kMaxEncodablePayload = UINT32_MAX;

// Frames `payload`. Precondition: payload.size() <= kMaxEncodablePayload (a caller that sends to
// a peer should also respect the peer's maximum, as FramedStream::Send does); violating it is a
// programming error and throws std::length_error.
[[nodiscard]] std::string EncodeFrame(std::string_view payload);

// Serializes `message` straight into a frame (one allocation, no intermediate copy). Throws
// std::length_error if the message is larger than kMaxEncodablePayload or protobuf refuses to
// serialize it (messages over 2 GiB).
[[nodiscard]] std::string EncodeMessage(const google::protobuf::MessageLite& message);

// Parses one frame payload into `out`. False when the bytes are not a valid `out` message; the
// caller answers the peer (a bad request is a protocol answer, not a crash).
[[nodiscard]] bool ParseMessageLite(std::string_view payload, google::protobuf::MessageLite* out);

template <class M>
[[nodiscard]] bool ParseMessage(std::string_view payload, M* out) {
  return ParseMessageLite(payload, out);
}

// What a decoder saw, cumulative over its life (Reset does not clear it). Every byte fed is, in
// the end, part of a returned frame (kFrameHeaderSize + payload), counted in bytes_skipped, or
// still buffered: bytes_fed == sum(frame sizes) + bytes_skipped + buffered().
struct DecoderStats {
  uint64_t frames = 0;           // frames returned by Next()
  uint64_t bytes_fed = 0;        // bytes given to Feed()
  uint64_t bytes_skipped = 0;    // bytes dropped while searching for a valid header
  uint64_t bad_header = 0;       // magic found but header_crc did not match
  uint64_t oversized = 0;        // valid header whose length exceeds the maximum
  uint64_t bad_payload_crc = 0;  // valid header, payload_crc did not match

  // Framing errors of any kind; bytes_skipped also grows with stray bytes that start no header.
  [[nodiscard]] uint64_t errors() const { return bad_header + oversized + bad_payload_crc; }
};

// Incremental decoder: Feed() bytes as they arrive, then call Next() until it returns nothing.
//
// Bounds: nothing is allocated from a header's length; the buffer grows only with bytes fed. When
// the caller drains with Next() after each Feed(), the unconsumed bytes never exceed
// kFrameHeaderSize + max_payload, plus the size of the last Feed(). Work is linear in the bytes
// fed for any honest stream: consumed bytes are tracked by an offset and compacted away only when
// they outweigh what is left. (A peer that forges many overlapping headers with valid header_crc
// can make each byte be checksummed once per forged header that covers it — at most
// max_payload / kFrameHeaderSize times; memhpd serves one VM, so that cost stays with its VM.)
class FrameDecoder {
 public:
  explicit FrameDecoder(size_t max_payload = kDefaultMaxPayload);

  // Appends bytes to the decoder's buffer (compacting consumed bytes first when worthwhile).
  void Feed(std::string_view bytes);

  // The next complete, valid frame's payload, or nullopt when more bytes are needed.
  [[nodiscard]] std::optional<std::string> Next();

  // Drops buffered bytes and any partly read frame, e.g. when the stream reconnects.
  void Reset();

  [[nodiscard]] const DecoderStats& stats() const { return stats_; }
  [[nodiscard]] size_t max_payload() const { return max_payload_; }
  // Bytes fed but not yet returned or skipped.
  [[nodiscard]] size_t buffered() const { return buf_.size() - pos_; }

 private:
  // Moves pos_ to the first byte that may start a magic, counting the bytes skipped.
  void SkipToCandidate();
  void DropOneByte();

  size_t max_payload_;
  std::string buf_;
  size_t pos_ = 0;  // start of unconsumed bytes in buf_
  // Set once a header at pos_ has been validated and its payload is awaited.
  bool have_header_ = false;
  uint32_t pending_length_ = 0;
  uint32_t pending_crc_ = 0;
  DecoderStats stats_;
};

}  // namespace memhp::wire

#endif  // MEMHP_WIRE_FRAME_CODEC_H_
