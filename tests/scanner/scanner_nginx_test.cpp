// The scanner on real nginx output: a real nginx pool (tests/support NginxPool) with the
// default log format, requests with a status mix, and every event derived from the real
// access log checked against what was sent.
#include "scanner/line_parser.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <map>
#include <thread>

#include "config/config.hpp"
#include "scanner/replay.hpp"
#include "scanner/upstream_config.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/nginx_pool.hpp"
#include "tests/support/temp_dir.hpp"

namespace ipm::scanner {
namespace {

using ::testing::SizeIs;

/// An upstream on 127.0.0.1 that answers GET /status/NNN with status NNN. One thread,
/// owned and joined; every wait is bounded by a poll timeout.
class StatusServer {
 public:
  StatusServer() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(fd_, 64) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      throw std::runtime_error("StatusServer: cannot listen on 127.0.0.1");
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~StatusServer() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  StatusServer(const StatusServer&) = delete;
  StatusServer& operator=(const StatusServer&) = delete;

  std::uint16_t port() const { return port_; }

 private:
  void serve() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) {
        continue;
      }
      const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) {
        continue;
      }
      answer(c);
      ::close(c);
    }
  }

  static void answer(int c) {
    std::string request;
    char buf[2048];
    for (int i = 0; i < 100 && request.find("\r\n\r\n") == std::string::npos; ++i) {
      pollfd p{c, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) {
        continue;
      }
      const ssize_t n = ::recv(c, buf, sizeof buf, 0);
      if (n <= 0) {
        return;
      }
      request.append(buf, static_cast<std::size_t>(n));
    }
    std::string status = "500";
    if (const std::size_t at = request.find("/status/"); at != std::string::npos) {
      status = request.substr(at + 8, 3);
    }
    const std::string reply = "HTTP/1.1 " + status +
                              " X\r\nContent-Length: 0\r\n"
                              "Connection: close\r\n\r\n";
    (void)::send(c, reply.data(), reply.size(), MSG_NOSIGNAL);
  }

  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

std::vector<std::string> read_lines(const std::filesystem::path& path) {
  std::vector<std::string> lines;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    lines.push_back(line);
  }
  return lines;
}

struct Sent {
  std::string ip;
  std::uint16_t port = 0;
  int status = 0;
  int upstream_status = 0;
  std::string key;
};

