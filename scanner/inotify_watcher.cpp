#include "scanner/inotify_watcher.hpp"

#include <sys/inotify.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>
#include <cerrno>
#include <system_error>
#include <vector>

namespace ipm::scanner {
namespace {

constexpr std::uint32_t kDirectoryMask = IN_MODIFY | IN_CREATE | IN_DELETE | IN_MOVED_FROM |
                                         IN_MOVED_TO | IN_CLOSE_WRITE | IN_ATTRIB | IN_DELETE_SELF |
                                         IN_MOVE_SELF | IN_ONLYDIR;

int make_inotify() {
  const int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0)
    throw std::system_error(errno, std::generic_category(), "inotify_init1");
  return fd;
}

}  // namespace

InotifyWatcher::InotifyWatcher(boost::asio::any_io_executor executor)
    : descriptor_(std::move(executor), make_inotify()) {}

int InotifyWatcher::watch_directory(const std::string& dir) {
  return ::inotify_add_watch(descriptor_.native_handle(), dir.c_str(), kDirectoryMask);
}

void InotifyWatcher::unwatch(int wd) {
  ::inotify_rm_watch(descriptor_.native_handle(), wd);
}

boost::asio::awaitable<void> InotifyWatcher::run(BatchFn on_batch) {
  // 8-byte aligned (struct inotify_event needs 4); large enough for a burst in one read.
  std::vector<std::uint64_t> storage(8 * 1024);
  char* const buf = reinterpret_cast<char*>(storage.data());
  const std::size_t cap = storage.size() * sizeof(std::uint64_t);
  std::vector<InotifyEvent> batch;
  for (;;) {
    auto [ec, n] = co_await descriptor_.async_read_some(
        boost::asio::buffer(buf, cap), boost::asio::as_tuple(boost::asio::use_awaitable));
    if (ec == boost::asio::error::operation_aborted || ec == boost::asio::error::bad_descriptor ||
        !descriptor_.is_open()) {
      co_return;
    }
    if (ec)
      throw boost::system::system_error(ec, "inotify read");
    batch.clear();
    for (std::size_t at = 0; at + sizeof(inotify_event) <= n;) {
      const auto* e = reinterpret_cast<const inotify_event*>(buf + at);
      std::string_view name;
      if (e->len > 0)
        name = std::string_view(e->name);  // NUL-padded
      batch.push_back({e->wd, e->mask, name});
      at += sizeof(inotify_event) + e->len;
    }
    on_batch(batch);
  }
}

void InotifyWatcher::close() {
  boost::system::error_code ignored;
  descriptor_.close(ignored);
}

}  // namespace ipm::scanner
