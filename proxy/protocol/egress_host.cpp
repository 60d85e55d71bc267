#include "proxy/protocol/egress_host.hpp"

#include <algorithm>

namespace ipm::protocol {
namespace {

bool token_byte(char c) {
  // RFC 9110 tchar, enough to recognise a method and a header name.
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
    return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool equals_lower(std::string_view text, std::string_view lower) {
  return text.size() == lower.size() &&
         std::equal(text.begin(), text.end(), lower.begin(), [](char a, char b) {
           return (a >= 'A' && a <= 'Z' ? static_cast<char>(a - 'A' + 'a') : a) == b;
         });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

// "METHOD SP target SP HTTP/1.x": only the shape, enough to tell HTTP from anything else.
bool request_line(std::string_view line) {
  const auto sp = line.find(' ');
  if (sp == 0 || sp == std::string_view::npos)
    return false;
  if (!std::all_of(line.begin(), line.begin() + static_cast<std::ptrdiff_t>(sp), token_byte))
    return false;
  const auto last = line.rfind(' ');
  if (last == sp)
    return false;
  const std::string_view version = line.substr(last + 1);
  return version.size() == 8 && version.substr(0, 7) == "HTTP/1." && version[7] >= '0' &&
         version[7] <= '9';
}

}  // namespace

EgressHeaders egress_headers_in_first_bytes(std::string_view first_bytes) {
  std::string_view rest = first_bytes;
  auto next_line = [&rest](std::string_view& line) {
    const auto lf = rest.find('\n');
    if (lf == std::string_view::npos)
      return false;  // incomplete: never guess from a partial line
    line = rest.substr(0, lf);
    if (!line.empty() && line.back() == '\r')
      line.remove_suffix(1);
    rest.remove_prefix(lf + 1);
    return true;
  };
  std::string_view line;
  if (!next_line(line) || !request_line(line))
    return {};
  EgressHeaders out;
  std::string_view egress_host;
  std::string_view host;
  bool have_host = false;
  while (next_line(line)) {
    if (line.empty())
      break;  // end of the head
    const auto colon = line.find(':');
    if (colon == 0 || colon == std::string_view::npos ||
        !std::all_of(line.begin(), line.begin() + static_cast<std::ptrdiff_t>(colon), token_byte)) {
      // Not a header line: not a request we understand past this point.
      out.target = egress_host;
      return out;
    }
    const std::string_view name = line.substr(0, colon);
    const std::string_view value = trim(line.substr(colon + 1));
    if (egress_host.empty() && equals_lower(name, "x-egress-host"))
      egress_host = value;
    else if (out.key.empty() && equals_lower(name, "x-egress-key"))
      out.key = value;
    else if (!have_host && equals_lower(name, "host")) {
      host = value;
      have_host = true;
    }
  }
  out.target = egress_host.empty() ? host : egress_host;
  return out;
}

std::string_view egress_host_in_first_bytes(std::string_view first_bytes) {
  return egress_headers_in_first_bytes(first_bytes).target;
}

}  // namespace ipm::protocol
