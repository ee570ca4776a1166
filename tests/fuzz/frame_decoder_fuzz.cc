// memhp fuzz — FrameDecoder and message parsing on arbitrary bytes (libFuzzer entry point).
//
// memhpd reads whatever a guest writes into its virtio-serial port, and memhp-agent whatever is
// on the host side, so the decoder and the protobuf parse of every payload must survive any
// input. Beyond "no crash", this target checks the decoder's documented invariants:
//   - every returned payload is at most max_payload bytes;
//   - the buffer stays within header + max_payload + one Feed(), and below header + max_payload
//     once drained;
//   - every byte fed is accounted for (in a frame, skipped, or buffered);
//   - decoding does not depend on how the bytes were split into Feed() calls;
//   - a returned payload re-encodes and decodes to itself.
// Input layout: byte 0 picks max_payload, byte 1 seeds the chunk sizes, the rest is the stream.
// Built as a plain test driven by fuzz_driver_main.cc, and as a libFuzzer binary under clang.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "memhp/v1/agent.pb.h"
#include "memhp/v1/control.pb.h"
#include "wire/frame_codec.h"

namespace {

using memhp::wire::FrameDecoder;
using memhp::wire::kFrameHeaderSize;

#define FUZZ_CHECK(cond)                                                            \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      std::fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                 \
    }                                                                               \
  } while (0)

constexpr size_t kMaxPayloadChoices[] = {0, 16, 200, 4096, memhp::wire::kDefaultMaxPayload};

struct Decoded {
  std::vector<std::string> frames;
  memhp::wire::DecoderStats stats;
  size_t buffered = 0;
};

void DrainChecked(FrameDecoder& decoder, Decoded& out) {
  while (std::optional<std::string> frame = decoder.Next()) {
    FUZZ_CHECK(frame->size() <= decoder.max_payload());
    out.frames.push_back(std::move(*frame));
  }
  FUZZ_CHECK(decoder.buffered() < kFrameHeaderSize + decoder.max_payload());
}

// Feeds `stream` in chunks whose sizes come from a small xorshift generator seeded by `seed`.
Decoded DecodeChunked(std::string_view stream, size_t max_payload, uint32_t seed) {
  FrameDecoder decoder(max_payload);
  Decoded out;
  uint32_t state = seed * 2654435761u + 1;  // never zero for xorshift
  size_t pos = 0;
  while (pos < stream.size()) {
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    const size_t want = (state & 7) == 0 ? 1 + state % 4096 : 1 + state % 64;
    const std::string_view chunk = stream.substr(pos, want);
    pos += chunk.size();
    decoder.Feed(chunk);
    FUZZ_CHECK(decoder.buffered() <= kFrameHeaderSize + max_payload + chunk.size());
    DrainChecked(decoder, out);
  }
  out.stats = decoder.stats();
  out.buffered = decoder.buffered();
  return out;
}

void CheckAccounting(const Decoded& d) {
  uint64_t in_frames = 0;
  for (const std::string& f : d.frames) {
    in_frames += kFrameHeaderSize + f.size();
  }
  FUZZ_CHECK(d.stats.frames == d.frames.size());
  FUZZ_CHECK(d.stats.bytes_fed == in_frames + d.stats.bytes_skipped + d.buffered);
}

// What the daemons do with a payload: parse it as their envelope. A parse may fail; what
// parses must serialize and parse again.
template <class Envelope>
void ParseAsEnvelope(const std::string& payload) {
  Envelope envelope;
  if (!memhp::wire::ParseMessage(payload, &envelope)) {
    return;
  }
  const std::string again = envelope.SerializeAsString();
  Envelope reparsed;
  FUZZ_CHECK(memhp::wire::ParseMessage(again, &reparsed));
  FUZZ_CHECK(reparsed.ByteSizeLong() == again.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) {
    return 0;
  }
  const size_t max_payload =
      kMaxPayloadChoices[data[0] % (sizeof(kMaxPayloadChoices) / sizeof(kMaxPayloadChoices[0]))];
  const uint32_t seed = data[1];
  const std::string_view stream(reinterpret_cast<const char*>(data) + 2, size - 2);

  const Decoded chunked = DecodeChunked(stream, max_payload, seed);
  CheckAccounting(chunked);

  // The same bytes in one Feed() must give the same frames and the same counts.
  FrameDecoder whole(max_payload);
  whole.Feed(stream);
  Decoded one_shot;
  DrainChecked(whole, one_shot);
  FUZZ_CHECK(one_shot.frames == chunked.frames);
  FUZZ_CHECK(whole.stats().bytes_skipped == chunked.stats.bytes_skipped);
  FUZZ_CHECK(whole.stats().bad_header == chunked.stats.bad_header);
  FUZZ_CHECK(whole.stats().oversized == chunked.stats.oversized);
  FUZZ_CHECK(whole.stats().bad_payload_crc == chunked.stats.bad_payload_crc);
  FUZZ_CHECK(whole.buffered() == chunked.buffered);

  for (const std::string& payload : chunked.frames) {
    FrameDecoder echo(max_payload);
    echo.Feed(memhp::wire::EncodeFrame(payload));
    const std::optional<std::string> back = echo.Next();
    FUZZ_CHECK(back.has_value() && *back == payload);
    FUZZ_CHECK(echo.stats().errors() == 0 && echo.buffered() == 0);

    ParseAsEnvelope<memhp::v1::AgentEnvelope>(payload);
    ParseAsEnvelope<memhp::v1::ControlEnvelope>(payload);
  }
  return 0;
}
