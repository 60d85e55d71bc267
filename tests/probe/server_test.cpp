// The probe server over real sockets on 127.0.0.1:0: keep-alive, pipelining, limits,
// timeouts, the connection cap and streamed responses.
#include "probe/server.hpp"

#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/json/parse.hpp>

#include "tests/probe/fixture.hpp"
#include "tests/probe/probe_client.hpp"
#include "tests/probe/running_server.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/descriptors.hpp"

namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using asio::ip::tcp;
using ipm::test::ProbeClient;
using ipm::test::ProbeWorld;
using ipm::test::RunningServer;
using testing::HasSubstr;

std::string get(std::string_view path, std::string_view extra = "") {
  return "GET " + std::string(path) + " HTTP/1.1\r\nHost: probe\r\n" + std::string(extra) + "\r\n";
}

TEST(ServerTest, keep_alive_serves_many_requests_on_one_connection) {
  ProbeWorld w(3);
  RunningServer s(w.context, {});
  ProbeClient c(s.port());
  for (int i = 0; i < 5; ++i) {
    c.send(get("/ping"));
    const auto r = c.read();
    EXPECT_EQ(r.result(), http::status::ok);
    EXPECT_EQ(r.body(), "pong");
    EXPECT_TRUE(r.keep_alive());
  }
}

TEST(ServerTest, pipelined_requests_are_answered_in_order) {
  ProbeWorld w(3);
  RunningServer s(w.context, {});
  ProbeClient c(s.port());
  c.send(get("/ping") + get("/nope") + get("/api/config") + get("/ping"));
  EXPECT_EQ(c.read().body(), "pong");
  EXPECT_EQ(c.read().result(), http::status::not_found);
  EXPECT_THAT(c.read().body(), HasSubstr("probe_port"));
  EXPECT_EQ(c.read().body(), "pong");
}

TEST(ServerTest, connection_close_is_honoured) {
  ProbeWorld w(1);
  RunningServer s(w.context, {});
  ProbeClient c(s.port());
  c.send(get("/ping", "Connection: close\r\n"));
  const auto r = c.read();
  EXPECT_EQ(r.body(), "pong");
  EXPECT_FALSE(r.keep_alive());
  EXPECT_TRUE(c.closed_by_server());
}

TEST(ServerTest, oversized_header_gets_431_and_a_close) {
  ProbeWorld w(1);
  ipm::probe::ServerOptions o;
  o.header_limit = 4096;
  RunningServer s(w.context, o);
  ProbeClient c(s.port());
  c.send(get("/ping", "X-Big: " + std::string(8000, 'a') + "\r\n"));
  const auto r = c.read();
  EXPECT_EQ(r.result(), http::status::request_header_fields_too_large);
  EXPECT_TRUE(c.closed_by_server());
}

TEST(ServerTest, oversized_body_gets_413) {
  ProbeWorld w(1);
  ipm::probe::ServerOptions o;
  o.body_limit = 1024;
  RunningServer s(w.context, o);
  ProbeClient c(s.port());
  c.send("POST /api/ip/renew HTTP/1.1\r\nHost: p\r\nContent-Length: 5000\r\n\r\n" +
         std::string(5000, 'x'));
  EXPECT_EQ(c.read().result(), http::status::payload_too_large);
}

TEST(ServerTest, malformed_requests_get_400_and_a_close) {
  ProbeWorld w(1);
  RunningServer s(w.context, {});
  for (const char* junk :
       {"GARBAGE\r\n\r\n", "GET /ping HTTP/9.9\r\n\r\n", "GET /ping HTTP/1.1\r\nBad Header\r\n\r\n",
        "GET /ping HTTP/1.1\r\nContent-Length: -1\r\n\r\n"}) {
    ProbeClient c(s.port());
    c.send(junk);
    boost::system::error_code ec;
    const auto r = c.read(ec);
    EXPECT_FALSE(ec) << junk;
    EXPECT_EQ(r.result(), http::status::bad_request) << junk;
    EXPECT_TRUE(c.closed_by_server()) << junk;
  }
  ProbeClient after(s.port());
  after.send(get("/ping"));
  EXPECT_EQ(after.read().body(), "pong");
}

