// memhp fuzz — a plain main() for libFuzzer-style targets, so every build runs them as a test.
//
// gcc, the default compiler here, has no libFuzzer. This driver calls LLVMFuzzerTestOneInput
// over a deterministic corpus generated from a fixed seed — well-formed frame streams (raw
// payloads and real AgentEnvelope / ControlEnvelope messages, with garbage in between), the same
// streams mutated (bit flips, inserted, deleted, duplicated and truncated ranges), and random
// bytes salted with magics — about 20k inputs in a few seconds. Given file arguments, it runs
// the target on those files instead (e.g. a crash input saved by the real fuzzer).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <random>
#include <string>

#include "memhp/v1/agent.pb.h"
#include "memhp/v1/control.pb.h"
#include "wire/frame_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

constexpr int kInputs = 20000;
constexpr uint64_t kSeed = 0x6D656D6870ull;  // "memhp"

class Generator {
 public:
  explicit Generator(uint64_t seed) : rng_(seed) {}

  // Uniform-enough integer in [0, n); the engine is specified, so the corpus is the same on
  // every platform (std::uniform_int_distribution is not).
  size_t Below(size_t n) { return n == 0 ? 0 : static_cast<size_t>(rng_() % n); }

  std::string Bytes(size_t n) {
    std::string s(n, '\0');
    for (char& c : s) {
      c = static_cast<char>(rng_() & 0xFF);
    }
    return s;
  }

  std::string Payload() {
    switch (Below(4)) {
      case 0: {
        memhp::v1::AgentEnvelope env;
        env.mutable_request()->set_id(1 + Below(1000));
        env.mutable_request()->mutable_ping()->set_payload(Bytes(Below(64)));
        return env.SerializeAsString();
      }
      case 1: {
        memhp::v1::AgentEnvelope env;
        env.mutable_response()->set_id(1 + Below(1000));
        auto* hello = env.mutable_response()->mutable_hello();
        hello->set_software_version("0.1.0");
        hello->add_capabilities("inventory");
        hello->mutable_guest()->set_block_size_bytes(uint64_t{128} << 20);
        return env.SerializeAsString();
      }
      case 2: {
        memhp::v1::ControlEnvelope env;
        env.mutable_request()->set_id(1 + Below(1000));
        env.mutable_request()->mutable_stop()->set_timeout_ms(static_cast<uint32_t>(Below(5000)));
        return env.SerializeAsString();
      }
      default:
        return Bytes(Below(8) == 0 ? Below(5000) : Below(100));
    }
  }

  // Control bytes (max_payload choice, chunk seed) followed by a well-formed stream.
  std::string ValidInput() {
    std::string in = Bytes(2);
    const size_t frames = 1 + Below(8);
    for (size_t i = 0; i < frames; ++i) {
      if (Below(4) == 0) {
        in += Bytes(Below(20));  // garbage between frames
      }
      in += memhp::wire::EncodeFrame(Payload());
    }
    return in;
  }

  std::string Mutate(std::string in) {
    const size_t mutations = 1 + Below(4);
    for (size_t m = 0; m < mutations && in.size() > 2; ++m) {
      const size_t at = 2 + Below(in.size() - 2);
      switch (Below(6)) {
        case 0:
          in[at] = static_cast<char>(in[at] ^ (1 << Below(8)));
          break;
        case 1:
          in[at] = static_cast<char>(Below(256));
          break;
        case 2:
          in.insert(at, Bytes(1 + Below(16)));
          break;
        case 3:
          in.erase(at, 1 + Below(32));
          break;
        case 4:
          in.insert(at, in.substr(at, 1 + Below(64)));  // duplicate a range
          break;
        default:
          in.resize(at);  // truncate
          break;
      }
    }
    return in;
  }

  std::string RandomInput() {
    std::string in = Bytes(2 + Below(2000));
    for (size_t n = Below(4); n > 0; --n) {
      in.insert(2 + Below(in.size() - 1), "MHP1");
    }
    return in;
  }

 private:
  std::mt19937_64 rng_;
};

int RunOne(const std::string& input) {
  return LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()), input.size());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1) {
    for (int i = 1; i < argc; ++i) {
      std::ifstream file(argv[i], std::ios::binary);
      if (!file) {
        std::fprintf(stderr, "cannot open %s\n", argv[i]);
        return 1;
      }
      const std::string input((std::istreambuf_iterator<char>(file)),
                              std::istreambuf_iterator<char>());
      RunOne(input);
      std::printf("ran %s (%zu bytes)\n", argv[i], input.size());
    }
    return 0;
  }

  const auto start = std::chrono::steady_clock::now();
  Generator gen(kSeed);
  size_t bytes = 0;
  for (int i = 0; i < kInputs; ++i) {
    std::string input;
    switch (i % 3) {
      case 0:
        input = gen.ValidInput();
        break;
      case 1:
        input = gen.Mutate(gen.ValidInput());
        break;
      default:
        input = gen.RandomInput();
        break;
    }
    bytes += input.size();
    RunOne(input);
  }
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - start)
                      .count();
  std::printf("%d inputs, %zu bytes, %lld ms\n", kInputs, bytes, static_cast<long long>(ms));
  return 0;
}
