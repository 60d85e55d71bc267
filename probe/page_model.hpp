#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "pool/ip_state.hpp"
#include "pool/snapshot.hpp"
#include "pool/time.hpp"
#include "probe/context.hpp"
#include "probe/event_journal.hpp"
#include "strategy/engine.hpp"

namespace ipm::probe {

/// Responses in an egress's history by status class: the page's "recent status mix".
enum class StatusClass : std::uint8_t { ok, client_error, server_error, other };
inline constexpr std::size_t kStatusClasses = 4;

/// 1xx-3xx ok, 4xx client_error, 5xx server_error, anything else (0: no status) other.
StatusClass status_class(int status);

/// A site an egress is out of traffic or on probation for (health per target).
struct SiteBan {
  std::string site;
  pool::IpState state = pool::IpState::cooling;
  std::string reason;
  pool::TimePoint until{};  ///< cooling or banned: planned end (unset: until unbanned)

  friend bool operator==(const SiteBan&, const SiteBan&) = default;
};

/// One egress as the page shows it, copied out of the engine.
struct EgressRow {
  std::string id;    ///< the egress id (its IP today)
  std::string kind;  ///< how connections leave ("nginx")
  std::uint16_t port = 0;
  std::uint32_t weight = 1;
  bool disabled = false;  ///< by the operator: no new connections until enabled
  pool::IpState state = pool::IpState::available;
  pool::TimePoint since{};  ///< of the current state; unset: since start
  std::string reason;       ///< of the last decision about the egress
  strategy::DecisionKind decision = strategy::DecisionKind::ip_added;
  pool::TimePoint until{};  ///< cooling or banned: planned end (max: until unbanned)
  double backoff = 1.0;     ///< cooldown multiplier
  double backoff_seconds = 0;
  std::vector<SiteBan> sites;  ///< by site name; only sites not available on this egress
  // Numbers that move with traffic; sent at most once per tick.
  std::uint32_t open = 0;    ///< proxied connections open now
  std::uint32_t streak = 0;  ///< consecutive failures inside the failure window
  std::array<std::uint32_t, kStatusClasses> mix{};  ///< history by StatusClass
  std::uint64_t failures = 0;                       ///< failure statuses since start
  std::uint64_t dial_failures = 0;
};

/// What the feed reads from the strategy engine at one moment. Plain data.
struct PageView {
  std::vector<EgressRow> rows;  ///< in the engine's (upstream config) order
  std::array<std::uint32_t, pool::kIpStateCount> counts{};
  bool all_unavailable = false;
  std::uint32_t consecutive_failure = 0;
  /// Decisions after the model's last one, oldest first (at most kDecisionsPerUpdate).
  std::vector<strategy::DecisionRecord> decisions;
  std::uint64_t last_decision_seq = 0;
  std::uint64_t selection_version = 0;  ///< the engine's, to notice changes cheaply
  TrafficTotals traffic;
  pool::TimePoint wall{};                          ///< for the tick's "time"
  std::chrono::steady_clock::time_point steady{};  ///< for rates
};

/// Decisions taken into one view at most; a burst beyond it shows its newest ones.
inline constexpr std::size_t kDecisionsPerUpdate = 100;

/// Copies the page's view out of `engine` (call under SharedEngine::read): every egress and
/// the decisions after `after_seq`. Open connections and traffic are filled by add_open().
PageView take_page_view(const strategy::Engine& engine, std::uint64_t after_seq);

/// Fills each row's open connections from the selector's current snapshot.
void add_open(PageView& view, const pool::Snapshot& snapshot);

/// The page's model of the pool: what every client has been told so far, so that an update
/// sends only what changed. Events (data is one JSON object each):
///   ip          one egress's row (new, or its state, reason, backoff or weight changed)
///   ip_removed  {"id"}: it left the pool
///   decision    one strategy decision
///   tick        once per tick: {"pool": {...}, "traffic": [rows whose numbers moved]}
///               a traffic row is [id, open, streak, [ok, 4xx, 5xx, other], failures,
///               dial_failures]
///   snapshot    only for a client that starts (not journaled): the whole model
/// Not thread-safe: the feed owns it under its own lock.
class PageModel {
 public:
  /// Brings the model to `view`, appending what changed to `journal`; with `tick`, also the
  /// tick event (pool counts, rates since the last tick, traffic rows that moved).
  void update(const PageView& view, bool tick, EventJournal& journal);

  /// The snapshot event's data: {<header members>, "pool", "ips", "traffic", "decisions"}.
  /// `header` is a run of JSON members ("a":1,"b":2) put first.
  std::string snapshot(std::string_view header) const;

  /// The seq of the newest decision the model has seen (0: none yet).
  std::uint64_t decision_seq() const { return decision_seq_; }

  /// Decisions kept for the snapshot's feed.
  static constexpr std::size_t kDecisionsKept = 50;

 private:
  struct Row {
    std::string slow;       // the ip event's data
    std::string fast;       // the traffic array, as of the last update
    std::string fast_sent;  // as the last tick sent it
  };
  void write_pool(const PageView& view);

  std::vector<std::string> order_;
  std::unordered_map<std::string, Row> rows_;
  std::deque<std::string> decisions_;  // newest last
  std::uint64_t decision_seq_ = 0;
  std::string pool_ = "{}";
  std::optional<TrafficTotals> last_traffic_;
  std::chrono::steady_clock::time_point last_tick_{};
};

}  // namespace ipm::probe
