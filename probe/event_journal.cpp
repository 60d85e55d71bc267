#include "probe/event_journal.hpp"

#include "probe/sse.hpp"

namespace ipm::probe {

EventJournal::EventJournal(std::string epoch, Limits limits)
    : epoch_(std::move(epoch)), limits_(limits) {}

std::uint64_t EventJournal::append(std::string_view name, std::string_view data) {
  std::lock_guard lock(mutex_);
  const std::uint64_t seq = head_ + 1;
  std::string text;
  text.reserve(data.size() + name.size() + 48);
  append_sse_event(text, format_event_id(epoch_, seq), name, data);
  bytes_ += text.size();
  appended_ += text.size();
  events_.push_back(Entry{seq, appended_, std::move(text)});
  head_ = seq;
  while (events_.size() > 1 && (events_.size() > limits_.max_events || bytes_ > limits_.max_bytes))
    forget_oldest();
  return seq;
}

void EventJournal::forget_oldest() {
  bytes_ -= events_.front().text.size();
  events_.pop_front();
}

std::uint64_t EventJournal::head() const {
  std::lock_guard lock(mutex_);
  return head_;
}

std::string EventJournal::id_of(std::uint64_t seq) const {
  return format_event_id(epoch_, seq);
}

std::optional<std::uint64_t> EventJournal::resume(std::string_view last_event_id) const {
  const auto id = parse_event_id(last_event_id);
  if (!id || id->epoch != epoch_)
    return std::nullopt;
  std::lock_guard lock(mutex_);
  const std::uint64_t oldest = events_.empty() ? head_ + 1 : events_.front().seq;
  if (id->seq > head_ || id->seq + 1 < oldest)
    return std::nullopt;
  return id->seq;
}

std::size_t EventJournal::lag_locked(std::uint64_t cursor) const {
  if (events_.empty() || cursor >= head_)
    return 0;
  const Entry& oldest = events_.front();
  if (cursor < oldest.seq)
    return bytes_;  // all that is held (what was forgotten is not counted)
  const Entry& sent = events_[static_cast<std::size_t>(cursor - oldest.seq)];
  return static_cast<std::size_t>(appended_ - sent.end);
}

std::size_t EventJournal::lag_bytes(std::uint64_t cursor) const {
  std::lock_guard lock(mutex_);
  return lag_locked(cursor);
}

EventJournal::Read EventJournal::read(std::uint64_t cursor, std::size_t max_bytes) const {
  std::lock_guard lock(mutex_);
  Read r;
  r.next = cursor;
  if (cursor >= head_)
    return r;
  const std::uint64_t oldest = events_.empty() ? head_ + 1 : events_.front().seq;
  if (cursor + 1 < oldest) {
    r.status = ReadStatus::lost;
    return r;
  }
  if (lag_locked(cursor) > limits_.max_lag_bytes) {
    r.status = ReadStatus::too_slow;
    return r;
  }
  for (auto i = static_cast<std::size_t>(cursor + 1 - oldest); i < events_.size(); ++i) {
    if (!r.text.empty() && r.text.size() + events_[i].text.size() > max_bytes)
      break;
    r.text += events_[i].text;
    r.next = events_[i].seq;
  }
  return r;
}

}  // namespace ipm::probe
