#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace ipm::pool {

/// A word read from `p`, unaligned (memcpy: one load on the targets we build for).
template <class Word>
Word load_word(const char* p) {
  Word w;
  std::memcpy(&w, p, sizeof w);
  return w;
}

/// a[0, n) == b[0, n), inline, for the short texts of the hot paths (a log_format's literals,
/// a site's name): a call to memcmp costs more than the comparison there. Overlapping word
/// reads; reads only inside both ranges.
inline bool same_bytes(const char* a, const char* b, std::size_t n) {
  if (n >= 8) {
    for (; n > 8; a += 8, b += 8, n -= 8) {
      if (load_word<std::uint64_t>(a) != load_word<std::uint64_t>(b))
        return false;
    }
    return load_word<std::uint64_t>(a + n - 8) == load_word<std::uint64_t>(b + n - 8);
  }
  if (n >= 4) {
    return load_word<std::uint32_t>(a) == load_word<std::uint32_t>(b) &&
           load_word<std::uint32_t>(a + n - 4) == load_word<std::uint32_t>(b + n - 4);
  }
  for (std::size_t i = 0; i < n; ++i) {
    if (a[i] != b[i])
      return false;
  }
  return true;
}

}  // namespace ipm::pool
