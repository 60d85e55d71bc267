#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace prometheus {
class Gauge;
class Registry;
}  // namespace prometheus

namespace ipm::app {

/// The end of the start-up replay: in parse mode, the moment the rotated logs and the live
/// logs' backlog have been read and every line applied to the engine (the line counters are
/// flushed before); in serve mode there is nothing to replay and start() marks it at once.
/// Exposes it as `ipmanager_replay_done_timestamp_seconds` (Unix time, 0 until then) and,
/// in parse mode, one log line with the figures. mark() is called once, from the pipeline's
/// executor; done() may be read from any thread.
class ReplayDone {
 public:
  explicit ReplayDone(prometheus::Registry& registry);
  ReplayDone(const ReplayDone&) = delete;
  ReplayDone& operator=(const ReplayDone&) = delete;

  /// What the replay did, for the log line.
  struct Figures {
    std::uint64_t lines = 0;   ///< lines read, whatever became of them
    std::uint64_t events = 0;  ///< events applied
    std::chrono::steady_clock::duration took{};
  };

  void mark_parsed(const Figures& figures);  ///< parse mode: sets the gauge, logs the figures
  void mark_nothing_to_replay();             ///< serve mode: sets the gauge

  bool done() const { return done_.load(std::memory_order_acquire); }

 private:
  void set_now();

  prometheus::Gauge& timestamp_;
  std::atomic<bool> done_{false};
};

}  // namespace ipm::app
