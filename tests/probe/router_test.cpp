#include "probe/router.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "tests/probe/fixture.hpp"

namespace {

namespace http = boost::beast::http;
namespace json = boost::json;
using ipm::test::base_time;
using ipm::test::ip_of;
using ipm::test::ProbeWorld;
using testing::HasSubstr;
using testing::Not;

// Scalars as text: the config view keeps the Go tool's types (ports as strings there).
std::string text_of(const json::value& v) {
  return v.is_string() ? std::string(v.as_string()) : json::serialize(v);
}

json::value body_json(ipm::probe::Response& r) {
  return json::parse(ipm::probe::body_of(r));
}

std::string header(const ipm::probe::Response& r, http::field f) {
  const auto it = r.message.find(f);
  return it == r.message.end() ? "" : std::string(it->value());
}

TEST(RouterTest, ping_answers_pong) {
  ProbeWorld w(2);
  auto r = w.get("/ping");
  EXPECT_EQ(r.message.result(), http::status::ok);
  EXPECT_EQ(ipm::probe::body_of(r), "pong");
  EXPECT_THAT(header(r, http::field::content_type), HasSubstr("text/plain"));
}

TEST(RouterTest, head_is_answered_as_get) {
  ProbeWorld w(2);
  auto r = w.request(http::verb::head, "/ping");
  EXPECT_EQ(r.message.result(), http::status::ok);
}

TEST(RouterTest, unknown_route_is_404_with_a_json_error) {
  ProbeWorld w(2);
  for (const char* path : {"/nope", "/index.html", "/assets/", "/assets/x.js", "/api", "/api/ip/",
                           "/api/ip/10.0.0.0/explode", "/pingx"}) {
    auto r = w.get(path);
    EXPECT_EQ(r.message.result(), http::status::not_found) << path;
    EXPECT_TRUE(body_json(r).as_object().contains("error")) << path;
  }
}

TEST(RouterTest, wrong_method_is_405_with_allow) {
  ProbeWorld w(2);
  auto r = w.post("/ping");
  EXPECT_EQ(r.message.result(), http::status::method_not_allowed);
  EXPECT_EQ(header(r, http::field::allow), "GET, HEAD");

  r = w.get("/api/ip/renew");
  EXPECT_EQ(r.message.result(), http::status::method_not_allowed);
  EXPECT_EQ(header(r, http::field::allow), "POST");

  r = w.request(http::verb::delete_, "/api/ip/" + ip_of(0) + "/ban");
  EXPECT_EQ(r.message.result(), http::status::method_not_allowed);
  EXPECT_EQ(header(r, http::field::allow), "POST");
}

TEST(RouterTest, bad_targets_and_unknown_parameters_are_400) {
  ProbeWorld w(2);
  EXPECT_EQ(w.get("http://example.com/ping").message.result(), http::status::bad_request);
  EXPECT_EQ(w.get("/ping?x=%zz").message.result(), http::status::bad_request);
  auto r = w.get("/ping?verbose=1");
  EXPECT_EQ(r.message.result(), http::status::bad_request);
  EXPECT_THAT(ipm::probe::body_of(r), HasSubstr("verbose"));
  r = w.get("/probe?limt=5");
  EXPECT_EQ(r.message.result(), http::status::bad_request);
  EXPECT_THAT(ipm::probe::body_of(r), HasSubstr("limt"));
  EXPECT_EQ(w.get("/probe?limit=1&limit=2").message.result(), http::status::bad_request);
}

TEST(RouterTest, config_is_the_redacted_effective_config) {
  ipm::config::Config c;
  c.api_token = "s3cret-token";
  c.probe_port = 9999;
  ProbeWorld w(1, c);
  for (const char* path : {"/config", "/api/config"}) {
    auto r = w.get(path);
    ASSERT_EQ(r.message.result(), http::status::ok);
    EXPECT_EQ(header(r, http::field::content_type), "application/json");
    const std::string body = ipm::probe::body_of(r);
    EXPECT_THAT(body, Not(HasSubstr("s3cret")));
    const auto v = json::parse(body);
    EXPECT_EQ(text_of(v.at("probe_port")), "9999");
    EXPECT_EQ(v.at("api_token").as_string(), "<redacted>");
  }
}

// What SIGHUP hands the probe governs the next request: the token it must carry, and
// /config, which shows the running config rather than the one the probe started with.
TEST(RouterTest, a_reloaded_config_governs_the_next_request) {
  ProbeWorld w(1);
  const std::string ban = "/api/ip/" + ipm::test::ip_of(0) + "/ban";
  EXPECT_EQ(w.post(ban).message.result(), http::status::ok) << "no token: loopback may act";

  ipm::config::Config c;
  c.probe_port = 1234;
  c.api_token = "t0ken";
  w.context.set_config(c);
  EXPECT_EQ(w.post(ban).message.result(), http::status::unauthorized);
  EXPECT_EQ(w.request(http::verb::post, ban, "127.0.0.1", {{"Authorization", "Bearer t0ken"}})
                .message.result(),
            http::status::ok);
  auto r = w.get("/config");
  EXPECT_EQ(text_of(body_json(r).at("probe_port")), "1234");
}

TEST(RouterTest, metrics_serializes_every_collectable_in_prometheus_text) {
  ProbeWorld w(1);
  auto& family =
      prometheus::BuildCounter().Name("test_things_total").Help("Things.").Register(*w.registry);
  family.Add({{"kind", "a"}}).Increment(3);
  auto r = w.get("/metrics");
  ASSERT_EQ(r.message.result(), http::status::ok);
  EXPECT_EQ(header(r, http::field::content_type), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_THAT(ipm::probe::body_of(r), HasSubstr("test_things_total{kind=\"a\"} 3"));
}

TEST(RouterTest, decisions_are_newest_first_with_a_limit) {
  ProbeWorld w(1);
  for (std::uint32_t i = 1; i <= 5; ++i) {
    ipm::pool::Decision d;
    d.time = base_time() + std::chrono::seconds(i);
    d.client = "127.0.0.1:" + std::to_string(40000 + i);
    d.egress = {ip_of(0), 19000, "", 1};
    d.tries = i;
    d.end = ipm::pool::ConnectionEnd::dial_failed;
    w.decisions.record(d);
  }
  auto r = w.get("/api/decisions?limit=2");
  ASSERT_EQ(r.message.result(), http::status::ok);
  const auto v = body_json(r);
  EXPECT_EQ(v.at("total").as_int64(), 5);
  const auto& list = v.at("decisions").as_array();
  ASSERT_EQ(list.size(), 2U);
  EXPECT_EQ(list[0].at("tries").as_int64(), 5);
  EXPECT_EQ(list[0].at("client").as_string(), "127.0.0.1:40005");
  EXPECT_EQ(list[0].at("ip").as_string(), ip_of(0));
  EXPECT_EQ(list[0].at("end").as_string(), "dial_failed");
  EXPECT_EQ(list[0].at("time").as_string(), "2026-11-22T02:48:19Z");
  EXPECT_EQ(list[1].at("tries").as_int64(), 4);

  EXPECT_EQ(w.get("/api/decisions?limit=-1").message.result(), http::status::bad_request);
  EXPECT_EQ(w.get("/api/decisions?limit=").message.result(), http::status::bad_request);
  auto all = w.get("/api/decisions");
  EXPECT_EQ(body_json(all).at("decisions").as_array().size(), 5U);
}

TEST(RouterTest, routes_without_their_collaborator_answer_503) {
  ProbeWorld w(1);
  w.context.decisions = nullptr;
  w.context.engine = nullptr;
  EXPECT_EQ(w.get("/api/decisions").message.result(), http::status::service_unavailable);
  EXPECT_EQ(w.get("/probe").message.result(), http::status::service_unavailable);
  EXPECT_EQ(w.get("/api/ip/" + ip_of(0)).message.result(), http::status::service_unavailable);
  EXPECT_EQ(w.post("/api/ip/" + ip_of(0) + "/ban").message.result(),
            http::status::service_unavailable);
  EXPECT_EQ(w.post("/api/ip/renew").message.result(), http::status::service_unavailable);
}

}  // namespace
