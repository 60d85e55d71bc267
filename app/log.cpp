#include "app/log.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <mutex>
#include <string>
#include <string_view>

namespace ipm::app {
namespace {

std::atomic<bool> g_debug{false};
std::atomic<bool> g_json{false};

int priority(Level level) {
  switch (level) {
    case Level::debug:
      return 7;
    case Level::info:
      return 6;
    case Level::warn:
      return 4;
    case Level::error:
      return 3;
  }
  return 6;
}

bool journal() {
  static const bool is = stderr_is_journal(std::getenv("JOURNAL_STREAM"), STDERR_FILENO);
  return is;
}

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20) {
      static const char* hex = "0123456789abcdef";
      out += "\\u00";
      out += hex[u >> 4];
      out += hex[u & 15];
    } else {
      out += c;
    }
  }
  out += '"';
}
std::atomic<bool> g_quiet{false};

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

// Writes all of `text` to stderr: one write(2) unless the kernel takes less.
void write_stderr(std::string_view text) {
  while (!text.empty()) {
    const ssize_t n = ::write(STDERR_FILENO, text.data(), text.size());
    if (n <= 0)
      return;  // nowhere to report a failed log write
    text.remove_prefix(static_cast<std::size_t>(n));
  }
}

/// The lines LogBatch gathers. Leaked on purpose: lines may be logged during static
/// destruction.
struct Gathered {
  static constexpr std::size_t kBlock = 64 * 1024;
  std::mutex mutex;
  int batches = 0;  ///< LogBatch objects alive
  std::string text;
};
Gathered& gathered() {
  static auto* g = new Gathered;
  return *g;
}
std::atomic<int> g_batches{0};  ///< the same count, read without the lock

// Appends `line` to the gathered lines when a batch lives; false when none does.
bool gather(std::string_view line, Level level) {
  Gathered& g = gathered();
  std::lock_guard lock(g.mutex);
  if (g.batches == 0)
    return false;
  g.text += line;
  if (level == Level::warn || level == Level::error || g.text.size() >= Gathered::kBlock) {
    write_stderr(g.text);
    g.text.clear();
  }
  return true;
}

}  // namespace

LogBatch::LogBatch() {
  Gathered& g = gathered();
  std::lock_guard lock(g.mutex);
  if (g.batches++ == 0)
    g.text.reserve(Gathered::kBlock + 1024);
  g_batches.store(g.batches, std::memory_order_relaxed);
}

LogBatch::~LogBatch() {
  Gathered& g = gathered();
  std::lock_guard lock(g.mutex);
  if (--g.batches == 0) {
    write_stderr(g.text);
    std::string().swap(g.text);
  }
  // After the write: a line that still sees a batch waits for the lock, then goes direct.
  g_batches.store(g.batches, std::memory_order_relaxed);
}

void LogBatch::flush() {
  if (g_batches.load(std::memory_order_relaxed) == 0)
    return;
  Gathered& g = gathered();
  std::lock_guard lock(g.mutex);
  write_stderr(g.text);
  g.text.clear();
}

void set_debug(bool on) {
  g_debug = on;
}

void set_json(bool on) {
  g_json = on;
}

bool debug_enabled() {
  return g_debug.load(std::memory_order_relaxed);
}

void set_quiet(bool on) {
  g_quiet = on;
}

bool stderr_is_journal(const char* journal_stream, int stderr_fd) {
  if (journal_stream == nullptr)
    return false;
  unsigned long long dev = 0;
  unsigned long long ino = 0;
  if (std::sscanf(journal_stream, "%llu:%llu", &dev, &ino) != 2)
    return false;
  struct stat st {};
  return ::fstat(stderr_fd, &st) == 0 && st.st_dev == dev && st.st_ino == ino;
}

LogLine::LogLine(Level level)
    : enabled_(level == Level::debug ? g_debug.load() : level != Level::info || !g_quiet),
      level_(level) {}

LogLine::~LogLine() {
  if (!enabled_)
    return;
  std::string line;
  if (journal())
    line = "<" + std::to_string(priority(level_)) + ">";
  const bool json = g_json;
  char stamp[32] = "";
  if (json || !journal()) {
    const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    std::tm tm{};
    gmtime_r(&t, &tm);
    std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
  }
  if (json) {
    line += "{\"time\":\"";
    line += stamp;
    line += "\",\"level\":\"";
    line += name(level_);
    line += "\",\"message\":";
    append_json_string(line, out_.str());
    line += "}\n";
  } else {
    if (stamp[0] != '\0')
      line += std::string(stamp) + " ";
    line += name(level_);
    line += ' ';
    line += out_.str();
    line += '\n';
  }
  if (g_batches.load(std::memory_order_relaxed) > 0 && gather(line, level_))
    return;
  // One write(2) per line so lines from different threads never interleave.
  [[maybe_unused]] const auto n = ::write(STDERR_FILENO, line.data(), line.size());
}

}  // namespace ipm::app
