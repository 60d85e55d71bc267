// The running binary as the README describes it: the X-Egress-Host flow through the proxy
// with curl, the decision record of each connection, and how it stops (SIGINT, SIGTERM with
// a connection still open).
#include "tests/e2e/ipmanager_process.hpp"

#include <sys/socket.h>
#include <sys/wait.h>

#include <csignal>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <boost/json.hpp>

#include "tests/proxy/client.hpp"
#include "tests/support/temp_dir.hpp"

namespace {

using ipm::test::IpmanagerProcess;
using ipm::test::NginxPool;
using ipm::test::NginxPoolOptions;
using ipm::test::pool_of;
using ipm::test::sample;
using ipm::test::wait_until;
using namespace std::chrono_literals;
using testing::HasSubstr;
namespace ptest = ipm::proxy::test;

bool exited_with_0(ipm::test::ChildProcess& p) {
  const auto status = p.wait_status();
  return status && WIFEXITED(*status) && WEXITSTATUS(*status) == 0;
}

// Reads one HTTP response with a Content-Length body from a keep-alive connection.
std::string read_response(const ptest::Fd& fd) {
  std::string in;
  for (;;) {
    const auto head_end = in.find("\r\n\r\n");
    if (head_end != std::string::npos) {
      const auto cl = in.find("Content-Length: ");
      const std::size_t length = cl < head_end ? std::stoul(in.substr(cl + 16)) : 0;
      if (in.size() >= head_end + 4 + length)
        return in;
    }
    if (!ptest::readable_within(fd, 10000))
      return in;
    char buf[4096];
    const ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);
    if (n <= 0)
      return in;
    in.append(buf, static_cast<std::size_t>(n));
  }
}

TEST(LifecycleE2ETest, readme_curl_with_x_egress_host_reaches_the_target_through_the_pool) {
  NginxPoolOptions options = pool_of(3);
  options.fixed_target = false;  // the Go tool's pool: proxy_pass http://$http_x_egress_host
  NginxPool pool(options);
  ipm::test::TempDir work;
  IpmanagerProcess ipm(pool, "", work.path());

  // The README's command, with the test's target for example.com.
  const std::string target = "127.0.0.1:" + std::to_string(pool.target_port());
  ipm::test::SpawnOptions curl;
  curl.argv = {"curl",
               "-sS",
               "-x",
               "",
               "127.0.0.1:" + std::to_string(ipm.proxy_port()) + "/",
               "-H",
               "X-Egress-Host: " + target,
               "-H",
               "X-Egress-Key: job-42"};
  curl.stdout_to = work / "curl.out";
  curl.stderr_to = work / "curl.err";
  ASSERT_EQ(ipm::test::run_command(curl, 20s), 0) << ipm::test::read_file(work / "curl.err");
  const std::string answer = ipm::test::read_file(work / "curl.out");
  ASSERT_THAT(answer, testing::StartsWith("ok 127.0.1."));
  const std::string egress = answer.substr(3, answer.find('\n') - 3);

  // The target saw the key; ipmanager's history of that egress has the target and the key.
  EXPECT_THAT(ipm::test::read_file(pool.target_log()), HasSubstr(egress + " 200 / job-42"));
  ASSERT_TRUE(wait_until(
      [&] {
        return sample(ipm.metrics(), "ipmanager_scanner_lines_total{result=\"parsed\"}") == 1;
      },
      10s));
  const auto history = ipm.probe_json("?ip=" + egress).at("IPHistory").at(egress).at("History");
  ASSERT_EQ(history.as_array().size(), 1U);
  EXPECT_EQ(history.as_array()[0].at("Target").as_string(), target);
  EXPECT_EQ(history.as_array()[0].at("ExgressKey").as_string(), "job-42");
  EXPECT_EQ(history.as_array()[0].at("StatusCode").as_string(), "200");
}

TEST(LifecycleE2ETest, api_decisions_records_each_connection_with_its_bytes) {
  NginxPool pool(pool_of(2));
  ipm::test::TempDir work;
  IpmanagerProcess ipm(pool, "", work.path());
  const auto r = ipm.get_through_proxy("/decided");
  ASSERT_EQ(r.status, 200);
  const std::string egress = r.body.substr(3, r.body.find('\n') - 3);

  // The record is written when the connection ends, a moment after the client has read it.
  boost::json::value doc;
  ASSERT_TRUE(wait_until(
      [&] {
        doc = boost::json::parse(ipm.probe("/api/decisions?limit=5").body);
        return doc.at("total").as_int64() == 1;
      },
      10s));
  const auto& d = doc.at("decisions").as_array().at(0);
  EXPECT_EQ(d.at("ip").as_string(), egress);
  EXPECT_EQ(d.at("port").as_int64(), pool.port_of(egress));
  EXPECT_EQ(d.at("tries").as_int64(), 1);
  EXPECT_GT(d.at("dial_seconds").as_double(), 0.0);
  EXPECT_THAT(std::string(d.at("client").as_string()), testing::StartsWith("127.0.0.1:"));
  // Byte counts as the client sent and received them.
  const std::string request =
      "GET /decided HTTP/1.0\r\nHost: 127.0.0.1:" + std::to_string(ipm.proxy_port()) +
      "\r\nConnection: close\r\n\r\n";
  EXPECT_EQ(d.at("bytes_up").as_int64(), static_cast<std::int64_t>(request.size()));
  EXPECT_EQ(d.at("bytes_down").as_int64(),
            static_cast<std::int64_t>(r.headers.size() + 4 + r.body.size()));
  EXPECT_EQ(d.at("end").as_string(), "closed");
}

