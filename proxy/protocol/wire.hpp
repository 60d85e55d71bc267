#pragma once

// Byte helpers shared by the codecs (internal to proxy/protocol).

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ipm::protocol {

inline std::uint8_t u8(std::byte b) {
  return static_cast<std::uint8_t>(b);
}

inline std::uint16_t be16(std::span<const std::byte> two) {
  return static_cast<std::uint16_t>((u8(two[0]) << 8) | u8(two[1]));
}

inline std::string text_of(std::span<const std::byte> bytes) {
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

inline std::vector<std::byte> bytes_of(std::initializer_list<std::uint8_t> values) {
  std::vector<std::byte> out;
  out.reserve(values.size());
  for (const std::uint8_t v : values)
    out.push_back(std::byte{v});
  return out;
}

inline void append(std::vector<std::byte>& out, std::string_view text) {
  for (const char c : text)
    out.push_back(static_cast<std::byte>(c));
}

inline void append_be16(std::vector<std::byte>& out, std::uint16_t v) {
  out.push_back(std::byte(v >> 8));
  out.push_back(std::byte(v & 0xFF));
}

}  // namespace ipm::protocol
