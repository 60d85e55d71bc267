#pragma once

#include <sstream>
#include <string_view>

namespace ipm::app {

enum class Level { debug, info, warn, error };

/// Enables debug lines (config key `debug`).
void set_debug(bool on);

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
  std::ostringstream out_;
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

}  // namespace ipm::app