TEST(ScannerNginxTest, every_event_from_a_real_nginx_log_matches_what_was_sent) {
  test::NginxPoolOptions options;
  options.egress_count = 3;
  options.fixed_target = false;  // the Go tool's pool: the upstream comes from X-Egress-Host
  test::NginxPool pool(options);
  StatusServer upstream;
  const std::uint16_t closed = test::free_tcp_port();

  // The pool config as nginx reads it: nginx.conf with its includes.
  const UpstreamConfig config = parse_upstream_config(pool.prefix() / "nginx.conf");
  ASSERT_THAT(config.egresses, SizeIs(3));
  for (const pool::Egress& e : config.egresses) {
    EXPECT_EQ(pool.port_of(e.ip), e.port);
  }

  const pool::TimePoint before = pool::Clock::now() - std::chrono::seconds(1);
  std::vector<Sent> sent;
  const std::vector<int> statuses = {200, 403, 404, 429, 200, 502};
  int n = 0;
  for (const std::string& ip : pool.ips()) {
    for (const int status : statuses) {
      const std::string key = "k" + std::to_string(n++);
      const std::uint16_t to = status == 502 ? closed : upstream.port();
      const test::HttpResponse r =
          pool.get(pool.port_of(ip), "/status/" + std::to_string(status),
                   {{"X-Egress-Host", "127.0.0.1:" + std::to_string(to)}, {"X-Egress-Key", key}});
      ASSERT_EQ(r.status, status) << r.error << r.headers;
      sent.push_back({ip, pool.port_of(ip), status, status, key});
    }
    // The Go tool's /test location answers from nginx itself: no upstream.
    const std::string key = "k" + std::to_string(n++);
    ASSERT_EQ(pool.get(pool.port_of(ip), "/test", {{"X-Egress-Key", key}}).status, 200);
    sent.push_back({ip, pool.port_of(ip), 200, 0, key});
  }
  const pool::TimePoint after = pool::Clock::now() + std::chrono::seconds(1);

  // nginx logs after the response: wait (bounded) for every line.
  std::vector<std::string> lines;
  for (int i = 0; i < 100 && lines.size() < sent.size(); ++i) {
    lines = read_lines(pool.access_log());
    if (lines.size() < sent.size()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  ASSERT_EQ(lines.size(), sent.size());

  LineParser parser(LogFormat::compile(config::kDefaultLogFormat), config.bindings, 64 * 1024);
  std::map<std::string, Sent> by_key;
  for (const Sent& s : sent) {
    by_key[s.key] = s;
  }
  for (const std::string& line : lines) {
    const ParsedLine fast = parser.parse(line);
    const ParsedLine slow = parser.parse_with_regex(line);
    ASSERT_TRUE(fast.ok()) << to_string(fast.result) << ": " << line;
    ASSERT_TRUE(slow.ok()) << line;
    const pool::LogEvent& e = fast.event;
    ASSERT_TRUE(by_key.contains(std::string(e.key))) << line;
    const Sent& s = by_key[std::string(e.key)];
    EXPECT_EQ(e.ip, s.ip) << line;
    EXPECT_EQ(e.port, s.port) << line;
    EXPECT_EQ(e.status, s.status) << line;
    EXPECT_EQ(e.upstream_status, s.upstream_status) << line;
    EXPECT_GE(e.time, before - std::chrono::seconds(1)) << line;  // whole seconds in the log
    EXPECT_LE(e.time, after) << line;
    EXPECT_GE(e.latency_seconds, 0.0F) << line;
    EXPECT_EQ(slow.event.key, e.key);
    EXPECT_EQ(slow.event.status, e.status);
    by_key.erase(std::string(e.key));
  }
  EXPECT_TRUE(by_key.empty());
  EXPECT_EQ(parser.fast_path_hits(), lines.size());
}

TEST(ScannerNginxTest, per_ip_logs_replay_after_rotation_in_event_time) {
  test::NginxPoolOptions options;
  options.egress_count = 2;
  options.per_ip_logs = true;
  test::NginxPool pool(options);
  for (int round = 0; round < 2; ++round) {
    for (const std::string& ip : pool.ips()) {
      ASSERT_EQ(pool.get(pool.port_of(ip), "/").status, 200);
    }
    // Rotate like logrotate: rename, then ask nginx to reopen.
    for (const std::string& ip : pool.ips()) {
      const auto log = pool.access_log(ip);
      for (int k = 2; k >= 1; --k) {
        const auto from = log.string() + "." + std::to_string(k);
        if (std::filesystem::exists(from)) {
          std::filesystem::rename(from, log.string() + "." + std::to_string(k + 1));
        }
      }
      std::filesystem::rename(log, log.string() + ".1");
    }
    pool.reopen_logs();
  }
  const UpstreamConfig config = parse_upstream_config(pool.prefix() / "nginx.conf");
  LineParser parser(LogFormat::compile(config::kDefaultLogFormat), config.bindings, 64 * 1024);
  std::vector<std::string> ips;
  std::vector<pool::TimePoint> times;
  const ReplayReport report = replay(plan_replay(pool.access_log_pattern(), config.egresses),
                                     parser, [&](const pool::LogEvent& e) {
                                       ips.emplace_back(e.ip);
                                       times.push_back(e.time);
                                     });
  EXPECT_EQ(report.events, 4u);
  EXPECT_EQ(report.files, 4u);
  EXPECT_TRUE(report.problems.empty());
  EXPECT_TRUE(std::is_sorted(times.begin(), times.end()));
  EXPECT_EQ(std::count(ips.begin(), ips.end(), pool.ips()[0]), 2);
}

// The output of a real `nginx -T` on a generated pool: the dump format is nginx's own.
TEST(ScannerNginxTest, reads_real_nginx_dash_T_output) {
  test::TempDir dir("ipm-nginx-T");
  std::filesystem::create_directories(dir / "logs");
  std::filesystem::create_directories(dir / "conf.d");
  test::write_file(dir / "nginx.conf",
                   "pid " + (dir / "nginx.pid").string() + ";\nerror_log " +
                       (dir / "logs/error.log").string() +
                       ";\nevents {}\nhttp {\n  access_log off;\n  include conf.d/*.conf;\n}\n");
  std::string pool_conf;
  for (int k = 0; k < 5; ++k) {
    pool_conf += "server {\n  listen 127.0.0.1:" + std::to_string(29001 + k) +
                 ";\n  location / { proxy_bind 127.0.1." + std::to_string(k + 1) +
                 ";\n    proxy_pass http://127.0.0.1:9; }\n}\n";
  }
  test::write_file(dir / "conf.d/pool.conf", pool_conf);
  const std::string dump = (dir / "dump.txt").string();
  const std::string command = "/usr/sbin/nginx -T -q -p " + dir.path().string() + " -c " +
                              (dir / "nginx.conf").string() + " > " + dump + " 2>&1";
  const int rc = std::system(command.c_str());
  ASSERT_TRUE(WIFEXITED(rc) && WEXITSTATUS(rc) == 0) << test::read_file(dump);
  const UpstreamConfig config = parse_upstream_config(dump);
  ASSERT_THAT(config.egresses, SizeIs(5));
  EXPECT_EQ(config.egresses[4], (pool::Egress{"127.0.1.5", 29005, "", 1}));
}

}  // namespace
}  // namespace ipm::scanner
