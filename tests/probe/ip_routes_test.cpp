// /api/ip/{ip} and the manual ban / unban / reset.
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
using testing::HasSubstr;

json::value parse(ipm::probe::Response& r) {
  return json::parse(body_of(r));
}
json::value parse(ipm::probe::Response&& r) {
  return parse(r);
}

TEST(IpRoutesTest, detail_shows_state_reason_counters_backoff_and_recent_history) {
  ProbeWorld w(2);
  w.fill(1, 5);
  w.trip(0, base_time() + std::chrono::seconds(10));
  auto r = w.get("/api/ip/" + ip_of(0) + "?limit=2");
  ASSERT_EQ(r.message.result(), http::status::ok);
  const auto v = parse(r);
  EXPECT_EQ(v.at("ip").as_string(), ip_of(0));
  EXPECT_EQ(v.at("port").as_int64(), 19000);
  EXPECT_EQ(v.at("state").as_string(), "cooling");
  EXPECT_THAT(std::string(v.at("reason").as_string()), HasSubstr("429"));
  EXPECT_EQ(v.at("last_decision").as_string(), "eject");
  EXPECT_FALSE(v.at("until").is_null());
  EXPECT_EQ(v.at("counters").at("events").as_int64(), 8);
  EXPECT_EQ(v.at("counters").at("failures").as_int64(), 3);
  EXPECT_EQ(v.at("counters").at("ejections").as_int64(), 1);
  EXPECT_GE(v.at("backoff_seconds").to_number<double>(), 600.0);
  const auto& history = v.at("history").as_array();
  ASSERT_EQ(history.size(), 2U);  // newest first
  EXPECT_EQ(history[0].at("status").as_int64(), 429);
  EXPECT_EQ(v.at("cooldowns").as_array().size(), 1U);
  EXPECT_EQ(v.at("cooldowns").at(0).at("reason").as_string(), "failures");
  const auto& decisions = v.at("decisions").as_array();
  ASSERT_FALSE(decisions.empty());
  EXPECT_EQ(decisions[0].at("kind").as_string(), "eject");
  EXPECT_EQ(decisions[0].at("to").as_string(), "cooling");
}

TEST(IpRoutesTest, unknown_ip_is_404) {
  ProbeWorld w(1);
  for (const char* path : {"/api/ip/10.9.9.9", "/api/ip/not-an-ip"}) {
    auto r = w.get(path);
    EXPECT_EQ(r.message.result(), http::status::not_found) << path;
  }
  EXPECT_EQ(w.post("/api/ip/10.9.9.9/ban").message.result(), http::status::not_found);
  EXPECT_EQ(w.post("/api/ip/10.9.9.9/unban").message.result(), http::status::not_found);
  EXPECT_EQ(w.post("/api/ip/10.9.9.9/reset").message.result(), http::status::not_found);
}

TEST(IpRoutesTest, ban_for_a_duration_with_a_reason_then_unban) {
  ProbeWorld w(2);
  auto r = w.post("/api/ip/" + ip_of(1) + "/ban?for=10m&reason=abuse+report");
  ASSERT_EQ(r.message.result(), http::status::ok) << body_of(r);
  auto v = parse(r);
  EXPECT_EQ(v.at("state").as_string(), "banned");
  EXPECT_THAT(std::string(v.at("reason").as_string()), HasSubstr("abuse report"));
  EXPECT_EQ(v.at("until").as_string(), "2026-11-22T03:58:14Z");  // now (base + 1h) + 10m

  auto probe = w.get("/probe?ip=" + ip_of(1));
  const auto p = json::parse(body_of(probe));
  EXPECT_TRUE(p.at("IPHistory").at(ip_of(1)).at("Banned").as_bool());
  EXPECT_TRUE(p.at("AvailableIP").as_array().empty());

  r = w.post("/api/ip/" + ip_of(1) + "/unban");
  ASSERT_EQ(r.message.result(), http::status::ok);
  EXPECT_EQ(parse(r).at("state").as_string(), "available");
}

TEST(IpRoutesTest, ban_without_for_lasts_until_unbanned) {
  ProbeWorld w(2);
  auto r = w.post("/api/ip/" + ip_of(0) + "/ban");
  ASSERT_EQ(r.message.result(), http::status::ok);
  const auto v = parse(r);
  EXPECT_EQ(v.at("state").as_string(), "banned");
  EXPECT_TRUE(v.at("until").is_null());
  EXPECT_TRUE(v.at("cooldowns").at(0).at("end").is_null());
}

TEST(IpRoutesTest, reset_forgets_the_backoff) {
  ProbeWorld w(2);
  w.trip(0, base_time());
  auto r = w.post("/api/ip/" + ip_of(0) + "/reset");
  ASSERT_EQ(r.message.result(), http::status::ok);
  const auto v = parse(r);
  EXPECT_EQ(v.at("state").as_string(), "available");
  EXPECT_EQ(v.at("backoff_multiplier").to_number<double>(), 1.0);
}

TEST(IpRoutesTest, bad_ban_durations_are_400) {
  ProbeWorld w(1);
  for (const char* d : {"soon", "-5m", "0s", "100000h", ""}) {
    auto r = w.post("/api/ip/" + ip_of(0) + "/ban?for=" + d);
    EXPECT_EQ(r.message.result(), http::status::bad_request) << d;
    EXPECT_THAT(body_of(r), HasSubstr("for")) << d;
  }
  EXPECT_EQ(w.post("/api/ip/" + ip_of(0) + "/ban?until=5m").message.result(),
            http::status::bad_request);
  auto detail = w.get("/api/ip/" + ip_of(0));
  EXPECT_EQ(parse(detail).at("state").as_string(), "available");
}

