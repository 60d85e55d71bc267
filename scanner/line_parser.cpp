#include "scanner/line_parser.hpp"

#include <re2/re2.h>

#include <bit>
#include <charconv>

#include "pool/bytes.hpp"
#include "scanner/nginx_time.hpp"

namespace ipm::scanner {
namespace {

std::size_t idx(LogField f) {
  return static_cast<std::size_t>(f);
}

std::string_view dash_is_empty(std::string_view v) {
  return v == "-" ? std::string_view{} : v;
}

/// Three digits, 100-599, or -1.
int http_status(std::string_view v) {
  if (v.size() != 3) {
    return -1;
  }
  int s = 0;
  for (const char c : v) {
    if (c < '0' || c > '9') {
      return -1;
    }
    s = s * 10 + (c - '0');
  }
  return s >= 100 && s <= 599 ? s : -1;
}

/// The last status of "502, 200" or "502 : 200"; 0 for "-" or anything unreadable.
int last_upstream_status(std::string_view v) {
  const std::size_t sep = v.find_last_of(",: ");
  if (sep != std::string_view::npos) {
    v.remove_prefix(sep + 1);
  }
  const int s = http_status(v);
  return s < 0 ? 0 : s;
}

constexpr std::uint8_t kAccepted = 1;
constexpr std::uint8_t kStops = 2;

using pool::load_word;
using pool::same_bytes;

// Flags the zero bytes of `w`: the lowest flag is exactly the first zero byte (higher ones may
// be false, from a borrow), which is all a forward scan needs.
std::uint64_t zero_bytes(std::uint64_t w) {
  constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
  constexpr std::uint64_t kHighs = 0x8080808080808080ULL;
  return (w - kOnes) & ~w & kHighs;
}

// The first byte at or after i (and before n) that is one of the field's stop bytes, eight
// bytes at a time; or, when none is among the whole words left, the position where fewer
// than eight remain (every byte before it is accepted), for the table loop to finish.
std::size_t skip_accepted_words(const unsigned char* data, std::size_t i, std::size_t n,
                                const std::array<std::uint64_t, 3>& stops, std::size_t count) {
  for (; n - i >= 8; i += 8) {
    const auto w = load_word<std::uint64_t>(reinterpret_cast<const char*>(data) + i);
    std::uint64_t hit = 0;
    for (std::size_t k = 0; k < count; ++k)
      hit |= zero_bytes(w ^ stops[k]);
    if (hit != 0)
      return i + static_cast<std::size_t>(std::countr_zero(hit)) / 8;
  }
  return i;
}

bool looks_like_ip(std::string_view v) {
  return !v.empty() && v.size() <= 45 &&
         v.find_first_not_of("0123456789abcdefABCDEF.:") == std::string_view::npos;
}

}  // namespace

std::string_view to_string(LineResult r) {
  switch (r) {
    case LineResult::parsed:
      return "parsed";
    case LineResult::no_match:
      return "no_match";
    case LineResult::unknown_port:
      return "unknown_port";
    case LineResult::unknown_ip:
      return "unknown_ip";
    case LineResult::bad_time:
      return "bad_time";
    case LineResult::bad_status:
      return "bad_status";
    case LineResult::too_long:
      return "too_long";
  }
  return "no_match";
}

std::uint64_t LineCounts::total() const {
  std::uint64_t sum = 0;
  for (const std::uint64_t n : lines) {
    sum += n;
  }
  return sum;
}

LineCounts& LineCounts::operator+=(const LineCounts& other) {
  for (std::size_t i = 0; i < lines.size(); ++i) {
    lines[i] += other.lines[i];
  }
  bytes += other.bytes;
  return *this;
}

LineParser::LineParser(LogFormat format, const std::vector<pool::Egress>& bindings,
                       std::size_t max_line_bytes)
    : format_(std::move(format)), max_line_bytes_(max_line_bytes), ip_of_port_(65536, -1) {
  for (const LogFormat::Slot& slot : format_.slots()) {
    std::array<std::uint8_t, 256>& classes = byte_class_.emplace_back();
    for (std::size_t c = 0; c < 256; ++c)
      classes[c] = slot.accepts.test(c) ? kAccepted : kStops;
    if (!slot.literal_after.empty())
      classes[static_cast<unsigned char>(slot.literal_after[0])] |= kStops;
    // A field that stops at only a few bytes (an opaque "$request" at its closing quote, an
    // address at a space, a quote or its literal) is scanned a word at a time.
    StopWords& stop = stop_words_.emplace_back();
    std::size_t stopping = 0;
    for (std::size_t c = 0; c < 256; ++c)
      stopping += classes[c] != kAccepted ? 1 : 0;
    if (std::endian::native == std::endian::little && stopping <= stop.words.size()) {
      for (std::size_t c = 0; c < 256; ++c) {
        if (classes[c] != kAccepted)
          stop.words[stop.count++] = 0x0101010101010101ULL * c;
      }
    }
  }
  for (const pool::Egress& e : bindings) {
    auto [it, added] = ip_index_.try_emplace(e.ip, static_cast<std::int32_t>(ips_.size()));
    if (added) {
      ips_.push_back(e.ip);
      port_of_ip_.push_back(e.port);
    }
    ip_of_port_[e.port] = it->second;
  }
}

LineCounts LineParser::take_counts() {
  LineCounts out = counts_;
  counts_ = {};
  return out;
}

ParsedLine LineParser::skip(LineResult r) {
  ++counts_.lines[static_cast<std::size_t>(r)];
  return ParsedLine{r, {}};
}

ParsedLine LineParser::parse(std::string_view line) {
  counts_.bytes += line.size() + 1;
  if (line.size() > max_line_bytes_) {
    return skip(LineResult::too_long);
  }
  Values values;
  if (format_.fast_path_possible() && fast_match(line, values)) {
    ++fast_hits_;
    return finish(true, values);
  }
  return finish(regex_match(line, values), values);
}

ParsedLine LineParser::parse_with_regex(std::string_view line) {
  counts_.bytes += line.size() + 1;
  if (line.size() > max_line_bytes_) {
    return skip(LineResult::too_long);
  }
  Values values;
  return finish(regex_match(line, values), values);
}

// Walks literal, field, literal... Each field ends at the first occurrence of the literal
// that follows it (the last one at the end of the line), which is the match RE2's lazy
// quantifiers prefer. Any doubt (a literal not found, a byte outside a field's class)
// returns false and RE2 decides, so the fast path can only ever agree with it.
// A field is scanned with its byte-class table: the loop passes over accepted bytes and
// stops only where the next literal may start or the field must end, with no library call.
bool LineParser::fast_match(std::string_view line, Values& values) const {
  const std::string& lead = format_.leading_literal();
  if (line.size() < lead.size() || !same_bytes(line.data(), lead.data(), lead.size())) {
    return false;
  }
  const auto* const data = reinterpret_cast<const unsigned char*>(line.data());
  const std::size_t n = line.size();
  std::size_t pos = lead.size();
  const std::vector<LogFormat::Slot>& slots = format_.slots();
  for (std::size_t s = 0; s < slots.size(); ++s) {
    const LogFormat::Slot& slot = slots[s];
    const std::array<std::uint8_t, 256>& classes = byte_class_[s];
    const std::string& lit = slot.literal_after;
    const bool last = s + 1 == slots.size();
    const std::size_t min_end = pos + (slot.at_least_one ? 1 : 0);
    std::size_t end = 0;
    if (slot.exact_length != 0 || last) {
      // The field's end is known: from its length, or the final literal at the line's end.
      end = slot.exact_length != 0 ? pos + slot.exact_length : n - std::min(n, lit.size());
      if (end < min_end || end + lit.size() > n || (last && end + lit.size() != n) ||
          !same_bytes(line.data() + end, lit.data(), lit.size())) {
        return false;
      }
      for (std::size_t i = pos; i < end; ++i) {
        if ((classes[data[i]] & kAccepted) == 0) {
          return false;
        }
      }
    } else {
      const auto first = static_cast<unsigned char>(lit[0]);
      const StopWords& stop = stop_words_[s];
      std::size_t i = pos;
      for (;;) {
        if (stop.count != 0) {
          i = skip_accepted_words(data, i, n, stop.words, stop.count);
        }
        while (i < n && classes[data[i]] == kAccepted) {
          ++i;
        }
        if (i >= n) {
          return false;
        }
        if (data[i] == first && i >= min_end && n - i >= lit.size() &&
            same_bytes(line.data() + i, lit.data(), lit.size())) {
          break;
        }
        if ((classes[data[i]] & kAccepted) == 0) {
          return false;
        }
        ++i;
      }
      end = i;
    }
    if (slot.captured) {
      values[static_cast<std::size_t>(slot.field)] = line.substr(pos, end - pos);
    }
    pos = end + lit.size();
  }
  return pos == n;
}

bool LineParser::regex_match(std::string_view line, Values& values) const {
  constexpr int kMaxGroups = static_cast<int>(kLogFieldCount) + 1;
  re2::StringPiece groups[kMaxGroups];
  const int n = format_.captures() + 1;
  if (!format_.regex().Match(re2::StringPiece(line.data(), line.size()), 0, line.size(),
                             RE2::ANCHOR_BOTH, groups, n)) {
    return false;
  }
  for (std::size_t f = 0; f < kLogFieldCount; ++f) {
    const int g = format_.capture_of(static_cast<LogField>(f));
    if (g != 0) {
      values[f] = std::string_view(groups[g].data(), groups[g].size());
    }
  }
  return true;
}

bool LineParser::event_time(std::string_view text, pool::TimePoint& out) {
  if (!last_time_text_.empty() && text == last_time_text_) {
    out = last_time_;
    return true;
  }
  std::optional<pool::TimePoint> t;
  switch (format_.time_field()) {
    case LogField::time_iso8601:
      t = parse_time_iso8601(text);
      break;
    case LogField::msec:
      t = parse_msec(text);
      break;
    default:
      t = parse_time_local(text);
      break;
  }
  if (!t) {
    return false;
  }
  last_time_text_.assign(text);
  last_time_ = *t;
  out = *t;
  return true;
}

bool LineParser::attribute(const Values& values, pool::LogEvent& event) const {
  if (format_.has(LogField::server_port)) {
    const std::string_view p = values[idx(LogField::server_port)];
    unsigned port = 0;
    const auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), port);
    if (ec != std::errc{} || end != p.data() + p.size() || port > 65535) {
      return false;
    }
    const std::int32_t ip = ip_of_port_[port];
    if (ip < 0) {
      return false;
    }
    event.ip = ips_[static_cast<std::size_t>(ip)];
    event.port = static_cast<std::uint16_t>(port);
    return true;
  }
  const std::string_view name = values[idx(LogField::server_name)];
  if (ips_.empty()) {
    // No upstream map: any IP-looking server_name is the egress.
    if (!looks_like_ip(name)) {
      return false;
    }
    event.ip = name;
    return true;
  }
  const auto it = ip_index_.find(name);
  if (it == ip_index_.end()) {
    return false;
  }
  event.ip = ips_[static_cast<std::size_t>(it->second)];
  event.port = port_of_ip_[static_cast<std::size_t>(it->second)];
  return true;
}

