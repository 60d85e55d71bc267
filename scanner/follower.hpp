#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "scanner/tail_line_splitter.hpp"

namespace ipm::scanner {

/// How a followed path changed under us.
enum class RotationKind : std::uint8_t {
  renamed,       ///< the path now names another file (logrotate `create`); old one drained
  deleted,       ///< the file was unlinked while open; drained, path waited for
  copytruncate,  ///< the file was truncated in place; missed tail read from the copy
  symlink,       ///< the path is a symlink that now points elsewhere
};
std::string_view to_string(RotationKind k);

/// Why data could not be read.
enum class LossKind : std::uint8_t { partial_line, truncated_tail };

/// What a FileFollower reports. Called synchronously from poll().
class FollowerEvents {
 public:
  virtual ~FollowerEvents() = default;
  /// The complete lines (no '\n') of one read, in file order: one batch. The views are
  /// valid only during the call.
  virtual void on_lines(std::span<const std::string_view> lines) = 0;
  virtual void on_bytes(std::uint64_t n) = 0;
  virtual void on_too_long() = 0;
  virtual void on_rotation(RotationKind kind) = 0;
  /// Data known to be lost: a partial line at a rotation (bytes known), or a truncated tail
  /// whose rotated copy was not found (bytes unknown: 0).
  virtual void on_lost(LossKind kind, std::uint64_t bytes) = 0;
  virtual void on_notice(std::string_view message) = 0;
};

struct FollowerOptions {
  bool start_at_end = true;  ///< the file present at the first poll starts at its end
  std::size_t max_line_bytes = 64 * 1024;
  /// A rotated-away file is closed once read to its end, unchanged for `settle`, and either
  /// the new file got data (the writer moved on) or it was unchanged for `max_drain`.
  std::chrono::milliseconds settle{2000};
  std::chrono::milliseconds max_drain{std::chrono::seconds(60)};
  std::uint64_t max_bytes_per_poll = 4 * 1024 * 1024;
};

/// Follows one log path across rotations, reading with plain blocking file I/O (regular
/// files never block). poll() is driven by the owner (inotify events, a reconcile timer);
/// it reads everything new, in order: first what remains in rotated-away files, then the
/// file currently at the path. Not thread-safe: one owner, one executor.
class FileFollower {
 public:
  using Clock = std::chrono::steady_clock;

  FileFollower(std::string path, FollowerOptions options, FollowerEvents& events);
  ~FileFollower();
  FileFollower(const FileFollower&) = delete;
  FileFollower& operator=(const FileFollower&) = delete;

  /// Reads what is new. Returns true when bytes remain unread (per-poll cap reached): poll
  /// again soon.
  bool poll(Clock::time_point now);

  const std::string& path() const { return path_; }
  /// Bytes in the files we follow that we have not read yet (as of the last poll).
  std::uint64_t lag_bytes() const { return lag_; }
  /// True while a file of the path is open: the current one, or a rotated-away one still
  /// drained (so a rename+create rotation does not read as a gap).
  bool reading() const { return current_ != nullptr || !old_.empty(); }
  /// Why the path has no current file ("" when it has one): "No such file or directory",
  /// "Permission denied", "not a regular file", as of the last poll.
  const std::string& problem() const { return problem_; }
  /// True while a rotated-away file is still open (its directory's events matter).
  bool draining() const { return !old_.empty(); }
  /// Directory of the file the path resolves to, when the path is a symlink ("" otherwise).
  const std::string& link_target_dir() const { return link_dir_; }

 private:
  struct Open;

  void detect_change(Clock::time_point now);
  std::unique_ptr<Open> open_current(bool at_end);
  void handle_truncation(Open& f);
  bool read_available(Open& f, Clock::time_point now, std::uint64_t& budget);
  void retire_drained(Clock::time_point now);
  void emit(Open& f, std::string_view bytes);

  std::string path_;
  FollowerOptions options_;
  FollowerEvents& events_;
  std::unique_ptr<Open> current_;
  std::vector<std::unique_ptr<Open>> old_;  ///< rotated away, still drained (oldest first)
  bool first_poll_ = true;
  bool said_missing_ = false;
  bool said_cannot_open_ = false;
  std::string problem_ = "not opened yet";
  std::string link_target_;  ///< readlink(path) when the path is a symlink
  std::string link_dir_;
  std::uint64_t lag_ = 0;
  std::vector<char> buffer_;
  std::vector<std::string_view> lines_;  ///< the batch being emitted (reused)
};

}  // namespace ipm::scanner
