#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ipm::scanner {

/// How reading a whole log file ended.
enum class ReadEnd : std::uint8_t {
  complete,    ///< every byte read (a final line without a newline included)
  unreadable,  ///< could not open or read the file
  truncated,   ///< a .gz stream ends before its end marker; lines up to there were read
  corrupt,     ///< a .gz stream has bad data; lines up to there were read
};

/// Reads a finished (rotated) log file line by line: plain text, or gzip (by content, so a
/// misnamed file still reads) inflated through zlib in a fixed buffer, never whole in
/// memory. Concatenated gzip members are read as one stream.
/// Lines come without their newline and are valid until the next call. A line longer than
/// `max_line_bytes` comes as its first max_line_bytes + 1 bytes (so the line parser counts
/// it too_long) and the rest of it is dropped. Not thread-safe; one reader per file.
class LogFileReader {
 public:
  LogFileReader(std::string path, std::size_t max_line_bytes);
  ~LogFileReader();
  LogFileReader(const LogFileReader&) = delete;
  LogFileReader& operator=(const LogFileReader&) = delete;

  /// The next line, or nothing at the end of the file (then see end()).
  std::optional<std::string_view> next_line();

  const std::string& path() const { return path_; }
  bool gzip() const { return gzip_; }
  /// File bytes consumed so far (compressed bytes for a .gz).
  std::uint64_t file_bytes() const { return file_bytes_; }
  ReadEnd end() const { return end_; }
  /// Why reading stopped early, for the operator; empty when complete.
  const std::string& problem() const { return problem_; }

 private:
  struct Inflater;

  bool open();
  /// Appends more decoded bytes after buffer_[filled_]; false at the end of the data.
  bool refill();
  std::size_t read_raw(char* out, std::size_t size);
  void fail(ReadEnd why, std::string message);

  std::string path_;
  std::size_t max_line_bytes_;
  int fd_ = -1;
  bool opened_ = false;
  bool gzip_ = false;
  bool eof_ = false;
  bool discarding_ = false;  ///< inside the tail of an over-long line
  std::vector<char> buffer_;
  std::size_t begin_ = 0;   ///< first byte not yet returned
  std::size_t filled_ = 0;  ///< bytes of buffer_ holding data
  std::uint64_t file_bytes_ = 0;
  std::unique_ptr<Inflater> inflater_;
  ReadEnd end_ = ReadEnd::complete;
  std::string problem_;
};

}  // namespace ipm::scanner
