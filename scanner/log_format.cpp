#include "scanner/log_format.hpp"

#include <re2/re2.h>

#include <cstdio>
#include <optional>

#include "scanner/nginx_lexer.hpp"

namespace ipm::scanner {
namespace {

using ByteSet = std::bitset<256>;

ByteSet bytes_of(std::string_view chars) {
  ByteSet set;
  for (const char c : chars) {
    set.set(static_cast<unsigned char>(c));
  }
  return set;
}

ByteSet digits() {
  return bytes_of("0123456789");
}

ByteSet letters_and_digits() {
  ByteSet set = digits();
  for (char c = 'a'; c <= 'z'; ++c) {
    set.set(static_cast<unsigned char>(c));
    set.set(static_cast<unsigned char>(c - 'a' + 'A'));
  }
  return set;
}

/// Every byte: opaque fields, matched lazily up to the next literal. Lines never hold a
/// newline when they come from a log, but parse() may be handed anything, and the regex
/// (dot_nl) and the fast path must agree on it.
ByteSet any_byte() {
  ByteSet set;
  set.set();
  return set;
}

struct FieldRule {
  std::string_view variable;
  std::optional<LogField> field;
  ByteSet accepts;
  bool at_least_one;
  std::size_t exact_length = 0;
};

/// Typed fields get a narrow class so adjacent fields ($server_addr:$server_port) split
/// where they should; everything else is opaque.
FieldRule rule_for(std::string_view variable, std::string_view target_variable) {
  if (variable == "time_local") {
    return {variable, LogField::time_local, letters_and_digits() | bytes_of("/:+- "), true};
  }
  if (variable == "time_iso8601") {
    return {variable, LogField::time_iso8601, letters_and_digits() | bytes_of(":+-."), true};
  }
  if (variable == "msec") {
    return {variable, LogField::msec, digits() | bytes_of("."), true};
  }
  if (variable == "status") {
    // nginx always logs three digits; fixing the length splits "$server_port$status".
    return {variable, LogField::status, digits(), true, 3};
  }
  if (variable == "upstream_status") {
    return {variable, LogField::upstream_status, digits() | bytes_of(", :-"), true};
  }
  if (variable == "server_port") {
    return {variable, LogField::server_port, digits(), true};
  }
  if (variable == "server_name") {
    // Empty when the block has no server_name: nginx logs an empty found value as nothing.
    return {variable, LogField::server_name, any_byte() & ~bytes_of(" \""), false};
  }
  if (variable == "request_time") {
    return {variable, LogField::request_time, digits() | bytes_of(".-"), true};
  }
  if (variable == "http_x_egress_key") {
    return {variable, LogField::key, any_byte(), false};
  }
  if (variable == target_variable) {
    return {variable, LogField::target, any_byte(), false};
  }
  if (variable == "remote_addr" || variable == "server_addr" || variable == "remote_port") {
    return {variable, std::nullopt, any_byte() & ~bytes_of(" \""), false};
  }
  return {variable, std::nullopt, any_byte(), false};
}

/// A character class in RE2 syntax with byte ranges (the regex runs in Latin-1 mode).
std::string class_regex(const ByteSet& set) {
  if (set == any_byte()) {
    return ".";
  }
  std::string out = "[";
  char buf[16];
  for (int b = 0; b < 256;) {
    if (!set.test(static_cast<std::size_t>(b))) {
      ++b;
      continue;
    }
    int end = b;
    while (end + 1 < 256 && set.test(static_cast<std::size_t>(end + 1))) {
      ++end;
    }
    std::snprintf(buf, sizeof buf, end == b ? "\\x%02x" : "\\x%02x-\\x%02x", b, end);
    out += buf;
    b = end + 1;
  }
  return out + "]";
}

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/// The format text, unquoting nginx syntax ('...' '...') when it is given that way.
std::string unquote(std::string_view text) {
  const std::size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) {
    return {};
  }
  text.remove_prefix(first);
  if (!text.starts_with("log_format") && !text.starts_with('\'')) {
    return std::string(text);
  }
  std::vector<std::string> words;
  try {
    NginxLexer lexer(text);
    for (NginxToken t = lexer.next(); t.kind == NginxToken::Kind::word; t = lexer.next()) {
      words.push_back(std::move(t.text));
    }
  } catch (const std::runtime_error& e) {
    throw LogFormatError(std::string("log_format: bad quoting at line ") + e.what());
  }
  std::size_t i = 0;
  if (!words.empty() && words[0] == "log_format") {
    i = 2;  // the directive and the format's name
  }
  if (i < words.size() && words[i].starts_with("escape=")) {
    ++i;
  }
  std::string joined;
  for (; i < words.size(); ++i) {
    joined += words[i];
  }
  return joined;
}

}  // namespace

