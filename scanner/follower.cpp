#include "scanner/follower.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "scanner/rotation_copy.hpp"

namespace ipm::scanner {

std::string_view to_string(RotationKind k) {
  switch (k) {
    case RotationKind::renamed:
      return "renamed";
    case RotationKind::deleted:
      return "deleted";
    case RotationKind::copytruncate:
      return "copytruncate";
    case RotationKind::symlink:
      return "symlink";
  }
  return "renamed";
}

struct FileFollower::Open {
  Open(int fd_in, const struct stat& st, std::size_t max_line, Clock::time_point now)
      : fd(fd_in),
        dev(st.st_dev),
        ino(st.st_ino),
        size(static_cast<std::uint64_t>(st.st_size)),
        splitter(max_line),
        last_growth(now) {}
  ~Open() { ::close(fd); }
  Open(const Open&) = delete;
  Open& operator=(const Open&) = delete;

  int fd;
  dev_t dev;
  ino_t ino;
  std::uint64_t size;        ///< at the last fstat
  std::uint64_t offset = 0;  ///< next byte to read
  std::uint64_t bytes_read = 0;
  std::string head;           ///< first kHeadBytes (or fewer): identifies this generation
  TailLineSplitter splitter;  ///< one per file: a partial line belongs to its file
  Clock::time_point last_growth;
};

namespace {

std::string read_link(const std::string& path) {
  struct stat lst {};
  if (::lstat(path.c_str(), &lst) != 0 || !S_ISLNK(lst.st_mode))
    return {};
  std::error_code ec;
  auto target = std::filesystem::read_symlink(path, ec);
  return ec ? std::string{} : target.string();
}

}  // namespace

FileFollower::FileFollower(std::string path, FollowerOptions options, FollowerEvents& events)
    : path_(std::move(path)), options_(options), events_(events), buffer_(64 * 1024) {}

FileFollower::~FileFollower() = default;

bool FileFollower::poll(Clock::time_point now) {
  detect_change(now);
  std::uint64_t budget = options_.max_bytes_per_poll;
  bool more = false;
  // Rotated-away files first: everything in them was written before the current file's lines.
  for (auto& f : old_) {
    if (read_available(*f, now, budget)) {
      more = true;
      break;
    }
  }
  if (!more && current_)
    more = read_available(*current_, now, budget);
  retire_drained(now);
  lag_ = 0;
  for (const auto& f : old_)
    lag_ += f->size > f->offset ? f->size - f->offset : 0;
  if (current_)
    lag_ += current_->size > current_->offset ? current_->size - current_->offset : 0;
  return more;
}

void FileFollower::detect_change(Clock::time_point now) {
  const bool first = first_poll_;
  first_poll_ = false;
  const std::string link = read_link(path_);
  const bool link_changed = link != link_target_;
  link_target_ = link;
  if (!link.empty()) {
    std::error_code ec;
    link_dir_ = std::filesystem::weakly_canonical(path_, ec).parent_path().string();
  } else {
    link_dir_.clear();
  }

  struct stat st {};
  const bool exists = ::stat(path_.c_str(), &st) == 0;
  const int stat_errno = errno;
  const bool present = exists && S_ISREG(st.st_mode);
  if (current_ && (!present || st.st_dev != current_->dev || st.st_ino != current_->ino)) {
    struct stat fst {};
    const bool unlinked = ::fstat(current_->fd, &fst) == 0 && fst.st_nlink == 0;
    const auto kind = link_changed && present ? RotationKind::symlink
                      : unlinked              ? RotationKind::deleted
                                              : RotationKind::renamed;
    events_.on_rotation(kind);
    current_->last_growth = now;  // the drain's idle time starts now
    old_.push_back(std::move(current_));
  }
  if (!present) {
    problem_ = exists ? "not a regular file" : std::strerror(stat_errno);
    if (!said_missing_) {
      events_.on_notice(path_ + (!exists && stat_errno == ENOENT
                                     ? ": no such file (yet); following it once it appears"
                                     : ": " + problem_ + "; following it once it is a file"));
      said_missing_ = true;
    }
    return;
  }
  said_missing_ = false;
  if (!current_) {
    current_ = open_current(first && options_.start_at_end);
    if (current_)
      current_->last_growth = now;
    return;
  }
  // Same file: was it truncated in place (copytruncate), maybe regrown past our offset?
  struct stat fst {};
  if (::fstat(current_->fd, &fst) != 0)
    return;
  bool truncated = static_cast<std::uint64_t>(fst.st_size) < current_->offset;
  if (!truncated && current_->offset > 0) {
    const std::string head = read_head(current_->fd);
    const std::size_t common = std::min(head.size(), current_->head.size());
    if (head.compare(0, common, current_->head, 0, common) != 0) {
      truncated = true;
    } else if (head.size() > current_->head.size()) {
      current_->head = head;
    }
  }
  if (truncated)
    handle_truncation(*current_);
}

std::unique_ptr<FileFollower::Open> FileFollower::open_current(bool at_end) {
  const int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    problem_ = std::strerror(errno);
    if (!said_cannot_open_) {  // once per episode: the reconcile retries every interval
      events_.on_notice(path_ + ": cannot open: " + std::strerror(errno));
      said_cannot_open_ = true;
    }
    return nullptr;
  }
  said_cannot_open_ = false;
  problem_.clear();
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    return nullptr;
  }
  auto f = std::make_unique<Open>(fd, st, options_.max_line_bytes, Clock::now());
  f->head = read_head(fd);
  if (at_end && f->size > 0) {
    f->offset = f->size;
    // Starting in the middle of a line would emit its tail as a line of its own.
    char last = '\n';
    if (::pread(fd, &last, 1, static_cast<off_t>(f->size - 1)) == 1 && last != '\n') {
      f->splitter.skip_to_next_line();
    }
  }
  return f;
}