// Health per target: a site that blocks IP 0 (403 with the upstream's own status, so the site
// answered) is listed by /api/ip/{ip} with its reason, and /probe?target= answers without it.
TEST(IpRoutesTest, sites_an_ip_cools_for_are_listed_and_probe_target_agrees) {
  ProbeWorld w(3);
  const std::string ip0 = ip_of(0);  // LogEvent holds views: the string outlives them
  for (std::uint32_t k = 0; k < w.cfg.consecutive_failure; ++k) {
    ipm::pool::LogEvent e;
    e.ip = ip0;
    e.port = 19000;
    e.time = base_time() + std::chrono::seconds(k);
    e.status = 403;
    e.upstream_status = 403;
    e.target = "www.a.example";
    w.engine.apply(e);
  }
  w.log(0, 200, base_time() + std::chrono::seconds(5), "k1", "b.example");

  auto detail = parse(w.get("/api/ip/" + ip_of(0)));
  EXPECT_EQ(detail.at("state").as_string(), "available") << "the IP serves every other site";
  const auto& sites = detail.at("sites").as_array();
  ASSERT_EQ(sites.size(), 1U);
  EXPECT_EQ(sites[0].at("site").as_string(), "a.example");
  EXPECT_EQ(sites[0].at("state").as_string(), "cooling");
  EXPECT_THAT(std::string(sites[0].at("reason").as_string()), HasSubstr("403"));
  EXPECT_FALSE(sites[0].at("until").is_null());
  EXPECT_EQ(sites[0].at("ejections").as_int64(), 1);

  auto for_a = w.get("/probe?target=x.a.example&limit=0");
  ASSERT_EQ(for_a.message.result(), http::status::ok);
  const auto a = parse(for_a);
  EXPECT_EQ(a.at("Site").as_string(), "a.example");
  EXPECT_EQ(a.at("AvailableIP"), (json::array{json::string(ip_of(1)), json::string(ip_of(2))}));
  const auto b = parse(w.get("/probe?target=b.example"));
  EXPECT_EQ(b.at("AvailableIP").as_array().size(), 3U);
  const auto plain = parse(w.get("/probe"));
  EXPECT_EQ(plain.at("AvailableIP").as_array().size(), 3U);

  auto summary = w.get("/probe?summary=1&target=a.example");
  ASSERT_EQ(summary.message.result(), http::status::ok);
  const auto s = parse(summary);
  EXPECT_EQ(s.at("ByState").at("cooling").as_int64(), 1);
  ASSERT_EQ(s.at("IPList").as_array().size(), 1U);
  EXPECT_EQ(s.at("IPList").at(0).at("IP").as_string(), ip_of(0));
  EXPECT_EQ(s.at("IPList").at(0).at("For").as_string(), "site");
  EXPECT_THAT(std::string(s.at("IPList").at(0).at("Reason").as_string()), HasSubstr("403"));

  for (const char* bad :
       {"/probe?target=", "/probe?target=-", "/probe?target=a%20b", "/probe?summary=1&target="}) {
    EXPECT_EQ(w.get(bad).message.result(), http::status::bad_request) << bad;
  }
}

TEST(IpRoutesTest, ban_unban_and_reset_name_a_site_with_target) {
  ProbeWorld w(2);
  auto banned = w.post("/api/ip/" + ip_of(1) + "/ban?target=WWW.A.Example&for=10m&reason=abuse");
  ASSERT_EQ(banned.message.result(), http::status::ok) << body_of(banned);
  const auto v = parse(banned);
  EXPECT_EQ(v.at("state").as_string(), "available");
  ASSERT_EQ(v.at("sites").as_array().size(), 1U);
  EXPECT_EQ(v.at("sites").at(0).at("site").as_string(), "a.example");
  EXPECT_EQ(v.at("sites").at(0).at("state").as_string(), "banned");
  EXPECT_THAT(std::string(v.at("sites").at(0).at("reason").as_string()), HasSubstr("abuse"));
  EXPECT_EQ(parse(w.get("/probe?target=a.example")).at("AvailableIP").as_array().size(), 1U);

  auto unbanned = w.post("/api/ip/" + ip_of(1) + "/unban?target=a.example");
  ASSERT_EQ(unbanned.message.result(), http::status::ok) << body_of(unbanned);
  EXPECT_EQ(parse(w.get("/probe?target=a.example")).at("AvailableIP").as_array().size(), 2U);
  auto reset = w.post("/api/ip/" + ip_of(1) + "/reset?target=a.example");
  EXPECT_TRUE(reset.message.result() == http::status::ok ||
              reset.message.result() == http::status::not_found)
      << "an unbanned site's record may already be forgotten";
  EXPECT_EQ(w.post("/api/ip/" + ip_of(1) + "/unban?target=c.example").message.result(),
            http::status::not_found)
      << "nothing kept for c.example";
  EXPECT_EQ(w.post("/api/ip/" + ip_of(1) + "/ban?target=").message.result(),
            http::status::bad_request);
  EXPECT_EQ(w.post("/api/ip/" + ip_of(1) + "/weight?value=2&target=a.example").message.result(),
            http::status::bad_request)
      << "weights are per egress";
  EXPECT_EQ(w.post("/api/ip/10.9.9.9/ban?target=a.example").message.result(),
            http::status::not_found);
}

}  // namespace
