#include "pool/interner.hpp"

#include <algorithm>
#include <functional>

namespace ipm::pool {

Interner::Interner(std::size_t max_distinct)
    : max_distinct_(std::clamp<std::size_t>(max_distinct, 2, kMaxDistinct)) {
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
  if (size() >= max_distinct_) {
    ++overflowed_;
    return kOverflow;
  }
  Id id;
  if (!free_.empty()) {
    id = free_.back();
    free_.pop_back();
    strings_[id].assign(s);
  } else {
    id = static_cast<Id>(strings_.size());
    strings_.emplace_back(s);
  }
  ids_.insert(hash, id);
  return id;
}

Interner::Id Interner::find(std::string_view s) const {
  if (s.size() > kMaxLength)
    s = s.substr(0, kMaxLength);
  const Id found = ids_.find(s, [this](Id id) -> const std::string& { return strings_[id]; });
  return found == StringIndex::kNone ? kOverflow : found;
}

std::string_view Interner::lookup(Id id) const {
  return id < strings_.size() ? std::string_view(strings_[id]) : std::string_view();
}

bool Interner::reclaim_due() const {
  if (size() < max_distinct_)
    return false;
  if (!reclaimed_once_)
    return true;
  return overflowed_ - overflowed_at_reclaim_ >= std::max<std::size_t>(1, max_distinct_ / 16);
}

std::size_t Interner::reclaim(const std::vector<bool>& live) {
  reclaimed_once_ = true;
  overflowed_at_reclaim_ = overflowed_;
  std::vector<bool> freed(strings_.size(), false);
  for (const Id id : free_)
    freed[id] = true;
  std::size_t count = 0;
  const std::size_t end = std::min(live.size(), strings_.size());
  for (std::size_t i = kOverflow + 1; i < end; ++i) {
    if (live[i] || freed[i])
      continue;
    strings_[i].clear();
    strings_[i].shrink_to_fit();
    free_.push_back(static_cast<Id>(i));
    ++count;
  }
  // The index has no erase: rebuild it from the strings still held ("(other)" stays out).
  if (count != 0) {
    ids_.clear();
    ids_.insert(StringIndex::hash(strings_[kEmpty]), kEmpty);
    for (std::size_t i = kOverflow + 1; i < strings_.size(); ++i) {
      if (!freed[i] && (i >= end || live[i]))
        ids_.insert(StringIndex::hash(strings_[i]), static_cast<Id>(i));
    }
  }
  // Lowest ids first: reuse keeps tables indexed by id dense.
  std::sort(free_.begin(), free_.end(), std::greater<>());
  reclaimed_ += count;
  return count;
}

}  // namespace ipm::pool
