#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

#include "app/log.hpp"
#include "app/replay_done.hpp"
#include "config/config.hpp"
#include "pool/egress.hpp"
#include "scanner/line_parser.hpp"
#include "scanner/log_format.hpp"
#include "scanner/scanner_metrics.hpp"
#include "scanner/tailer.hpp"
#include "strategy/shared_engine.hpp"

namespace prometheus {
class Registry;
}

namespace ipm::app {

/// Access log(s) -> events -> strategy engine: the parse-mode replay of rotated logs, then
/// the live tailer, both through one LineParser.
/// Runs on `executor`, which must be single-threaded (or a strand): the tailer calls back
/// there and the parser is not thread-safe. Construct and call from that executor's thread.
class LogPipeline {
 public:
  LogPipeline(boost::asio::any_io_executor executor, const config::Config& config,
              const std::vector<pool::Egress>& bindings, strategy::SharedEngine& engine,
              prometheus::Registry& registry);
  LogPipeline(const LogPipeline&) = delete;
  LogPipeline& operator=(const LogPipeline&) = delete;
  ~LogPipeline();

  /// mode parse: replays the rotated logs into the engine (blocking), then follows the live
  /// logs from their beginning; the replay is done once their backlog is applied too (see
  /// ReplayDone). mode serve: follows them from their end.
  void start();

  /// The start-up replay is over (always true in serve mode once started). Any thread.
  bool replay_done() const { return replay_done_.done(); }
  void stop();

  /// The upstream config changed (SIGHUP, /api/ip/renew): attribute lines with the new
  /// (port, IP) bindings from the next line on.
  void rebind(const std::vector<pool::Egress>& bindings);

  /// The followed logs, open or not (empty before start()). Thread-safe.
  std::vector<scanner::FollowedFile> files() const;

  /// Moves the parser's line counts into the metrics. Called after every batch of lines the
  /// tailer reads, so the counters are current; also periodically.
  void flush_counts();

 private:
  void on_lines(std::span<const std::string_view> lines);

  boost::asio::any_io_executor executor_;
  const config::Config config_;
  const scanner::LogFormat format_;
  std::vector<pool::Egress> bindings_;
  std::vector<std::string> ips_;
  strategy::SharedEngine& engine_;
  prometheus::Registry& registry_;
  scanner::ScannerMetrics metrics_;
  ReplayDone replay_done_;
  std::uint64_t tailed_lines_ = 0;   ///< lines the tailer passed (flushed counts)
  std::uint64_t tailed_events_ = 0;  ///< of those, events applied
  std::unique_ptr<scanner::LineParser> parser_;
  std::unique_ptr<scanner::Tailer> tailer_;
  std::atomic<const scanner::Tailer*> tailer_published_{nullptr};  ///< for files() on any thread
  std::vector<pool::LogEvent> batch_;  ///< the events of one batch of lines (reused)
  /// Parse mode, until the replay is done: the decisions it makes are logged in blocks.
  std::optional<LogBatch> log_batch_;
  std::uint64_t batches_ = 0;  ///< batches of lines seen, to flush the log every few
};

}  // namespace ipm::app
