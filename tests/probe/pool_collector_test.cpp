#include "probe/pool_collector.hpp"

#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>

#include "tests/probe/fixture.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/temp_dir.hpp"

namespace {

using ipm::probe::body_of;
using ipm::test::base_time;
using ipm::test::ip_of;
using ipm::test::ProbeWorld;
using testing::HasSubstr;
using testing::Not;

void add_collector(ProbeWorld& w) {
  w.context.collectables.push_back(
      std::make_shared<ipm::probe::PoolCollector>(w.engine, ipm::probe::BuildInfo{"1.2.3", "abc"}));
}

std::string scrape(ProbeWorld& w) {
  auto r = w.get("/metrics");
  EXPECT_EQ(r.message.result(), boost::beast::http::status::ok);
  return body_of(r);
}

// Runs `promtool check metrics` on `text`; returns what it printed (empty when clean) and
// fails the test on a non-zero exit.
std::string promtool_check(const std::string& text) {
  ipm::test::TempDir dir("ipm-promtool");
  ipm::test::write_file(dir / "metrics.txt", text);
  ipm::test::write_file(dir / "check.sh", "exec promtool check metrics < \"$1\"\n");
  ipm::test::SpawnOptions o;
  o.argv = {"/bin/sh", (dir / "check.sh").string(), (dir / "metrics.txt").string()};
  o.stdout_to = dir / "out.txt";
  o.stderr_to = dir / "out.txt";
  const int code = ipm::test::run_command(o, std::chrono::seconds(60));
  const std::string out = ipm::test::read_file(dir / "out.txt");
  EXPECT_EQ(code, 0) << out;
  return out;
}

TEST(PoolCollectorTest, go_tool_gauges_keep_their_names_labels_and_meaning) {
  ProbeWorld w(3);
  add_collector(w);
  w.log(0, 200, base_time());
  w.trip(1, base_time());
  const std::string text = scrape(w);
  EXPECT_THAT(text, HasSubstr("ipmanager_all_list{ip=\"10.0.0.0\",port=\"19000\"} 1"));
  EXPECT_THAT(text, HasSubstr("ipmanager_available_list{ip=\"10.0.0.1\",port=\"19001\"} 0"));
  EXPECT_THAT(text, HasSubstr("ipmanager_available_list{ip=\"10.0.0.2\",port=\"19002\"} 1"));
  EXPECT_THAT(text, HasSubstr("ipmanager_cooldown_list{ip=\"10.0.0.1\",port=\"19001\"} 1"));
  EXPECT_THAT(text, HasSubstr("ipmanager_consecutive_failure{ip=\"10.0.0.1\",port=\"19001\"}"));
  EXPECT_THAT(text, HasSubstr("ipmanager_history_response{ip=\"10.0.0.0\",port=\"19000\","
                              "status_code=\"200\",target=\"example.com\"} 1"));
  EXPECT_THAT(text, HasSubstr("ipmanager_history_response{ip=\"10.0.0.1\",port=\"19001\","
                              "status_code=\"429\",target=\"example.com\"} 3"));
  EXPECT_THAT(text,
              HasSubstr("ipmanager_ip_state{ip=\"10.0.0.1\",port=\"19001\",state=\"cooling\"} 1"));
  EXPECT_THAT(text, HasSubstr("ipmanager_pool_ips{state=\"cooling\"} 1"));
  EXPECT_THAT(text, HasSubstr("ipmanager_ejections_total{reason=\"failures\"} 1"));
  EXPECT_THAT(text, HasSubstr("ipmanager_pool_all_unavailable 0"));
  EXPECT_THAT(text, HasSubstr("ipmanager_build_info{revision=\"abc\",version=\"1.2.3\"} 1"));
}

TEST(PoolCollectorTest, target_label_is_capped_and_the_rest_folded_into_other) {
  ipm::config::Config c;
  c.history_target_label_cap = 2;
  ProbeWorld w(1, c);
  add_collector(w);
  for (int k = 0; k < 5; ++k)
    w.log(0, 200, base_time() + std::chrono::seconds(k), "k", "big.example");
  for (int k = 0; k < 3; ++k)
    w.log(0, 200, base_time() + std::chrono::seconds(10 + k), "k", "mid.example");
  for (const char* t : {"a.example", "b.example", "c.example"})
    w.log(0, 200, base_time() + std::chrono::seconds(20), "k", t);
  w.log(0, 200, base_time() + std::chrono::seconds(21), "k", "");
  const std::string text = scrape(w);
  EXPECT_THAT(text, HasSubstr("target=\"big.example\"} 5"));
  EXPECT_THAT(text, HasSubstr("target=\"mid.example\"} 3"));
  EXPECT_THAT(text, HasSubstr("target=\"other\"} 3"));
  EXPECT_THAT(text, HasSubstr("target=\"-\"} 1"));
  EXPECT_THAT(text, Not(HasSubstr("a.example")));
}

TEST(PoolCollectorTest, an_ip_removed_by_a_reload_leaves_no_series) {
  ProbeWorld w(3);
  add_collector(w);
  w.log(2, 200, base_time());
  EXPECT_THAT(scrape(w), HasSubstr(ip_of(2)));
  w.engine.reload(ipm::test::egresses(2), base_time() + std::chrono::seconds(1));
  EXPECT_THAT(scrape(w), Not(HasSubstr("\"" + ip_of(2) + "\"")));
}

TEST(PoolCollectorTest, promtool_finds_nothing_at_any_pool_size) {
  for (const std::size_t ips : {0, 1, 50, 300}) {
    ProbeWorld w(ips);
    add_collector(w);
    w.fill(ips, 100);
    if (ips > 1) {
      w.trip(1, base_time() + std::chrono::minutes(5));
      w.log(0, 200, base_time() + std::chrono::minutes(5), "k",
            std::string_view("bad\xff\"\\\n", 7));
    }
    const std::string text = scrape(w);
    EXPECT_EQ(promtool_check(text), "") << ips << " IPs";
  }
}

// AppendText() (what /metrics serves) must be exactly TextSerializer over Collect(), in
// every state an IP can be in, with labels that need escaping and odd statuses.
TEST(PoolCollectorTest, direct_text_is_byte_identical_to_text_serializer_at_any_pool_size) {
  for (const std::size_t ips : {0, 1, 3, 50, 300}) {
    ipm::config::Config c;
    c.history_target_label_cap = 5;
    c.cool_down_jitter = 0;  // probation exactly one cool_down after the trip
    ProbeWorld w(ips, c);
    w.fill(ips, 60);
    const auto t = base_time() + std::chrono::minutes(5);
    if (ips >= 3) {
      w.trip(0, t);
      w.engine.tick(t + c.cool_down + std::chrono::seconds(1));  // 0: cooling, then probation
      w.engine.ban(ip_of(2), ipm::pool::TimePoint::max(), "test", t);
      for (std::size_t k = 0; k < 3 * ips; ++k)  // busy enough to keep its own label
        w.log(2, 0, t, "k", std::string_view("q\"\\\n\xff", 5));
      w.log(2, 999, t, "k", "");
      w.log(2, 1200, t, "k", "other");
    }
    if (ips >= 50)
      w.trip(3, t + c.cool_down + std::chrono::seconds(2));  // cooling
    ipm::probe::PoolCollector collector(w.engine, {"1.\"2\"", "a\\b\nc"});
    std::ostringstream expected;
    prometheus::TextSerializer().Serialize(expected, collector.Collect());
    std::string text = "kept\n";
    collector.AppendText(text);
    EXPECT_EQ(text, "kept\n" + std::move(expected).str()) << ips << " IPs";
    if (ips >= 3) {
      EXPECT_THAT(text, HasSubstr("state=\"probation\"} 1"));
      EXPECT_THAT(text, HasSubstr("state=\"banned\"} 1"));
      EXPECT_THAT(text, HasSubstr("target=\"q\\\"\\\\\\n"));
    }
    if (ips >= 50) {
      EXPECT_THAT(text, HasSubstr("state=\"cooling\"} 1"));
    }
  }
}

}  // namespace
