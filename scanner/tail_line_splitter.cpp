#include "scanner/tail_line_splitter.hpp"

namespace ipm::scanner {
namespace {

std::string_view strip_cr(std::string_view line) {
  if (!line.empty() && line.back() == '\r')
    line.remove_suffix(1);
  return line;
}

}  // namespace

void TailLineSplitter::feed(std::string_view chunk, const LineFn& on_line) {
  while (!chunk.empty()) {
    const auto nl = chunk.find('\n');
    const std::string_view piece = chunk.substr(0, nl);
    if (discarding_) {
      if (nl != std::string_view::npos)
        discarding_ = false;
    } else if (partial_.size() + piece.size() > max_) {
      // Counted once per line, however many chunks it spans.
      ++too_long_;
      partial_.clear();
      discarding_ = nl == std::string_view::npos;
    } else if (nl == std::string_view::npos) {
      partial_.append(piece);
    } else if (partial_.empty()) {
      on_line(strip_cr(piece));  // the common case: no copy
    } else {
      partial_.append(piece);
      on_line(strip_cr(partial_));
      partial_.clear();
    }
    if (nl == std::string_view::npos)
      break;
    chunk.remove_prefix(nl + 1);
  }
}

std::size_t TailLineSplitter::drop_partial() {
  const std::size_t n = partial_.size();
  partial_.clear();
  discarding_ = false;
  return n;
}

}  // namespace ipm::scanner