ParsedLine LineParser::finish(bool matched, const Values& values) {
  if (!matched) {
    return skip(LineResult::no_match);
  }
  ParsedLine out{LineResult::parsed, {}};
  pool::LogEvent& e = out.event;
  if (!attribute(values, e)) {
    return skip(format_.has(LogField::server_port) ? LineResult::unknown_port
                                                   : LineResult::unknown_ip);
  }
  if (!event_time(values[idx(format_.time_field())], e.time)) {
    return skip(LineResult::bad_time);
  }
  if (format_.has(LogField::status)) {
    e.status = http_status(values[idx(LogField::status)]);
    if (e.status < 0) {
      return skip(LineResult::bad_status);
    }
  }
  if (format_.has(LogField::upstream_status)) {
    e.upstream_status = last_upstream_status(values[idx(LogField::upstream_status)]);
  }
  if (format_.has(LogField::key)) {
    e.key = dash_is_empty(values[idx(LogField::key)]);
  }
  if (format_.has(LogField::target)) {
    e.target = dash_is_empty(values[idx(LogField::target)]);
  }
  if (format_.has(LogField::request_time)) {
    const std::string_view v = values[idx(LogField::request_time)];
    float seconds = -1.0F;
    const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), seconds);
    if (ec == std::errc{} && end == v.data() + v.size() && seconds >= 0.0F) {
      e.latency_seconds = seconds;
    }
  }
  ++counts_.lines[static_cast<std::size_t>(LineResult::parsed)];
  return out;
}

}  // namespace ipm::scanner
