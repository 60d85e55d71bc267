// GET /api/events over real sockets on 127.0.0.1:0: the snapshot, live changes, resume by
// Last-Event-ID, chunked framing, its own connection cap, a client that never reads, and
// shutdown.
#include "probe/event_stream.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

#include "tests/probe/fixture.hpp"
#include "tests/probe/running_server.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/http_client.hpp"

namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using ipm::test::base_time;
using ipm::test::ip_of;
using ipm::test::ProbeWorld;
using ipm::test::RunningServer;
using std::chrono::milliseconds;
using testing::HasSubstr;
using testing::Not;

// A client of the stream over a plain socket: sends one request and collects what comes.
class StreamClient {
 public:
  explicit StreamClient(std::uint16_t port, std::string extra_headers = "",
                        std::string version = "1.0", int receive_buffer = 0)
      : socket_(io_) {
    socket_.open(tcp::v4());
    if (receive_buffer > 0)
      socket_.set_option(asio::socket_base::receive_buffer_size(receive_buffer));
    socket_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    const std::string request =
        "GET /api/events HTTP/" + version + "\r\nHost: probe\r\n" + extra_headers + "\r\n";
    asio::write(socket_, asio::buffer(request));
  }

  // Reads until `text` holds `needle` or `timeout` passes; false on timeout or close.
  bool wait_for(std::string_view needle, milliseconds timeout = milliseconds(5000)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (text_.find(needle) == std::string::npos) {
      if (!read_some(deadline))
        return false;
    }
    return true;
  }

  // Reads until the server closes the connection; false if it is still open at `timeout`.
  bool wait_closed(milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (read_some(deadline)) {
    }
    return closed_;
  }

  const std::string& text() const { return text_; }
  // The id of the last whole event the stream carried.
  std::string last_id() const {
    const auto end = text_.rfind("\n\n");
    const auto at = end == std::string::npos ? end : text_.rfind("\nid: ", end);
    if (at == std::string::npos)
      return "";
    return text_.substr(at + 5, text_.find('\n', at + 5) - at - 5);
  }
  void clear() { text_.clear(); }

 private:
  bool read_some(std::chrono::steady_clock::time_point deadline) {
    const auto left =
        std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || closed_)
      return false;
    pollfd p{socket_.native_handle(), POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0)
      return false;
    char buf[16384];
    const ssize_t n = ::recv(socket_.native_handle(), buf, sizeof buf, 0);
    if (n <= 0) {
      closed_ = true;
      return false;
    }
    text_.append(buf, static_cast<std::size_t>(n));
    return true;
  }

  asio::io_context io_;
  tcp::socket socket_;
  std::string text_;
  bool closed_ = false;
};

ipm::probe::ServerOptions fast_feed() {
  ipm::probe::ServerOptions o;
  o.feed.poll = milliseconds(20);
  o.feed.tick = milliseconds(100);
  return o;
}

TEST(EventStreamTest, sends_a_snapshot_then_changes_as_they_happen) {
  ProbeWorld w(3);
  RunningServer s(w.context, fast_feed());
  StreamClient c(s.port());
  ASSERT_TRUE(c.wait_for("\r\n\r\n"));
  EXPECT_THAT(c.text(), HasSubstr("HTTP/1.0 200 OK"));
  EXPECT_THAT(c.text(), HasSubstr("Content-Type: text/event-stream"));
  ASSERT_TRUE(c.wait_for("event: snapshot\ndata: {"));
  EXPECT_THAT(c.text(), HasSubstr("retry: 2000\n\n"));
  EXPECT_THAT(c.text(), HasSubstr("\"id\":\"" + ip_of(2) + "\""));
  EXPECT_TRUE(c.wait_for("event: tick"));
  EXPECT_EQ(s.server().event_streams(), 1U);
  EXPECT_EQ(s.server().active_connections(), 0U);

  w.engine.ban(ip_of(1), ipm::pool::TimePoint::max(), "stream test", w.now);
  EXPECT_TRUE(c.wait_for("\"id\":\"" + ip_of(1) +
                         "\",\"kind\":\"nginx\",\"port\":19001,"
                         "\"weight\":1,\"state\":\"banned\""));
  EXPECT_TRUE(c.wait_for("event: decision\ndata: {\"seq\":"));
}

TEST(EventStreamTest, a_reconnect_with_last_event_id_resumes_without_a_snapshot) {
  ProbeWorld w(3);
  RunningServer s(w.context, fast_feed());
  std::string last;
  {
    StreamClient c(s.port());
    ASSERT_TRUE(c.wait_for("event: snapshot"));
    ASSERT_TRUE(c.wait_for("event: tick"));
    last = c.last_id();
  }
  ASSERT_FALSE(last.empty());
  w.engine.ban(ip_of(2), ipm::pool::TimePoint::max(), "while away", w.now);

  StreamClient resumed(s.port(), "Last-Event-ID: " + last + "\r\n");
  EXPECT_TRUE(resumed.wait_for("event: ip\ndata: {\"id\":\"" + ip_of(2) + "\""));
  EXPECT_THAT(resumed.text(), HasSubstr("while away\""));
  EXPECT_THAT(resumed.text(), Not(HasSubstr("event: snapshot")));

  // An id of another run (or garbage) gets a snapshot, which already shows the ban.
  StreamClient stranger(s.port(), "Last-Event-ID: otherrun-3\r\n");
  EXPECT_TRUE(stranger.wait_for("event: snapshot"));
  EXPECT_THAT(stranger.text(), HasSubstr("while away\""));
}

