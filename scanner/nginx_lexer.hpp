#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace ipm::scanner {

/// One token of nginx config syntax.
struct NginxToken {
  enum class Kind : std::uint8_t { word, semicolon, block_start, block_end, end };
  Kind kind = Kind::end;
  std::string text;      ///< a word with quotes removed and escapes applied
  std::size_t line = 0;  ///< 1-based line where the token starts
};

/// Splits nginx config text into tokens the way nginx's own reader does
/// (ngx_conf_read_token): `#` comments at the start of a token, "double" and 'single' quoted
/// strings with `\"`, `\'`, `\\`, `\t`, `\r`, `\n` escapes, `${var}` kept inside a word, and a
/// quoted string that must be followed by a space, `;` or `{`.
/// Errors (unterminated string, text glued to a closing quote) throw std::runtime_error with
/// the line number only; the caller adds the file name. Not thread-safe; one per text.
class NginxLexer {
 public:
  explicit NginxLexer(std::string_view text) : text_(text) {}

  NginxToken next();

  std::size_t line() const { return line_; }

 private:
  NginxToken read_word(std::size_t start_line);
  void skip_space_and_comments();

  std::string_view text_;
  std::size_t pos_ = 0;
  std::size_t line_ = 1;
};

}  // namespace ipm::scanner
