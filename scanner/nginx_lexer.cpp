#include "scanner/nginx_lexer.hpp"

#include <stdexcept>

namespace ipm::scanner {
namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

std::string line_message(std::size_t line, const std::string& message) {
  return std::to_string(line) + ": " + message;
}

}  // namespace

void NginxLexer::skip_space_and_comments() {
  while (pos_ < text_.size()) {
    const char c = text_[pos_];
    if (c == '\n') {
      ++line_;
      ++pos_;
    } else if (is_space(c)) {
      ++pos_;
    } else if (c == '#') {
      while (pos_ < text_.size() && text_[pos_] != '\n') {
        ++pos_;
      }
    } else {
      return;
    }
  }
}

NginxToken NginxLexer::next() {
  skip_space_and_comments();
  const std::size_t start_line = line_;
  if (pos_ >= text_.size()) {
    return {NginxToken::Kind::end, {}, start_line};
  }
  switch (text_[pos_]) {
    case ';':
      ++pos_;
      return {NginxToken::Kind::semicolon, ";", start_line};
    case '{':
      ++pos_;
      return {NginxToken::Kind::block_start, "{", start_line};
    case '}':
      ++pos_;
      return {NginxToken::Kind::block_end, "}", start_line};
    default:
      return read_word(start_line);
  }
}

NginxToken NginxLexer::read_word(std::size_t start_line) {
  std::string word;
  const char quote = (text_[pos_] == '"' || text_[pos_] == '\'') ? text_[pos_] : '\0';
  if (quote != '\0') {
    ++pos_;
  }
  bool after_dollar = false;
  while (pos_ < text_.size()) {
    const char c = text_[pos_];
    if (c == '\\' && pos_ + 1 < text_.size()) {
      // nginx keeps unknown escapes as written ("\d" stays "\d") so regexes survive.
      const char e = text_[pos_ + 1];
      switch (e) {
        case '"':
        case '\'':
        case '\\':
          word += e;
          break;
        case 't':
          word += '\t';
          break;
        case 'r':
          word += '\r';
          break;
        case 'n':
          word += '\n';
          break;
        default:
          word += c;
          word += e;
          if (e == '\n') {
            ++line_;
          }
          break;
      }
      pos_ += 2;
      after_dollar = false;
      continue;
    }
    if (quote != '\0') {
      ++pos_;
      if (c == quote) {
        if (pos_ < text_.size()) {
          const char after = text_[pos_];
          if (!is_space(after) && after != ';' && after != '{' && after != ')') {
            throw std::runtime_error(line_message(
                line_, std::string("unexpected \"") + after + "\" after a quoted string"));
          }
        }
        return {NginxToken::Kind::word, std::move(word), start_line};
      }
      if (c == '\n') {
        ++line_;
      }
      word += c;
      continue;
    }
    // `${name}` is a variable inside a word, not the start of a block.
    if (c == '{' && after_dollar) {
      word += c;
      ++pos_;
      after_dollar = false;
      continue;
    }
    if (is_space(c) || c == ';' || c == '{') {
      break;
    }
    after_dollar = (c == '$');
    word += c;
    ++pos_;
  }
  if (quote != '\0') {
    throw std::runtime_error(line_message(start_line, std::string("unterminated string: the ") +
                                                          quote + " opened here is never closed"));
  }
  return {NginxToken::Kind::word, std::move(word), start_line};
}

}  // namespace ipm::scanner
