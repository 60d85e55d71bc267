// Health per target site on the real system (issue 20): a real nginx pool whose target blocks
// chosen (IP, host) pairs with a `map` on "$remote_addr $http_x_egress_host", clients through
// ipmanager's proxy alternating two sites (X-Egress-Host), the real binary.
#include "tests/e2e/ipmanager_process.hpp"

#include <csignal>
#include <map>
#include <set>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <boost/json.hpp>

#include "tests/support/temp_dir.hpp"

namespace {

namespace json = boost::json;
using ipm::test::IpmanagerProcess;
using ipm::test::NginxPool;
using ipm::test::pool_of;
using ipm::test::sample;
using ipm::test::wait_until;
using namespace std::chrono_literals;

constexpr int kConsecutiveFailure = 3;

// One request through the proxy for `site`; the source the target saw ("ok SOURCE" or
// "blocked SOURCE for HOST") and the status.
struct Sent {
  int status = 0;
  std::string source;
};
Sent send(const IpmanagerProcess& ipm, const std::string& site) {
  const auto r = ipm.get_through_proxy("/", {{"X-Egress-Host", site}});
  Sent s{r.status, {}};
  for (const std::string prefix : {"ok ", "blocked "}) {
    if (r.body.rfind(prefix, 0) == 0) {
      const auto end = r.body.find_first_of(" \n", prefix.size());
      s.source = r.body.substr(prefix.size(), end - prefix.size());
    }
  }
  return s;
}

// Waits (bounded) until ipmanager has parsed `lines` access-log lines, so that the next
// request is chosen with every earlier outcome known: the counts below do not depend on how
// fast the log is tailed.
void wait_parsed(const IpmanagerProcess& ipm, int lines) {
  ASSERT_TRUE(wait_until(
      [&] {
        return sample(ipm.metrics(), "ipmanager_scanner_lines_total{result=\"parsed\"}") >= lines;
      },
      10s))
      << "ipmanager did not parse " << lines << " lines";
}

// The IPs /probe?summary=1&target=SITE lists as not available for that site.
std::set<std::string> out_for(const IpmanagerProcess& ipm, const std::string& site) {
  const auto r = ipm.probe("/probe?summary=1&target=" + site);
  EXPECT_EQ(r.status, 200) << r.body;
  std::set<std::string> out;
  const json::value v = json::parse(r.body);  // held: the loop reads into it
  for (const auto& e : v.at("IPList").as_array())
    out.insert(std::string(e.at("IP").as_string()));
  return out;
}

std::set<std::string> available_for(const IpmanagerProcess& ipm, const std::string& site) {
  std::set<std::string> out;
  const json::value v = ipm.probe_json("?limit=0&target=" + site);
  for (const auto& ip : v.at("AvailableIP").as_array())
    out.insert(std::string(ip.as_string()));
  return out;
}

TEST(SiteHealthE2ETest, a_site_stops_using_the_ips_it_blocks_while_the_other_site_keeps_them) {
  NginxPool pool(pool_of(6));
  ipm::test::TempDir work;
  const std::set<std::string> all(pool.ips().begin(), pool.ips().end());
  const std::vector<std::string> blocked{pool.ips()[1], pool.ips()[4]};
  const std::set<std::string> blocked_set(blocked.begin(), blocked.end());
  pool.block_for_host(blocked, "a.example");

  std::map<std::string, int> failures_of;  // a.example 403s per egress
  {
    IpmanagerProcess ipm(pool,
                         "cool_down_min: 10m\nselection: random\nconsecutive_failure: " +
                             std::to_string(kConsecutiveFailure) + "\n",
                         work.path());

    // Alternate a.example and b.example, one request at a time, until a.example has ejected
    // both IPs that block it (bounded). b.example successes must not reset a.example's count.
    int sent = 0;
    for (int i = 0; i < 400 && out_for(ipm, "a.example") != blocked_set; ++i) {
      const std::string site = i % 2 == 0 ? "a.example" : "b.example";
      const Sent s = send(ipm, site);
      ++sent;
      if (s.status == 403)
        ++failures_of[s.source];
      else
        ASSERT_EQ(s.status, 200) << site << " via " << s.source;
      wait_parsed(ipm, sent);
    }
    ASSERT_EQ(out_for(ipm, "a.example"), blocked_set) << ipm.stderr_text();
    for (const auto& ip : blocked) {
      EXPECT_EQ(failures_of[ip], kConsecutiveFailure)
          << ip
          << ": the streak counts a.example's failures only, b.example's successes between "
             "them do not reset it";
    }
    EXPECT_EQ(failures_of.size(), blocked.size()) << "only the blocking pairs failed";

    // The egresses themselves stay available: b.example (and a client naming no site) keep
    // using them, a.example does not reach them any more.
    EXPECT_EQ(ipm::test::ips_in(ipm.states(), "available"), all);
    EXPECT_EQ(available_for(ipm, "b.example"), all);
    std::set<std::string> others(all);
    for (const auto& ip : blocked)
      others.erase(ip);
    EXPECT_EQ(available_for(ipm, "www.a.example"), others) << "grouped to its site";
    std::map<std::string, int> b_via;
    for (int i = 0; i < 120; ++i) {
      const std::string site = i % 2 == 0 ? "a.example" : "b.example";
      const Sent s = send(ipm, site);
      ASSERT_EQ(s.status, 200) << site << " via " << s.source;
      if (site == "a.example")
        EXPECT_FALSE(blocked_set.contains(s.source)) << "a.example reached " << s.source;
      else
        ++b_via[s.source];
    }
    for (const auto& ip : blocked)
      EXPECT_GT(b_via[ip], 0) << "b.example no longer used " << ip;

    // Visible: the IP's detail lists the site with its reason; the decision log names it.
    const auto detail = json::parse(ipm.probe("/api/ip/" + blocked[0]).body);
    ASSERT_EQ(detail.at("sites").as_array().size(), 1U);
    EXPECT_EQ(detail.at("sites").at(0).at("site").as_string(), "a.example");
    EXPECT_THAT(std::string(detail.at("sites").at(0).at("reason").as_string()),
                testing::HasSubstr("403"));
    EXPECT_THAT(ipm.stderr_text(),
                testing::HasSubstr("decision eject " + blocked[0] + " for a.example"));
    EXPECT_EQ(sample(ipm.metrics(), "ipmanager_site_ejections_total{reason=\"failures\"}"), 2);

    ipm.process().signal(SIGKILL);  // a crash: the per-site state must come back from the log
    ASSERT_TRUE(ipm.process().wait_exit(5s));
  }

  // Parse mode rebuilds the per-site state from the log (a short cooldown now: replayed at
  // event time, the two are cooling or already on probation for a.example, never forgotten).
  IpmanagerProcess restarted(pool,
                             "cool_down_min: 1s\ncool_down_jitter: 0\nselection: random\n"
                             "probation_share: 0.5\nconsecutive_failure: " +
                                 std::to_string(kConsecutiveFailure) + "\n",
                             work.path(), /*parse_mode=*/true);
  EXPECT_EQ(out_for(restarted, "a.example"), blocked_set) << restarted.stderr_text();
  EXPECT_TRUE(out_for(restarted, "b.example").empty());

  // The target forgives: a.example's probation traffic reaches them, succeeds, and they are
  // back for a.example (bounded).
  pool.unblock_for_host(blocked, "a.example");
  // Traffic in rounds until then (bounded): the cooldown ends on the clock, the probation
  // needs a.example's own requests.
  int refused = 0;
  ASSERT_TRUE(wait_until(
      [&] {
        if (out_for(restarted, "a.example").empty())
          return true;
        for (int i = 0; i < 20; ++i)
          refused += send(restarted, i % 2 == 0 ? "a.example" : "b.example").status != 200;
        return false;
      },
      20s))
      << restarted.stderr_text();
  EXPECT_EQ(refused, 0);
  EXPECT_EQ(available_for(restarted, "a.example"), all);
  const std::string log = restarted.stderr_text();
  for (const auto& ip : blocked) {
    EXPECT_THAT(log, testing::HasSubstr("decision probation " + ip + " for a.example")) << ip;
    EXPECT_THAT(log, testing::HasSubstr("decision recover " + ip + " for a.example")) << ip;
  }
}

}  // namespace
