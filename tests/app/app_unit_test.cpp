// Issue 14's small pieces: exposure warnings, process metrics, journald detection, client
// filters, and the config keys weights / api_token_file / proxy_allow_clients.
#include "app/exposure.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <functional>
#include <set>

#include "app/log.hpp"
#include "app/process_collector.hpp"
#include "config/errors.hpp"
#include "config/load.hpp"
#include "proxy/client_filter.hpp"
#include "tests/support/temp_dir.hpp"

namespace {

using testing::HasSubstr;
using testing::IsEmpty;
using testing::SizeIs;

TEST(ExposureTest, loopback_defaults_warn_about_nothing) {
  EXPECT_THAT(ipm::app::exposure_warnings(ipm::config::Config{}), IsEmpty());
}

TEST(ExposureTest, open_probe_and_open_proxy_each_get_a_warning) {
  ipm::config::Config c;
  c.probe_host = "0.0.0.0";
  c.proxy_host = "::";
  const auto w = ipm::app::exposure_warnings(c);
  ASSERT_THAT(w, SizeIs(2));
  EXPECT_THAT(w[0], HasSubstr("probe_host 0.0.0.0 is not loopback and api_token is unset"));
  EXPECT_THAT(w[1], HasSubstr("proxy_host :: is not loopback and proxy_allow_clients is empty"));
  c.api_token = "x";
  c.proxy_allow_clients = {"10.0.0.0/8"};
  ASSERT_THAT(ipm::app::exposure_warnings(c), SizeIs(1));
  EXPECT_THAT(ipm::app::exposure_warnings(c)[0], HasSubstr("require_token_for_reads is false"));
  c.require_token_for_reads = true;
  EXPECT_THAT(ipm::app::exposure_warnings(c), IsEmpty());
  EXPECT_TRUE(ipm::app::is_loopback_address("127.3.4.5"));
  EXPECT_TRUE(ipm::app::is_loopback_address("::1"));
  EXPECT_FALSE(ipm::app::is_loopback_address("::"));
}

TEST(ProcessCollectorTest, parses_proc_stat_with_a_command_holding_spaces_and_parens) {
  // Fields after the name: state ppid ... utime(14)=250 stime(15)=50 ... starttime(22)=1000
  // vsize(23)=4096000 rss(24)=300.
  const std::string text =
      "42 (ip man) ager)) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 3 0 1000 4096000 300 "
      "18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n";
  ipm::app::ProcStat st;
  ASSERT_TRUE(ipm::app::parse_proc_stat(text, 100, st));
  EXPECT_DOUBLE_EQ(st.cpu_seconds, 3.0);
  EXPECT_DOUBLE_EQ(st.start_seconds, 10.0);
  EXPECT_DOUBLE_EQ(st.virtual_bytes, 4096000.0);
  EXPECT_DOUBLE_EQ(st.resident_pages, 300.0);
  EXPECT_FALSE(ipm::app::parse_proc_stat("42 (x) S 1 2", 100, st));
  EXPECT_FALSE(ipm::app::parse_proc_stat("no paren", 100, st));
}

TEST(ProcessCollectorTest, collects_the_standard_names_of_this_process) {
  std::set<std::string> names;
  for (const auto& f : ipm::app::ProcessCollector().Collect())
    names.insert(f.name);
  EXPECT_EQ(names,
            (std::set<std::string>{"process_cpu_seconds_total", "process_open_fds",
                                   "process_max_fds", "process_virtual_memory_bytes",
                                   "process_resident_memory_bytes", "process_start_time_seconds"}));
}

TEST(JournalStreamTest, matches_only_the_device_and_inode_of_stderr) {
  ipm::test::TempDir dir;
  const int fd = ::open((dir / "f").c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0);
  struct stat st {};
  ASSERT_EQ(::fstat(fd, &st), 0);
  const std::string value = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
  EXPECT_TRUE(ipm::app::stderr_is_journal(value.c_str(), fd));
  EXPECT_FALSE(ipm::app::stderr_is_journal((value + "1").c_str(), fd));
  EXPECT_FALSE(ipm::app::stderr_is_journal("garbage", fd));
  EXPECT_FALSE(ipm::app::stderr_is_journal(nullptr, fd));
  ::close(fd);
}

TEST(ClientFilterTest, empty_allows_all_else_only_the_blocks_with_mapped_ipv4) {
  using boost::asio::ip::make_address;
  EXPECT_TRUE(ipm::proxy::ClientFilter().allows(make_address("203.0.113.9")));
  const ipm::proxy::ClientFilter f({"10.0.0.0/8", "192.168.1.7", "2001:db8::/32"});
  EXPECT_TRUE(f.allows(make_address("10.200.3.4")));
  EXPECT_TRUE(f.allows(make_address("::ffff:10.1.1.1")));
  EXPECT_TRUE(f.allows(make_address("192.168.1.7")));
  EXPECT_FALSE(f.allows(make_address("192.168.1.8")));
  EXPECT_TRUE(f.allows(make_address("2001:db8:1::5")));
  EXPECT_FALSE(f.allows(make_address("2001:db9::5")));
  EXPECT_FALSE(f.allows(make_address("127.0.0.1")));
}

ipm::config::Config load(const std::string& yaml) {
  return ipm::config::load_text("upstream_conf_path: /x\n" + yaml, "t.yaml", ipm::config::no_env());
}

std::string error_of(const std::string& yaml) {
  try {
    load(yaml);
  } catch (const ipm::config::ConfigError& e) {
    return e.what();
  }
  return "<no error>";
}

TEST(OperatorKeysTest, weights_map_egress_ids_to_weights) {
  const auto c = load("weights: {10.0.3.1: 2, '2001:db8::1': 0, 'proxy.example:1080': 5}\n");
  EXPECT_EQ(c.weights.at("10.0.3.1"), 2U);
  EXPECT_EQ(c.weights.at("2001:db8::1"), 0U);
  EXPECT_EQ(c.weights.at("proxy.example:1080"), 5U);
  EXPECT_THAT(error_of("weights: [1, 2]\n"), HasSubstr("weights: expected a mapping"));
  EXPECT_THAT(error_of("weights: {nonsense: 1}\n"), HasSubstr("'nonsense' is not an egress IP"));
  EXPECT_THAT(error_of("weights: {10.0.3.1: -1}\n"), HasSubstr("weights.10.0.3.1"));
}

TEST(OperatorKeysTest, proxy_allow_clients_must_be_address_blocks) {
  EXPECT_THAT(load("proxy_allow_clients: [10.0.0.0/8, '::1']\n").proxy_allow_clients, SizeIs(2));
  EXPECT_THAT(error_of("proxy_allow_clients: [10.0.0.0/33]\n"),
              HasSubstr("proxy_allow_clients: '10.0.0.0/33': the prefix must be 0-32"));
  EXPECT_THAT(error_of("proxy_allow_clients: [bogus]\n"), HasSubstr("'bogus' is not an address"));
}

TEST(OperatorKeysTest, api_token_file_gives_the_token_without_its_newline) {
  ipm::test::TempDir dir;
  ipm::test::write_file(dir / "token", "s3cret\n");
  EXPECT_EQ(load("api_token_file: " + (dir / "token").string() + "\n").api_token, "s3cret");
  EXPECT_THAT(error_of("api_token_file: " + (dir / "none").string() + "\n"),
              HasSubstr("api_token_file: cannot read"));
  EXPECT_THAT(error_of("api_token: a\napi_token_file: " + (dir / "token").string() + "\n"),
              HasSubstr("not both"));
  ipm::test::write_file(dir / "empty", "\n");
  EXPECT_THAT(error_of("api_token_file: " + (dir / "empty").string() + "\n"),
              HasSubstr("is empty"));
}

}  // namespace

