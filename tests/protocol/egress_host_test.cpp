#include "proxy/protocol/egress_host.hpp"

#include <string>

#include <gtest/gtest.h>

// The target a tcp client names among its first bytes: X-Egress-Host, else Host, only from
// complete header lines of an HTTP/1.x request head.

namespace {

using ipm::protocol::egress_host_in_first_bytes;

struct Case {
  std::string_view name;
  std::string_view bytes;
  std::string_view host;
};

constexpr Case kCases[] = {
    {"x_egress_host", "GET / HTTP/1.1\r\nX-Egress-Host: a.example\r\nHost: b\r\n\r\n", "a.example"},
    {"x_egress_host_after_host", "GET / HTTP/1.1\r\nHost: b\r\nx-egress-host:a.example\r\n\r\n",
     "a.example"},
    {"host_only", "POST /x HTTP/1.0\r\nHOST:  b.example:8080 \r\n\r\nbody", "b.example:8080"},
    {"bare_lf", "GET / HTTP/1.1\nHost: b.example\n\n", "b.example"},
    {"first_host_wins", "GET / HTTP/1.1\r\nHost: one\r\nHost: two\r\n\r\n", "one"},
    {"empty_x_egress_host_falls_back", "GET / HTTP/1.1\r\nX-Egress-Host:\r\nHost: b\r\n\r\n", "b"},
    {"head_cut_after_host", "GET / HTTP/1.1\r\nHost: b.example\r\nX-Egr", "b.example"},
    {"partial_header_line_is_ignored", "GET / HTTP/1.1\r\nHost: b.exa", ""},
    {"partial_request_line", "GET / HTTP/1.", ""},
    {"no_headers", "GET / HTTP/1.1\r\n\r\n", ""},
    {"header_after_the_head_is_body", "GET / HTTP/1.1\r\n\r\nHost: b\r\n", ""},
    {"not_http_tls", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", ""},
    {"not_http_ssh", "SSH-2.0-OpenSSH_9.2\r\n", ""},
    {"http2_preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", ""},
    {"bad_method", "G(T / HTTP/1.1\r\nHost: b\r\n\r\n", ""},
    {"no_target", "GET HTTP/1.1\r\nHost: b\r\n\r\n", ""},
    {"line_without_colon", "GET / HTTP/1.1\r\nHost b\r\n\r\n", ""},
    {"space_in_name", "GET / HTTP/1.1\r\nX Egress Host: a\r\n\r\n", ""},
    {"empty", "", ""},
    {"lone_lf", "\n", ""},
};

class EgressHostTest : public ::testing::TestWithParam<Case> {};

TEST_P(EgressHostTest, finds_the_target) {
  const Case& c = GetParam();
  EXPECT_EQ(egress_host_in_first_bytes(c.bytes), c.host);
}

INSTANTIATE_TEST_SUITE_P(Table, EgressHostTest, ::testing::ValuesIn(kCases),
                         [](const auto& param_info) { return std::string(param_info.param.name); });

TEST(EgressHostSlicing, every_prefix_is_safe_and_never_guesses_a_later_header) {
  const std::string head = "GET / HTTP/1.1\r\nHost: b.example\r\nX-Egress-Host: a.example\r\n\r\n";
  for (std::size_t n = 0; n <= head.size(); ++n) {
    const std::string_view got = egress_host_in_first_bytes(std::string_view(head).substr(0, n));
    EXPECT_TRUE(got.empty() || got == "b.example" || got == "a.example") << n;
    if (n < head.find("X-Egress") + 1) {
      EXPECT_NE(got, "a.example") << n;
    }
  }
  EXPECT_EQ(egress_host_in_first_bytes(head), "a.example");
}

}  // namespace

namespace {

using ipm::protocol::egress_headers_in_first_bytes;

struct KeyCase {
  std::string_view name;
  std::string_view bytes;
  std::string_view key;
  std::string_view target;
};

constexpr KeyCase kKeyCases[] = {
    {"key_and_host", "GET / HTTP/1.1\r\nHost: b\r\nX-Egress-Key: cart-7\r\n\r\n", "cart-7", "b"},
    {"key_before_egress_host",
     "GET / HTTP/1.1\r\nx-egress-key:  s1 \r\nX-Egress-Host: a\r\nHost: b\r\n\r\n", "s1", "a"},
    {"first_non_empty_key_wins", "GET / HTTP/1.1\r\nX-Egress-Key:\r\nX-Egress-Key: k2\r\n\r\n",
     "k2", ""},
    {"key_kept_before_a_bad_line", "GET / HTTP/1.1\r\nX-Egress-Key: k\r\nHost b\r\n\r\n", "k", ""},
    {"key_after_the_head_is_body", "GET / HTTP/1.1\r\nHost: b\r\n\r\nX-Egress-Key: k\r\n", "", "b"},
    {"partial_key_line_is_ignored", "GET / HTTP/1.1\r\nHost: b\r\nX-Egress-Key: car", "", "b"},
    {"no_key", "GET / HTTP/1.1\r\nHost: b\r\n\r\n", "", "b"},
    {"not_http", "\x16\x03\x01\x02\x00", "", ""},
};

class EgressKeyTest : public ::testing::TestWithParam<KeyCase> {};

TEST_P(EgressKeyTest, finds_the_key_beside_the_target) {
  const KeyCase& c = GetParam();
  const auto got = egress_headers_in_first_bytes(c.bytes);
  EXPECT_EQ(got.key, c.key);
  EXPECT_EQ(got.target, c.target);
}

INSTANTIATE_TEST_SUITE_P(Table, EgressKeyTest, ::testing::ValuesIn(kKeyCases),
                         [](const auto& param_info) { return std::string(param_info.param.name); });

}  // namespace
