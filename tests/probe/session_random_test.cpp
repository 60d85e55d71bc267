// The probe's session layer under random traffic: random sequences of requests (GET and
// HEAD on several routes, some with "Connection: close", some malformed), pipelined and cut
// into random pieces, on many connections. The oracle is each request's answer alone on a
// fresh connection: a sequence must get the same statuses in order, HEAD answers carry no
// body (a leaked body would break the next response's parse), and after a close or a 400
// the server sends nothing more and closes.
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/probe/fixture.hpp"
#include "tests/probe/probe_client.hpp"
#include "tests/probe/running_server.hpp"

namespace {

using ipm::test::ProbeClient;
using ipm::test::ProbeWorld;
using ipm::test::RunningServer;
namespace http = boost::beast::http;

struct Kind {
  std::string method;
  std::string target;
};

// Routes with bodies of every shape: fixed, chunked (/probe), JSON, text, 404, 405.
const std::vector<Kind> kKinds = {
    {"GET", "/ping"},    {"HEAD", "/ping"},         {"GET", "/probe"},   {"HEAD", "/probe"},
    {"GET", "/config"},  {"GET", "/api/decisions"}, {"GET", "/metrics"}, {"HEAD", "/metrics"},
    {"GET", "/nowhere"}, {"DELETE", "/ping"},       {"GET", "/ready"},
};

// Malformed requests the parser must answer with 400 and a close.
const std::vector<std::string> kJunk = {"GARBAGE\r\n\r\n", "GET /ping HTTP/9.9\r\n\r\n",
                                        "GET /ping HTTP/1.1\r\nBad Header\r\n\r\n",
                                        "GET /ping HTTP/1.1\r\nContent-Length: -1\r\n\r\n"};

std::string request(const Kind& k, bool close) {
  return k.method + " " + k.target + " HTTP/1.1\r\nHost: probe\r\n" +
         (close ? "Connection: close\r\n" : "") + "\r\n";
}

struct Answer {
  http::status status{};
  bool ok = false;
};

Answer read_answer(ProbeClient& c, const Kind& k) {
  boost::system::error_code ec;
  if (k.method == "HEAD") {
    const auto r = c.read_head(ec);
    return {r.result(), !ec};
  }
  const auto r = c.read(ec);
  return {r.result(), !ec};
}

TEST(SessionRandomTest, pipelined_sliced_sequences_get_the_answers_each_request_gets_alone) {
  ProbeWorld w(5);
  w.fill(5, 20);
  RunningServer s(w.context, {});

  std::vector<http::status> alone;
  for (const auto& k : kKinds) {
    ProbeClient c(s.port());
    c.send(request(k, false));
    const auto a = read_answer(c, k);
    ASSERT_TRUE(a.ok) << k.method << " " << k.target;
    alone.push_back(a.status);
  }
  // The menu spans success and failure: the oracle is not one status for everything.
  EXPECT_EQ(alone.front(), http::status::ok);
  EXPECT_EQ(alone[8], http::status::not_found);

  std::mt19937 rng(20261202);
  int closes = 0, junk_sent = 0, answers = 0;
  for (int round = 0; round < 150; ++round) {
    const int count = std::uniform_int_distribution<int>(1, 8)(rng);
    std::vector<std::size_t> picks;
    std::string bytes;
    int end_at = count;  // index of the last request answered
    bool ends_with_junk = false;
    for (int i = 0; i < count; ++i) {
      const auto roll = std::uniform_int_distribution<int>(0, 19)(rng);
      if (roll == 0) {  // malformed: answered 400, then nothing more
        bytes += kJunk[std::uniform_int_distribution<std::size_t>(0, kJunk.size() - 1)(rng)];
        end_at = i;
        ends_with_junk = true;
        break;
      }
      const auto pick = std::uniform_int_distribution<std::size_t>(0, kKinds.size() - 1)(rng);
      picks.push_back(pick);
      const bool close = roll == 1;
      bytes += request(kKinds[pick], close);
      if (close) {
        end_at = i + 1;
        break;
      }
    }
    // Requests after the end would never be answered: send some anyway.
    if (end_at < count || ends_with_junk)
      bytes += request(kKinds[0], false);

    ProbeClient c(s.port());
    c.set_no_delay();
    for (std::size_t at = 0; at < bytes.size();) {
      const auto piece = std::uniform_int_distribution<std::size_t>(1, 64)(rng);
      c.send(std::string_view(bytes).substr(at, piece));
      at += piece;
    }
    const auto answered = std::min<std::size_t>(picks.size(), static_cast<std::size_t>(end_at));
    for (std::size_t i = 0; i < answered; ++i) {
      const auto& k = kKinds[picks[i]];
      const auto a = read_answer(c, k);
      ASSERT_TRUE(a.ok) << "round " << round << " request " << i << ": " << k.method << " "
                        << k.target;
      EXPECT_EQ(a.status, alone[picks[i]])
          << "round " << round << " request " << i << ": " << k.method << " " << k.target;
      ++answers;
    }
    if (ends_with_junk) {
      boost::system::error_code ec;
      const auto r = c.read(ec);
      ASSERT_FALSE(ec) << "round " << round << ": no answer to the malformed request";
      EXPECT_EQ(r.result(), http::status::bad_request) << "round " << round;
      ++junk_sent;
    }
    if (end_at < count || ends_with_junk) {
      EXPECT_TRUE(c.closed_by_server()) << "round " << round << ": answered past the end";
      closes += ends_with_junk ? 0 : 1;
    }
  }
  // The rounds did exercise each ending.
  EXPECT_GT(closes, 5);
  EXPECT_GT(junk_sent, 5);
  EXPECT_GT(answers, 300);
}

}  // namespace
