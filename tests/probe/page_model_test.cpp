// The page's model: what each update of the feed sends, from a real engine.
#include "probe/page_model.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value_to.hpp>

#include "tests/probe/fixture.hpp"

namespace {

namespace json = boost::json;
using ipm::probe::EventJournal;
using ipm::probe::PageModel;
using ipm::probe::PageView;
using ipm::probe::StatusClass;
using ipm::test::base_time;
using ipm::test::ip_of;
using ipm::test::ProbeWorld;

struct Event {
  std::string name;
  json::value data;
};

// The events of `journal` after `cursor`, parsed; moves the cursor to the head.
std::vector<Event> take(const EventJournal& journal, std::uint64_t& cursor) {
  const auto read = journal.read(cursor, std::size_t{1} << 30);
  EXPECT_EQ(read.status, EventJournal::ReadStatus::ok);
  cursor = read.next;
  std::vector<Event> out;
  std::size_t at = 0;
  const std::string& t = read.text;
  while (at < t.size()) {
    const auto end = t.find("\n\n", at);
    const std::string block = t.substr(at, end - at);
    at = end + 2;
    Event e;
    const auto name = block.find("event: ");
    e.name = block.substr(name + 7, block.find('\n', name) - name - 7);
    e.data = json::parse(block.substr(block.find("data: ") + 6));
    out.push_back(std::move(e));
  }
  return out;
}

std::vector<std::string> names(const std::vector<Event>& events) {
  std::vector<std::string> out;
  for (const auto& e : events)
    out.push_back(e.name);
  return out;
}

class PageModelTest : public testing::Test {
 protected:
  PageView view(std::uint64_t after) {
    PageView v = world.engine.read(
        [&](const ipm::strategy::Engine& e) { return ipm::probe::take_page_view(e, after); });
    v.wall = world.now;
    v.steady = steady;
    return v;
  }
  void update(bool tick) { model.update(view(model.decision_seq()), tick, journal); }

