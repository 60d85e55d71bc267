// Bounded random-input test of the protocol codecs (runs under gcc and the sanitizers; the
// libFuzzer target protocol_fuzzer next to it needs clang). Seeds are fixed: a failure
// reproduces. Inputs are valid handshakes mutated, and plain random bytes.
#include <gtest/gtest.h>

#include <cstdlib>
#include <random>
#include <string>

#include "proxy/protocol/base64.hpp"
#include "tests/fuzz/protocol_fuzz_check.hpp"

namespace ipm::protocol {
namespace {

int scaled(int n) {
  const char* scale = std::getenv("IPM_FUZZ_SCALE");
  return scale != nullptr && std::atoi(scale) > 0 ? n * std::atoi(scale) : n;
}

std::vector<std::byte> bytes(std::string_view s) {
  std::vector<std::byte> out;
  for (const char c : s)
    out.push_back(static_cast<std::byte>(c));
  return out;
}

std::vector<std::vector<std::byte>> seeds() {
  using namespace std::string_literals;
  return {
      bytes("\x05\x01\x00\x05\x01\x00\x01\x7f\x00\x00\x01\x00\x50"s),
      bytes("\x05\x02\x00\x02\x01\x01u\x01p\x05\x01\x00\x03\x09localhost\x01\xbb"s),
      bytes("\x05\x01\x00\x05\x01\x00\x04"s + std::string(15, '\0') + "\x01\x00\x50"s),
      bytes("\x04\x01\x00\x50\x7f\x00\x00\x01joe\x00"s),
      bytes("\x04\x01\x00\x50\x00\x00\x00\x01\x00example.com\x00"s),
      bytes("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com\r\n\r\n"),
      bytes("GET http://h:81/p?q HTTP/1.1\r\nProxy-Authorization: Basic " + base64_encode("u:p") +
            "\r\nConnection: keep-alive\r\n\r\nbody"),
      bytes("\x05\x02\x01\x00\x05\x00\x00\x01\x0a\x00\x00\x01\x30\x39"s),
      bytes("\x00\x5a\x00\x50\x01\x02\x03\x04"s),
      bytes("HTTP/1.1 200 Connection established\r\n\r\n"),
      bytes(
          "\x00\x18\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x01\x61\x04test\x00\x00\x01\x00\x01"s),
  };
}

std::vector<std::byte> mutate(std::vector<std::byte> s, std::mt19937& rng) {
  const int edits = 1 + static_cast<int>(rng() % 6);
  for (int e = 0; e < edits; ++e) {
    const std::size_t at = s.empty() ? 0 : rng() % (s.size() + 1);
    const auto b = static_cast<std::byte>(rng() % 4 == 0 ? "\0\r\n:@[]\x05\x04\xff"[rng() % 10]
                                                         : static_cast<char>(rng()));
    switch (rng() % 4) {
      case 0:
        s.insert(s.begin() + static_cast<long>(at), b);
        break;
      case 1:
        if (at < s.size())
          s.erase(s.begin() + static_cast<long>(at),
                  s.begin() + static_cast<long>(std::min(s.size(), at + 1 + rng() % 8)));
        break;
      case 2:
        if (at < s.size())
          s[at] = b;
        break;
      default:
        if (!s.empty()) {
          const std::size_t from = rng() % s.size();
          const std::size_t n = std::min<std::size_t>(s.size() - from, 1 + rng() % 64);
          std::vector<std::byte> slice(s.begin() + static_cast<long>(from),
                                       s.begin() + static_cast<long>(from + n));
          s.insert(s.begin() + static_cast<long>(at), slice.begin(), slice.end());
        }
        break;
    }
  }
  return s;
}

TEST(ProtocolFuzzTest, mutated_handshakes) {
  std::mt19937 rng(15);
  const auto corpus = seeds();
  for (int i = 0; i < scaled(5000); ++i) {
    const auto input = mutate(corpus[rng() % corpus.size()], rng);
    fuzz::check_all(input);
  }
}

TEST(ProtocolFuzzTest, random_bytes) {
  std::mt19937 rng(1928);
  for (int i = 0; i < scaled(5000); ++i) {
    std::vector<std::byte> input(rng() % 600);
    const auto first = static_cast<std::byte>("\x04\x05GC\x00"[rng() % 5]);
    for (auto& b : input)
      b = static_cast<std::byte>(rng());
    if (!input.empty())
      input[0] = first;  // reach past the version checks often
    fuzz::check_all(input);
  }
}

}  // namespace
}  // namespace ipm::protocol
