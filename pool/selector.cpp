#include "pool/selector.hpp"

#include <cstdio>
#include <cstdlib>
#include <thread>

namespace ipm::pool {
namespace {

std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// One generator per thread: selection never shares random state between threads.
std::uint32_t random_below(std::size_t n) {
  static std::atomic<std::uint64_t> seeds{0x5EED};
  thread_local std::uint64_t state =
      seeds.fetch_add(0x9E3779B97F4A7C15ULL, std::memory_order_relaxed) ^
      std::hash<std::thread::id>{}(std::this_thread::get_id());
  const std::uint64_t r = splitmix64(state) >> 32;
  return static_cast<std::uint32_t>((r * static_cast<std::uint64_t>(n)) >> 32);
}

bool is_excluded(const Snapshot& s, std::uint32_t i, const Request& request,
                 std::span<const std::string> exclude) {
  const Candidate& c = s.schedule.candidate(i);
  if (!can_serve(c.kind, c.family, request))
    return true;
  for (const auto& ip : exclude) {
    if (s.ips[i].egress.ip == ip)
      return true;
  }
  return false;
}

// A draw of IP i stands for the request's site: always without a rule, never when the IP is
// out for the site, with its probation share when it is on probation for it.
bool draw_stands(const SiteRules* rules, std::uint32_t i) {
  if (rules == nullptr)
    return true;
  const float share = rules->share_of(i);
  if (share >= 1.0F)
    return true;
  return share > 0.0F && static_cast<float>(random_below(1U << 20)) < share * (1U << 20);
}

std::atomic<std::uint64_t> next_selector_id{1};

}  // namespace

Pick::Pick(const Candidate& candidate, std::uint32_t index, bool fallback)
    : target_(candidate.target), index_(index), state_(candidate.state), fallback_(fallback) {
  candidate.active->value.fetch_add(1, std::memory_order_relaxed);
}

Pick& Pick::operator=(Pick&& other) noexcept {
  if (this != &other) {
    release();
    target_ = std::move(other.target_);
    index_ = other.index_;
    state_ = other.state_;
    fallback_ = other.fallback_;
  }
  return *this;
}

Pick::~Pick() {
  release();
}

void Pick::release() {
  if (target_) {
    target_->active->value.fetch_sub(1, std::memory_order_relaxed);
    target_.reset();
  }
}

Selector::Selector(config::Selection policy)
    : policy_(policy),
      id_(next_selector_id.fetch_add(1, std::memory_order_relaxed)),
      current_(std::make_shared<const Snapshot>()) {}

void Selector::publish(Snapshot next) {
  std::lock_guard lock(publish_mutex_);
  attach_targets(next);
  swap_in(std::move(next));
}

// The engine's entries come with their IP's PickTarget, and chunks published before were
// filled then: a publish looks at the new chunks only. A snapshot built by hand gets its
// targets here, by IP, keeping the connection count of an IP published before.
void Selector::attach_targets(Snapshot& next) {
  const std::shared_ptr<const Snapshot> current = snapshot();
  bool missing = false;
  for (std::size_t c = 0; c < next.ips.chunk_count() && !missing; ++c) {
    if (c < current->ips.chunk_count() && next.ips.chunk(c) == current->ips.chunk(c))
      continue;
    for (const auto& e : *next.ips.chunk(c))
      missing = missing || !e.target;
  }
  if (!missing)
    return;
  std::unordered_map<std::string, std::shared_ptr<ActiveCount>> kept;
  kept.reserve(next.ips.size());
  SnapshotEntries filled;
  for (std::size_t c = 0; c < next.ips.chunk_count(); ++c) {
    auto chunk = std::make_shared<SnapshotEntries::Chunk>(*next.ips.chunk(c));
    for (auto& e : *chunk) {
      if (!e.target) {
        auto it = counters_.find(e.egress.ip);
        e.active = it != counters_.end() ? it->second : std::make_shared<ActiveCount>();
        e.target = std::make_shared<const PickTarget>(PickTarget{e.egress, e.active});
      }
      kept.emplace(e.egress.ip, e.active);
    }
    filled.push_chunk(std::move(chunk));
  }
  counters_ = std::move(kept);
  next.ips = std::move(filled);
}

void Selector::set_policy(config::Selection policy) {
  std::lock_guard lock(publish_mutex_);
  policy_.store(policy, std::memory_order_relaxed);
  swap_in(*snapshot());  // same IPs and counters, the schedule rebuilt for the new policy
}

Schedule build_schedule(const Snapshot& s, config::Selection policy, const Snapshot* before) {
  const bool use_weight =
      policy == config::Selection::weighted || policy == config::Selection::least_conn;
  return before == nullptr ? Schedule::build(s.ips, use_weight)
                           : Schedule::build(s.ips, use_weight, &before->ips, &before->schedule);
}

void Selector::swap_in(Snapshot next) {
  next.policy = policy_.load(std::memory_order_relaxed);
  // Built beside the current snapshot: only the chunks that changed get a new piece.
  const std::shared_ptr<const Snapshot> before = snapshot();
  next.schedule = build_schedule(next, next.policy, before.get());
#ifndef NDEBUG
  // Debug builds (every test) check the spliced schedule against one built from scratch.
  if (next.schedule.to_vector() != build_schedule(next, next.policy).to_vector()) {
    std::fprintf(stderr, "Selector::publish: the spliced schedule differs from a fresh one\n");
    std::abort();
  }
#endif
  auto published = std::make_shared<const Snapshot>(std::move(next));
  {
    std::lock_guard current_lock(current_mutex_);
    current_ = std::move(published);
  }
  generation_.fetch_add(1, std::memory_order_release);
}

const std::shared_ptr<const Snapshot>& Selector::current_for_this_thread() {
  struct Cached {
    std::uint64_t selector = 0;
    std::uint64_t generation = 0;
    std::shared_ptr<const Snapshot> snapshot;
  };
  thread_local Cached cached;
  // generation_ is bumped after current_ is replaced: seeing the new generation guarantees
  // the copy below is that snapshot or a newer one.
  const std::uint64_t generation = generation_.load(std::memory_order_acquire);
  if (cached.selector != id_ || cached.generation != generation || !cached.snapshot) {
    cached.snapshot = snapshot();
    cached.selector = id_;
    cached.generation = generation;
  }
  return cached.snapshot;
}

std::shared_ptr<const Snapshot> Selector::snapshot() const {
  std::lock_guard lock(current_mutex_);
  return current_;
}

std::optional<Pick> Selector::pick(const Request& request, std::span<const std::string> exclude) {
  const Snapshot& snap = *current_for_this_thread();
  if (snap.schedule.empty())
    return std::nullopt;
  // The first draw comes before the site's rules are looked up: it does not depend on them,
  // so the CPU overlaps the two lookups' cache misses instead of waiting for one, then the
  // other (about a fifth of a pick for a site's cost, site_health_bench BM_Pick/1).
  const std::uint32_t first = draw(snap);
  const SiteRules* rules = request.site.empty() ? nullptr : snap.rules_for(request.site);
  auto index = choose(snap, request, exclude, rules, first);
  if (!index && rules != nullptr)
    index = choose(snap, request, exclude, nullptr, draw(snap));  // all out for the site
  if (!index)
    return std::nullopt;
  return Pick(snap.schedule.candidate(*index), *index, snap.least_bad_fallback);
}

bool Selector::has_site_rules() {
  return !current_for_this_thread()->sites.empty();
}

std::optional<std::uint32_t> Selector::choose(const Snapshot& s, const Request& request,
                                              std::span<const std::string> exclude,
                                              const SiteRules* rules, std::uint32_t first) {
  // A few policy draws honour shares and weights; past them (most of the pool excluded)
  // a scan from a random point finds whatever is left.
  for (int attempt = 0; attempt < 8; ++attempt) {
    const std::uint32_t i = attempt == 0 ? first : draw(s);
    if (!is_excluded(s, i, request, exclude) && draw_stands(rules, i))
      return i;
  }
  const std::size_t n = s.schedule.size();
  const std::size_t start = random_below(n);
  for (std::size_t k = 0; k < n; ++k) {
    const std::uint32_t i = s.schedule[(start + k) % n];
    if (!is_excluded(s, i, request, exclude) && (rules == nullptr || rules->share_of(i) > 0.0F))
      return i;
  }
  return std::nullopt;
}

std::uint32_t Selector::draw(const Snapshot& s) {
  const auto& schedule = s.schedule;
  switch (s.policy) {
    case config::Selection::random:
      return schedule[random_below(schedule.size())];
    case config::Selection::round_robin:
    case config::Selection::weighted:
      return schedule[cursor_.fetch_add(1, std::memory_order_relaxed) % schedule.size()];
    case config::Selection::least_conn: {
      // Power of two choices over the weighted schedule. An IP on probation wins its draw
      // outright: balancing it by connection count would hand it more than its share.
      const std::uint32_t a = schedule[random_below(schedule.size())];
      const Candidate& ca = schedule.candidate(a);
      if (ca.share < 1.0F)
        return a;
      const std::uint32_t b = schedule[random_below(schedule.size())];
      const Candidate& cb = schedule.candidate(b);
      if (b == a || cb.share < 1.0F)
        return a;
      const std::uint64_t load_a = ca.active->value.load(std::memory_order_relaxed);
      const std::uint64_t load_b = cb.active->value.load(std::memory_order_relaxed);
      const std::uint64_t weight_a = ca.weight;
      const std::uint64_t weight_b = cb.weight;
      return load_b * weight_a < load_a * weight_b ? b : a;  // load/weight, ties to a
    }
  }
  return schedule[0];
}

}  // namespace ipm::pool