  ProbeWorld world{3};
  PageModel model;
  EventJournal journal{"ep", {}};
  std::uint64_t cursor = 0;
  std::chrono::steady_clock::time_point steady{};
};

TEST(PageModelStatusTest, status_classes) {
  using ipm::probe::status_class;
  EXPECT_EQ(status_class(200), StatusClass::ok);
  EXPECT_EQ(status_class(101), StatusClass::ok);
  EXPECT_EQ(status_class(302), StatusClass::ok);
  EXPECT_EQ(status_class(404), StatusClass::client_error);
  EXPECT_EQ(status_class(429), StatusClass::client_error);
  EXPECT_EQ(status_class(502), StatusClass::server_error);
  EXPECT_EQ(status_class(0), StatusClass::other);
  EXPECT_EQ(status_class(999), StatusClass::other);
}

TEST_F(PageModelTest, first_update_sends_every_row_then_a_tick_with_all_numbers) {
  update(true);
  const auto events = take(journal, cursor);
  EXPECT_THAT(names(events), testing::ElementsAre("ip", "ip", "ip", "tick"));
  const auto& row = events[0].data.as_object();
  EXPECT_EQ(row.at("id").as_string(), ip_of(0));
  EXPECT_EQ(row.at("kind").as_string(), "nginx");
  EXPECT_EQ(row.at("port").as_int64(), 19000);
  EXPECT_EQ(row.at("state").as_string(), "available");
  EXPECT_TRUE(row.at("until").is_null());
  EXPECT_TRUE(row.at("sites").as_array().empty());
  const auto& tick = events[3].data.as_object();
  EXPECT_EQ(tick.at("traffic").as_array().size(), 3U);
  const auto& pool = tick.at("pool").as_object();
  EXPECT_EQ(pool.at("ips").as_int64(), 3);
  EXPECT_EQ(pool.at("counts").as_object().at("available").as_int64(), 3);
  EXPECT_EQ(pool.at("all_unavailable").as_bool(), false);
}

TEST_F(PageModelTest, nothing_changed_sends_nothing_and_an_empty_tick) {
  update(true);
  take(journal, cursor);
  update(false);
  EXPECT_TRUE(take(journal, cursor).empty());
  update(true);
  const auto events = take(journal, cursor);
  ASSERT_THAT(names(events), testing::ElementsAre("tick"));
  EXPECT_TRUE(events[0].data.at("traffic").as_array().empty());
}

TEST_F(PageModelTest, a_state_change_sends_its_row_and_the_decision_at_once) {
  update(true);
  take(journal, cursor);
  world.trip(1, base_time());
  update(false);
  const auto events = take(journal, cursor);
  ASSERT_THAT(names(events), testing::ElementsAre("ip", "decision"));
  EXPECT_EQ(events[0].data.at("id").as_string(), ip_of(1));
  EXPECT_EQ(events[0].data.at("state").as_string(), "cooling");
  EXPECT_EQ(events[0].data.at("decision").as_string(), "eject");
  EXPECT_TRUE(events[0].data.at("until").is_string());
  EXPECT_EQ(events[1].data.at("kind").as_string(), "eject");
  EXPECT_EQ(events[1].data.at("ip").as_string(), ip_of(1));
  EXPECT_EQ(events[1].data.at("to").as_string(), "cooling");
}

TEST_F(PageModelTest, traffic_numbers_wait_for_the_tick_and_only_moved_rows_are_sent) {
  update(true);
  take(journal, cursor);
  world.log(0, 200, base_time());
  world.log(0, 503, base_time());
  update(false);
  EXPECT_TRUE(take(journal, cursor).empty());
  update(true);
  const auto events = take(journal, cursor);
  ASSERT_THAT(names(events), testing::ElementsAre("tick"));
  const auto& traffic = events[0].data.at("traffic").as_array();
  ASSERT_EQ(traffic.size(), 1U);
  // [id, open, streak, [ok, 4xx, 5xx, other], failures, dial_failures]
  EXPECT_EQ(json::serialize(traffic[0]), "[\"" + ip_of(0) + "\",0,1,[1,0,1,0],1,0]");
}

TEST_F(PageModelTest, a_removed_egress_is_announced_and_a_new_one_sent) {
  update(true);
  take(journal, cursor);
  auto egresses = ipm::test::egresses(4);
  egresses.erase(egresses.begin() + 2);  // drop ip 2, add ip 3
  world.engine.reload(egresses, base_time());
  update(false);
  const auto events = take(journal, cursor);
  std::vector<std::string> got;
  for (const auto& e : events)
    got.push_back(e.name + " " +
                  json::value_to<std::string>(e.data.at(e.name == "decision" ? "ip" : "id")));
  EXPECT_THAT(got, testing::IsSupersetOf({"ip " + ip_of(3), "ip_removed " + ip_of(2)}));
}

TEST_F(PageModelTest, tick_rates_come_from_the_traffic_totals) {
  PageView v = view(0);
  v.traffic = {2, 100, 1000, 9000};
  model.update(v, true, journal);
  v.traffic = {3, 150, 2000, 10000};
  v.steady += std::chrono::seconds(2);
  model.update(v, true, journal);
  const auto events = take(journal, cursor);
  const auto& pool = events.back().data.at("pool").as_object();
  EXPECT_EQ(pool.at("open").as_int64(), 3);
  EXPECT_EQ(pool.at("connections").as_int64(), 150);
  EXPECT_DOUBLE_EQ(pool.at("connections_per_second").to_number<double>(), 25.0);
  EXPECT_DOUBLE_EQ(pool.at("bytes_per_second").to_number<double>(), 1000.0);
}

TEST_F(PageModelTest, snapshot_holds_the_whole_model_after_its_header) {
  world.trip(2, base_time());
  update(true);
  const json::value s = json::parse(model.snapshot("\"epoch\":\"ep\",\"token_required\":false"));
  EXPECT_EQ(s.at("epoch").as_string(), "ep");
  EXPECT_EQ(s.at("ips").as_array().size(), 3U);
  EXPECT_EQ(s.at("traffic").as_array().size(), 3U);
  EXPECT_EQ(s.at("ips").as_array()[2].at("state").as_string(), "cooling");
  EXPECT_EQ(s.at("pool").at("counts").at("cooling").as_int64(), 1);
  ASSERT_FALSE(s.at("decisions").as_array().empty());
  EXPECT_EQ(s.at("decisions").as_array().back().at("kind").as_string(), "eject");
  // Without a header the object still parses.
  EXPECT_NO_THROW(json::parse(model.snapshot("")));
}

// Health per target: the row of an IP banned for one site lists that site (the page's Sites
// column) while the IP itself stays available, and the decision names the site.
TEST_F(PageModelTest, a_site_ban_shows_in_the_row_sites_and_its_decision) {
  update(true);
  take(journal, cursor);
  world.engine.update([&](ipm::strategy::Engine& e) {
    return e.ban_site(ip_of(2), "www.a.example", ipm::pool::TimePoint::max(), "abuse", world.now);
  });
  update(false);
  const auto events = take(journal, cursor);
  ASSERT_THAT(names(events), testing::ElementsAre("ip", "decision"));
  EXPECT_EQ(events[0].data.at("state").as_string(), "available");
  const auto& sites = events[0].data.at("sites").as_array();
  ASSERT_EQ(sites.size(), 1U);
  EXPECT_EQ(sites[0].at("site").as_string(), "a.example");
  EXPECT_EQ(sites[0].at("state").as_string(), "banned");
  EXPECT_TRUE(sites[0].at("until").is_null()) << "until unbanned";
  EXPECT_THAT(std::string(sites[0].at("reason").as_string()), testing::HasSubstr("abuse"));
  EXPECT_EQ(events[1].data.at("site").as_string(), "a.example");
}

}  // namespace
