#pragma once

#include <stdexcept>
#include <string>

namespace ipm::config {

/// A configuration problem. `key()` names the offending key ("" for file-level problems,
/// such as a YAML syntax error); what() is the whole one-line message for the operator.
class ConfigError : public std::runtime_error {
 public:
  ConfigError(std::string key, const std::string& message)
      : std::runtime_error(printable(key.empty() ? message : key + ": " + message)),
        key_(std::move(key)) {}

  const std::string& key() const noexcept { return key_; }

 private:
  // A key from a damaged file can hold NUL and control bytes: shown as \xNN, so the message
  // is never cut short (a key of NULs gave an empty message) nor garbles a terminal.
  static std::string printable(const std::string& text) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
      const auto byte = static_cast<unsigned char>(c);
      if ((byte < 0x20 && c != '\n' && c != '\t') || byte == 0x7f) {
        out += "\\x";
        out += kHex[byte >> 4];
        out += kHex[byte & 0xf];
      } else {
        out += c;
      }
    }
    return out;
  }

  std::string key_;
};

/// The config file could not be read at all (missing, unreadable). Distinct from a bad
/// config because the command line reports it with its own exit code.
class ConfigFileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace ipm::config
