#include "scanner/rotation_copy.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <array>
#include <system_error>
#include <vector>

namespace ipm::scanner {
namespace {

constexpr std::size_t kChunk = 64 * 1024;

bool is_gz(const std::filesystem::path& p) {
  return p.extension() == ".gz";
}

class GzFile {
 public:
  explicit GzFile(const std::filesystem::path& p) : f_(::gzopen(p.c_str(), "rb")) {}
  ~GzFile() {
    if (f_ != nullptr)
      ::gzclose(f_);
  }
  GzFile(const GzFile&) = delete;
  GzFile& operator=(const GzFile&) = delete;
  gzFile get() const { return f_; }

 private:
  gzFile f_;
};

class Fd {
 public:
  explicit Fd(const std::filesystem::path& p) : fd_(::open(p.c_str(), O_RDONLY | O_CLOEXEC)) {}
  ~Fd() {
    if (fd_ >= 0)
      ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// The first `n` decompressed bytes of a .gz file.
std::string gz_head(const std::filesystem::path& p, std::size_t n) {
  GzFile f(p);
  if (f.get() == nullptr)
    return {};
  std::string out(n, '\0');
  const int got = ::gzread(f.get(), out.data(), static_cast<unsigned>(n));
  out.resize(got > 0 ? static_cast<std::size_t>(got) : 0);
  return out;
}

// Whether the decompressed size of a .gz file reaches `min_size` (reads it through).
bool gz_size_at_least(const std::filesystem::path& p, std::uint64_t min_size) {
  GzFile f(p);
  if (f.get() == nullptr)
    return false;
  std::vector<char> buf(kChunk);
  std::uint64_t total = 0;
  while (total < min_size) {
    const int got = ::gzread(f.get(), buf.data(), static_cast<unsigned>(buf.size()));
    if (got <= 0)
      break;
    total += static_cast<std::uint64_t>(got);
  }
  return total >= min_size;
}

}  // namespace

std::string read_head(int fd, std::size_t n) {
  std::string out(n, '\0');
  std::size_t got = 0;
  while (got < n) {
    const ssize_t r = ::pread(fd, out.data() + got, n - got, static_cast<off_t>(got));
    if (r <= 0)
      break;
    got += static_cast<std::size_t>(r);
  }
  out.resize(got);
  return out;
}

std::optional<RotatedCopy> find_rotated_copy(const std::filesystem::path& dir,
                                             std::string_view head, std::uint64_t min_size,
                                             ino_t live_ino) {
  if (head.empty())
    return std::nullopt;
  std::optional<RotatedCopy> best;
  std::filesystem::file_time_type best_time{};
  bool best_plain = false;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    std::error_code e2;
    if (!entry.is_regular_file(e2))
      continue;
    const auto& p = entry.path();
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0 || st.st_ino == live_ino)
      continue;
    const bool gz = is_gz(p);
    if (best && best_plain && gz)
      continue;  // a plain copy beats any .gz
    bool match = false;
    if (gz) {
      match = gz_head(p, head.size()) == head && gz_size_at_least(p, min_size);
    } else if (static_cast<std::uint64_t>(st.st_size) >= min_size) {
      Fd f(p);
      match = f.get() >= 0 && read_head(f.get(), head.size()) == head;
    }
    if (!match)
      continue;
    const auto mtime = entry.last_write_time(e2);
    if (!best || (!gz && !best_plain) || mtime > best_time) {
      best = RotatedCopy{p, gz};
      best_time = mtime;
      best_plain = !gz;
    }
  }
  return best;
}

std::optional<std::uint64_t> read_copy_from(const RotatedCopy& copy, std::uint64_t offset,
                                            const std::function<void(std::string_view)>& sink) {
  std::vector<char> buf(kChunk);
  std::uint64_t delivered = 0;
  if (copy.gzip) {
    GzFile f(copy.path);
    if (f.get() == nullptr || ::gzseek(f.get(), static_cast<z_off_t>(offset), SEEK_SET) < 0) {
      return std::nullopt;
    }
    for (;;) {
      const int got = ::gzread(f.get(), buf.data(), static_cast<unsigned>(buf.size()));
      if (got < 0)
        return std::nullopt;
      if (got == 0)
        break;
      sink({buf.data(), static_cast<std::size_t>(got)});
      delivered += static_cast<std::uint64_t>(got);
    }
    return delivered;
  }
  Fd f(copy.path);
  if (f.get() < 0)
    return std::nullopt;
  for (;;) {
    const ssize_t got =
        ::pread(f.get(), buf.data(), buf.size(), static_cast<off_t>(offset + delivered));
    if (got < 0)
      return std::nullopt;
    if (got == 0)
      break;
    sink({buf.data(), static_cast<std::size_t>(got)});
    delivered += static_cast<std::uint64_t>(got);
  }
  return delivered;
}

}  // namespace ipm::scanner
