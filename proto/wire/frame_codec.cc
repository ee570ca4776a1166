// memhp wire — frame encoding and the resynchronising frame decoder (format in frame_codec.h).
//
// The decoder keeps one growing buffer and an offset to its first unconsumed byte, so taking a
// frame or skipping garbage is O(1) bookkeeping; bytes are moved only when consumed bytes
// outweigh the rest (amortised O(1) per byte) or when the buffer would pass its bound.
#include "wire/frame_codec.h"

#include <google/protobuf/message_lite.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "wire/crc32c.h"

namespace memhp::wire {
namespace {

constexpr char kMagicBytes[4] = {'M', 'H', 'P', '1'};
constexpr size_t kCoveredByHeaderCrc = 12;

static_assert((static_cast<uint32_t>(static_cast<unsigned char>(kMagicBytes[0])) |
               static_cast<uint32_t>(static_cast<unsigned char>(kMagicBytes[1])) << 8 |
               static_cast<uint32_t>(static_cast<unsigned char>(kMagicBytes[2])) << 16 |
               static_cast<uint32_t>(static_cast<unsigned char>(kMagicBytes[3])) << 24) ==
                  kFrameMagic,
              "kFrameMagic must read as \"MHP1\" in little-endian order");

void Store32(char* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) {
    p[i] = static_cast<char>((v >> (8 * i)) & 0xFFu);
  }
}

uint32_t Load32(const char* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) {
    v = (v << 8) | static_cast<unsigned char>(p[i]);
  }
  return v;
}

// Fills the 16 header bytes at `h` for `payload`.
void WriteHeader(char* h, std::string_view payload) {
  Store32(h, kFrameMagic);
  Store32(h + 4, static_cast<uint32_t>(payload.size()));
  Store32(h + 8, Crc32c(payload));
  Store32(h + 12, Crc32c(std::string_view(h, kCoveredByHeaderCrc)));
}

}  // namespace

std::string EncodeFrame(std::string_view payload) {
  if (payload.size() > kMaxEncodablePayload) {
    throw std::length_error("memhp frame payload larger than 4 GiB - 1");
  }
  std::string out;
  out.reserve(kFrameHeaderSize + payload.size());
  out.resize(kFrameHeaderSize);
  out.append(payload);
  WriteHeader(out.data(), std::string_view(out).substr(kFrameHeaderSize));
  return out;
}

std::string EncodeMessage(const google::protobuf::MessageLite& message) {
  const size_t size = message.ByteSizeLong();
  if (size > kMaxEncodablePayload || size > static_cast<size_t>(INT_MAX)) {
    throw std::length_error("memhp message too large to frame");
  }
  std::string out(kFrameHeaderSize + size, '\0');
  if (!message.SerializeToArray(out.data() + kFrameHeaderSize, static_cast<int>(size))) {
    throw std::length_error("protobuf refused to serialize a memhp message");
  }
  WriteHeader(out.data(), std::string_view(out).substr(kFrameHeaderSize));
  return out;
}

bool ParseMessageLite(std::string_view payload, google::protobuf::MessageLite* out) {
  if (payload.size() > static_cast<size_t>(INT_MAX)) {
    return false;
  }
  return out->ParseFromArray(payload.data(), static_cast<int>(payload.size()));
}

FrameDecoder::FrameDecoder(size_t max_payload)
    : max_payload_(std::min(max_payload, kMaxEncodablePayload)) {}

void FrameDecoder::Feed(std::string_view bytes) {
  stats_.bytes_fed += bytes.size();
  if (bytes.empty()) {
    return;
  }
  // Compact when the consumed prefix is at least as large as what remains (each byte is then
  // moved at most once per byte consumed before it), or when keeping the prefix would let the
  // buffer pass header + max_payload before this append.
  if (pos_ > 0 && (pos_ >= buffered() || buf_.size() > kFrameHeaderSize + max_payload_)) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  buf_.append(bytes);
}

void FrameDecoder::Reset() {
  buf_.clear();
  pos_ = 0;
  have_header_ = false;
  pending_length_ = 0;
  pending_crc_ = 0;
}

void FrameDecoder::SkipToCandidate() {
  const size_t start = pos_;
  const size_t end = buf_.size();
  size_t i = pos_;
  while (i < end) {
    const void* hit = std::memchr(buf_.data() + i, kMagicBytes[0], end - i);
    if (hit == nullptr) {
      i = end;
      break;
    }
    i = static_cast<size_t>(static_cast<const char*>(hit) - buf_.data());
    // A magic cut short by the end of the buffer is still a candidate: keep it for later.
    const size_t n = std::min<size_t>(sizeof(kMagicBytes), end - i);
    if (std::memcmp(buf_.data() + i, kMagicBytes, n) == 0) {
      break;
    }
    ++i;
  }
  stats_.bytes_skipped += i - start;
  pos_ = i;
}

void FrameDecoder::DropOneByte() {
  have_header_ = false;
  ++pos_;
  ++stats_.bytes_skipped;
}

std::optional<std::string> FrameDecoder::Next() {
  for (;;) {
    if (!have_header_) {
      SkipToCandidate();
      if (buffered() < kFrameHeaderSize) {
        return std::nullopt;
      }
      const char* h = buf_.data() + pos_;
      if (Crc32c(std::string_view(h, kCoveredByHeaderCrc)) != Load32(h + 12)) {
        ++stats_.bad_header;
        DropOneByte();
        continue;
      }
      const uint32_t length = Load32(h + 4);
      if (length > max_payload_) {
        ++stats_.oversized;
        DropOneByte();
        continue;
      }
      have_header_ = true;
      pending_length_ = length;
      pending_crc_ = Load32(h + 8);
    }
    if (buffered() < kFrameHeaderSize + pending_length_) {
      return std::nullopt;
    }
    const std::string_view payload(buf_.data() + pos_ + kFrameHeaderSize, pending_length_);
    if (Crc32c(payload) != pending_crc_) {
      ++stats_.bad_payload_crc;
      DropOneByte();
      continue;
    }
    std::string out(payload);
    have_header_ = false;
    pos_ += kFrameHeaderSize + pending_length_;
    ++stats_.frames;
    return out;
  }
}

}  // namespace memhp::wire
