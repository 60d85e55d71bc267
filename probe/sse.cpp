#include "probe/sse.hpp"

#include <charconv>

namespace ipm::probe {

void append_sse_event(std::string& out, std::string_view id, std::string_view name,
                      std::string_view data) {
  out += "id: ";
  out += id;
  out += '\n';
  if (!name.empty()) {
    out += "event: ";
    out += name;
    out += '\n';
  }
  // A bare CR would end the line for the client too, so every kind of line end starts a
  // new data: line, and the client joins them back with LF.
  for (;;) {
    const auto end = data.find_first_of("\r\n");
    out += "data: ";
    out += data.substr(0, end);
    out += '\n';
    if (end == std::string_view::npos)
      break;
    const std::size_t skip = data.compare(end, 2, "\r\n") == 0 ? 2 : 1;
    data.remove_prefix(end + skip);
  }
  out += '\n';
}

void append_sse_retry(std::string& out, std::uint32_t milliseconds) {
  out += "retry: ";
  out += std::to_string(milliseconds);
  out += "\n\n";
}

std::string format_event_id(std::string_view epoch, std::uint64_t seq) {
  std::string id(epoch);
  id += '-';
  id += std::to_string(seq);
  return id;
}

std::optional<EventId> parse_event_id(std::string_view text) {
  const auto dash = text.rfind('-');
  if (dash == std::string_view::npos || dash == 0 || dash + 1 == text.size())
    return std::nullopt;
  EventId id{text.substr(0, dash), 0};
  const char* first = text.data() + dash + 1;
  const char* last = text.data() + text.size();
  const auto [end, ec] = std::from_chars(first, last, id.seq);
  if (ec != std::errc() || end != last)
    return std::nullopt;
  return id;
}

}  // namespace ipm::probe
