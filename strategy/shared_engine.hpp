#pragma once

#include <functional>
#include <mutex>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "pool/selector.hpp"
#include "strategy/engine.hpp"

namespace ipm::strategy {

/// The thread-safe facade the app wires: owns an Engine behind a mutex, forwards events,
/// ticks, manual commands and reloads from any thread, and after each call publishes a new
/// snapshot into `selector` when anything selection reads changed. Selection never takes
/// this lock (it reads the Selector's snapshot).
class SharedEngine {
 public:
  /// Called for every new decision, in order, under the engine lock: keep it short (log a
  /// line, bump a metric) and never call back into the SharedEngine from it.
  using DecisionSink = std::function<void(const DecisionRecord&)>;

  SharedEngine(const config::Config& cfg, pool::Selector& selector,
               std::vector<pool::Egress> egresses, pool::TimePoint now);
  SharedEngine(const SharedEngine&) = delete;
  SharedEngine& operator=(const SharedEngine&) = delete;

  void set_decision_sink(DecisionSink sink);

  void apply(const pool::LogEvent& e);
  void apply(std::span<const pool::LogEvent> batch);  ///< one lock for many lines
  void apply(const pool::DialOutcome& d);
  void tick(pool::TimePoint now);
  bool ban(std::string_view ip, pool::TimePoint until, std::string reason, pool::TimePoint now);
  bool unban(std::string_view ip, pool::TimePoint now);
  bool reset(std::string_view ip, pool::TimePoint now);
  bool set_weight(std::string_view ip, std::uint32_t weight, pool::TimePoint now);
  bool set_present(std::string_view ip, bool present, pool::TimePoint now);
  std::size_t reload(std::vector<pool::Egress> egresses, pool::TimePoint now);

  /// For a replay of old logs (parse mode's start): until release_snapshots(), selection
  /// keeps the snapshot published before. The states the replay passes through are history,
  /// and rebuilding the selection schedule for each of them costs more than the replay
  /// itself. Decisions are still reported as they are made. release_snapshots() publishes
  /// the engine's current state (once, if it changed). Calls do not nest.
  void hold_snapshots();
  void release_snapshots();

  /// Runs f(const Engine&) under the lock and returns its result. Copy out what you need:
  /// references into the engine are valid only inside f.
  template <class F>
  auto read(F&& f) const {
    std::lock_guard lock(mutex_);
    return std::forward<F>(f)(std::as_const(engine_));
  }

  /// Runs f(Engine&) under the lock, then publishes and reports decisions as the other
  /// calls do. For batching several commands atomically.
  template <class F>
  auto update(F&& f) {
    std::lock_guard lock(mutex_);
    if constexpr (std::is_void_v<decltype(f(engine_))>) {
      std::forward<F>(f)(engine_);
      after_change();
    } else {
      auto result = std::forward<F>(f)(engine_);
      after_change();
      return result;
    }
  }

 private:
  void after_change();  // under mutex_

  mutable std::mutex mutex_;
  Engine engine_;
  pool::Selector& selector_;
  std::uint64_t published_version_ = 0;
  bool snapshots_held_ = false;
  std::uint64_t reported_seq_ = 0;
  DecisionSink sink_;
};

}  // namespace ipm::strategy
