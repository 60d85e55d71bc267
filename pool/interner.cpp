#include "pool/interner.hpp"

#include <algorithm>

namespace ipm::pool {

Interner::Interner(std::size_t max_distinct)
    : max_distinct_(std::max<std::size_t>(max_distinct, 2)) {
  strings_.emplace_back("");
  strings_.emplace_back("(other)");
  ids_.insert(StringIndex::hash(strings_[0]), kEmpty);
  // "(other)" is deliberately not in ids_: a key literally spelled so gets its own id.
}

Interner::Id Interner::intern(std::string_view s) {
  if (s.size() > kMaxLength)
    s = s.substr(0, kMaxLength);
  const std::uint32_t hash = StringIndex::hash(s);
  const Id found = ids_.find(s, hash, [this](Id id) -> const std::string& { return strings_[id]; });
  if (found != StringIndex::kNone)
    return found;
  if (strings_.size() >= max_distinct_) {
    ++overflowed_;
    return kOverflow;
  }
  const auto id = static_cast<Id>(strings_.size());
  strings_.emplace_back(s);
  ids_.insert(hash, id);
  return id;
}

std::string_view Interner::lookup(Id id) const {
  return id < strings_.size() ? std::string_view(strings_[id]) : std::string_view();
}

}  // namespace ipm::pool
