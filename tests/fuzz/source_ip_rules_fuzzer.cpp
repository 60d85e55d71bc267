// libFuzzer target: source_ip_rules.json on arbitrary content. A file either loads or is
// refused with std::invalid_argument saying where and why; anything else escapes and is
// reported. A file that loads answers every lookup with one of its own rules, the longest
// prefix among those containing the client.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string_view>

#include "clients/source_ip_rules.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  ipm::clients::SourceIpRules rules;
  try {
    rules = ipm::clients::SourceIpRules::parse(text);
  } catch (const std::invalid_argument& e) {
    if (std::string_view(e.what()).empty())
      std::abort();  // a refusal must say why
    return 0;
  }
  for (const char* client : {"10.0.0.1", "192.168.0.100", "::1", "2001:db8::1", "127.0.0.1"}) {
    const auto address = *ipm::clients::ClientAddress::parse(client);
    for (const auto& egress : rules.egresses()) {
      const auto* rule = rules.match(egress.egress, address);
      for (const auto& other : egress.rules)
        if (other.block.contains(address.bytes.data(), address.v4) &&
            (!rule || other.block.prefix > rule->block.prefix))
          std::abort();  // a longer matching prefix was passed over
    }
  }
  return 0;
}
