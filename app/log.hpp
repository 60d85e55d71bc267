#pragma once

#include <exception>
#include <sstream>
#include <string_view>

namespace ipm::app {

enum class Level { debug, info, warn, error };

/// Enables debug lines (config key `debug`).
void set_debug(bool on);
/// Whether debug lines are written: test it before composing one on a hot path.
bool debug_enabled();

/// Lines as text (`2026-01-02T03:04:05Z info message`) or as one JSON object each
/// (`{"time":...,"level":"info","message":...}`), config key `log_style`.
void set_json(bool on);

/// When stderr is the journal (systemd sets JOURNAL_STREAM to its device:inode), each line
/// starts with its syslog priority (`<3>` error, `<4>` warn, `<6>` info, `<7>` debug) so
/// `journalctl -p err` finds errors, and carries no timestamp of its own (the journal has
/// one). Decided once, from the environment, at the first line; exposed for tests.
bool stderr_is_journal(const char* journal_stream, int stderr_fd);

/// Only warnings and errors from now on (`ipmanager dispatch -quiet`).
void set_quiet(bool on);

/// One log line to stderr, written whole when the object dies:
/// `LogLine(Level::info) << "loaded " << n << " egress IPs";`
/// Thread-safe: each line is a single write.
class LogLine {
 public:
  explicit LogLine(Level level);
  ~LogLine();
  LogLine(const LogLine&) = delete;
  LogLine& operator=(const LogLine&) = delete;

  template <class T>
  LogLine& operator<<(const T& value) {
    if (enabled_)
      out_ << value;
    return *this;
  }

 private:
  bool enabled_;
  Level level_;
  std::ostringstream out_;
};

/// While one lives, lines are gathered and written together, in blocks of up to 64 KB,
/// instead of one write(2) each: a replay of old logs makes thousands of decisions a second,
/// each a line, and their writes cost more than the decisions. A warning or an error writes
/// what was gathered and itself at once; flush() writes what was gathered; the last batch to
/// end writes the rest. Lines keep their order and are never split. Thread-safe; batches
/// may overlap (from any threads), gathering lasts until the last one ends.
class LogBatch {
 public:
  LogBatch();
  ~LogBatch();
  LogBatch(const LogBatch&) = delete;
  LogBatch& operator=(const LogBatch&) = delete;

  /// Writes the lines gathered so far (the owner calls it now and then, so that a line is
  /// never held long while the batch lives).
  static void flush();
};

inline LogLine log_info() {
  return LogLine(Level::info);
}
inline LogLine log_warn() {
  return LogLine(Level::warn);
}
inline LogLine log_error() {
  return LogLine(Level::error);
}
inline LogLine log_debug() {
  return LogLine(Level::debug);
}

/// The completion handler of a long-lived co_spawn'ed loop (a watch, a check timer): an
/// exception that ends the loop is logged as one error line, "WHAT stopped: reason", so a
/// loop never dies silently. `what` must outlive the loop (a string literal).
inline auto log_when_stopped(std::string_view what) {
  return [what](std::exception_ptr e) {
    if (!e)
      return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      log_error() << what << " stopped: " << x.what();
    }
  };
}

}  // namespace ipm::app
