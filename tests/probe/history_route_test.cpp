// GET /probe and /api/ip/history: the Go tool's shape, filters and streaming.
#include "probe/routes.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <boost/json/parse.hpp>

#include "tests/probe/fixture.hpp"

namespace {

namespace http = boost::beast::http;
namespace json = boost::json;
using ipm::probe::body_of;
using ipm::test::base_time;
using ipm::test::ip_of;
using ipm::test::ProbeWorld;
using testing::ElementsAre;
using testing::UnorderedElementsAre;

json::value get_json(ProbeWorld& w, const std::string& target) {
  auto r = w.get(target);
  EXPECT_EQ(r.message.result(), http::status::ok) << target;
  return json::parse(body_of(r));
}

std::vector<std::string> strings(const json::array& a) {
  std::vector<std::string> out;
  for (const auto& v : a)
    out.emplace_back(v.as_string());
  return out;
}

std::vector<std::string> keys(const json::object& o) {
  std::vector<std::string> out;
  for (const auto& kv : o)
    out.emplace_back(kv.key());
  return out;
}

TEST(HistoryRouteTest, has_the_go_tools_shape_and_field_types) {
  ProbeWorld w(3);
  w.log(0, 200, base_time(), "k1", "example.com");
  w.log(0, 429, base_time() + std::chrono::seconds(1), "k2", "other.example");
  w.trip(1, base_time() + std::chrono::seconds(2));

  for (const char* path : {"/probe", "/api/ip/history"}) {
    const auto v = get_json(w, path);
    EXPECT_THAT(keys(v.as_object()), ElementsAre("AvailableIP", "IPHistory"));
    EXPECT_THAT(strings(v.at("AvailableIP").as_array()), ElementsAre(ip_of(0), ip_of(2)));
    const auto& all = v.at("IPHistory").as_object();
    EXPECT_THAT(keys(all), ElementsAre(ip_of(0), ip_of(1), ip_of(2)));

    const auto& ip0 = all.at(ip_of(0)).as_object();
    EXPECT_THAT(keys(ip0),
                ElementsAre("Port", "Addr", "Banned", "State", "History", "Failure", "CoolDowns"));
    EXPECT_EQ(ip0.at("Port").as_string(), "19000");  // a string, as in the Go tool
    EXPECT_EQ(ip0.at("Addr").as_string(), ip_of(0));
    EXPECT_FALSE(ip0.at("Banned").as_bool());
    EXPECT_EQ(ip0.at("Failure").as_int64(), 1);
    const auto& h = ip0.at("History").as_array();
    ASSERT_EQ(h.size(), 2U);
    EXPECT_EQ(h[0].at("Time").as_string(), "2026-11-22T02:48:14Z");
    EXPECT_EQ(h[0].at("StatusCode").as_string(), "200");  // clean, not " 200 "
    EXPECT_EQ(h[0].at("ExgressKey").as_string(), "k1");
    EXPECT_EQ(h[0].at("Target").as_string(), "example.com");
    EXPECT_EQ(h[0].at("Port").as_string(), "19000");
    EXPECT_EQ(h[0].at("RequestTime").to_number<double>(), 0.25);
    EXPECT_EQ(h[1].at("StatusCode").as_string(), "429");

    const auto& ip1 = all.at(ip_of(1)).as_object();
    EXPECT_TRUE(ip1.at("Banned").as_bool());
    EXPECT_EQ(ip1.at("State").as_string(), "cooling");
    const auto& cooldowns = ip1.at("CoolDowns").as_array();
    ASSERT_EQ(cooldowns.size(), 1U);
    EXPECT_EQ(cooldowns[0].as_array().size(), 2U);  // [start, end] as the Go tool's pairs
  }
}

TEST(HistoryRouteTest, ip_filter_takes_one_or_a_comma_list) {
  ProbeWorld w(4);
  auto v = get_json(w, "/probe?ip=" + ip_of(2));
  EXPECT_THAT(keys(v.at("IPHistory").as_object()), ElementsAre(ip_of(2)));
  EXPECT_THAT(strings(v.at("AvailableIP").as_array()), ElementsAre(ip_of(2)));

  v = get_json(w, "/probe?ip=" + ip_of(3) + "%2C" + ip_of(0) + "&ip=" + ip_of(1));
  EXPECT_THAT(keys(v.at("IPHistory").as_object()), ElementsAre(ip_of(0), ip_of(1), ip_of(3)));

  auto missing = w.get("/probe?ip=" + ip_of(0) + ",10.9.9.9");
  EXPECT_EQ(missing.message.result(), http::status::not_found);
  EXPECT_THAT(body_of(missing), testing::HasSubstr("10.9.9.9"));
}

TEST(HistoryRouteTest, state_filter_selects_ips_by_state) {
  ProbeWorld w(4);
  w.trip(1, base_time());
  w.trip(3, base_time());
  auto v = get_json(w, "/probe?state=cooling");
  EXPECT_THAT(keys(v.at("IPHistory").as_object()), ElementsAre(ip_of(1), ip_of(3)));
  EXPECT_TRUE(v.at("AvailableIP").as_array().empty());

  v = get_json(w, "/probe?state=available,banned");
  EXPECT_THAT(keys(v.at("IPHistory").as_object()), ElementsAre(ip_of(0), ip_of(2)));

  v = get_json(w, "/probe?state=probation");
  EXPECT_TRUE(v.at("IPHistory").as_object().empty());

  auto bad = w.get("/probe?state=sleeping");
  EXPECT_EQ(bad.message.result(), http::status::bad_request);
  EXPECT_THAT(body_of(bad), testing::HasSubstr("sleeping"));
}

TEST(HistoryRouteTest, limit_keeps_the_newest_entries_per_ip) {
  ProbeWorld w(2);
  w.fill(2, 10);
  auto v = get_json(w, "/probe?limit=3");
  ASSERT_EQ(v.at("IPHistory").as_object().size(), 2U);
  for (const auto& kv : v.at("IPHistory").as_object()) {
    const auto& h = kv.value().at("History").as_array();
    ASSERT_EQ(h.size(), 3U);
    EXPECT_EQ(h[2].at("Time").as_string(), "2026-11-22T02:48:23Z");  // the 10th second
  }
  v = get_json(w, "/probe?limit=0");
  EXPECT_TRUE(v.at("IPHistory").at(ip_of(0)).at("History").as_array().empty());
  EXPECT_EQ(w.get("/probe?limit=many").message.result(), http::status::bad_request);
}

TEST(HistoryRouteTest, body_is_streamed_in_bounded_pieces) {
  ipm::config::Config c;
  c.max_history_log_each_ip = 1000;
  ProbeWorld w(50, c);
  w.fill(50, 1000);
  auto r = w.get("/probe");
  ASSERT_TRUE(r.stream);
  std::string whole;
  std::size_t pieces = 0;
  std::size_t largest = 0;
  std::string piece;
  while (r.stream->next(piece)) {
    ++pieces;
    largest = std::max(largest, piece.size());
    whole += piece;
    piece.clear();
  }
  EXPECT_FALSE(r.stream->next(piece));
  EXPECT_TRUE(piece.empty());
  // ~190 KB per IP: each piece holds about one IP, never the whole 9 MB body.
  EXPECT_GT(pieces, 40U);
  EXPECT_LT(largest, whole.size() / 20);
  const auto v = json::parse(whole);
  EXPECT_EQ(v.at("IPHistory").as_object().size(), 50U);
  EXPECT_EQ(v.at("IPHistory").at(ip_of(49)).at("History").as_array().size(), 1000U);
}

TEST(HistoryRouteTest, log_text_is_escaped_into_valid_json) {
  ProbeWorld w(1);
  w.log(0, 200, base_time(), "quote\"back\\slash\nnew", std::string_view("bad\xff\xfeutf8", 9));
  const auto v = get_json(w, "/probe");
  const auto& e = v.at("IPHistory").at(ip_of(0)).at("History").as_array().at(0);
  EXPECT_EQ(e.at("ExgressKey").as_string(), "quote\"back\\slash\nnew");
  EXPECT_EQ(e.at("Target").as_string(), "bad\xEF\xBF\xBD\xEF\xBF\xBDutf8");
}

TEST(HistoryRouteTest, an_ip_removed_while_streaming_is_skipped) {
  ProbeWorld w(3);
  auto r = w.get("/probe");
  w.engine.reload({ipm::test::egresses(1)}, base_time());
  const auto v = json::parse(body_of(r));
  EXPECT_THAT(keys(v.at("IPHistory").as_object()), ElementsAre(ip_of(0)));
  EXPECT_THAT(strings(v.at("AvailableIP").as_array()),
              UnorderedElementsAre(ip_of(0), ip_of(1), ip_of(2)));
}

TEST(HistoryRouteTest, summary_counts_the_pool_and_lists_the_ips_not_available) {
  ProbeWorld w(1000);
  w.fill(1000, 3);
  const auto t = base_time() + std::chrono::minutes(5);
  w.trip(7, t);
  w.engine.ban(ip_of(9), ipm::pool::TimePoint::max(), "bad exit", t);

  auto r = w.get("/probe?summary=1");
  ASSERT_EQ(r.message.result(), http::status::ok);
  const std::string body = body_of(r);
  EXPECT_LT(body.size(), 1000u);  // two IPs listed, not 1,000 IPs x their histories
  const auto v = json::parse(body);
  EXPECT_THAT(keys(v.as_object()), ElementsAre("IPs", "ByState", "AllUnavailable", "IPList"));
  EXPECT_EQ(v.at("IPs").as_int64(), 1000);
  EXPECT_EQ(v.at("ByState").at("available").as_int64(), 998);
  EXPECT_EQ(v.at("ByState").at("cooling").as_int64(), 1);
  EXPECT_EQ(v.at("ByState").at("banned").as_int64(), 1);
  EXPECT_FALSE(v.at("AllUnavailable").as_bool());
  const auto& list = v.at("IPList").as_array();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].at("IP").as_string(), ip_of(7));
  EXPECT_EQ(list[0].at("Port").as_string(), "19007");
  EXPECT_EQ(list[0].at("State").as_string(), "cooling");
  EXPECT_TRUE(list[0].at("Until").is_string());
  EXPECT_EQ(list[0].at("Failure").as_int64(), 0);  // the streak ends with the ejection
  EXPECT_EQ(list[1].at("State").as_string(), "banned");
  EXPECT_TRUE(list[1].at("Until").is_null());  // until unbanned
  EXPECT_THAT(std::string(list[1].at("Reason").as_string()), testing::HasSubstr("bad exit"));

  // state= chooses the IPs listed; the counts stay the pool's.
  const auto banned = get_json(w, "/probe?summary=1&state=banned");
  ASSERT_EQ(banned.at("IPList").as_array().size(), 1u);
  EXPECT_EQ(banned.at("IPs").as_int64(), 1000);
  EXPECT_EQ(get_json(w, "/probe?summary=1&state=available").at("IPList").as_array().size(), 998u);
  // summary=0 is the full form.
  EXPECT_EQ(get_json(w, "/probe?summary=0&ip=" + ip_of(7)).at("IPHistory").as_object().size(), 1u);
}

TEST(HistoryRouteTest, summary_refuses_what_it_cannot_honour) {
  ProbeWorld w(3);
  for (const char* bad :
       {"/probe?summary=yes", "/probe?summary=1&limit=5", "/probe?summary=1&ip=10.0.0.1",
        "/probe?summary=1&summary=1", "/probe?summary=1&state=asleep"}) {
    auto r = w.get(bad);
    EXPECT_EQ(r.message.result(), http::status::bad_request) << bad;
    EXPECT_THAT(body_of(r), testing::HasSubstr("\"error\"")) << bad;
  }
}

}  // namespace
