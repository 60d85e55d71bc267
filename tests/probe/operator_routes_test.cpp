// Issue 14 in the router: /ready, the token for read routes, the weight route, and every
// operator action going through the journal with the client's address before it applies.
#include "probe/operator_actions.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/probe/fixture.hpp"

namespace {

namespace http = boost::beast::http;
using ipm::probe::body_of;
using ipm::test::ProbeWorld;
using testing::HasSubstr;

TEST(ReadyRouteTest, answers_503_with_what_it_waits_for_then_200) {
  ProbeWorld w(1);
  std::vector<std::string> waiting{"access log /x.log: Permission denied"};
  w.context.readiness = [&] { return waiting; };
  auto r = w.get("/ready");
  EXPECT_EQ(r.message.result(), http::status::service_unavailable);
  EXPECT_THAT(body_of(r), HasSubstr("\"ready\":false"));
  EXPECT_THAT(body_of(r), HasSubstr("access log /x.log: Permission denied"));
  waiting.clear();
  r = w.get("/ready");
  EXPECT_EQ(r.message.result(), http::status::ok);
  EXPECT_EQ(body_of(r), "{\"ready\":true,\"waiting_for\":[]}\n");
}

TEST(ReadRoutesTest, need_the_token_when_required_but_health_checks_stay_open) {
  ipm::config::Config c;
  c.api_token = "t0ken";
  c.require_token_for_reads = true;
  ProbeWorld w(1, c);
  for (const char* path : {"/probe", "/config", "/metrics", "/api/decisions", "/api/ip/10.0.0.0"}) {
    EXPECT_EQ(w.request(http::verb::get, path, "10.9.9.9").message.result(),
              http::status::unauthorized)
        << path;
    EXPECT_EQ(w.request(http::verb::get, path, "10.9.9.9", {{"Authorization", "Bearer t0ken"}})
                  .message.result(),
              http::status::ok)
        << path;
  }
  for (const char* path : {"/ping", "/ready"})
    EXPECT_EQ(w.request(http::verb::get, path, "10.9.9.9").message.result(), http::status::ok);
}

TEST(ReadRoutesTest, stay_open_by_default) {
  ipm::config::Config c;
  c.api_token = "t0ken";
  ProbeWorld w(1, c);
  EXPECT_EQ(w.request(http::verb::get, "/probe", "10.9.9.9").message.result(), http::status::ok);
}

TEST(OperatorActionsTest, are_journaled_with_the_client_before_they_apply) {
  ProbeWorld w(2);
  std::vector<ipm::pool::OperatorAction> journaled;
  w.context.journal = [&](const ipm::pool::OperatorAction& a) -> std::optional<std::string> {
    // The ban is not applied yet when the journal sees it.
    if (journaled.empty()) {
      EXPECT_EQ(w.engine.read([](const auto& e) { return e.find("10.0.0.1")->state; }),
                ipm::pool::IpState::available);
    }
    journaled.push_back(a);
    return std::nullopt;
  };
  auto r = w.request(http::verb::post, "/api/ip/10.0.0.1/ban?for=10m&reason=abuse", "::1");
  ASSERT_EQ(r.message.result(), http::status::ok) << body_of(r);
  ASSERT_EQ(journaled.size(), 1U);
  EXPECT_EQ(journaled[0].kind, ipm::pool::OperatorAction::Kind::ban);
  EXPECT_EQ(journaled[0].client, "::1");
  EXPECT_EQ(journaled[0].reason, "abuse");
  EXPECT_EQ(journaled[0].until, w.now + std::chrono::minutes(10));
  EXPECT_EQ(w.engine.read([](const auto& e) { return e.find("10.0.0.1")->state; }),
            ipm::pool::IpState::banned);

  r = w.post("/api/ip/10.0.0.1/weight?value=0");
  ASSERT_EQ(r.message.result(), http::status::ok) << body_of(r);
  EXPECT_THAT(body_of(r), HasSubstr("\"weight\":0"));
  EXPECT_EQ(journaled.back().kind, ipm::pool::OperatorAction::Kind::weight);
  EXPECT_EQ(journaled.back().weight, 0U);
  w.post("/api/ip/10.0.0.1/unban");
  w.post("/api/ip/10.0.0.1/reset");
  EXPECT_EQ(journaled.size(), 4U);

  // An unknown IP is not journaled.
  EXPECT_EQ(w.post("/api/ip/10.7.7.7/ban").message.result(), http::status::not_found);
  EXPECT_EQ(journaled.size(), 4U);
}

TEST(OperatorActionsTest, an_action_that_cannot_be_journaled_is_not_applied) {
  ProbeWorld w(1);
  w.context.journal = [](const ipm::pool::OperatorAction&) -> std::optional<std::string> {
    return "/var/lib/ipmanager/actions.journal: cannot append: Read-only file system";
  };
  auto r = w.post("/api/ip/10.0.0.0/ban");
  EXPECT_EQ(r.message.result(), http::status::service_unavailable);
  EXPECT_THAT(body_of(r), HasSubstr("not applied"));
  EXPECT_THAT(body_of(r), HasSubstr("Read-only file system"));
  EXPECT_EQ(w.engine.read([](const auto& e) { return e.find("10.0.0.0")->state; }),
            ipm::pool::IpState::available);
}

TEST(WeightRouteTest, drains_with_zero_and_rejects_bad_values) {
  ProbeWorld w(2);
  EXPECT_EQ(w.post("/api/ip/10.0.0.0/weight").message.result(), http::status::bad_request);
  EXPECT_EQ(w.post("/api/ip/10.0.0.0/weight?value=-1").message.result(), http::status::bad_request);
  EXPECT_EQ(w.post("/api/ip/10.0.0.0/weight?value=abc").message.result(),
            http::status::bad_request);
  EXPECT_EQ(w.post("/api/ip/10.0.0.0/weight?value=2000000").message.result(),
            http::status::bad_request);
  ASSERT_EQ(w.post("/api/ip/10.0.0.0/weight?value=0").message.result(), http::status::ok);
  // Drained: selection offers only the other IP.
  for (int i = 0; i < 50; ++i) {
    auto pick = w.selector.pick();
    ASSERT_TRUE(pick);
    EXPECT_EQ(pick->egress().ip, "10.0.0.1");
  }
  // The weight survives a reload of the pool config.
  w.engine.reload(ipm::test::egresses(2), w.now);
  EXPECT_EQ(w.engine.read([](const auto& e) { return e.find("10.0.0.0")->egress.weight; }), 0U);
}

TEST(DisableRouteTest, disable_takes_an_ip_out_of_selection_until_enable_and_shows_it) {
  ProbeWorld w(2);
  std::vector<ipm::pool::OperatorAction> journaled;
  w.context.journal = [&](const ipm::pool::OperatorAction& a) -> std::optional<std::string> {
    journaled.push_back(a);
    return std::nullopt;
  };
  auto r = w.post("/api/ip/10.0.0.0/disable");
  ASSERT_EQ(r.message.result(), http::status::ok) << body_of(r);
  EXPECT_THAT(body_of(r), HasSubstr("\"disabled\":true"));
  ASSERT_EQ(journaled.size(), 1U);
  EXPECT_EQ(journaled[0].kind, ipm::pool::OperatorAction::Kind::disable);
  for (int i = 0; i < 50; ++i) {
    auto pick = w.selector.pick();
    ASSERT_TRUE(pick);
    EXPECT_EQ(pick->egress().ip, "10.0.0.1");
  }
  // /probe: out of AvailableIP, marked in its entry; /api/ip/{ip} says so too.
  auto probe_answer = w.get("/probe");
  const std::string probe = body_of(probe_answer);
  EXPECT_THAT(probe, HasSubstr("\"AvailableIP\":[\"10.0.0.1\"]"));
  EXPECT_THAT(probe, HasSubstr("\"State\":\"available\",\"Disabled\":true"));
  auto detail = w.get("/api/ip/10.0.0.0");
  EXPECT_THAT(body_of(detail), HasSubstr("\"disabled\":true"));

  EXPECT_EQ(w.post("/api/ip/10.0.0.0/disable?for=1m").message.result(), http::status::bad_request);
  EXPECT_EQ(w.post("/api/ip/10.7.7.7/disable").message.result(), http::status::not_found);
  ASSERT_EQ(w.post("/api/ip/10.0.0.0/enable").message.result(), http::status::ok);
  EXPECT_EQ(journaled.back().kind, ipm::pool::OperatorAction::Kind::enable);
  auto after = w.get("/probe");
  EXPECT_THAT(body_of(after), HasSubstr("\"AvailableIP\":[\"10.0.0.0\",\"10.0.0.1\"]"));
  bool got_it_back = false;
  for (int i = 0; i < 50 && !got_it_back; ++i)
    got_it_back = w.selector.pick()->egress().ip == "10.0.0.0";
  EXPECT_TRUE(got_it_back);
}

TEST(DisableRouteTest, needs_the_token_as_ban_does) {
  ipm::config::Config c;
  c.api_token = "t0ken";
  ProbeWorld w(1, c);
  for (const char* path : {"/api/ip/10.0.0.0/disable", "/api/ip/10.0.0.0/enable"}) {
    EXPECT_EQ(w.request(http::verb::post, path, "10.9.9.9").message.result(),
              http::status::unauthorized)
        << path;
  }
  EXPECT_FALSE(w.engine.read([](const auto& e) { return e.find("10.0.0.0")->disabled; }));
  EXPECT_EQ(w.request(http::verb::post, "/api/ip/10.0.0.0/disable", "10.9.9.9",
                      {{"Authorization", "Bearer t0ken"}})
                .message.result(),
            http::status::ok);
  EXPECT_TRUE(w.engine.read([](const auto& e) { return e.find("10.0.0.0")->disabled; }));
}

TEST(ClientsRouteTest, lists_each_clients_open_connections_and_the_caps) {
  ipm::config::Config c;
  c.max_connections_per_client = 8;
  ProbeWorld w(1, c);
  EXPECT_EQ(w.get("/api/clients").message.result(), http::status::service_unavailable)
      << "no proxy wired";
  w.context.clients = [] {
    return std::vector<ipm::clients::ClientLimits::ClientCount>{
        {"10.0.0.5", 3, {{"10.0.0.0", 2}, {"10.0.0.1", 1}}}, {"fd00::/64", 1, {}}};
  };
  auto r = w.get("/api/clients");
  ASSERT_EQ(r.message.result(), http::status::ok);
  EXPECT_EQ(body_of(r),
            R"({"max_connections_per_client":8,"max_connections_per_client_egress":0,)"
            R"("clients":[{"client":"10.0.0.5","connections":3,"egresses":{"10.0.0.0":2,)"
            R"("10.0.0.1":1}},{"client":"fd00::/64","connections":1,"egresses":{}}]})"
            "\n");
  EXPECT_EQ(w.get("/api/clients?x=1").message.result(), http::status::bad_request);
}

}  // namespace