TEST(ServerTest, stalled_half_request_is_closed_after_the_read_timeout_while_others_are_served) {
  ProbeWorld w(1);
  ipm::probe::ServerOptions o;
  o.read_timeout = std::chrono::milliseconds(500);
  RunningServer s(w.context, o);
  ProbeClient slow(s.port());
  slow.send("GET /ping HTTP/1.1\r\nHost: pro");
  for (int i = 0; i < 3; ++i) {
    ProbeClient other(s.port());
    other.send(get("/ping"));
    EXPECT_EQ(other.read().body(), "pong");
  }
  // Closed by the server, not answered: a read that times out on the client's side (5 s,
  // ten read timeouts) reports false here.
  EXPECT_TRUE(slow.closed_by_server());
}

TEST(ServerTest, idle_keep_alive_connection_is_closed_after_the_idle_timeout) {
  ProbeWorld w(1);
  ipm::probe::ServerOptions o;
  o.idle_timeout = std::chrono::milliseconds(300);
  RunningServer s(w.context, o);
  ProbeClient c(s.port());
  c.send(get("/ping"));
  EXPECT_EQ(c.read().body(), "pong");
  EXPECT_TRUE(c.closed_by_server());
}

TEST(ServerTest, connections_over_the_cap_get_503) {
  ProbeWorld w(1);
  ipm::probe::ServerOptions o;
  o.max_connections = 2;
  RunningServer s(w.context, o);
  ProbeClient a(s.port());
  ProbeClient b(s.port());
  a.send(get("/ping"));
  b.send(get("/ping"));
  EXPECT_EQ(a.read().body(), "pong");
  EXPECT_EQ(b.read().body(), "pong");
  ProbeClient over(s.port());
  over.send(get("/ping"));
  const auto r = over.read();
  EXPECT_EQ(r.result(), http::status::service_unavailable);
  EXPECT_EQ(r[http::field::retry_after], "1");
  EXPECT_EQ(s.server().active_connections(), 2U);
}

// What the server logged, kept for the test to read (the log is called from its threads).
class LogLines {
 public:
  std::function<void(std::string_view)> sink() {
    return [this](std::string_view line) {
      std::lock_guard lock(mutex_);
      lines_.emplace_back(line);
    };
  }
  int count(std::string_view part) const {
    std::lock_guard lock(mutex_);
    return static_cast<int>(std::count_if(lines_.begin(), lines_.end(), [&](const std::string& l) {
      return l.find(part) != std::string::npos;
    }));
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> lines_;
};

TEST(ServerTest, out_of_descriptors_the_accept_loop_idles_says_so_once_and_recovers) {
  using namespace std::chrono_literals;
  ProbeWorld w(1);
  LogLines log;
  ipm::probe::ServerOptions o;
  o.log = log.sink();
  RunningServer s(w.context, o);
  const int client = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);  // made while fds remain
  ASSERT_GE(client, 0);
  const ipm::test::ProcessCpuTime cpu;
  {
    ipm::test::OutOfDescriptors out;
    ASSERT_TRUE(out.exhausted());
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(s.port());
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::connect(client, reinterpret_cast<sockaddr*>(&to), sizeof to), 0);
    const std::string request = get("/ping", "Connection: close\r\n");
    ASSERT_EQ(::send(client, request.data(), request.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(request.size()));
    ASSERT_TRUE(ipm::test::wait_until([&] { return log.count("accept failed") > 0; }, 10s));
    // Past the 1 s cap of the retry wait: the loop waits between tries, nearly idle.
    const auto before = cpu.used();
    std::this_thread::sleep_for(3s);
    EXPECT_LT(cpu.used() - before, 300ms) << "CPU time over a 3 s hold out of descriptors";
    EXPECT_EQ(log.count("accept failed"), 1) << "one line per episode, not one per failure";
  }
  std::string answer;
  for (int i = 0; i < 100 && answer.find("pong") == std::string::npos; ++i) {  // bounded: 10 s
    pollfd p{client, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0)
      continue;
    std::array<char, 512> buf{};
    const ssize_t n = ::recv(client, buf.data(), buf.size(), 0);
    if (n <= 0)
      break;
    answer.append(buf.data(), static_cast<std::size_t>(n));
  }
  ::close(client);
  EXPECT_THAT(answer, HasSubstr("pong")) << "the waiting client is served once fds are free";
  EXPECT_TRUE(ipm::test::wait_until([&] { return log.count("accepting again") == 1; }, 10s));
}

