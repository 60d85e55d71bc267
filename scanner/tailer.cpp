#include "scanner/tailer.hpp"

#include <sys/inotify.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cerrno>
#include <cstring>
#include <exception>
#include <filesystem>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <unordered_map>

#include "config/config.hpp"
#include "scanner/follower.hpp"
#include "scanner/inotify_watcher.hpp"
#include "scanner/tail_metrics.hpp"

namespace ipm::scanner {
namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);

std::string parent_dir(const std::string& path) {
  auto dir = std::filesystem::path(path).parent_path();
  return dir.empty() ? std::string(".") : dir.string();
}

}  // namespace

TailerOptions TailerOptions::from_config(const config::Config& config,
                                         std::vector<std::string> paths) {
  TailerOptions o;
  o.paths = std::move(paths);
  o.start_at_end = config.mode == config::Mode::serve;
  o.max_line_bytes = config.max_line_bytes;
  o.reconcile_interval = config.reconcile_interval;
  return o;
}

std::vector<std::string> expand_log_paths(std::string_view pattern,
                                          const std::vector<std::string>& ips) {
  if (pattern.find("%s") == std::string_view::npos)
    return {std::string(pattern)};
  std::vector<std::string> out;
  for (const auto& ip : ips) {
    std::string p(pattern);
    for (auto at = p.find("%s"); at != std::string::npos; at = p.find("%s", at + ip.size())) {
      p.replace(at, 2, ip);
    }
    out.push_back(std::move(p));
  }
  return out;
}

class Tailer::Impl : public std::enable_shared_from_this<Impl> {
 public:
  Impl(asio::any_io_executor executor, TailerOptions options, LineSink sink,
       prometheus::Registry& registry);

  void start();
  void stop();
  void follow(const std::string& path);
  const asio::any_io_executor& executor() const { return executor_; }
  std::vector<FollowedFile> files() const {
    std::lock_guard lock(status_mutex_);
    return status_;
  }

 private:
  // One followed log: the follower plus what it reports to (sink, metrics, log).
  struct File final : FollowerEvents {
    File(Impl& owner, std::size_t i, const std::string& p, FollowerOptions fo)
        : impl(owner),
          index(i),
          path(p),
          base(std::filesystem::path(p).filename().string()),
          follower(p, fo, *this),
          gauges(owner.metrics_.add_file(p)) {}

    void on_lines(std::span<const std::string_view> lines) override {
      impl.metrics_.lines_ok.Increment(static_cast<double>(lines.size()));
      saw_line = true;
      try {
        impl.sink_(lines, FileId{index, path});
      } catch (const std::exception& e) {
        impl.log(path + ": line sink threw: " + e.what());
      }
    }
    void on_bytes(std::uint64_t n) override {
      impl.metrics_.read_bytes.Increment(static_cast<double>(n));
    }
    void on_too_long() override {
      impl.metrics_.lines_too_long.Increment();
      impl.log(path + ": line longer than max_line_bytes skipped");
    }
    void on_rotation(RotationKind kind) override {
      impl.metrics_.rotation(kind).Increment();
      impl.log(path + ": rotation seen (" + std::string(to_string(kind)) + ")");
    }
    void on_lost(LossKind kind, std::uint64_t bytes) override {
      if (kind == LossKind::partial_line) {
        impl.metrics_.lost_partial_line.Increment();
        impl.log(path + ": dropped a partial line of " + std::to_string(bytes) +
                 " bytes at a rotation");
      } else {
        impl.metrics_.lost_truncated_tail.Increment();
        impl.log(path + ": truncated in place and no rotated copy holds the unread tail");
      }
    }
    void on_notice(std::string_view message) override { impl.log(std::string(message)); }

    Impl& impl;
    std::size_t index;
    std::string path;
    std::string base;       ///< file name: events for names starting with it concern us
    std::string link_base;  ///< file name of the symlink's target, if the path is a symlink
    FileFollower follower;
    TailMetrics::PerFile gauges;
    bool saw_line = false;
  };

  static asio::awaitable<void> run_inotify(std::shared_ptr<Impl> self);
  static asio::awaitable<void> run_reconcile(std::shared_ptr<Impl> self);
  static asio::awaitable<void> run_backlog(std::shared_ptr<Impl> self);
  void spawn(asio::awaitable<void> task, const char* name);

  void on_events(std::span<const InotifyEvent> events);
  void poll(File& f, Clock::time_point now);
  void poll_all();
  void refresh_watches();
  void update_gauges(Clock::time_point now);
  void check_caught_up();
  void log(const std::string& message) const;

  mutable std::mutex status_mutex_;
  std::vector<FollowedFile> status_;  ///< what files() answers, refreshed by update_gauges

