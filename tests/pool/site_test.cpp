#include "pool/site.hpp"

#include <string>

#include <gtest/gtest.h>

// Target texts to hosts (table), hosts to sites by target_grouping (libpsl for `site`).

namespace {

using ipm::config::TargetGrouping;
using ipm::pool::normalize_host;
using ipm::pool::SiteGrouper;

struct HostCase {
  std::string_view target;
  std::string_view host;  // "" when the target names no host
};

constexpr HostCase kHosts[] = {
    {"a.example", "a.example"},
    {"WWW.A.Example:443", "www.a.example"},
    {"  a.example.  ", "a.example"},
    {"http://user:pw@a.example:8080/path?q#f", "a.example"},
    {"127.0.0.1:8080", "127.0.0.1"},
    {"[::1]:80", "::1"},
    {"[::1]", "::1"},
    {"::1", "::1"},
    {"2001:db8::1", "2001:db8::1"},
    {"-", ""},
    {"", ""},
    {"a.example:port", ""},
    {"[::1", ""},
    {"[::1]x", ""},
    {"a..example", ""},
    {".a.example", ""},
    {"a example", ""},
    {"a\"example", ""},
    {"zz:zz:zz", ""},
    {"under_score.example", "under_score.example"},
};

TEST(SiteTest, normalize_host_table) {
  for (const auto& c : kHosts) {
    SCOPED_TRACE(std::string(c.target));
    EXPECT_EQ(normalize_host(c.target), c.host);
  }
  EXPECT_EQ(normalize_host(std::string(254, 'a')), "") << "longer than a DNS name";
  EXPECT_EQ(normalize_host(std::string(253, 'a')), std::string(253, 'a'));
}

TEST(SiteTest, site_grouping_uses_the_public_suffix_list) {
  const SiteGrouper g(TargetGrouping::site);
  EXPECT_FALSE(g.list_source().empty());
  EXPECT_EQ(g.site_of("www.a.example.com"), "example.com");
  EXPECT_EQ(g.site_of("x.y.example.co.uk:443"), "example.co.uk");
  EXPECT_EQ(g.site_of("shop.github.io"), "shop.github.io") << "a private suffix (PSL)";
  EXPECT_EQ(g.site_of("co.uk"), "co.uk") << "a public suffix is its own site";
  EXPECT_EQ(g.site_of("localhost"), "localhost");
  EXPECT_EQ(g.site_of("127.0.0.1:8080"), "127.0.0.1") << "an IP literal is its own site";
  EXPECT_EQ(g.site_of("[2001:db8::1]:443"), "2001:db8::1");
  EXPECT_EQ(g.site_of("-"), "");
}

TEST(SiteTest, host_and_none_grouping) {
  const SiteGrouper host(TargetGrouping::host);
  EXPECT_EQ(host.site_of("WWW.A.example.com:443"), "www.a.example.com");
  const SiteGrouper none(TargetGrouping::none);
  EXPECT_EQ(none.site_of("www.a.example.com"), "");
}

}  // namespace

// site_of remembers recent targets per thread: two groupers asked for the same targets in
// turn each keep their own answers, and a long target is grouped as a short one.
TEST(SiteGrouperTest, the_per_thread_cache_never_mixes_groupers) {
  const ipm::pool::SiteGrouper by_site(ipm::config::TargetGrouping::site);
  const ipm::pool::SiteGrouper by_host(ipm::config::TargetGrouping::host);
  for (int round = 0; round < 3; ++round) {
    EXPECT_EQ(by_site.site_of("www.a.example.co.uk"), "example.co.uk");
    EXPECT_EQ(by_host.site_of("www.a.example.co.uk"), "www.a.example.co.uk");
    EXPECT_EQ(by_site.site_of("WWW.A.EXAMPLE.CO.UK:443"), "example.co.uk");
  }
  const std::string long_host = std::string(100, 'x') + ".b.example";
  EXPECT_EQ(by_site.site_of(long_host), "b.example");
  EXPECT_EQ(by_site.site_of(long_host), "b.example");
  for (int i = 0; i < 5000; ++i) {  // more targets than the cache holds: evictions are exact
    const std::string host = "h" + std::to_string(i) + ".s" + std::to_string(i % 7) + ".example";
    ASSERT_EQ(by_site.site_of(host), "s" + std::to_string(i % 7) + ".example") << host;
  }
}

namespace {

// SiteName::is compares in words for 8 to 16 bytes: every length around those bounds, equal
// and differing at the first, a middle and the last byte.
TEST(SiteNameTest, is_compares_every_byte_at_every_length) {
  for (std::size_t n = 0; n <= 24; ++n) {
    std::string text;
    for (std::size_t k = 0; k < n; ++k)
      text.push_back(static_cast<char>('a' + k));
    const ipm::pool::SiteName name(text);
    const std::string same = text;  // another buffer, as a snapshot's copy is
    EXPECT_TRUE(name.is(same)) << n;
    EXPECT_FALSE(name.is(same + "x")) << n;
    if (n == 0)
      continue;
    EXPECT_FALSE(name.is(same.substr(0, n - 1))) << n;
    for (const std::size_t at : {std::size_t{0}, n / 2, n - 1}) {
      std::string other = same;
      other[at] = 'Z';
      EXPECT_FALSE(name.is(other)) << n << " at " << at;
    }
  }
}

}  // namespace
