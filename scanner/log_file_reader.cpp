#include "scanner/log_file_reader.hpp"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace ipm::scanner {
namespace {

constexpr std::size_t kChunk = 64 * 1024;

}  // namespace

/// zlib state and its compressed input buffer.
struct LogFileReader::Inflater {
  z_stream stream{};
  std::vector<unsigned char> input = std::vector<unsigned char>(kChunk);
  bool in_member = false;  ///< between a member's header and its end marker
  bool ready = false;

  ~Inflater() {
    if (ready) {
      inflateEnd(&stream);
    }
  }
};

LogFileReader::LogFileReader(std::string path, std::size_t max_line_bytes)
    : path_(std::move(path)), max_line_bytes_(max_line_bytes) {}

LogFileReader::~LogFileReader() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

void LogFileReader::fail(ReadEnd why, std::string message) {
  if (end_ == ReadEnd::complete) {
    end_ = why;
    problem_ = std::move(message);
  }
  eof_ = true;
}

bool LogFileReader::open() {
  opened_ = true;
  fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) {
    fail(ReadEnd::unreadable, "cannot open: " + std::string(std::strerror(errno)));
    return false;
  }
  // Room for a whole line at the cap plus a chunk, so a line of max_line_bytes always fits.
  buffer_.resize(max_line_bytes_ + 1 + kChunk);
  unsigned char magic[2] = {0, 0};
  const ssize_t n = ::pread(fd_, magic, 2, 0);
  gzip_ = n == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
  if (gzip_) {
    inflater_ = std::make_unique<Inflater>();
    // 15 + 16: gzip wrapper only; members are restarted by hand below.
    if (inflateInit2(&inflater_->stream, 15 + 16) != Z_OK) {
      fail(ReadEnd::unreadable, "zlib: cannot initialise inflate");
      return false;
    }
    inflater_->ready = true;
  }
  return true;
}

std::size_t LogFileReader::read_raw(char* out, std::size_t size) {
  for (;;) {
    const ssize_t n = ::read(fd_, out, size);
    if (n >= 0) {
      file_bytes_ += static_cast<std::uint64_t>(n);
      return static_cast<std::size_t>(n);
    }
    if (errno != EINTR) {
      fail(ReadEnd::unreadable, "read error: " + std::string(std::strerror(errno)));
      return 0;
    }
  }
}

bool LogFileReader::refill() {
  if (eof_) {
    return false;
  }
  char* const out = buffer_.data() + filled_;
  const std::size_t room = buffer_.size() - filled_;
  if (!gzip_) {
    const std::size_t n = read_raw(out, room);
    if (n == 0) {
      eof_ = true;
    }
    filled_ += n;
    return n > 0;
  }
  z_stream& z = inflater_->stream;
  z.next_out = reinterpret_cast<Bytef*>(out);
  z.avail_out = static_cast<uInt>(room);
  while (z.avail_out == room) {
    if (z.avail_in == 0) {
      const std::size_t n =
          read_raw(reinterpret_cast<char*>(inflater_->input.data()), inflater_->input.size());
      if (n == 0) {
        if (!eof_ && inflater_->in_member) {
          fail(ReadEnd::truncated, "gzip data ends before its end marker (file truncated?)");
        }
        eof_ = true;
        return false;
      }
      z.next_in = inflater_->input.data();
      z.avail_in = static_cast<uInt>(n);
    }
    inflater_->in_member = true;
    const int rc = inflate(&z, Z_NO_FLUSH);
    if (rc == Z_STREAM_END) {
      // Another gzip member may follow (gzip a b > c, or appended rotations).
      inflater_->in_member = false;
      inflateReset(&z);
    } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
      fail(ReadEnd::corrupt,
           std::string("gzip data is corrupt: ") + (z.msg != nullptr ? z.msg : "inflate error"));
      break;
    }
  }
  const std::size_t produced = room - z.avail_out;
  filled_ += produced;
  return produced > 0;
}

std::optional<std::string_view> LogFileReader::next_line() {
  if (!opened_ && !open()) {
    return std::nullopt;
  }
  if (fd_ < 0) {
    return std::nullopt;
  }
  for (;;) {
    char* const data = buffer_.data();
    const void* nl = std::memchr(data + begin_, '\n', filled_ - begin_);
    if (nl != nullptr) {
      const auto end = static_cast<std::size_t>(static_cast<const char*>(nl) - data);
      const std::size_t start = begin_;
      begin_ = end + 1;
      if (discarding_) {
        discarding_ = false;
        continue;
      }
      return std::string_view(data + start, end - start);
    }
    const std::size_t pending = filled_ - begin_;
    if (!discarding_ && pending > max_line_bytes_) {
      // Over the cap: hand out the head (counted too_long) and drop the rest of the line.
      const std::size_t start = begin_;
      discarding_ = true;
      begin_ = filled_;
      return std::string_view(data + start, max_line_bytes_ + 1);
    }
    if (discarding_) {
      begin_ = filled_ = 0;
    } else if (begin_ > 0) {
      std::memmove(data, data + begin_, pending);
      begin_ = 0;
      filled_ = pending;
    }
    if (!refill()) {
      if (filled_ > begin_ && !discarding_ && end_ == ReadEnd::complete) {
        // The last line of a finished file may lack its newline; after a truncated or
        // corrupt stream it is a fragment, dropped.
        const std::size_t start = begin_;
        begin_ = filled_;
        return std::string_view(data + start, filled_ - start);
      }
      return std::nullopt;
    }
  }
}

}  // namespace ipm::scanner