// Clients and server share this process, so each connection costs two descriptors: as
// many as the descriptor limit allows, up to 1,000 (raised to the hard limit first; under
// `ulimit -n 1024` that is ~480, still far above the default cap of 256).
int concurrent_clients() {
  rlimit limit{};
  ::getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = std::min<rlim_t>(limit.rlim_max, 4096);
  ::setrlimit(RLIMIT_NOFILE, &limit);
  ::getrlimit(RLIMIT_NOFILE, &limit);
  return static_cast<int>(std::min<rlim_t>(1000, (limit.rlim_cur - 64) / 2));
}

TEST(ServerTest, a_thousand_concurrent_connections_are_served) {
  const int n = concurrent_clients();
  ASSERT_GT(n, 300) << "too few descriptors to go beyond the default connection cap";
  ProbeWorld w(10);
  ipm::probe::ServerOptions o;
  o.max_connections = 1100;
  RunningServer s(w.context, o);
  asio::io_context io;  // one for every client
  std::vector<std::unique_ptr<ProbeClient>> clients;
  for (int i = 0; i < n; ++i)
    clients.push_back(std::make_unique<ProbeClient>(s.port(), io));
  for (auto& c : clients)
    c->send(get("/ping"));
  int ok = 0;
  for (auto& c : clients)
    ok += c->read().body() == "pong" ? 1 : 0;
  EXPECT_EQ(ok, n);
  EXPECT_EQ(s.server().active_connections(), static_cast<std::size_t>(n));
}

TEST(ServerTest, probe_is_streamed_chunked_and_head_has_no_body) {
  ProbeWorld w(20);
  w.fill(20, 200);
  RunningServer s(w.context, {});
  ProbeClient c(s.port());
  c.send(get("/probe"));
  const auto r = c.read();
  EXPECT_TRUE(r.chunked());
  const auto v = boost::json::parse(r.body());
  EXPECT_EQ(v.at("IPHistory").as_object().size(), 20U);
  auto direct = w.get("/probe");
  EXPECT_EQ(r.body(), ipm::probe::body_of(direct));
}

TEST(ServerTest, head_sends_the_header_only) {
  ProbeWorld w(3);
  RunningServer s(w.context, {});
  ProbeClient c(s.port());
  c.send("HEAD /ping HTTP/1.1\r\nHost: p\r\n\r\nHEAD /probe HTTP/1.1\r\nHost: p\r\n\r\n" +
         get("/ping"));
  EXPECT_EQ(c.read_head().result(), http::status::ok);
  EXPECT_EQ(c.read_head().result(), http::status::ok);
  // Any body bytes after a HEAD answer would be read here instead of this response.
  EXPECT_EQ(c.read().body(), "pong");
}

TEST(ServerTest, port_refuses_connections_until_start) {
  // A readiness check that connects to the probe port must not pass while ipmanager is still
  // starting (the proxy not yet listening, a parse-mode replay under way).
  ProbeWorld w(1);
  asio::io_context io;
  ipm::probe::ServerOptions o;
  o.host = "127.0.0.1";
  o.port = 0;
  ipm::probe::Server server(io, w.context, o);
  const tcp::endpoint bound = server.local_endpoint();
  ASSERT_NE(bound.port(), 0) << "bound at construction: a taken port fails at startup";
  tcp::socket early(io);
  boost::system::error_code ec;
  early.connect(bound, ec);
  EXPECT_EQ(ec, asio::error::connection_refused);

  server.start();
  tcp::socket ready(io);
  ready.connect(bound, ec);
  EXPECT_FALSE(ec) << ec.message();
  server.stop();
}

TEST(ServerTest, stop_closes_open_connections) {
  ProbeWorld w(1);
  auto s = std::make_unique<RunningServer>(w.context, ipm::probe::ServerOptions{});
  ProbeClient c(s->port());
  c.send(get("/ping"));
  EXPECT_EQ(c.read().body(), "pong");
  s.reset();
  EXPECT_TRUE(c.closed_by_server());
}

}  // namespace
