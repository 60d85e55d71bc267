#include "proxy/protocol/dns_message.hpp"

#include <gtest/gtest.h>

#include "tests/protocol/bytes.hpp"

namespace ipm::protocol::dns {
namespace {

using testing::B;

// A query for a.test A IN, id 0x1234, RD set: what a stub resolver sends.
std::vector<std::byte> query() {
  return B({0x12, 0x34, 0x01, 0x00, 0,   1,   0,   0, 0, 0, 0, 0,  // header: RD, one question
            1,    'a',  4,    't',  'e', 's', 't', 0,              // a.test
            0,    1,    0,    1});                                 // A, IN
}

TEST(DnsMessageTest, a_query_and_what_is_not_one) {
  const auto q = parse_query(query());
  ASSERT_TRUE(q);
  EXPECT_EQ(q->id, 0x1234);
  EXPECT_EQ(q->question_end, query().size());
  // An EDNS OPT record after the question does not matter: it is relayed, not read.
  EXPECT_TRUE(parse_query(testing::operator+(query(), B({0, 0, 41, 0x10, 0, 0, 0, 0, 0, 0, 0}))));

  struct Case {
    const char* what;
    std::vector<std::byte> message;
  };
  auto with = [](std::size_t at, int value) {
    auto m = query();
    m[at] = static_cast<std::byte>(value);
    return m;
  };
  auto cut = [](std::size_t n) {
    auto m = query();
    m.resize(n);
    return m;
  };
  for (const Case& c : {
           Case{"empty", {}},
           Case{"a short header", cut(11)},
           Case{"a response", with(2, 0x81)},
           Case{"an inverse query (opcode 1)", with(2, 0x09)},
           Case{"no question", with(5, 0)},
           Case{"two questions", with(5, 2)},
           Case{"a name past the end", cut(16)},
           Case{"no type and class", cut(21)},
           Case{"a compressed name", with(12, 0xC0)},
           Case{"a label past the end", with(12, 60)},
       }) {
    EXPECT_FALSE(parse_query(c.message)) << c.what;
  }
  // A name over 255 bytes.
  std::vector<std::byte> big = B({0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0});
  for (int l = 0; l < 5; ++l) {
    big.push_back(std::byte{63});
    big.insert(big.end(), 63, std::byte{'x'});
  }
  big = testing::operator+(big, B({0, 0, 1, 0, 1}));
  EXPECT_FALSE(parse_query(big));
}

TEST(DnsMessageTest, the_id_is_swapped_and_a_response_recognised_by_it) {
  auto m = query();
  EXPECT_EQ(message_id(m), 0x1234);
  set_message_id(m, 0xBEEF);
  EXPECT_EQ(message_id(m), 0xBEEF);
  EXPECT_EQ(m[0], std::byte{0xBE});
  EXPECT_FALSE(is_response_to(m, 0xBEEF)) << "a query is no response";
  m[2] = std::byte{0x81};
  EXPECT_TRUE(is_response_to(m, 0xBEEF));
  EXPECT_FALSE(is_response_to(m, 0x1234));
  EXPECT_FALSE(is_response_to(B({0xBE, 0xEF, 0x81}), 0xBEEF)) << "a short one is not";
  std::vector<std::byte> one = B({7});
  set_message_id(one, 1);  // too short: untouched, no crash
  EXPECT_EQ(one, B({7}));
  EXPECT_EQ(message_id(one), 0);
}

TEST(DnsMessageTest, an_error_reply_echoes_the_question_with_the_code) {
  auto m = testing::operator+(query(), B({0, 0, 41, 0x10, 0, 0, 0, 0, 0, 0, 0}));
  m[11] = std::byte{1};  // ARCOUNT 1: the OPT record, which the reply drops
  const auto q = parse_query(m);
  ASSERT_TRUE(q);
  const auto reply = error_reply(m, *q, Rcode::server_failure);
  ASSERT_EQ(reply.size(), query().size());
  EXPECT_EQ(message_id(reply), 0x1234);
  EXPECT_EQ(reply[2], std::byte{0x81});  // QR, RD kept
  EXPECT_EQ(reply[3], std::byte{0x82});  // RA, SERVFAIL
  EXPECT_EQ(std::vector(reply.begin() + 4, reply.begin() + 12), B({0, 1, 0, 0, 0, 0, 0, 0}));
  const auto asked = query();
  EXPECT_EQ(std::vector(reply.begin() + 12, reply.end()),
            std::vector(asked.begin() + 12, asked.end()));
  EXPECT_EQ(error_reply(m, *q, Rcode::refused)[3], std::byte{0x85});
  EXPECT_TRUE(is_response_to(reply, 0x1234));
}

TEST(DnsMessageTest, tcp_messages_are_length_prefixed_and_read_in_any_slicing) {
  const auto framed = tcp_frame(query());
  ASSERT_EQ(framed.size(), query().size() + 2);
  EXPECT_EQ(framed[0], std::byte{0});
  EXPECT_EQ(framed[1], std::byte{static_cast<std::uint8_t>(query().size())});
  // Two messages back to back, fed whole, then byte by byte.
  const auto stream = testing::operator+(framed, tcp_frame(B({1, 2, 3})));
  TcpReader whole;
  Step s = whole.put(stream);
  EXPECT_EQ(s.status, Status::done);
  EXPECT_EQ(s.consumed, framed.size());
  EXPECT_EQ(whole.message(), query());
  s = whole.put(std::span(stream).subspan(framed.size()));
  EXPECT_EQ(s.status, Status::done);
  EXPECT_EQ(whole.message(), B({1, 2, 3}));
  TcpReader bytewise;
  int done = 0;
  for (const std::byte b : stream) {
    s = bytewise.put(std::span(&b, 1));
    EXPECT_EQ(s.consumed, 1U);
    done += s.status == Status::done;
  }
  EXPECT_EQ(done, 2);
  EXPECT_EQ(bytewise.message(), B({1, 2, 3}));
  // A zero length is no message: the stream is broken.
  TcpReader zero;
  EXPECT_EQ(zero.put(B({0, 0, 5})).status, Status::error);
  // A cut message waits for the rest.
  TcpReader cut;
  EXPECT_EQ(cut.put(std::span(framed).first(5)).status, Status::need_more);
}

}  // namespace
}  // namespace ipm::protocol::dns
