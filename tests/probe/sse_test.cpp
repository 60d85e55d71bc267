#include "probe/sse.hpp"

#include <gtest/gtest.h>

namespace {

using ipm::probe::append_sse_event;
using ipm::probe::append_sse_retry;
using ipm::probe::format_event_id;
using ipm::probe::parse_event_id;

std::string event(std::string_view id, std::string_view name, std::string_view data) {
  std::string out;
  append_sse_event(out, id, name, data);
  return out;
}

TEST(SseTest, one_line_event_has_id_name_data_and_blank_line) {
  EXPECT_EQ(event("e-1", "ip", R"({"id":"10.0.0.1"})"),
            "id: e-1\nevent: ip\ndata: {\"id\":\"10.0.0.1\"}\n\n");
}

TEST(SseTest, unnamed_event_has_no_event_line) {
  EXPECT_EQ(event("e-2", "", "x"), "id: e-2\ndata: x\n\n");
}

TEST(SseTest, every_kind_of_line_end_starts_a_data_line) {
  EXPECT_EQ(event("e-3", "m", "a\nb\r\nc\rd"),
            "id: e-3\nevent: m\ndata: a\ndata: b\ndata: c\ndata: d\n\n");
  EXPECT_EQ(event("e-4", "m", "a\n"), "id: e-4\nevent: m\ndata: a\ndata: \n\n");
  EXPECT_EQ(event("e-5", "m", ""), "id: e-5\nevent: m\ndata: \n\n");
}

TEST(SseTest, retry_line_is_its_own_block) {
  std::string out;
  append_sse_retry(out, 2000);
  EXPECT_EQ(out, "retry: 2000\n\n");
}

TEST(SseTest, ids_round_trip_and_garbage_is_refused) {
  EXPECT_EQ(format_event_id("k3x9", 42), "k3x9-42");
  const auto id = parse_event_id("k3x9-42");
  ASSERT_TRUE(id);
  EXPECT_EQ(id->epoch, "k3x9");
  EXPECT_EQ(id->seq, 42U);
  // The seq is what follows the last dash, so an epoch may itself hold one.
  const auto dashed = parse_event_id("a-b-7");
  ASSERT_TRUE(dashed);
  EXPECT_EQ(dashed->epoch, "a-b");
  EXPECT_EQ(dashed->seq, 7U);
  for (const char* bad :
       {"", "42", "-42", "k3x9-", "k3x9-4x", "k3x9-+1", "k3x9-99999999999999999999999", "k3x9- 1"})
    EXPECT_FALSE(parse_event_id(bad)) << bad;
}

}  // namespace
