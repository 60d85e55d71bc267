#pragma once

#include <cstddef>
#include <initializer_list>
#include <string_view>
#include <vector>

#include "proxy/protocol/step.hpp"

namespace ipm::protocol::testing {

inline std::vector<std::byte> B(std::initializer_list<int> values) {
  std::vector<std::byte> out;
  for (const int v : values)
    out.push_back(static_cast<std::byte>(v));
  return out;
}

inline std::vector<std::byte> S(std::string_view text) {
  std::vector<std::byte> out;
  for (const char c : text)
    out.push_back(static_cast<std::byte>(c));
  return out;
}

inline std::vector<std::byte> operator+(std::vector<std::byte> a, const std::vector<std::byte>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

inline std::string_view text(const std::vector<std::byte>& bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

/// Feeds `input` to `codec` in slices of `slice` bytes (the rest of a slice that a step did
/// not consume is fed again with the next one), stopping at the first step that is not
/// need_more or reply. Returns that step with `consumed` counted from the start of `input`;
/// `replies` collects the output of every reply step.
template <class Codec>
Step feed(Codec& codec, const std::vector<std::byte>& input, std::size_t slice,
          std::vector<std::vector<std::byte>>* replies = nullptr) {
  std::size_t at = 0;
  std::size_t available = 0;
  for (;;) {
    available = std::min(input.size(), std::max(available, at) + slice);
    const Step s = codec.put(Bytes(input).subspan(at, available - at));
    at += s.consumed;
    if (s.status == Status::reply) {
      if (replies != nullptr)
        replies->push_back(codec.output());
      continue;
    }
    if (s.status != Status::need_more)
      return {at, s.status};
    if (available == input.size())
      return {at, Status::need_more};
  }
}

}  // namespace ipm::protocol::testing
