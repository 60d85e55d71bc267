#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace prometheus {
class Registry;
}
namespace ipm::config {
struct Config;
}

namespace ipm::scanner {

/// Which followed log a line came from: its index in TailerOptions::paths and its path.
struct FileId {
  std::size_t index = 0;
  std::string_view path;
};

/// Receives the complete lines (without '\n') of one read of one file, in file order: a
/// batch of up to 64 KB. The views are valid only during the call.
using LineSink = std::function<void(std::span<const std::string_view> lines, const FileId& file)>;

struct TailerOptions {
  std::vector<std::string> paths;  ///< the logs to follow (see expand_log_paths)
  bool start_at_end = true;        ///< `mode: serve`; false for `mode: parse`
  std::size_t max_line_bytes = 64 * 1024;
  std::chrono::milliseconds reconcile_interval{std::chrono::seconds(1)};
  /// How long a rotated-away file must stay unchanged before it is closed (once the writer
  /// moved on); 0 means twice reconcile_interval.
  std::chrono::milliseconds settle{0};
  /// A rotated-away file unchanged this long is closed even if the new file got no data.
  std::chrono::milliseconds max_drain{std::chrono::seconds(60)};
  /// Notices (missing file, rotation without a copy, ...); default: stderr.
  std::function<void(std::string_view)> log;
  /// Called once, on the executor, the first time every followed log has been read to the
  /// end it had (a missing log counts as read): in parse mode, the end of the backlog.
  /// Called from start() itself when nothing was pending.
  std::function<void()> on_caught_up;

  /// mode, max_line_bytes and reconcile_interval from the config.
  static TailerOptions from_config(const config::Config& config, std::vector<std::string> paths);
};

/// One followed log as the tailer last saw it.
struct FollowedFile {
  std::string path;
  bool open = false;    ///< a file of the path is open and read
  std::string problem;  ///< why not ("Permission denied", ...), "" when open
};

/// The log paths for `access_log_path`: the pattern itself, or one path per egress IP when
/// it holds `%s` (the Go tool's convention).
std::vector<std::string> expand_log_paths(std::string_view pattern,
                                          const std::vector<std::string>& ips);

/// Follows access logs as nginx writes them, across every common rotation (rename+create,
/// copytruncate, compress/delaycompress, deletion, symlink swap), losing and repeating no
/// line. One inotify instance watches the logs' directories (one watch per directory) and a
/// reconcile timer re-checks every file each reconcile_interval, catching what inotify
/// misses. No thread of its own: everything runs on the executor given (use a strand if that
/// executor runs on several threads); the sink is called there.
/// start() opens the logs (and, when start_at_end, fixes their start at their current end)
/// before returning. stop() and the destructor may be called from any thread: they dispatch
/// the stop to the executor; after it ran, no sink call happens any more.
class Tailer {
 public:
  Tailer(boost::asio::any_io_executor executor, TailerOptions options, LineSink sink,
         prometheus::Registry& registry);
  ~Tailer();
  Tailer(const Tailer&) = delete;
  Tailer& operator=(const Tailer&) = delete;

  void start();
  void stop();

  /// Follows one more log from its current end (a new egress IP's per-IP log after a
  /// reload: what it held before belongs to a time it was not followed), or from its
  /// beginning once it appears if it does not exist yet. A path already followed is left
  /// as it is. Runs on the executor (dispatched there).
  void follow(std::string path);

  /// Every followed log, open or not, as of the last check (start(), then each
  /// reconcile_interval). Thread-safe: /ready reads it from the probe.
  std::vector<FollowedFile> files() const;

 private:
  class Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace ipm::scanner
