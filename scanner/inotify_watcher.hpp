#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>

namespace ipm::scanner {

/// One inotify event. `name` is the entry inside the watched directory ("" for the directory
/// itself); valid only during the callback. wd is -1 for a queue overflow (IN_Q_OVERFLOW).
struct InotifyEvent {
  int wd = -1;
  std::uint32_t mask = 0;
  std::string_view name;
};

/// An inotify instance read through Asio (posix::stream_descriptor), watching directories
/// for what a log follower cares about: writes, creations, renames, deletions, attribute
/// changes. Not thread-safe: use from the executor it was created with.
class InotifyWatcher {
 public:
  using BatchFn = std::function<void(std::span<const InotifyEvent> events)>;

  /// Throws std::system_error when inotify is unavailable (the caller may then rely on its
  /// periodic reconcile alone).
  explicit InotifyWatcher(boost::asio::any_io_executor executor);
  InotifyWatcher(const InotifyWatcher&) = delete;
  InotifyWatcher& operator=(const InotifyWatcher&) = delete;

  /// Adds a watch on `dir`; returns its descriptor, or -1 (errno set) when it failed.
  int watch_directory(const std::string& dir);
  void unwatch(int wd);

  /// Reads events until close() (returns normally) or a read error (throws), handing each
  /// batch read in one go to `on_batch`.
  boost::asio::awaitable<void> run(BatchFn on_batch);
  void close();

 private:
  boost::asio::posix::stream_descriptor descriptor_;
};

}  // namespace ipm::scanner
