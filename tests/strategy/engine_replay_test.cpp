#include "strategy/engine.hpp"

#include <algorithm>
#include <random>
#include <span>
#include <tuple>

#include <gtest/gtest.h>

#include "engine_fixture.hpp"

// Determinism: the same events give the same state whether they arrive live (with ticks
// running at, and slightly ahead of, the newest event time) or as a replay with no tick
// until the end.

namespace {

using namespace ipm::strategy::test;
using ipm::strategy::Engine;
using ipm::strategy::IpRecord;

struct GeneratedEvent {
  bool is_dial = false;
  std::string ip;
  ipm::pool::TimePoint time;
  int status = 0;
  ipm::pool::DialResult dial = ipm::pool::DialResult::ok;
  std::string key;
  std::string target;  // empty: "target.example"
  int upstream = 0;
};

// Twenty IPs over ~4 simulated hours. Each IP has bad spells with a high failure rate, so
// there are ejections, failed and passed probations, capped trips and backoff decay; times
// carry +-2 s of disorder as lines from several files would.
std::vector<GeneratedEvent> generate(unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<GeneratedEvent> out;
  const int ips = 20;
  for (int i = 0; i < 30000; ++i) {
    const int ip = static_cast<int>(rng() % ips) + 1;
    const double t = i * 0.5 + (u(rng) * 4.0 - 2.0);
    const bool bad_spell = (static_cast<int>(t / 1200) + ip) % 4 == 0;
    GeneratedEvent e;
    e.ip = "127.0.1." + std::to_string(ip);
    e.time = kBase + std::chrono::milliseconds(static_cast<long long>(t * 1000));
    e.key = "key" + std::to_string(rng() % 7);
    const double p = u(rng);
    if (p < 0.05) {
      e.is_dial = true;
      e.dial =
          bad_spell && u(rng) < 0.5 ? ipm::pool::DialResult::refused : ipm::pool::DialResult::ok;
    } else if (bad_spell) {
      e.status = p < 0.8 ? 429 : (p < 0.9 ? 404 : 200);
    } else {
      e.status = p < 0.9 ? 200 : (p < 0.97 ? 404 : 503);
    }
    out.push_back(std::move(e));
  }
  return out;
}

void feed(Engine& engine, const GeneratedEvent& e) {
  if (e.is_dial) {
    engine.apply(dial(e.ip, e.time, e.dial));
  } else {
    engine.apply(log_event(e.ip, e.time, e.status, e.upstream, e.key,
                           e.target.empty() ? std::string_view("target.example") : e.target));
  }
}

// Mixed sites: twelve sites, each IP blocked by a few of them (403 from the target, with an
// upstream status) for spells, some lines the egress's own 502s, some lines without a target.
std::vector<GeneratedEvent> generate_sites(unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<GeneratedEvent> out;
  const int ips = 20;
  for (int i = 0; i < 30000; ++i) {
    const int ip = static_cast<int>(rng() % ips) + 1;
    const int site = static_cast<int>(rng() % 12);
    const double t = i * 0.5 + (u(rng) * 4.0 - 2.0);
    const bool blocked = (static_cast<int>(t / 900) + ip * 3 + site) % 7 == 0;
    const bool egress_bad = (static_cast<int>(t / 1500) + ip) % 9 == 0;
    GeneratedEvent e;
    e.ip = "127.0.1." + std::to_string(ip);
    e.time = kBase + std::chrono::milliseconds(static_cast<long long>(t * 1000));
    e.key = "key" + std::to_string(rng() % 7);
    e.target = (site == 11) ? "-" : "www.s" + std::to_string(site) + ".example";
    const double p = u(rng);
    if (p < 0.05) {
      e.is_dial = true;
      e.dial =
          egress_bad && u(rng) < 0.5 ? ipm::pool::DialResult::refused : ipm::pool::DialResult::ok;
    } else if (egress_bad && p < 0.5) {
      e.status = 502;  // nginx's own: nothing reached
    } else if (blocked) {
      e.status = p < 0.9 ? 403 : 200;
      e.upstream = e.status;
    } else {
      e.status = p < 0.95 ? 200 : 503;
      e.upstream = e.status;
    }
    out.push_back(std::move(e));
  }
  return out;
}

auto state_tuple(const ipm::strategy::Health& r) {
  return std::make_tuple(r.state, r.state_since, r.streak, r.streak_ends_with_dial, r.clock,
                         r.cooldown_until, r.out_since, r.out_until, r.healthy_since,
                         r.backoff_multiplier, r.capped, r.last_reason, r.last_decision);
}

auto counters_tuple(const ipm::strategy::IpCounters& c) {
  return std::make_tuple(c.events, c.successes, c.failures, c.neutrals, c.dial_failures, c.dials,
                         c.ignored_events, c.ejections, c.ejections_capped, c.probations,
                         c.recoveries);
}

void expect_same_state(const Engine& live, const Engine& replay) {
  ASSERT_EQ(live.ips().size(), replay.ips().size());
  for (std::size_t i = 0; i < live.ips().size(); ++i) {
    const IpRecord& a = live.ips()[i];
    const IpRecord& b = replay.ips()[i];
    SCOPED_TRACE(a.egress.ip);
    EXPECT_EQ(a.egress, b.egress);
    EXPECT_TRUE(state_tuple(a) == state_tuple(b));
    EXPECT_TRUE(counters_tuple(a.counters) == counters_tuple(b.counters));
    ASSERT_EQ(a.sites.size(), b.sites.size());
    for (std::size_t s = 0; s < a.sites.size(); ++s) {
      const auto& x = a.sites[s];
      const auto& y = b.sites[s];
      EXPECT_EQ(live.site(x.site), replay.site(y.site));
      EXPECT_TRUE(state_tuple(x) == state_tuple(y));
      EXPECT_EQ(x.last_failure, y.last_failure);
      EXPECT_EQ(x.reason, y.reason);
    }
    ASSERT_EQ(a.history.size(), b.history.size());
    for (std::size_t h = 0; h < a.history.size(); ++h) {
      EXPECT_EQ(a.history[h].time_ns, b.history[h].time_ns);
      EXPECT_EQ(a.history[h].status, b.history[h].status);
      EXPECT_EQ(live.key(a.history[h].key), replay.key(b.history[h].key));
    }
    ASSERT_EQ(a.cooldowns.size(), b.cooldowns.size());
    for (std::size_t c = 0; c < a.cooldowns.size(); ++c) {
      EXPECT_EQ(a.cooldowns[c].start, b.cooldowns[c].start);
      EXPECT_EQ(a.cooldowns[c].end, b.cooldowns[c].end);
      EXPECT_EQ(a.cooldowns[c].reason, b.cooldowns[c].reason);
    }
    // In order per scope (the IP, each of its sites): a site's end of cooldown is recorded
    // by a tick live and at the site's next line in a replay, so decisions about two scopes
    // of one IP may interleave differently; each scope's own sequence is the same.
    auto by_scope = [](std::vector<ipm::strategy::DecisionRecord> d) {
      std::stable_sort(d.begin(), d.end(),
                       [](const auto& x, const auto& y) { return x.site < y.site; });
      return d;
    };
    const auto da = by_scope(decisions_of(live, a.egress.ip));
    const auto db = by_scope(decisions_of(replay, b.egress.ip));
    ASSERT_EQ(da.size(), db.size());
    for (std::size_t d = 0; d < da.size(); ++d) {
      EXPECT_EQ(da[d].kind, db[d].kind);
      EXPECT_EQ(da[d].time, db[d].time);
      EXPECT_EQ(da[d].until, db[d].until);
      EXPECT_EQ(da[d].reason, db[d].reason);
      EXPECT_EQ(da[d].site, db[d].site);
    }
  }
  EXPECT_EQ(live.all_unavailable(), replay.all_unavailable());
}

ipm::config::Config replay_config() {
  auto cfg = test_config();
  cfg.cool_down = std::chrono::minutes(2);
  cfg.max_cool_down = std::chrono::minutes(20);
  cfg.backoff_decay_after = std::chrono::minutes(10);
  cfg.cool_down_jitter = 0.1;
  cfg.max_ejected_percent = 30;
  cfg.max_history_log_each_ip = 500;
  return cfg;
}

TEST(EngineReplayTest, live_and_replay_give_the_same_state) {
  for (unsigned seed : {1U, 2U, 3U}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    const auto events = generate(seed);
    const auto cfg = replay_config();
    Engine live(cfg, egresses(20), kBase);
    Engine replay(cfg, egresses(20), kBase);

    ipm::pool::TimePoint newest = kBase;
    for (std::size_t i = 0; i < events.size(); ++i) {
      feed(live, events[i]);
      newest = std::max(newest, events[i].time);
      if (i % 7 == 0)
        live.tick(newest + std::chrono::seconds(1));  // the app's timer runs a little ahead
    }
    for (const auto& e : events)
      feed(replay, e);
    const auto end = newest + std::chrono::seconds(5);
    live.tick(end);
    replay.tick(end);

    // The run must have exercised the interesting transitions, or it proves little.
    EXPECT_GT(live.counters().ejections_failures, 10U);
    EXPECT_GT(live.counters().ejections_probation, 3U);
    EXPECT_GT(live.counters().recoveries, 10U);
    EXPECT_GT(live.counters().ejections_capped, 0U);
    std::uint64_t ignored = 0;
    for (const auto& r : live.ips())
      ignored += r.counters.ignored_events;
    EXPECT_GT(ignored, 0U);
    expect_same_state(live, replay);
  }
}

TEST(EngineReplayTest, a_batch_of_lines_gives_the_state_of_the_lines_one_by_one) {
  // Engine::apply(batch) looks ahead two lines to overlap their cache misses: it must apply
  // exactly the lines, in order, whatever the batch size (0, 1, 2, 3 and longer), lines of
  // IPs not in the pool among them.
  auto events = generate(4);
  for (std::size_t i = 0; i < events.size(); i += 11)
    events[i].ip = "127.0.9." + std::to_string(i % 5);  // not in the pool
  const auto cfg = replay_config();
  Engine single(cfg, egresses(20), kBase);
  Engine batched(cfg, egresses(20), kBase);
  for (const auto& e : events)
    feed(single, e);
  std::vector<ipm::pool::LogEvent> batch;
  const std::size_t sizes[] = {1, 2, 3, 7, 64};
  std::size_t turn = 0;
  const auto flush = [&] {
    batched.apply(std::span<const ipm::pool::LogEvent>(batch));
    batch.clear();
    ++turn;
  };
  flush();  // an empty batch changes nothing
  for (const auto& e : events) {
    if (e.is_dial) {
      flush();
      feed(batched, e);
      continue;
    }
    batch.push_back(log_event(e.ip, e.time, e.status, e.upstream, e.key, "target.example"));
    if (batch.size() == sizes[turn % std::size(sizes)])
      flush();
  }
  flush();
  EXPECT_GT(single.counters().unknown_ip_events, 1000U);
  EXPECT_EQ(batched.counters().unknown_ip_events, single.counters().unknown_ip_events);
  EXPECT_EQ(batched.counters().events, single.counters().events);
  expect_same_state(single, batched);
}

TEST(EngineReplayTest, live_and_replay_give_the_same_per_site_state) {
  for (unsigned seed : {4U, 5U}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    const auto events = generate_sites(seed);
    auto cfg = replay_config();
    cfg.max_sites_per_ip = 4;  // evictions happen
    cfg.failing_sites_to_eject = 3;
    Engine live(cfg, egresses(20), kBase);
    Engine replay(cfg, egresses(20), kBase);
    ipm::pool::TimePoint newest = kBase;
    for (std::size_t i = 0; i < events.size(); ++i) {
      feed(live, events[i]);
      newest = std::max(newest, events[i].time);
      if (i % 7 == 0)
        live.tick(newest + std::chrono::seconds(1));
    }
    for (const auto& e : events)
      feed(replay, e);
    const auto end = newest + std::chrono::seconds(5);
    live.tick(end);
    replay.tick(end);

    const auto& c = live.counters();
    EXPECT_GT(c.site_ejections, 10U);
    EXPECT_GT(c.site_ejections_probation, 0U);
    EXPECT_GT(c.site_recoveries, 5U);
    EXPECT_GT(c.sites_evicted, 0U);
    EXPECT_GT(c.ejections_failures + c.ejections_dial, 0U);
    EXPECT_GT(c.ejections_sites, 0U);
    expect_same_state(live, replay);
  }
}

}  // namespace