  asio::any_io_executor executor_;
  TailerOptions options_;
  FollowerOptions follower_options_;
  LineSink sink_;
  TailMetrics metrics_;
  std::vector<std::unique_ptr<File>> files_;
  std::unique_ptr<InotifyWatcher> watcher_;  ///< null when inotify is unavailable
  std::unordered_map<int, std::string> dir_by_wd_;
  std::map<std::string, int> wd_by_dir_;
  std::map<std::string, std::vector<File*>> files_by_dir_;
  std::set<std::string> unwatchable_;  ///< said once
  asio::steady_timer reconcile_timer_;
  asio::steady_timer backlog_wake_;
  std::set<std::size_t> backlog_;  ///< files with bytes left after a capped poll
  bool started_ = false;
  bool stopped_ = false;
  bool caught_up_ = false;
};

Tailer::Impl::Impl(asio::any_io_executor executor, TailerOptions options, LineSink sink,
                   prometheus::Registry& registry)
    : executor_(std::move(executor)),
      options_(std::move(options)),
      sink_(std::move(sink)),
      metrics_(registry),
      reconcile_timer_(executor_),
      backlog_wake_(executor_) {
  FollowerOptions& fo = follower_options_;
  fo.start_at_end = options_.start_at_end;
  fo.max_line_bytes = options_.max_line_bytes;
  fo.settle = options_.settle.count() > 0 ? options_.settle : 2 * options_.reconcile_interval;
  fo.max_drain = std::max(options_.max_drain, fo.settle);
  for (std::size_t i = 0; i < options_.paths.size(); ++i) {
    files_.push_back(std::make_unique<File>(*this, i, options_.paths[i], fo));
  }
  try {
    watcher_ = std::make_unique<InotifyWatcher>(executor_);
  } catch (const std::exception& e) {
    log(std::string("inotify unavailable, following logs by periodic checks only: ") + e.what());
  }
}

void Tailer::Impl::start() {
  if (started_)
    return;
  started_ = true;
  // Watches first, then the first read: nothing written in between is missed.
  refresh_watches();
  poll_all();
  check_caught_up();
  update_gauges(Clock::now());
  if (watcher_)
    spawn(run_inotify(shared_from_this()), "inotify");
  spawn(run_reconcile(shared_from_this()), "reconcile");
  spawn(run_backlog(shared_from_this()), "backlog");
}

void Tailer::Impl::stop() {
  stopped_ = true;
  if (watcher_)
    watcher_->close();
  reconcile_timer_.cancel();
  backlog_wake_.cancel();
}

void Tailer::Impl::follow(const std::string& path) {
  if (stopped_ || std::any_of(files_.begin(), files_.end(),
                              [&path](const auto& f) { return f->path == path; })) {
    return;
  }
  FollowerOptions fo = follower_options_;
  fo.start_at_end = true;
  files_.push_back(std::make_unique<File>(*this, files_.size(), path, fo));
  if (!started_)
    return;  // start() watches and reads it with the others
  // As in start(): the watch first, then the first read fixes where the file starts.
  refresh_watches();
  poll(*files_.back(), Clock::now());
  update_gauges(Clock::now());
}

void Tailer::Impl::spawn(asio::awaitable<void> task, const char* name) {
  asio::co_spawn(executor_, std::move(task),
                 [self = shared_from_this(), name](const std::exception_ptr& e) {
                   if (!e)
                     return;
                   try {
                     std::rethrow_exception(e);
                   } catch (const std::exception& x) {
                     self->log(std::string("tailer ") + name + " stopped: " + x.what());
                   }
                 });
}

asio::awaitable<void> Tailer::Impl::run_inotify(std::shared_ptr<Impl> self) {
  co_await self->watcher_->run(
      [&self](std::span<const InotifyEvent> events) { self->on_events(events); });
}

asio::awaitable<void> Tailer::Impl::run_reconcile(std::shared_ptr<Impl> self) {
  while (!self->stopped_) {
    self->reconcile_timer_.expires_after(self->options_.reconcile_interval);
    co_await self->reconcile_timer_.async_wait(kUseTuple);
    if (self->stopped_)
      break;
    self->refresh_watches();
    self->poll_all();
    self->update_gauges(Clock::now());
  }
}

asio::awaitable<void> Tailer::Impl::run_backlog(std::shared_ptr<Impl> self) {
  while (!self->stopped_) {
    if (self->backlog_.empty()) {
      self->backlog_wake_.expires_at(Clock::time_point::max());
      co_await self->backlog_wake_.async_wait(kUseTuple);  // cancel() wakes us
      continue;
    }
    const auto pending = std::exchange(self->backlog_, {});
    for (const auto i : pending)
      self->poll(*self->files_[i], Clock::now());
    self->check_caught_up();
    // A large backlog (parse mode) must not starve the proxy and probe on this executor.
    co_await asio::post(self->executor_, asio::use_awaitable);
  }
}