TEST(EventStreamTest, http11_stream_is_chunked) {
  ProbeWorld w(2);
  RunningServer s(w.context, fast_feed());
  StreamClient c(s.port(), "", "1.1");
  ASSERT_TRUE(c.wait_for("event: snapshot"));
  EXPECT_THAT(c.text(), HasSubstr("HTTP/1.1 200 OK"));
  EXPECT_THAT(c.text(), HasSubstr("Transfer-Encoding: chunked"));
  EXPECT_THAT(c.text(), HasSubstr("Connection: close"));
}

TEST(EventStreamTest, streams_have_their_own_cap_and_never_take_the_scrapes_slots) {
  ProbeWorld w(2);
  auto o = fast_feed();
  o.max_connections = 1;
  o.max_event_streams = 2;
  RunningServer s(w.context, o);
  // One at a time: a connection is under the request cap (1) until its request is read.
  StreamClient a(s.port());
  ASSERT_TRUE(a.wait_for("event: snapshot"));
  StreamClient b(s.port());
  ASSERT_TRUE(b.wait_for("event: snapshot"));
  EXPECT_EQ(s.server().event_streams(), 2U);

  {
    StreamClient third(s.port());
    EXPECT_TRUE(third.wait_for("503 Service Unavailable"));
    EXPECT_TRUE(third.wait_for("too many event streams")) << third.text();
    EXPECT_TRUE(third.wait_closed(milliseconds(3000)));
  }
  // The refused one held a request slot until it closed; the two streams hold none.
  EXPECT_TRUE(ipm::test::wait_until([&] { return s.server().active_connections() == 0; },
                                    milliseconds(3000)));

  // Two open pages and the one request slot is still free for /metrics and /ping.
  for (int i = 0; i < 3; ++i) {
    const auto r = ipm::test::http_get("127.0.0.1", s.port(), "/ping");
    EXPECT_EQ(r.status, 200) << r.error;
    // The slot frees once the server has seen this client's close.
    EXPECT_TRUE(ipm::test::wait_until([&] { return s.server().active_connections() == 0; },
                                      milliseconds(3000)));
  }
  EXPECT_TRUE(a.wait_for("event: tick"));
}

TEST(EventStreamTest, a_client_that_never_reads_is_dropped_and_the_others_go_on) {
  ProbeWorld w(50);
  auto o = fast_feed();
  // Long enough that the healthy reader's thread, starved on a loaded machine, is not taken
  // for a stuck one; the stuck one is still dropped well within the test's deadline.
  o.write_timeout = milliseconds(2000);
  o.feed.journal.max_lag_bytes = 512 * 1024;  // above one update's burst here
  RunningServer s(w.context, o);

  // The reader in good health, read by a thread of its own.
  std::atomic<bool> done{false};
  std::atomic<std::size_t> good_bytes{0};
  std::jthread good([&] {
    StreamClient c(s.port());
    while (!done) {
      c.wait_for("\x01", milliseconds(50));  // never found: reads whatever comes
      good_bytes = c.text().size();
      if (c.text().size() > (1 << 20))
        c.clear();
    }
  });
  StreamClient stuck(s.port(), "", "1.0", 4096);  // sends the request, then never reads

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (s.server().event_streams() < 2 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(milliseconds(10));
  ASSERT_EQ(s.server().event_streams(), 2U);
  // Churn with long reasons until the stuck client is gone: its unsent tail grows, never
  // its memory in the server.
  const std::string reason(2000, 'r');  // big events fill the socket buffers sooner
  int rounds = 0;
  while (s.server().event_streams() > 1 && std::chrono::steady_clock::now() < deadline) {
    for (std::size_t i = 0; i < 50; ++i) {
      w.engine.ban(ip_of(i), ipm::pool::TimePoint::max(), reason + std::to_string(rounds), w.now);
      w.engine.unban(ip_of(i), w.now);
    }
    ++rounds;
    std::this_thread::sleep_for(milliseconds(20));
  }
  EXPECT_EQ(s.server().event_streams(), 1U) << "the stuck client was not dropped";
  // The healthy stream still gets what happens next (waited for, not timed).
  const std::size_t before = good_bytes;
  bool grew = false;
  while (!grew && std::chrono::steady_clock::now() < deadline) {
    w.engine.ban(ip_of(0), ipm::pool::TimePoint::max(), "after", w.now);
    w.engine.unban(ip_of(0), w.now);
    std::this_thread::sleep_for(milliseconds(20));
    grew = good_bytes.load() != before;
  }
  EXPECT_TRUE(grew) << "the healthy stream stopped";
  EXPECT_EQ(s.server().event_streams(), 1U);
  done = true;
}

TEST(EventStreamTest, stop_ends_open_streams_at_once) {
  ProbeWorld w(2);
  ipm::probe::ServerOptions o;  // default timing: a 1 s tick must not hold up the stop
  RunningServer s(w.context, o);
  StreamClient a(s.port());
  StreamClient b(s.port(), "", "1.1");
  ASSERT_TRUE(a.wait_for("event: snapshot"));
  ASSERT_TRUE(b.wait_for("event: snapshot"));
  const auto start = std::chrono::steady_clock::now();
  s.server().stop();
  EXPECT_TRUE(a.wait_closed(milliseconds(2000)));
  EXPECT_TRUE(b.wait_closed(milliseconds(2000)));
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(1000));
}

}  // namespace
