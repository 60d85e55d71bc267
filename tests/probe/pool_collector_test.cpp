#include "probe/pool_collector.hpp"

#include <map>
#include <regex>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>

#include "probe/exposition.hpp"
#include "probe/pool_snapshot.hpp"
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

// The Go tool's /metrics: every per-IP family for every IP, history by ip, status and target.
ipm::config::Config go_tool_metrics(ipm::config::Config c = {}) {
  c.metrics_per_ip = ipm::config::MetricsPerIp::all;
  c.metrics_history_labels = {.ip = true, .status_code = true, .target = true};
  return c;
}

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
  ProbeWorld w(3, go_tool_metrics());
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

// Health per target: per-site ejections and the sites tracked are counted without a site
// label, so a thousand blocked sites add no series.
TEST(PoolCollectorTest, per_site_health_is_counted_without_a_site_label) {
  ProbeWorld w(2);
  const std::string ip0 = ip_of(0);  // LogEvent holds views: the string outlives them
  add_collector(w);
  for (int site = 0; site < 50; ++site) {
    for (std::uint32_t k = 0; k < w.cfg.consecutive_failure; ++k) {
      ipm::pool::LogEvent e;
      e.ip = ip0;
      e.port = 19000;
      e.time = ipm::test::base_time() + std::chrono::seconds(site * 10 + static_cast<int>(k));
      e.status = 403;
      e.upstream_status = 403;
      const std::string target = "s" + std::to_string(site) + ".example";
      e.target = target;
      w.engine.apply(e);
    }
  }
  const std::string text = scrape(w);
  EXPECT_THAT(text, HasSubstr("ipmanager_site_ejections_total{reason=\"failures\"} "));
  EXPECT_THAT(text, HasSubstr("ipmanager_sites_tracked "));
  EXPECT_THAT(text, HasSubstr("ipmanager_site_pairs{state=\"cooling\"} "));
  EXPECT_THAT(text, Not(HasSubstr("s7.example"))) << "no site names in /metrics";
  const auto snap = w.engine.read(
      [](const ipm::strategy::Engine& e) { return ipm::probe::take_pool_snapshot(e); });
  EXPECT_GT(snap.counters.site_ejections, 0U);
  EXPECT_EQ(snap.sites_held, w.engine.read([](const auto& e) { return e.sites().size() - 2; }));
}

