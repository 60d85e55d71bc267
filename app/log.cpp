#include "app/log.hpp"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <ctime>

namespace ipm::app {
namespace {

std::atomic<bool> g_debug{false};

const char* name(Level level) {
  switch (level) {
    case Level::debug:
      return "debug";
    case Level::info:
      return "info";
    case Level::warn:
      return "warn";
    case Level::error:
      return "error";
  }
  return "info";
}

}  // namespace

void set_debug(bool on) {
  g_debug = on;
}

LogLine::LogLine(Level level) : enabled_(level != Level::debug || g_debug) {
  if (!enabled_)
    return;
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
  out_ << stamp << " " << name(level) << " ";
}

LogLine::~LogLine() {
  if (!enabled_)
    return;
  out_ << '\n';
  const std::string line = out_.str();
  // One write(2) per line so lines from different threads never interleave.
  [[maybe_unused]] const auto n = ::write(STDERR_FILENO, line.data(), line.size());
}

}  // namespace ipm::app
