#pragma once

#include <functional>
#include <memory>
#include <span>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "app/check_schedule.hpp"
#include "config/config.hpp"
#include "config/dispatch.hpp"
#include "pool/egress.hpp"
#include "pool/event.hpp"

namespace ipm::proxy {
class Resolver;
}

namespace ipm::app {

/// One egress with its active check.
struct CheckTarget {
  pool::Egress egress;
  config::EgressCheck check;
  config::Millis interval{std::chrono::seconds(30)};
  friend bool operator==(const CheckTarget&, const CheckTarget&) = default;
};

/// The checks of `config.egresses`, each with its egress: `built` holds those egresses as the
/// pool does (build_egresses), in the same order.
std::vector<CheckTarget> check_targets(const config::Config& config,
                                       std::span<const pool::Egress> built);

/// The `check:` of source and upstream egresses: on each check's interval, a TCP connect to
/// its host and port through the egress (a source binds its address, an upstream is asked for
/// the destination), and for an http check a GET whose answer must be 2xx or 3xx, all bounded
/// by `timeout`. Each result is handed to `report` as a DialOutcome with `check` set, at the
/// time the run was due, so the engine treats it as a dial outcome of its own source: failed
/// checks cool an egress no client uses, and a passed one ends a probation. A check host that
/// is a name is resolved (for a source) by `resolver`, or given by name to an upstream.
/// Runs on `executor`'s thread; not thread-safe. Stop it before its io_context stops running.
class EgressChecker {
 public:
  using Report = std::function<void(const pool::DialOutcome&)>;

  EgressChecker(boost::asio::any_io_executor executor, std::vector<CheckTarget> targets,
                proxy::Resolver& resolver, config::Millis timeout, Report report,
                pool::TimePoint start);
  EgressChecker(const EgressChecker&) = delete;
  EgressChecker& operator=(const EgressChecker&) = delete;

  /// Runs the checks due at `now`, at once, and completes when each has reported; returns how
  /// many ran. Tests drive it with their own time.
  boost::asio::awaitable<std::size_t> run_due(pool::TimePoint now);
  /// Runs the checks on their schedule by the system clock until stop().
  void start();
  void stop();
  /// The checks from now on (a SIGHUP changed the egresses or their checks), spread over their
  /// intervals from `now` as at start; checks in flight finish and report. False, and nothing
  /// changes, when `targets` are the running ones.
  bool set_targets(std::vector<CheckTarget> targets, pool::TimePoint now);
  std::size_t size() const { return targets_->size(); }

 private:
  struct CheckState {
    explicit CheckState(const boost::asio::any_io_executor& executor) : socket(executor) {}
    void expire();
    boost::asio::ip::tcp::socket socket;
    bool expired = false;
    bool finished = false;
  };

  using Targets = std::shared_ptr<const std::vector<CheckTarget>>;
  static CheckSchedule schedule_of(const std::vector<CheckTarget>& targets, pool::TimePoint start);
  void spawn_loop();
  boost::asio::awaitable<void> loop();
  boost::asio::awaitable<pool::DialOutcome> check(const CheckTarget& t, pool::TimePoint now);

  boost::asio::any_io_executor executor_;
  // Shared with the checks in flight: a reload replaces it, their outcomes' ids stay valid.
  Targets targets_;
  proxy::Resolver& resolver_;
  const config::Millis timeout_;
  const Report report_;
  CheckSchedule schedule_;
  boost::asio::steady_timer timer_;
  bool started_ = false;
  bool looping_ = false;
  bool stopping_ = false;
  std::vector<std::weak_ptr<CheckState>> running_;  ///< checks in flight, for stop()
};

}  // namespace ipm::app