TEST(LifecycleE2ETest, sigint_stops_and_exits_0) {
  NginxPool pool(pool_of(2));
  ipm::test::TempDir work;
  IpmanagerProcess ipm(pool, "", work.path());
  ASSERT_EQ(ipm.traffic(2)[200], 2);
  ASSERT_TRUE(ipm.process().signal(SIGINT));
  ASSERT_TRUE(ipm.process().wait_exit(20s)) << ipm.stderr_text();
  EXPECT_TRUE(exited_with_0(ipm.process())) << ipm.stderr_text();
  EXPECT_THAT(ipm.stderr_text(), HasSubstr("signal 2: stopping"));
  EXPECT_THAT(ipm.stderr_text(), HasSubstr("stopped"));
}

TEST(LifecycleE2ETest, sigterm_stops_accepting_and_lets_an_open_connection_finish) {
  NginxPool pool(pool_of(2));
  ipm::test::TempDir work;
  IpmanagerProcess ipm(pool, "drain_timeout: 60s", work.path());
  // A keep-alive client through the proxy: one answer before the signal.
  ptest::Fd held = ptest::connect_to(ipm.proxy_port());
  const std::string request = "GET /held HTTP/1.1\r\nHost: target\r\n\r\n";
  ASSERT_TRUE(ptest::write_all(held, request));
  ASSERT_THAT(read_response(held), HasSubstr("ok 127.0.1."));

  ASSERT_TRUE(ipm.process().signal(SIGTERM));
  ASSERT_TRUE(wait_until(
      [&] { return ipm.stderr_text().find("signal 15: stopping") != std::string::npos; }, 10s));
  // New clients are refused at once, while the process drains.
  EXPECT_TRUE(wait_until(
      [&] {
        return ipm::test::http_get("127.0.0.1", ipm.proxy_port(), "/").error ==
               "connect: Connection refused";
      },
      10s));
  EXPECT_TRUE(ipm.process().running()) << "exited with a connection still open";
  // The open connection still works both ways ...
  ASSERT_TRUE(ptest::write_all(held, request));
  EXPECT_THAT(read_response(held), HasSubstr("ok 127.0.1."));
  EXPECT_TRUE(ipm.process().running());
  // ... and when it ends, the process exits 0 without waiting out drain_timeout.
  held.reset();
  ASSERT_TRUE(ipm.process().wait_exit(30s)) << ipm.stderr_text();
  EXPECT_TRUE(exited_with_0(ipm.process())) << ipm.stderr_text();
}

TEST(LifecycleE2ETest, a_second_signal_during_the_drain_cuts_open_connections_and_exits) {
  NginxPool pool(pool_of(2));
  ipm::test::TempDir work;
  // A drain far longer than the test's waits: only the second signal can end it in time.
  IpmanagerProcess ipm(pool, "drain_timeout: 10m", work.path());
  ptest::Fd held = ptest::connect_to(ipm.proxy_port());
  const std::string request = "GET /held HTTP/1.1\r\nHost: target\r\n\r\n";
  ASSERT_TRUE(ptest::write_all(held, request));
  ASSERT_THAT(read_response(held), HasSubstr("ok 127.0.1."));

  ASSERT_TRUE(ipm.process().signal(SIGINT));
  ASSERT_TRUE(wait_until(
      [&] { return ipm.stderr_text().find("signal 2: stopping") != std::string::npos; }, 10s));
  EXPECT_TRUE(ipm.process().running()) << "exited with a connection still open";
  ASSERT_TRUE(ipm.process().signal(SIGTERM));
  ASSERT_TRUE(ipm.process().wait_exit(30s)) << ipm.stderr_text();
  EXPECT_TRUE(exited_with_0(ipm.process())) << ipm.stderr_text();
  EXPECT_THAT(ipm.stderr_text(), HasSubstr("signal 15 during the drain: cutting 1 open"));
  // The held client sees its connection end.
  char byte = 0;
  EXPECT_LE(::recv(held.get(), &byte, 1, 0), 0);
}

}  // namespace
