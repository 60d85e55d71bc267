#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>

namespace ipm::scanner {

/// Where a directive or token was read: a file and a 1-based line. For `nginx -T` output
/// the file is the one named in the dump, and `container` is the dump itself.
struct SourceLocation {
  std::string file;
  std::size_t line = 0;
  std::string container;  ///< the `nginx -T` dump holding `file`; empty for a real file
  std::size_t container_line = 0;

  /// "file:line", or "file:line (dump:line)" for a section of an `nginx -T` dump.
  std::string to_string() const;
};

/// The nginx config is unusable: unbalanced braces, an unterminated string, a missing
/// include, a port claimed by two egress IPs... what() is "file:line: message", ready for the
/// operator. Thrown at startup (and on reload); nothing should start on it.
class NginxConfigError : public std::runtime_error {
 public:
  NginxConfigError(const SourceLocation& where, const std::string& message)
      : std::runtime_error(where.to_string() + ": " + message), where_(where) {}

  const SourceLocation& where() const noexcept { return where_; }

 private:
  SourceLocation where_;
};

}  // namespace ipm::scanner
