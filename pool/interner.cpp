#include "pool/interner.hpp"

#include <algorithm>

namespace ipm::pool {

Interner::Interner(std::size_t max_distinct)
    : max_distinct_(std::max<std::size_t>(max_distinct, 2)) {
  strings_.emplace_back("");
  strings_.emplace_back("(other)");
  ids_.emplace(strings_[0], kEmpty);
  // "(other)" is deliberately not in ids_: a key literally spelled so gets its own id.
}

Interner::Id Interner::intern(std::string_view s) {
  if (s.size() > kMaxLength)
    s = s.substr(0, kMaxLength);
  if (auto it = ids_.find(s); it != ids_.end())
    return it->second;
  if (strings_.size() >= max_distinct_) {
    ++overflowed_;
    return kOverflow;
  }
  const auto id = static_cast<Id>(strings_.size());
  const std::string& stored = strings_.emplace_back(s);
  ids_.emplace(stored, id);
  return id;
}

std::string_view Interner::lookup(Id id) const {
  return id < strings_.size() ? std::string_view(strings_[id]) : std::string_view();
}

}  // namespace ipm::pool
