// Issue 18 on the nginx pool's tcp front end: the enhanced fork's source_ip_rules by the
// client's address (curl-like clients bound to their own loopback addresses) and sticky
// sessions by X-Egress-Key, with a real nginx pool whose target answers with the egress it saw.
#include "tests/e2e/ipmanager_process.hpp"

#include <map>
#include <set>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/support/temp_dir.hpp"

namespace {

using ipm::test::IpmanagerProcess;
using ipm::test::NginxPool;
using ipm::test::pool_of;
using namespace std::chrono_literals;

// The egress one request through the proxy left from ("ok SOURCE"), sent from `client` with
// `headers`; "" when it got no 200.
std::string via(const IpmanagerProcess& ipm, const std::string& client,
                const ipm::test::Headers& headers = {}) {
  const auto r = ipm::test::http_get("127.0.0.1", ipm.proxy_port(), "/", headers, 5s, client);
  if (r.status != 200 || r.body.rfind("ok ", 0) != 0)
    return "";
  return r.body.substr(3, r.body.find_first_of(" \n", 3) - 3);
}

TEST(ClientsE2ETest, the_tcp_front_end_honours_source_ip_rules_and_x_egress_key) {
  NginxPool pool(pool_of(3));
  ipm::test::TempDir work;
  const auto& ips = pool.ips();  // 127.0.1.1, .2, .3
  // 127.0.0.5 may use only the third egress; 127.0.0.0/24's hosts weigh 2 on the first.
  ipm::test::write_file(work.path() / "rules.json", R"({
    ")" + ips[0] + R"(:0": {"127.0.0.5": {"source_ip": "127.0.0.5", "contention_ratio": 0},
                      "127.0.0.0/24": {"source_ip": "127.0.0.0/24", "contention_ratio": 2}},
    ")" + ips[1] + R"(:0": {"127.0.0.5": {"source_ip": "127.0.0.5", "contention_ratio": 0}}})");
  IpmanagerProcess ipm(pool,
                       "listen: [{type: tcp, port: 0, sticky: key}]\nselection: weighted\n"
                       "source_ip_rules: " +
                           (work.path() / "rules.json").string() + "\n",
                       work.path());

  // Rules by the client's address: 127.0.0.5 only ever leaves from the third egress.
  for (int i = 0; i < 6; ++i)
    EXPECT_EQ(via(ipm, "127.0.0.5"), ips[2]);
  // 127.0.0.6 (the /24's rule): 2:1:1 over each cycle of 4.
  std::map<std::string, int> dept;
  for (int i = 0; i < 8; ++i)
    ++dept[via(ipm, "127.0.0.6")];
  EXPECT_EQ(dept, (std::map<std::string, int>{{ips[0], 4}, {ips[1], 2}, {ips[2], 2}}));

  // X-Egress-Key: each key keeps its egress, whoever sends it; the keys spread.
  std::set<std::string> used;
  for (int k = 0; k < 12; ++k) {
    const ipm::test::Headers key{{"X-Egress-Key", "cart-" + std::to_string(k)}};
    const std::string first = via(ipm, "127.0.0.7", key);
    ASSERT_FALSE(first.empty()) << ipm.stderr_text();
    used.insert(first);
    EXPECT_EQ(via(ipm, "127.0.0.7", key), first) << key[0].second;
    EXPECT_EQ(via(ipm, "127.0.0.8", key), first) << key[0].second << " from another client";
  }
  EXPECT_GE(used.size(), 2U);
  // A ruled client's keys stay within its rules: 127.0.0.5's land on the third egress only.
  for (int k = 0; k < 6; ++k)
    EXPECT_EQ(via(ipm, "127.0.0.5", {{"X-Egress-Key", "k" + std::to_string(k)}}), ips[2]);
}

}  // namespace
