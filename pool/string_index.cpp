#include "pool/string_index.hpp"

namespace ipm::pool {

void StringIndex::place(const Slot& s) {
  const std::size_t mask = slots_.size() - 1;
  std::size_t i = s.hash & mask;
  while (slots_[i].id != kNone)
    i = (i + 1) & mask;
  slots_[i] = s;
}

void StringIndex::insert(std::uint32_t h, Id id) {
  if (2 * (size_ + 1) > slots_.size()) {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(old.empty() ? 16 : 2 * old.size(), Slot{});
    for (const Slot& s : old) {
      if (s.id != kNone)
        place(s);
    }
  }
  place(Slot{h, id});
  ++size_;
}

}  // namespace ipm::pool
