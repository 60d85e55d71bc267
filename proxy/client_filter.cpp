#include "proxy/client_filter.hpp"

#include <stdexcept>

namespace ipm::proxy {

ClientFilter::ClientFilter(const std::vector<std::string>& blocks) {
  for (const auto& text : blocks) {
    std::string why;
    auto block = config::Cidr::parse(text, why);
    if (!block)
      throw std::invalid_argument("proxy_allow_clients: " + why);
    blocks_.push_back(*block);
  }
}

bool ClientFilter::allows(const boost::asio::ip::address& client) const {
  if (blocks_.empty())
    return true;
  if (client.is_v4()) {
    const auto bytes = client.to_v4().to_bytes();
    for (const auto& b : blocks_) {
      if (b.contains(bytes.data(), true))
        return true;
    }
    return false;
  }
  const auto bytes = client.to_v6().to_bytes();
  for (const auto& b : blocks_) {
    if (b.contains(bytes.data(), false))
      return true;
  }
  return false;
}

}  // namespace ipm::proxy
