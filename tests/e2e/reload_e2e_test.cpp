// What the README promises of a running ipmanager, proven by what it then does to traffic
// on a real nginx pool: SIGHUP's live keys, POST /api/ip/renew.
#include "tests/e2e/ipmanager_process.hpp"

#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/support/temp_dir.hpp"

namespace {

using ipm::test::Headers;
using ipm::test::IpmanagerProcess;
using ipm::test::ips_in;
using ipm::test::NginxPool;
using ipm::test::NginxPoolOptions;
using ipm::test::pool_of;
using ipm::test::sample;
using ipm::test::wait_until;
using namespace std::chrono_literals;
using testing::HasSubstr;
using testing::Not;

// Rewrites ipmanager's config: what the test started it with, plus `keys` (which must not
// repeat a key of the start: a config file with a key twice is refused).
void rewrite_config(const IpmanagerProcess& ipm, const std::string& keys) {
  std::ofstream(ipm.config_path()) << ipm.config_text() << keys << "\n";
}

// True when `seq` repeats one cycle of all `n` IPs: what round robin does.
bool is_rotation(const std::vector<std::string>& seq, std::size_t n) {
  if (seq.size() < 2 * n)
    return false;
  const std::set<std::string> first(seq.begin(), seq.begin() + static_cast<long>(n));
  if (first.size() != n || first.contains(""))
    return false;
  for (std::size_t i = n; i < seq.size(); ++i) {
    if (seq[i] != seq[i - n])
      return false;
  }
  return true;
}

std::uint64_t parsed_lines(const IpmanagerProcess& ipm) {
  const double v = sample(ipm.metrics(), "ipmanager_scanner_lines_total{result=\"parsed\"}");
  return v < 0 ? 0 : static_cast<std::uint64_t>(v);
}

TEST(ReloadE2ETest, sighup_selection_changes_where_the_next_connections_go) {
  NginxPool pool(pool_of(4));
  ipm::test::TempDir work;
  IpmanagerProcess ipm(pool, "", work.path());
  rewrite_config(ipm, "selection: random");
  ASSERT_TRUE(ipm.reload()) << ipm.stderr_text();
  // Random picks: 40 in a strict rotation would be a 1-in-10^21 accident.
  const auto random_picks = ipm.egress_sequence(40);
  EXPECT_FALSE(is_rotation(random_picks, 4)) << testing::PrintToString(random_picks);
  EXPECT_THAT(random_picks, Not(testing::Contains("")));

  rewrite_config(ipm, "selection: round_robin");
  ASSERT_TRUE(ipm.reload()) << ipm.stderr_text();
  const auto rotation = ipm.egress_sequence(40);
  EXPECT_TRUE(is_rotation(rotation, 4)) << testing::PrintToString(rotation);
  EXPECT_THAT(ipm.stderr_text(), HasSubstr("configuration reloaded: applied selection"));
}

TEST(ReloadE2ETest, sighup_strategy_keys_judge_the_next_failures) {
  NginxPool pool(pool_of(3));
  ipm::test::TempDir work;
  IpmanagerProcess ipm(pool, "selection: round_robin\ncool_down_min: 10m", work.path());
  rewrite_config(ipm, "consecutive_failure: 10");
  ASSERT_TRUE(ipm.reload());
  const std::string blocked = pool.ips()[0];
  pool.block({blocked});

  // Round robin over 3: 4 failures of the blocked IP, fewer than 10.
  EXPECT_EQ(ipm.traffic(12)[403], 4);
  ASSERT_TRUE(wait_until([&] { return parsed_lines(ipm) == 12; }, 10s));
  EXPECT_EQ(ipm.states().at(blocked), "available");

  // Two in a row now make an IP unavailable: the next failure ejects it.
  rewrite_config(ipm, "consecutive_failure: 2");
  ASSERT_TRUE(ipm.reload());
  ipm.traffic(6);
  ASSERT_TRUE(wait_until([&] { return parsed_lines(ipm) == 18; }, 10s));
  EXPECT_EQ(ipm.states().at(blocked), "cooling") << ipm.stderr_text();
  const auto after = ipm.egress_sequence(6);
  EXPECT_THAT(after, Not(testing::Contains(blocked)));
}

TEST(ReloadE2ETest, sighup_api_token_guards_the_next_request) {
  NginxPool pool(pool_of(2));
  ipm::test::TempDir work;
  IpmanagerProcess ipm(pool, "", work.path());
  const std::string ban = "/api/ip/" + pool.ips()[0] + "/ban?for=1m";
  const auto post = [&](const std::string& path, const Headers& headers) {
    return ipm::test::http_request("POST", "127.0.0.1", ipm.probe_port(), path, headers).status;
  };
  // No token: loopback clients may act.
  EXPECT_EQ(post(ban, {}), 200);

  rewrite_config(ipm, "api_token: s3cret");
  ASSERT_TRUE(ipm.reload());
  EXPECT_EQ(post("/api/ip/" + pool.ips()[0] + "/unban", {}), 401);
  EXPECT_EQ(ipm.states().at(pool.ips()[0]), "banned");
  EXPECT_EQ(post("/api/ip/" + pool.ips()[0] + "/unban", {{"Authorization", "Bearer wrong"}}), 401);
  EXPECT_EQ(post("/api/ip/" + pool.ips()[0] + "/unban", {{"Authorization", "Bearer s3cret"}}), 200);
  EXPECT_EQ(ipm.states().at(pool.ips()[0]), "available");
  EXPECT_THAT(ipm.probe("/config").body, Not(HasSubstr("s3cret")));
}

TEST(ReloadE2ETest, sighup_history_target_label_cap_folds_targets_into_other) {
  NginxPoolOptions options = pool_of(2);
  options.fixed_target = false;  // the Go tool's pool: the egress proxies to X-Egress-Host
  NginxPool pool(options);
  ipm::test::TempDir work;
  // The target label is not served by default (metrics_history_labels: [status_code]).
  IpmanagerProcess ipm(pool, "metrics_history_labels: [status_code, target]\n", work.path());
  // Two targets: the pool's own (200) and ipmanager's probe, which answers / with a 404
  // (neutral for the IP's health). Three requests to the first, one to the second.
  const std::string busy = "127.0.0.1:" + std::to_string(pool.target_port());
  const std::string quiet = "127.0.0.1:" + std::to_string(ipm.probe_port());
  for (const auto& host : {busy, busy, busy, quiet})
    ASSERT_GT(ipm.get_through_proxy("/", {{"X-Egress-Host", host}}).status, 0);
  ASSERT_TRUE(wait_until([&] { return parsed_lines(ipm) == 4; }, 10s));
  const auto labelled = [&](const std::string& target) {
    return ipm.metrics().find("target=\"" + target + "\"") != std::string::npos;
  };
  EXPECT_TRUE(labelled(busy));
  EXPECT_TRUE(labelled(quiet));

  rewrite_config(ipm, "history_target_label_cap: 1");
  ASSERT_TRUE(ipm.reload());
  EXPECT_TRUE(labelled(busy));
  EXPECT_FALSE(labelled(quiet));
  EXPECT_TRUE(labelled("other"));
}

TEST(ReloadE2ETest, sighup_debug_logs_the_lines_left_out) {
  NginxPool pool(pool_of(2));
  ipm::test::TempDir work;
  IpmanagerProcess ipm(pool, "", work.path());
  const auto no_match = [&] {
    return sample(ipm.metrics(), "ipmanager_scanner_lines_total{result=\"no_match\"}");
  };
  std::ofstream(pool.access_log(), std::ios::app) << "first garbage line\n";
  ASSERT_TRUE(wait_until([&] { return no_match() == 1; }, 10s));
  EXPECT_THAT(ipm.stderr_text(), Not(HasSubstr("log line not used")));

  rewrite_config(ipm, "debug: true");
  ASSERT_TRUE(ipm.reload());
  std::ofstream(pool.access_log(), std::ios::app) << "second garbage line\n";
  ASSERT_TRUE(wait_until([&] { return no_match() == 2; }, 10s));
  ASSERT_TRUE(wait_until(
      [&] {
        return ipm.stderr_text().find("log line not used (no_match): second garbage line") !=
               std::string::npos;
      },
      5s))
      << ipm.stderr_text();
}

// A pool config naming `ips` of `pool` only, in the Go tool's style.
std::string pool_config_of(const NginxPool& pool, const std::vector<std::string>& ips) {
  std::string text;
  for (const auto& ip : ips) {
    text += "server { listen " + std::to_string(pool.port_of(ip)) + "; server_name " + ip +
            "; location / { proxy_bind " + ip + "; } }\n";
  }
  return text;
}

TEST(ReloadE2ETest, sighup_upstream_conf_path_switches_the_pool) {
  NginxPool pool(pool_of(4));
  ipm::test::TempDir work;
  IpmanagerProcess ipm(pool, "selection: round_robin", work.path());
  ASSERT_EQ(ipm.states().size(), 4U);
  const std::vector<std::string> kept{pool.ips()[1], pool.ips()[3]};
  ipm::test::write_file(work / "two.conf", pool_config_of(pool, kept));
  std::string config = ipm.config_text();
  config.replace(config.find((pool.prefix() / "pool.conf").string()),
                 (pool.prefix() / "pool.conf").string().size(), (work / "two.conf").string());
  std::ofstream(ipm.config_path()) << config;
  ASSERT_TRUE(ipm.reload());

  EXPECT_EQ(ipm.states().size(), 2U);
  const auto seq = ipm.egress_sequence(10);
  EXPECT_EQ(std::set<std::string>(seq.begin(), seq.end()),
            std::set<std::string>(kept.begin(), kept.end()));
}

TEST(ReloadE2ETest, renew_rereads_the_pool_config_and_removed_ips_leave_selection) {
  NginxPool pool(pool_of(3));
  ipm::test::TempDir work;
  IpmanagerProcess ipm(pool, "selection: round_robin", work.path());
  const std::string removed = pool.ips()[2];
  pool.stop_server(removed);  // gone from pool.conf, its port closed

  const auto r = ipm::test::http_request("POST", "127.0.0.1", ipm.probe_port(), "/api/ip/renew");
  EXPECT_EQ(r.status, 200) << r.body;
  ASSERT_TRUE(wait_until([&] { return !ipm.states().contains(removed); }, 10s));
  // No connection is sent to the closed port any more: no dial fails, every client served.
  const auto seq = ipm.egress_sequence(12);
  EXPECT_EQ(std::set<std::string>(seq.begin(), seq.end()),
            (std::set<std::string>{pool.ips()[0], pool.ips()[1]}));
  EXPECT_EQ(ipm.metrics().find("ipmanager_ip_dial_failures_total{ip=\"" + removed),
            std::string::npos);
}

}  // namespace
