#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace ipm::probe {

/// The recent events of the page's stream (GET /api/events), already formatted as
/// text/event-stream, each with an id "<epoch>-<seq>" (seq 1, 2, ...).
///
/// One journal serves every client: a client's queue is not a copy but its cursor (the seq of
/// the last event it was sent), so what waits for a client is the journal's tail after its
/// cursor. That tail is bounded twice: the journal forgets its oldest events beyond
/// `max_events` or `max_bytes`, and read() drops a client whose unsent tail is longer than
/// `max_lag_bytes` (a slow reader) or has already been forgotten. A dropped client reconnects
/// and starts again from a snapshot. A reconnecting client whose Last-Event-ID is still in
/// the journal resumes right after it (resume()).
///
/// Thread-safe: one writer (the feed) and any number of readers (the streaming sessions).
class EventJournal {
 public:
  struct Limits {
    std::size_t max_events = 16384;
    std::size_t max_bytes = 8 * 1024 * 1024;
    /// Unsent bytes a client may have before it is dropped. Above what one update can send
    /// at once (every row of a 10,000-egress pool changing is about 3.5 MB).
    std::size_t max_lag_bytes = 4 * 1024 * 1024;
  };

  EventJournal(std::string epoch, Limits limits);
  EventJournal(const EventJournal&) = delete;
  EventJournal& operator=(const EventJournal&) = delete;

  /// Formats and keeps one event; returns its seq.
  std::uint64_t append(std::string_view name, std::string_view data);

  /// The seq of the newest event (0 before the first).
  std::uint64_t head() const;

  const std::string& epoch() const { return epoch_; }
  /// "<epoch>-<seq>".
  std::string id_of(std::uint64_t seq) const;

  /// The cursor to resume from for a client that says Last-Event-ID `last_event_id`:
  /// its seq when the id is of this journal and nothing after it has been forgotten;
  /// nullopt otherwise (another run's id, garbage, too old, or ahead of head()).
  std::optional<std::uint64_t> resume(std::string_view last_event_id) const;

  enum class ReadStatus {
    ok,        ///< `text` holds the next events (empty: nothing new)
    too_slow,  ///< more than max_lag_bytes wait for this client: drop it
    lost,      ///< events after the cursor were forgotten: drop it
  };
  struct Read {
    ReadStatus status = ReadStatus::ok;
    std::string text;        ///< whole events, at least one when there is one, about max_bytes
    std::uint64_t next = 0;  ///< the cursor after sending `text`
  };

  /// The events after `cursor`, whole, until `max_bytes` is reached, or why the client must
  /// be dropped.
  Read read(std::uint64_t cursor, std::size_t max_bytes) const;

  /// Bytes of the events after `cursor` that the journal still holds.
  std::size_t lag_bytes(std::uint64_t cursor) const;

 private:
  struct Entry {
    std::uint64_t seq;
    std::uint64_t end;  // bytes appended since the start, this event included
    std::string text;
  };
  void forget_oldest();  // with mutex_ held
  std::size_t lag_locked(std::uint64_t cursor) const;

  const std::string epoch_;
  const Limits limits_;
  mutable std::mutex mutex_;
  std::deque<Entry> events_;    // consecutive seqs, oldest first
  std::size_t bytes_ = 0;       // of events_
  std::uint64_t appended_ = 0;  // bytes ever appended
  std::uint64_t head_ = 0;
};

}  // namespace ipm::probe
