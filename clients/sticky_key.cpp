#include "clients/sticky_key.hpp"

#include <algorithm>

#include "clients/client_address.hpp"
#include "clients/weighted_choice.hpp"

namespace ipm::clients {

std::string sticky_key(config::Sticky mode, const StickyInputs& in) {
  switch (mode) {
    case config::Sticky::none:
      break;
    case config::Sticky::client:
      if (const auto address = ClientAddress::of_endpoint(in.client))
        return address->to_string();
      break;
    case config::Sticky::username:
      return std::string(split_session(in.username).session);
    case config::Sticky::key:
      return std::string(in.egress_key);
    case config::Sticky::destination: {
      std::string host(in.destination);
      std::transform(host.begin(), host.end(), host.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      return host;
    }
  }
  return {};
}

}  // namespace ipm::clients