LogFormat LogFormat::compile(std::string_view nginx_format, std::string_view target_variable) {
  LogFormat f;
  f.format_ = unquote(nginx_format);
  const std::string& text = f.format_;
  if (text.empty()) {
    throw LogFormatError("log_format: the format is empty");
  }

  std::string* literal = &f.leading_;
  for (std::size_t i = 0; i < text.size();) {
    if (text[i] != '$') {
      *literal += text[i++];
      continue;
    }
    std::size_t start = i + 1;
    std::size_t end = start;
    bool braced = start < text.size() && text[start] == '{';
    if (braced) {
      ++start;
      end = text.find('}', start);
      if (end == std::string::npos) {
        throw LogFormatError("log_format: \"${\" without a closing \"}\" at offset " +
                             std::to_string(i));
      }
    } else {
      while (end < text.size() && is_name_char(text[end])) {
        ++end;
      }
    }
    if (end == start) {
      throw LogFormatError("log_format: \"$\" without a variable name at offset " +
                           std::to_string(i) + " in \"" + text + "\"");
    }
    const FieldRule rule =
        rule_for(std::string_view(text).substr(start, end - start), target_variable);
    Slot slot;
    slot.variable = std::string(rule.variable);
    slot.accepts = rule.accepts;
    slot.at_least_one = rule.at_least_one;
    slot.exact_length = rule.exact_length;
    if (rule.field) {
      slot.field = static_cast<int>(*rule.field);
    }
    f.slots_.push_back(std::move(slot));
    literal = &f.slots_.back().literal_after;
    i = braced ? end + 1 : end;
  }

  const auto present = [&](LogField field) {
    for (const Slot& s : f.slots_) {
      if (s.field == static_cast<int>(field)) {
        return true;
      }
    }
    return false;
  };
  if (present(LogField::time_local)) {
    f.time_field_ = LogField::time_local;
  } else if (present(LogField::time_iso8601)) {
    f.time_field_ = LogField::time_iso8601;
  } else if (present(LogField::msec)) {
    f.time_field_ = LogField::msec;
  } else {
    throw LogFormatError(
        "log_format: no time field; add $time_local or $time_iso8601 (or $msec) so events are "
        "decided on the time they happened");
  }
  if (!present(LogField::server_port) && !present(LogField::server_name)) {
    throw LogFormatError(
        "log_format: no field attributes a line to an egress; add $server_port (mapped to the "
        "egress IP through the upstream config) or $server_name holding the egress IP (as in "
        "egress=$server_name)");
  }

  // Capture only what the line parser reads: the chosen time field, one attribution field
  // (the port when there is one), and the event fields.
  const auto wanted = [&](int field) {
    if (field < 0) {
      return false;
    }
    const auto lf = static_cast<LogField>(field);
    if (lf == LogField::time_local || lf == LogField::time_iso8601 || lf == LogField::msec) {
      return lf == f.time_field_;
    }
    if (lf == LogField::server_name) {
      return !present(LogField::server_port);
    }
    return true;
  };

  f.pattern_ = RE2::QuoteMeta(f.leading_);
  f.fast_path_possible_ = true;
  for (std::size_t s = 0; s < f.slots_.size(); ++s) {
    Slot& slot = f.slots_[s];
    if (wanted(slot.field) && f.capture_[static_cast<std::size_t>(slot.field)] == 0) {
      slot.captured = true;
      f.capture_[static_cast<std::size_t>(slot.field)] = ++f.captures_;
    }
    ByteSet all_but_literal = any_byte();
    if (!slot.literal_after.empty()) {
      all_but_literal.reset(static_cast<unsigned char>(slot.literal_after[0]));
    }
    slot.any_byte_but_literal = (all_but_literal & ~slot.accepts).none();
    if (slot.literal_after.empty() && s + 1 < f.slots_.size()) {
      f.fast_path_possible_ = false;  // "$a$b": only the regex can split them
    }
    // Lazy: each field ends at the first place where the rest can follow, which is what
    // the fast path finds without backtracking.
    f.pattern_ += slot.captured ? "(" : "(?:";
    f.pattern_ += class_regex(slot.accepts);
    if (slot.exact_length != 0) {
      f.pattern_ += "{" + std::to_string(slot.exact_length) + "})";
    } else {
      f.pattern_ += slot.at_least_one ? "+?)" : "*?)";
    }
    f.pattern_ += RE2::QuoteMeta(slot.literal_after);
  }

  RE2::Options options;
  options.set_encoding(RE2::Options::EncodingLatin1);
  options.set_log_errors(false);
  options.set_dot_nl(true);
  auto regex = std::make_shared<const RE2>(f.pattern_, options);
  if (!regex->ok()) {
    throw LogFormatError("log_format: cannot compile \"" + text + "\": " + regex->error());
  }
  f.regex_ = std::move(regex);
  return f;
}

}  // namespace ipm::scanner
