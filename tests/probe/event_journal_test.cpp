// The journal behind GET /api/events: ids, reading in pieces, resume by Last-Event-ID,
// forgetting, and the rule that drops a client that falls too far behind.
#include "probe/event_journal.hpp"

#include <gtest/gtest.h>

namespace {

using ipm::probe::EventJournal;
using Status = EventJournal::ReadStatus;

EventJournal::Limits limits(std::size_t events, std::size_t bytes, std::size_t lag) {
  EventJournal::Limits l;
  l.max_events = events;
  l.max_bytes = bytes;
  l.max_lag_bytes = lag;
  return l;
}

TEST(EventJournalTest, appends_numbered_events_and_reads_them_after_a_cursor) {
  EventJournal j("ep", {});
  EXPECT_EQ(j.head(), 0U);
  EXPECT_EQ(j.append("ip", "{\"a\":1}"), 1U);
  EXPECT_EQ(j.append("tick", "{}"), 2U);
  EXPECT_EQ(j.head(), 2U);

  const auto all = j.read(0, 1 << 20);
  EXPECT_EQ(all.status, Status::ok);
  EXPECT_EQ(all.text,
            "id: ep-1\nevent: ip\ndata: {\"a\":1}\n\nid: ep-2\nevent: tick\ndata: {}\n\n");
  EXPECT_EQ(all.next, 2U);

  const auto rest = j.read(1, 1 << 20);
  EXPECT_EQ(rest.text, "id: ep-2\nevent: tick\ndata: {}\n\n");
  const auto none = j.read(2, 1 << 20);
  EXPECT_EQ(none.status, Status::ok);
  EXPECT_TRUE(none.text.empty());
  EXPECT_EQ(none.next, 2U);
}

TEST(EventJournalTest, reads_whole_events_in_pieces_of_about_max_bytes) {
  EventJournal j("ep", {});
  for (int i = 0; i < 10; ++i)
    j.append("x", std::string(100, 'a'));
  std::uint64_t cursor = 0;
  int reads = 0;
  while (cursor < j.head()) {
    const auto r = j.read(cursor, 260);
    ASSERT_EQ(r.status, Status::ok);
    ASSERT_FALSE(r.text.empty());
    EXPECT_LE(r.text.size(), 260U);
    EXPECT_EQ(r.text.substr(0, 4), "id: ");
    cursor = r.next;
    ++reads;
  }
  EXPECT_EQ(reads, 5);  // two ~126-byte events per read
  // One event larger than the piece still goes out whole.
  j.append("big", std::string(1000, 'b'));
  const auto big = j.read(cursor, 260);
  EXPECT_EQ(big.next, cursor + 1);
  EXPECT_GT(big.text.size(), 1000U);
}

TEST(EventJournalTest, resumes_after_an_id_it_still_holds) {
  EventJournal j("ep", limits(3, 1 << 20, 1 << 20));
  for (int i = 0; i < 5; ++i)
    j.append("x", "{}");            // holds 3, 4, 5
  EXPECT_EQ(j.resume("ep-5"), 5U);  // up to date
  EXPECT_EQ(j.resume("ep-3"), 3U);
  EXPECT_EQ(j.resume("ep-2"), 2U);    // 3 onwards are still held: nothing is missed
  EXPECT_FALSE(j.resume("ep-1"));     // 2 was forgotten: the client needs a snapshot
  EXPECT_FALSE(j.resume("ep-6"));     // ahead of the journal: not ours
  EXPECT_FALSE(j.resume("other-4"));  // an id of an earlier run
  EXPECT_FALSE(j.resume(""));
  EXPECT_FALSE(j.resume("garbage"));
}

TEST(EventJournalTest, forgets_oldest_beyond_its_event_and_byte_bounds) {
  EventJournal by_count("ep", limits(4, 1 << 20, 1 << 20));
  for (int i = 0; i < 10; ++i)
    by_count.append("x", "{}");
  EXPECT_EQ(by_count.read(5, 1 << 20).status, Status::lost);
  EXPECT_EQ(by_count.read(6, 1 << 20).status, Status::ok);

  EventJournal by_bytes("ep", limits(1000, 1000, 1 << 20));
  for (int i = 0; i < 10; ++i)
    by_bytes.append("x", std::string(300, 'a'));  // ~330 bytes each: 3 fit in 1,000
  EXPECT_EQ(by_bytes.read(6, 1 << 20).status, Status::lost);
  EXPECT_EQ(by_bytes.read(7, 1 << 20).status, Status::ok);
  EXPECT_LE(by_bytes.lag_bytes(7), 1000U);

  // The newest event is kept even when it alone is over the byte bound.
  EventJournal tiny("ep", limits(10, 10, 1 << 20));
  tiny.append("x", std::string(100, 'a'));
  EXPECT_EQ(tiny.read(0, 1 << 20).next, 1U);
}

TEST(EventJournalTest, drops_a_reader_whose_unsent_tail_is_over_the_lag_bound) {
  EventJournal j("ep", limits(1000, 1 << 20, 1000));
  j.append("x", "{}");
  const std::uint64_t slow = j.head();  // a client that stopped reading here
  for (int i = 0; i < 20; ++i)
    j.append("x", std::string(100, 'a'));
  EXPECT_GT(j.lag_bytes(slow), 1000U);
  EXPECT_EQ(j.read(slow, 1 << 20).status, Status::too_slow);
  // A client that kept up is not affected.
  const std::uint64_t fast = j.head() - 5;
  EXPECT_LT(j.lag_bytes(fast), 1000U);
  EXPECT_EQ(j.read(fast, 1 << 20).status, Status::ok);
  EXPECT_EQ(j.lag_bytes(j.head()), 0U);
}

}  // namespace
