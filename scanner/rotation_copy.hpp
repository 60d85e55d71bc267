#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace ipm::scanner {

/// How many leading bytes identify a log file's generation (its "head fingerprint").
inline constexpr std::size_t kHeadBytes = 512;

/// Up to `n` bytes of `fd` from offset 0 ("" on error).
std::string read_head(int fd, std::size_t n = kHeadBytes);

/// A rotated copy of a live log (logrotate copytruncate), found by its head fingerprint.
struct RotatedCopy {
  std::filesystem::path path;
  bool gzip = false;
};

/// Searches `dir` for the copy of a log whose first bytes were `head` and which holds at
/// least `min_size` bytes: a plain file first, else a `.gz` (logrotate may already have
/// compressed it). Files with inode `live_ino` (the live log) are skipped; among several
/// matches the most recently modified wins. Blocking file I/O; thread-compatible.
std::optional<RotatedCopy> find_rotated_copy(const std::filesystem::path& dir,
                                             std::string_view head, std::uint64_t min_size,
                                             ino_t live_ino);

/// Streams the bytes of `copy` from `offset` to its end into `sink`. Returns the number of
/// bytes delivered, or nullopt when the file could not be read.
std::optional<std::uint64_t> read_copy_from(const RotatedCopy& copy, std::uint64_t offset,
                                            const std::function<void(std::string_view)>& sink);

}  // namespace ipm::scanner
