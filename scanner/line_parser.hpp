#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "pool/egress.hpp"
#include "pool/event.hpp"
#include "scanner/log_format.hpp"

namespace ipm::scanner {

/// What became of one access-log line. Every line ends in exactly one of these.
enum class LineResult : std::uint8_t {
  parsed,        ///< an event
  no_match,      ///< the line does not have the configured log_format's shape
  unknown_port,  ///< $server_port is not a port of the upstream config
  unknown_ip,    ///< $server_name (the format has no port) is not a known egress IP
  bad_time,      ///< the timestamp is not a valid $time_local / $time_iso8601 / $msec
  bad_status,    ///< $status is not a 3-digit HTTP status (100-599)
  too_long,      ///< longer than max_line_bytes; skipped whole
};
inline constexpr std::size_t kLineResultCount = 7;

/// Stable lowercase name, used as the `result` label of ipmanager_scanner_lines_total.
std::string_view to_string(LineResult r);

/// Lines and bytes seen, by result. Plain counters: the owner flushes them to metrics per
/// batch (see ScannerMetrics), so the hot path touches no atomics.
struct LineCounts {
  std::array<std::uint64_t, kLineResultCount> lines{};
  std::uint64_t bytes = 0;  ///< line bytes including the newline

  std::uint64_t of(LineResult r) const { return lines[static_cast<std::size_t>(r)]; }
  std::uint64_t total() const;
  LineCounts& operator+=(const LineCounts& other);
};

/// The outcome of parsing one line. `event` is meaningful only when `result` is parsed;
/// its string views point into the line (key, target) or into the parser (ip), so they are
/// valid while the line's buffer is and the parser lives.
struct ParsedLine {
  LineResult result = LineResult::no_match;
  pool::LogEvent event;

  bool ok() const { return result == LineResult::parsed; }
};

/// Turns access-log lines into pool events with a compiled LogFormat and the upstream
/// config's (port, IP) bindings. The status comes from its own field; the upstream status
/// is the last value of a "502, 200" list; the time is the line's own, with its zone.
/// RE2 is the parser of record; a hand-written walk of the same layout answers first when
/// it can, and only when it finds exactly the match RE2 would (see parse_with_regex).
/// Not thread-safe (it counts and caches); use one per thread. Lines are passed without
/// their newline; a caller may pass only the first max_line_bytes + 1 bytes of a longer
/// line, which is then counted too_long.
class LineParser {
 public:
  LineParser(LogFormat format, const std::vector<pool::Egress>& bindings,
             std::size_t max_line_bytes);
  LineParser(const LineParser&) = delete;
  LineParser& operator=(const LineParser&) = delete;

  /// Parses and counts one line.
  ParsedLine parse(std::string_view line);

  /// The regex alone, counted the same way: the reference the fast path is checked against.
  ParsedLine parse_with_regex(std::string_view line);

  const LineCounts& counts() const { return counts_; }
  /// Returns the counts since the last call and starts again from zero.
  LineCounts take_counts();

  /// Lines the fast path answered (the rest went to RE2). For tests and benchmarks.
  std::uint64_t fast_path_hits() const { return fast_hits_; }

  const LogFormat& format() const { return format_; }
  std::size_t max_line_bytes() const { return max_line_bytes_; }

 private:
  using Values = std::array<std::string_view, kLogFieldCount>;

  bool fast_match(std::string_view line, Values& values) const;
  bool regex_match(std::string_view line, Values& values) const;
  ParsedLine finish(bool matched, const Values& values);
  ParsedLine skip(LineResult r);
  bool event_time(std::string_view text, pool::TimePoint& out);
  bool attribute(const Values& values, pool::LogEvent& event) const;

  LogFormat format_;
  /// Per slot of the format, per byte: kAccepted if the field may hold it, kStops if the
  /// field's scan must look at it (not accepted, or the first byte of the next literal).
  std::vector<std::array<std::uint8_t, 256>> byte_class_;
  /// Per slot: its stop bytes (above) broadcast to words, when there are at most three of
  /// them (count 0: the slot is scanned with its table alone).
  struct StopWords {
    std::array<std::uint64_t, 3> words{};
    std::size_t count = 0;
  };
  std::vector<StopWords> stop_words_;
  std::size_t max_line_bytes_;
  std::vector<std::string> ips_;           ///< owned copies the events point to
  std::vector<std::int32_t> ip_of_port_;   ///< 65536 entries, index into ips_ or -1
  std::vector<std::uint16_t> port_of_ip_;  ///< first port of each IP
  std::map<std::string, std::int32_t, std::less<>> ip_index_;
  LineCounts counts_;
  std::uint64_t fast_hits_ = 0;
  std::string last_time_text_;  ///< consecutive lines mostly share their second
  pool::TimePoint last_time_{};
};

}  // namespace ipm::scanner