void Tailer::Impl::on_events(std::span<const InotifyEvent> events) {
  if (stopped_)
    return;
  std::set<std::size_t> due;
  bool all = false;
  for (const auto& e : events) {
    if (e.wd < 0 || (e.mask & IN_Q_OVERFLOW) != 0) {
      all = true;
      continue;
    }
    const auto dir = dir_by_wd_.find(e.wd);
    if (dir == dir_by_wd_.end())
      continue;
    if ((e.mask & IN_IGNORED) != 0) {  // the directory went away; the reconcile re-adds it
      wd_by_dir_.erase(dir->second);
      dir_by_wd_.erase(dir);
      all = true;
      continue;
    }
    for (File* f : files_by_dir_[dir->second]) {
      if (e.name.empty() || f->follower.draining() || e.name.starts_with(f->base) ||
          (!f->link_base.empty() && e.name.starts_with(f->link_base))) {
        due.insert(f->index);
      }
    }
  }
  if (all) {
    poll_all();
    return;
  }
  const auto now = Clock::now();
  for (const auto i : due)
    poll(*files_[i], now);
}

void Tailer::Impl::poll(File& f, Clock::time_point now) {
  if (stopped_)
    return;
  f.saw_line = false;
  if (f.follower.poll(now)) {
    backlog_.insert(f.index);
    backlog_wake_.cancel();
  }
  if (f.saw_line) {
    const auto unix_now = std::chrono::system_clock::now().time_since_epoch();
    f.gauges.last_line_timestamp_seconds->Set(std::chrono::duration<double>(unix_now).count());
  }
}

void Tailer::Impl::poll_all() {
  const auto now = Clock::now();
  for (auto& f : files_)
    poll(*f, now);
}

void Tailer::Impl::refresh_watches() {
  files_by_dir_.clear();
  for (auto& f : files_) {
    files_by_dir_[parent_dir(f->path)].push_back(f.get());
    const auto& link_dir = f->follower.link_target_dir();
    f->link_base.clear();
    if (!link_dir.empty()) {
      std::error_code ec;
      f->link_base = std::filesystem::weakly_canonical(f->path, ec).filename().string();
      if (link_dir != parent_dir(f->path))
        files_by_dir_[link_dir].push_back(f.get());
    }
  }
  if (!watcher_)
    return;
  for (const auto& [dir, unused] : files_by_dir_) {
    if (wd_by_dir_.contains(dir))
      continue;
    const int wd = watcher_->watch_directory(dir);
    if (wd < 0) {
      if (unwatchable_.insert(dir).second) {
        log("cannot watch " + dir + " (" + std::strerror(errno) +
            "); its logs are checked every reconcile_interval");
      }
      continue;
    }
    unwatchable_.erase(dir);
    wd_by_dir_[dir] = wd;
    dir_by_wd_[wd] = dir;
  }
}

void Tailer::Impl::update_gauges(Clock::time_point) {
  std::vector<FollowedFile> status;
  status.reserve(files_.size());
  for (const auto& f : files_) {
    const bool open = f->follower.reading();
    f->gauges.lag_bytes->Set(static_cast<double>(f->follower.lag_bytes()));
    f->gauges.open->Set(open ? 1.0 : 0.0);
    status.push_back({f->path, open, open ? std::string() : f->follower.problem()});
  }
  std::lock_guard lock(status_mutex_);
  status_ = std::move(status);
}

void Tailer::Impl::check_caught_up() {
  if (caught_up_ || stopped_ || !backlog_.empty())
    return;
  caught_up_ = true;
  if (options_.on_caught_up)
    options_.on_caught_up();
}

void Tailer::Impl::log(const std::string& message) const {
  if (options_.log) {
    options_.log(message);
  } else {
    std::cerr << "ipmanager tailer: " << message << "\n";
  }
}

Tailer::Tailer(asio::any_io_executor executor, TailerOptions options, LineSink sink,
               prometheus::Registry& registry)
    : impl_(std::make_shared<Impl>(std::move(executor), std::move(options), std::move(sink),
                                   registry)) {}

Tailer::~Tailer() {
  stop();
}

void Tailer::start() {
  impl_->start();
}

void Tailer::stop() {
  asio::dispatch(impl_->executor(), [impl = impl_] { impl->stop(); });
}

std::vector<FollowedFile> Tailer::files() const {
  return impl_->files();
}

void Tailer::follow(std::string path) {
  asio::dispatch(impl_->executor(), [impl = impl_, path = std::move(path)] { impl->follow(path); });
}

}  // namespace ipm::scanner