void FileFollower::handle_truncation(Open& f) {
  const std::uint64_t missed_from = f.offset;
  const std::filesystem::path live = link_dir_.empty() ? std::filesystem::path(path_).parent_path()
                                                       : std::filesystem::path(link_dir_);
  bool recovered = missed_from == 0;
  if (!recovered) {
    const auto copy = find_rotated_copy(live.empty() ? "." : live, f.head, missed_from, f.ino);
    if (copy) {
      const auto n = read_copy_from(*copy, missed_from, [&](std::string_view bytes) {
        events_.on_bytes(bytes.size());
        emit(f, bytes);
      });
      recovered = n.has_value();
    }
  }
  if (!recovered) {
    events_.on_lost(LossKind::truncated_tail, 0);
  }
  if (const auto partial = f.splitter.drop_partial(); partial > 0) {
    events_.on_lost(LossKind::partial_line, partial);
  }
  f.offset = 0;
  f.head = read_head(f.fd);
  events_.on_rotation(RotationKind::copytruncate);
}

bool FileFollower::read_available(Open& f, Clock::time_point now, std::uint64_t& budget) {
  for (;;) {
    if (budget == 0)
      break;
    const std::size_t want =
        static_cast<std::size_t>(std::min<std::uint64_t>(buffer_.size(), budget));
    const ssize_t n = ::pread(f.fd, buffer_.data(), want, static_cast<off_t>(f.offset));
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      events_.on_notice(path_ + ": read failed: " + std::strerror(errno));
      break;
    }
    if (n == 0)
      break;
    const auto got = static_cast<std::uint64_t>(n);
    f.offset += got;
    f.bytes_read += got;
    budget -= got;
    f.last_growth = now;
    events_.on_bytes(got);
    emit(f, {buffer_.data(), static_cast<std::size_t>(n)});
  }
  struct stat st {};
  if (::fstat(f.fd, &st) == 0)
    f.size = static_cast<std::uint64_t>(st.st_size);
  return budget == 0 && f.size > f.offset;
}

void FileFollower::emit(Open& f, std::string_view bytes) {
  const auto too_long_before = f.splitter.too_long();
  lines_.clear();
  f.splitter.feed(bytes, lines_);
  if (!lines_.empty())
    events_.on_lines(lines_);
  for (auto i = too_long_before; i < f.splitter.too_long(); ++i)
    events_.on_too_long();
}

void FileFollower::retire_drained(Clock::time_point now) {
  const bool writer_moved_on = current_ && current_->bytes_read > 0;
  std::erase_if(old_, [&](const std::unique_ptr<Open>& f) {
    const auto idle = now - f->last_growth;
    const bool done = f->offset >= f->size && idle >= options_.settle &&
                      (writer_moved_on || idle >= options_.max_drain);
    if (done) {
      if (const auto partial = f->splitter.drop_partial(); partial > 0) {
        events_.on_lost(LossKind::partial_line, partial);
      }
    }
    return done;
  });
}

}  // namespace ipm::scanner
