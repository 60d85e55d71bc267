// The web page in a real headless Chromium (tests/e2e/web/page_check.py, Selenium) against a
// real nginx pool and the real ipmanager binary (issue 17).
#include <sys/wait.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <thread>

#include <gtest/gtest.h>

#include "tests/e2e/ipmanager_process.hpp"
#include "tests/support/temp_dir.hpp"

namespace {

using ipm::test::IpmanagerProcess;
using ipm::test::NginxPool;
using ipm::test::NginxPoolOptions;
using ipm::test::run_command;
using ipm::test::SpawnOptions;
using ipm::test::TempDir;

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items)
    out += (out.empty() ? "" : ",") + s;
  return out;
}

// The browser check's command line; its output goes to work/page_check.log.
SpawnOptions page_check(const IpmanagerProcess& ipm, const NginxPool& pool, const TempDir& work,
                        std::vector<std::string> extra) {
  SpawnOptions o;
  o.argv = {"/usr/bin/python3",
            std::string(IPM_SOURCE_DIR) + "/tests/e2e/web/page_check.py",
            "--url",
            "http://127.0.0.1:" + std::to_string(ipm.probe_port()) + "/",
            "--ips",
            join(pool.ips())};
  o.argv.insert(o.argv.end(), extra.begin(), extra.end());
  o.stdout_to = work.path() / "page_check.log";
  o.stderr_to = work.path() / "page_check.log";
  return o;
}

// Runs the browser check; its output is shown when it fails.
void run_page_check(const IpmanagerProcess& ipm, const NginxPool& pool, const TempDir& work,
                    std::vector<std::string> extra) {
  const auto log = work.path() / "page_check.log";
  const int code =
      run_command(page_check(ipm, pool, work, std::move(extra)), std::chrono::seconds(150));
  const std::string output = read_file(log);
  std::cout << output;
  EXPECT_EQ(code, 0) << output << "\nipmanager:\n" << ipm.stderr_text();
}

NginxPoolOptions pool_of(int n) {
  NginxPoolOptions o;
  o.egress_count = n;
  return o;
}

TEST(WebPageE2ETest, live_page_lists_the_pool_follows_bans_and_bans_from_its_button) {
  NginxPool pool(pool_of(6));
  TempDir work;
  IpmanagerProcess ipm(pool, "selection: round_robin\n", work.path());
  // Some traffic and one blocked IP, so the status bars and the feed have something to show.
  pool.block({pool.ips()[3]});
  ipm.traffic(60);
  // Traffic goes on while the browser looks, so the rates and status bars move.
  std::atomic<bool> done{false};
  std::jthread traffic([&] {
    while (!done) {
      ipm.traffic(5);
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  // The screenshot lands in the build tree, for the record (docs/web-page.png is one of them).
  const std::string shot = std::string(IPM_BINARY_DIR) + "/web-page.png";
  run_page_check(ipm, pool, work, {"--screenshot", shot});
  done = true;
}

TEST(WebPageE2ETest, with_a_token_the_pages_ban_is_refused_without_it_and_passes_with_it) {
  NginxPool pool(pool_of(3));
  TempDir work;
  IpmanagerProcess ipm(pool, "api_token: s3cret-page-token\n", work.path());
  run_page_check(ipm, pool, work, {"--token", "s3cret-page-token"});
}

TEST(WebPageE2ETest, after_a_restart_the_open_page_reconnects_and_shows_the_new_process) {
  NginxPool pool(pool_of(3));
  TempDir work;
  TempDir second_work;
  auto first = std::make_unique<IpmanagerProcess>(pool, "", work.path());
  const std::uint16_t port = first->probe_port();
  ipm::test::ChildProcess browser(
      page_check(*first, pool, work, {"--restart-dir", work.path().string()}));
  const auto log = [&] { return read_file(work.path() / "page_check.log"); };
  ASSERT_TRUE(ipm::test::wait_until(
      [&] { return std::filesystem::exists(work.path() / "page-open") || !browser.running(); },
      std::chrono::seconds(90)))
      << log();
  ASSERT_TRUE(browser.running()) << log();
  first.reset();  // SIGTERM: the page loses its stream
  // The same probe port, a fresh state: only a reconnection can show this ban.
  IpmanagerProcess second(pool, "probe_port: " + std::to_string(port) + "\n", second_work.path());
  ASSERT_EQ(second.probe_port(), port);
  const std::string ip = pool.ips()[1];
  ASSERT_EQ(ipm::test::http_request("POST", "127.0.0.1", port, "/api/ip/" + ip + "/ban").status,
            200);
  std::ofstream(work.path() / "restarted") << ip << "\n";
  ASSERT_TRUE(browser.wait_exit(std::chrono::seconds(90))) << log();
  const auto status = browser.wait_status();
  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << log() << second.stderr_text();
  std::cout << log();
}

// Health per target site on the page (issue 20): an IP the target blocks for a.example only
// is cooling for that site after real traffic; its row names the site in the Sites column and
// stays available, and a per-site ban through the API shows and goes on the open page.
TEST(WebPageE2ETest, an_ip_cooling_for_one_site_shows_it_in_the_sites_column) {
  NginxPool pool(pool_of(3));
  TempDir work;
  const std::string blocked = pool.ips()[1];
  pool.block_for_host({blocked}, "a.example");
  IpmanagerProcess ipm(pool, "selection: round_robin\nconsecutive_failure: 1\ncool_down_min: 10m\n",
                       work.path());
  const auto out_for_a = [&] {
    const auto v = ipm.probe_json("?limit=0&target=a.example");
    for (const auto& ip : v.at("AvailableIP").as_array()) {
      if (ip.as_string() == blocked)
        return false;
    }
    return true;
  };
  // a.example requests (bounded), each judged before the next (its log line parsed), until
  // the 403 has taken the IP out for that site.
  for (int sent = 1; sent <= 30 && !out_for_a(); ++sent) {
    ipm.get_through_proxy("/", {{"X-Egress-Host", "a.example"}});
    ASSERT_TRUE(ipm::test::wait_until(
        [&] {
          return ipm::test::sample(ipm.metrics(),
                                   "ipmanager_scanner_lines_total{result=\"parsed\"}") >= sent;
        },
        std::chrono::seconds(10)));
  }
  ASSERT_TRUE(out_for_a()) << ipm.stderr_text();
  run_page_check(ipm, pool, work, {"--site-cooling", blocked + "=a.example"});
}

}  // namespace