TEST(PoolCollectorTest, target_label_is_capped_and_the_rest_folded_into_other) {
  ipm::config::Config c;
  c.history_target_label_cap = 2;
  c.metrics_history_labels.target = true;
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
  using ipm::config::MetricsPerIp;
  for (const auto& [ips, per_ip] : {std::pair<std::size_t, MetricsPerIp>{0, MetricsPerIp::all},
                                    {1, MetricsPerIp::all},
                                    {3, MetricsPerIp::all},
                                    {50, MetricsPerIp::all},
                                    {300, MetricsPerIp::all},
                                    {50, MetricsPerIp::unavailable},
                                    {300, MetricsPerIp::compact}}) {
    ipm::config::Config c = go_tool_metrics();
    c.metrics_per_ip = per_ip;
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
    collector.AppendText(text, 0);
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

// Sample lines of `family` (exactly that name, with or without labels).
std::size_t count_of(const std::string& text, const std::string& family) {
  std::size_t n = 0;
  for (std::size_t at = text.find('\n' + family); at != std::string::npos;
       at = text.find('\n' + family, at + 1)) {
    const char next = text[at + 1 + family.size()];
    n += next == '{' || next == ' ' ? 1 : 0;
  }
  return n;
}

// A pool of `ips` with IP 1 and every 100th IP cooling, one banned, traffic everywhere.
void large_pool(ProbeWorld& w, std::size_t ips) {
  w.fill(ips, 20);
  const auto t = base_time() + std::chrono::minutes(5);
  for (std::size_t i = 1; i < ips; i += 100)
    w.trip(i, t);
  w.engine.ban(ip_of(2), ipm::pool::TimePoint::max(), "test", t);
}

TEST(PoolCollectorTest, default_scrape_is_at_most_five_series_per_ip_plus_a_bounded_rest) {
  constexpr std::size_t kIps = 2000;
  ProbeWorld w(kIps);
  add_collector(w);
  large_pool(w, kIps);
  const std::string text = scrape(w);
  const std::size_t series = ipm::probe::count_series(text);
  EXPECT_LE(series, 5 * kIps + 200) << series;
  // The Go tool's gauges for every IP, the detail for the 21 IPs out of traffic only.
  for (const char* family : {"ipmanager_all_list", "ipmanager_available_list",
                             "ipmanager_cooldown_list", "ipmanager_consecutive_failure"})
    EXPECT_EQ(count_of(text, family), kIps) << family;
  EXPECT_EQ(count_of(text, "ipmanager_ip_state"), 4 * 21);
  EXPECT_EQ(count_of(text, "ipmanager_ip_backoff_seconds"), 21);
  EXPECT_THAT(text, HasSubstr("ipmanager_pool_ips{state=\"cooling\"} 20"));
  EXPECT_THAT(text, HasSubstr("ipmanager_ejections_total{reason=\"failures\"} 20"));
  // History: rows by status over the whole pool, none with an ip.
  EXPECT_THAT(text, HasSubstr("ipmanager_history_response{status_code=\"404\"} 4000\n"));
  EXPECT_THAT(text, Not(HasSubstr("ipmanager_history_response{ip=")));
  EXPECT_THAT(text, HasSubstr("ipmanager_metrics_series " + std::to_string(series) + "\n"));
  EXPECT_THAT(text, HasSubstr("ipmanager_metrics_series_dropped 0\n"));
  EXPECT_EQ(promtool_check(text), "");
}

TEST(PoolCollectorTest, compact_keeps_per_ip_series_only_for_ips_out_of_traffic) {
  constexpr std::size_t kIps = 2000;
  ipm::config::Config c;
  c.metrics_per_ip = ipm::config::MetricsPerIp::compact;
  ProbeWorld w(kIps, c);
  add_collector(w);
  large_pool(w, kIps);
  const std::string text = scrape(w);
  EXPECT_LE(ipm::probe::count_series(text), 21 * 14 + 200);
  EXPECT_EQ(count_of(text, "ipmanager_all_list"), 21);
  EXPECT_THAT(text, HasSubstr("ipmanager_cooldown_list{ip=\"" + ip_of(1) + "\""));
  EXPECT_THAT(text, Not(HasSubstr("{ip=\"" + ip_of(0) + "\"")));
  EXPECT_THAT(text, HasSubstr("ipmanager_pool_ips{state=\"available\"} 1979"));
}

// With the ip label, the IPs without rows of their own are summed into rows without ip, so
// ipmanager_history_response summed by status is the pool's in every setting.
TEST(PoolCollectorTest, history_summed_by_status_is_the_same_in_every_setting) {
  using ipm::config::MetricsPerIp;
  std::string reference;
  for (const MetricsPerIp per_ip :
       {MetricsPerIp::all, MetricsPerIp::unavailable, MetricsPerIp::compact}) {
    for (const bool with_ip : {false, true}) {
      ipm::config::Config c;
      c.metrics_per_ip = per_ip;
      c.metrics_history_labels.ip = with_ip;
      ProbeWorld w(300, c);
      add_collector(w);
      large_pool(w, 300);
      const std::string text = scrape(w);
      std::map<std::string, double> by_status;
      const std::regex row(
          R"re(ipmanager_history_response\{[^}]*status_code="(\d+)"[^}]*\} (\d+))re");
      for (auto it = std::sregex_iterator(text.begin(), text.end(), row);
           it != std::sregex_iterator(); ++it)
        by_status[(*it)[1]] += std::stod((*it)[2]);
      std::string summary;
      for (const auto& [status, n] : by_status)
        summary += status + "=" + std::to_string(n) + " ";
      if (reference.empty())
        reference = summary;
      EXPECT_EQ(summary, reference) << ipm::config::to_string(per_ip) << " ip=" << with_ip;
    }
  }
  EXPECT_THAT(reference, HasSubstr("404="));
}

TEST(PoolCollectorTest, series_cap_drops_per_ip_detail_first_warns_once_and_counts) {
  ipm::config::Config c = go_tool_metrics();
  c.metrics_max_series = 1500;
  ProbeWorld w(300, c);
  std::vector<std::string> warnings;
  w.context.collectables.push_back(std::make_shared<ipm::probe::PoolCollector>(
      w.engine, ipm::probe::BuildInfo{"1", "a"},
      [&](const std::string& m) { warnings.push_back(m); }));
  large_pool(w, 300);
  const std::string first = scrape(w);
  const std::size_t series = ipm::probe::count_series(first);
  EXPECT_LE(series, 1500u);
  EXPECT_GT(series, 1200u);  // the cap takes what it must, not everything
  EXPECT_THAT(first, HasSubstr("ipmanager_metrics_capped_scrapes_total 1\n"));
  EXPECT_THAT(first, Not(HasSubstr("ipmanager_metrics_series_dropped 0\n")));
  // Out of traffic IPs keep their detail; the Go gauges stay for every IP.
  EXPECT_THAT(first, HasSubstr("ipmanager_ip_state{ip=\"" + ip_of(1) + "\""));
  EXPECT_EQ(count_of(first, "ipmanager_all_list"), 300);
  EXPECT_EQ(promtool_check(first), "");
  const std::string second = scrape(w);
  EXPECT_THAT(second, HasSubstr("ipmanager_metrics_capped_scrapes_total 2\n"));
  ASSERT_EQ(warnings.size(), 1u);  // once per change, not per scrape
  EXPECT_THAT(warnings[0], HasSubstr("metrics_max_series (1500)"));

  // A reload that lifts the cap ends the warning.
  w.cfg.metrics_max_series = 0;
  w.engine.update([&](ipm::strategy::Engine& e) { e.reconfigure(w.cfg); });
  const std::string uncapped = scrape(w);
  EXPECT_THAT(uncapped, HasSubstr("ipmanager_metrics_series_dropped 0\n"));
  EXPECT_GT(ipm::probe::count_series(uncapped), 1500u);
  ASSERT_EQ(warnings.size(), 2u);
  EXPECT_THAT(warnings[1], HasSubstr("fits"));
}

TEST(PoolCollectorTest, pool_aggregates_answer_without_an_ip_label) {
  ProbeWorld w(10);
  add_collector(w);
  for (int k = 0; k < 10; ++k)
    w.log(0, 200, base_time() + std::chrono::seconds(k));
  w.log(1, 200, base_time());
  w.log(1, 502, base_time());   // 1 in 2
  for (int k = 0; k < 10; ++k)  // 1 in 11
    w.log(2, 200, base_time() + std::chrono::seconds(k));
  w.log(2, 429, base_time() + std::chrono::seconds(20));
  w.log(3, 404, base_time());  // neutral only: judged none
  const std::string text = scrape(w);
  EXPECT_THAT(text, HasSubstr("ipmanager_pool_ips_by_failure_ratio{ratio=\"none\"} 7\n"));
  EXPECT_THAT(text, HasSubstr("ipmanager_pool_ips_by_failure_ratio{ratio=\"0\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("ipmanager_pool_ips_by_failure_ratio{ratio=\"0-0.1\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("ipmanager_pool_ips_by_failure_ratio{ratio=\"0.1-0.5\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("ipmanager_responses_total{outcome=\"success\"} 21\n"));
  EXPECT_THAT(text, HasSubstr("ipmanager_responses_total{outcome=\"failure\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("ipmanager_responses_total{outcome=\"neutral\"} 1\n"));
  // Entries held per IP: 10, 2, 11, 1 and six empty IPs.
  EXPECT_THAT(text, HasSubstr("ipmanager_pool_ip_history_entries{at=\"p50\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("ipmanager_pool_ip_history_entries{at=\"p95\"} 11\n"));
  EXPECT_THAT(text, HasSubstr("ipmanager_pool_ip_history_entries{at=\"max\"} 11\n"));
}

TEST(FailureRatioTest, buckets_are_exact_at_their_edges) {
  using ipm::probe::failure_ratio;
  using ipm::probe::FailureRatio;
  EXPECT_EQ(failure_ratio(0, 0), FailureRatio::none);
  EXPECT_EQ(failure_ratio(0, 5), FailureRatio::zero);
  EXPECT_EQ(failure_ratio(1, 10), FailureRatio::up_to_10);
  EXPECT_EQ(failure_ratio(1, 9), FailureRatio::up_to_50);
  EXPECT_EQ(failure_ratio(1, 2), FailureRatio::up_to_50);
  EXPECT_EQ(failure_ratio(2, 3), FailureRatio::below_100);
  EXPECT_EQ(failure_ratio(3, 3), FailureRatio::all);
  EXPECT_EQ(failure_ratio(4'000'000'000U, 4'000'000'001U), FailureRatio::below_100);
}

}  // namespace