namespace {

TEST(GrafanaDashboardTest, every_query_is_per_instance_and_no_rate_assumes_a_scrape_interval) {
  const std::string text = ipm::test::read_file(std::string(IPM_SOURCE_DIR) +
                                                "/deploy/grafana/ipmanager-dashboard.json");
  const auto doc = boost::json::parse(text);
  std::size_t exprs = 0;
  const std::function<void(const boost::json::value&)> walk = [&](const boost::json::value& v) {
    if (const auto* o = v.if_object()) {
      for (const auto& [k, x] : *o) {
        if (k == "expr" && x.is_string()) {
          const std::string e(x.as_string());
          ++exprs;
          EXPECT_THAT(e, HasSubstr("instance=~\"$instance\"")) << e;
          EXPECT_THAT(e, testing::Not(HasSubstr("/ 3600"))) << e;
          EXPECT_THAT(e, testing::Not(HasSubstr("sum_over_time"))) << e;
        } else {
          walk(x);
        }
      }
    } else if (const auto* a = v.if_array()) {
      for (const auto& x : *a)
        walk(x);
    }
  };
  walk(doc.at("panels"));
  EXPECT_GT(exprs, 20U);
  EXPECT_THAT(text, HasSubstr("label_values(ipmanager_build_info, instance)"));
}

}  // namespace
