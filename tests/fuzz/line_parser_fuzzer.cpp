// libFuzzer target (clang only): the line parser on the default format; the fast path and
// the regex must agree on every input.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "config/config.hpp"
#include "scanner/line_parser.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static ipm::scanner::LineParser parser(
      ipm::scanner::LogFormat::compile(ipm::config::kDefaultLogFormat),
      {{"127.0.1.2", 19002, "", 1}}, 4096);
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  const ipm::scanner::ParsedLine fast = parser.parse(line);
  const ipm::scanner::ParsedLine slow = parser.parse_with_regex(line);
  if (fast.result != slow.result ||
      (fast.ok() &&
       (fast.event.time != slow.event.time || fast.event.key != slow.event.key ||
        fast.event.target != slow.event.target || fast.event.status != slow.event.status))) {
    std::abort();
  }
  return 0;
}
