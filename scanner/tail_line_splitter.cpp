#include "scanner/tail_line_splitter.hpp"

#include <cstring>

namespace ipm::scanner {
namespace {

std::string_view strip_cr(std::string_view line) {
  if (!line.empty() && line.back() == '\r')
    line.remove_suffix(1);
  return line;
}

}  // namespace

void TailLineSplitter::feed(std::string_view chunk, std::vector<std::string_view>& lines) {
  const char* p = chunk.data();
  const char* const end = p + chunk.size();
  // The first line may continue a partial one or the tail of an over-long one.
  if (p != end && (discarding_ || !partial_.empty())) {
    const auto* nl =
        static_cast<const char*>(std::memchr(p, '\n', static_cast<std::size_t>(end - p)));
    const std::string_view piece(p, static_cast<std::size_t>((nl != nullptr ? nl : end) - p));
    if (discarding_) {
      discarding_ = nl == nullptr;
    } else if (partial_.size() + piece.size() > max_) {
      ++too_long_;  // counted once per line, however many chunks it spans
      partial_.clear();
      discarding_ = nl == nullptr;
    } else if (nl == nullptr) {
      partial_.append(piece);
    } else {
      partial_.append(piece);
      joined_.swap(partial_);
      partial_.clear();
      lines.push_back(strip_cr(joined_));
    }
    if (nl == nullptr)
      return;
    p = nl + 1;
  }
  // The common case: lines whole in the chunk, handed out as views, no copy.
  while (p != end) {
    const auto* nl =
        static_cast<const char*>(std::memchr(p, '\n', static_cast<std::size_t>(end - p)));
    if (nl == nullptr)
      break;
    const auto size = static_cast<std::size_t>(nl - p);
    if (size > max_) {
      ++too_long_;
    } else {
      lines.push_back(strip_cr(std::string_view(p, size)));
    }
    p = nl + 1;
  }
  if (p == end)
    return;
  // A partial last line waits for the next chunk, unless it is already too long.
  const auto rest = static_cast<std::size_t>(end - p);
  if (rest > max_) {
    ++too_long_;
    discarding_ = true;
  } else {
    partial_.assign(p, rest);
  }
}

std::size_t TailLineSplitter::drop_partial() {
  const std::size_t n = partial_.size();
  partial_.clear();
  discarding_ = false;
  return n;
}

}  // namespace ipm::scanner
