#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "pool/egress.hpp"
#include "pool/event.hpp"
#include "scanner/line_parser.hpp"

namespace ipm::scanner {

class ReplayProgress;
class ScannerMetrics;

/// One access log: its rotated members, to replay, and its live file, NOT replayed.
/// Contract with the tailer: in parse mode the replay covers `rotated` only; the tailer
/// then follows `live` from its beginning (in serve mode, from its end), so every line is
/// read exactly once.
struct RotatedLog {
  std::string live;                  ///< e.g. /var/log/nginx/access.log
  std::vector<std::string> rotated;  ///< access.log.N.gz ... access.log.2.gz, access.log.1
};

/// A damaged or missing rotated file. The replay reports it and goes on.
struct ReplayProblem {
  std::string file;
  std::string kind;     ///< missing, both_forms, empty, unreadable, truncated, corrupt,
                        ///< out_of_order (the metric label)
  std::string message;  ///< "FILE: what happened", for a log line
};

/// What to replay, found by listing the log folders.
struct ReplayPlan {
  std::vector<RotatedLog> logs;
  std::vector<ReplayProblem> problems;  ///< missing members, members in two forms

  std::size_t rotated_files() const;
};

/// Lists the rotated members of `access_log_path` (`NAME.1`, `NAME.2.gz`, ...), oldest
/// (highest number) first. A `%s` in the path means one log per egress IP (the Go tool's
/// per-IP mode): one RotatedLog per distinct IP of `egresses`, in their order.
/// A number missing between the highest and 1 is reported; when a member exists both plain
/// and .gz (compression interrupted), the plain one is used and that is reported.
ReplayPlan plan_replay(std::string_view access_log_path, const std::vector<pool::Egress>& egresses);

struct ReplayReport {
  std::size_t files = 0;                ///< rotated files read
  std::uint64_t bytes = 0;              ///< file bytes read (compressed bytes for .gz)
  std::uint64_t lines = 0;              ///< lines read, whatever became of them
  std::uint64_t events = 0;             ///< events passed to the sink
  std::vector<ReplayProblem> problems;  ///< the plan's, then those met while reading
};

/// Receives each event; the event's views are valid only during the call.
using EventSink = std::function<void(const pool::LogEvent&)>;

struct ReplayOptions {
  ReplayProgress* progress = nullptr;  ///< progress on stderr; none when null
  ScannerMetrics* metrics = nullptr;   ///< when set, the parser's counts are flushed to it
                                       ///< (take_counts) per batch and at the end
};

/// Replays the rotated members of every log of the plan through `parser` into `sink`, in
/// event time: each log's files in name order (oldest first), and the logs of a per-IP
/// plan merged by timestamp, so the sink sees what a live run would have seen.
/// A file's first timestamp earlier than the previous file's is reported (out_of_order);
/// empty, unreadable, truncated or corrupt files are reported and skipped past. Does not
/// throw on bad data. Runs on the calling thread until done.
ReplayReport replay(const ReplayPlan& plan, LineParser& parser, const EventSink& sink,
                    const ReplayOptions& options = {});

}  // namespace ipm::scanner
