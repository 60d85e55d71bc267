#pragma once

#include <filesystem>
#include <string_view>

namespace ipm::test {

/// A fresh folder under the system temp dir, mode 0755 so that nginx workers (www-data or
/// nobody) can traverse it and reopen logs after a rotation. Removed with its content on
/// destruction, unless the environment variable IPM_KEEP_TMP is set (then its path is printed
/// to stderr so a failing test can be inspected). Not thread-safe; not copyable or movable.
class TempDir {
 public:
  explicit TempDir(std::string_view prefix = "ipm");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(std::string_view name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

/// Writes `content` to `path` (truncating), throwing std::runtime_error on failure.
void write_file(const std::filesystem::path& path, std::string_view content);

/// The whole content of `path`, or "" when it cannot be read.
std::string read_file(const std::filesystem::path& path);

}  // namespace ipm::test
