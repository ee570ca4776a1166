// memhp wire — tests for the frame format, EncodeFrame/EncodeMessage and FrameDecoder.
//
// Each test is one clause of the framing contract in frame_codec.h / docs/protocol.md: the byte
// layout, reassembly from any chunking, and resynchronisation after every kind of damage with
// the error counted by kind and the next good frame still delivered.
#include "wire/frame_codec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "memhp/v1/agent.pb.h"
#include "wire/crc32c.h"

namespace memhp::wire {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::vector<std::string> Drain(FrameDecoder& decoder) {
  std::vector<std::string> frames;
  while (std::optional<std::string> frame = decoder.Next()) {
    frames.push_back(std::move(*frame));
  }
  return frames;
}

std::vector<std::string> FeedAll(FrameDecoder& decoder, std::string_view bytes) {
  decoder.Feed(bytes);
  return Drain(decoder);
}

void Put32(std::string& s, uint32_t v) {
  for (int i = 0; i < 4; ++i) {
    s.push_back(static_cast<char>((v >> (8 * i)) & 0xFFu));
  }
}

// A header with a correct header_crc that claims `length` payload bytes.
std::string HeaderClaiming(uint32_t length, uint32_t payload_crc = 0) {
  std::string h;
  Put32(h, kFrameMagic);
  Put32(h, length);
  Put32(h, payload_crc);
  Put32(h, Crc32c(h));
  return h;
}

// Invariant from DecoderStats: every byte fed is in a frame, skipped, or still buffered.
void ExpectAccounted(const FrameDecoder& decoder, const std::vector<std::string>& frames) {
  uint64_t in_frames = 0;
  for (const std::string& f : frames) {
    in_frames += kFrameHeaderSize + f.size();
  }
  EXPECT_EQ(decoder.stats().bytes_fed,
            in_frames + decoder.stats().bytes_skipped + decoder.buffered());
}

TEST(FrameCodecTest, HeaderLayoutIsLittleEndianMagicLengthCrcs) {
  const std::string frame = EncodeFrame("abc");
  ASSERT_EQ(frame.size(), kFrameHeaderSize + 3);
  EXPECT_EQ(frame.substr(0, 4), "MHP1");
  EXPECT_EQ(frame.substr(4, 4), std::string("\x03\x00\x00\x00", 4));
  std::string expected = HeaderClaiming(3, Crc32c("abc"));
  EXPECT_EQ(frame.substr(0, kFrameHeaderSize), expected);
  EXPECT_EQ(frame.substr(kFrameHeaderSize), "abc");
}

TEST(FrameCodecTest, EmptyPayloadIsAValidFrame) {
  const std::string frame = EncodeFrame("");
  EXPECT_EQ(frame.size(), kFrameHeaderSize);
  FrameDecoder decoder;
  EXPECT_THAT(FeedAll(decoder, frame), ElementsAre(""));
  EXPECT_EQ(decoder.stats().frames, 1u);
}

TEST(FrameCodecTest, RoundTripOfSeveralFrames) {
  const std::string binary("\x00\xff\x01MHP1\x00", 9);
  const std::string stream = EncodeFrame("first") + EncodeFrame("") + EncodeFrame(binary) +
                             EncodeFrame(std::string(5000, 'x'));
  FrameDecoder decoder;
  const auto frames = FeedAll(decoder, stream);
  EXPECT_THAT(frames, ElementsAre("first", "", binary, std::string(5000, 'x')));
  EXPECT_EQ(decoder.stats().errors(), 0u);
  EXPECT_EQ(decoder.stats().bytes_skipped, 0u);
  EXPECT_EQ(decoder.buffered(), 0u);
  ExpectAccounted(decoder, frames);
}

TEST(FrameCodecTest, OneFrameFedByteByByte) {
  const std::string frame = EncodeFrame("hot-plugged block 37");
  FrameDecoder decoder;
  std::vector<std::string> frames;
  for (size_t i = 0; i < frame.size(); ++i) {
    decoder.Feed(frame.substr(i, 1));
    auto got = Drain(decoder);
    if (i + 1 < frame.size()) {
      EXPECT_THAT(got, IsEmpty()) << "frame returned after " << i + 1 << " bytes";
    }
    frames.insert(frames.end(), got.begin(), got.end());
  }
  EXPECT_THAT(frames, ElementsAre("hot-plugged block 37"));
  EXPECT_EQ(decoder.stats().errors(), 0u);
}

TEST(FrameCodecTest, TruncatedFrameYieldsNothingUntilComplete) {
  const std::string frame = EncodeFrame(std::string(100, 'p'));
  FrameDecoder decoder;
  EXPECT_THAT(FeedAll(decoder, frame.substr(0, 10)), IsEmpty());  // part of the header
  EXPECT_THAT(FeedAll(decoder, frame.substr(10, 60)), IsEmpty());  // header + part payload
  EXPECT_EQ(decoder.buffered(), 70u);
  EXPECT_THAT(FeedAll(decoder, frame.substr(70)), ElementsAre(std::string(100, 'p')));
  EXPECT_EQ(decoder.stats().errors(), 0u);
}

TEST(FrameCodecTest, CorruptPayloadByteIsCountedAndNextFrameDecodes) {
  std::string bad = EncodeFrame("payload without the letter");
  bad[kFrameHeaderSize + 3] ^= 0x01;
  FrameDecoder decoder;
  const auto frames = FeedAll(decoder, bad + EncodeFrame("next"));
  EXPECT_THAT(frames, ElementsAre("next"));
  EXPECT_EQ(decoder.stats().bad_payload_crc, 1u);
  EXPECT_EQ(decoder.stats().bytes_skipped, bad.size());
  EXPECT_EQ(decoder.stats().frames, 1u);
  ExpectAccounted(decoder, frames);
}

TEST(FrameCodecTest, CorruptHeaderIsCountedAndNextFrameDecodes) {
  for (size_t byte = 4; byte < kFrameHeaderSize; ++byte) {  // length, payload_crc, header_crc
    std::string bad = EncodeFrame("some payload");
    bad[byte] ^= 0x40;
    FrameDecoder decoder;
    const auto frames = FeedAll(decoder, bad + EncodeFrame("next"));
    EXPECT_THAT(frames, ElementsAre("next")) << "corrupt header byte " << byte;
    // header_crc covers length and payload_crc too: every one of these is a bad header.
    EXPECT_EQ(decoder.stats().bad_header, 1u) << "corrupt header byte " << byte;
    EXPECT_EQ(decoder.stats().bad_payload_crc, 0u);
    EXPECT_EQ(decoder.stats().bytes_skipped, bad.size());
    ExpectAccounted(decoder, frames);
  }
}

TEST(FrameCodecTest, CorruptMagicIsSkippedAsGarbage) {
  std::string bad = EncodeFrame("payload");
  bad[1] = 'X';
  FrameDecoder decoder;
  EXPECT_THAT(FeedAll(decoder, bad + EncodeFrame("next")), ElementsAre("next"));
  EXPECT_EQ(decoder.stats().errors(), 0u);  // no header was ever recognised
  EXPECT_EQ(decoder.stats().bytes_skipped, bad.size());
}

TEST(FrameCodecTest, GarbageBeforeFirstFrameAndBetweenFrames) {
  const std::string garbage1 = "\x01\x02 boot noise from the console\r\n";
  const std::string garbage2(777, '\xA5');
  FrameDecoder decoder;
  const auto frames = FeedAll(
      decoder, garbage1 + EncodeFrame("one") + garbage2 + EncodeFrame("two") + "trailing");
  EXPECT_THAT(frames, ElementsAre("one", "two"));
  EXPECT_EQ(decoder.stats().bytes_skipped, garbage1.size() + garbage2.size() + 8);
  EXPECT_EQ(decoder.stats().errors(), 0u);
  EXPECT_EQ(decoder.buffered(), 0u);
  ExpectAccounted(decoder, frames);
}

TEST(FrameCodecTest, PartialMagicAtTheEndOfGarbageIsKeptUntilResolved) {
  FrameDecoder decoder;
  EXPECT_THAT(FeedAll(decoder, "noiseMH"), IsEmpty());
  EXPECT_EQ(decoder.buffered(), 2u);  // "MH" may start a magic
  EXPECT_THAT(FeedAll(decoder, "Q" + EncodeFrame("after")), ElementsAre("after"));
  EXPECT_EQ(decoder.stats().bytes_skipped, 8u);
}

TEST(FrameCodecTest, FakeMagicInsideGarbageIsCountedAndSkipped) {
  const std::string garbage = "xxMHP1 this is not a header at all, MHP1MHP1MHP1 neither";
  FrameDecoder decoder;
  const auto frames = FeedAll(decoder, garbage + EncodeFrame("real"));
  EXPECT_THAT(frames, ElementsAre("real"));
  EXPECT_EQ(decoder.stats().bad_header, 4u);
  EXPECT_EQ(decoder.stats().bytes_skipped, garbage.size());
  ExpectAccounted(decoder, frames);
}

TEST(FrameCodecTest, OversizedLengthIsRefusedBeforeWaitingForPayload) {
  // A valid-looking header claiming 4 GiB - 1: the decoder must not wait for (or reserve) the
  // payload, so the very next frame decodes and almost nothing stays buffered.
  FrameDecoder decoder;
  const std::string bogus = HeaderClaiming(0xFFFFFFFFu);
  const auto frames = FeedAll(decoder, bogus + EncodeFrame("next"));
  EXPECT_THAT(frames, ElementsAre("next"));
  EXPECT_EQ(decoder.stats().oversized, 1u);
  EXPECT_EQ(decoder.stats().bytes_skipped, bogus.size());
  EXPECT_EQ(decoder.buffered(), 0u);
  ExpectAccounted(decoder, frames);
}

TEST(FrameCodecTest, MaxSizePayloadAcceptedMaxPlusOneRefused) {
  constexpr size_t kMax = 4096;
  FrameDecoder decoder(kMax);
  const std::string at_max(kMax, 'a');
  const std::string over(kMax + 1, 'b');
  const auto frames =
      FeedAll(decoder, EncodeFrame(at_max) + EncodeFrame(over) + EncodeFrame("after"));
  EXPECT_THAT(frames, ElementsAre(at_max, "after"));
  EXPECT_EQ(decoder.stats().oversized, 1u);
  EXPECT_EQ(decoder.stats().bytes_skipped, kFrameHeaderSize + over.size());
  ExpectAccounted(decoder, frames);
}

TEST(FrameCodecTest, DefaultMaximumIsOneMebibyte) {
  FrameDecoder decoder;
  EXPECT_EQ(decoder.max_payload(), size_t{1} << 20);
  const std::string at_max(kDefaultMaxPayload, 'm');
  EXPECT_THAT(FeedAll(decoder, EncodeFrame(at_max)), ElementsAre(at_max));
  EXPECT_THAT(FeedAll(decoder, HeaderClaiming(kDefaultMaxPayload + 1)), IsEmpty());
  EXPECT_EQ(decoder.stats().oversized, 1u);
}

TEST(FrameCodecTest, FrameHiddenBehindATruncatedFrameIsFound) {
  // A peer restarted mid-write: a header and 10 of its 100 payload bytes, then fresh frames.
  const std::string truncated = EncodeFrame(std::string(100, 't')).substr(0, kFrameHeaderSize + 10);
  const std::string rest = EncodeFrame("fresh one") + EncodeFrame(std::string(200, 'z'));
  FrameDecoder decoder;
  const auto frames = FeedAll(decoder, truncated + rest);
  EXPECT_THAT(frames, ElementsAre("fresh one", std::string(200, 'z')));
  EXPECT_EQ(decoder.stats().bad_payload_crc, 1u);
  EXPECT_EQ(decoder.stats().bytes_skipped, truncated.size());
  ExpectAccounted(decoder, frames);
}

TEST(FrameCodecTest, ResetDropsAPartialFrameAndKeepsStats) {
  FrameDecoder decoder;
  ASSERT_THAT(FeedAll(decoder, EncodeFrame("done")), ElementsAre("done"));
  EXPECT_THAT(FeedAll(decoder, EncodeFrame("cut short").substr(0, 20)), IsEmpty());
  decoder.Reset();
  EXPECT_EQ(decoder.buffered(), 0u);
  EXPECT_THAT(FeedAll(decoder, EncodeFrame("after reset")), ElementsAre("after reset"));
  EXPECT_EQ(decoder.stats().frames, 2u);
}

TEST(FrameCodecTest, RandomChunkingOfALongStreamGivesTheSameFrames) {
  std::mt19937 rng(20240607);  // fixed seed: the same chunking on every run
  std::vector<std::string> sent;
  std::string stream;
  for (int i = 0; i < 400; ++i) {
    const size_t size = rng() % 3 == 0 ? rng() % 20000 : rng() % 64;
    std::string payload(size, '\0');
    for (char& c : payload) {
      c = static_cast<char>(rng() & 0xFF);
    }
    stream += EncodeFrame(payload);
    sent.push_back(std::move(payload));
  }
  constexpr size_t kMax = 20000;
  FrameDecoder decoder(kMax);
  std::vector<std::string> got;
  for (size_t pos = 0; pos < stream.size();) {
    const size_t chunk = std::min<size_t>(1 + rng() % 3000, stream.size() - pos);
    decoder.Feed(std::string_view(stream).substr(pos, chunk));
    pos += chunk;
    for (std::string& f : Drain(decoder)) {
      got.push_back(std::move(f));
    }
    EXPECT_LT(decoder.buffered(), kFrameHeaderSize + kMax);  // bound after draining
  }
  EXPECT_EQ(got, sent);
  EXPECT_EQ(decoder.stats().errors(), 0u);
  EXPECT_EQ(decoder.stats().bytes_skipped, 0u);
  ExpectAccounted(decoder, got);
}

TEST(FrameCodecTest, EncodeMessageAndParseMessageRoundTrip) {
  memhp::v1::AgentEnvelope sent;
  sent.mutable_request()->set_id(42);
  sent.mutable_request()->mutable_ping()->set_payload(std::string("\x00\x01", 2));
  const std::string frame = EncodeMessage(sent);
  FrameDecoder decoder;
  const auto frames = FeedAll(decoder, frame);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0], sent.SerializeAsString());
  memhp::v1::AgentEnvelope got;
  ASSERT_TRUE(ParseMessage(frames[0], &got));
  EXPECT_EQ(got.request().id(), 42u);
  EXPECT_EQ(got.request().ping().payload(), std::string("\x00\x01", 2));
}

TEST(FrameCodecTest, ParseMessageRejectsMalformedPayload) {
  memhp::v1::AgentEnvelope got;
  EXPECT_FALSE(ParseMessage(std::string_view("\x0a\x05" "ab"), &got));  // length runs past end
}

}  // namespace
}  // namespace memhp::wire
