// libFuzzer target: the config loader on arbitrary file content. A config either loads or
// is refused with a ConfigError (the message operators read); anything else escapes and is
// reported. A config that loads shows itself as JSON (/config) that loads back to the same
// view: the effective config is itself a valid config.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <string>
#include <string_view>

#include <boost/json/serialize.hpp>

#include "config/errors.hpp"
#include "config/json_view.hpp"
#include "config/load.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  ipm::config::Config config;
  try {
    config = ipm::config::load_text(text, "fuzz.yaml", ipm::config::no_env());
  } catch (const ipm::config::ConfigError& e) {
    if (std::string_view(e.what()).empty())
      std::abort();  // a refusal must say why
    return 0;
  }
  const std::string shown = boost::json::serialize(ipm::config::to_json(config));
  try {
    const auto again = ipm::config::load_text(shown, "shown.json", ipm::config::no_env());
    if (boost::json::serialize(ipm::config::to_json(again)) != shown) {
      std::cerr << "the effective config does not load back to itself:\n" << shown << "\n";
      std::abort();
    }
  } catch (const ipm::config::ConfigError& e) {
    std::cerr << "the effective config does not load: " << e.what() << "\n" << shown << "\n";
    std::abort();
  }
  return 0;
}
