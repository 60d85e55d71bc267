// libFuzzer target (clang only): the nginx config parser and the upstream extraction.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "scanner/nginx_config.hpp"
#include "scanner/upstream_config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    ipm::scanner::upstream_from_directives(ipm::scanner::parse_nginx_config(text, "fuzz.conf"),
                                           "fuzz.conf");
  } catch (const ipm::scanner::NginxConfigError&) {
    // A clear error is a fine answer; anything else escapes and is reported.
  }
  return 0;
}
